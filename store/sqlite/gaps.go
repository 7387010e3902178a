package sqlite

import (
	"context"
	"time"

	"github.com/batonhq/baton"
)

var _ baton.GapStore = (*Store)(nil)

// RecordGap stores a question the KB did not answer well.
func (s *Store) RecordGap(ctx context.Context, g *baton.Gap) error {
	if err := g.Validate(); err != nil {
		return err
	}
	at := g.At
	if at.IsZero() {
		at = s.now()
	}
	return s.writeOne(ctx, "record gap", func(q querier) error {
		if err := q.QueryRowContext(ctx, `INSERT INTO gaps (bot_id, conversation_id, message_id, question, language, reason, grounded, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.BotID, g.ConversationID, g.MessageID, g.Question, g.Language, g.Reason, g.Grounded, ts(at)).Scan(&g.ID); err != nil {
			return err
		}
		g.At = at.UTC().Truncate(time.Microsecond)
		return nil
	})
}

// ListGaps returns a bot's gaps at or after since, oldest first.
func (s *Store) ListGaps(ctx context.Context, botID string, since time.Time, limit int) ([]*baton.Gap, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT id, bot_id, conversation_id, message_id, question, language, reason, grounded, at
		FROM gaps WHERE bot_id = ? AND at >= ? ORDER BY at, id`+limitClause(limit), botID, ts(since))
	if err != nil {
		return nil, translate(err, "list gaps")
	}
	defer rows.Close()
	var out []*baton.Gap
	for rows.Next() {
		var (
			g  baton.Gap
			at int64
		)
		if err := rows.Scan(&g.ID, &g.BotID, &g.ConversationID, &g.MessageID, &g.Question, &g.Language, &g.Reason, &g.Grounded, &at); err != nil {
			return nil, translate(err, "list gaps")
		}
		g.At = fromTS(at)
		out = append(out, &g)
	}
	return out, translate(rows.Err(), "list gaps")
}
