package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/batonhq/baton"
)

const slackThreadCols = `team_id, conversation_id, channel_id, message_ts, thread_ts, created_at, updated_at`

func scanSlackThread(r scanner) (*baton.SlackThread, error) {
	var (
		t                baton.SlackThread
		created, updated int64
	)
	if err := r.Scan(&t.TeamID, &t.ConversationID, &t.ChannelID, &t.MessageTS, &t.ThreadTS, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromTS(created), fromTS(updated)
	return &t, nil
}

// SaveSlackThread records the thread in one upsert on the conversation's
// key per workspace, so two saves at once leave one row. The root's own
// unique key refuses a thread of another conversation.
func (s *Store) SaveSlackThread(ctx context.Context, t *baton.SlackThread) error {
	if err := t.Validate(); err != nil {
		return err
	}
	now := ts(s.now())
	what := "save Slack thread of conversation " + itoa(t.ConversationID)
	var stored *baton.SlackThread
	err := s.writeOne(ctx, what, func(q querier) error {
		var err error
		stored, err = scanSlackThread(q.QueryRowContext(ctx, `INSERT INTO slack_threads (`+slackThreadCols+`)
			SELECT ?, id, ?, ?, ?, ?, ? FROM conversations WHERE id = ?
			ON CONFLICT (team_id, conversation_id) DO UPDATE SET channel_id = excluded.channel_id,
				message_ts = excluded.message_ts, thread_ts = excluded.thread_ts, updated_at = excluded.updated_at
			RETURNING `+slackThreadCols,
			t.TeamID, t.ChannelID, t.MessageTS, t.Root(), now, now, t.ConversationID))
		switch {
		case err == sql.ErrNoRows:
			return baton.Errorf(baton.ENOTFOUND, "%s: conversation %d does not exist", what, t.ConversationID)
		case baton.ErrorCode(translate(err, what)) == baton.ECONFLICT:
			return baton.Errorf(baton.ECONFLICT, "%s: thread %s in channel %s of workspace %s belongs to another conversation",
				what, t.Root(), t.ChannelID, t.TeamID)
		}
		return err
	})
	if err != nil {
		return err
	}
	*t = *stored
	return nil
}

// GetSlackThread returns the conversation's thread in the workspace.
func (s *Store) GetSlackThread(ctx context.Context, teamID string, conversationID int64) (*baton.SlackThread, error) {
	what := "get Slack thread of conversation " + itoa(conversationID)
	if err := baton.ValidateSlackIDs(what, "team id", teamID); err != nil {
		return nil, err
	}
	t, err := scanSlackThread(s.reader().QueryRowContext(ctx, `SELECT `+slackThreadCols+` FROM slack_threads
		WHERE team_id = ? AND conversation_id = ?`, teamID, conversationID))
	if err == sql.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: it has no thread in workspace %s", what, teamID)
	}
	return t, translate(err, what)
}

// SlackThreadByTS finds the conversation a thread shows.
func (s *Store) SlackThreadByTS(ctx context.Context, teamID, channelID, threadTS string) (*baton.SlackThread, error) {
	what := "find Slack thread " + threadTS
	if err := baton.ValidateSlackIDs(what, "team id", teamID, "channel id", channelID, "thread ts", threadTS); err != nil {
		return nil, err
	}
	t, err := scanSlackThread(s.reader().QueryRowContext(ctx, `SELECT `+slackThreadCols+` FROM slack_threads
		WHERE team_id = ? AND channel_id = ? AND thread_ts = ?`, teamID, channelID, threadTS))
	if err == sql.ErrNoRows {
		return nil, baton.Errorf(baton.ENOTFOUND, "%s: no conversation has it in channel %s of workspace %s", what, channelID, teamID)
	}
	return t, translate(err, what)
}

// MarkSlackEvent inserts the event's key: the primary key decides which
// mark is first, never a prior lookup.
func (s *Store) MarkSlackEvent(ctx context.Context, teamID, eventID string, at time.Time) (bool, error) {
	what := "mark Slack event " + eventID
	if err := baton.ValidateSlackIDs(what, "team id", teamID, "event id", eventID); err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.now()
	}
	var n int64
	err := s.writeOne(ctx, what, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO slack_events (team_id, event_id, seen_at) VALUES (?, ?, ?)
			ON CONFLICT (team_id, event_id) DO NOTHING`, teamID, eventID, ts(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// PurgeSlackEvents deletes the oldest marks before before.
func (s *Store) PurgeSlackEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, baton.Errorf(baton.EINVALID, "purge Slack events: limit %d: want at least 1", limit)
	}
	var n int64
	err := s.writeOne(ctx, "purge Slack events", func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM slack_events WHERE rowid IN (
			SELECT rowid FROM slack_events WHERE seen_at < ? ORDER BY seen_at LIMIT ?)`, ts(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
