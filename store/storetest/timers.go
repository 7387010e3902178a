package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// schedule arms a timer and checks whether it replaced a pending one.
func schedule(t *testing.T, ctx context.Context, st baton.Store, j *baton.Job, wantReplaced bool) *baton.Job {
	t.Helper()
	replaced, err := st.ScheduleJob(ctx, j)
	must(t, err, "ScheduleJob "+j.Key)
	if replaced != wantReplaced {
		t.Fatalf("ScheduleJob %s: replaced = %v, want %v", j.Key, replaced, wantReplaced)
	}
	if j.ID == 0 || j.Status != baton.JobPending || j.Attempts != 0 || j.LastError != "" {
		t.Fatalf("scheduled = %+v, want a fresh pending job", j)
	}
	return j
}

// holders returns the jobs that hold key (at most one may).
func holders(t *testing.T, ctx context.Context, st baton.Store, kind, key string) []*baton.Job {
	t.Helper()
	all, err := st.ListJobs(ctx, baton.JobFilter{Kind: kind})
	must(t, err, "ListJobs")
	var out []*baton.Job
	for _, j := range all {
		if j.Key == key {
			out = append(out, j)
		}
	}
	return out
}

func (s *suite) testScheduleJob(t *testing.T) {
	st, clock, ctx := s.fresh(t)

	var timer *baton.Job
	t.Run("a new key", func(t *testing.T) {
		timer = schedule(t, ctx, st, &baton.Job{Kind: baton.JobSLA, Key: "sla:1", ConversationID: 1, RunAt: clock.Now().Add(time.Hour),
			Payload: json.RawMessage(`{"step":"warn"}`)}, false)
		got, err := st.GetJob(ctx, timer.ID)
		must(t, err, "GetJob")
		if got.Key != "sla:1" || got.Kind != baton.JobSLA || got.ConversationID != 1 || got.MaxAttempts != baton.DefaultMaxAttempts {
			t.Fatalf("stored = %+v", got)
		}
		wantTime(t, "RunAt", got.RunAt, clock.Now().Add(time.Hour))
		wantJSON(t, "payload", got.Payload, []byte(`{"step":"warn"}`))
	})

	t.Run("moving a pending timer replaces it in place", func(t *testing.T) {
		// It failed once and waits for a retry: still pending, and the
		// new schedule starts it over.
		clock.Advance(time.Hour)
		j := claim(t, ctx, st, "w", nil, timer.ID)
		must(t, st.RetryJob(ctx, j.ID, "w", "slack down", clock.Now().Add(time.Minute)), "RetryJob")
		moved := schedule(t, ctx, st, &baton.Job{Kind: baton.JobSnooze, Key: "sla:1", ConversationID: 1, RunAt: clock.Now().Add(2 * time.Hour),
			MaxAttempts: 3, Payload: json.RawMessage(`{"step":"breach"}`)}, true)
		if moved.ID != timer.ID || moved.Kind != baton.JobSnooze || moved.MaxAttempts != 3 || moved.Key != "sla:1" {
			t.Fatalf("moved = %+v, want job %d with the new values", moved, timer.ID)
		}
		wantTime(t, "RunAt", moved.RunAt, clock.Now().Add(2*time.Hour))
		wantJSON(t, "payload", moved.Payload, []byte(`{"step":"breach"}`))
		got, err := st.GetJob(ctx, timer.ID)
		must(t, err, "GetJob")
		if got.Attempts != 0 || got.LastError != "" || got.Status != baton.JobPending || got.Kind != baton.JobSnooze {
			t.Fatalf("stored = %+v, want attempts and error reset", got)
		}
		clock.Advance(time.Hour)
		claim(t, ctx, st, "w", nil, 0) // not due at its old time
		clock.Advance(time.Hour)
		j = claim(t, ctx, st, "w", nil, timer.ID)
		if len(holders(t, ctx, st, baton.JobSnooze, "sla:1")) != 1 {
			t.Fatal("the running timer lost its key before a new schedule")
		}
		timer = j
	})

	t.Run("a running timer keeps its work and gives up its key", func(t *testing.T) {
		next := schedule(t, ctx, st, &baton.Job{Kind: baton.JobSLA, Key: "sla:1", ConversationID: 1, RunAt: clock.Now().Add(time.Hour)}, false)
		if next.ID == timer.ID {
			t.Fatal("the running job was replaced")
		}
		old, err := st.GetJob(ctx, timer.ID)
		must(t, err, "GetJob")
		if old.Status != baton.JobRunning || old.Key != "" || old.LeaseOwner != "w" {
			t.Fatalf("the running job = %+v, want running for w without a key", old)
		}
		must(t, st.CompleteJob(ctx, timer.ID, "w"), "the running job completes")
		if h := holders(t, ctx, st, baton.JobSLA, "sla:1"); len(h) != 1 || h[0].ID != next.ID {
			t.Fatalf("key holders = %+v, want only job %d", h, next.ID)
		}
		timer = next
	})

	t.Run("a finished timer gives up its key", func(t *testing.T) {
		clock.Advance(time.Hour)
		j := claim(t, ctx, st, "w", nil, timer.ID)
		must(t, st.CompleteJob(ctx, j.ID, "w"), "CompleteJob")
		next := schedule(t, ctx, st, &baton.Job{Kind: baton.JobSLA, Key: "sla:1", RunAt: clock.Now().Add(time.Hour)}, false)
		done, err := st.GetJob(ctx, timer.ID)
		must(t, err, "GetJob")
		if done.Status != baton.JobDone || done.Key != "" {
			t.Fatalf("the finished job = %+v, want done without a key", done)
		}
		timer = next
	})

	t.Run("Enqueue of a scheduled key returns the timer", func(t *testing.T) {
		j := &baton.Job{Kind: baton.JobSLA, Key: "sla:1"}
		created, err := st.Enqueue(ctx, j)
		must(t, err, "Enqueue")
		if created || j.ID != timer.ID {
			t.Fatalf("Enqueue created=%v id=%d, want the timer %d", created, j.ID, timer.ID)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		cancelled, err := st.CancelJob(ctx, "sla:1")
		must(t, err, "CancelJob")
		if !cancelled {
			t.Fatal("the pending timer was not cancelled")
		}
		_, err = st.GetJob(ctx, timer.ID)
		wantCode(t, err, baton.ENOTFOUND, "a cancelled timer")
		cancelled, err = st.CancelJob(ctx, "sla:1")
		must(t, err, "CancelJob again")
		if cancelled {
			t.Fatal("cancelled twice")
		}
		clock.Advance(2 * time.Hour)
		claim(t, ctx, st, "w", nil, 0)
		// The key is free: a schedule starts a new timer.
		schedule(t, ctx, st, &baton.Job{Kind: baton.JobSLA, Key: "sla:1"}, false)
	})

	t.Run("cancel leaves a running job alone", func(t *testing.T) {
		j := claim(t, ctx, st, "w", nil, holders(t, ctx, st, baton.JobSLA, "sla:1")[0].ID)
		cancelled, err := st.CancelJob(ctx, "sla:1")
		must(t, err, "CancelJob")
		if cancelled {
			t.Fatal("a running job was cancelled")
		}
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Status != baton.JobRunning || got.Key != "sla:1" {
			t.Fatalf("running job = %+v, want running with its key", got)
		}
		must(t, st.CompleteJob(ctx, j.ID, "w"), "CompleteJob")
	})

	t.Run("RunAt defaults to now", func(t *testing.T) {
		j := schedule(t, ctx, st, &baton.Job{Kind: baton.JobCSAT, Key: "csat:9"}, false)
		wantTime(t, "RunAt", j.RunAt, clock.Now())
		claim(t, ctx, st, "w", nil, j.ID)
	})

	t.Run("bad input changes nothing", func(t *testing.T) {
		for name, j := range map[string]*baton.Job{
			"no key":           {Kind: baton.JobSLA},
			"a blank key":      {Kind: baton.JobSLA, Key: "  "},
			"no kind":          {Key: "sla:bad"},
			"bad payload":      {Kind: baton.JobSLA, Key: "sla:bad", Payload: json.RawMessage(`{nope`)},
			"negative max":     {Kind: baton.JobSLA, Key: "sla:bad", MaxAttempts: -1},
			"negative conv id": {Kind: baton.JobSLA, Key: "sla:bad", ConversationID: -1},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := st.ScheduleJob(ctx, j)
				wantCode(t, err, baton.EINVALID, "ScheduleJob")
			})
		}
		_, err := st.CancelJob(ctx, "")
		wantCode(t, err, baton.EINVALID, "CancelJob without a key")
		if h := holders(t, ctx, st, baton.JobSLA, "sla:bad"); len(h) != 0 {
			t.Fatalf("a bad schedule stored %+v", h)
		}
	})

	t.Run("inside a transaction that rolls back", func(t *testing.T) {
		err := st.Tx(ctx, func(tx baton.Store) error {
			if _, err := tx.ScheduleJob(ctx, &baton.Job{Kind: baton.JobSLA, Key: "sla:tx", RunAt: clock.Now().Add(time.Hour)}); err != nil {
				return err
			}
			return baton.Errorf(baton.EINVALID, "changed my mind")
		})
		wantCode(t, err, baton.EINVALID, "Tx")
		if h := holders(t, ctx, st, baton.JobSLA, "sla:tx"); len(h) != 0 {
			t.Fatalf("a rolled back schedule stored %+v", h)
		}
	})
}

func (s *suite) testScheduleJobConcurrently(t *testing.T) {
	t.Run("racing schedules of one timer leave one job, which fires once", func(t *testing.T) {
		a, b, clock, ctx := s.pair(t)
		const n = 16
		base := clock.Now()
		jobs := make([]*baton.Job, n)
		replaced := make([]bool, n)
		errs := race(n, func(i int) error {
			jobs[i] = &baton.Job{Kind: baton.JobSLA, Key: "sla:race", ConversationID: 7, RunAt: base.Add(time.Duration(i+1) * time.Minute),
				Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
			var err error
			replaced[i], err = []baton.Store{a, b}[i%2].ScheduleJob(ctx, jobs[i])
			return err
		})
		created := 0
		for i, err := range errs {
			must(t, err, fmt.Sprintf("ScheduleJob %d", i))
			if !replaced[i] {
				created++
			}
			if jobs[i].ID != jobs[0].ID {
				t.Fatalf("schedules returned jobs %d and %d", jobs[0].ID, jobs[i].ID)
			}
		}
		if created != 1 {
			t.Fatalf("%d schedules created the timer, want 1", created)
		}
		h := holders(t, ctx, a, baton.JobSLA, "sla:race")
		if len(h) != 1 {
			t.Fatalf("%d jobs hold the key, want 1", len(h))
		}
		clock.Advance(time.Hour)
		fired := 0
		for {
			j, err := b.ClaimJob(ctx, "w", nil, lease)
			must(t, err, "ClaimJob")
			if j == nil {
				break
			}
			fired++
			must(t, b.CompleteJob(ctx, j.ID, "w"), "CompleteJob")
		}
		if fired != 1 {
			t.Fatalf("the timer fired %d times, want once", fired)
		}
	})

	t.Run("a schedule racing a claim: one wins, the key moves once", func(t *testing.T) {
		a, b, clock, ctx := s.pair(t)
		const keys = 24
		due := clock.Now()
		later := due.Add(time.Hour)
		orig := map[string]int64{}
		for i := 0; i < keys; i++ {
			key := fmt.Sprintf("sla:%d", i)
			orig[key] = schedule(t, ctx, a, &baton.Job{Kind: baton.JobSLA, Key: key, RunAt: due}, false).ID
		}
		var claimedMu sync.Mutex
		claimed := map[int64]bool{}
		results := make([]*baton.Job, keys)
		replaced := make([]bool, keys)
		errs := race(2*keys, func(i int) error {
			if i%2 == 0 {
				j, err := a.ClaimJob(ctx, fmt.Sprintf("w%d", i), nil, lease)
				if err == nil && j != nil {
					claimedMu.Lock()
					claimed[j.ID] = true
					claimedMu.Unlock()
				}
				return err
			}
			k := i / 2
			results[k] = &baton.Job{Kind: baton.JobSLA, Key: fmt.Sprintf("sla:%d", k), RunAt: later}
			var err error
			replaced[k], err = b.ScheduleJob(ctx, results[k])
			return err
		})
		for _, err := range errs {
			must(t, err, "race")
		}
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("sla:%d", k)
			j := results[k]
			switch {
			case claimed[orig[key]]:
				// The claim came first: the old job runs without its key,
				// a new one holds it.
				if replaced[k] || j.ID == orig[key] {
					t.Errorf("%s: claimed job %d, yet the schedule replaced it (%v, job %d)", key, orig[key], replaced[k], j.ID)
				}
				old, err := a.GetJob(ctx, orig[key])
				must(t, err, "GetJob")
				if old.Status != baton.JobRunning || old.Key != "" {
					t.Errorf("%s: the claimed job = %+v, want running without its key", key, old)
				}
			default:
				if !replaced[k] || j.ID != orig[key] {
					t.Errorf("%s: not claimed, yet the schedule did not move it (replaced %v, job %d of %d)", key, replaced[k], j.ID, orig[key])
				}
			}
			h := holders(t, ctx, a, baton.JobSLA, key)
			if len(h) != 1 || h[0].Status != baton.JobPending || !h[0].RunAt.Equal(later) {
				t.Errorf("%s: holders = %+v, want one pending job at %v", key, h, later)
			}
		}
	})

	t.Run("a cancel racing a claim: exactly one of them gets the job", func(t *testing.T) {
		a, b, clock, ctx := s.pair(t)
		const keys = 24
		for i := 0; i < keys; i++ {
			schedule(t, ctx, a, &baton.Job{Kind: baton.JobSLA, Key: fmt.Sprintf("sla:%d", i), RunAt: clock.Now()}, false)
		}
		claims := make([]*baton.Job, keys)
		cancels := make([]bool, keys)
		errs := race(2*keys, func(i int) error {
			var err error
			if i%2 == 0 {
				claims[i/2], err = a.ClaimJob(ctx, fmt.Sprintf("w%d", i), nil, lease)
			} else {
				cancels[i/2], err = b.CancelJob(ctx, fmt.Sprintf("sla:%d", i/2))
			}
			return err
		})
		for _, err := range errs {
			must(t, err, "race")
		}
		claimedKeys := map[string]bool{}
		for _, j := range claims {
			if j != nil {
				claimedKeys[j.Key] = true
			}
		}
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("sla:%d", k)
			if claimedKeys[key] == cancels[k] {
				t.Errorf("%s: claimed %v, cancelled %v; want exactly one", key, claimedKeys[key], cancels[k])
			}
		}
	})
}
