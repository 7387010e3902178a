package handoff_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// TestLifecycleSimulation drives the desk through thousands of random
// lifecycle events — escalations, customer messages (waking snoozed and
// reopening resolved conversations through the ownership policy), claims,
// assignments, transfers, snoozes, replies, resolves, archives, hand-backs
// to the bot, status changes and timers firing as the clock moves — and
// checks after every step that no open conversation is orphaned and no
// agent carries more than their capacity. Refusals are expected (the
// actions are random); an internal error is not.
func TestLifecycleSimulation(t *testing.T) {
	steps := 3000
	switch {
	case testing.Short():
		steps = 400
	case raceDetector:
		steps = 1200
	}
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 7))
			f := newFixture(t, sc)
			agents := []string{"ann", "bob", "cy", "dee", "lead"}
			skills := [][]string{{"en"}, {"en", "billing"}, {"tr"}, {"en", "tr"}, {"en", "billing", "lead"}}
			for i, a := range agents {
				f.agent(a, baton.AgentOffline, 1+rng.IntN(3), skills[i]...)
			}
			own := handoff.Ownership{Desk: f.desk}
			queues := []string{"general", "billing", "leads", "turkish"}
			langs := map[string]string{"general": "en", "billing": "en", "leads": "en", "turkish": "tr"}
			var convs []int64
			pickConv := func() int64 {
				if len(convs) == 0 {
					return 0
				}
				// Mostly the recent ones: old ones are settled.
				recent := convs[max(0, len(convs)-30):]
				return recent[rng.IntN(len(recent))]
			}
			pickAgent := func() string { return agents[rng.IntN(len(agents))] }
			actor := func(id int64) baton.Actor {
				if rng.IntN(5) == 0 {
					return admin
				}
				// Mostly the owner, sometimes someone else.
				if c, err := f.st.GetConversation(f.ctx, id); err == nil && c.Owner() != "" && rng.IntN(4) > 0 {
					return agentActor(c.Owner())
				}
				return agentActor(pickAgent())
			}
			counts := map[string]int{}
			for step := range steps {
				var (
					op  string
					err error
				)
				id := pickConv()
				switch r := rng.IntN(100); {
				case (r < 8 && len(convs)-settled(f, convs) < 40) || id == 0:
					op = "escalate"
					q := queues[rng.IntN(len(queues))]
					convs = append(convs, f.escalate(q, langs[q], rng.IntN(4)))
				case r < 24:
					op = "customer writes"
					err = f.customerWrites(own, id)
				case r < 34:
					op = "claim"
					_, err = f.desk.Claim(f.ctx, id, agentActor(pickAgent()))
				case r < 38:
					op = "assign"
					_, err = f.desk.Assign(f.ctx, id, pickAgent(), actor(id))
				case r < 44:
					op = "transfer"
					to := baton.TransferTo{Queue: queues[rng.IntN(len(queues))], Note: "over to you"}
					if rng.IntN(2) == 0 {
						to = baton.TransferTo{Agent: pickAgent()}
					}
					_, err = f.desk.Transfer(f.ctx, id, to, actor(id))
				case r < 50:
					op = "snooze"
					_, err = f.desk.Snooze(f.ctx, id, f.clock.Now().Add(time.Duration(1+rng.IntN(240))*time.Minute), actor(id))
				case r < 58:
					op = "reply"
					_, err = f.desk.Reply(f.ctx, id, baton.AgentReply{Text: "on it"}, actor(id))
				case r < 64:
					op = "resolve"
					_, err = f.desk.Resolve(f.ctx, id, actor(id))
				case r < 66:
					op = "archive"
					_, err = f.desk.Archive(f.ctx, id, "spam", actor(id))
				case r < 68:
					op = "to bot"
					_, err = f.desk.ToBot(f.ctx, id, actor(id))
				case r < 70:
					op = "re-escalate"
					if c := f.conv(id); c.State == baton.StateBot {
						q := queues[rng.IntN(len(queues))]
						f.queue(id, q, langs[q], rng.IntN(4))
					}
				case r < 82:
					op = "status"
					statuses := []baton.AgentStatus{baton.AgentOnline, baton.AgentOnline, baton.AgentAway, baton.AgentOffline}
					a := pickAgent()
					_, err = f.desk.SetStatus(f.ctx, a, statuses[rng.IntN(len(statuses))], agentActor(a))
				default:
					op = "time passes"
					f.clock.Advance(time.Duration(rng.IntN(40)) * time.Minute)
				}
				switch baton.ErrorCode(err) {
				case "", baton.EINVALID, baton.ECONFLICT, baton.EFORBIDDEN, baton.ENOTFOUND:
				default:
					t.Fatalf("step %d (%s on %d): %v", step, op, id, err)
				}
				counts[op]++
				f.run()
				f.check(fmt.Sprintf("step %d (%s on %d)", step, op, id))
				f.capacityHolds(fmt.Sprintf("step %d (%s on %d)", step, op, id))
			}
			var sla, states = 0, map[baton.State]int{}
			for _, id := range convs {
				sla += len(f.events(id, handoff.EventSLABreach)) + len(f.events(id, handoff.EventSLAWarning))
				states[f.conv(id).State]++
			}
			t.Logf("operations %v; SLA events %d; final states %v", counts, sla, states)
			if sla == 0 {
				t.Error("no SLA timer ever fired: the simulation does not exercise them")
			}
		})
	}
}

// customerWrites stores a customer message to conversation id as ingestion
// does: the ownership policy for a snoozed or resolved one, then the
// message, then the response clock, in one transaction.
func (f *fixture) customerWrites(own handoff.Ownership, id int64) error {
	f.t.Helper()
	return f.st.Tx(f.ctx, func(tx baton.Store) error {
		conv, err := tx.GetConversation(f.ctx, id)
		if err != nil {
			return err
		}
		f.seq++
		msg := &baton.Message{BotID: bot, Channel: conv.Channel, Direction: baton.DirectionIn, Author: baton.AuthorCustomer,
			Type: baton.TypeText, Text: "hello?", ProviderID: fmt.Sprintf("wamid.sim%d", f.seq)}
		now := f.clock.Now()
		if conv.State == baton.StateSnoozed || conv.State == baton.StateResolved {
			c, _, err := own.Resume(f.ctx, tx, baton.Bot{ID: bot, ReopenAfter: 72 * time.Hour}, conv, msg, now)
			if err != nil {
				return err
			}
			if c == nil {
				return nil // a new conversation with the bot: not this one's business
			}
			conv = c
		}
		if conv.State == baton.StateArchived {
			return nil
		}
		msg.ConversationID = conv.ID
		if _, err := tx.InsertMessage(f.ctx, msg); err != nil {
			return err
		}
		conv, err = tx.GetConversation(f.ctx, id)
		if err != nil {
			return err
		}
		conv.LastInboundAt = &now
		if err := tx.UpdateConversation(f.ctx, conv); err != nil {
			return err
		}
		return f.desk.CustomerWrote(f.ctx, tx, conv, now)
	})
}

// capacityHolds fails the test when an agent carries more than their
// capacity.
func (f *fixture) capacityHolds(step string) {
	f.t.Helper()
	loads, err := f.st.AgentLoads(f.ctx, "")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, l := range loads {
		for k, n := range l.Open {
			if n > l.Capacity[k] {
				f.t.Fatalf("%s: %s carries %d on %s, capacity %d", step, l.ID, n, k, l.Capacity[k])
			}
		}
	}
}

// settled counts the conversations of ids that are resolved or archived
// and have been for a while: the simulation keeps about 40 in play, so
// that every step's checks read a steady amount.
func settled(f *fixture, ids []int64) int {
	n := 0
	for _, id := range ids[max(0, len(ids)-60):] {
		if c := f.conv(id); c.State == baton.StateResolved || c.State == baton.StateArchived {
			n++
		}
	}
	return n + max(0, len(ids)-60)
}
