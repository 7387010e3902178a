package baton

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// CSAT is one customer satisfaction survey: asked when a conversation is
// resolved, answered (or not) by the customer. There is at most one per
// resolution episode: a reopened conversation resolved again is asked
// again.
type CSAT struct {
	ID             int64
	ConversationID int64
	// Resolution is the episode: the conversation's Resolutions count
	// when it was resolved (1 for the first time).
	Resolution int
	BotID      string
	QueueID    string // "" when the bot resolved it without a queue
	AgentID    string // the agent who resolved it; "" when the bot did
	Channel    ChannelKind
	// BotResolved says no person took part: the bot's own success rate.
	BotResolved bool
	Rating      int    // 1 (bad) to 5 (good); 0 until answered
	Comment     string // optional, at most MaxCSATComment characters
	RequestedAt time.Time
	AnsweredAt  *time.Time
}

// CSAT ratings run from MinCSATRating to MaxCSATRating.
const (
	MinCSATRating  = 1
	MaxCSATRating  = 5
	MaxCSATComment = 2000 // characters
)

// CSATAnswer is a customer's answer to a survey.
type CSATAnswer struct {
	ConversationID int64
	Resolution     int // 0 = the conversation's latest survey
	Rating         int
	Comment        string
	At             time.Time // zero = now
}

// Validate reports what makes a unfit to store, with code EINVALID (a
// rating outside 1–5) or ETOOLARGE (a comment over MaxCSATComment).
func (a *CSATAnswer) Validate() error {
	switch {
	case a.Rating < MinCSATRating || a.Rating > MaxCSATRating:
		return Errorf(EINVALID, "CSAT answer for conversation %d: rating %d is not between %d and %d", a.ConversationID, a.Rating, MinCSATRating, MaxCSATRating)
	case a.Resolution < 0:
		return Errorf(EINVALID, "CSAT answer for conversation %d: resolution %d is negative", a.ConversationID, a.Resolution)
	case utf8.RuneCountInString(a.Comment) > MaxCSATComment:
		return Errorf(ETOOLARGE, "CSAT answer for conversation %d: the comment has more than %d characters", a.ConversationID, MaxCSATComment)
	}
	return nil
}

// ValidateComment reports what makes comment unfit to store as the comment
// on episode resolution (0 = the latest) of conversationID: EINVALID for a
// blank comment or a negative episode, ETOOLARGE for one over
// MaxCSATComment characters. Both stores call it from CommentCSAT.
func ValidateComment(conversationID int64, resolution int, comment string) error {
	switch {
	case resolution < 0:
		return Errorf(EINVALID, "CSAT comment for conversation %d: resolution %d is negative", conversationID, resolution)
	case strings.TrimSpace(comment) == "":
		return Errorf(EINVALID, "CSAT comment for conversation %d: the comment is empty", conversationID)
	case utf8.RuneCountInString(comment) > MaxCSATComment:
		return Errorf(ETOOLARGE, "CSAT comment for conversation %d: the comment has more than %d characters", conversationID, MaxCSATComment)
	}
	return nil
}

// ValidateRequest reports what makes c unfit to store as a new survey,
// with code EINVALID. Both stores call it.
func (c *CSAT) ValidateRequest() error {
	switch {
	case c.ConversationID <= 0:
		return Errorf(EINVALID, "CSAT request: conversation id %d is not valid", c.ConversationID)
	case c.Resolution < 1:
		return Errorf(EINVALID, "CSAT request for conversation %d: resolution %d, want 1 or more (the conversation's Resolutions)", c.ConversationID, c.Resolution)
	case c.BotID == "":
		return Errorf(EINVALID, "CSAT request for conversation %d: bot id is required", c.ConversationID)
	case !c.Channel.Valid():
		return Errorf(EINVALID, "CSAT request for conversation %d: unknown channel %q", c.ConversationID, c.Channel)
	case c.Rating != 0 || c.Comment != "" || c.AnsweredAt != nil:
		return Errorf(EINVALID, "CSAT request for conversation %d: a new survey has no answer yet (AnswerCSAT records it)", c.ConversationID)
	}
	return nil
}

// CSATFilter selects surveys for ListCSAT. Empty fields match everything.
type CSATFilter struct {
	ConversationID int64 // 0 = every conversation
	BotID          string
	QueueID        string
	AgentID        string
	Since          time.Time // RequestedAt at or after; zero = no bound
	Until          time.Time // RequestedAt before; zero = no bound
	Answered       bool      // only answered surveys
	Limit          int       // 0 = all
}

// CSATStore keeps satisfaction surveys and their answers.
type CSATStore interface {
	// RequestCSAT records that the customer was asked about episode
	// c.Resolution (at least 1) of c.ConversationID, at c.RequestedAt
	// (zero = now). c.BotID and c.Channel are required; Rating, Comment
	// and AnsweredAt must be empty (EINVALID). When that episode was asked
	// about already nothing is written, c is set to the stored survey and
	// created is false. An unknown conversation is ENOTFOUND.
	RequestCSAT(ctx context.Context, c *CSAT) (created bool, err error)
	// AnswerCSAT records the answer to a survey and returns it. The first
	// answer stands: a survey answered already is ECONFLICT (and keeps its
	// answer), a conversation without such a survey is ENOTFOUND, a bad
	// answer is what CSATAnswer.Validate says.
	AnswerCSAT(ctx context.Context, a CSATAnswer) (*CSAT, error)
	// CommentCSAT records the customer's comment on the survey of episode
	// resolution (0 = the conversation's latest survey) and returns the
	// survey. The survey must have its rating already (a comment comes
	// after it): one without is EINVALID. The first comment stands,
	// whether it came with the rating or after it: a survey with a
	// comment is ECONFLICT and keeps it. A conversation without such a
	// survey is ENOTFOUND; a bad comment is what ValidateComment says.
	// Nothing changes on an error.
	CommentCSAT(ctx context.Context, conversationID int64, resolution int, comment string) (*CSAT, error)
	// ListCSAT returns the matching surveys by RequestedAt, then ID.
	ListCSAT(ctx context.Context, f CSATFilter) ([]*CSAT, error)
}
