package handoff_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/storecase"
)

// tz is a Monday morning.
var tz = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const bot = "shop"

// testQueues are the fixture's queues: general raises the priority on a
// breach, billing moves to leads, leads and turkish tell the channel.
func testQueues() map[string]baton.Queue {
	return map[string]baton.Queue{
		"general": {ID: "general", BotID: bot, Skills: []string{"en"}, Priority: baton.PriorityNormal, SlackChannel: "#general",
			SLA: baton.SLAPolicy{
				FirstResponse: map[int]time.Duration{baton.PriorityNormal: time.Hour, baton.PriorityHigh: 30 * time.Minute, baton.PriorityUrgent: 10 * time.Minute},
				NextResponse:  map[int]time.Duration{baton.PriorityNormal: 2 * time.Hour},
				WarnRatio:     0.8, BreachAction: handoff.BreachEscalate}},
		"billing": {ID: "billing", BotID: bot, Skills: []string{"en", "billing"}, Priority: baton.PriorityNormal,
			SLA: baton.SLAPolicy{FirstResponse: map[int]time.Duration{baton.PriorityNormal: time.Hour}, WarnRatio: 0.5,
				BreachAction: handoff.BreachReroute}, Fallback: "leads"},
		"leads": {ID: "leads", BotID: bot, Skills: []string{"en", "lead"}, Priority: baton.PriorityHigh,
			SLA: baton.SLAPolicy{FirstResponse: map[int]time.Duration{baton.PriorityHigh: 30 * time.Minute}, WarnRatio: 0.8,
				BreachAction: handoff.BreachNotify}},
		"turkish": {ID: "turkish", BotID: bot, Skills: []string{"tr"},
			SLA: baton.SLAPolicy{FirstResponse: map[int]time.Duration{baton.PriorityNormal: 4 * time.Hour}, BreachAction: handoff.BreachNotify}},
	}
}

// fixture is a Desk over a real store, its jobs run by the real pool, on
// a clock the test moves.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     baton.Store
	clock  *baton.ManualClock
	desk   *handoff.Desk
	pool   *jobs.Pool
	told   *notices
	window baton.Window
	seq    int
}

type fixtureOption func(*handoff.Config)

func newFixture(t *testing.T, sc storecase.Case, opts ...fixtureOption) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: baton.NewManualClock(tz), told: &notices{}, window: baton.Window{Open: true}}
	f.st = sc.Open(t, f.clock)
	cfg := handoff.Config{Store: f.st, Queues: testQueues(), Bots: map[string]baton.Bot{bot: {ID: bot, ReopenAfter: 72 * time.Hour}},
		Clock: f.clock, Notifier: f.told, Windows: func(context.Context, *baton.Conversation, time.Time) baton.Window { return f.window }}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := handoff.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.desk = d
	f.pool = jobs.New(f.st, jobs.Options{Clock: f.clock, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	for kind, h := range d.Jobs() {
		if err := f.pool.Register(kind, h); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// notices records what the desk told people.
type notices struct {
	mu   sync.Mutex
	sent []baton.Notification
}

func (n *notices) Notify(_ context.Context, x baton.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, x)
	return nil
}

func (n *notices) take() []baton.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.sent
	n.sent = nil
	return out
}

// agent saves an agent of the bot with skills and WhatsApp capacity.
func (f *fixture) agent(id string, status baton.AgentStatus, capacity int, skills ...string) {
	f.t.Helper()
	a := &baton.Agent{ID: id, Name: id, Skills: skills, Status: status, Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: capacity}}
	if err := f.st.UpsertAgent(f.ctx, a); err != nil {
		f.t.Fatal(err)
	}
	if status != "" {
		if err := f.st.SetAgentStatus(f.ctx, id, status); err != nil {
			f.t.Fatal(err)
		}
	}
}

// open opens a bot conversation for a new customer who just wrote.
func (f *fixture) open(lang string) *baton.Conversation {
	f.t.Helper()
	f.seq++
	addr := fmt.Sprintf("+1555000%04d", f.seq)
	cust, err := f.st.UpsertCustomerByIdentity(f.ctx, baton.ChannelIdentity{BotID: bot, Channel: baton.ChannelWhatsApp, Address: addr}, "")
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.clock.Now()
	c := &baton.Conversation{BotID: bot, CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: addr, Language: lang, LastInboundAt: &now}
	if err := f.st.CreateConversation(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.InsertMessage(f.ctx, &baton.Message{ConversationID: c.ID, BotID: bot, Channel: c.Channel, Direction: baton.DirectionIn,
		Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "help", ProviderID: "wamid." + addr}); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// escalate queues a new conversation in queue at prio, with its packet,
// as the bot's escalation does: one transaction, the desk told inside it.
func (f *fixture) escalate(queue, lang string, prio int) int64 {
	f.t.Helper()
	c := f.open(lang)
	f.queue(c.ID, queue, lang, prio)
	return c.ID
}

func (f *fixture) queue(id int64, queue, lang string, prio int) {
	f.t.Helper()
	q := testQueues()[queue]
	skills := append([]string{}, q.Skills...)
	if !slices.Contains(skills, lang) {
		skills = append(skills, lang)
	}
	err := f.st.Tx(f.ctx, func(tx baton.Store) error {
		p := &baton.HandoffPacket{ConversationID: id, Summary: "the customer needs " + queue, Channel: baton.ChannelWhatsApp, Language: lang,
			QueueID: queue, Skills: skills, Priority: prio,
			Reasons: []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Value: 1, Threshold: 1, Fired: true}}}
		if err := tx.SavePacket(f.ctx, p); err != nil {
			return err
		}
		c, _, err := tx.TransitionConversation(f.ctx, id, baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "escalated",
			QueueID: &queue, Priority: &prio})
		if err != nil {
			return err
		}
		return f.desk.Queued(f.ctx, tx, c)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// run runs every due job.
func (f *fixture) run() {
	f.t.Helper()
	if _, err := f.pool.RunDue(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// advance moves the clock and runs what came due.
func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.clock.Advance(d)
	f.run()
}

func (f *fixture) conv(id int64) *baton.Conversation {
	f.t.Helper()
	c, err := f.st.GetConversation(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) events(id int64, typ string) []*baton.Event {
	f.t.Helper()
	evs, err := f.st.ListEvents(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*baton.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// timer is the live job of key, or nil.
func (f *fixture) timer(kind, key string) *baton.Job {
	f.t.Helper()
	for _, st := range []baton.JobStatus{baton.JobPending, baton.JobRunning} {
		js, err := f.st.ListJobs(f.ctx, baton.JobFilter{Kind: kind, Status: st})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, j := range js {
			if j.Key == key {
				return j
			}
		}
	}
	return nil
}

// check fails the test on any violation of the no-orphan invariant.
func (f *fixture) check(step string) {
	f.t.Helper()
	vs, err := handoff.Check(f.ctx, f.st)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(vs) > 0 {
		f.t.Fatalf("%s: %v", step, vs)
	}
}

func agentActor(id string) baton.Actor { return baton.Actor{AgentID: id} }

var admin = baton.Actor{Admin: true}
