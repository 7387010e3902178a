package web_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// storeDesk is the desk of the agent API's tests: a small baton.Desk over
// the real store, so that the errors the API maps are the store's and the
// state machine's own (a lost claim, a full agent, an illegal move), and
// every call is recorded, so that a test can tell that a bad request
// reached no desk. Routing, SLA timers and the outbox are handoff's and
// are not here.
type storeDesk struct {
	st        baton.Store
	clock     baton.Clock
	queues    map[string]baton.Queue
	templates []baton.Template

	mu    sync.Mutex
	calls []deskCall
}

type deskCall struct {
	Op    string
	ID    int64
	Actor baton.Actor
	Arg   any
}

func (d *storeDesk) record(op string, id int64, by baton.Actor, arg any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, deskCall{Op: op, ID: id, Actor: by, Arg: arg})
}

// Calls returns the calls recorded so far.
func (d *storeDesk) Calls() []deskCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]deskCall(nil), d.calls...)
}

// own reads conversation id and checks that by may act on it: the admin
// on any, an agent on theirs and on nobody's.
func (d *storeDesk) own(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	conv, err := d.st.GetConversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if owner := conv.Owner(); !by.Admin && owner != "" && owner != by.AgentID {
		return nil, baton.Errorf(baton.EFORBIDDEN, "conversation %d is %s's, not %s's", id, owner, by.AgentID)
	}
	return conv, nil
}

func (d *storeDesk) move(ctx context.Context, id int64, by baton.Actor, t baton.Transition) (*baton.Conversation, error) {
	if _, err := d.own(ctx, id, by); err != nil {
		return nil, err
	}
	t.Actor = by.Name()
	conv, _, err := d.st.TransitionConversation(ctx, id, t)
	return conv, err
}

func (d *storeDesk) Queued(context.Context, baton.Store, *baton.Conversation) error { return nil }
func (d *storeDesk) Route(context.Context) (int, error)                             { return 0, nil }

// Claim does not check ownership first: a claim lost to another agent is
// the store's refusal, which says who has it.
func (d *storeDesk) Claim(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	d.record("claim", id, by, nil)
	conv, _, err := d.st.AssignConversation(ctx, id, by.AgentID, baton.Assignment{Actor: by.Name(), Reason: "claimed"})
	return conv, err
}

func (d *storeDesk) Assign(ctx context.Context, id int64, agentID string, by baton.Actor) (*baton.Conversation, error) {
	d.record("assign", id, by, agentID)
	if _, err := d.st.GetAgent(ctx, agentID); err != nil {
		return nil, err
	}
	conv, _, err := d.st.AssignConversation(ctx, id, agentID, baton.Assignment{Actor: by.Name(), Reason: "assigned"})
	return conv, err
}

func (d *storeDesk) Transfer(ctx context.Context, id int64, to baton.TransferTo, by baton.Actor) (*baton.Conversation, error) {
	d.record("transfer", id, by, to)
	conv, err := d.own(ctx, id, by)
	if err != nil {
		return nil, err
	}
	if to.Queue != "" {
		q, ok := d.queues[to.Queue]
		if !ok || q.BotID != conv.BotID {
			return nil, baton.Errorf(baton.ENOTFOUND, "transfer conversation %d: bot %s has no queue %q", id, conv.BotID, to.Queue)
		}
		empty := ""
		return d.move(ctx, id, by, baton.Transition{To: baton.StateQueued, Reason: "transfer", QueueID: &to.Queue, AgentID: &empty})
	}
	moved, _, err := d.st.AssignConversation(ctx, id, to.Agent, baton.Assignment{Actor: by.Name(), Reason: "transfer",
		From: []baton.State{baton.StateAssigned, baton.StateSnoozed}, Owner: conv.Owner()})
	return moved, err
}

func (d *storeDesk) Snooze(ctx context.Context, id int64, until time.Time, by baton.Actor) (*baton.Conversation, error) {
	d.record("snooze", id, by, until)
	return d.move(ctx, id, by, baton.Transition{To: baton.StateSnoozed, SnoozedUntil: &until})
}

func (d *storeDesk) Resolve(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	d.record("resolve", id, by, nil)
	return d.move(ctx, id, by, baton.Transition{To: baton.StateResolved})
}

func (d *storeDesk) Archive(ctx context.Context, id int64, reason string, by baton.Actor) (*baton.Conversation, error) {
	d.record("archive", id, by, reason)
	return d.move(ctx, id, by, baton.Transition{To: baton.StateArchived, Reason: reason})
}

func (d *storeDesk) ToBot(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	d.record("bot", id, by, nil)
	empty := ""
	return d.move(ctx, id, by, baton.Transition{To: baton.StateBot, AgentID: &empty})
}

func (d *storeDesk) Note(ctx context.Context, id int64, text string, by baton.Actor) (*baton.Message, error) {
	d.record("note", id, by, text)
	conv, err := d.own(ctx, id, by)
	if err != nil {
		return nil, err
	}
	m := &baton.Message{ConversationID: id, BotID: conv.BotID, Channel: conv.Channel, Direction: baton.DirectionNote,
		Author: baton.AuthorAgent, AuthorID: by.AgentID, Text: text}
	_, err = d.st.InsertMessage(ctx, m)
	return m, err
}

// window: a WhatsApp conversation's customer wrote more than 24 hours ago
// (or never); every other channel is open.
func (d *storeDesk) window(conv *baton.Conversation) baton.Window {
	if conv.Channel != baton.ChannelWhatsApp {
		return baton.Window{Open: true}
	}
	if conv.LastInboundAt != nil && d.clock.Now().Sub(*conv.LastInboundAt) < 24*time.Hour {
		closes := conv.LastInboundAt.Add(24 * time.Hour)
		return baton.Window{Open: true, ClosesAt: &closes, Templates: d.templates}
	}
	return baton.Window{Templates: d.templates}
}

func (d *storeDesk) Reply(ctx context.Context, id int64, r baton.AgentReply, by baton.Actor) (*baton.Message, error) {
	d.record("reply", id, by, r)
	conv, err := d.own(ctx, id, by)
	if err != nil {
		return nil, err
	}
	w := d.window(conv)
	m := &baton.Message{ConversationID: id, BotID: conv.BotID, Channel: conv.Channel, Direction: baton.DirectionOut,
		Author: baton.AuthorAgent, AuthorID: by.AgentID, Text: r.Text}
	switch {
	case r.Template != nil:
		m.Type, m.Text = baton.TypeTemplate, r.Template.Name
	case !w.Open:
		names := make([]string, 0, len(w.Templates))
		for _, t := range w.Templates {
			names = append(names, fmt.Sprintf("%s (%s)", t.Name, t.Language))
		}
		return nil, baton.Errorf(baton.EINVALID, "reply to conversation %d: WhatsApp's 24-hour window is closed; send a template: %s", id, strings.Join(names, ", "))
	}
	_, err = d.st.InsertMessage(ctx, m)
	return m, err
}

func (d *storeDesk) SetStatus(ctx context.Context, agentID string, s baton.AgentStatus, by baton.Actor) (*baton.Agent, error) {
	d.record("status", 0, by, s)
	if !by.Admin && by.AgentID != agentID {
		return nil, baton.Errorf(baton.EFORBIDDEN, "agent %s may not set %s's status", by.AgentID, agentID)
	}
	if err := d.st.SetAgentStatus(ctx, agentID, s); err != nil {
		return nil, err
	}
	return d.st.GetAgent(ctx, agentID)
}

func (d *storeDesk) View(ctx context.Context, id int64, by baton.Actor) (*baton.ConversationView, error) {
	d.record("view", id, by, nil)
	conv, err := d.own(ctx, id, by)
	if err != nil {
		return nil, err
	}
	v := &baton.ConversationView{Conversation: conv, Window: d.window(conv)}
	if v.Customer, err = d.st.GetCustomer(ctx, conv.CustomerID); err != nil {
		return nil, err
	}
	if v.Messages, err = d.st.ListMessages(ctx, id, 0, 0); err != nil {
		return nil, err
	}
	if v.Events, err = d.st.ListEvents(ctx, id); err != nil {
		return nil, err
	}
	if v.Decisions, err = d.st.ListDecisions(ctx, id, 0); err != nil {
		return nil, err
	}
	if v.Packet, err = d.st.GetPacket(ctx, id); err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
		return nil, err
	}
	v.SLA = baton.SLAClock{FirstResponseDue: conv.FirstResponseDue, NextResponseDue: conv.NextResponseDue,
		FirstAgentReplyAt: conv.FirstAgentReplyAt, QueuedAt: conv.QueuedAt, AssignedAt: conv.AssignedAt}
	return v, nil
}

// DraftArticle stores the draft as given, with the store's own checks:
// what it tests is the API around the desk, whose rules are handoff's.
func (d *storeDesk) DraftArticle(ctx context.Context, id int64, in baton.KBDraft, by baton.Actor) (*baton.Article, error) {
	d.record("kb_draft", id, by, in)
	conv, err := d.own(ctx, id, by)
	if err != nil {
		return nil, err
	}
	if in.Slug == "" || strings.ContainsAny(in.Slug, " /") {
		return nil, baton.Errorf(baton.EINVALID, "save a KB draft from conversation %d: bad slug %q", id, in.Slug)
	}
	a := &baton.Article{BotID: conv.BotID, Slug: in.Slug, Title: in.Title, Body: in.Body, Language: in.Language,
		Status: baton.ArticleDraft, Author: by.Name(), Hash: in.Slug + in.Body}
	return a, d.st.CreateArticleVersion(ctx, a)
}

func (d *storeDesk) KBDraftFor(ctx context.Context, id int64, by baton.Actor) (baton.KBDraft, error) {
	d.record("kb_draft_for", id, by, nil)
	if _, err := d.own(ctx, id, by); err != nil {
		return baton.KBDraft{}, err
	}
	return baton.KBDraft{Title: "Where is my order?", Slug: "where-is-my-order", Body: "It ships today.", Language: "en"}, nil
}
