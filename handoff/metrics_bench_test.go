package handoff_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// BenchmarkSummarize times one summary over a day of 1,000 conversations
// (half escalated: queued, assigned, answered, resolved, surveyed; half
// resolved by the bot), on each store. Summarize reads the conversations
// of the period (and those after it that a containment window reaches)
// and their events in one read each, then the packet of each escalated
// one: that read per conversation is what grows with the period.
func BenchmarkSummarize(b *testing.B) {
	const n = 1000
	for _, sc := range stores() {
		b.Run(sc.Name, func(b *testing.B) {
			clk := baton.NewManualClock(day0)
			st := sc.Open(b, clk)
			ctx := context.Background()
			if err := st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Name: "Maya"}); err != nil {
				b.Fatal(err)
			}
			queue, maya := "general", "maya"
			for i := range n {
				at := day0.Add(time.Duration(i) * 80 * time.Second)
				clk.Set(at)
				cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWebChat, Address: "v" + strconv.Itoa(i)}, "")
				if err != nil {
					b.Fatal(err)
				}
				c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWebChat, Address: "v" + strconv.Itoa(i)}
				if err := st.CreateConversation(ctx, c); err != nil {
					b.Fatal(err)
				}
				move := func(d time.Duration, tr baton.Transition) {
					clk.Set(at.Add(d))
					tr.Actor = "system"
					if _, _, err := st.TransitionConversation(ctx, c.ID, tr); err != nil {
						b.Fatal(err)
					}
				}
				if i%2 == 1 {
					move(time.Minute, baton.Transition{To: baton.StateResolved})
					continue
				}
				due := at.Add(10 * time.Minute)
				move(time.Minute, baton.Transition{To: baton.StateQueued, QueueID: &queue, FirstResponseDue: &due})
				if err := st.SavePacket(ctx, &baton.HandoffPacket{ConversationID: c.ID, QueueID: queue,
					Reasons: []baton.TriggerResult{{Trigger: baton.TriggerWantsHuman, Fired: true}}}); err != nil {
					b.Fatal(err)
				}
				move(2*time.Minute, baton.Transition{To: baton.StateAssigned, AgentID: &maya})
				if _, err := st.InsertMessage(ctx, &baton.Message{ConversationID: c.ID, BotID: "shop", Channel: baton.ChannelWebChat,
					Direction: baton.DirectionOut, Author: baton.AuthorAgent, AuthorID: maya, Type: baton.TypeText, Text: "Hi", CreatedAt: at.Add(5 * time.Minute)}); err != nil {
					b.Fatal(err)
				}
				move(20*time.Minute, baton.Transition{To: baton.StateResolved})
				if _, err := st.RequestCSAT(ctx, &baton.CSAT{ConversationID: c.ID, Resolution: 1, BotID: "shop", QueueID: queue, AgentID: maya,
					Channel: baton.ChannelWebChat, RequestedAt: at.Add(20 * time.Minute)}); err != nil {
					b.Fatal(err)
				}
			}
			q := baton.MetricsQuery{From: day0, To: day0.Add(24 * time.Hour), BotID: "shop", Now: day0.Add(5 * 24 * time.Hour)}
			b.ResetTimer()
			for b.Loop() {
				s, err := handoff.Summarize(ctx, st, q)
				if err != nil {
					b.Fatal(err)
				}
				if s.Conversations != n {
					b.Fatalf("%d conversations, want %d", s.Conversations, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/summary")
		})
	}
}
