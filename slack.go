package baton

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SlackThread is where a conversation lives in a Slack workspace: the
// context card the console posted in its queue's channel and the thread
// under it, in which the customer's messages appear and the agents reply.
// A conversation has at most one per workspace; a thread belongs to one
// conversation.
type SlackThread struct {
	TeamID         string // the workspace (Slack team id)
	ConversationID int64
	ChannelID      string // the channel the card is in
	MessageTS      string // the card's message ts, for chat.update
	// ThreadTS is the ts of the thread's root message, which thread
	// replies carry as thread_ts. The card starts the thread, so "" means
	// MessageTS.
	ThreadTS  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxSlackID is the longest team, channel, ts or event id a store keeps;
// Slack's are a dozen or two characters, so a longer one is not Slack's.
const MaxSlackID = 255

// Root is the ts of the thread's root message: ThreadTS, or MessageTS
// when the card starts the thread.
func (t *SlackThread) Root() string {
	if t.ThreadTS == "" {
		return t.MessageTS
	}
	return t.ThreadTS
}

// Validate reports what makes t unfit to save, with code EINVALID. Both
// stores call it from SaveSlackThread.
func (t *SlackThread) Validate() error {
	if t.ConversationID <= 0 {
		return Errorf(EINVALID, "save Slack thread: conversation id %d is not valid", t.ConversationID)
	}
	what := fmt.Sprintf("save Slack thread of conversation %d", t.ConversationID)
	return ValidateSlackIDs(what, "team id", t.TeamID, "channel id", t.ChannelID, "message ts", t.MessageTS, "thread ts", t.Root())
}

// validSlackID reports an empty, blank-padded or overlong Slack id, which
// would never match what Slack sends.
func validSlackID(what, name, v string) error {
	switch {
	case v == "":
		return Errorf(EINVALID, "%s: %s is required", what, name)
	case strings.TrimSpace(v) != v:
		return Errorf(EINVALID, "%s: %s %q has leading or trailing spaces", what, name, v)
	case len(v) > MaxSlackID:
		return Errorf(EINVALID, "%s: %s is %d bytes long, more than %d", what, name, len(v), MaxSlackID)
	}
	return nil
}

// ValidateSlackIDs checks Slack ids for the stores, with code EINVALID:
// nameAndValue holds pairs of a name (for the message) and a value, every
// value required. what says which operation, for the message.
func ValidateSlackIDs(what string, nameAndValue ...string) error {
	ids := nameAndValue
	for i := 0; i+1 < len(ids); i += 2 {
		if err := validSlackID(what, ids[i], ids[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// SlackStore keeps what the Slack console needs to find its way back:
// which card and thread show which conversation, and which of Slack's
// events were handled already.
type SlackStore interface {
	// SaveSlackThread records t as the card and thread of
	// t.ConversationID in workspace t.TeamID, and sets t to what is stored
	// (ThreadTS defaulted to MessageTS, CreatedAt, UpdatedAt). A
	// conversation has one thread per workspace: saving again for the same
	// pair replaces the channel and the ts (a transferred conversation's
	// card moves to the new queue's channel) and keeps CreatedAt; of
	// concurrent saves one wins whole, and there is never a second row.
	// A thread that belongs to another conversation is ECONFLICT, an
	// unknown conversation ENOTFOUND, a bad thread what Validate says;
	// nothing changes on an error.
	SaveSlackThread(ctx context.Context, t *SlackThread) error
	// GetSlackThread returns the thread of conversationID in workspace
	// teamID, ENOTFOUND when it has none there.
	GetSlackThread(ctx context.Context, teamID string, conversationID int64) (*SlackThread, error)
	// SlackThreadByTS returns the thread whose root is threadTS in
	// channelID of teamID, so that a reply in it reaches its
	// conversation; ENOTFOUND when no conversation has it.
	SlackThreadByTS(ctx context.Context, teamID, channelID, threadTS string) (*SlackThread, error)
	// MarkSlackEvent records that event eventID of workspace teamID is
	// being handled, at at (zero = now). It returns true the first time
	// and false for every later mark of the same event, however many run
	// at once: Slack retries an event it thinks went unanswered, and only
	// the first delivery may act.
	MarkSlackEvent(ctx context.Context, teamID, eventID string, at time.Time) (first bool, err error)
	// PurgeSlackEvents forgets up to limit (at least 1, else EINVALID)
	// events marked before before, oldest first, and returns how many.
	// Slack stops retrying an event within hours, so older marks are
	// history.
	PurgeSlackEvents(ctx context.Context, before time.Time, limit int) (int, error)
}
