package baton

import (
	"context"
	"time"
)

// Actor is who asks the desk to act: an agent with their own token, or the
// operator with the admin token acting for one (AgentID set) or as the
// system (AgentID empty). Agents may act only on conversations that are
// theirs or waiting; the admin may act on any.
type Actor struct {
	AgentID string
	Admin   bool
}

// Name is the actor as events record it: "agent:<id>", "admin:<id>" when the
// admin acts for an agent, "admin" otherwise.
func (a Actor) Name() string {
	switch {
	case a.Admin && a.AgentID != "":
		return "admin:" + a.AgentID
	case a.Admin:
		return "admin"
	}
	return "agent:" + a.AgentID
}

// TransferTo is where a transfer sends a conversation: to an agent (who must
// be online and under capacity) or to a queue (which must exist for the
// conversation's bot). Exactly one of Agent and Queue is set.
type TransferTo struct {
	Agent string
	Queue string
	Note  string // for the next owner, kept as an internal note and on the packet
}

// AgentReply is what an agent sends a customer.
type AgentReply struct {
	Text string
	// Template, when set, sends the provider template instead of text: the
	// only way to reach a WhatsApp customer outside the 24-hour window.
	Template *Template
}

// KBDraft is what an agent saves from a conversation as a draft KB
// article, for the KB's authors to review and publish. Every field may be
// left empty: the desk fills it from the conversation (the agent's last
// reply to the customer, the customer's question it answered, a slug from
// that title, the conversation's language).
type KBDraft struct {
	Title    string `json:"title,omitempty"`
	Slug     string `json:"slug,omitempty"`
	Body     string `json:"body,omitempty"` // Markdown
	Language string `json:"language,omitempty"`
}

// Window is what a conversation's channel allows an agent to send now.
type Window struct {
	Open      bool       // free text is allowed
	ClosesAt  *time.Time // when free text stops being allowed; nil = never
	Templates []Template // what may be sent when it is not open
}

// SLAClock is a conversation's service-level clock, for an agent's view.
type SLAClock struct {
	FirstResponseDue  *time.Time `json:"first_response_due,omitempty"`
	NextResponseDue   *time.Time `json:"next_response_due,omitempty"`
	FirstAgentReplyAt *time.Time `json:"first_agent_reply_at,omitempty"`
	QueuedAt          *time.Time `json:"queued_at,omitempty"`
	AssignedAt        *time.Time `json:"assigned_at,omitempty"`
	Breached          bool       `json:"breached"` // a due time has passed unanswered
}

// ConversationView is everything an agent needs to take a conversation over
// without asking the customer to repeat themselves.
type ConversationView struct {
	Conversation *Conversation
	Customer     *Customer
	Messages     []*Message // the transcript, internal notes included
	Packet       *HandoffPacket
	Decisions    []*Decision
	Events       []*Event
	SLA          SLAClock
	Window       Window
}

// Desk is the human side of escalated conversations: routing, SLA timers
// and every lifecycle action. handoff implements it; the agent API and the
// consoles call it and nothing else. Every action checks the actor's right
// to it (EFORBIDDEN), the conversation and agent ids (ENOTFOUND) and the
// state machine (EINVALID, or ECONFLICT when another actor moved it first:
// a lost claim says who won). A refused action changes nothing.
type Desk interface {
	// Queued is called inside the transaction that moves a conversation
	// into a queue (an escalation, a reopen, a transfer): it arms the
	// conversation's SLA timer and asks for it to be routed, on tx, so
	// that no conversation waits unwatched.
	Queued(ctx context.Context, tx Store, conv *Conversation) error
	// Route offers every waiting conversation to agents with room and
	// returns how many it assigned.
	Route(ctx context.Context) (int, error)

	Claim(ctx context.Context, id int64, by Actor) (*Conversation, error)
	Assign(ctx context.Context, id int64, agentID string, by Actor) (*Conversation, error)
	Transfer(ctx context.Context, id int64, to TransferTo, by Actor) (*Conversation, error)
	Snooze(ctx context.Context, id int64, until time.Time, by Actor) (*Conversation, error)
	Resolve(ctx context.Context, id int64, by Actor) (*Conversation, error)
	Archive(ctx context.Context, id int64, reason string, by Actor) (*Conversation, error)
	// ToBot hands the conversation back to the triage bot.
	ToBot(ctx context.Context, id int64, by Actor) (*Conversation, error)
	// Note adds an internal note that never reaches the customer.
	Note(ctx context.Context, id int64, text string, by Actor) (*Message, error)
	// Reply sends an agent's message to the customer through the outbox,
	// within the channel's window rules: free text outside the window is
	// EINVALID and the error says which templates may be sent.
	Reply(ctx context.Context, id int64, r AgentReply, by Actor) (*Message, error)
	// SetStatus changes an agent's availability; coming online routes
	// waiting conversations to them, going offline or away keeps what
	// they own.
	SetStatus(ctx context.Context, agentID string, s AgentStatus, by Actor) (*Agent, error)
	// DraftArticle saves an agent's answer in the conversation as a new
	// draft version of a KB article of the conversation's bot (never
	// published: a published version of the same slug stays as it is),
	// for its owner or last agent, or the admin.
	DraftArticle(ctx context.Context, id int64, d KBDraft, by Actor) (*Article, error)
	// KBDraftFor is the draft DraftArticle saves when given no field, for
	// a form to show before the agent saves; it changes nothing.
	KBDraftFor(ctx context.Context, id int64, by Actor) (KBDraft, error)
	View(ctx context.Context, id int64, by Actor) (*ConversationView, error)
}
