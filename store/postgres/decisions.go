package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

var _ baton.DecisionStore = (*Store)(nil)

// jsonArg encodes v for a jsonb column, nil as SQL NULL, so that a nil and
// an empty slice each come back as they went in.
func jsonArg(v any, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "encode %T: %w", v, err)
	}
	return string(b), nil
}

// InsertDecision stores one turn's decision.
func (s *Store) InsertDecision(ctx context.Context, d *baton.Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	analysis, err := jsonArg(d.Analysis, d.Analysis == nil)
	if err != nil {
		return err
	}
	citations, err := jsonArg(d.Citations, d.Citations == nil)
	if err != nil {
		return err
	}
	triggers, err := jsonArg(d.Triggers, d.Triggers == nil)
	if err != nil {
		return err
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	created = created.UTC().Truncate(time.Microsecond)
	err = s.q().QueryRow(ctx, `
		INSERT INTO decisions (conversation_id, message_id, action, analysis, citations, triggers, took_us, detail, state, created_at)
		VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9::json, $10) RETURNING id`,
		d.ConversationID, d.MessageID, d.Action, analysis, citations, triggers, d.Took.Microseconds(), d.Detail,
		rawJSON(d.State), created).Scan(&d.ID)
	if err != nil {
		if baton.ErrorCode(wrapErr(err, "")) == baton.ENOTFOUND {
			return baton.Errorf(baton.ENOTFOUND, "decision: conversation %d does not exist", d.ConversationID)
		}
		return wrapErr(err, "insert decision")
	}
	d.CreatedAt = created
	return nil
}

// ListDecisions returns the last limit decisions of a conversation, oldest
// first: the newest are read through the index backwards, then reversed.
func (s *Store) ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*baton.Decision, error) {
	if limit < 0 {
		return nil, baton.Errorf(baton.EINVALID, "list decisions of conversation %d: limit %d; want 0 (all) or more", conversationID, limit)
	}
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	rows, err := s.q().Query(ctx, `
		SELECT id, conversation_id, message_id, action, analysis, citations, triggers, took_us, detail, state, created_at
		FROM decisions WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2`, conversationID, lim)
	if err != nil {
		return nil, wrapErr(err, "list decisions")
	}
	defer rows.Close()
	var out []*baton.Decision
	for rows.Next() {
		var (
			d     baton.Decision
			took  int64
			state []byte
		)
		if err := rows.Scan(&d.ID, &d.ConversationID, &d.MessageID, &d.Action, &d.Analysis, &d.Citations, &d.Triggers,
			&took, &d.Detail, &state, &d.CreatedAt); err != nil {
			return nil, wrapErr(err, "list decisions")
		}
		d.Took, d.CreatedAt = time.Duration(took)*time.Microsecond, d.CreatedAt.UTC()
		if state != nil {
			d.State = json.RawMessage(state)
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list decisions")
	}
	slices.Reverse(out)
	return out, nil
}

// SavePacket stores or replaces a conversation's handoff packet in one
// statement; the first save's created_at stays.
func (s *Store) SavePacket(ctx context.Context, p *baton.HandoffPacket) error {
	body, err := json.Marshal(p)
	if err != nil {
		return baton.Errorf(baton.EINVALID, "handoff packet of conversation %d: encode: %w", p.ConversationID, err)
	}
	now := s.now()
	created := p.CreatedAt
	if created.IsZero() {
		created = now
	}
	created = created.UTC().Truncate(time.Microsecond)
	err = s.q().QueryRow(ctx, `
		INSERT INTO handoff_packets (conversation_id, packet, created_at, updated_at) VALUES ($1, $2::jsonb, $3, $4)
		ON CONFLICT (conversation_id) DO UPDATE SET packet = excluded.packet, updated_at = excluded.updated_at
		RETURNING created_at`, p.ConversationID, string(body), created, now).Scan(&created)
	if err != nil {
		if baton.ErrorCode(wrapErr(err, "")) == baton.ENOTFOUND {
			return baton.Errorf(baton.ENOTFOUND, "handoff packet: conversation %d does not exist", p.ConversationID)
		}
		return wrapErr(err, "save handoff packet")
	}
	p.CreatedAt, p.UpdatedAt = created.UTC(), now
	return nil
}

// GetPacket returns a conversation's handoff packet; its times come from
// the row, not from the JSON saved with it.
func (s *Store) GetPacket(ctx context.Context, conversationID int64) (*baton.HandoffPacket, error) {
	var (
		body             []byte
		created, updated time.Time
	)
	err := s.q().QueryRow(ctx, `SELECT packet, created_at, updated_at FROM handoff_packets WHERE conversation_id = $1`,
		conversationID).Scan(&body, &created, &updated)
	if err == pgx.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "conversation %d has no handoff packet: it was never escalated", conversationID)
	}
	if err != nil {
		return nil, wrapErr(err, "handoff packet of conversation "+strconv.FormatInt(conversationID, 10))
	}
	p := &baton.HandoffPacket{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "postgres: decode handoff packet of conversation %d: %w", conversationID, err)
	}
	p.ConversationID, p.CreatedAt, p.UpdatedAt = conversationID, created.UTC(), updated.UTC()
	return p, nil
}
