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
	Took      time.Duration
	// Detail says more about the action in a few words: the action's name,
	// the slot asked for, "assumed resolved", the queue escalated to.
	Detail string
	// State is the bot's memory of the conversation after this turn (the
	// question it asked, the slots it gathered): the next turn starts from
	// the last decision's state.
	State     json.RawMessage
	CreatedAt time.Time
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
	// InsertDecision stores d (CreatedAt zero = now) and sets d.ID. An
	// unknown conversation is ENOTFOUND; a missing action is EINVALID.
	InsertDecision(ctx context.Context, d *Decision) error
	// ListDecisions returns a conversation's decisions, oldest first, the
	// last limit of them (0 for all).
	ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*Decision, error)
	// SavePacket stores the conversation's handoff packet, replacing the
	// previous one (a transfer updates it); an unknown conversation is
	// ENOTFOUND.
	SavePacket(ctx context.Context, p *HandoffPacket) error
	// GetPacket returns the conversation's packet, or ENOTFOUND when it was
	// never escalated.
	GetPacket(ctx context.Context, conversationID int64) (*HandoffPacket, error)
}
