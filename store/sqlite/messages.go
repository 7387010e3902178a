package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

const messageCols = `id, conversation_id, bot_id, channel, provider_id, direction, author, author_id, type, text, payload, reply_to,
	attachments, status, status_code, status_reason, metadata, created_at, updated_at`

func scanMessage(r scanner) (*baton.Message, error) {
	var (
		m                                       baton.Message
		channel, direction, author, typ, status string
		providerID, attachments, metadata       sql.NullString
		created, updated                        int64
	)
	if err := r.Scan(&m.ID, &m.ConversationID, &m.BotID, &channel, &providerID, &direction, &author, &m.AuthorID, &typ, &m.Text, &m.Payload, &m.ReplyTo,
		&attachments, &status, &m.StatusCode, &m.StatusReason, &metadata, &created, &updated); err != nil {
		return nil, err
	}
	m.Channel, m.ProviderID = baton.ChannelKind(channel), providerID.String
	m.Direction, m.Author, m.Type, m.Status = baton.Direction(direction), baton.Author(author), baton.MessageType(typ), baton.DeliveryStatus(status)
	m.Metadata = fromRaw(metadata)
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(updated)
	if err := decodeJSON(attachments, &m.Attachments, "message attachments"); err != nil {
		return nil, err
	}
	return &m, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// InsertMessage stores m unless a message with the same channel and provider
// id exists; the unique index decides, never a prior lookup.
func (s *Store) InsertMessage(ctx context.Context, m *baton.Message) (bool, error) {
	switch m.Direction {
	case baton.DirectionIn, baton.DirectionOut, baton.DirectionNote:
	default:
		return false, baton.Errorf(baton.EINVALID, "message: unknown direction %q", m.Direction)
	}
	if !m.Channel.Valid() {
		return false, baton.Errorf(baton.EINVALID, "message: unknown channel %q", m.Channel)
	}
	if m.Status == "" {
		m.Status = baton.StatusQueued
		if m.Direction == baton.DirectionIn {
			m.Status = baton.StatusReceived
		}
	}
	if m.Status.Rank() < 0 {
		return false, baton.Errorf(baton.EINVALID, "message: unknown status %q", m.Status)
	}
	if m.Type == "" {
		m.Type = baton.TypeText
	}
	if m.Author == "" {
		return false, baton.Errorf(baton.EINVALID, "message: author is required")
	}
	attachments, err := sliceCol(m.Attachments)
	if err != nil {
		return false, err
	}
	metadata, err := rawCol(m.Metadata, "message metadata")
	if err != nil {
		return false, err
	}
	now := s.now()
	created := m.CreatedAt
	if created.IsZero() {
		created = now
	}
	var inserted bool
	write := s.writeOne
	if m.IsAgentReply() {
		// Two statements: the message and its conversation's clocks.
		write = s.writeTx
	}
	err = write(ctx, "insert message", func(q querier) error {
		var id int64
		err := q.QueryRowContext(ctx, `INSERT INTO messages (conversation_id, bot_id, channel, provider_id, direction, author, author_id, type, text,
			payload, reply_to, attachments, status, status_code, status_reason, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id`,
			m.ConversationID, m.BotID, string(m.Channel), nullString(m.ProviderID), string(m.Direction), string(m.Author), m.AuthorID, string(m.Type), m.Text,
			m.Payload, m.ReplyTo, attachments, string(m.Status), m.StatusCode, m.StatusReason, metadata, ts(created), ts(now)).Scan(&id)
		switch {
		case err == nil:
			inserted = true
		case err == sql.ErrNoRows:
			// The conflict: same channel and provider id already stored.
			if err := q.QueryRowContext(ctx, `SELECT id FROM messages WHERE channel = ? AND provider_id = ?`, string(m.Channel), m.ProviderID).Scan(&id); err != nil {
				return err
			}
		case baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND:
			return baton.Errorf(baton.ENOTFOUND, "message: conversation %d does not exist", m.ConversationID)
		default:
			return err
		}
		m.ID = id
		if inserted && m.IsAgentReply() {
			// The agent answered: the response clocks stop.
			at := ts(created)
			if _, err := q.ExecContext(ctx, `UPDATE conversations SET first_agent_reply_at = min(coalesce(first_agent_reply_at, ?), ?),
				last_agent_reply_at = max(coalesce(last_agent_reply_at, ?), ?), next_response_due = NULL,
				version = version + 1, updated_at = ? WHERE id = ?`, at, at, at, at, ts(now), m.ConversationID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if inserted {
		m.CreatedAt, m.UpdatedAt = created.UTC(), now
	}
	return inserted, nil
}

// GetMessage returns a message by id.
func (s *Store) GetMessage(ctx context.Context, id int64) (*baton.Message, error) {
	m, err := scanMessage(s.reader().QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return nil, translate(err, "message "+itoa(id))
	}
	return m, nil
}

// GetMessageByProviderID returns the message a provider knows by providerID.
func (s *Store) GetMessageByProviderID(ctx context.Context, ch baton.ChannelKind, providerID string) (*baton.Message, error) {
	m, err := scanMessage(s.reader().QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE channel = ? AND provider_id = ?`, string(ch), providerID))
	if err != nil {
		return nil, translate(err, "message by provider id on "+string(ch))
	}
	return m, nil
}

// ListMessages returns a transcript page in storage order.
func (s *Store) ListMessages(ctx context.Context, conversationID int64, afterID int64, limit int) ([]*baton.Message, error) {
	return s.queryMessages(ctx, "list messages", `SELECT `+messageCols+` FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id`+limitClause(limit),
		conversationID, afterID)
}

// ListRecentMessages returns the last limit messages of a conversation,
// oldest first: the newest are read through the index backwards, then
// reversed.
func (s *Store) ListRecentMessages(ctx context.Context, conversationID int64, limit int) ([]*baton.Message, error) {
	if limit < 0 {
		return nil, baton.Errorf(baton.EINVALID, "list recent messages of conversation %d: limit %d; want 0 (all) or more", conversationID, limit)
	}
	out, err := s.queryMessages(ctx, "list recent messages", `SELECT `+messageCols+` FROM messages WHERE conversation_id = ? ORDER BY id DESC`+limitClause(limit),
		conversationID)
	slices.Reverse(out)
	return out, err
}

func (s *Store) queryMessages(ctx context.Context, what, query string, args ...any) ([]*baton.Message, error) {
	rows, err := s.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err, what)
	}
	defer rows.Close()
	var out []*baton.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, translate(err, what)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, what)
	}
	return out, nil
}

// BeginSend marks a queued or sending message sending. The write lock
// makes the read and the update one step.
func (s *Store) BeginSend(ctx context.Context, id int64, at time.Time) (bool, error) {
	var inDoubt bool
	err := s.writeOne(ctx, "begin send of message "+itoa(id), func(q querier) error {
		var status string
		if err := q.QueryRowContext(ctx, `SELECT status FROM messages WHERE id = ?`, id).Scan(&status); err != nil {
			return err
		}
		switch baton.DeliveryStatus(status) {
		case baton.StatusQueued:
		case baton.StatusSending:
			inDoubt = true
		default:
			return baton.Errorf(baton.ECONFLICT, "message %d is %s: only a queued message can be sent", id, status)
		}
		_, err := q.ExecContext(ctx, `UPDATE messages SET status = 'sending', updated_at = ? WHERE id = ?`, ts(at), id)
		return err
	})
	return inDoubt, err
}

// AbortSend moves a sending message back to queued.
func (s *Store) AbortSend(ctx context.Context, id int64, at time.Time) error {
	return s.writeOne(ctx, "abort send of message "+itoa(id), func(q querier) error {
		var status string
		if err := q.QueryRowContext(ctx, `SELECT status FROM messages WHERE id = ?`, id).Scan(&status); err != nil {
			return err
		}
		if baton.DeliveryStatus(status) != baton.StatusSending {
			return nil
		}
		_, err := q.ExecContext(ctx, `UPDATE messages SET status = 'queued', updated_at = ? WHERE id = ?`, ts(at), id)
		return err
	})
}

// SetProviderID records the provider's id of an accepted outbound message
// and moves it to sent (forward only).
func (s *Store) SetProviderID(ctx context.Context, id int64, providerID string, at time.Time) error {
	if providerID == "" {
		return baton.Errorf(baton.EINVALID, "message %d: provider id is required", id)
	}
	return s.writeOne(ctx, "set provider id of message "+itoa(id), func(q querier) error {
		var status string
		if err := q.QueryRowContext(ctx, `SELECT status FROM messages WHERE id = ?`, id).Scan(&status); err != nil {
			return err
		}
		next := baton.DeliveryStatus(status)
		if baton.StatusSent.Rank() > next.Rank() {
			next = baton.StatusSent
		}
		_, err := q.ExecContext(ctx, `UPDATE messages SET provider_id = ?, status = ?, updated_at = ? WHERE id = ?`,
			providerID, string(next), ts(s.now()), id)
		return err
	})
}

// UpdateMessageStatus applies a provider's status report, forward only.
func (s *Store) UpdateMessageStatus(ctx context.Context, u baton.StatusUpdate) (bool, error) {
	if u.Status.Rank() < 0 {
		return false, baton.Errorf(baton.EINVALID, "status update: unknown status %q", u.Status)
	}
	var changed bool
	err := s.writeOne(ctx, "status of message on "+string(u.Channel), func(q querier) error {
		var id int64
		if err := q.QueryRowContext(ctx, `SELECT id FROM messages WHERE channel = ? AND provider_id = ?`, string(u.Channel), u.ProviderID).Scan(&id); err != nil {
			return err
		}
		var err error
		changed, err = s.advanceStatus(ctx, q, id, u.Status, u.Code, u.Reason)
		return err
	})
	return changed, err
}

// SetMessageStatus applies a status to one message by id, forward only.
func (s *Store) SetMessageStatus(ctx context.Context, id int64, status baton.DeliveryStatus, code, reason string, at time.Time) (bool, error) {
	if status.Rank() < 0 {
		return false, baton.Errorf(baton.EINVALID, "message %d: unknown status %q", id, status)
	}
	var changed bool
	err := s.writeOne(ctx, "status of message "+itoa(id), func(q querier) error {
		var err error
		changed, err = s.advanceStatus(ctx, q, id, status, code, reason)
		return err
	})
	return changed, err
}

// advanceStatus moves a message to status when that is a step forward.
// Callers hold the write lock, so the read and the update are one step.
func (s *Store) advanceStatus(ctx context.Context, q querier, id int64, status baton.DeliveryStatus, code, reason string) (bool, error) {
	var current string
	if err := q.QueryRowContext(ctx, `SELECT status FROM messages WHERE id = ?`, id).Scan(&current); err != nil {
		return false, err
	}
	if status.Rank() <= baton.DeliveryStatus(current).Rank() {
		return false, nil
	}
	if status != baton.StatusFailed {
		code, reason = "", ""
	}
	_, err := q.ExecContext(ctx, `UPDATE messages SET status = ?, status_code = ?, status_reason = ?, updated_at = ? WHERE id = ?`,
		string(status), code, reason, ts(s.now()), id)
	return err == nil, err
}
