package handoff

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// MaxNote is the longest internal note or agent reply, in characters.
const MaxNote = 10000

// EventNote is the event an internal note records; EventTransfer the one a
// transfer records (with its note).
const (
	EventNote     = "note"
	EventTransfer = "transfer"
)

// snoozeTimer is the payload of a snooze wake-up.
type snoozeTimer struct {
	ConversationID int64     `json:"conversation_id"`
	Until          time.Time `json:"until"`
}

// claimed turns a refused assignment into the answer an agent reads.
func claimed(err error, id int64, what string) error {
	r, ok := baton.AsAssignRefused(err)
	if !ok {
		return err
	}
	switch r.Reason {
	case baton.AssignTaken:
		if r.Owner == r.AgentID {
			return baton.Errorf(baton.EINVALID, "%s conversation %d: it is %s's already", what, id, r.Owner)
		}
		return &baton.Error{Code: baton.ECONFLICT, Message: fmt.Sprintf("%s conversation %d: %s has it", what, id, r.Owner), Err: r}
	case baton.AssignMoved:
		return &baton.Error{Code: baton.EINVALID, Message: fmt.Sprintf("%s conversation %d: it is %s, not waiting for an agent", what, id, r.State), Err: r}
	case baton.AssignUnavailable:
		return &baton.Error{Code: baton.ECONFLICT, Message: fmt.Sprintf("%s conversation %d: %s is %s, not online", what, id, r.AgentID, r.Status), Err: r}
	case baton.AssignFull:
		return &baton.Error{Code: baton.ECONFLICT, Message: fmt.Sprintf("%s conversation %d: %s is at capacity (%d open of %d on %s)",
			what, id, r.AgentID, r.Load, r.Capacity, r.Channel), Err: r}
	}
	return err
}

// Claim implements baton.Desk: an agent takes a waiting conversation,
// atomically; of two at once one wins and the other learns who did
// (ECONFLICT). The admin claims for the agent they name.
func (d *Desk) Claim(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	agent, err := agentOf(by, fmt.Sprintf("claim conversation %d", id))
	if err != nil {
		return nil, err
	}
	c, _, err := d.st.AssignConversation(ctx, id, agent, baton.Assignment{Actor: by.Name(), Reason: "claimed"})
	if err != nil {
		return nil, claimed(err, id, "claim")
	}
	d.observeAssigned(c)
	d.send(ctx, []baton.Notification{{Kind: "claimed", ConversationID: c.ID, QueueID: c.QueueID, AgentID: c.AgentID}})
	return c, nil
}

// Assign implements baton.Desk: the admin or a lead (an agent with the
// lead skill) gives a waiting conversation to an agent, or moves one from
// its owner to another.
func (d *Desk) Assign(ctx context.Context, id int64, agentID string, by baton.Actor) (*baton.Conversation, error) {
	if err := valid(by); err != nil {
		return nil, err
	}
	if agentID == "" {
		return nil, baton.Errorf(baton.EINVALID, "assign conversation %d: name the agent", id)
	}
	if !by.Admin {
		a, err := d.st.GetAgent(ctx, by.AgentID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(a.Skills, LeadSkill) {
			return nil, baton.Errorf(baton.EFORBIDDEN, "assign conversation %d: only the admin or a lead may assign; %s is not a lead", id, by.AgentID)
		}
	}
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		from := conv.Owner()
		c, err := d.handOver(ctx, tx, conv, agentID, by, "assigned by "+by.Name())
		if err != nil {
			return claimed(err, id, "assign")
		}
		if from != "" {
			if err := d.route(ctx, tx, routePayload{Agent: from}); err != nil {
				return err
			}
		}
		fx.tell(baton.Notification{Kind: "assigned", ConversationID: c.ID, QueueID: c.QueueID, AgentID: agentID,
			Text: fmt.Sprintf("Conversation %d is yours (%s).", c.ID, by.Name())})
		out = c
		return nil
	})
	return out, err
}

// handOver gives conv to agent on tx, from its owner or from the queue;
// a snoozed conversation wakes with a fresh next-response clock for its
// new owner.
func (d *Desk) handOver(ctx context.Context, tx baton.Store, conv *baton.Conversation, agent string, by baton.Actor, reason string) (*baton.Conversation, error) {
	a := baton.Assignment{Actor: by.Name(), Reason: reason}
	switch conv.State {
	case baton.StateQueued:
	case baton.StateAssigned, baton.StateSnoozed:
		a.From, a.Owner = []baton.State{conv.State}, conv.Owner()
	default:
		return nil, baton.Errorf(baton.EINVALID, "conversation %d is %s: only a waiting or owned conversation can be given to an agent", conv.ID, conv.State)
	}
	c, _, err := tx.AssignConversation(ctx, conv.ID, agent, a)
	if err != nil {
		return nil, err
	}
	if conv.State == baton.StateSnoozed {
		if _, err := tx.CancelJob(ctx, SnoozeKey(conv.ID)); err != nil {
			return nil, err
		}
		return c, d.arm(ctx, tx, c, armWake)
	}
	return c, nil
}

// Transfer implements baton.Desk: to an agent (online and under capacity;
// they take over the SLA clock as it runs) or to a queue of the
// conversation's bot (its packet moves with it, with the queue's skills,
// and the queue's policy arms the clock). The note is kept as an internal
// note, on the event and in the packet's summary.
func (d *Desk) Transfer(ctx context.Context, id int64, to baton.TransferTo, by baton.Actor) (*baton.Conversation, error) {
	if err := valid(by); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("transfer conversation %d", id)
	switch {
	case (to.Agent == "") == (to.Queue == ""):
		return nil, baton.Errorf(baton.EINVALID, "%s: name either an agent or a queue", what)
	case utf8.RuneCountInString(to.Note) > MaxNote:
		return nil, baton.Errorf(baton.ETOOLARGE, "%s: the note has more than %d characters", what, MaxNote)
	}
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if conv.State == baton.StateQueued && !by.Admin {
			return baton.Errorf(baton.EFORBIDDEN, "%s: it is waiting in %s; claim it first", what, conv.QueueID)
		}
		if err := may(conv, by, "transfer"); err != nil {
			return err
		}
		from := conv.Owner()
		var c *baton.Conversation
		data := map[string]any{"from_agent": from, "from_queue": conv.QueueID, "note": to.Note}
		if to.Agent != "" {
			if to.Agent == from {
				return baton.Errorf(baton.EINVALID, "%s: it is %s's already", what, from)
			}
			if c, err = d.handOver(ctx, tx, conv, to.Agent, by, "transferred to "+to.Agent); err != nil {
				return claimed(err, id, "transfer")
			}
			data["to_agent"] = to.Agent
			fx.tell(baton.Notification{Kind: "transferred", ConversationID: id, QueueID: c.QueueID, AgentID: to.Agent, Text: to.Note})
		} else {
			if c, err = d.toQueue(ctx, tx, conv, to.Queue, by); err != nil {
				return err
			}
			data["to_queue"] = to.Queue
			fx.tell(baton.Notification{Kind: "transferred", ConversationID: id, QueueID: to.Queue, Text: to.Note})
		}
		if err := d.movePacket(ctx, tx, c, d.queueOf(c), transferLine(by, to)); err != nil {
			return err
		}
		if to.Note != "" {
			if _, err := d.note(ctx, tx, c, to.Note, by); err != nil {
				return err
			}
		}
		if err := tx.AppendEvent(ctx, &baton.Event{ConversationID: id, Type: EventTransfer, Actor: by.Name(), Reason: to.Note, Data: data, At: d.now()}); err != nil {
			return err
		}
		if from != "" {
			if err := d.route(ctx, tx, routePayload{Agent: from}); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	return out, err
}

func transferLine(by baton.Actor, to baton.TransferTo) string {
	if to.Note == "" {
		return ""
	}
	dest := to.Queue
	if to.Agent != "" {
		dest = to.Agent
	}
	return fmt.Sprintf("Transfer note (%s → %s): %s", by.Name(), dest, to.Note)
}

// toQueue moves conv into queue on tx and arms it there.
func (d *Desk) toQueue(ctx context.Context, tx baton.Store, conv *baton.Conversation, queue string, by baton.Actor) (*baton.Conversation, error) {
	q, ok := d.queues[queue]
	if !ok || q.BotID != conv.BotID {
		var have []string
		for id, q := range d.queues {
			if q.BotID == conv.BotID {
				have = append(have, id)
			}
		}
		slices.Sort(have)
		return nil, baton.Errorf(baton.EINVALID, "transfer conversation %d: bot %s has no queue %q (it has: %s)", conv.ID, conv.BotID, queue, strings.Join(have, ", "))
	}
	if conv.State == baton.StateQueued && conv.QueueID == queue {
		return nil, baton.Errorf(baton.EINVALID, "transfer conversation %d: it is waiting in %s already", conv.ID, queue)
	}
	if conv.State == baton.StateSnoozed {
		// Snoozed is not a waiting state: it wakes to its owner first.
		woke, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateAssigned, Actor: by.Name(), Reason: "woken to transfer"})
		if err != nil {
			return nil, err
		}
		if _, err := tx.CancelJob(ctx, SnoozeKey(conv.ID)); err != nil {
			return nil, err
		}
		conv = woke
	}
	c, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateQueued, Actor: by.Name(),
		Reason: "transferred to " + queue, QueueID: &queue, AgentID: ptr("")})
	if err != nil {
		return nil, err
	}
	// The packet moves first: routing reads its skills.
	if err := d.movePacket(ctx, tx, c, q, ""); err != nil {
		return nil, err
	}
	return c, d.Queued(ctx, tx, c)
}

// movePacket keeps conv's packet with it into q (its queue and skills) and
// adds line to its summary. A conversation queued without one gets one.
func (d *Desk) movePacket(ctx context.Context, tx baton.Store, conv *baton.Conversation, q baton.Queue, line string) error {
	p, err := tx.GetPacket(ctx, conv.ID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		p = &baton.HandoffPacket{ConversationID: conv.ID, Channel: conv.Channel, Language: conv.Language, Priority: conv.Priority,
			Attributes: conv.Attributes, Customer: baton.CustomerProfile{ID: conv.CustomerID, Address: conv.Address}}
	} else if err != nil {
		return fmt.Errorf("read the packet of conversation %d: %w", conv.ID, err)
	}
	lang := p.Language
	if lang == "" {
		lang = conv.Language
	}
	if p.QueueID != q.ID {
		p.QueueID, p.Skills = q.ID, skillsFor(q, lang)
	}
	p.Priority = conv.Priority
	if line != "" {
		if p.Summary != "" {
			p.Summary += "\n"
		}
		p.Summary += line
	}
	if err := tx.SavePacket(ctx, p); err != nil {
		return fmt.Errorf("save the packet of conversation %d: %w", conv.ID, err)
	}
	d.mu.Lock()
	delete(d.skills, conv.ID)
	d.mu.Unlock()
	return nil
}

// Snooze implements baton.Desk: the owner parks an assigned conversation
// until a time. Its SLA timer stops and nothing is due while it sleeps;
// it wakes to the same agent then, with a fresh next-response clock, or
// earlier when the customer writes.
func (d *Desk) Snooze(ctx context.Context, id int64, until time.Time, by baton.Actor) (*baton.Conversation, error) {
	if !until.After(d.now()) {
		return nil, baton.Errorf(baton.EINVALID, "snooze conversation %d: %s is not in the future", id, until.UTC().Format(time.RFC3339))
	}
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "snooze"); err != nil {
			return err
		}
		c, _, err := tx.TransitionConversation(ctx, id, baton.Transition{To: baton.StateSnoozed, Actor: by.Name(),
			Reason: "snoozed until " + until.UTC().Format(time.RFC3339), SnoozedUntil: &until})
		if err != nil {
			return err
		}
		if c.NextResponseDue != nil {
			c.NextResponseDue = nil
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		if _, err := tx.CancelJob(ctx, SLAKey(id)); err != nil {
			return err
		}
		if err := schedule(ctx, tx, baton.JobSnooze, SnoozeKey(id), snoozeTimer{ConversationID: id, Until: until.UTC()}, until); err != nil {
			return err
		}
		fx.tell(baton.Notification{Kind: "snoozed", ConversationID: id, QueueID: c.QueueID, AgentID: c.AgentID,
			Text: "until " + until.UTC().Format(time.RFC3339)})
		out = c
		return nil
	})
	return out, err
}

// handleSnooze wakes a snoozed conversation to its agent when its time
// comes, with a fresh next-response clock.
func (d *Desk) handleSnooze(ctx context.Context, j *baton.Job) error {
	var t snoozeTimer
	if err := unmarshal(j, &t); err != nil || t.ConversationID == 0 {
		return baton.Errorf(baton.EINVALID, "snooze job %d: payload has no conversation id", j.ID)
	}
	return d.onTimer(ctx, j, t.ConversationID, func(tx baton.Store, fx *effects, conv *baton.Conversation) error {
		if conv.State != baton.StateSnoozed {
			return nil
		}
		c, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateAssigned, Actor: "system", Reason: "the snooze ended"})
		if err != nil {
			return err
		}
		if err := d.arm(ctx, tx, c, armWake); err != nil {
			return err
		}
		fx.tell(baton.Notification{Kind: "woke", ConversationID: c.ID, QueueID: c.QueueID, AgentID: c.AgentID,
			Text: fmt.Sprintf("Conversation %d is back from snooze.", c.ID)})
		return nil
	})
}

// Wake wakes snoozed conv to its agent on tx because the customer wrote:
// its wake-up timer is cancelled and a fresh clock armed.
func (d *Desk) Wake(ctx context.Context, tx baton.Store, conv *baton.Conversation, actor string) (*baton.Conversation, error) {
	c, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateAssigned, Actor: actor, Reason: "customer wrote while snoozed"})
	if err != nil {
		return nil, err
	}
	if _, err := tx.CancelJob(ctx, SnoozeKey(conv.ID)); err != nil {
		return nil, err
	}
	return c, d.arm(ctx, tx, c, armWake)
}

// close moves conv to a final or bot state on tx: its timers are
// cancelled, and its owner's freed room goes to whoever waits.
func (d *Desk) close(ctx context.Context, tx baton.Store, conv *baton.Conversation, t baton.Transition) (*baton.Conversation, error) {
	owner := conv.Owner()
	c, _, err := tx.TransitionConversation(ctx, conv.ID, t)
	if err != nil {
		return nil, err
	}
	if err := cancelTimers(ctx, tx, conv.ID); err != nil {
		return nil, err
	}
	if owner != "" {
		if err := d.route(ctx, tx, routePayload{Agent: owner}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Resolve implements baton.Desk: the owner (or the admin) closes the
// conversation; the customer is asked for a rating when surveys are on.
func (d *Desk) Resolve(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "resolve"); err != nil {
			return err
		}
		c, err := d.close(ctx, tx, conv, baton.Transition{To: baton.StateResolved, Actor: by.Name(), Reason: "resolved by " + by.Name()})
		if err != nil {
			return err
		}
		if d.survey != nil {
			if err := d.survey.Ask(ctx, tx, c, by.Name()); err != nil {
				return fmt.Errorf("resolve conversation %d: ask for a rating: %w", id, err)
			}
		}
		fx.tell(baton.Notification{Kind: "resolved", ConversationID: id, QueueID: c.QueueID, AgentID: by.AgentID})
		if d.obs != nil && conv.QueuedAt != nil && c.ResolvedAt != nil {
			queue, took := c.QueueID, c.ResolvedAt.Sub(*conv.QueuedAt)
			fx.then(func() { d.obs.Resolved(queue, took) })
		}
		out = c
		return nil
	})
	return out, err
}

// Archive implements baton.Desk: spam or erased, for good.
func (d *Desk) Archive(ctx context.Context, id int64, reason string, by baton.Actor) (*baton.Conversation, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, baton.Errorf(baton.EINVALID, "archive conversation %d: say why", id)
	}
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "archive"); err != nil {
			return err
		}
		out, err = d.close(ctx, tx, conv, baton.Transition{To: baton.StateArchived, Actor: by.Name(), Reason: reason})
		if err == nil {
			fx.tell(baton.Notification{Kind: "archived", ConversationID: id, QueueID: out.QueueID, AgentID: by.AgentID, Text: reason})
		}
		return err
	})
	return out, err
}

// ToBot implements baton.Desk.
func (d *Desk) ToBot(ctx context.Context, id int64, by baton.Actor) (*baton.Conversation, error) {
	var out *baton.Conversation
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "hand back to the bot"); err != nil {
			return err
		}
		out, err = d.close(ctx, tx, conv, baton.Transition{To: baton.StateBot, Actor: by.Name(), Reason: "handed back to the bot", AgentID: ptr("")})
		if err == nil {
			fx.tell(baton.Notification{Kind: "to_bot", ConversationID: id, QueueID: out.QueueID, AgentID: by.AgentID})
		}
		return err
	})
	return out, err
}

// Note implements baton.Desk: an internal note, stored in the transcript
// as DirectionNote (never sent) with a note event.
func (d *Desk) Note(ctx context.Context, id int64, text string, by baton.Actor) (*baton.Message, error) {
	if strings.TrimSpace(text) == "" {
		return nil, baton.Errorf(baton.EINVALID, "note on conversation %d: the note is empty", id)
	}
	if utf8.RuneCountInString(text) > MaxNote {
		return nil, baton.Errorf(baton.ETOOLARGE, "note on conversation %d: more than %d characters", id, MaxNote)
	}
	var out *baton.Message
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := tx.GetConversation(ctx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "note on"); err != nil {
			return err
		}
		out, err = d.note(ctx, tx, conv, text, by)
		return err
	})
	return out, err
}

func (d *Desk) note(ctx context.Context, tx baton.Store, conv *baton.Conversation, text string, by baton.Actor) (*baton.Message, error) {
	m := &baton.Message{ConversationID: conv.ID, BotID: conv.BotID, Channel: conv.Channel, Direction: baton.DirectionNote,
		Author: baton.AuthorAgent, AuthorID: by.AgentID, Type: baton.TypeText, Text: text, Status: baton.StatusReceived}
	if by.AgentID == "" {
		m.Author = baton.AuthorSystem
	}
	if _, err := tx.InsertMessage(ctx, m); err != nil {
		return nil, fmt.Errorf("note on conversation %d: %w", conv.ID, err)
	}
	ev := &baton.Event{ConversationID: conv.ID, Type: EventNote, Actor: by.Name(), Data: map[string]any{"message": m.ID}, At: d.now()}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return nil, err
	}
	return m, nil
}

// Reply implements baton.Desk: the owner's message to the customer, through
// the outbox, within the channel's window: outside it only a template
// goes, and free text is EINVALID naming the templates there are.
func (d *Desk) Reply(ctx context.Context, id int64, r baton.AgentReply, by baton.Actor) (*baton.Message, error) {
	what := fmt.Sprintf("reply to conversation %d", id)
	if r.Template == nil && strings.TrimSpace(r.Text) == "" {
		return nil, baton.Errorf(baton.EINVALID, "%s: nothing to send (no text and no template)", what)
	}
	if utf8.RuneCountInString(r.Text) > MaxNote {
		return nil, baton.Errorf(baton.ETOOLARGE, "%s: more than %d characters", what, MaxNote)
	}
	if t := r.Template; t != nil && (t.Name == "" || t.Language == "") {
		return nil, baton.Errorf(baton.EINVALID, "%s: a template needs a name and a language", what)
	}
	var out *baton.Message
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := may(conv, by, "reply to"); err != nil {
			return err
		}
		if conv.State != baton.StateAssigned && conv.State != baton.StateSnoozed {
			return baton.Errorf(baton.EINVALID, "%s: it is %s; an agent replies to a conversation they own (claim or assign it first)", what, conv.State)
		}
		w := d.windowOf(ctx, conv)
		msg := &baton.Message{Author: baton.AuthorAgent, AuthorID: conv.AgentID, Type: baton.TypeText, Text: r.Text}
		if by.AgentID != "" {
			msg.AuthorID = by.AgentID
		}
		if r.Template != nil {
			if len(w.Templates) > 0 && !slices.ContainsFunc(w.Templates, func(t baton.Template) bool { return t.Name == r.Template.Name }) {
				return baton.Errorf(baton.EINVALID, "%s: template %q is not configured for this channel (configured: %s)", what, r.Template.Name, templateNames(w.Templates))
			}
			baton.SetOutbound(msg, baton.Outbound{Template: r.Template})
		} else if !w.Open {
			if len(w.Templates) == 0 {
				return baton.Errorf(baton.EINVALID, "%s: the %s window is closed (%s) and no template is configured to reopen it", what, conv.Channel, closedSince(w))
			}
			return baton.Errorf(baton.EINVALID, "%s: the %s window is closed (%s): send a template instead: %s", what, conv.Channel, closedSince(w), templateNames(w.Templates))
		}
		if err := baton.EnqueueReply(ctx, tx, conv, msg); err != nil {
			return err
		}
		// The reply answers: the clock stopped.
		if _, err := tx.CancelJob(ctx, SLAKey(id)); err != nil {
			return err
		}
		if d.obs != nil && conv.FirstAgentReplyAt == nil && conv.QueuedAt != nil {
			queue, prio, took := conv.QueueID, conv.Priority, msg.CreatedAt.Sub(*conv.QueuedAt)
			fx.then(func() { d.obs.FirstResponse(queue, prio, took) })
		}
		out = msg
		return nil
	})
	return out, err
}

func closedSince(w baton.Window) string {
	if w.ClosesAt != nil {
		return "since " + w.ClosesAt.UTC().Format(time.RFC3339)
	}
	return "no free text allowed"
}

func templateNames(ts []baton.Template) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name + " (" + t.Language + ")"
	}
	return strings.Join(names, ", ")
}

func (d *Desk) windowOf(ctx context.Context, conv *baton.Conversation) baton.Window {
	if d.window == nil {
		return baton.Window{Open: true}
	}
	return d.window(ctx, conv, d.now())
}

// SetStatus implements baton.Desk: an agent sets their own status, the
// admin anyone's. An agent who comes online is offered what waits for
// them.
func (d *Desk) SetStatus(ctx context.Context, agentID string, s baton.AgentStatus, by baton.Actor) (*baton.Agent, error) {
	if err := valid(by); err != nil {
		return nil, err
	}
	if !by.Admin && by.AgentID != agentID {
		return nil, baton.Errorf(baton.EFORBIDDEN, "set the status of %s: %s may set only their own", agentID, by.AgentID)
	}
	switch s {
	case baton.AgentOnline, baton.AgentAway, baton.AgentOffline:
	default:
		return nil, baton.Errorf(baton.EINVALID, "set the status of %s: %q is not a status (online, away, offline)", agentID, s)
	}
	var out *baton.Agent
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		if _, err := tx.GetAgent(ctx, agentID); err != nil {
			return err
		}
		if err := tx.SetAgentStatus(ctx, agentID, s); err != nil {
			return err
		}
		if s == baton.AgentOnline {
			if err := d.route(ctx, tx, routePayload{Agent: agentID}); err != nil {
				return err
			}
		}
		a, err := tx.GetAgent(ctx, agentID)
		out = a
		return err
	})
	return out, err
}

// View implements baton.Desk: everything about a conversation for whoever
// may see it: the admin, its owner or last agent, and any agent while it
// waits in a queue (to decide to claim it).
func (d *Desk) View(ctx context.Context, id int64, by baton.Actor) (*baton.ConversationView, error) {
	if err := valid(by); err != nil {
		return nil, err
	}
	conv, err := d.st.GetConversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !by.Admin && conv.State != baton.StateQueued && conv.AgentID != by.AgentID {
		return nil, baton.Errorf(baton.EFORBIDDEN, "view conversation %d: it is not %s's", id, by.AgentID)
	}
	v := &baton.ConversationView{Conversation: conv}
	// Decisions, packet and events first: a decision shown always comes
	// with its replies in the transcript read after.
	if v.Decisions, err = d.st.ListDecisions(ctx, id, 0); err != nil {
		return nil, err
	}
	if v.Packet, err = d.st.GetPacket(ctx, id); baton.ErrorCode(err) == baton.ENOTFOUND {
		v.Packet, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v.Events, err = d.st.ListEvents(ctx, id); err != nil {
		return nil, err
	}
	if v.Messages, err = d.st.ListMessages(ctx, id, 0, 0); err != nil {
		return nil, err
	}
	if v.Customer, err = d.st.GetCustomer(ctx, conv.CustomerID); baton.ErrorCode(err) == baton.ENOTFOUND {
		v.Customer, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	v.SLA = slaClock(conv, d.now())
	v.Window = d.windowOf(ctx, conv)
	return v, nil
}

// slaClock is conv's SLA clock at now.
func slaClock(c *baton.Conversation, now time.Time) baton.SLAClock {
	s := baton.SLAClock{FirstResponseDue: c.FirstResponseDue, NextResponseDue: c.NextResponseDue, FirstAgentReplyAt: c.FirstAgentReplyAt,
		QueuedAt: c.QueuedAt, AssignedAt: c.AssignedAt}
	open := c.State == baton.StateQueued || c.State == baton.StateAssigned
	first := c.FirstAgentReplyAt == nil && c.FirstResponseDue != nil && now.After(*c.FirstResponseDue)
	next := c.NextResponseDue != nil && now.After(*c.NextResponseDue)
	s.Breached = open && (first || next)
	return s
}
