package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const convCols = `id, bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language, attributes,
	last_inbound_at, last_outbound_at, snoozed_until, resolved_at, version, created_at, updated_at`

func scanConversation(row pgx.Row) (*baton.Conversation, error) {
	c := &baton.Conversation{}
	err := row.Scan(&c.ID, &c.BotID, &c.CustomerID, &c.Channel, &c.Address, &c.State, &c.QueueID, &c.AgentID, &c.Priority,
		&c.Language, &c.Attributes, &c.LastInboundAt, &c.LastOutboundAt, &c.SnoozedUntil, &c.ResolvedAt, &c.Version,
		&c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.LastInboundAt, c.LastOutboundAt = utcPtr(c.LastInboundAt), utcPtr(c.LastOutboundAt)
	c.SnoozedUntil, c.ResolvedAt = utcPtr(c.SnoozedUntil), utcPtr(c.ResolvedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func collectConversations(rows pgx.Rows, err error) ([]*baton.Conversation, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*baton.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateConversation stores c (state bot unless set) at version 1 and sets
// its id and timestamps. An unknown customer is ENOTFOUND.
func (s *Store) CreateConversation(ctx context.Context, c *baton.Conversation) error {
	state := c.State
	if state == "" {
		state = baton.StateBot
	}
	switch {
	case c.BotID == "":
		return baton.Errorf(baton.EINVALID, "conversation: bot id is empty")
	case !c.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "conversation: unknown channel %q", c.Channel)
	case !state.Valid():
		return baton.Errorf(baton.EINVALID, "conversation: unknown state %q", state)
	}
	now := s.now()
	err := s.q().QueryRow(ctx, `
		INSERT INTO conversations (bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language,
			attributes, last_inbound_at, last_outbound_at, snoozed_until, resolved_at, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)
		RETURNING id`,
		c.BotID, c.CustomerID, string(c.Channel), c.Address, string(state), c.QueueID, c.AgentID, c.Priority, c.Language,
		c.Attributes, truncPtr(c.LastInboundAt), truncPtr(c.LastOutboundAt), truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt), now).
		Scan(&c.ID)
	if err != nil {
		return wrapErr(err, "create conversation")
	}
	c.State, c.Version, c.CreatedAt, c.UpdatedAt = state, 1, now, now
	c.LastInboundAt, c.LastOutboundAt = truncPtr(c.LastInboundAt), truncPtr(c.LastOutboundAt)
	c.SnoozedUntil, c.ResolvedAt = truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt)
	return nil
}

func (s *Store) GetConversation(ctx context.Context, id int64) (*baton.Conversation, error) {
	c, err := scanConversation(s.q().QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "get conversation")
	}
	return c, nil
}

func (s *Store) OpenConversation(ctx context.Context, botID string, customerID int64, ch baton.ChannelKind) (*baton.Conversation, error) {
	c, err := scanConversation(s.q().QueryRow(ctx, `
		SELECT `+convCols+` FROM conversations
		WHERE bot_id = $1 AND customer_id = $2 AND channel = $3 AND state <> 'archived'
		ORDER BY id DESC LIMIT 1`, botID, customerID, string(ch)))
	if err != nil {
		return nil, wrapErr(err, "open conversation")
	}
	return c, nil
}

// UpdateConversation saves everything but the state when c.Version is
// current, in one statement; when nothing matched it finds out why.
func (s *Store) UpdateConversation(ctx context.Context, c *baton.Conversation) error {
	now := s.now()
	var version int
	err := s.q().QueryRow(ctx, `
		UPDATE conversations SET queue_id = $4, agent_id = $5, priority = $6, language = $7, attributes = $8,
			address = $9, last_inbound_at = $10, last_outbound_at = $11, snoozed_until = $12, resolved_at = $13,
			version = version + 1, updated_at = $14
		WHERE id = $1 AND version = $2 AND ($3 = '' OR state = $3)
		RETURNING version`,
		c.ID, c.Version, string(c.State), c.QueueID, c.AgentID, c.Priority, c.Language, c.Attributes, c.Address,
		truncPtr(c.LastInboundAt), truncPtr(c.LastOutboundAt), truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt), now).
		Scan(&version)
	if err == nil {
		c.Version, c.UpdatedAt = version, now
		return nil
	}
	if err != pgx.ErrNoRows {
		return wrapErr(err, "update conversation")
	}
	var (
		stored baton.State
		sv     int
	)
	err = s.q().QueryRow(ctx, `SELECT state, version FROM conversations WHERE id = $1`, c.ID).Scan(&stored, &sv)
	switch {
	case err == pgx.ErrNoRows:
		return baton.Errorf(baton.ENOTFOUND, "conversation %d not found", c.ID)
	case err != nil:
		return wrapErr(err, "update conversation")
	case sv != c.Version:
		return baton.Errorf(baton.ECONFLICT, "conversation %d was changed by someone else (version %d, yours %d)", c.ID, sv, c.Version)
	default:
		return baton.Errorf(baton.EINVALID, "conversation %d: the state (%s → %s) changes only through a transition", c.ID, stored, c.State)
	}
}

// TransitionConversation locks the row, applies the state machine and
// appends the event in one transaction.
func (s *Store) TransitionConversation(ctx context.Context, id int64, t baton.Transition) (*baton.Conversation, *baton.Event, error) {
	now := s.now()
	var (
		conv *baton.Conversation
		ev   baton.Event
	)
	err := s.inTx(ctx, func(q querier) error {
		c, err := scanConversation(q.QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return wrapErr(err, "transition conversation")
		}
		ev, err = c.Apply(t, now)
		if err != nil {
			return err
		}
		c.Version++
		b := &pgx.Batch{}
		b.Queue(`UPDATE conversations SET state = $2, queue_id = $3, agent_id = $4, priority = $5, snoozed_until = $6,
				resolved_at = $7, version = $8, updated_at = $9 WHERE id = $1`,
			c.ID, string(c.State), c.QueueID, c.AgentID, c.Priority, truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt), c.Version, now)
		b.Queue(`INSERT INTO events (conversation_id, type, from_state, to_state, actor, reason, data, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			ev.ConversationID, ev.Type, string(ev.From), string(ev.To), ev.Actor, ev.Reason, ev.Data, now)
		br := q.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return wrapErr(err, "transition conversation: update")
		}
		if err := br.QueryRow().Scan(&ev.ID); err != nil {
			br.Close()
			return wrapErr(err, "transition conversation: event")
		}
		if err := br.Close(); err != nil {
			return wrapErr(err, "transition conversation")
		}
		c.SnoozedUntil, c.ResolvedAt = truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt)
		c.UpdatedAt = now
		ev.At = now
		conv = c
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return conv, &ev, nil
}

func (s *Store) ListConversations(ctx context.Context, f baton.ConversationFilter) ([]*baton.Conversation, error) {
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	limit := any(nil)
	if f.Limit > 0 {
		limit = f.Limit
	}
	cs, err := collectConversations(s.q().Query(ctx, `
		SELECT `+convCols+` FROM conversations
		WHERE ($1 = '' OR bot_id = $1) AND (cardinality($2::text[]) = 0 OR state = ANY($2))
			AND ($3 = '' OR queue_id = $3) AND ($4 = '' OR agent_id = $4) AND ($6::bigint = 0 OR customer_id = $6)
		ORDER BY id LIMIT $5`, f.BotID, states, f.QueueID, f.AgentID, limit, f.CustomerID))
	if err != nil {
		return nil, wrapErr(err, "list conversations")
	}
	return cs, nil
}

// AppendEvent stores e (At defaults to now) and sets its id. An unknown
// conversation is ENOTFOUND.
func (s *Store) AppendEvent(ctx context.Context, e *baton.Event) error {
	if e.Type == "" {
		return baton.Errorf(baton.EINVALID, "event for conversation %d: type is empty", e.ConversationID)
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	err := s.q().QueryRow(ctx, `
		INSERT INTO events (conversation_id, type, from_state, to_state, actor, reason, data, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.ConversationID, e.Type, string(e.From), string(e.To), e.Actor, e.Reason, e.Data, at).Scan(&e.ID)
	if err != nil {
		return wrapErr(err, "append event")
	}
	e.At = at
	return nil
}

func (s *Store) ListEvents(ctx context.Context, conversationID int64) ([]*baton.Event, error) {
	rows, err := s.q().Query(ctx, `
		SELECT id, conversation_id, type, from_state, to_state, actor, reason, data, at
		FROM events WHERE conversation_id = $1 ORDER BY id`, conversationID)
	if err != nil {
		return nil, wrapErr(err, "list events")
	}
	defer rows.Close()
	var out []*baton.Event
	for rows.Next() {
		e := &baton.Event{}
		if err := rows.Scan(&e.ID, &e.ConversationID, &e.Type, &e.From, &e.To, &e.Actor, &e.Reason, &e.Data, &e.At); err != nil {
			return nil, wrapErr(err, "list events")
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list events")
	}
	return out, nil
}
