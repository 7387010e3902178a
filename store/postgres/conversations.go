package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const convCols = `id, bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language, attributes,
	last_inbound_at, last_outbound_at, snoozed_until, resolved_at,
	queued_at, assigned_at, first_response_due, next_response_due, first_agent_reply_at, last_agent_reply_at, resolutions,
	version, created_at, updated_at`

func scanConversation(row pgx.Row) (*baton.Conversation, error) {
	c := &baton.Conversation{}
	err := row.Scan(&c.ID, &c.BotID, &c.CustomerID, &c.Channel, &c.Address, &c.State, &c.QueueID, &c.AgentID, &c.Priority,
		&c.Language, &c.Attributes, &c.LastInboundAt, &c.LastOutboundAt, &c.SnoozedUntil, &c.ResolvedAt,
		&c.QueuedAt, &c.AssignedAt, &c.FirstResponseDue, &c.NextResponseDue, &c.FirstAgentReplyAt, &c.LastAgentReplyAt, &c.Resolutions,
		&c.Version, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	normaliseConversation(c)
	return c, nil
}

// normaliseConversation puts every time of c in UTC at the microsecond,
// as stored and as the other store returns it.
func normaliseConversation(c *baton.Conversation) {
	for _, p := range []**time.Time{&c.LastInboundAt, &c.LastOutboundAt, &c.SnoozedUntil, &c.ResolvedAt,
		&c.QueuedAt, &c.AssignedAt, &c.FirstResponseDue, &c.NextResponseDue, &c.FirstAgentReplyAt, &c.LastAgentReplyAt} {
		*p = truncPtr(*p)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
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
	normaliseConversation(c)
	err := s.q().QueryRow(ctx, `
		INSERT INTO conversations (bot_id, customer_id, channel, address, state, queue_id, agent_id, priority, language,
			attributes, last_inbound_at, last_outbound_at, snoozed_until, resolved_at,
			queued_at, assigned_at, first_response_due, next_response_due, first_agent_reply_at, last_agent_reply_at, resolutions,
			version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $17, $18, $19, $20, $21, $22, 1, $15, $15)
		RETURNING id`,
		c.BotID, c.CustomerID, string(c.Channel), c.Address, string(state), c.QueueID, c.AgentID, c.Priority, c.Language,
		c.Attributes, c.LastInboundAt, c.LastOutboundAt, c.SnoozedUntil, c.ResolvedAt, now,
		c.QueuedAt, c.AssignedAt, c.FirstResponseDue, c.NextResponseDue, c.FirstAgentReplyAt, c.LastAgentReplyAt, c.Resolutions).
		Scan(&c.ID)
	if err != nil {
		return wrapErr(err, "create conversation")
	}
	c.State, c.Version, c.CreatedAt, c.UpdatedAt = state, 1, now, now
	return nil
}

func (s *Store) GetConversation(ctx context.Context, id int64) (*baton.Conversation, error) {
	c, err := scanConversation(s.q().QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "conversation "+strconv.FormatInt(id, 10))
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
			first_response_due = $15, next_response_due = $16, version = version + 1, updated_at = $14
		WHERE id = $1 AND version = $2 AND ($3 = '' OR state = $3)
		RETURNING version`,
		c.ID, c.Version, string(c.State), c.QueueID, c.AgentID, c.Priority, c.Language, c.Attributes, c.Address,
		truncPtr(c.LastInboundAt), truncPtr(c.LastOutboundAt), truncPtr(c.SnoozedUntil), truncPtr(c.ResolvedAt), now,
		truncPtr(c.FirstResponseDue), truncPtr(c.NextResponseDue)).
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
	var (
		conv *baton.Conversation
		ev   baton.Event
	)
	err := s.inTx(ctx, func(q querier) error {
		c, err := scanConversation(q.QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return wrapErr(err, "transition conversation")
		}
		now := s.now()
		ev, err = c.Apply(t, now)
		if err != nil {
			return err
		}
		if err := saveTransition(ctx, q, c, &ev, now, nil); err != nil {
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

// saveTransition writes what Apply (or Assign) changed on the locked c,
// bumps its version and appends ev, in one round trip with the statements
// of more (queued after them).
func saveTransition(ctx context.Context, q querier, c *baton.Conversation, ev *baton.Event, now time.Time, more *pgx.Batch) error {
	c.Version++
	normaliseConversation(c)
	b := &pgx.Batch{}
	b.Queue(`UPDATE conversations SET state = $2, queue_id = $3, agent_id = $4, priority = $5, snoozed_until = $6,
			resolved_at = $7, version = $8, updated_at = $9, queued_at = $10, assigned_at = $11, first_response_due = $12,
			next_response_due = $13, resolutions = $14 WHERE id = $1`,
		c.ID, string(c.State), c.QueueID, c.AgentID, c.Priority, c.SnoozedUntil, c.ResolvedAt, c.Version, now,
		c.QueuedAt, c.AssignedAt, c.FirstResponseDue, c.NextResponseDue, c.Resolutions)
	b.Queue(`INSERT INTO events (conversation_id, type, from_state, to_state, actor, reason, data, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		ev.ConversationID, ev.Type, string(ev.From), string(ev.To), ev.Actor, ev.Reason, ev.Data, now)
	if more != nil {
		b.QueuedQueries = append(b.QueuedQueries, more.QueuedQueries...)
	}
	br := q.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return wrapErr(err, "transition conversation: update")
	}
	if err := br.QueryRow().Scan(&ev.ID); err != nil {
		br.Close()
		return wrapErr(err, "transition conversation: event")
	}
	if more != nil {
		for range more.QueuedQueries {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return wrapErr(err, "transition conversation")
			}
		}
	}
	if err := br.Close(); err != nil {
		return wrapErr(err, "transition conversation")
	}
	c.UpdatedAt = now
	ev.At = now
	return nil
}

// AssignConversation locks the conversation row, then the agent's row, then
// counts the agent's load in a statement of its own. Every assignment to an
// agent holds that agent's row lock until it commits, and under READ
// COMMITTED the count's snapshot is taken after the lock was granted: it
// sees every earlier assignment to the agent, from any process. The
// conversation is locked first, as TransitionConversation locks it, so that
// a transaction that transitions and then assigns cannot deadlock with one
// that only assigns.
func (s *Store) AssignConversation(ctx context.Context, id int64, agentID string, a baton.Assignment) (*baton.Conversation, *baton.Event, error) {
	what := fmt.Sprintf("assign conversation %d to %s", id, agentID)
	var (
		conv *baton.Conversation
		ev   baton.Event
	)
	err := s.inTx(ctx, func(q querier) error {
		c, err := scanConversation(q.QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1 FOR UPDATE`, id))
		if err == pgx.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "%s: no such conversation", what)
		}
		if err != nil {
			return wrapErr(err, what)
		}
		agent, err := scanAgent(q.QueryRow(ctx, `SELECT `+agentCols+` FROM agents WHERE id = $1 FOR UPDATE`, agentID))
		if err == pgx.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "%s: no such agent", what)
		}
		if err != nil {
			return wrapErr(err, what)
		}
		var load int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE agent_id = $1 AND channel = $2 AND state IN ('assigned', 'snoozed')`,
			agentID, string(c.Channel)).Scan(&load); err != nil {
			return wrapErr(err, what+": count the agent's load")
		}
		now := s.now()
		ev, err = c.Assign(agent, load, a, now)
		if err != nil {
			return err
		}
		more := &pgx.Batch{}
		more.Queue(`UPDATE agents SET last_assigned_at = $2 WHERE id = $1`, agentID, now)
		if err := saveTransition(ctx, q, c, &ev, now, more); err != nil {
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
// agent already answered, in one conditional statement; when it did not,
// the row is read as it is.
func (s *Store) StartResponseClock(ctx context.Context, id int64, since, due time.Time) (*baton.Conversation, bool, error) {
	if due.Before(since) {
		return nil, false, baton.Errorf(baton.EINVALID, "start the response clock of conversation %d: due %s is before the message of %s",
			id, due.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
	}
	what := fmt.Sprintf("start the response clock of conversation %d", id)
	c, err := scanConversation(s.q().QueryRow(ctx, `UPDATE conversations SET next_response_due = $2, version = version + 1, updated_at = $3
		WHERE id = $1 AND next_response_due IS NULL AND (last_agent_reply_at IS NULL OR last_agent_reply_at < $4)
		RETURNING `+convCols, id, due.UTC().Truncate(time.Microsecond), s.now(), since.UTC().Truncate(time.Microsecond)))
	if err == nil {
		return c, true, nil
	}
	if err != pgx.ErrNoRows {
		return nil, false, wrapErr(err, what)
	}
	c, err = scanConversation(s.q().QueryRow(ctx, `SELECT `+convCols+` FROM conversations WHERE id = $1`, id))
	if err != nil {
		return nil, false, wrapErr(err, what)
	}
	return c, false, nil
}

func (s *Store) ListConversations(ctx context.Context, f baton.ConversationFilter) ([]*baton.Conversation, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	limit := any(nil)
	if f.Limit > 0 {
		limit = f.Limit
	}
	args := []any{f.BotID, states, f.QueueID, f.AgentID, limit, f.CustomerID}
	// The time bounds are written in only when set, so that the planner
	// sees a plain range it can take from the created_at index.
	created := ""
	if !f.CreatedFrom.IsZero() {
		args = append(args, f.CreatedFrom.UTC())
		created += ` AND created_at >= $` + strconv.Itoa(len(args))
	}
	if !f.CreatedTo.IsZero() {
		args = append(args, f.CreatedTo.UTC())
		created += ` AND created_at < $` + strconv.Itoa(len(args))
	}
	cs, err := collectConversations(s.q().Query(ctx, `
		SELECT `+convCols+` FROM conversations
		WHERE ($1 = '' OR bot_id = $1) AND (cardinality($2::text[]) = 0 OR state = ANY($2))
			AND ($3 = '' OR queue_id = $3) AND ($4 = '' OR agent_id = $4) AND ($6::bigint = 0 OR customer_id = $6)`+created+`
		ORDER BY id LIMIT $5`, args...))
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
	return s.queryEvents(ctx, `conversation_id = $1`, conversationID)
}

// ListEventsFor reads the events of many conversations in one statement,
// the ids as one array parameter.
func (s *Store) ListEventsFor(ctx context.Context, ids []int64) ([]*baton.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.queryEvents(ctx, `conversation_id = ANY($1::bigint[])`, ids)
}

func (s *Store) queryEvents(ctx context.Context, where string, arg any) ([]*baton.Event, error) {
	rows, err := s.q().Query(ctx, `
		SELECT id, conversation_id, type, from_state, to_state, actor, reason, data, at
		FROM events WHERE `+where+` ORDER BY conversation_id, id`, arg)
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
