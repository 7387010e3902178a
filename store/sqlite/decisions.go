package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

var _ baton.DecisionStore = (*Store)(nil)

// InsertDecision stores one turn's decision. Slices are encoded whenever
// they are non-nil, so that an empty list comes back empty, not nil.
func (s *Store) InsertDecision(ctx context.Context, d *baton.Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	analysis, err := jsonCol(d.Analysis, d.Analysis == nil)
	if err != nil {
		return err
	}
	citations, err := jsonCol(d.Citations, d.Citations == nil)
	if err != nil {
		return err
	}
	triggers, err := jsonCol(d.Triggers, d.Triggers == nil)
	if err != nil {
		return err
	}
	state, err := rawCol(d.State, "decision state")
	if err != nil {
		return err
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	created = created.UTC().Truncate(time.Microsecond)
	return s.writeOne(ctx, "insert decision", func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO decisions (conversation_id, message_id, action, analysis, citations, triggers,
			took_us, detail, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.ConversationID, d.MessageID, d.Action, analysis, citations, triggers,
			d.Took.Microseconds(), d.Detail, state, ts(created)).Scan(&d.ID)
		if err != nil {
			if baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND {
				return baton.Errorf(baton.ENOTFOUND, "decision: conversation %d does not exist", d.ConversationID)
			}
			return err
		}
		d.CreatedAt = created
		return nil
	})
}

// ListDecisions returns the last limit decisions of a conversation, oldest
// first: the newest are read through the index backwards, then reversed.
func (s *Store) ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*baton.Decision, error) {
	if limit < 0 {
		return nil, baton.Errorf(baton.EINVALID, "list decisions of conversation %d: limit %d; want 0 (all) or more", conversationID, limit)
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT id, conversation_id, message_id, action, analysis, citations, triggers,
		took_us, detail, state, created_at FROM decisions WHERE conversation_id = ? ORDER BY id DESC`+limitClause(limit), conversationID)
	if err != nil {
		return nil, translate(err, "list decisions")
	}
	defer rows.Close()
	var out []*baton.Decision
	for rows.Next() {
		var (
			d                                 baton.Decision
			analysis, citations, triggers, st sql.NullString
			took, created                     int64
		)
		if err := rows.Scan(&d.ID, &d.ConversationID, &d.MessageID, &d.Action, &analysis, &citations, &triggers,
			&took, &d.Detail, &st, &created); err != nil {
			return nil, translate(err, "list decisions")
		}
		d.Took, d.State, d.CreatedAt = time.Duration(took)*time.Microsecond, fromRaw(st), fromTS(created)
		if err := decodeJSON(analysis, &d.Analysis, "decision analysis"); err != nil {
			return nil, translate(err, "list decisions")
		}
		if err := decodeJSON(citations, &d.Citations, "decision citations"); err != nil {
			return nil, translate(err, "list decisions")
		}
		if err := decodeJSON(triggers, &d.Triggers, "decision triggers"); err != nil {
			return nil, translate(err, "list decisions")
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "list decisions")
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
	return s.writeOne(ctx, "save handoff packet", func(q querier) error {
		var stored int64
		err := q.QueryRowContext(ctx, `INSERT INTO handoff_packets (conversation_id, packet, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (conversation_id) DO UPDATE SET packet = excluded.packet, updated_at = excluded.updated_at
			RETURNING created_at`, p.ConversationID, string(body), ts(created), ts(now)).Scan(&stored)
		if err != nil {
			if baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND {
				return baton.Errorf(baton.ENOTFOUND, "handoff packet: conversation %d does not exist", p.ConversationID)
			}
			return err
		}
		p.CreatedAt, p.UpdatedAt = fromTS(stored), now
		return nil
	})
}

// GetPacket returns a conversation's handoff packet; its times come from
// the row, not from the JSON saved with it.
func (s *Store) GetPacket(ctx context.Context, conversationID int64) (*baton.HandoffPacket, error) {
	var (
		body             string
		created, updated int64
	)
	err := s.reader().QueryRowContext(ctx, `SELECT packet, created_at, updated_at FROM handoff_packets WHERE conversation_id = ?`,
		conversationID).Scan(&body, &created, &updated)
	if err == sql.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "conversation %d has no handoff packet: it was never escalated", conversationID)
	}
	if err != nil {
		return nil, translate(err, "handoff packet of conversation "+itoa(conversationID))
	}
	p := &baton.HandoffPacket{}
	if err := json.Unmarshal([]byte(body), p); err != nil {
		return nil, translate(err, "decode handoff packet of conversation "+itoa(conversationID))
	}
	p.ConversationID, p.CreatedAt, p.UpdatedAt = conversationID, fromTS(created), fromTS(updated)
	return p, nil
}
