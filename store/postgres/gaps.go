package postgres

import (
	"context"
	"time"

	"github.com/batonhq/baton"
)

var _ baton.GapStore = (*Store)(nil)

// RecordGap stores a question the KB did not answer well (At zero = now)
// and sets its id.
func (s *Store) RecordGap(ctx context.Context, g *baton.Gap) error {
	if err := g.Validate(); err != nil {
		return err
	}
	at := g.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	err := s.q().QueryRow(ctx, `
		INSERT INTO gaps (bot_id, conversation_id, message_id, question, language, reason, grounded, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		g.BotID, g.ConversationID, g.MessageID, g.Question, g.Language, g.Reason, g.Grounded, at).Scan(&g.ID)
	if err != nil {
		return wrapErr(err, "record gap")
	}
	g.At = at
	return nil
}

// ListGaps returns a bot's gaps at or after since, oldest first, at most
// limit (0 = all).
func (s *Store) ListGaps(ctx context.Context, botID string, since time.Time, limit int) ([]*baton.Gap, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	rows, err := s.q().Query(ctx, `
		SELECT id, bot_id, conversation_id, message_id, question, language, reason, grounded, at
		FROM gaps WHERE bot_id = $1 AND at >= $2 ORDER BY at, id LIMIT $3`, botID, since.UTC(), lim)
	if err != nil {
		return nil, wrapErr(err, "list gaps")
	}
	defer rows.Close()
	var out []*baton.Gap
	for rows.Next() {
		g := &baton.Gap{}
		if err := rows.Scan(&g.ID, &g.BotID, &g.ConversationID, &g.MessageID, &g.Question, &g.Language, &g.Reason, &g.Grounded, &g.At); err != nil {
			return nil, wrapErr(err, "list gaps")
		}
		g.At = g.At.UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list gaps")
	}
	return out, nil
}
