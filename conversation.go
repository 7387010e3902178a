package baton

import (
	"context"
	"time"
)

// State is where a conversation is in its life.
type State string

const (
	StateBot      State = "bot"      // the triage bot owns it
	StateQueued   State = "queued"   // escalated, waiting for an agent
	StateAssigned State = "assigned" // an agent owns it
	StateSnoozed  State = "snoozed"  // an agent parked it until a time or a customer reply
	StateResolved State = "resolved" // done; may reopen when the customer writes again
	StateArchived State = "archived" // spam or erased; final
)

// nextStates lists every legal move from a state. Reopening is resolved →
// assigned (the same agent is back) or resolved → queued (they are not).
// Staying in queued or assigned is legal: it is how a transfer to another
// queue or agent is recorded.
func nextStates(from State) []State {
	switch from {
	case StateBot:
		return []State{StateQueued, StateAssigned, StateResolved, StateArchived}
	case StateQueued:
		return []State{StateQueued, StateAssigned, StateResolved, StateArchived}
	case StateAssigned:
		return []State{StateAssigned, StateQueued, StateSnoozed, StateResolved, StateArchived}
	case StateSnoozed:
		return []State{StateAssigned, StateResolved, StateArchived}
	case StateResolved:
		return []State{StateAssigned, StateQueued, StateArchived}
	}
	return nil
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	return s == StateArchived || nextStates(s) != nil
}

// CanTransition reports whether from → to is a legal move.
func CanTransition(from, to State) bool {
	for _, s := range nextStates(from) {
		if s == to {
			return true
		}
	}
	return false
}

// Conversation is one thread with a customer on one channel.
type Conversation struct {
	ID             int64
	BotID          string
	CustomerID     int64
	Channel        ChannelKind
	Address        string // the customer's address on Channel
	State          State
	QueueID        string
	AgentID        string
	Priority       int    // higher is more urgent
	Language       string // ISO 639-1, settled from history so short messages do not flip it
	Attributes     map[string]string
	LastInboundAt  *time.Time // the customer's last message: opens provider messaging windows
	LastOutboundAt *time.Time
	SnoozedUntil   *time.Time
	ResolvedAt     *time.Time
	Version        int // optimistic concurrency: bumped on every update
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Event records one thing that happened to a conversation: who did it, when
// and why. Transitions always append one.
type Event struct {
	ID             int64
	ConversationID int64
	Type           string // "transition", "note", "sla_warning", ...
	From           State
	To             State
	Actor          string // "customer", "bot", "system", "agent:<id>"
	Reason         string
	Data           map[string]any
	At             time.Time
}

// Transition is a request to move a conversation to another state.
type Transition struct {
	To           State
	Actor        string
	Reason       string
	Data         map[string]any
	QueueID      *string // set the queue (escalate, transfer)
	AgentID      *string // set the agent (assign, transfer); "" clears
	Priority     *int
	SnoozedUntil *time.Time // for snoozed
}

// Apply validates t against c and mutates c accordingly, returning the event
// to append. It is the one place the state machine lives; on error c is left
// untouched and the error has code EINVALID.
func (c *Conversation) Apply(t Transition, at time.Time) (Event, error) {
	if !t.To.Valid() {
		return Event{}, Errorf(EINVALID, "conversation %d: unknown state %q", c.ID, t.To)
	}
	if !CanTransition(c.State, t.To) {
		return Event{}, Errorf(EINVALID, "conversation %d: cannot go from %s to %s", c.ID, c.State, t.To)
	}
	if t.Actor == "" {
		return Event{}, Errorf(EINVALID, "conversation %d: transition to %s needs an actor", c.ID, t.To)
	}
	agent := c.AgentID
	if t.AgentID != nil {
		agent = *t.AgentID
	}
	switch t.To {
	case StateAssigned:
		if agent == "" {
			return Event{}, Errorf(EINVALID, "conversation %d: assigning needs an agent", c.ID)
		}
	case StateSnoozed:
		if t.SnoozedUntil == nil || !t.SnoozedUntil.After(at) {
			return Event{}, Errorf(EINVALID, "conversation %d: snoozing needs a time in the future", c.ID)
		}
	}
	ev := Event{
		ConversationID: c.ID,
		Type:           "transition",
		From:           c.State,
		To:             t.To,
		Actor:          t.Actor,
		Reason:         t.Reason,
		Data:           t.Data,
		At:             at.UTC(),
	}
	c.State = t.To
	if t.QueueID != nil {
		c.QueueID = *t.QueueID
	}
	if t.Priority != nil {
		c.Priority = *t.Priority
	}
	switch t.To {
	case StateQueued:
		// Whoever had it no longer does; a reopen keeps nobody either.
		c.AgentID = ""
	case StateAssigned:
		c.AgentID = agent
	}
	if t.To == StateSnoozed {
		u := t.SnoozedUntil.UTC()
		c.SnoozedUntil = &u
	} else {
		c.SnoozedUntil = nil
	}
	if t.To == StateResolved {
		r := at.UTC()
		c.ResolvedAt = &r
	} else if t.To != StateArchived {
		c.ResolvedAt = nil
	}
	c.UpdatedAt = at.UTC()
	return ev, nil
}

// ConversationFilter selects conversations for listing.
type ConversationFilter struct {
	BotID      string
	CustomerID int64 // 0 = any customer
	States     []State
	QueueID    string
	AgentID    string
	Limit      int
}

// ConversationStore keeps conversations and their event log.
type ConversationStore interface {
	// CreateConversation stores c (State "" = bot) and sets c.ID,
	// c.Version (1), c.CreatedAt and c.UpdatedAt. An unknown customer is
	// ENOTFOUND; a missing bot, unknown channel or state is EINVALID.
	CreateConversation(ctx context.Context, c *Conversation) error
	GetConversation(ctx context.Context, id int64) (*Conversation, error)
	// OpenConversation returns the customer's latest conversation on the
	// channel that is not archived (resolved ones included, so that the
	// caller can reopen them), or ENOTFOUND.
	OpenConversation(ctx context.Context, botID string, customerID int64, ch ChannelKind) (*Conversation, error)
	// UpdateConversation saves c when c.Version matches the stored version
	// (ECONFLICT otherwise) and bumps c.Version. It does not change State:
	// state moves only through TransitionConversation, and a c whose State
	// differs from the stored one is EINVALID. BotID, CustomerID, Channel
	// and CreatedAt never change.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// TransitionConversation applies t through Conversation.Apply and
	// appends the event, atomically. Illegal moves return EINVALID and
	// change nothing.
	TransitionConversation(ctx context.Context, id int64, t Transition) (*Conversation, *Event, error)
	// ListConversations returns the matching conversations by id, the
	// first f.Limit of them (0 for all).
	ListConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// AppendEvent stores e (At zero = now) and sets e.ID; e.Type is
	// required.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns a conversation's events in the order they were
	// appended.
	ListEvents(ctx context.Context, conversationID int64) ([]*Event, error)
}
