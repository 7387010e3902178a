package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// TestRoutingFromEscalation: an escalation is routed right after it
// commits, by the routing rules, to an agent with room; never beyond
// capacity; a conversation nobody can take waits, watched.
func TestRoutingFromEscalation(t *testing.T) {
	type agentDef struct {
		id       string
		status   baton.AgentStatus
		capacity int
		load     int // conversations already theirs
		skills   []string
	}
	tests := []struct {
		name   string
		agents []agentDef
		queue  string
		lang   string
		want   string // "" = waits in the queue
	}{
		{"the one agent with the language", []agentDef{{"ann", baton.AgentOnline, 3, 0, []string{"en"}}, {"emre", baton.AgentOnline, 3, 0, []string{"tr"}}},
			"turkish", "tr", "emre"},
		{"every skill of the queue", []agentDef{{"ann", baton.AgentOnline, 3, 0, []string{"en"}}, {"bea", baton.AgentOnline, 3, 0, []string{"en", "billing"}}},
			"billing", "en", "bea"},
		{"not an agent who is away", []agentDef{{"ann", baton.AgentAway, 3, 0, []string{"en"}}, {"bea", baton.AgentOnline, 3, 2, []string{"en"}}},
			"general", "en", "bea"},
		{"not an agent at capacity", []agentDef{{"ann", baton.AgentOnline, 1, 1, []string{"en"}}, {"bea", baton.AgentOnline, 5, 3, []string{"en"}}},
			"general", "en", "bea"},
		{"the least loaded by share", []agentDef{{"ann", baton.AgentOnline, 2, 1, []string{"en"}}, {"bea", baton.AgentOnline, 6, 2, []string{"en"}}},
			"general", "en", "bea"},
		{"equal load: the longest since an assignment", []agentDef{{"ann", baton.AgentOnline, 4, 1, []string{"en"}}, {"bea", baton.AgentOnline, 4, 1, []string{"en"}}},
			"general", "en", "ann"},
		{"nobody with room: it waits", []agentDef{{"ann", baton.AgentOnline, 1, 1, []string{"en"}}, {"bea", baton.AgentOffline, 3, 0, []string{"en"}}},
			"general", "en", ""},
		{"nobody with the skill: it waits", []agentDef{{"ann", baton.AgentOnline, 3, 0, []string{"en"}}}, "turkish", "tr", ""},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t, sc)
				for _, a := range tc.agents {
					f.agent(a.id, baton.AgentOnline, a.capacity+a.load, a.skills...)
				}
				// Their loads, assigned in order: ann first, so that bea
				// was assigned last.
				for _, a := range tc.agents {
					for range a.load {
						id := f.escalate("general", "en", baton.PriorityNormal)
						if _, err := f.desk.Assign(f.ctx, id, a.id, admin); err != nil {
							t.Fatal(err)
						}
						f.clock.Advance(time.Second)
					}
				}
				for _, a := range tc.agents {
					f.agent(a.id, a.status, a.capacity, a.skills...)
				}
				id := f.escalate(tc.queue, tc.lang, baton.PriorityNormal)
				f.run()
				c := f.conv(id)
				switch {
				case tc.want == "" && c.State != baton.StateQueued:
					t.Fatalf("state %s, agent %q; want it waiting", c.State, c.AgentID)
				case tc.want != "" && (c.State != baton.StateAssigned || c.AgentID != tc.want):
					t.Fatalf("state %s, agent %q; want assigned to %s", c.State, c.AgentID, tc.want)
				}
				f.check("after routing")
				loads, err := f.st.AgentLoads(f.ctx, bot)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range loads {
					if l.Open[baton.ChannelWhatsApp] > l.Capacity[baton.ChannelWhatsApp] && l.ID != "ann" && l.ID != "bea" {
						t.Errorf("%s carries %d of %d", l.ID, l.Open[baton.ChannelWhatsApp], l.Capacity[baton.ChannelWhatsApp])
					}
				}
			})
		}
	}
}

// TestRoutingServesPriorityThenWaitingTime: an agent who comes online takes
// the most urgent conversation, then the one waiting longest; the sweep
// assigns what a busy agent's freed room allows.
func TestRoutingServesPriorityThenWaitingTime(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOffline, 2, "en")
			older := f.escalate("general", "en", baton.PriorityNormal)
			f.clock.Advance(time.Minute)
			newer := f.escalate("general", "en", baton.PriorityNormal)
			urgent := f.escalate("general", "en", baton.PriorityUrgent)
			f.run()
			if _, err := f.desk.SetStatus(f.ctx, "ann", baton.AgentOnline, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			f.run()
			got := map[int64]baton.State{}
			for _, id := range []int64{older, newer, urgent} {
				got[id] = f.conv(id).State
			}
			if got[urgent] != baton.StateAssigned || got[older] != baton.StateAssigned || got[newer] != baton.StateQueued {
				t.Fatalf("states %v; want urgent and older assigned, newer waiting", got)
			}
			// Resolving one frees room: the waiting one is routed at once.
			if _, err := f.desk.Resolve(f.ctx, urgent, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			f.run()
			if c := f.conv(newer); c.State != baton.StateAssigned || c.AgentID != "ann" {
				t.Fatalf("after a resolve freed room: %s %q", c.State, c.AgentID)
			}
			f.check("after routing")
		})
	}
}

// TestSweepRoutesWhatARaceLeft: a conversation whose routing found nobody
// is assigned by the periodic sweep once an agent has room, without any
// event telling the desk.
func TestSweepRoutesWhatARaceLeft(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			// The agent appears behind the desk's back (configuration).
			f.agent("ann", baton.AgentOnline, 1, "en")
			f.run()
			if c := f.conv(id); c.State != baton.StateQueued {
				t.Fatalf("routed before the sweep: %s", c.State)
			}
			f.advance(45 * time.Second)
			if c := f.conv(id); c.State != baton.StateAssigned || c.AgentID != "ann" {
				t.Fatalf("after the sweep: %s %q", c.State, c.AgentID)
			}
			n, err := f.desk.Route(f.ctx)
			if err != nil || n != 0 {
				t.Fatalf("a second pass assigned %d (%v)", n, err)
			}
		})
	}
}

// TestClaimRace: 20 agents claim one conversation at once: exactly one
// wins; every other is told who did.
func TestClaimRace(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.escalate("general", "en", baton.PriorityNormal) // not routed: nobody is online yet
			for i := range 20 {
				f.agent(fmt.Sprintf("a%02d", i), baton.AgentOnline, 2, "en")
			}
			var (
				mu     sync.Mutex
				wins   []string
				losers []error
			)
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					who := fmt.Sprintf("a%02d", i)
					_, err := f.desk.Claim(f.ctx, id, agentActor(who))
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						wins = append(wins, who)
					} else {
						losers = append(losers, err)
					}
				}()
			}
			close(gate)
			wg.Wait()
			if len(wins) != 1 {
				t.Fatalf("%d claims won (%v); want exactly one", len(wins), wins)
			}
			for _, err := range losers {
				if baton.ErrorCode(err) != baton.ECONFLICT || !strings.Contains(err.Error(), wins[0]+" has it") {
					t.Fatalf("a lost claim said %q (%s); want ECONFLICT naming %s", err, baton.ErrorCode(err), wins[0])
				}
			}
			if c := f.conv(id); c.AgentID != wins[0] {
				t.Fatalf("conversation is %q's, the winner was %s", c.AgentID, wins[0])
			}
			assigned := 0
			for _, e := range f.events(id, "transition") {
				if e.To == baton.StateAssigned {
					assigned++
				}
			}
			if assigned != 1 {
				t.Fatalf("%d assignment events", assigned)
			}
		})
	}
}

// TestSLAWarningThenBreach: the warning comes at the policy's share of the
// target (the assignee told first, then the queue's channel); the breach
// raises the priority and takes the conversation from the assignee who did
// not answer to the next eligible agent; the new timer runs on the raised
// priority's target.
func TestSLAWarningThenBreach(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 2, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if c := f.conv(id); c.AgentID != "ann" || c.FirstResponseDue == nil || !c.FirstResponseDue.Equal(tz.Add(time.Hour)) {
				t.Fatalf("after routing: %+v", c)
			}
			f.agent("bob", baton.AgentOnline, 2, "en")
			f.told.take()

			f.advance(47 * time.Minute)
			if n := len(f.events(id, handoff.EventSLAWarning)); n != 0 {
				t.Fatalf("a warning before 80%% of the target")
			}
			f.advance(time.Minute) // 48 minutes: 80 % of an hour
			if n := len(f.events(id, handoff.EventSLAWarning)); n != 1 {
				t.Fatalf("%d warnings at 80%% of the target, want 1", n)
			}
			told := f.told.take()
			if len(told) != 2 || told[0].AgentID != "ann" || told[1].AgentID != "" || told[1].QueueID != "general" || told[0].Kind != handoff.EventSLAWarning {
				t.Fatalf("warning notices %+v; want ann, then the queue", told)
			}

			f.advance(12 * time.Minute) // the hour
			c := f.conv(id)
			if c.AgentID != "bob" || c.State != baton.StateAssigned || c.Priority != baton.PriorityHigh {
				t.Fatalf("after the breach: agent %q, state %s, priority %d; want bob, assigned, high", c.AgentID, c.State, c.Priority)
			}
			br := f.events(id, handoff.EventSLABreach)
			if len(br) != 1 || br[0].Data["taken_from"] != "ann" || br[0].Data["reassigned_to"] != "bob" || br[0].Data["action"] != handoff.BreachEscalate {
				t.Fatalf("breach events %+v", br)
			}
			if c.FirstResponseDue == nil || !c.FirstResponseDue.Equal(tz.Add(time.Hour)) {
				t.Errorf("the promised due time moved: %v", c.FirstResponseDue)
			}
			j := f.timer(baton.JobSLA, handoff.SLAKey(id))
			if j == nil || !j.RunAt.Equal(f.clock.Now().Add(24*time.Minute)) {
				t.Fatalf("next timer %+v; want the warning at 80%% of high's 30 minutes", j)
			}
			f.check("after the breach")
		})
	}
}

// TestSLABreachWithNobodyElse: the breach takes the conversation back from
// its assignee even when nobody else can take it (back to the queue,
// watched), and is never offered to the same agent by the breach itself.
func TestSLABreachWithNobodyElse(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 2, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			f.advance(time.Hour)
			c := f.conv(id)
			if c.State != baton.StateQueued || c.AgentID != "" || c.Priority != baton.PriorityHigh {
				t.Fatalf("after the breach: %s %q priority %d; want back in the queue at high", c.State, c.AgentID, c.Priority)
			}
			f.check("after the breach")
		})
	}
}

// TestSLARerouteAndNotify: billing's breach moves the conversation to its
// fallback queue, with the packet and that queue's policy; leads' breach
// tells the channel.
func TestSLARerouteAndNotify(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.escalate("billing", "en", baton.PriorityNormal)
			f.run()
			f.advance(time.Hour)
			c := f.conv(id)
			if c.State != baton.StateQueued || c.QueueID != "leads" {
				t.Fatalf("after billing's breach: %s in %q; want queued in leads", c.State, c.QueueID)
			}
			p, err := f.st.GetPacket(f.ctx, id)
			if err != nil || p.QueueID != "leads" || !strings.Contains(strings.Join(p.Skills, ","), "lead") || p.Summary != "the customer needs billing" {
				t.Fatalf("packet %+v (%v)", p, err)
			}
			j := f.timer(baton.JobSLA, handoff.SLAKey(id))
			if j == nil {
				t.Fatal("no timer after the reroute")
			}
			f.told.take()
			f.advance(30 * time.Minute) // leads: high is 30 minutes (priority normal takes the nearest target)
			breaches := f.events(id, handoff.EventSLABreach)
			if len(breaches) != 2 || breaches[1].Data["action"] != handoff.BreachNotify {
				t.Fatalf("breaches %+v", breaches)
			}
			var channel bool
			for _, n := range f.told.take() {
				channel = channel || (n.Kind == handoff.EventSLABreach && n.QueueID == "leads" && n.AgentID == "")
			}
			if !channel {
				t.Fatal("the leads channel was not told of the breach")
			}
			f.check("after the breaches")
		})
	}
}

// TestSLAAnsweredTimerDoesNothing: a timer that fires after the agent
// answered changes nothing and records nothing.
func TestSLAAnsweredTimerDoesNothing(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 2, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			// The reply comes from outside the desk (a console writing to
			// the outbox), so the timer is still armed when it fires.
			err := f.st.Tx(f.ctx, func(tx baton.Store) error {
				return baton.EnqueueReply(f.ctx, tx, f.conv(id), &baton.Message{Author: baton.AuthorAgent, AuthorID: "ann", Text: "Hi, I'm Ann"})
			})
			if err != nil {
				t.Fatal(err)
			}
			if f.timer(baton.JobSLA, handoff.SLAKey(id)) == nil {
				t.Fatal("no timer to fire")
			}
			before := f.conv(id)
			f.clock.Advance(2 * time.Hour)
			f.run()
			after := f.conv(id)
			if after.AgentID != "ann" || after.Priority != before.Priority || len(f.events(id, handoff.EventSLABreach)) != 0 ||
				len(f.events(id, handoff.EventSLAWarning)) != 0 || f.timer(baton.JobSLA, handoff.SLAKey(id)) != nil {
				t.Fatalf("after an answered clock: %+v", after)
			}
		})
	}
}

// TestSnoozeWakes: a snoozed conversation has no SLA timer and a wake-up
// timer; it wakes to the same agent with a fresh next-response clock.
func TestSnoozeWakes(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 2, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if _, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: "Checking with the warehouse"}, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			until := f.clock.Now().Add(3 * time.Hour)
			c, err := f.desk.Snooze(f.ctx, id, until, agentActor("ann"))
			if err != nil || c.State != baton.StateSnoozed {
				t.Fatalf("snooze: %+v %v", c, err)
			}
			if f.timer(baton.JobSLA, handoff.SLAKey(id)) != nil || f.timer(baton.JobSnooze, handoff.SnoozeKey(id)) == nil {
				t.Fatal("want no SLA timer and a wake-up timer while snoozed")
			}
			f.check("snoozed")
			f.advance(3*time.Hour - time.Second)
			if f.conv(id).State != baton.StateSnoozed {
				t.Fatal("woke early")
			}
			f.advance(time.Second)
			c = f.conv(id)
			if c.State != baton.StateAssigned || c.AgentID != "ann" || c.NextResponseDue == nil || !c.NextResponseDue.Equal(f.clock.Now().Add(2*time.Hour)) {
				t.Fatalf("after the wake: %s %q next due %v", c.State, c.AgentID, c.NextResponseDue)
			}
			if f.timer(baton.JobSLA, handoff.SLAKey(id)) == nil {
				t.Fatal("no SLA timer after the wake")
			}
			f.check("woken")
		})
	}
}

// TestTransfer: to a queue the packet travels (summary, reasons) with the
// new queue's skills, the note is an internal note and an event, the SLA
// is armed with the new queue's policy and the old owner's room goes to
// whoever waits; to an agent, they take the conversation over with its
// clock as it runs.
func TestTransfer(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 1, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			waiting := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			c, err := f.desk.Transfer(f.ctx, id, baton.TransferTo{Queue: "billing", Note: "double charge on order 1234"}, agentActor("ann"))
			if err != nil || c.State != baton.StateQueued || c.QueueID != "billing" {
				t.Fatalf("transfer: %+v %v", c, err)
			}
			p, err := f.st.GetPacket(f.ctx, id)
			if err != nil || p.QueueID != "billing" || len(p.Reasons) != 1 || !strings.Contains(p.Summary, "the customer needs general") ||
				!strings.Contains(p.Summary, "double charge on order 1234") || strings.Join(p.Skills, ",") != "en,billing" {
				t.Fatalf("packet after the transfer %+v (%v)", p, err)
			}
			var note *baton.Message
			ms, _ := f.st.ListMessages(f.ctx, id, 0, 0)
			for _, m := range ms {
				if m.Direction == baton.DirectionNote {
					note = m
				}
			}
			if note == nil || note.Text != "double charge on order 1234" || note.AuthorID != "ann" {
				t.Fatalf("no internal note: %+v", ms)
			}
			if evs := f.events(id, handoff.EventTransfer); len(evs) != 1 || evs[0].Data["to_queue"] != "billing" || evs[0].Data["from_agent"] != "ann" {
				t.Fatalf("transfer events %+v", evs)
			}
			f.run()
			if w := f.conv(waiting); w.AgentID != "ann" {
				t.Fatalf("ann's freed room went to nobody: %s %q", w.State, w.AgentID)
			}
			j := f.timer(baton.JobSLA, handoff.SLAKey(id))
			if j == nil || !j.RunAt.Equal(tz.Add(30*time.Minute)) {
				t.Fatalf("timer after the transfer %+v; want the warning at half of the first hour", j)
			}

			// To an agent: bob takes it over with its clock.
			f.agent("bob", baton.AgentOffline, 2, "en", "billing")
			if _, err := f.desk.SetStatus(f.ctx, "bob", baton.AgentOnline, agentActor("bob")); err != nil {
				t.Fatal(err)
			}
			f.run()
			if c := f.conv(id); c.AgentID != "bob" {
				t.Fatalf("bob online: %s %q", c.State, c.AgentID)
			}
			f.agent("cy", baton.AgentOnline, 2, "en", "billing")
			due := f.conv(id).FirstResponseDue
			c, err = f.desk.Transfer(f.ctx, id, baton.TransferTo{Agent: "cy", Note: "you know this customer"}, agentActor("bob"))
			if err != nil || c.AgentID != "cy" || c.State != baton.StateAssigned || !c.FirstResponseDue.Equal(*due) {
				t.Fatalf("transfer to cy: %+v %v", c, err)
			}
			f.check("after the transfers")
		})
	}
}

// TestRefusals: what an agent may not do, and illegal moves, are refused
// with the right code and a reason, and change nothing.
func TestRefusals(t *testing.T) {
	tmpl := baton.Template{Name: "follow_up", Language: "en"}
	tests := []struct {
		name string
		code string
		want string // in the message
		act  func(f *fixture, id int64) error
	}{
		{"resolving twice", baton.EINVALID, "resolved to resolved", func(f *fixture, id int64) error {
			if _, err := f.desk.Resolve(f.ctx, id, agentActor("ann")); err != nil {
				return err
			}
			_, err := f.desk.Resolve(f.ctx, id, agentActor("ann"))
			return err
		}},
		{"another agent's conversation", baton.EFORBIDDEN, "ann's", func(f *fixture, id int64) error {
			_, err := f.desk.Resolve(f.ctx, id, agentActor("bob"))
			return err
		}},
		{"a queue that does not exist", baton.EINVALID, `no queue "nope"`, func(f *fixture, id int64) error {
			_, err := f.desk.Transfer(f.ctx, id, baton.TransferTo{Queue: "nope"}, agentActor("ann"))
			return err
		}},
		{"an unknown conversation", baton.ENOTFOUND, "", func(f *fixture, id int64) error {
			_, err := f.desk.Resolve(f.ctx, id+1000, admin)
			return err
		}},
		{"claiming beyond capacity", baton.ECONFLICT, "at capacity", func(f *fixture, id int64) error {
			other := f.escalate("general", "en", baton.PriorityNormal)
			_, err := f.desk.Claim(f.ctx, other, agentActor("ann"))
			return err
		}},
		{"claiming one that is taken", baton.ECONFLICT, "ann has it", func(f *fixture, id int64) error {
			_, err := f.desk.Claim(f.ctx, id, agentActor("bob"))
			return err
		}},
		{"free text outside the window", baton.EINVALID, "follow_up (en)", func(f *fixture, id int64) error {
			f.window = baton.Window{Open: false, Templates: []baton.Template{tmpl}}
			_, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: "hello?"}, agentActor("ann"))
			return err
		}},
		{"transfer to both", baton.EINVALID, "either", func(f *fixture, id int64) error {
			_, err := f.desk.Transfer(f.ctx, id, baton.TransferTo{Queue: "billing", Agent: "bob"}, agentActor("ann"))
			return err
		}},
		{"transfer to an agent who is away", baton.ECONFLICT, "away", func(f *fixture, id int64) error {
			f.agent("cy", baton.AgentAway, 2, "en")
			_, err := f.desk.Transfer(f.ctx, id, baton.TransferTo{Agent: "cy"}, agentActor("ann"))
			return err
		}},
		{"snooze into the past", baton.EINVALID, "future", func(f *fixture, id int64) error {
			_, err := f.desk.Snooze(f.ctx, id, f.clock.Now().Add(-time.Minute), agentActor("ann"))
			return err
		}},
		{"someone else's status", baton.EFORBIDDEN, "only their own", func(f *fixture, id int64) error {
			_, err := f.desk.SetStatus(f.ctx, "ann", baton.AgentOffline, agentActor("bob"))
			return err
		}},
		{"assign without being a lead", baton.EFORBIDDEN, "lead", func(f *fixture, id int64) error {
			_, err := f.desk.Assign(f.ctx, id, "bob", agentActor("bob"))
			return err
		}},
		{"no actor", baton.EUNAUTHORIZED, "", func(f *fixture, id int64) error {
			_, err := f.desk.Resolve(f.ctx, id, baton.Actor{})
			return err
		}},
	}
	for _, sc := range stores() {
		for _, tc := range tests {
			t.Run(sc.Name+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t, sc)
				f.agent("ann", baton.AgentOnline, 1, "en")
				f.agent("bob", baton.AgentOnline, 0, "en")
				id := f.escalate("general", "en", baton.PriorityNormal)
				f.run()
				before := f.conv(id)
				evs, _ := f.st.ListEvents(f.ctx, id)
				err := tc.act(f, id)
				if baton.ErrorCode(err) != tc.code || !strings.Contains(baton.ErrorMessage(err), tc.want) {
					t.Fatalf("got %v (%s); want %s mentioning %q", err, baton.ErrorCode(err), tc.code, tc.want)
				}
				after := f.conv(id)
				if tc.name == "resolving twice" {
					return // the first resolve changed it
				}
				after2, _ := f.st.ListEvents(f.ctx, id)
				if after.State != before.State || after.AgentID != before.AgentID || after.QueueID != before.QueueID || len(after2) != len(evs) {
					t.Fatalf("a refused action changed the conversation: %+v → %+v, %d → %d events", before, after, len(evs), len(after2))
				}
			})
		}
	}
}

// TestReplyWindow: inside the window free text goes through the outbox as
// the agent's; outside it a configured template goes.
func TestReplyWindow(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 1, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			m, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: "Hi, Ann here"}, agentActor("ann"))
			if err != nil || m.Author != baton.AuthorAgent || m.AuthorID != "ann" || m.Direction != baton.DirectionOut || m.Status != baton.StatusQueued {
				t.Fatalf("reply %+v %v", m, err)
			}
			if js, _ := f.st.ListJobs(f.ctx, baton.JobFilter{Kind: baton.JobDeliver}); len(js) != 1 {
				t.Fatalf("%d deliveries", len(js))
			}
			if c := f.conv(id); c.FirstAgentReplyAt == nil {
				t.Fatal("the reply did not stop the first-response clock")
			}
			tmpl := baton.Template{Name: "follow_up", Language: "en"}
			f.window = baton.Window{Open: false, Templates: []baton.Template{tmpl}}
			m, err = f.desk.Reply(f.ctx, id, baton.AgentReply{Template: &tmpl}, agentActor("ann"))
			if err != nil {
				t.Fatal(err)
			}
			if o, _ := baton.OutboundOf(m); o.Template == nil || o.Template.Name != "follow_up" {
				t.Fatalf("template reply %+v", m)
			}
		})
	}
}

// TestView: the conversation with everything an agent needs, internal
// notes included; an agent may see what waits and what is theirs.
func TestView(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if _, err := f.desk.View(f.ctx, id, agentActor("bob")); err != nil {
				t.Fatalf("an agent may look at a waiting conversation: %v", err)
			}
			f.agent("ann", baton.AgentOnline, 1, "en")
			if _, err := f.desk.Claim(f.ctx, id, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.desk.Note(f.ctx, id, "VIP, be nice", agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.desk.View(f.ctx, id, agentActor("bob")); baton.ErrorCode(err) != baton.EFORBIDDEN {
				t.Fatalf("bob sees ann's conversation: %v", err)
			}
			f.clock.Advance(61 * time.Minute)
			v, err := f.desk.View(f.ctx, id, agentActor("ann"))
			if err != nil {
				t.Fatal(err)
			}
			if v.Packet == nil || v.Customer == nil || len(v.Messages) != 2 || v.Messages[1].Direction != baton.DirectionNote ||
				!v.SLA.Breached || v.SLA.FirstResponseDue == nil || !v.Window.Open || len(v.Events) < 2 {
				t.Fatalf("view %+v", v)
			}
		})
	}
}

// surveys records what the desk asks of the survey side; a customer
// message "5" answers.
type surveys struct {
	asked    []string
	answered []string
}

func (s *surveys) Ask(_ context.Context, tx baton.Store, conv *baton.Conversation, by string) error {
	if conv.State != baton.StateResolved {
		return fmt.Errorf("asked about a %s conversation", conv.State)
	}
	s.asked = append(s.asked, fmt.Sprintf("%d by %s", conv.ID, by))
	return nil
}

func (s *surveys) Answer(_ context.Context, tx baton.Store, conv *baton.Conversation, msg *baton.Message) (bool, error) {
	if msg.Text != "5" {
		return false, nil
	}
	s.answered = append(s.answered, fmt.Sprintf("%d: %s", conv.ID, msg.Text))
	return true, nil
}

// TestResolveAsksAndTheAnswerDoesNotReopen: an agent's resolve asks for a
// rating in its transaction; the customer's rating is the survey's and
// reopens nothing, while anything else within the window reopens to the
// same agent.
func TestResolveAsksAndTheAnswerDoesNotReopen(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			sv := &surveys{}
			f := newFixture(t, sc, func(c *handoff.Config) { c.Surveys = sv })
			f.agent("ann", baton.AgentOnline, 1, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if _, err := f.desk.Reply(f.ctx, id, baton.AgentReply{Text: "Sent a new one."}, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.desk.Resolve(f.ctx, id, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			if len(sv.asked) != 1 || sv.asked[0] != fmt.Sprintf("%d by agent:ann", id) {
				t.Fatalf("asked %v", sv.asked)
			}
			own := handoff.Ownership{Desk: f.desk, Surveys: sv}
			say := func(text string) (*baton.Conversation, bool) {
				var c *baton.Conversation
				var reopened bool
				err := f.st.Tx(f.ctx, func(tx baton.Store) error {
					var err error
					c, reopened, err = own.Resume(f.ctx, tx, baton.Bot{ID: bot, ReopenAfter: 72 * time.Hour}, f.conv(id),
						&baton.Message{Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Text: text}, f.clock.Now())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return c, reopened
			}
			f.clock.Advance(time.Minute)
			if c, reopened := say("5"); c == nil || reopened || c.State != baton.StateResolved || len(sv.answered) != 1 {
				t.Fatalf("the rating: %+v reopened %v answered %v", c, reopened, sv.answered)
			}
			if c, reopened := say("the zip broke again"); c == nil || !reopened || c.State != baton.StateAssigned || c.AgentID != "ann" {
				t.Fatalf("a new message: %+v reopened %v", c, reopened)
			}
			if c := f.conv(id); c.NextResponseDue == nil || f.timer(baton.JobSLA, handoff.SLAKey(id)) == nil {
				t.Fatal("the reopened conversation has no response clock")
			}
			f.check("reopened")
		})
	}
}

// TestReopenToTheQueueWhenTheAgentIsFull: within the window, an agent at
// capacity does not get the conversation back: it waits in its queue,
// watched and routed.
func TestReopenToTheQueueWhenTheAgentIsFull(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("ann", baton.AgentOnline, 1, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if _, err := f.desk.Resolve(f.ctx, id, agentActor("ann")); err != nil {
				t.Fatal(err)
			}
			f.escalate("general", "en", baton.PriorityNormal)
			f.run() // ann is full again
			f.clock.Advance(48 * time.Hour)
			err := f.st.Tx(f.ctx, func(tx baton.Store) error {
				_, _, err := handoff.Ownership{Desk: f.desk}.Resume(f.ctx, tx, baton.Bot{ID: bot, ReopenAfter: 72 * time.Hour}, f.conv(id), nil, f.clock.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if c := f.conv(id); c.State != baton.StateQueued || c.QueueID != "general" {
				t.Fatalf("reopened %s in %q; want queued in general", c.State, c.QueueID)
			}
			f.check("reopened to the queue")
		})
	}
}

// TestLeadAssigns: a lead may give a waiting conversation to an agent or
// move one between agents; the freed room is routed.
func TestLeadAssigns(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			f := newFixture(t, sc)
			f.agent("lee", baton.AgentOnline, 0, "en", "lead")
			f.agent("ann", baton.AgentOffline, 1, "en")
			f.agent("bob", baton.AgentOnline, 1, "en")
			id := f.escalate("general", "en", baton.PriorityNormal)
			f.run()
			if c := f.conv(id); c.AgentID != "bob" {
				t.Fatalf("routed to %q", c.AgentID)
			}
			f.agent("ann", baton.AgentOnline, 1, "en")
			c, err := f.desk.Assign(f.ctx, id, "ann", agentActor("lee"))
			if err != nil || c.AgentID != "ann" {
				t.Fatalf("lead's assign: %+v %v", c, err)
			}
			if evs := f.events(id, "transition"); evs[len(evs)-1].Data["from_agent"] != "bob" {
				t.Fatalf("the move does not say whose it was: %+v", evs[len(evs)-1])
			}
		})
	}
}
