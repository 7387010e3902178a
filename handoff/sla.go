package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// The two SLA clocks: the first agent reply after an escalation, and the
// next one after a customer's message once an agent has answered.
const (
	ClockFirst = "first_response"
	ClockNext  = "next_response"
)

// The stages of an SLA timer.
const (
	StageWarn   = "warning"
	StageBreach = "breach"
)

// Event types the SLA timers record.
const (
	EventSLAWarning = "sla_warning"
	EventSLABreach  = "sla_breach"
)

// Breach actions (baton.SLAPolicy.BreachAction).
const (
	BreachNotify    = "notify"
	BreachEscalate  = "escalate_priority"
	BreachReroute   = "reroute"
	breachTakenBack = "taken_back"
)

// slaTimer is the payload of an SLA timer: which clock it watches, the
// stage it fires for and the due time it was armed for.
type slaTimer struct {
	ConversationID int64         `json:"conversation_id"`
	Clock          string        `json:"clock"`
	Stage          string        `json:"stage"`
	Due            time.Time     `json:"due"`
	Target         time.Duration `json:"target"`
	Queue          string        `json:"queue"`
	Priority       int           `json:"priority"`
	// Breaches counts the breaches in a row this timer follows: each one
	// doubles the wait before the next, so that a conversation nobody can
	// take is acted on again without flooding the channel.
	Breaches int `json:"breaches,omitempty"`
}

// maxBreachWait caps the wait between repeated breaches.
const maxBreachWait = 24 * time.Hour

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the package's own payload types come here
	}
	return b
}

// clockOf is the clock that runs for conv: the first response until an
// agent answered, the next response after.
func clockOf(conv *baton.Conversation) string {
	if conv.FirstAgentReplyAt == nil {
		return ClockFirst
	}
	return ClockNext
}

// targetOf is q's target for clock at priority. A policy that names none
// for the priority takes the most urgent target it has below it, else the
// least urgent above it; one without next-response targets takes its
// first-response ones; one with neither, def.
func targetOf(q baton.Queue, clock string, priority int, def time.Duration) time.Duration {
	pick := func(m map[int]time.Duration) (time.Duration, bool) {
		if d, ok := m[priority]; ok && d > 0 {
			return d, true
		}
		for p := priority - 1; p >= baton.PriorityLow-1; p-- {
			if d, ok := m[p]; ok && d > 0 {
				return d, true
			}
		}
		for p := priority + 1; p <= baton.PriorityUrgent+1; p++ {
			if d, ok := m[p]; ok && d > 0 {
				return d, true
			}
		}
		return 0, false
	}
	if clock == ClockNext {
		if d, ok := pick(q.SLA.NextResponse); ok {
			return d
		}
	}
	if d, ok := pick(q.SLA.FirstResponse); ok {
		return d
	}
	return def
}

// armMode says where an armed timer's due time comes from.
type armMode int

const (
	// armKeep keeps a due time the conversation already has in the
	// future (a transfer keeps the customer's promise), else starts one.
	armKeep armMode = iota
	// armWake starts the clock afresh and makes it the conversation's
	// next-response due time (a snooze ends).
	armWake
	// armBreach starts the timer afresh after a breach; the
	// conversation's due times stay as they were promised, for reporting.
	armBreach
)

// arm sets conv's running SLA clock, when it has none, and schedules its
// timer on tx: the warning at the policy's share of the target, then the
// breach at the due time. Targets are working time in the queue's hours.
func (d *Desk) arm(ctx context.Context, tx baton.Store, conv *baton.Conversation, mode armMode) error {
	return d.armAfter(ctx, tx, conv, mode, 0)
}

// armAfter is arm after breaches breaches in a row (armBreach).
func (d *Desk) armAfter(ctx context.Context, tx baton.Store, conv *baton.Conversation, mode armMode, breaches int) error {
	now := d.now()
	q := d.queueOf(conv)
	clock := clockOf(conv)
	target := targetOf(q, clock, conv.Priority, d.target)
	field := &conv.FirstResponseDue
	if clock == ClockNext {
		field = &conv.NextResponseDue
	}
	due, fresh := q.Hours.Add(now, target), true
	if mode == armKeep && *field != nil && (*field).After(now) {
		due, fresh = **field, false
	}
	if *field == nil || (mode == armWake && clock == ClockNext) {
		at := due
		*field = &at
		if err := tx.UpdateConversation(ctx, conv); err != nil {
			return fmt.Errorf("set the %s clock of conversation %d: %w", clock, conv.ID, err)
		}
	}
	if mode == armBreach && breaches > 1 {
		wait := target
		for i := 1; i < breaches && wait < maxBreachWait; i++ {
			wait *= 2
		}
		due = q.Hours.Add(now, min(wait, maxBreachWait))
	}
	t := slaTimer{ConversationID: conv.ID, Clock: clock, Stage: StageBreach, Due: due, Target: target, Queue: q.ID, Priority: conv.Priority, Breaches: breaches}
	ratio := q.SLA.WarnRatio
	runAt := due
	if ratio > 0 && ratio < 1 && breaches <= 1 {
		var warn time.Time
		if fresh {
			warn = q.Hours.Add(now, time.Duration(float64(target)*ratio))
		} else {
			warn = due.Add(-time.Duration(float64(target) * (1 - ratio)))
		}
		if warn.After(now) && warn.Before(due) {
			t.Stage, runAt = StageWarn, warn
		}
	}
	return schedule(ctx, tx, baton.JobSLA, SLAKey(conv.ID), t, runAt)
}

// Queued implements baton.Desk: inside the transaction that queued conv, it
// arms the SLA timer (the first response until an agent answered, else the
// next response) and asks for conv to be routed once tx commits; if that
// finds nobody, the sweep keeps offering it while it waits.
func (d *Desk) Queued(ctx context.Context, tx baton.Store, conv *baton.Conversation) error {
	if conv == nil || conv.State != baton.StateQueued {
		state := baton.State("")
		if conv != nil {
			state = conv.State
		}
		return baton.Errorf(baton.EINVALID, "queued: the conversation is %q, not queued", state)
	}
	if err := d.arm(ctx, tx, conv, armKeep); err != nil {
		return err
	}
	return d.route(ctx, tx, routePayload{ConversationID: conv.ID})
}

// CustomerWrote is told, inside the ingestion's transaction, of a customer
// message of at to conv: on a queued or assigned conversation an agent
// already answered, it starts the next-response clock (unless one runs)
// and arms its timer. Before the first agent reply the first-response
// clock, armed at the escalation, is the one that runs.
func (d *Desk) CustomerWrote(ctx context.Context, tx baton.Store, conv *baton.Conversation, at time.Time) error {
	if conv.State != baton.StateQueued && conv.State != baton.StateAssigned {
		return nil
	}
	if conv.FirstAgentReplyAt == nil {
		return nil
	}
	q := d.queueOf(conv)
	target := targetOf(q, ClockNext, conv.Priority, d.target)
	due := q.Hours.Add(at, target)
	c, started, err := tx.StartResponseClock(ctx, conv.ID, at, due)
	if err != nil {
		return fmt.Errorf("start the response clock of conversation %d: %w", conv.ID, err)
	}
	if !started {
		return nil
	}
	return d.arm(ctx, tx, c, armKeep)
}

// satisfied reports whether t's clock stopped: the agent answered.
func satisfied(conv *baton.Conversation, t slaTimer) bool {
	if t.Clock == ClockFirst {
		return conv.FirstAgentReplyAt != nil
	}
	return conv.NextResponseDue == nil
}

// handleSLA runs an SLA timer: it does nothing when the timer was
// superseded (the conversation moved and armed another), the conversation
// is no longer waiting for a person, or the clock stopped; else it warns
// or acts on the breach, and arms what comes next, all in one transaction.
// The timer's key is given up to the next timer in that transaction, so a
// run repeated after a crash finds itself superseded: it acts once.
func (d *Desk) handleSLA(ctx context.Context, j *baton.Job) error {
	var t slaTimer
	if err := unmarshal(j, &t); err != nil || t.ConversationID == 0 {
		return baton.Errorf(baton.EINVALID, "sla job %d: payload has no conversation id", j.ID)
	}
	return d.onTimer(ctx, j, t.ConversationID, func(tx baton.Store, fx *effects, conv *baton.Conversation) error {
		if conv.State != baton.StateQueued && conv.State != baton.StateAssigned {
			return nil
		}
		if satisfied(conv, t) {
			if conv.State == baton.StateQueued {
				// A queued conversation is always watched.
				return d.arm(ctx, tx, conv, armKeep)
			}
			return nil
		}
		if t.Stage == StageWarn {
			return d.warn(ctx, tx, fx, conv, t)
		}
		return d.breach(ctx, tx, fx, conv, t)
	})
}

// onTimer runs fn on timer j's conversation id, read and held in a
// transaction, unless j was superseded; what it returns is the timer's
// verdict (a stale timer or a vanished conversation is done).
func (d *Desk) onTimer(ctx context.Context, j *baton.Job, id int64, fn func(tx baton.Store, fx *effects, conv *baton.Conversation) error) error {
	err := d.tx(ctx, func(tx baton.Store, fx *effects) error {
		if err := current(ctx, tx, j); err != nil {
			return err
		}
		conv, err := d.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		return fn(tx, fx, conv)
	})
	return jobResult(err)
}

// current fails with errStale when j no longer holds its key: a newer timer
// took it (the conversation moved), or this run repeats one that committed.
func current(ctx context.Context, tx baton.Store, j *baton.Job) error {
	cur, err := tx.GetJob(ctx, j.ID)
	if err != nil {
		return err
	}
	if cur.Key != j.Key || j.Key == "" {
		return errStale
	}
	return nil
}

func slaData(conv *baton.Conversation, t slaTimer) map[string]any {
	return map[string]any{"clock": t.Clock, "due": t.Due.UTC().Format(time.RFC3339), "target": t.Target.String(),
		"queue": conv.QueueID, "priority": conv.Priority, "agent": conv.Owner()}
}

// warn records the warning, tells the assignee and then the queue's
// channel, and arms the breach at the due time.
func (d *Desk) warn(ctx context.Context, tx baton.Store, fx *effects, conv *baton.Conversation, t slaTimer) error {
	ev := &baton.Event{ConversationID: conv.ID, Type: EventSLAWarning, Actor: "system", At: d.now(),
		Reason: fmt.Sprintf("%s due at %s", t.Clock, t.Due.UTC().Format(time.RFC3339)), Data: slaData(conv, t)}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	text := fmt.Sprintf("Conversation %d: the %s is due at %s.", conv.ID, clockText(t.Clock), t.Due.UTC().Format(time.RFC3339))
	if owner := conv.Owner(); owner != "" {
		fx.tell(baton.Notification{Kind: EventSLAWarning, ConversationID: conv.ID, QueueID: conv.QueueID, AgentID: owner, Text: text})
	}
	fx.tell(baton.Notification{Kind: EventSLAWarning, ConversationID: conv.ID, QueueID: conv.QueueID, Text: text})
	t.Stage = StageBreach
	return schedule(ctx, tx, baton.JobSLA, SLAKey(conv.ID), t, t.Due)
}

func clockText(clock string) string {
	if clock == ClockFirst {
		return "first response"
	}
	return "next response"
}

// breach records the breach and acts: the queue's breach action (raise the
// priority, move to the fallback queue, tell the channel), then, from an
// assignee who did not answer, the conversation goes to the next eligible
// agent with room, or back to the queue. The timer is armed afresh.
func (d *Desk) breach(ctx context.Context, tx baton.Store, fx *effects, conv *baton.Conversation, t slaTimer) error {
	q := d.queueOf(conv)
	action := q.SLA.BreachAction
	data := slaData(conv, t)
	data["action"] = action
	data["in_a_row"] = t.Breaches + 1
	owner := conv.Owner()
	prio, queueID := conv.Priority, conv.QueueID
	switch action {
	case BreachEscalate:
		if prio < baton.PriorityUrgent {
			prio++
		}
		data["new_priority"] = prio
	case BreachReroute:
		if fb, ok := d.queues[q.Fallback]; ok && fb.ID != conv.QueueID {
			queueID = fb.ID
			data["new_queue"] = queueID
		}
	}
	text := fmt.Sprintf("Conversation %d: the %s was due at %s and nobody answered.", conv.ID, clockText(t.Clock), t.Due.UTC().Format(time.RFC3339))
	if action == BreachNotify || action == "" {
		fx.tell(baton.Notification{Kind: EventSLABreach, ConversationID: conv.ID, QueueID: conv.QueueID, Text: text})
	}
	reason := "SLA breach: " + clockText(t.Clock) + " overdue"
	if prio != conv.Priority || queueID != conv.QueueID {
		moved, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: conv.State, Actor: "system", Reason: reason,
			Priority: &prio, QueueID: &queueID, Data: map[string]any{"action": action}})
		if err != nil {
			return fmt.Errorf("act on the breach of conversation %d: %w", conv.ID, err)
		}
		if queueID != conv.QueueID {
			if err := d.movePacket(ctx, tx, moved, d.queueOf(moved), ""); err != nil {
				return err
			}
		}
		conv = moved
	}
	if owner != "" {
		data["taken_from"] = owner
		next, err := d.reassign(ctx, tx, conv, owner, reason)
		if err != nil {
			return err
		}
		fx.tell(baton.Notification{Kind: EventSLABreach, ConversationID: conv.ID, QueueID: conv.QueueID, AgentID: owner,
			Text: text + " It was taken back from you."})
		if next != nil {
			data["reassigned_to"] = next.AgentID
			fx.tell(baton.Notification{Kind: "assigned", ConversationID: conv.ID, QueueID: next.QueueID, AgentID: next.AgentID,
				Text: fmt.Sprintf("Conversation %d is yours: its %s is overdue.", conv.ID, clockText(t.Clock))})
			conv = next
		} else {
			queued, _, err := tx.TransitionConversation(ctx, conv.ID, baton.Transition{To: baton.StateQueued, Actor: "system",
				Reason: reason + ": back to the queue", AgentID: ptr("")})
			if err != nil {
				return fmt.Errorf("take conversation %d back from %s: %w", conv.ID, owner, err)
			}
			conv = queued
		}
	}
	ev := &baton.Event{ConversationID: conv.ID, Type: EventSLABreach, Actor: "system", At: d.now(), Reason: reason, Data: data}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	if err := d.armAfter(ctx, tx, conv, armBreach, t.Breaches+1); err != nil {
		return err
	}
	if conv.State == baton.StateQueued {
		return d.route(ctx, tx, routePayload{ConversationID: conv.ID, Exclude: owner})
	}
	return nil
}

// reassign gives conv, owned by from, to the best other eligible agent with
// room, on tx. It returns nil when nobody else can take it.
func (d *Desk) reassign(ctx context.Context, tx baton.Store, conv *baton.Conversation, from, reason string) (*baton.Conversation, error) {
	it, err := d.itemOf(ctx, tx, conv)
	if err != nil {
		return nil, err
	}
	loads, err := tx.AgentLoads(ctx, conv.BotID)
	if err != nil {
		return nil, err
	}
	tried := map[string]bool{from: true}
	for range 3 {
		offer, ok := ForItem(it, agentStates(loads, tried))
		if !ok {
			return nil, nil
		}
		c, _, err := tx.AssignConversation(ctx, conv.ID, offer.AgentID, baton.Assignment{Actor: "system", Reason: reason,
			From: []baton.State{baton.StateAssigned}, Owner: from})
		if err == nil {
			return c, nil
		}
		r, refused := baton.AsAssignRefused(err)
		if !refused || r.Reason == baton.AssignTaken || r.Reason == baton.AssignMoved {
			return nil, err
		}
		tried[offer.AgentID] = true
	}
	return nil, nil
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
