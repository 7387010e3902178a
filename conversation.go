package baton

import (
	"context"
	"errors"
	"strconv"
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
// queue or agent is recorded. A person may hand a conversation back to the
// bot (queued, assigned or snoozed → bot).
func nextStates(from State) []State {
	switch from {
	case StateBot:
		return []State{StateQueued, StateAssigned, StateResolved, StateArchived}
	case StateQueued:
		return []State{StateQueued, StateAssigned, StateResolved, StateArchived, StateBot}
	case StateAssigned:
		return []State{StateAssigned, StateQueued, StateSnoozed, StateResolved, StateArchived, StateBot}
	case StateSnoozed:
		return []State{StateAssigned, StateResolved, StateArchived, StateBot}
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

	// The SLA clocks. The caller sets the due times (it knows the queue's
	// policy): FirstResponseDue with the escalation (Transition), and
	// NextResponseDue with a transition or StartResponseClock. The store
	// keeps the rest where the event happens: Apply sets QueuedAt,
	// AssignedAt and Resolutions and stops the next-response clock on
	// resolve; storing an agent's reply (Message.IsAgentReply) sets
	// FirstAgentReplyAt and LastAgentReplyAt and stops the next-response
	// clock. Bot and system messages are not responses.
	QueuedAt          *time.Time // when it last entered a queue; a transfer between queues keeps it
	AssignedAt        *time.Time // when its current (or last) agent got it
	FirstResponseDue  *time.Time // the first agent reply is due; kept after it came, for reporting
	NextResponseDue   *time.Time // an agent reply to the customer is due; nil = no clock running
	FirstAgentReplyAt *time.Time
	LastAgentReplyAt  *time.Time
	// Resolutions counts how often it was resolved: a reopened
	// conversation's next resolution is a new episode (a CSAT answer is
	// per episode).
	Resolutions int

	Version   int // optimistic concurrency: bumped on every update
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Owner is the agent who owns c now: its agent while it is assigned or
// snoozed, "" in every other state (a resolved conversation remembers its
// last agent in AgentID without being theirs).
func (c *Conversation) Owner() string {
	if c.State == StateAssigned || c.State == StateSnoozed {
		return c.AgentID
	}
	return ""
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
	// FirstResponseDue and NextResponseDue, when set, set the SLA clocks
	// (an escalation starts the first-response clock, a reopen the
	// next-response one); nil keeps them.
	FirstResponseDue *time.Time
	NextResponseDue  *time.Time
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
	prevOwner := c.Owner()
	c.State = t.To
	if t.QueueID != nil {
		c.QueueID = *t.QueueID
	}
	if t.Priority != nil {
		c.Priority = *t.Priority
	}
	switch t.To {
	case StateQueued, StateBot:
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
		c.Resolutions++
	} else if t.To != StateArchived {
		c.ResolvedAt = nil
	}
	now := at.UTC()
	switch {
	case t.To == StateQueued && ev.From != StateQueued:
		c.QueuedAt = &now
	case t.To == StateAssigned && c.AgentID != prevOwner:
		// A new owner: not a wake from snooze, which keeps its agent.
		c.AssignedAt = &now
	}
	if t.FirstResponseDue != nil {
		d := t.FirstResponseDue.UTC()
		c.FirstResponseDue = &d
	}
	if t.NextResponseDue != nil {
		d := t.NextResponseDue.UTC()
		c.NextResponseDue = &d
	}
	if t.To == StateResolved || t.To == StateArchived || t.To == StateBot {
		// Nobody owes the customer an answer any more.
		c.NextResponseDue = nil
	}
	c.UpdatedAt = now
	return ev, nil
}

// Assignment is a request to give a conversation to an agent; see
// ConversationStore.AssignConversation.
//
// Routing and an agent's claim leave From and Owner empty: only a queued
// conversation is taken. A reopen to the same agent passes
// From: []State{StateResolved}; a transfer from ann passes
// From: []State{StateAssigned, StateSnoozed} and Owner: "ann".
type Assignment struct {
	Actor  string // required: "system", "agent:<id>", ...
	Reason string
	Data   map[string]any // kept on the event, with "agent" (and "from_agent") added
	// From lists the states the conversation may be in; nil means queued
	// only, so that routing never revives a conversation that was resolved
	// since it was read.
	From []State
	// Owner is who must own the conversation now: "" for nobody, an agent
	// id for a transfer away from that agent.
	Owner string
}

// Why an assignment was refused (AssignRefused.Reason).
const (
	AssignTaken       = "taken"       // someone else (Owner) has it, or it is already the agent's
	AssignMoved       = "moved"       // it is not in a state the request allowed
	AssignUnavailable = "unavailable" // the agent is not online
	AssignFull        = "full"        // the agent has no capacity left on the channel kind
)

// AssignRefused is why AssignConversation did not assign: the cause of its
// ECONFLICT error. The loser of a claim race learns who won from Owner.
type AssignRefused struct {
	ConversationID int64
	AgentID        string // the agent the request was for
	Reason         string // AssignTaken, AssignMoved, AssignUnavailable or AssignFull
	State          State  // the conversation's state
	Owner          string // the conversation's owner ("" = nobody)
	Status         AgentStatus
	Channel        ChannelKind
	Load           int // the agent's open conversations on Channel
	Capacity       int // the agent's capacity on Channel
}

func (r *AssignRefused) Error() string {
	prefix := "assign conversation " + strconv.FormatInt(r.ConversationID, 10) + " to " + r.AgentID + ": "
	switch r.Reason {
	case AssignTaken:
		if r.Owner == r.AgentID {
			return prefix + "it is theirs already"
		}
		return prefix + "taken by " + r.Owner
	case AssignMoved:
		return prefix + "it is " + string(r.State) + " now"
	case AssignUnavailable:
		return prefix + "the agent is " + string(r.Status) + ", not online"
	case AssignFull:
		return prefix + "the agent has " + strconv.Itoa(r.Load) + " open of " + strconv.Itoa(r.Capacity) + " on " + string(r.Channel)
	}
	return prefix + r.Reason
}

// Refuse wraps r as the ECONFLICT error AssignConversation returns.
func (r *AssignRefused) Refuse() error {
	return &Error{Code: ECONFLICT, Message: r.Error(), Err: r}
}

// AsAssignRefused returns the *AssignRefused in err's chain.
func AsAssignRefused(err error) (*AssignRefused, bool) {
	var r *AssignRefused
	ok := errors.As(err, &r)
	return r, ok
}

// Assign applies a to c for agent, who owns load open conversations on
// c.Channel: the checks of ConversationStore.AssignConversation in one
// place, in its order, for both stores, which call it with the
// conversation, the agent and the load read under their locks. It returns
// the event to append; on error c is untouched.
func (c *Conversation) Assign(agent *Agent, load int, a Assignment, at time.Time) (Event, error) {
	if a.Actor == "" {
		return Event{}, Errorf(EINVALID, "assign conversation %d: an actor is required", c.ID)
	}
	if agent.BotID != "" && agent.BotID != c.BotID {
		return Event{}, Errorf(EINVALID, "assign conversation %d of bot %s: agent %s works for bot %s", c.ID, c.BotID, agent.ID, agent.BotID)
	}
	from := a.From
	if from == nil {
		from = []State{StateQueued}
	}
	for _, s := range from {
		if !CanTransition(s, StateAssigned) {
			return Event{}, Errorf(EINVALID, "assign conversation %d: a conversation cannot be assigned from %q", c.ID, s)
		}
	}
	if !CanTransition(c.State, StateAssigned) {
		return Event{}, Errorf(EINVALID, "conversation %d: cannot go from %s to %s", c.ID, c.State, StateAssigned)
	}
	refuse := func(reason string) (Event, error) {
		r := &AssignRefused{ConversationID: c.ID, AgentID: agent.ID, Reason: reason, State: c.State, Owner: c.Owner(),
			Status: agent.Status, Channel: c.Channel, Load: load, Capacity: agent.Capacity[c.Channel]}
		return Event{}, r.Refuse()
	}
	owner := c.Owner()
	switch {
	case owner != "" && (owner != a.Owner || owner == agent.ID):
		return refuse(AssignTaken)
	case owner != a.Owner:
		return refuse(AssignMoved)
	}
	allowed := false
	for _, s := range from {
		allowed = allowed || s == c.State
	}
	switch {
	case !allowed:
		return refuse(AssignMoved)
	case agent.Status != AgentOnline:
		return refuse(AssignUnavailable)
	case load >= agent.Capacity[c.Channel]:
		return refuse(AssignFull)
	}
	data := make(map[string]any, len(a.Data)+2)
	for k, v := range a.Data {
		data[k] = v
	}
	data["agent"] = agent.ID
	if owner != "" {
		data["from_agent"] = owner
	}
	id := agent.ID
	return c.Apply(Transition{To: StateAssigned, Actor: a.Actor, Reason: a.Reason, Data: data, AgentID: &id}, at)
}

// ConversationFilter selects conversations for listing.
type ConversationFilter struct {
	BotID      string
	CustomerID int64 // 0 = any customer
	States     []State
	QueueID    string
	AgentID    string
	// CreatedFrom and CreatedTo bound CreatedAt to [CreatedFrom,
	// CreatedTo); a zero time leaves that side open.
	CreatedFrom time.Time
	CreatedTo   time.Time
	Limit       int
}

// Validate reports what makes f unfit to list by, with code EINVALID: a
// CreatedTo before CreatedFrom (an empty range is fine). Both stores call
// it.
func (f *ConversationFilter) Validate() error {
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && f.CreatedTo.Before(f.CreatedFrom) {
		return Errorf(EINVALID, "conversation filter: created to %s is before created from %s",
			f.CreatedTo.UTC().Format(time.RFC3339Nano), f.CreatedFrom.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// ConversationStore keeps conversations and their event log.
type ConversationStore interface {
	// CreateConversation stores c (State "" = bot), every field as given,
	// and sets c.ID, c.Version (1), c.CreatedAt and c.UpdatedAt. An unknown customer is
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
	// and CreatedAt never change, nor do the clocks the store keeps
	// (QueuedAt, AssignedAt, FirstAgentReplyAt, LastAgentReplyAt,
	// Resolutions); the due times are saved.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// TransitionConversation applies t through Conversation.Apply and
	// appends the event, atomically. Illegal moves return EINVALID and
	// change nothing. It checks no agent's availability or capacity: give
	// a conversation to an agent with AssignConversation.
	TransitionConversation(ctx context.Context, id int64, t Transition) (*Conversation, *Event, error)
	// AssignConversation gives conversation id to agentID and appends the
	// transition event (Data "agent" is agentID, "from_agent" the previous
	// owner on a transfer), atomically and only when all of this holds at
	// that moment, checked and written under locks so that no concurrent
	// assignment, from this process or another on the same database, can
	// slip in between (never check-then-set):
	//
	//   - the conversation's state is one of a.From (nil = queued), and
	//     its owner (Conversation.Owner) is a.Owner ("" = nobody);
	//   - the agent is online and works for the conversation's bot (or
	//     every bot);
	//   - the agent owns fewer open conversations (assigned or snoozed,
	//     of any bot) on the conversation's channel kind than their
	//     Capacity for it (a kind missing from Capacity is 0: never).
	//
	// A refusal changes nothing and is ECONFLICT with an *AssignRefused
	// in the chain (AsAssignRefused) saying why: Taken names the owner
	// who won (the same agent when it is theirs already), Moved the state
	// it is in instead, Unavailable the agent's status, Full their load
	// and capacity. Unknown conversation or agent ids are ENOTFOUND; an
	// agent of another bot, an empty a.Actor or a move the state machine
	// forbids (from archived, say) is EINVALID.
	//
	// On success the agent's LastAssignedAt is the event's time.
	AssignConversation(ctx context.Context, id int64, agentID string, a Assignment) (*Conversation, *Event, error)
	// StartResponseClock starts the next-response clock of conversation id
	// for a customer message of since: NextResponseDue becomes due, unless
	// a clock is running already (the earliest unanswered message counts)
	// or an agent replied at or after since (the message is answered).
	// It reports whether it started the clock and returns the
	// conversation as stored; the Version is bumped only when it started.
	// A due before since is EINVALID; an unknown id ENOTFOUND.
	StartResponseClock(ctx context.Context, id int64, since, due time.Time) (*Conversation, bool, error)
	// ListConversations returns the matching conversations by id, the
	// first f.Limit of them (0 for all); a bad filter is what
	// ConversationFilter.Validate says.
	ListConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// AppendEvent stores e (At zero = now) and sets e.ID; e.Type is
	// required.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns a conversation's events in the order they were
	// appended.
	ListEvents(ctx context.Context, conversationID int64) ([]*Event, error)
	// ListEventsFor returns the events of every conversation in ids, in
	// one read: by conversation id, then in the order they were appended.
	// Unknown ids and repeats add nothing; no ids is no events.
	ListEventsFor(ctx context.Context, ids []int64) ([]*Event, error)
}
