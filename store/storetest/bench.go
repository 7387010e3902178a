package storetest

import (
	"context"
	"fmt"
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
