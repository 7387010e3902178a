package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const csatCols = `id, conversation_id, resolution, bot_id, queue_id, agent_id, channel, bot_resolved, rating, comment, requested_at, answered_at`

func scanCSAT(row pgx.Row) (*baton.CSAT, error) {
	c := &baton.CSAT{}
	if err := row.Scan(&c.ID, &c.ConversationID, &c.Resolution, &c.BotID, &c.QueueID, &c.AgentID, &c.Channel, &c.BotResolved,
		&c.Rating, &c.Comment, &c.RequestedAt, &c.AnsweredAt); err != nil {
		return nil, err
	}
	c.RequestedAt, c.AnsweredAt = c.RequestedAt.UTC(), utcPtr(c.AnsweredAt)
	return c, nil
}

// RequestCSAT records a survey once per resolution episode: the unique key
// decides, never a prior lookup. The insert selects the conversation and
// skips a duplicate rather than raising, so that neither aborts the
// caller's transaction.
func (s *Store) RequestCSAT(ctx context.Context, c *baton.CSAT) (bool, error) {
	if err := c.ValidateRequest(); err != nil {
		return false, err
	}
	requested := c.RequestedAt
	if requested.IsZero() {
		requested = s.now()
	}
	requested = requested.UTC().Truncate(time.Microsecond)
	what := fmt.Sprintf("request CSAT for conversation %d", c.ConversationID)
	stored, err := scanCSAT(s.q().QueryRow(ctx, `
		INSERT INTO csat (conversation_id, resolution, bot_id, queue_id, agent_id, channel, bot_resolved, requested_at)
		SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM conversations WHERE id = $1
		ON CONFLICT ON CONSTRAINT csat_episode DO NOTHING
		RETURNING `+csatCols,
		c.ConversationID, c.Resolution, c.BotID, c.QueueID, c.AgentID, string(c.Channel), c.BotResolved, requested))
	if err == nil {
		*c = *stored
		return true, nil
	}
	if err != pgx.ErrNoRows {
		return false, wrapErr(err, what)
	}
	// Asked already (ON CONFLICT waited for a concurrent request to
	// commit, so its row is visible now), or no such conversation.
	stored, err = scanCSAT(s.q().QueryRow(ctx, `SELECT `+csatCols+` FROM csat WHERE conversation_id = $1 AND resolution = $2`,
		c.ConversationID, c.Resolution))
	if err == pgx.ErrNoRows {
		return false, baton.Errorf(baton.ENOTFOUND, "request CSAT: conversation %d does not exist", c.ConversationID)
	}
	if err != nil {
		return false, wrapErr(err, what)
	}
	*c = *stored
	return false, nil
}

// csatEpisodeSQL is the survey an answer is for: resolution $2, or the
// conversation's latest survey when $2 is 0.
const csatEpisodeSQL = `conversation_id = $1 AND resolution = CASE WHEN $2::integer = 0
	THEN (SELECT max(resolution) FROM csat WHERE conversation_id = $1) ELSE $2::integer END`

// AnswerCSAT records the first answer to a survey in one conditional
// statement: of two answers at once, the second waits for the first's row
// lock and then finds the survey answered.
func (s *Store) AnswerCSAT(ctx context.Context, a baton.CSATAnswer) (*baton.CSAT, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	at := a.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	what := fmt.Sprintf("answer CSAT for conversation %d", a.ConversationID)
	c, err := scanCSAT(s.q().QueryRow(ctx, `UPDATE csat SET rating = $3, comment = $4, answered_at = $5
		WHERE `+csatEpisodeSQL+` AND answered_at IS NULL RETURNING `+csatCols,
		a.ConversationID, a.Resolution, a.Rating, a.Comment, at))
	if err == nil {
		return c, nil
	}
	if err != pgx.ErrNoRows {
		return nil, wrapErr(err, what)
	}
	stored, err := scanCSAT(s.q().QueryRow(ctx, `SELECT `+csatCols+` FROM csat WHERE `+csatEpisodeSQL, a.ConversationID, a.Resolution))
	if err == pgx.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: no survey for resolution %d", what, a.Resolution)
	}
	if err != nil {
		return nil, wrapErr(err, what)
	}
	return nil, baton.Errorf(baton.ECONFLICT, "%s: resolution %d was answered already (rating %d)", what, stored.Resolution, stored.Rating)
}

// CommentCSAT records the first comment on a rated survey in one
// conditional statement: of two comments at once, the second waits for
// the first's row lock and then finds the comment there. When it changes
// nothing, the stored survey says why.
func (s *Store) CommentCSAT(ctx context.Context, conversationID int64, resolution int, comment string) (*baton.CSAT, error) {
	if err := baton.ValidateComment(conversationID, resolution, comment); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("comment on CSAT for conversation %d", conversationID)
	c, err := scanCSAT(s.q().QueryRow(ctx, `UPDATE csat SET comment = $3
		WHERE `+csatEpisodeSQL+` AND answered_at IS NOT NULL AND comment = '' RETURNING `+csatCols,
		conversationID, resolution, comment))
	if err == nil {
		return c, nil
	}
	if err != pgx.ErrNoRows {
		return nil, wrapErr(err, what)
	}
	stored, err := scanCSAT(s.q().QueryRow(ctx, `SELECT `+csatCols+` FROM csat WHERE `+csatEpisodeSQL, conversationID, resolution))
	if err == pgx.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: no survey for resolution %d", what, resolution)
	}
	if err != nil {
		return nil, wrapErr(err, what)
	}
	if stored.AnsweredAt == nil {
		return nil, baton.Errorf(baton.EINVALID, "%s: resolution %d has no rating yet; a comment follows the rating", what, stored.Resolution)
	}
	return nil, baton.Errorf(baton.ECONFLICT, "%s: resolution %d has its comment already", what, stored.Resolution)
}

// ListCSAT returns the matching surveys by request time.
func (s *Store) ListCSAT(ctx context.Context, f baton.CSATFilter) ([]*baton.CSAT, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ConversationID != 0 {
		add("conversation_id = ?", f.ConversationID)
	}
	for _, eq := range []struct{ col, v string }{{"bot_id", f.BotID}, {"queue_id", f.QueueID}, {"agent_id", f.AgentID}} {
		if eq.v != "" {
			add(eq.col+" = ?", eq.v)
		}
	}
	if !f.Since.IsZero() {
		add("requested_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("requested_at < ?", f.Until.UTC())
	}
	if f.Answered {
		where = append(where, "answered_at IS NOT NULL")
	}
	query := `SELECT ` + csatCols + ` FROM csat`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY requested_at, id`
	if f.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := s.q().Query(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err, "list CSAT")
	}
	defer rows.Close()
	var out []*baton.CSAT
	for rows.Next() {
		c, err := scanCSAT(rows)
		if err != nil {
			return nil, wrapErr(err, "list CSAT")
		}
		out = append(out, c)
	}
	return out, wrapErr(rows.Err(), "list CSAT")
}
