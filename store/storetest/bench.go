package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Bench runs the store benchmarks both stores report: the ingestion
// transaction (insert an inbound message and enqueue its turn job) and the
// job loop (claim and complete), each with one and with eight goroutines.
// Every sub-benchmark reports ops/s.
func Bench(b *testing.B, open func(b *testing.B) baton.Store) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("InsertEnqueue/writers=%d", writers), func(b *testing.B) {
			benchInsertEnqueue(b, open(b), writers)
		})
	}
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("ClaimComplete/workers=%d", workers), func(b *testing.B) {
			benchClaimComplete(b, open(b), workers)
		})
	}
}

func benchInsertEnqueue(b *testing.B, st baton.Store, writers int) {
	ctx := context.Background()
	convs := make([]*baton.Conversation, 16)
	for i := range convs {
		cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "bench", Channel: baton.ChannelWhatsApp, Address: fmt.Sprintf("+1%07d", i)}, "")
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = &baton.Conversation{BotID: "bench", CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: fmt.Sprintf("+1%07d", i)}
		if err := st.CreateConversation(ctx, convs[i]); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	began := time.Now()
	runSplit(b, writers, func() error {
		n := next.Add(1)
		conv := convs[int(n)%len(convs)]
		return st.Tx(ctx, func(tx baton.Store) error {
			m := &baton.Message{ConversationID: conv.ID, BotID: conv.BotID, Channel: conv.Channel, ProviderID: fmt.Sprintf("wamid.bench.%d", n),
				Direction: baton.DirectionIn, Author: baton.AuthorCustomer, Type: baton.TypeText, Text: "where is my order?"}
			if _, err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			_, err := tx.Enqueue(ctx, &baton.Job{Kind: baton.JobTurn, ConversationID: conv.ID})
			return err
		})
	})
	reportRate(b, began)
}

func benchClaimComplete(b *testing.B, st baton.Store, workers int) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if _, err := st.Enqueue(ctx, &baton.Job{Kind: baton.JobDeliver}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	began := time.Now()
	var w atomic.Int64
	runSplit(b, workers, func() error {
		owner := fmt.Sprintf("bench-%d", w.Add(1))
		j, err := st.ClaimJob(ctx, owner, nil, time.Minute)
		if err != nil {
			return err
		}
		if j == nil {
			return fmt.Errorf("queue ran dry: a claim found nothing")
		}
		return st.CompleteJob(ctx, j.ID, owner)
	})
	reportRate(b, began)
}

// runSplit runs b.N calls of op spread over n goroutines.
func runSplit(b *testing.B, n int, op func() error) {
	var (
		wg    sync.WaitGroup
		left  atomic.Int64
		mu    sync.Mutex
		first error
	)
	left.Store(int64(b.N))
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func reportRate(b *testing.B, began time.Time) {
	b.StopTimer()
	if s := time.Since(began).Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

// BenchAssign measures claims: AssignConversation of queued conversations
// to agents with room, by 1 and by 8 concurrent claimers spread over the
// agents, every call a success. It reports claims/s and the p50, p99 and
// max latency of one AssignConversation (the store's lock, count, update,
// event and agent write, committed).
func BenchAssign(b *testing.B, open func(b *testing.B) baton.Store) {
	for _, claimers := range []int{1, 8} {
		b.Run(fmt.Sprintf("claimers=%d", claimers), func(b *testing.B) {
			benchAssign(b, open(b), claimers)
		})
	}
}

// benchAgents is how many agents share the claims: claimers contend for
// an agent's row as agents of one team do.
const benchAgents = 20

func benchAssign(b *testing.B, st baton.Store, claimers int) {
	ctx := context.Background()
	// Every agent has room for their share, so that no call is refused.
	room := b.N/benchAgents + 1
	for i := 0; i < benchAgents; i++ {
		a := &baton.Agent{ID: fmt.Sprintf("agent-%02d", i), Status: baton.AgentOnline, Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: room}}
		if err := st.UpsertAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	ids := benchQueue(b, st, b.N)
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	b.ResetTimer()
	began := time.Now()
	runSplit(b, claimers, func() error {
		i := int(next.Add(1)) - 1
		agent := fmt.Sprintf("agent-%02d", i%benchAgents)
		t0 := time.Now()
		_, _, err := st.AssignConversation(ctx, ids[i], agent, baton.Assignment{Actor: "agent:" + agent, Reason: "claim"})
		lat[i] = time.Since(t0)
		return err
	})
	elapsed := time.Since(began)
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "claims/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(0, "ns/op") // per-op time is meaningless under concurrency; the rate is the figure
}

// benchQueue escalates n conversations of 16 customers to one queue, in
// transactions of 500, and returns their ids.
func benchQueue(b *testing.B, st baton.Store, n int) []int64 {
	ctx := context.Background()
	custs := make([]int64, 16)
	for i := range custs {
		c, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "bench", Channel: baton.ChannelWhatsApp, Address: fmt.Sprintf("+1%07d", i)}, "")
		if err != nil {
			b.Fatal(err)
		}
		custs[i] = c.ID
	}
	ids := make([]int64, 0, n)
	for len(ids) < n {
		err := st.Tx(ctx, func(tx baton.Store) error {
			for k := 0; k < 500 && len(ids) < n; k++ {
				c := &baton.Conversation{BotID: "bench", CustomerID: custs[len(ids)%len(custs)], Channel: baton.ChannelWhatsApp}
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				if _, _, err := tx.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: ptr("support")}); err != nil {
					return err
				}
				ids = append(ids, c.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
