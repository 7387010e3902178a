package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

const conversationCols = `id, bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language, attributes,
	last_inbound_at, last_outbound_at, snoozed_until, resolved_at,
	queued_at, assigned_at, first_response_due, next_response_due, first_agent_reply_at, last_agent_reply_at, resolutions,
	version, created_at, updated_at`

func scanConversation(r scanner) (*baton.Conversation, error) {
	var (
		c                                  baton.Conversation
		channel, state                     string
		attrs                              sql.NullString
		lastIn, lastOut, snoozed, resolved sql.NullInt64
		queued, assigned, firstDue, nextDue,
		firstReply, lastReply sql.NullInt64
		created, updated int64
	)
	if err := r.Scan(&c.ID, &c.BotID, &c.CustomerID, &channel, &c.Address, &state, &c.QueueID, &c.AgentID, &c.Priority, &c.Language, &attrs,
		&lastIn, &lastOut, &snoozed, &resolved,
		&queued, &assigned, &firstDue, &nextDue, &firstReply, &lastReply, &c.Resolutions,
		&c.Version, &created, &updated); err != nil {
		return nil, err
	}
	c.Channel, c.State = baton.ChannelKind(channel), baton.State(state)
	c.LastInboundAt, c.LastOutboundAt = fromTSPtr(lastIn), fromTSPtr(lastOut)
	c.SnoozedUntil, c.ResolvedAt = fromTSPtr(snoozed), fromTSPtr(resolved)
	c.QueuedAt, c.AssignedAt = fromTSPtr(queued), fromTSPtr(assigned)
	c.FirstResponseDue, c.NextResponseDue = fromTSPtr(firstDue), fromTSPtr(nextDue)
	c.FirstAgentReplyAt, c.LastAgentReplyAt = fromTSPtr(firstReply), fromTSPtr(lastReply)
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	if err := decodeJSON(attrs, &c.Attributes, "conversation attributes"); err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateConversation stores a new conversation at version 1.
func (s *Store) CreateConversation(ctx context.Context, c *baton.Conversation) error {
	if c.State == "" {
		c.State = baton.StateBot
	}
	switch {
	case strings.TrimSpace(c.BotID) == "":
		return baton.Errorf(baton.EINVALID, "conversation: bot id is required")
	case !c.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "conversation: unknown channel %q", c.Channel)
	case !c.State.Valid():
		return baton.Errorf(baton.EINVALID, "conversation: unknown state %q", c.State)
	}
	attrs, err := mapCol(c.Attributes)
	if err != nil {
		return err
	}
	now := s.now()
	return s.writeOne(ctx, "create conversation", func(q querier) error {
		var id int64
		err := q.QueryRowContext(ctx, `INSERT INTO conversations (bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language,
			attributes, last_inbound_at, last_outbound_at, snoozed_until, resolved_at,
			queued_at, assigned_at, first_response_due, next_response_due, first_agent_reply_at, last_agent_reply_at, resolutions,
			version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
			c.BotID, c.CustomerID, string(c.Channel), c.Address, string(c.State), c.QueueID, c.AgentID, c.Priority, c.Language,
			attrs, tsPtr(c.LastInboundAt), tsPtr(c.LastOutboundAt), tsPtr(c.SnoozedUntil), tsPtr(c.ResolvedAt),
			tsPtr(c.QueuedAt), tsPtr(c.AssignedAt), tsPtr(c.FirstResponseDue), tsPtr(c.NextResponseDue),
			tsPtr(c.FirstAgentReplyAt), tsPtr(c.LastAgentReplyAt), c.Resolutions, ts(now), ts(now)).Scan(&id)
		if err != nil {
			if baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND {
				return baton.Errorf(baton.ENOTFOUND, "conversation: customer %d does not exist", c.CustomerID)
			}
			return err
		}
		c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, now, now
		return nil
	})
}

// GetConversation returns a conversation by id.
func (s *Store) GetConversation(ctx context.Context, id int64) (*baton.Conversation, error) {
	c, err := getConversation(ctx, s.reader(), id)
	return c, translate(err, "conversation "+itoa(id))
}

func getConversation(ctx context.Context, q querier, id int64) (*baton.Conversation, error) {
	return scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = ?`, id))
}

// OpenConversation returns the customer's latest conversation on the channel
// that is not archived.
func (s *Store) OpenConversation(ctx context.Context, botID string, customerID int64, ch baton.ChannelKind) (*baton.Conversation, error) {
	c, err := scanConversation(s.reader().QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE customer_id = ? AND bot_id = ? AND channel = ? AND state <> 'archived' ORDER BY id DESC LIMIT 1`,
		customerID, botID, string(ch)))
	if err != nil {
		return nil, translate(err, "open conversation on "+string(ch))
	}
	return c, nil
}

// UpdateConversation saves c if nobody changed it since it was read.
func (s *Store) UpdateConversation(ctx context.Context, c *baton.Conversation) error {
	attrs, err := mapCol(c.Attributes)
	if err != nil {
		return err
	}
	now := s.now()
	what := "update conversation " + itoa(c.ID)
	return s.writeOne(ctx, what, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE conversations SET address = ?, queue_id = ?, agent_id = ?, priority = ?, language = ?, attributes = ?,
			last_inbound_at = ?, last_outbound_at = ?, snoozed_until = ?, resolved_at = ?, first_response_due = ?, next_response_due = ?,
			version = version + 1, updated_at = ?
			WHERE id = ? AND version = ? AND state = ?`,
			c.Address, c.QueueID, c.AgentID, c.Priority, c.Language, attrs,
			tsPtr(c.LastInboundAt), tsPtr(c.LastOutboundAt), tsPtr(c.SnoozedUntil), tsPtr(c.ResolvedAt),
			tsPtr(c.FirstResponseDue), tsPtr(c.NextResponseDue), ts(now),
			c.ID, c.Version, string(c.State))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			c.Version++
			c.UpdatedAt = now
			return nil
		}
		var version int
		var state string
		if err := q.QueryRowContext(ctx, `SELECT version, state FROM conversations WHERE id = ?`, c.ID).Scan(&version, &state); err != nil {
			return err
		}
		if version != c.Version {
			return baton.Errorf(baton.ECONFLICT, "%s: version %d is stale, the stored one is %d", what, c.Version, version)
		}
		return baton.Errorf(baton.EINVALID, "%s: state %s differs from the stored %s; states change only through transitions", what, c.State, state)
	})
}

// TransitionConversation moves a conversation through the state machine and
// records the event, atomically.
func (s *Store) TransitionConversation(ctx context.Context, id int64, t baton.Transition) (*baton.Conversation, *baton.Event, error) {
	var (
		conv *baton.Conversation
		ev   baton.Event
	)
	err := s.writeTx(ctx, "transition conversation "+itoa(id), func(q querier) error {
		c, err := getConversation(ctx, q, id)
		if err != nil {
			return err
		}
		now := s.now()
		ev, err = c.Apply(t, now)
		if err != nil {
			return err
		}
		if err := saveTransition(ctx, q, c, &ev, now); err != nil {
			return err
		}
		conv = c
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return conv, &ev, nil
}

// saveTransition writes what Apply (or Assign) changed on c, bumps its
// version and appends ev.
func saveTransition(ctx context.Context, q querier, c *baton.Conversation, ev *baton.Event, now time.Time) error {
	attrs, err := mapCol(c.Attributes)
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `UPDATE conversations SET state = ?, queue_id = ?, agent_id = ?, priority = ?, attributes = ?,
		snoozed_until = ?, resolved_at = ?, queued_at = ?, assigned_at = ?, first_response_due = ?, next_response_due = ?, resolutions = ?,
		version = version + 1, updated_at = ? WHERE id = ?`,
		string(c.State), c.QueueID, c.AgentID, c.Priority, attrs, tsPtr(c.SnoozedUntil), tsPtr(c.ResolvedAt),
		tsPtr(c.QueuedAt), tsPtr(c.AssignedAt), tsPtr(c.FirstResponseDue), tsPtr(c.NextResponseDue), c.Resolutions,
		ts(now), c.ID); err != nil {
		return err
	}
	c.Version++
	c.UpdatedAt = now
	return insertEvent(ctx, q, ev)
}

// AssignConversation gives a conversation to an agent under the write lock,
// which every other writer (in this process or another) waits for: the
// checks and the write see the same database.
func (s *Store) AssignConversation(ctx context.Context, id int64, agentID string, a baton.Assignment) (*baton.Conversation, *baton.Event, error) {
	var (
		conv *baton.Conversation
		ev   baton.Event
	)
	err := s.writeTx(ctx, "assign conversation "+itoa(id)+" to "+agentID, func(q querier) error {
		c, err := getConversation(ctx, q, id)
		if err == sql.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "assign conversation %d: no such conversation", id)
		}
		if err != nil {
			return err
		}
		agent, err := scanAgent(q.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ?`, agentID))
		if err == sql.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "assign conversation %d: no agent %s", id, agentID)
		}
		if err != nil {
			return err
		}
		var load int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM conversations INDEXED BY conversations_open_agent
			WHERE agent_id = ? AND channel = ? AND state IN ('assigned', 'snoozed')`, agentID, string(c.Channel)).Scan(&load); err != nil {
			return err
		}
		now := s.now()
		ev, err = c.Assign(agent, load, a, now)
		if err != nil {
			return err
		}
		if err := saveTransition(ctx, q, c, &ev, now); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE agents SET last_assigned_at = ? WHERE id = ?`, ts(now), agentID); err != nil {
			return err
		}
		conv = c
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return conv, &ev, nil
}

// StartResponseClock starts the next-response clock unless one runs or an
// agent already answered, in one conditional statement.
func (s *Store) StartResponseClock(ctx context.Context, id int64, since, due time.Time) (*baton.Conversation, bool, error) {
	if due.Before(since) {
		return nil, false, baton.Errorf(baton.EINVALID, "start the response clock of conversation %d: due %s is before the message of %s",
			id, due.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
	}
	var (
		conv    *baton.Conversation
		started bool
	)
	err := s.writeOne(ctx, "start the response clock of conversation "+itoa(id), func(q querier) error {
		c, err := scanConversation(q.QueryRowContext(ctx, `UPDATE conversations SET next_response_due = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND next_response_due IS NULL AND (last_agent_reply_at IS NULL OR last_agent_reply_at < ?)
			RETURNING `+conversationCols, ts(due), ts(s.now()), id, ts(since)))
		switch err {
		case nil:
			conv, started = c, true
			return nil
		case sql.ErrNoRows:
			conv, err = getConversation(ctx, q, id)
			return err
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return conv, started, nil
}

// ListConversations returns the conversations matching f, by id.
func (s *Store) ListConversations(ctx context.Context, f baton.ConversationFilter) ([]*baton.Conversation, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	if f.BotID != "" {
		where, args = append(where, "bot_id = ?"), append(args, f.BotID)
	}
	if f.CustomerID != 0 {
		where, args = append(where, "customer_id = ?"), append(args, f.CustomerID)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.QueueID != "" {
		where, args = append(where, "queue_id = ?"), append(args, f.QueueID)
	}
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if !f.CreatedFrom.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ts(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ts(f.CreatedTo))
	}
	query := `SELECT ` + conversationCols + ` FROM conversations` + whereClause(where) + ` ORDER BY id` + limitClause(f.Limit)
	rows, err := s.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err, "list conversations")
	}
	defer rows.Close()
	var out []*baton.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, translate(err, "list conversations")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "list conversations")
}

// AppendEvent records something that happened to a conversation.
func (s *Store) AppendEvent(ctx context.Context, e *baton.Event) error {
	if strings.TrimSpace(e.Type) == "" {
		return baton.Errorf(baton.EINVALID, "event on conversation %d: type is required", e.ConversationID)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC()
	return s.writeOne(ctx, "append event", func(q querier) error {
		err := insertEvent(ctx, q, e)
		if baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND {
			return baton.Errorf(baton.ENOTFOUND, "event: conversation %d does not exist", e.ConversationID)
		}
		return err
	})
}

func insertEvent(ctx context.Context, q querier, e *baton.Event) error {
	data, err := mapCol(e.Data)
	if err != nil {
		return err
	}
	return q.QueryRowContext(ctx, `INSERT INTO events (conversation_id, type, from_state, to_state, actor, reason, data, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.ConversationID, e.Type, string(e.From), string(e.To), e.Actor, e.Reason, data, ts(e.At)).Scan(&e.ID)
}

// ListEvents returns a conversation's events in order.
func (s *Store) ListEvents(ctx context.Context, conversationID int64) ([]*baton.Event, error) {
	return s.queryEvents(ctx, `conversation_id = ?`, conversationID)
}

// ListEventsFor reads the events of many conversations in one statement:
// the ids travel as one JSON array, so that their number is not bound by
// SQLite's limit on parameters.
func (s *Store) ListEventsFor(ctx context.Context, ids []int64) ([]*baton.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, translate(err, "list events")
	}
	return s.queryEvents(ctx, `conversation_id IN (SELECT value FROM json_each(?))`, string(list))
}

func (s *Store) queryEvents(ctx context.Context, where string, arg any) ([]*baton.Event, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT id, conversation_id, type, from_state, to_state, actor, reason, data, at
		FROM events WHERE `+where+` ORDER BY conversation_id, id`, arg)
	if err != nil {
		return nil, translate(err, "list events")
	}
	defer rows.Close()
	var out []*baton.Event
	for rows.Next() {
		var (
			e        baton.Event
			from, to string
			data     sql.NullString
			at       int64
		)
		if err := rows.Scan(&e.ID, &e.ConversationID, &e.Type, &from, &to, &e.Actor, &e.Reason, &data, &at); err != nil {
			return nil, translate(err, "list events")
		}
		e.From, e.To, e.At = baton.State(from), baton.State(to), fromTS(at)
		if err := decodeJSON(data, &e.Data, "event data"); err != nil {
			return nil, translate(err, "list events")
		}
		out = append(out, &e)
	}
	return out, translate(rows.Err(), "list events")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func limitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + itoa(int64(n))
}
