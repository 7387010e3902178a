package handoff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/store/storecase"
)

// Scale of the routing benchmark: open conversations (assigned and
// waiting) and agents.
const (
	benchOpen     = 10000
	benchWaiting  = 4000
	benchAgents   = 200
	benchCapacity = 40 // per channel kind, WhatsApp and web chat
)

// BenchmarkRouting measures routing at 10,000 open conversations (6,000
// carried by 200 agents, 4,000 waiting) on each store:
//
//   - decision: the choice of an agent for one conversation just queued
//     (ForItem over the 200 agents), in memory after the store read —
//     p99 against 1 ms;
//
//   - for-agent: what one agent who gained room takes from the 4,000
//     waiting (ForAgent), in memory;
//
//   - plan: a whole sweep's plan over every waiting conversation;
//
//   - assign: routing one queued conversation end to end as the route job
//     does it — its row and packet, every agent's load, the decision and
//     the atomic assignment — p99 against 10 ms.
//
//     go test -run '^$' -bench Routing -benchtime 2000x ./handoff/
func BenchmarkRouting(b *testing.B) {
	for _, sc := range stores() {
		b.Run(sc.Name, func(b *testing.B) {
			f := populate(b, sc)
			b.Run("decision", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				offered := 0
				b.ResetTimer()
				for i := range b.N {
					t := time.Now()
					_, ok := handoff.ForItem(f.items[i%len(f.items)], f.states)
					lat = append(lat, time.Since(t))
					if ok {
						offered++
					}
				}
				report(b, lat, "decision")
				b.ReportMetric(100*float64(offered)/float64(b.N), "offered-%")
			})
			b.Run("for-agent", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					t := time.Now()
					handoff.ForAgent(f.states[i%len(f.states)], f.items)
					lat = append(lat, time.Since(t))
				}
				report(b, lat, "for-agent")
			})
			b.Run("plan", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				offers := 0
				b.ResetTimer()
				for range b.N {
					t := time.Now()
					offers = len(handoff.Plan(f.items, f.states))
					lat = append(lat, time.Since(t))
				}
				report(b, lat, "plan")
				b.ReportMetric(float64(offers), "offers")
			})
			b.Run("read", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					t := time.Now()
					if _, err := f.st.AgentLoads(f.ctx, bot); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
				report(b, lat, "loads")
			})
			b.Run("assign", func(b *testing.B) {
				route := f.desk.Jobs()[handoff.JobRoute]
				lat := make([]time.Duration, 0, b.N)
				assigned := 0
				b.ResetTimer()
				for i := range b.N {
					id := f.waiting[i%len(f.waiting)]
					j := &baton.Job{Kind: handoff.JobRoute, Payload: mustPayload(b, map[string]any{"conversation_id": id})}
					t := time.Now()
					if err := route.HandleJob(f.ctx, j); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					b.StopTimer()
					// Back to the queue, so that every iteration routes at
					// the same scale.
					c, err := f.st.GetConversation(f.ctx, id)
					if err != nil {
						b.Fatal(err)
					}
					if c.State == baton.StateAssigned {
						assigned++
						if _, _, err := f.st.TransitionConversation(f.ctx, id, baton.Transition{To: baton.StateQueued, Actor: "bench"}); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
				report(b, lat, "assign")
				b.ReportMetric(100*float64(assigned)/float64(b.N), "assigned-%")
			})
		})
	}
}

func mustPayload(b *testing.B, v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// report prints the p50 and p99 of lat, in milliseconds.
func report(b *testing.B, lat []time.Duration, name string) {
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
}

type benchFixture struct {
	ctx     context.Context
	st      baton.Store
	desk    *handoff.Desk
	waiting []int64
	items   []handoff.Item
	states  []handoff.AgentState
}

// populate stores the benchmark's agents and open conversations, and reads
// them back as routing does.
func populate(b *testing.B, sc storecase.Case) *benchFixture {
	b.Helper()
	ctx := context.Background()
	clock := baton.NewManualClock(tz)
	st := sc.Open(b, clock)
	rng := rand.New(rand.NewPCG(1, 2))
	langs := []string{"en", "es", "fr", "de"}
	topics := []string{"billing", "tech", "returns"}
	kinds := []baton.ChannelKind{baton.ChannelWhatsApp, baton.ChannelWebChat}
	var online []string
	for i := range benchAgents {
		a := &baton.Agent{ID: fmt.Sprintf("a%03d", i), Name: "agent", Capacity: map[baton.ChannelKind]int{}}
		a.Skills = append(a.Skills, langs[i%len(langs)], langs[(i/len(langs))%len(langs)])
		a.Skills = append(a.Skills, topics[rng.IntN(len(topics))])
		for _, k := range kinds {
			a.Capacity[k] = benchCapacity
		}
		a.Status = baton.AgentOnline
		if i%10 == 9 {
			a.Status = baton.AgentAway
		} else {
			online = append(online, a.ID)
		}
		if err := st.UpsertAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := st.SetAgentStatus(ctx, a.ID, a.Status); err != nil {
			b.Fatal(err)
		}
	}
	customers := make([]int64, 100)
	for i := range customers {
		c, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: bot, Channel: baton.ChannelWhatsApp, Address: fmt.Sprintf("+1555%07d", i)}, "")
		if err != nil {
			b.Fatal(err)
		}
		customers[i] = c.ID
	}
	f := &benchFixture{ctx: ctx, st: st}
	const batch = 500
	for from := 0; from < benchOpen; from += batch {
		err := st.Tx(ctx, func(tx baton.Store) error {
			for i := from; i < min(from+batch, benchOpen); i++ {
				lang := langs[rng.IntN(len(langs))]
				skills := []string{lang}
				if rng.IntN(2) == 0 {
					skills = append(skills, topics[rng.IntN(len(topics))])
				}
				queued := clock.Now().Add(-time.Duration(rng.IntN(3600)) * time.Second)
				c := &baton.Conversation{BotID: bot, CustomerID: customers[i%len(customers)], Channel: kinds[i%len(kinds)],
					Address: "+1", Language: lang, QueueID: "general", Priority: rng.IntN(4), QueuedAt: &queued}
				if i < benchOpen-benchWaiting {
					c.State, c.AgentID = baton.StateAssigned, online[i%len(online)]
				} else {
					c.State = baton.StateQueued
				}
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				if err := tx.SavePacket(ctx, &baton.HandoffPacket{ConversationID: c.ID, Channel: c.Channel, Language: lang,
					QueueID: "general", Skills: skills, Priority: c.Priority}); err != nil {
					return err
				}
				if c.State == baton.StateQueued {
					f.waiting = append(f.waiting, c.ID)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	d, err := handoff.New(handoff.Config{Store: st, Queues: testQueues(), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	f.desk = d
	// The store read routing makes, once, for the in-memory decisions.
	loads, err := st.AgentLoads(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range loads {
		var last time.Time
		if l.LastAssignedAt != nil {
			last = *l.LastAssignedAt
		}
		f.states = append(f.states, handoff.AgentStateOf(&l.Agent, l.Open, last))
	}
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{States: []baton.State{baton.StateQueued}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range convs {
		p, err := st.GetPacket(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		f.items = append(f.items, handoff.ItemOf(c, p, *c.QueuedAt))
	}
	return f
}
