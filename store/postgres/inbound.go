package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// appendInboundSQL is AppendInbound in one statement. The conversation row
// is locked first, so that the state it was chosen for holds until the
// statement commits, and concurrent messages of one conversation queue up
// behind each other; a duplicate (ON CONFLICT DO NOTHING, which waits for a
// concurrent insert of the same key) leaves m empty and with it every write
// that follows from m. Data-modifying CTEs run whether or not the final
// SELECT reads them. The turn job's key and payload are baton.TurnJob's.
const appendInboundSQL = `
WITH target AS (
	SELECT c.id, c.customer_id, c.state, cu.verified, cu.external_id
	FROM channel_identities i
	JOIN customers cu ON cu.id = i.customer_id
	JOIN conversations c ON c.customer_id = i.customer_id AND c.bot_id = i.bot_id AND c.channel = i.channel
	WHERE i.bot_id = $1 AND i.channel = $2 AND i.address = $3 AND c.state <> 'archived'
	ORDER BY c.id DESC LIMIT 1
	FOR UPDATE OF c
), ok AS (
	SELECT id, customer_id FROM target
	WHERE state = ANY($4::text[]) AND ($5::text = '' OR (verified AND external_id = $5::text))
), m AS (
	INSERT INTO messages (conversation_id, bot_id, channel, provider_id, direction, author, author_id, type, text,
		payload, reply_to, attachments, status, status_code, status_reason, metadata, created_at, updated_at)
	SELECT ok.id, $1, $2, $6::text, 'in', $7::text, '', $8::text, $9::text, $10::text, $11::text, $12::jsonb, $13::text, '', '',
		$14::json, $20::timestamptz, $15::timestamptz
	FROM ok
	ON CONFLICT (channel, provider_id) DO NOTHING
	RETURNING id, conversation_id
), conv AS (
	UPDATE conversations c SET last_inbound_at = $16::timestamptz, version = c.version + 1, updated_at = $15::timestamptz
	FROM m WHERE c.id = m.conversation_id AND (c.last_inbound_at IS NULL OR c.last_inbound_at < $16::timestamptz)
	RETURNING c.id
), cust AS (
	UPDATE customers cu SET name = $17::text, updated_at = $15::timestamptz
	FROM ok, m WHERE cu.id = ok.customer_id AND cu.name = '' AND $17::text <> ''
	RETURNING cu.id
), turn AS (
	INSERT INTO jobs (kind, conversation_id, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
	SELECT 'turn', m.conversation_id, 'turn:' || m.id, ('{"message_id":' || m.id || '}')::json, 'pending',
		$15::timestamptz, 0, $18::int, $15::timestamptz, $15::timestamptz
	FROM m WHERE $19::bool
	ON CONFLICT (key) DO NOTHING
	RETURNING id
)
SELECT coalesce(t.id, 0), coalesce(t.customer_id, 0), ok.id IS NOT NULL, coalesce(m.id, 0), coalesce(turn.id, 0)
FROM (SELECT 1) one
LEFT JOIN target t ON true LEFT JOIN ok ON true LEFT JOIN m ON true LEFT JOIN turn ON true`

// AppendInbound stores a message that needs no decision in one round trip.
func (s *Store) AppendInbound(ctx context.Context, a *baton.InboundAppend) (baton.AppendResult, error) {
	var res baton.AppendResult
	m := a.Message
	if err := validIdentity(a.Identity); err != nil {
		return res, err
	}
	if m == nil {
		return res, baton.Errorf(baton.EINVALID, "append inbound: no message")
	}
	m.BotID, m.Channel, m.Direction = a.Identity.BotID, a.Identity.Channel, baton.DirectionIn
	if m.Author == "" {
		m.Author = baton.AuthorCustomer
	}
	if m.Type == "" {
		m.Type = baton.TypeText
	}
	if m.Status == "" {
		m.Status = baton.StatusReceived
	}
	if err := validMessage(m); err != nil {
		return res, err
	}
	states := make([]string, len(a.States))
	for i, st := range a.States {
		states[i] = string(st)
	}
	now := s.now()
	created := m.CreatedAt
	if created.IsZero() {
		created = now
	}
	created = created.UTC().Truncate(time.Microsecond)
	var appendable bool
	var msgID int64
	err := s.q().QueryRow(ctx, appendInboundSQL,
		a.Identity.BotID, string(a.Identity.Channel), a.Identity.Address, states, a.ExternalID,
		nullString(m.ProviderID), string(m.Author), string(m.Type), m.Text, m.Payload, m.ReplyTo, m.Attachments,
		string(m.Status), rawJSON(m.Metadata), now, a.InboundAt.UTC().Truncate(time.Microsecond), a.ProfileName,
		baton.DefaultMaxAttempts, a.Turn, created).
		Scan(&res.ConversationID, &res.CustomerID, &appendable, &msgID, &res.TurnJobID)
	if err != nil {
		return baton.AppendResult{}, wrapErr(err, "append inbound message")
	}
	switch {
	case !appendable:
		return baton.AppendResult{}, nil
	case msgID != 0:
		m.ID, m.ConversationID, m.CreatedAt, m.UpdatedAt = msgID, res.ConversationID, created, now
		res.Appended = true
		return res, nil
	}
	// A duplicate: the row exists (committed, since ON CONFLICT waited).
	err = s.q().QueryRow(ctx, `SELECT id FROM messages WHERE channel = $1 AND provider_id = $2`, string(m.Channel), m.ProviderID).Scan(&m.ID)
	if err == pgx.ErrNoRows {
		return baton.AppendResult{}, baton.Errorf(baton.EINTERNAL, "append inbound message: not stored and not a duplicate")
	}
	if err != nil {
		return baton.AppendResult{}, wrapErr(err, "append inbound message: find the existing row")
	}
	res.Duplicate, res.TurnJobID = true, 0
	return res, nil
}
