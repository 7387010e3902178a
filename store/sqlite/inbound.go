package sqlite

import (
	"context"
	"database/sql"
	"slices"

	"github.com/batonhq/baton"
)

// AppendInbound stores a message that needs no decision in one write
// transaction. The write lock is held from its start, so the conversation
// chosen is still the customer's latest, in that state, at the commit.
func (s *Store) AppendInbound(ctx context.Context, a *baton.InboundAppend) (baton.AppendResult, error) {
	var res baton.AppendResult
	if err := validIdentity(a.Identity); err != nil {
		return res, err
	}
	m := a.Message
	if m == nil {
		return res, baton.Errorf(baton.EINVALID, "append inbound: no message")
	}
	m.BotID, m.Channel, m.Direction = a.Identity.BotID, a.Identity.Channel, baton.DirectionIn
	if m.Author == "" {
		m.Author = baton.AuthorCustomer
	}
	err := s.Tx(ctx, func(bt baton.Store) error {
		tx := bt.(*Store)
		var (
			convID, custID int64
			state, extID   string
			verified       int
			lastIn         sql.NullInt64
		)
		err := tx.reader().QueryRowContext(ctx, `SELECT c.id, c.customer_id, c.state, cu.verified, cu.external_id, c.last_inbound_at
			FROM channel_identities i
			JOIN customers cu ON cu.id = i.customer_id
			JOIN conversations c ON c.customer_id = i.customer_id AND c.bot_id = i.bot_id AND c.channel = i.channel
			WHERE i.bot_id = ? AND i.channel = ? AND i.address = ? AND c.state <> 'archived'
			ORDER BY c.id DESC LIMIT 1`, a.Identity.BotID, string(a.Identity.Channel), a.Identity.Address).
			Scan(&convID, &custID, &state, &verified, &extID, &lastIn)
		switch {
		case err == sql.ErrNoRows:
			return nil
		case err != nil:
			return translate(err, "append inbound message")
		case !slices.Contains(a.States, baton.State(state)):
			return nil
		case a.ExternalID != "" && (verified == 0 || extID != a.ExternalID):
			return nil
		}
		out := baton.AppendResult{CustomerID: custID, ConversationID: convID}
		m.ConversationID = convID
		created, err := tx.InsertMessage(ctx, m)
		if err != nil {
			return err
		}
		if !created {
			out.Duplicate = true
			res = out
			return nil
		}
		now := ts(tx.now())
		at := ts(a.InboundAt)
		if !lastIn.Valid || lastIn.Int64 < at {
			if _, err := tx.tx.ExecContext(ctx, `UPDATE conversations SET last_inbound_at = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				at, now, convID); err != nil {
				return translate(err, "append inbound message: conversation")
			}
		}
		if a.ProfileName != "" {
			if _, err := tx.tx.ExecContext(ctx, `UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name = ''`,
				a.ProfileName, now, custID); err != nil {
				return translate(err, "append inbound message: customer name")
			}
		}
		if a.Turn {
			j := baton.TurnJob(convID, m.ID, tx.now())
			if _, err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
			out.TurnJobID = j.ID
		}
		out.Appended = true
		res = out
		return nil
	})
	if err != nil {
		return baton.AppendResult{}, err
	}
	return res, nil
}
