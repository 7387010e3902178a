package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
	"github.com/batonhq/baton/store/storecase"
)

// deskConfig is the tests' server with a human side: the test bot speaks
// English and Turkish and escalates to general; general (English) wants a
// first answer within an hour, warns at 80 % and raises the priority on a
// breach; turkish needs the language; ann and bob speak English, emre
// English and Turkish; two conversations of each kind each. An escalation
// needs the queue's skills and the customer's language.
func deskConfig(t testing.TB, graphURL, twilioURL string) *config.Config {
	t.Helper()
	cfg := testConfig(t, graphURL, twilioURL, envOptions{})
	cfg.Bots[0].Languages = []string{"en", "tr"}
	cfg.Bots[0].Escalation.Queue = "general"
	ratio := 0.8
	cfg.Queues = []config.Queue{
		{ID: "general", Bot: botID, Skills: []string{"en"}, Priority: "normal", SLA: config.SLA{
			FirstResponse: map[string]config.Duration{"normal": "1h", "high": "30m"}, WarnRatio: &ratio, BreachAction: "escalate_priority"}},
		{ID: "turkish", Bot: botID, Skills: []string{"tr"}, Priority: "normal", SLA: config.SLA{
			FirstResponse: map[string]config.Duration{"normal": "4h"}, BreachAction: "notify"}},
	}
	two := map[string]int{"whatsapp": 2, "messenger": 2, "sms": 2, "webchat": 2}
	cfg.Agents = []config.Agent{
		{ID: "ann", Name: "Ann", Skills: []string{"en"}, Capacity: two},
		{ID: "bob", Name: "Bob", Skills: []string{"en"}, Capacity: two},
		{ID: "emre", Name: "Emre", Skills: []string{"en", "tr"}, Capacity: two},
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("desk configuration: %v", problems)
	}
	return cfg
}

// newDeskEnv assembles the app with the desk configuration over st on
// clock (a fresh store of sc when st is nil).
func newDeskEnv(t *testing.T, sc storecase.Case, st baton.Store, clock *baton.ManualClock) *env {
	t.Helper()
	if clock == nil {
		clock = baton.NewManualClock(start)
	}
	e := &env{t: t, logs: &lockedBuffer{}, clock: clock}
	if st == nil {
		st = sc.Open(t, clock)
	}
	e.st = st
	e.graph = channeltest.NewProvider(t, graphOK)
	e.twilio = channeltest.NewProvider(t, twilioOK)
	a, err := app.New(context.Background(), deskConfig(t, e.graph.URL, e.twilio.URL), app.Options{
		Store: st, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Clock: clock, Jobs: fastJobs(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.app = a
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return e
}

var adminActor = baton.Actor{Admin: true}

func (e *env) online(agents ...string) {
	e.t.Helper()
	for _, a := range agents {
		if _, err := e.app.Desk().SetStatus(context.Background(), a, baton.AgentOnline, adminActor); err != nil {
			e.t.Fatal(err)
		}
	}
}

// conversationOf is the latest conversation of the customer at address.
func (e *env) conversationOf(address string) *baton.Conversation {
	e.t.Helper()
	var out *baton.Conversation
	for _, c := range e.conversations() {
		if c.Address == address {
			out = c
		}
	}
	if out == nil {
		e.t.Fatalf("no conversation of %s", address)
	}
	return out
}

// TestEscalationIsRoutedByLanguage: a customer who asks for a person is
// escalated by the bot and, in the same run of the jobs, given to the one
// online agent who speaks their language, with the SLA clock running; a
// customer nobody online can serve waits with a live timer.
func TestEscalationIsRoutedByLanguage(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"English", "I want to talk to a human please", "ann"},
		{"Turkish", "Müşteri temsilcisine bağlanmak istiyorum", "emre"},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				e := newDeskEnv(t, sc, nil, nil)
				e.online("ann", "emre")
				e.post("whatsapp", waText("wamid.e1", "16505551234", tc.text, start))
				e.runJobs(func() bool { c := e.conversationOf("16505551234"); return c.State != baton.StateBot })
				e.runJobs(func() bool { return e.conversationOf("16505551234").State == baton.StateAssigned })
				c := e.conversationOf("16505551234")
				if c.AgentID != tc.want || c.FirstResponseDue == nil {
					t.Fatalf("conversation %+v; want assigned to %s with a first-response clock", c, tc.want)
				}
				vs, err := handoff.Check(context.Background(), e.st)
				if err != nil || len(vs) > 0 {
					t.Fatalf("invariant: %v %v", vs, err)
				}
			})
		}
		t.Run(sc.Name+"/nobody online", func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			e.post("whatsapp", waText("wamid.e1", "16505551234", "I want to talk to a human please", start))
			e.runJobs(func() bool { return e.conversationOf("16505551234").State == baton.StateQueued })
			if _, err := e.app.RunJobs(context.Background()); err != nil {
				t.Fatal(err)
			}
			c := e.conversationOf("16505551234")
			if c.State != baton.StateQueued {
				t.Fatalf("state %s", c.State)
			}
			if vs, err := handoff.Check(context.Background(), e.st); err != nil || len(vs) > 0 {
				t.Fatalf("invariant: %v %v", vs, err)
			}
			// Ann comes online: the waiting customer is hers at once.
			e.online("ann")
			if _, err := e.app.RunJobs(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c := e.conversationOf("16505551234"); c.AgentID != "ann" {
				t.Fatalf("after ann came online: %s %q", c.State, c.AgentID)
			}
		})
	}
}

// reopenable opens the store of sc so that it can be opened again on the
// same database, as a restarted or second process does.
func reopenable(t *testing.T, sc storecase.Case) func(clock baton.Clock) baton.Store {
	t.Helper()
	if sc.Name == "postgres" {
		url := pgtest.Schema(t)
		return func(clock baton.Clock) baton.Store {
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	path := filepath.Join(t.TempDir(), "baton.db")
	return func(clock baton.Clock) baton.Store {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestSLATimerSurvivesRestart: an escalation's SLA timer is a durable job:
// after the process that armed it stops, two new processes on the same
// database fire the warning once, at 80 % of the target, and the breach
// once, at the target, raising the priority.
func TestSLATimerSurvivesRestart(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			open := reopenable(t, sc)
			clock := baton.NewManualClock(start)
			first := newDeskEnv(t, sc, open(clock), clock)
			first.post("whatsapp", waText("wamid.r1", "16505551234", "I want to talk to a human please", start))
			first.runJobs(func() bool { return first.conversationOf("16505551234").State == baton.StateQueued })
			id := first.conversationOf("16505551234").ID
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := first.app.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			first.st.Close()

			a, b := newDeskEnv(t, sc, open(clock), clock), newDeskEnv(t, sc, open(clock), clock)
			both := func() {
				var wg sync.WaitGroup
				for _, e := range []*env{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := e.app.RunJobs(context.Background()); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			count := func(typ string) int {
				evs, err := a.st.ListEvents(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, ev := range evs {
					if ev.Type == typ {
						n++
					}
				}
				return n
			}
			clock.Advance(47 * time.Minute)
			both()
			if n := count(handoff.EventSLAWarning); n != 0 {
				t.Fatalf("%d warnings before 80%% of the hour", n)
			}
			clock.Advance(time.Minute)
			both()
			both()
			if n := count(handoff.EventSLAWarning); n != 1 {
				t.Fatalf("%d warnings at 80%% of the hour, want exactly 1", n)
			}
			clock.Advance(12 * time.Minute)
			both()
			both()
			if n := count(handoff.EventSLABreach); n != 1 {
				t.Fatalf("%d breaches at the hour, want exactly 1", n)
			}
			c, err := a.st.GetConversation(context.Background(), id)
			if err != nil || c.Priority != baton.PriorityHigh || c.State != baton.StateQueued {
				t.Fatalf("after the breach %+v %v; want queued at high priority", c, err)
			}
		})
	}
}

// TestTwoInstancesNeverOverAssign: two app instances on one database, each
// with its own store handle (a second pool on PostgreSQL), their job
// workers running (routing, timers), while agents claim, resolve, reply,
// transfer and change status at random through both: no agent ever carries
// more than their capacity and no conversation is ever given to a second
// agent while a first owns it.
func TestTwoInstancesNeverOverAssign(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			open := reopenable(t, sc)
			clock := baton.NewManualClock(start)
			apps := []*env{newDeskEnv(t, sc, open(clock), clock), newDeskEnv(t, sc, open(clock), clock)}
			ctx := context.Background()
			st := apps[0].st
			const convs = 60
			ids := make([]int64, 0, convs)
			for i := range convs {
				ids = append(ids, queueConversation(t, st, apps[i%2].app.Desk(), fmt.Sprintf("+1555100%04d", i)))
			}
			for _, e := range apps {
				if err := e.app.Start(); err != nil {
					t.Fatal(err)
				}
			}
			agents := []string{"ann", "bob", "emre"}
			var (
				stop     atomic.Bool
				done     atomic.Int64 // actions that went through
				wg       sync.WaitGroup
				over     atomic.Value
				monitors sync.WaitGroup
			)
			monitors.Add(1)
			go func() { // capacity, sampled while it all runs
				defer monitors.Done()
				for !stop.Load() {
					loads, err := st.AgentLoads(ctx, "")
					if err == nil {
						for _, l := range loads {
							for k, n := range l.Open {
								if n > l.Capacity[k] {
									over.Store(fmt.Sprintf("%s carries %d on %s, capacity %d", l.ID, n, k, l.Capacity[k]))
								}
							}
						}
					}
					time.Sleep(2 * time.Millisecond)
				}
			}()
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 11))
					for range 80 {
						d := apps[rng.IntN(2)].app.Desk()
						who := agents[rng.IntN(len(agents))]
						// Mostly a conversation the move makes sense for:
						// one waiting to claim, one of who's to work on.
						id := ids[rng.IntN(len(ids))]
						op := rng.IntN(10)
						f := baton.ConversationFilter{States: []baton.State{baton.StateQueued}}
						if op >= 4 && op < 8 {
							f = baton.ConversationFilter{AgentID: who, States: []baton.State{baton.StateAssigned}}
						}
						if cs, err := st.ListConversations(ctx, f); err == nil && len(cs) > 0 && rng.IntN(5) > 0 {
							id = cs[rng.IntN(len(cs))].ID
						}
						var err error
						switch r := op; {
						case r < 4:
							_, err = d.Claim(ctx, id, baton.Actor{AgentID: who})
						case r < 6:
							_, err = d.Resolve(ctx, id, baton.Actor{AgentID: who})
						case r < 7:
							_, err = d.Transfer(ctx, id, baton.TransferTo{Agent: agents[rng.IntN(len(agents))]}, baton.Actor{AgentID: who})
						case r < 8:
							_, err = d.Reply(ctx, id, baton.AgentReply{Text: "on it"}, baton.Actor{AgentID: who})
						default:
							s := []baton.AgentStatus{baton.AgentOnline, baton.AgentOnline, baton.AgentAway}[rng.IntN(3)]
							_, err = d.SetStatus(ctx, who, s, baton.Actor{AgentID: who})
						}
						switch baton.ErrorCode(err) {
						case "":
							done.Add(1)
						case baton.EINVALID, baton.ECONFLICT, baton.EFORBIDDEN:
						default:
							t.Errorf("desk: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			// Let the workers route what the last moves freed.
			time.Sleep(200 * time.Millisecond)
			stop.Store(true)
			monitors.Wait()
			if v := over.Load(); v != nil {
				t.Fatal(v)
			}
			assignments := 0
			for _, id := range ids {
				assignments += assertNeverTwoOwners(t, st, id)
			}
			t.Logf("%d actions went through; %d assignments", done.Load(), assignments)
			if done.Load() < 100 || assignments < convs/2 {
				t.Fatalf("%d actions, %d assignments: the test exercised too little", done.Load(), assignments)
			}
			if vs, err := handoff.Check(ctx, st); err != nil || len(vs) > 0 {
				t.Fatalf("invariant: %v %v", vs, err)
			}
		})
	}
}

// queueConversation opens a conversation for a new customer at address and
// queues it in general as an escalation does, and returns its id.
func queueConversation(t *testing.T, st baton.Store, d baton.Desk, address string) int64 {
	t.Helper()
	ctx := context.Background()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: botID, Channel: baton.ChannelWhatsApp, Address: address}, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &baton.Conversation{BotID: botID, CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: address, Language: "en", LastInboundAt: &now}
	if err := st.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	q, prio := "general", baton.PriorityNormal
	err = st.Tx(ctx, func(tx baton.Store) error {
		if err := tx.SavePacket(ctx, &baton.HandoffPacket{ConversationID: c.ID, Channel: c.Channel, Language: "en", QueueID: q,
			Skills: []string{"en"}, Priority: prio}); err != nil {
			return err
		}
		moved, _, err := tx.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: &q, Priority: &prio})
		if err != nil {
			return err
		}
		return d.Queued(ctx, tx, moved)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// assertNeverTwoOwners replays a conversation's moves: every assignment
// while someone owned it names that owner as the one it was taken from.
func assertNeverTwoOwners(t *testing.T, st baton.Store, id int64) (assignments int) {
	t.Helper()
	evs, err := st.ListEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	owner := ""
	for _, e := range evs {
		if e.Type != "transition" {
			continue
		}
		switch e.To {
		case baton.StateAssigned:
			agent, _ := e.Data["agent"].(string)
			from, _ := e.Data["from_agent"].(string)
			if e.From == baton.StateSnoozed && agent == "" {
				continue // a wake keeps its agent
			}
			if owner != "" && from != owner {
				t.Fatalf("conversation %d: given to %s while %s owned it (event %d)", id, agent, owner, e.ID)
			}
			owner = agent
			assignments++
		case baton.StateSnoozed:
		default:
			owner = ""
		}
	}
	return assignments
}

// TestCustomerMessagesRunTheClock: once the agent answered, the customer's
// next message starts the next-response clock and arms its timer; a
// message to a snoozed conversation wakes it to its agent with a fresh
// clock and cancels the wake-up timer.
func TestCustomerMessagesRunTheClock(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newDeskEnv(t, sc, nil, nil)
			ctx := context.Background()
			e.online("ann")
			const cust = "16505551234"
			e.post("whatsapp", waText("wamid.c1", cust, "I want to talk to a human please", start))
			e.runJobs(func() bool { return e.conversationOf(cust).State == baton.StateAssigned })
			id := e.conversationOf(cust).ID
			ann := baton.Actor{AgentID: "ann"}
			if _, err := e.app.Desk().Reply(ctx, id, baton.AgentReply{Text: "Hi, Ann here. Let me look."}, ann); err != nil {
				t.Fatal(err)
			}
			if c := e.conversationOf(cust); c.FirstAgentReplyAt == nil || c.NextResponseDue != nil {
				t.Fatalf("after the reply: %+v", c)
			}

			e.clock.Advance(10 * time.Minute)
			e.post("whatsapp", waText("wamid.c2", cust, "any news?", e.clock.Now()))
			c := e.conversationOf(cust)
			// general has no next-response target: its first-response one
			// (an hour at normal) stands in.
			if c.NextResponseDue == nil || !c.NextResponseDue.Equal(e.clock.Now().Add(time.Hour)) {
				t.Fatalf("next response due %v; want an hour after the message", c.NextResponseDue)
			}
			if !slaArmed(t, e.st, id) {
				t.Fatal("no SLA timer after the customer's message")
			}

			if _, err := e.app.Desk().Snooze(ctx, id, e.clock.Now().Add(24*time.Hour), ann); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Hour)
			e.post("whatsapp", waText("wamid.c3", cust, "hello??", e.clock.Now()))
			c = e.conversationOf(cust)
			if c.State != baton.StateAssigned || c.AgentID != "ann" || c.NextResponseDue == nil || !c.NextResponseDue.Equal(e.clock.Now().Add(time.Hour)) {
				t.Fatalf("after a message to the snoozed conversation: %+v", c)
			}
			js, err := e.st.ListJobs(ctx, baton.JobFilter{Kind: baton.JobSnooze, Status: baton.JobPending})
			if err != nil || len(js) != 0 {
				t.Fatalf("wake-up timers left: %d (%v)", len(js), err)
			}
			if vs, err := handoff.Check(ctx, e.st); err != nil || len(vs) > 0 {
				t.Fatalf("invariant: %v %v", vs, err)
			}
		})
	}
}

func slaArmed(t *testing.T, st baton.Store, id int64) bool {
	t.Helper()
	js, err := st.ListJobs(context.Background(), baton.JobFilter{Kind: baton.JobSLA, Status: baton.JobPending})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j.Key == handoff.SLAKey(id) {
			return true
		}
	}
	return false
}
