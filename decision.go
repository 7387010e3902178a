package baton

import (
	"context"
	"encoding/json"
	"time"
)

// Decision actions: what the bot did on one turn.
const (
	ActionAnswer   = "answer"   // a grounded answer from the KB, with citations
	ActionAction   = "action"   // an intent's action ran (or asked for a slot)
	ActionClarify  = "clarify"  // one clarifying question
	ActionEscalate = "escalate" // handed to a person
	ActionArchive  = "archive"  // spam: archived, nobody answers
	ActionWait     = "wait"     // a person owns the conversation; the customer was told they are waiting
	ActionNone     = "none"     // nothing to say (a person owns it, or the message asks for nothing)
)

// validActions names the actions in the order EINVALID messages list them.
const validActions = "answer, action, clarify, escalate, archive, wait or none"

// ValidAction reports whether a is one of the Action constants.
func ValidAction(a string) bool {
	switch a {
	case ActionAnswer, ActionAction, ActionClarify, ActionEscalate, ActionArchive, ActionWait, ActionNone:
		return true
	}
	return false
}

// Decision is the record of one bot turn: what the bot read, which
// triggers it evaluated, what it did and how long that took. Agents, KB
// authors and eval runs read it to see why the bot did what it did.
type Decision struct {
	ID             int64
	ConversationID int64
	// MessageID is the customer message the turn answered: the newest of a
	// burst answered together.
	MessageID int64
	Action    string
	Analysis  *DecisionAnalysis // nil when the bot did not analyse (a person owns it)
	Citations []Citation
	Triggers  []TriggerResult
	Took      time.Duration // kept to the microsecond
	// Detail says more about the action in a few words: the action's name,
	// the slot asked for, "assumed resolved", the queue escalated to.
	Detail string
	// State is the bot's memory of the conversation after this turn (the
	// question it asked, the slots it gathered): the next turn starts from
	// the last decision's state.
	State     json.RawMessage
	CreatedAt time.Time
}

// Validate reports what makes d unfit to store, with code EINVALID: a
// missing or unknown action, a negative duration, a state that is not JSON.
// Both stores call it, so that they refuse the same decisions.
func (d *Decision) Validate() error {
	switch {
	case d.Action == "":
		return Errorf(EINVALID, "decision on conversation %d: action is required; use %s", d.ConversationID, validActions)
	case !ValidAction(d.Action):
		return Errorf(EINVALID, "decision on conversation %d: unknown action %q; use %s", d.ConversationID, d.Action, validActions)
	case d.Took < 0:
		return Errorf(EINVALID, "decision on conversation %d: took %v; a duration cannot be negative", d.ConversationID, d.Took)
	case len(d.State) > 0 && !json.Valid(d.State):
		return Errorf(EINVALID, "decision on conversation %d: state is not valid JSON", d.ConversationID)
	}
	return nil
}

// DecisionAnalysis is the part of a message's analysis a decision keeps.
type DecisionAnalysis struct {
	Language         string  `json:"language"`
	Intent           string  `json:"intent"`
	IntentConfidence float64 `json:"intent_confidence"`
	OutOfScope       bool    `json:"out_of_scope"`
	Sentiment        float64 `json:"sentiment"`
	SentimentTrend   float64 `json:"sentiment_trend"`
	WantsHuman       bool    `json:"wants_human"`
}

// Citation is a KB article an answer rests on.
type Citation struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// DecisionStore keeps the bot's decisions and the handoff packets.
type DecisionStore interface {
	// InsertDecision stores d (CreatedAt zero = now) and sets d.ID and
	// d.CreatedAt. An unknown conversation is ENOTFOUND; what
	// Decision.Validate refuses (a missing or unknown action) is EINVALID.
	// Nil and empty slices, a nil and a zero Analysis, come back as they
	// went in; an empty State comes back nil.
	InsertDecision(ctx context.Context, d *Decision) error
	// ListDecisions returns a conversation's decisions, oldest first, the
	// last limit of them (0 for all; negative is EINVALID). An unknown
	// conversation has none.
	ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*Decision, error)
	// SavePacket stores the conversation's handoff packet, replacing the
	// previous one (a transfer updates it), and sets p.CreatedAt (the first
	// save's: p.CreatedAt when set, else now) and p.UpdatedAt (now). An
	// unknown conversation is ENOTFOUND.
	SavePacket(ctx context.Context, p *HandoffPacket) error
	// GetPacket returns the conversation's packet, or ENOTFOUND when it was
	// never escalated.
	GetPacket(ctx context.Context, conversationID int64) (*HandoffPacket, error)
}
