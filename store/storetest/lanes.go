package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testJobLanes: jobs of one lane run one at a time and in id order across
// conversations, as jobs of one conversation do, and the two rules combine.
func (s *suite) testJobLanes(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 4, Lane: "slack:C0GENERAL"})
		if j.Lane != "slack:C0GENERAL" {
			t.Fatalf("Enqueue lane = %q", j.Lane)
		}
		enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 4})
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Lane != "slack:C0GENERAL" {
			t.Fatalf("GetJob lane = %q", got.Lane)
		}
		list, err := st.ListJobs(ctx, baton.JobFilter{Lane: "slack:C0GENERAL"})
		must(t, err, "ListJobs")
		if len(list) != 1 || list[0].ID != j.ID || list[0].Lane != j.Lane {
			t.Fatalf("ListJobs by lane = %+v", list)
		}
		timer := &baton.Job{Kind: baton.JobSlack, Key: "lane-timer", Lane: "slack:C1", RunAt: clock.Now().Add(time.Hour)}
		_, err = st.ScheduleJob(ctx, timer)
		must(t, err, "ScheduleJob")
		if timer.Lane != "slack:C1" {
			t.Fatalf("ScheduleJob lane = %q", timer.Lane)
		}
		moved := &baton.Job{Kind: baton.JobSlack, Key: "lane-timer", Lane: "slack:C2", RunAt: clock.Now().Add(2 * time.Hour)}
		replaced, err := st.ScheduleJob(ctx, moved)
		must(t, err, "ScheduleJob again")
		if !replaced || moved.ID != timer.ID || moved.Lane != "slack:C2" {
			t.Fatalf("rescheduled: replaced %v, id %d (was %d), lane %q", replaced, moved.ID, timer.ID, moved.Lane)
		}
		claimed := claim(t, ctx, st, "w", nil, j.ID)
		if claimed.Lane != j.Lane {
			t.Fatalf("ClaimJob lane = %q", claimed.Lane)
		}
	})

	t.Run("invalid lanes change nothing", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		for name, lane := range map[string]string{"too long": strings.Repeat("x", baton.MaxLane+1), "padded": " slack:C1"} {
			t.Run(name, func(t *testing.T) {
				_, err := st.Enqueue(ctx, &baton.Job{Kind: baton.JobSlack, Lane: lane})
				wantCode(t, err, baton.EINVALID, "Enqueue")
				_, err = st.ScheduleJob(ctx, &baton.Job{Kind: baton.JobSlack, Key: "k", Lane: lane})
				wantCode(t, err, baton.EINVALID, "ScheduleJob")
			})
		}
		list, err := st.ListJobs(ctx, baton.JobFilter{})
		must(t, err, "ListJobs")
		if len(list) != 0 {
			t.Fatalf("%d jobs stored", len(list))
		}
	})

	t.Run("one at a time per lane, in order, across conversations", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		a := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 1, Lane: "L"})
		b := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "L"})
		c := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, Lane: "L"})
		other := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "M"})
		free := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 3})
		claim(t, ctx, st, "w1", nil, a.ID)
		// other waits for b, the earlier job of its conversation.
		claim(t, ctx, st, "w2", nil, free.ID)
		claim(t, ctx, st, "w3", nil, 0)
		claim(t, ctx, st, "w3", []string{baton.JobSlack}, 0)
		must(t, st.CompleteJob(ctx, a.ID, "w1"), "complete a")
		claim(t, ctx, st, "w1", nil, b.ID)
		claim(t, ctx, st, "w3", nil, 0)
		must(t, st.CompleteJob(ctx, b.ID, "w1"), "complete b")
		claim(t, ctx, st, "w1", nil, c.ID)
		claim(t, ctx, st, "w3", nil, other.ID)
	})

	t.Run("a job waiting for a retry holds its lane", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		first := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 1, Lane: "L"})
		second := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "L"})
		claim(t, ctx, st, "w1", nil, first.ID)
		must(t, st.RetryJob(ctx, first.ID, "w1", "429", clock.Now().Add(time.Minute)), "retry")
		claim(t, ctx, st, "w2", nil, 0)
		clock.Advance(time.Minute)
		claim(t, ctx, st, "w2", nil, first.ID)
		must(t, st.CompleteJob(ctx, first.ID, "w2"), "complete first")
		claim(t, ctx, st, "w2", nil, second.ID)
	})

	t.Run("a future timer does not hold its lane, a dead job no longer does", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		timer := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 1, Lane: "L", RunAt: clock.Now().Add(time.Hour)})
		doomed := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "L"})
		next := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 3, Lane: "L"})
		claim(t, ctx, st, "w1", nil, doomed.ID)
		must(t, st.KillJob(ctx, doomed.ID, "w1", "channel_not_found"), "kill")
		claim(t, ctx, st, "w1", nil, next.ID)
		must(t, st.CompleteJob(ctx, next.ID, "w1"), "complete next")
		clock.Advance(time.Hour)
		claim(t, ctx, st, "w1", nil, timer.ID)
	})

	t.Run("an expired lease holds its lane until reclaimed and done", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		first := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 1, Lane: "L"})
		second := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "L"})
		claim(t, ctx, st, "dead-worker", nil, first.ID)
		clock.Advance(lease)
		claim(t, ctx, st, "w2", nil, first.ID)
		claim(t, ctx, st, "w3", nil, 0)
		must(t, st.CompleteJob(ctx, first.ID, "w2"), "complete")
		claim(t, ctx, st, "w3", nil, second.ID)
	})

	t.Run("lanes and conversations combine", func(t *testing.T) {
		st, _, ctx := s.fresh(t)
		x1 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 1, Lane: "A"})
		x2 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "A"}) // after x1 in lane A
		x3 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 2, Lane: "B"}) // after x2 in conversation 2
		x4 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, ConversationID: 3, Lane: "B"}) // after x3 in lane B
		x5 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 3})             // after x4 in conversation 3
		x6 := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobSlack, Lane: "C"})
		claim(t, ctx, st, "w1", nil, x1.ID)
		claim(t, ctx, st, "w2", nil, x6.ID)
		claim(t, ctx, st, "w3", nil, 0)
		for i, step := range []struct{ done, next *baton.Job }{{x1, x2}, {x2, x3}, {x3, x4}, {x4, x5}} {
			owner := fmt.Sprintf("w%d", i+10)
			if i == 0 {
				owner = "w1"
			}
			must(t, st.CompleteJob(ctx, step.done.ID, owner), fmt.Sprintf("complete %d", step.done.ID))
			claim(t, ctx, st, fmt.Sprintf("w%d", i+11), nil, step.next.ID)
			claim(t, ctx, st, "w3", nil, 0)
		}
	})
}

// testJobLanesConcurrently: claimers racing over jobs that share lanes and
// conversations (on two store handles when the suite has a twin, as two
// processes would) never run two jobs of a lane or of a conversation at
// once, and claim each in id order.
func (s *suite) testJobLanesConcurrently(t *testing.T) {
	a, b, _, ctx := s.pair(t)
	const jobs = 120
	want := map[int64]bool{}
	for i := 0; i < jobs; i++ {
		j := &baton.Job{Kind: baton.JobSlack}
		if i%5 != 0 {
			j.Lane = fmt.Sprintf("slack:C%d", i%2)
		}
		if i%3 != 0 {
			j.ConversationID = int64(i%7 + 1)
		}
		enqueue(t, ctx, a, j)
		want[j.ID] = true
	}
	claimConcurrently(t, ctx, []baton.Store{a, b}, 8, want)
}

// claimConcurrently runs workers claimers over handles (in turn) until no
// job is left, checking that no two jobs of a conversation or of a lane
// run at once, that each conversation's and each lane's jobs are claimed
// in id order, and that every job of want, and no other, is claimed and
// done exactly once.
func claimConcurrently(t *testing.T, ctx context.Context, handles []baton.Store, workers int, want map[int64]bool) {
	t.Helper()
	type order struct {
		last    map[string]int64 // conversation or lane → last job claimed
		running map[string]int64 // conversation or lane → job held
	}
	var (
		mu     sync.Mutex
		claims = map[int64]int{}
		seen   = order{map[string]int64{}, map[string]int64{}}
		wg     sync.WaitGroup
		errs   = make(chan error, workers+len(want)*4)
	)
	// keys are what a job is ordered by.
	keys := func(j *baton.Job) []string {
		var k []string
		if j.ConversationID != 0 {
			k = append(k, fmt.Sprintf("conversation %d", j.ConversationID))
		}
		if j.Lane != "" {
			k = append(k, "lane "+j.Lane)
		}
		return k
	}
	for w := 0; w < workers; w++ {
		st := handles[w%len(handles)]
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for idle := 0; idle < 50; {
				j, err := st.ClaimJob(ctx, owner, nil, time.Hour)
				if err != nil {
					errs <- fmt.Errorf("%s: claim: %w", owner, err)
					return
				}
				if j == nil {
					// Jobs of a busy conversation or lane may be the only
					// ones left: the worker holding it finishes soon.
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				mu.Lock()
				claims[j.ID]++
				for _, k := range keys(j) {
					if other, busy := seen.running[k]; busy {
						errs <- fmt.Errorf("%s claimed job %d while job %d of %s runs", owner, j.ID, other, k)
					}
					if j.ID < seen.last[k] {
						errs <- fmt.Errorf("job %d of %s claimed after job %d", j.ID, k, seen.last[k])
					}
					seen.running[k], seen.last[k] = j.ID, j.ID
				}
				mu.Unlock()
				time.Sleep(300 * time.Microsecond) // the work
				mu.Lock()
				for _, k := range keys(j) {
					delete(seen.running, k)
				}
				mu.Unlock()
				if err := st.CompleteJob(ctx, j.ID, owner); err != nil {
					errs <- fmt.Errorf("%s: complete %d: %w", owner, j.ID, err)
					return
				}
			}
		}(fmt.Sprintf("worker-%d", w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claims) != len(want) {
		t.Fatalf("%d distinct jobs claimed, want %d", len(claims), len(want))
	}
	for id, n := range claims {
		if !want[id] {
			t.Errorf("claimed unknown job %d", id)
		}
		if n != 1 {
			t.Errorf("job %d claimed %d times, want exactly once", id, n)
		}
	}
	done, err := handles[0].ListJobs(ctx, baton.JobFilter{Status: baton.JobDone})
	must(t, err, "ListJobs")
	if len(done) != len(want) {
		t.Fatalf("%d jobs done, want %d", len(done), len(want))
	}
}
