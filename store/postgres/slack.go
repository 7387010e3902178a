package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const slackThreadCols = `team_id, conversation_id, channel_id, message_ts, thread_ts, created_at, updated_at`

func scanSlackThread(row pgx.Row) (*baton.SlackThread, error) {
	t := &baton.SlackThread{}
	if err := row.Scan(&t.TeamID, &t.ConversationID, &t.ChannelID, &t.MessageTS, &t.ThreadTS, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// SaveSlackThread records the thread in one upsert on the conversation's
// key per workspace: of two saves at once the second waits for the
// first's row and then replaces it, so there is never a second row. The
// insert selects the conversation and skips a thread another conversation
// holds rather than raising, so that neither aborts the caller's
// transaction; only a save racing another conversation's for the same
// thread meets the unique key (ECONFLICT either way).
func (s *Store) SaveSlackThread(ctx context.Context, t *baton.SlackThread) error {
	if err := t.Validate(); err != nil {
		return err
	}
	what := fmt.Sprintf("save Slack thread of conversation %d", t.ConversationID)
	now := s.now()
	stored, err := scanSlackThread(s.q().QueryRow(ctx, `
		INSERT INTO slack_threads AS st (`+slackThreadCols+`)
		SELECT $1, c.id, $3, $4, $5, $6, $6 FROM conversations c
		WHERE c.id = $2 AND NOT EXISTS (SELECT 1 FROM slack_threads o
			WHERE o.team_id = $1 AND o.channel_id = $3 AND o.thread_ts = $5 AND o.conversation_id <> $2)
		ON CONFLICT ON CONSTRAINT slack_threads_conversation DO UPDATE SET channel_id = excluded.channel_id,
			message_ts = excluded.message_ts, thread_ts = excluded.thread_ts, updated_at = excluded.updated_at
		RETURNING `+slackThreadCols,
		t.TeamID, t.ConversationID, t.ChannelID, t.MessageTS, t.Root(), now))
	taken := baton.Errorf(baton.ECONFLICT, "%s: thread %s in channel %s of workspace %s belongs to another conversation",
		what, t.Root(), t.ChannelID, t.TeamID)
	switch {
	case err == nil:
		*t = *stored
		return nil
	case err == pgx.ErrNoRows:
	case baton.ErrorCode(wrapErr(err, what)) == baton.ECONFLICT:
		return taken
	default:
		return wrapErr(err, what)
	}
	var exists bool
	if err := s.q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, t.ConversationID).Scan(&exists); err != nil {
		return wrapErr(err, what)
	}
	if !exists {
		return baton.Errorf(baton.ENOTFOUND, "%s: conversation %d does not exist", what, t.ConversationID)
	}
	return taken
}

// GetSlackThread returns the conversation's thread in the workspace.
func (s *Store) GetSlackThread(ctx context.Context, teamID string, conversationID int64) (*baton.SlackThread, error) {
	what := fmt.Sprintf("get Slack thread of conversation %d", conversationID)
	if err := baton.ValidateSlackIDs(what, "team id", teamID); err != nil {
		return nil, err
	}
	t, err := scanSlackThread(s.q().QueryRow(ctx, `SELECT `+slackThreadCols+` FROM slack_threads
		WHERE team_id = $1 AND conversation_id = $2`, teamID, conversationID))
	if err == pgx.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: it has no thread in workspace %s", what, teamID)
	}
	return t, wrapErr(err, what)
}

// SlackThreadByTS finds the conversation a thread shows.
func (s *Store) SlackThreadByTS(ctx context.Context, teamID, channelID, threadTS string) (*baton.SlackThread, error) {
	what := "find Slack thread " + threadTS
	if err := baton.ValidateSlackIDs(what, "team id", teamID, "channel id", channelID, "thread ts", threadTS); err != nil {
		return nil, err
	}
	t, err := scanSlackThread(s.q().QueryRow(ctx, `SELECT `+slackThreadCols+` FROM slack_threads
		WHERE team_id = $1 AND channel_id = $2 AND thread_ts = $3`, teamID, channelID, threadTS))
	if err == pgx.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: no conversation has it in channel %s of workspace %s", what, channelID, teamID)
	}
	return t, wrapErr(err, what)
}

// MarkSlackEvent inserts the event's key: the primary key decides which
// mark is first (a concurrent insert waits for the first to commit and
// then skips), never a prior lookup.
func (s *Store) MarkSlackEvent(ctx context.Context, teamID, eventID string, at time.Time) (bool, error) {
	what := "mark Slack event " + eventID
	if err := baton.ValidateSlackIDs(what, "team id", teamID, "event id", eventID); err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.now()
	}
	tag, err := s.q().Exec(ctx, `INSERT INTO slack_events (team_id, event_id, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT ON CONSTRAINT slack_events_pkey DO NOTHING`, teamID, eventID, at.UTC().Truncate(time.Microsecond))
	if err != nil {
		return false, wrapErr(err, what)
	}
	return tag.RowsAffected() == 1, nil
}

// PurgeSlackEvents deletes the oldest marks before before; rows another
// purge is deleting are skipped, not waited for.
func (s *Store) PurgeSlackEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, baton.Errorf(baton.EINVALID, "purge Slack events: limit %d: want at least 1", limit)
	}
	tag, err := s.q().Exec(ctx, `DELETE FROM slack_events WHERE (team_id, event_id) IN (
		SELECT team_id, event_id FROM slack_events WHERE seen_at < $1 ORDER BY seen_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		before.UTC(), limit)
	if err != nil {
		return 0, wrapErr(err, "purge Slack events")
	}
	return int(tag.RowsAffected()), nil
}
