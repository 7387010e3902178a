package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const messageCols = `id, conversation_id, bot_id, channel, coalesce(provider_id, ''), direction, author, author_id, type, text,
	payload, reply_to, attachments, status, status_code, status_reason, metadata, created_at, updated_at`

func scanMessage(row pgx.Row) (*baton.Message, error) {
	m := &baton.Message{}
	var meta []byte
	err := row.Scan(&m.ID, &m.ConversationID, &m.BotID, &m.Channel, &m.ProviderID, &m.Direction, &m.Author, &m.AuthorID,
		&m.Type, &m.Text, &m.Payload, &m.ReplyTo, &m.Attachments, &m.Status, &m.StatusCode, &m.StatusReason, &meta,
		&m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if meta != nil {
		m.Metadata = json.RawMessage(meta)
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return m, nil
}

// rankSQL is DeliveryStatus.Rank in SQL, so that forward-only updates are
// one conditional statement.
const rankSQL = `(CASE %s WHEN 'received' THEN 0 WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
	WHEN 'delivered' THEN 3 WHEN 'failed' THEN 4 WHEN 'read' THEN 5 ELSE -1 END)`

func rankOf(col string) string { return fmt.Sprintf(rankSQL, col) }

func validMessage(m *baton.Message) error {
	switch {
	case m.BotID == "":
		return baton.Errorf(baton.EINVALID, "message: bot id is empty")
	case !m.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "message: unknown channel %q", m.Channel)
	case m.Direction != baton.DirectionIn && m.Direction != baton.DirectionOut && m.Direction != baton.DirectionNote:
		return baton.Errorf(baton.EINVALID, "message: unknown direction %q", m.Direction)
	case m.Author != baton.AuthorCustomer && m.Author != baton.AuthorBot && m.Author != baton.AuthorAgent && m.Author != baton.AuthorSystem:
		return baton.Errorf(baton.EINVALID, "message: unknown author %q", m.Author)
	case m.Status != "" && m.Status.Rank() < 0:
		return baton.Errorf(baton.EINVALID, "message: unknown delivery status %q", m.Status)
	case len(m.Metadata) > 0 && !json.Valid(m.Metadata):
		return baton.Errorf(baton.EINVALID, "message: metadata is not valid JSON")
	}
	return nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rawJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

const insertMessageSQL = `
	INSERT INTO messages (conversation_id, bot_id, channel, provider_id, direction, author, author_id, type, text,
		payload, reply_to, attachments, status, status_code, status_reason, metadata, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::json, $17, $18)
	ON CONFLICT (channel, provider_id) DO NOTHING
	RETURNING id`

// insertAgentReplySQL stores an agent's reply and stops its conversation's
// response clocks in the same statement; a duplicate (no row inserted)
// changes no clock. LEAST and GREATEST skip NULLs: the first reply sets
// both times.
const insertAgentReplySQL = `
	WITH m AS (` + insertMessageSQL + `, created_at
	), clocks AS (
		UPDATE conversations c SET first_agent_reply_at = least(c.first_agent_reply_at, m.created_at),
			last_agent_reply_at = greatest(c.last_agent_reply_at, m.created_at), next_response_due = NULL,
			version = c.version + 1, updated_at = $18
		FROM m WHERE c.id = $1
	)
	SELECT id FROM m`

// InsertMessage inserts m unless (channel, provider id) exists. ON CONFLICT
// DO NOTHING waits for a concurrent insert of the same key and never raises,
// so a duplicate inside a transaction does not abort it.
func (s *Store) InsertMessage(ctx context.Context, m *baton.Message) (bool, error) {
	if err := validMessage(m); err != nil {
		return false, err
	}
	if m.Type == "" {
		m.Type = baton.TypeText
	}
	if m.Status == "" {
		m.Status = baton.StatusQueued
		if m.Direction == baton.DirectionIn {
			m.Status = baton.StatusReceived
		}
	}
	now := s.now()
	created := m.CreatedAt
	if created.IsZero() {
		created = now
	}
	created = created.UTC().Truncate(time.Microsecond)
	args := []any{m.ConversationID, m.BotID, string(m.Channel), nullString(m.ProviderID), string(m.Direction), string(m.Author),
		m.AuthorID, string(m.Type), m.Text, m.Payload, m.ReplyTo, m.Attachments, string(m.Status), m.StatusCode,
		m.StatusReason, rawJSON(m.Metadata), created, now}
	query := insertMessageSQL
	if m.IsAgentReply() {
		query = insertAgentReplySQL
	}
	err := s.q().QueryRow(ctx, query, args...).Scan(&m.ID)
	if err == nil {
		m.CreatedAt, m.UpdatedAt = created, now
		return true, nil
	}
	if err != pgx.ErrNoRows {
		return false, wrapErr(err, "insert message")
	}
	// A duplicate: the row exists (committed, since ON CONFLICT waited).
	err = s.q().QueryRow(ctx, `SELECT id FROM messages WHERE channel = $1 AND provider_id = $2`,
		string(m.Channel), m.ProviderID).Scan(&m.ID)
	if err != nil {
		return false, wrapErr(err, "insert message: find the existing row")
	}
	return false, nil
}

func (s *Store) GetMessage(ctx context.Context, id int64) (*baton.Message, error) {
	m, err := scanMessage(s.q().QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "message "+strconv.FormatInt(id, 10))
	}
	return m, nil
}

func (s *Store) GetMessageByProviderID(ctx context.Context, ch baton.ChannelKind, providerID string) (*baton.Message, error) {
	if providerID == "" {
		return nil, baton.Errorf(baton.EINVALID, "get message: provider id is empty")
	}
	m, err := scanMessage(s.q().QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel = $1 AND provider_id = $2`,
		string(ch), providerID))
	if err != nil {
		return nil, wrapErr(err, "get message by provider id")
	}
	return m, nil
}

func (s *Store) ListMessages(ctx context.Context, conversationID int64, afterID int64, limit int) ([]*baton.Message, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	ms, err := collectMessages(s.q().Query(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		conversationID, afterID, lim))
	return ms, wrapErr(err, "list messages")
}

// ListRecentMessages returns the last limit messages of a conversation,
// oldest first: the newest are read through the index backwards, then
// reversed.
func (s *Store) ListRecentMessages(ctx context.Context, conversationID int64, limit int) ([]*baton.Message, error) {
	if limit < 0 {
		return nil, baton.Errorf(baton.EINVALID, "list recent messages of conversation %d: limit %d; want 0 (all) or more", conversationID, limit)
	}
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	ms, err := collectMessages(s.q().Query(ctx, `SELECT `+messageCols+` FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2`,
		conversationID, lim))
	slices.Reverse(ms)
	return ms, wrapErr(err, "list recent messages")
}

func collectMessages(rows pgx.Rows, err error) ([]*baton.Message, error) {
	if err != nil {
		return nil, err
	}
	// Appending to nil keeps "no messages" nil, as the SQLite store has it.
	return pgx.AppendRows([]*baton.Message(nil), rows, func(row pgx.CollectableRow) (*baton.Message, error) { return scanMessage(row) })
}

// BeginSend marks a queued or sending message sending in one statement; the
// row lock of the subquery makes the status it reports the one it replaced.
func (s *Store) BeginSend(ctx context.Context, id int64, at time.Time) (bool, error) {
	var was string
	err := s.q().QueryRow(ctx, `
		UPDATE messages m SET status = 'sending', updated_at = $2
		FROM (SELECT id, status FROM messages WHERE id = $1 FOR UPDATE) old
		WHERE m.id = old.id AND old.status IN ('queued', 'sending')
		RETURNING old.status`, id, at.UTC().Truncate(time.Microsecond)).Scan(&was)
	if err == nil {
		return was == string(baton.StatusSending), nil
	}
	if err != pgx.ErrNoRows {
		return false, wrapErr(err, "begin send")
	}
	return false, s.notSendable(ctx, id)
}

// notSendable explains why a message could not begin a send.
func (s *Store) notSendable(ctx context.Context, id int64) error {
	var status string
	err := s.q().QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&status)
	if err != nil {
		return wrapErr(err, fmt.Sprintf("begin send of message %d", id))
	}
	return baton.Errorf(baton.ECONFLICT, "message %d is %s: only a queued message can be sent", id, status)
}

// AbortSend moves a sending message back to queued.
func (s *Store) AbortSend(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.q().Exec(ctx, `UPDATE messages SET status = 'queued', updated_at = $2 WHERE id = $1 AND status = 'sending'`,
		id, at.UTC().Truncate(time.Microsecond))
	if err != nil {
		return wrapErr(err, "abort send")
	}
	if tag.RowsAffected() == 0 {
		var one int
		if err := s.q().QueryRow(ctx, `SELECT 1 FROM messages WHERE id = $1`, id).Scan(&one); err != nil {
			return wrapErr(err, fmt.Sprintf("abort send of message %d", id))
		}
	}
	return nil
}

// SetProviderID records the provider's id and moves the status to sent
// (forward only: a status that already went further stays).
func (s *Store) SetProviderID(ctx context.Context, id int64, providerID string, at time.Time) error {
	if providerID == "" {
		return baton.Errorf(baton.EINVALID, "message %d: provider id is empty", id)
	}
	tag, err := s.q().Exec(ctx, `
		UPDATE messages SET provider_id = $2,
			status = CASE WHEN `+rankOf("status")+` < 2 THEN 'sent' ELSE status END, updated_at = $3
		WHERE id = $1`, id, providerID, at.UTC().Truncate(time.Microsecond))
	if err != nil {
		if baton.ErrorCode(wrapErr(err, "")) == baton.ECONFLICT {
			return baton.Errorf(baton.ECONFLICT, "message %d: provider id already belongs to another message", id)
		}
		return wrapErr(err, "set provider id")
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ENOTFOUND, "message %d not found", id)
	}
	return nil
}

func (s *Store) UpdateMessageStatus(ctx context.Context, u baton.StatusUpdate) (bool, error) {
	if u.Status.Rank() < 0 {
		return false, baton.Errorf(baton.EINVALID, "status update: unknown status %q", u.Status)
	}
	if u.ProviderID == "" {
		return false, baton.Errorf(baton.EINVALID, "status update: provider id is empty")
	}
	return s.setStatus(ctx, `channel = $5 AND provider_id = $6`, u.Status, u.Code, u.Reason, u.At, string(u.Channel), u.ProviderID)
}

func (s *Store) SetMessageStatus(ctx context.Context, id int64, status baton.DeliveryStatus, code, reason string, at time.Time) (bool, error) {
	if status.Rank() < 0 {
		return false, baton.Errorf(baton.EINVALID, "message %d: unknown status %q", id, status)
	}
	return s.setStatus(ctx, `id = $5`, status, code, reason, at, id)
}

// setStatus moves a message's status forward in one statement; when nothing
// changed it tells a missing message (ENOTFOUND) from a stale update.
func (s *Store) setStatus(ctx context.Context, where string, status baton.DeliveryStatus, code, reason string, at time.Time, keys ...any) (bool, error) {
	if at.IsZero() {
		at = s.now()
	}
	args := append([]any{string(status), code, reason, at.UTC().Truncate(time.Microsecond)}, keys...)
	tag, err := s.q().Exec(ctx, `
		UPDATE messages SET status = $1, status_code = $2, status_reason = $3, updated_at = $4
		WHERE `+where+` AND `+rankOf("status")+` < `+rankOf("$1::text"), args...)
	if err != nil {
		return false, wrapErr(err, "update message status")
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	var one int
	keyWhere := `id = $1`
	if len(keys) == 2 {
		keyWhere = `channel = $1 AND provider_id = $2`
	}
	err = s.q().QueryRow(ctx, `SELECT 1 FROM messages WHERE `+keyWhere, keys...).Scan(&one)
	if err == pgx.ErrNoRows {
		return false, baton.Errorf(baton.ENOTFOUND, "message not found for status update")
	}
	if err != nil {
		return false, wrapErr(err, "update message status")
	}
	return false, nil
}
