package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const agentCols = `id, bot_id, name, email, skills, capacity, status, slack_user_id, last_assigned_at, updated_at`

func scanAgent(row pgx.Row, extra ...any) (*baton.Agent, error) {
	a := &baton.Agent{}
	dest := append([]any{&a.ID, &a.BotID, &a.Name, &a.Email, &a.Skills, &a.Capacity, &a.Status, &a.SlackUserID, &a.LastAssignedAt, &a.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.UpdatedAt, a.LastAssignedAt = a.UpdatedAt.UTC(), utcPtr(a.LastAssignedAt)
	return a, nil
}

func validAgentStatus(s baton.AgentStatus) bool {
	return s == baton.AgentOnline || s == baton.AgentAway || s == baton.AgentOffline
}

// UpsertAgent stores an agent's definition. A new agent without a status is
// offline; an existing agent keeps its run-time status unless a is given one.
func (s *Store) UpsertAgent(ctx context.Context, a *baton.Agent) error {
	if a.ID == "" {
		return baton.Errorf(baton.EINVALID, "agent: id is empty")
	}
	if a.Status != "" && !validAgentStatus(a.Status) {
		return baton.Errorf(baton.EINVALID, "agent %s: unknown status %q", a.ID, a.Status)
	}
	now := s.now()
	var status baton.AgentStatus
	err := s.q().QueryRow(ctx, `
		INSERT INTO agents (id, bot_id, name, email, skills, capacity, status, slack_user_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, coalesce(nullif($7, ''), 'offline'), $8, $9)
		ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, name = excluded.name, email = excluded.email,
			skills = excluded.skills, capacity = excluded.capacity,
			status = CASE WHEN $7 = '' THEN agents.status ELSE excluded.status END,
			slack_user_id = excluded.slack_user_id, updated_at = excluded.updated_at
		RETURNING status, last_assigned_at`,
		a.ID, a.BotID, a.Name, a.Email, a.Skills, a.Capacity, string(a.Status), a.SlackUserID, now).Scan(&status, &a.LastAssignedAt)
	if err != nil {
		return wrapErr(err, "upsert agent")
	}
	a.Status, a.UpdatedAt, a.LastAssignedAt = status, now, utcPtr(a.LastAssignedAt)
	return nil
}

func (s *Store) GetAgent(ctx context.Context, id string) (*baton.Agent, error) {
	a, err := scanAgent(s.q().QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "agent "+id)
	}
	return a, nil
}

func (s *Store) GetAgentBySlackUser(ctx context.Context, slackUserID string) (*baton.Agent, error) {
	if slackUserID == "" {
		return nil, baton.Errorf(baton.EINVALID, "get agent: slack user id is empty")
	}
	a, err := scanAgent(s.q().QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE slack_user_id = $1 ORDER BY id LIMIT 1`, slackUserID))
	if err != nil {
		return nil, wrapErr(err, "get agent by slack user")
	}
	return a, nil
}

func (s *Store) ListAgents(ctx context.Context) ([]*baton.Agent, error) {
	rows, err := s.q().Query(ctx, `SELECT `+agentCols+` FROM agents ORDER BY id`)
	if err != nil {
		return nil, wrapErr(err, "list agents")
	}
	defer rows.Close()
	var out []*baton.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, wrapErr(err, "list agents")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list agents")
	}
	return out, nil
}

func (s *Store) SetAgentStatus(ctx context.Context, id string, st baton.AgentStatus) error {
	if !validAgentStatus(st) {
		return baton.Errorf(baton.EINVALID, "agent %s: unknown status %q", id, st)
	}
	tag, err := s.q().Exec(ctx, `UPDATE agents SET status = $2, updated_at = $3 WHERE id = $1`, id, string(st), s.now())
	if err != nil {
		return wrapErr(err, "set agent status")
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ENOTFOUND, "agent %s not found", id)
	}
	return nil
}

// AgentLoads returns the agents of botID with their open conversations per
// channel kind, counted in the same statement.
func (s *Store) AgentLoads(ctx context.Context, botID string) ([]*baton.AgentLoad, error) {
	// One pass over the open conversations (the partial index), grouped,
	// rather than a count per agent: routing reads this for every decision.
	rows, err := s.q().Query(ctx, `
		SELECT `+agentCols+`, coalesce(l.open, '{}')
		FROM agents LEFT JOIN (
			SELECT agent_id, jsonb_object_agg(channel, n) AS open FROM (
				SELECT agent_id, channel, count(*) AS n FROM conversations
				WHERE state IN ('assigned', 'snoozed') GROUP BY agent_id, channel) per_channel
			GROUP BY agent_id) l ON l.agent_id = agents.id
		WHERE $1 = '' OR agents.bot_id IN ('', $1) ORDER BY agents.id`, botID)
	if err != nil {
		return nil, wrapErr(err, "agent loads")
	}
	defer rows.Close()
	var out []*baton.AgentLoad
	for rows.Next() {
		var open map[baton.ChannelKind]int
		a, err := scanAgent(rows, &open)
		if err != nil {
			return nil, wrapErr(err, "agent loads")
		}
		if open == nil {
			open = map[baton.ChannelKind]int{}
		}
		out = append(out, &baton.AgentLoad{Agent: *a, Open: open})
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "agent loads")
	}
	return out, nil
}
