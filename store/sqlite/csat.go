package sqlite

import (
	"context"
	"database/sql"

	"github.com/batonhq/baton"
)

const csatCols = `id, conversation_id, resolution, bot_id, queue_id, agent_id, channel, bot_resolved, rating, comment, requested_at, answered_at`

func scanCSAT(r scanner) (*baton.CSAT, error) {
	var (
		c         baton.CSAT
		channel   string
		requested int64
		answered  sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.ConversationID, &c.Resolution, &c.BotID, &c.QueueID, &c.AgentID, &channel, &c.BotResolved,
		&c.Rating, &c.Comment, &requested, &answered); err != nil {
		return nil, err
	}
	c.Channel, c.RequestedAt, c.AnsweredAt = baton.ChannelKind(channel), fromTS(requested), fromTSPtr(answered)
	return &c, nil
}

// RequestCSAT records a survey once per resolution episode; the unique key
// decides, never a prior lookup.
func (s *Store) RequestCSAT(ctx context.Context, c *baton.CSAT) (bool, error) {
	if err := c.ValidateRequest(); err != nil {
		return false, err
	}
	requested := c.RequestedAt
	if requested.IsZero() {
		requested = s.now()
	}
	var created bool
	err := s.writeOne(ctx, "request CSAT for conversation "+itoa(c.ConversationID), func(q querier) error {
		stored, err := scanCSAT(q.QueryRowContext(ctx, `INSERT INTO csat (conversation_id, resolution, bot_id, queue_id, agent_id, channel,
			bot_resolved, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conversation_id, resolution) DO NOTHING RETURNING `+csatCols,
			c.ConversationID, c.Resolution, c.BotID, c.QueueID, c.AgentID, string(c.Channel), c.BotResolved, ts(requested)))
		switch {
		case err == nil:
			created = true
		case err == sql.ErrNoRows:
			stored, err = scanCSAT(q.QueryRowContext(ctx, `SELECT `+csatCols+` FROM csat WHERE conversation_id = ? AND resolution = ?`,
				c.ConversationID, c.Resolution))
			if err != nil {
				return err
			}
		case baton.ErrorCode(translate(err, "")) == baton.ENOTFOUND:
			return baton.Errorf(baton.ENOTFOUND, "request CSAT: conversation %d does not exist", c.ConversationID)
		default:
			return err
		}
		*c = *stored
		return nil
	})
	return created, err
}

// AnswerCSAT records the first answer to a survey in one conditional
// statement.
func (s *Store) AnswerCSAT(ctx context.Context, a baton.CSATAnswer) (*baton.CSAT, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	at := a.At
	if at.IsZero() {
		at = s.now()
	}
	var out *baton.CSAT
	what := "answer CSAT for conversation " + itoa(a.ConversationID)
	err := s.writeOne(ctx, what, func(q querier) error {
		episode := `?`
		args := []any{a.Rating, a.Comment, ts(at), a.ConversationID, a.Resolution}
		if a.Resolution == 0 {
			episode = `(SELECT max(resolution) FROM csat WHERE conversation_id = ?)`
			args[4] = a.ConversationID
		}
		c, err := scanCSAT(q.QueryRowContext(ctx, `UPDATE csat SET rating = ?, comment = ?, answered_at = ?
			WHERE conversation_id = ? AND resolution = `+episode+` AND answered_at IS NULL RETURNING `+csatCols, args...))
		if err != sql.ErrNoRows {
			out = c
			return err
		}
		stored, err := scanCSAT(q.QueryRowContext(ctx, `SELECT `+csatCols+` FROM csat WHERE conversation_id = ? AND resolution = `+episode,
			a.ConversationID, args[4]))
		if err == sql.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "%s: no survey for resolution %d", what, a.Resolution)
		}
		if err != nil {
			return err
		}
		return baton.Errorf(baton.ECONFLICT, "%s: resolution %d was answered already (rating %d)", what, stored.Resolution, stored.Rating)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommentCSAT records the first comment on a rated survey in one
// conditional statement; when it changes nothing, the stored survey says
// why.
func (s *Store) CommentCSAT(ctx context.Context, conversationID int64, resolution int, comment string) (*baton.CSAT, error) {
	if err := baton.ValidateComment(conversationID, resolution, comment); err != nil {
		return nil, err
	}
	var out *baton.CSAT
	what := "comment on CSAT for conversation " + itoa(conversationID)
	err := s.writeOne(ctx, what, func(q querier) error {
		episode, ep := `?`, any(resolution)
		if resolution == 0 {
			episode, ep = `(SELECT max(resolution) FROM csat WHERE conversation_id = ?)`, conversationID
		}
		c, err := scanCSAT(q.QueryRowContext(ctx, `UPDATE csat SET comment = ?
			WHERE conversation_id = ? AND resolution = `+episode+` AND answered_at IS NOT NULL AND comment = '' RETURNING `+csatCols,
			comment, conversationID, ep))
		if err != sql.ErrNoRows {
			out = c
			return err
		}
		stored, err := scanCSAT(q.QueryRowContext(ctx, `SELECT `+csatCols+` FROM csat WHERE conversation_id = ? AND resolution = `+episode,
			conversationID, ep))
		if err == sql.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "%s: no survey for resolution %d", what, resolution)
		}
		if err != nil {
			return err
		}
		return commentRefused(what, stored)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// commentRefused says why a comment on stored was not taken.
func commentRefused(what string, stored *baton.CSAT) error {
	if stored.AnsweredAt == nil {
		return baton.Errorf(baton.EINVALID, "%s: resolution %d has no rating yet; a comment follows the rating", what, stored.Resolution)
	}
	return baton.Errorf(baton.ECONFLICT, "%s: resolution %d has its comment already", what, stored.Resolution)
}

// ListCSAT returns the matching surveys by request time.
func (s *Store) ListCSAT(ctx context.Context, f baton.CSATFilter) ([]*baton.CSAT, error) {
	var (
		where []string
		args  []any
	)
	if f.ConversationID != 0 {
		where, args = append(where, "conversation_id = ?"), append(args, f.ConversationID)
	}
	for _, eq := range []struct{ col, v string }{{"bot_id", f.BotID}, {"queue_id", f.QueueID}, {"agent_id", f.AgentID}} {
		if eq.v != "" {
			where, args = append(where, eq.col+" = ?"), append(args, eq.v)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "requested_at >= ?"), append(args, ts(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "requested_at < ?"), append(args, ts(f.Until))
	}
	if f.Answered {
		where = append(where, "answered_at IS NOT NULL")
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT `+csatCols+` FROM csat`+whereClause(where)+
		` ORDER BY requested_at, id`+limitClause(f.Limit), args...)
	if err != nil {
		return nil, translate(err, "list CSAT")
	}
	defer rows.Close()
	var out []*baton.CSAT
	for rows.Next() {
		c, err := scanCSAT(rows)
		if err != nil {
			return nil, translate(err, "list CSAT")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "list CSAT")
}
