package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/batonhq/baton"
)

const agentCols = `id, bot_id, name, email, skills, capacity, status, slack_user_id, last_assigned_at, updated_at`

func scanAgent(r scanner, extra ...any) (*baton.Agent, error) {
	var (
		a                baton.Agent
		skills, capacity sql.NullString
		status           string
		lastAssigned     sql.NullInt64
		updated          int64
	)
	dest := append([]any{&a.ID, &a.BotID, &a.Name, &a.Email, &skills, &capacity, &status, &a.SlackUserID, &lastAssigned, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	a.Status, a.UpdatedAt = baton.AgentStatus(status), fromTS(updated)
	a.LastAssignedAt = fromTSPtr(lastAssigned)
	if err := decodeJSON(skills, &a.Skills, "agent skills"); err != nil {
		return nil, err
	}
	if err := decodeJSON(capacity, &a.Capacity, "agent capacity"); err != nil {
		return nil, err
	}
	return &a, nil
}

func validAgentStatus(s baton.AgentStatus) bool {
	switch s {
	case baton.AgentOnline, baton.AgentAway, baton.AgentOffline:
		return true
	}
	return false
}

// UpsertAgent stores an agent's definition; an empty status keeps the
// stored one.
func (s *Store) UpsertAgent(ctx context.Context, a *baton.Agent) error {
	if strings.TrimSpace(a.ID) == "" {
		return baton.Errorf(baton.EINVALID, "agent: id is required")
	}
	if a.Status != "" && !validAgentStatus(a.Status) {
		return baton.Errorf(baton.EINVALID, "agent %s: unknown status %q", a.ID, a.Status)
	}
	skills, err := sliceCol(a.Skills)
	if err != nil {
		return err
	}
	capacity, err := mapCol(a.Capacity)
	if err != nil {
		return err
	}
	now := s.now()
	return s.writeOne(ctx, "upsert agent "+a.ID, func(q querier) error {
		insertStatus := a.Status
		if insertStatus == "" {
			insertStatus = baton.AgentOffline
		}
		var (
			status       string
			lastAssigned sql.NullInt64
		)
		err := q.QueryRowContext(ctx, `INSERT INTO agents (id, bot_id, name, email, skills, capacity, status, slack_user_id, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, name = excluded.name, email = excluded.email, skills = excluded.skills,
				capacity = excluded.capacity, status = CASE WHEN ? = '' THEN agents.status ELSE excluded.status END,
				slack_user_id = excluded.slack_user_id, updated_at = excluded.updated_at
			RETURNING status, last_assigned_at`,
			a.ID, a.BotID, a.Name, a.Email, skills, capacity, string(insertStatus), a.SlackUserID, ts(now), string(a.Status)).Scan(&status, &lastAssigned)
		if err != nil {
			return err
		}
		a.Status, a.UpdatedAt, a.LastAssignedAt = baton.AgentStatus(status), now, fromTSPtr(lastAssigned)
		return nil
	})
}

// GetAgent returns an agent by id.
func (s *Store) GetAgent(ctx context.Context, id string) (*baton.Agent, error) {
	a, err := scanAgent(s.reader().QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ?`, id))
	if err != nil {
		return nil, translate(err, "agent "+id)
	}
	return a, nil
}

// GetAgentBySlackUser returns the agent with the given Slack user id.
func (s *Store) GetAgentBySlackUser(ctx context.Context, slackUserID string) (*baton.Agent, error) {
	if slackUserID == "" {
		return nil, baton.Errorf(baton.ENOTFOUND, "agent with an empty Slack user id: not found")
	}
	a, err := scanAgent(s.reader().QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE slack_user_id = ? ORDER BY id LIMIT 1`, slackUserID))
	if err != nil {
		return nil, translate(err, "agent with Slack user "+slackUserID)
	}
	return a, nil
}

// ListAgents returns every agent by id.
func (s *Store) ListAgents(ctx context.Context) ([]*baton.Agent, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY id`)
	if err != nil {
		return nil, translate(err, "list agents")
	}
	defer rows.Close()
	var out []*baton.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, translate(err, "list agents")
		}
		out = append(out, a)
	}
	return out, translate(rows.Err(), "list agents")
}

// SetAgentStatus changes an agent's availability.
func (s *Store) SetAgentStatus(ctx context.Context, id string, st baton.AgentStatus) error {
	if !validAgentStatus(st) {
		return baton.Errorf(baton.EINVALID, "agent %s: unknown status %q", id, st)
	}
	return s.writeOne(ctx, "agent "+id+" status", func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE agents SET status = ?, updated_at = ? WHERE id = ?`, string(st), ts(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}

// AgentLoads returns the agents of botID with their open conversations per
// channel kind, counted in the same query.
func (s *Store) AgentLoads(ctx context.Context, botID string) ([]*baton.AgentLoad, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+agentCols+`,
			(SELECT json_group_object(channel, n) FROM (
				SELECT c.channel, count(*) AS n FROM conversations c INDEXED BY conversations_open_agent
				WHERE c.agent_id = agents.id AND c.state IN ('assigned', 'snoozed') GROUP BY c.channel))
		FROM agents WHERE ? = '' OR bot_id IN ('', ?) ORDER BY id`, botID, botID)
	if err != nil {
		return nil, translate(err, "agent loads")
	}
	defer rows.Close()
	var out []*baton.AgentLoad
	for rows.Next() {
		var open sql.NullString
		a, err := scanAgent(rows, &open)
		if err != nil {
			return nil, translate(err, "agent loads")
		}
		l := &baton.AgentLoad{Agent: *a}
		if err := decodeJSON(open, &l.Open, "agent load"); err != nil {
			return nil, translate(err, "agent loads")
		}
		if l.Open == nil {
			l.Open = map[baton.ChannelKind]int{}
		}
		out = append(out, l)
	}
	return out, translate(rows.Err(), "agent loads")
}
