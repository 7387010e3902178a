package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testJobPurge(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	t0 := clock.Now()
	// finish runs a job to the given end at the clock's current time.
	finish := func(t *testing.T, status baton.JobStatus) int64 {
		t.Helper()
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobDeliver})
		claim(t, ctx, st, "w", nil, j.ID)
		if status == baton.JobDone {
			must(t, st.CompleteJob(ctx, j.ID, "w"), "CompleteJob")
		} else {
			must(t, st.KillJob(ctx, j.ID, "w", "gave up"), "KillJob")
		}
		return j.ID
	}
	var oldDone, newDone, oldDead []int64
	for range 3 {
		oldDone = append(oldDone, finish(t, baton.JobDone))
		oldDead = append(oldDead, finish(t, baton.JobDead))
		clock.Advance(time.Minute)
	}
	clock.Advance(time.Hour)
	cutoff := clock.Now()
	newDone = append(newDone, finish(t, baton.JobDone))
	pending := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, RunAt: t0}).ID
	running := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobCSAT, RunAt: t0}).ID
	claim(t, ctx, st, "w2", []string{baton.JobCSAT}, running)
	clock.Advance(24 * time.Hour)

	remaining := func(t *testing.T) []int64 {
		t.Helper()
		jobs, err := st.ListJobs(ctx, baton.JobFilter{})
		must(t, err, "ListJobs")
		var ids []int64
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		return ids
	}
	purge := func(t *testing.T, status baton.JobStatus, limit, want int) {
		t.Helper()
		n, err := st.PurgeJobs(ctx, status, cutoff, limit)
		must(t, err, "PurgeJobs")
		if n != want {
			t.Fatalf("PurgeJobs(%s, limit %d) deleted %d, want %d", status, limit, n, want)
		}
	}
	t.Run("oldest first, at most limit", func(t *testing.T) {
		purge(t, baton.JobDone, 2, 2)
		if ids := remaining(t); slices.Contains(ids, oldDone[0]) || slices.Contains(ids, oldDone[1]) || !slices.Contains(ids, oldDone[2]) {
			t.Fatalf("after purging 2 of 3 old done jobs, jobs left %v (old done %v)", ids, oldDone)
		}
		purge(t, baton.JobDone, 10, 1)
		purge(t, baton.JobDone, 10, 0)
	})
	t.Run("only the status asked, only before the cutoff", func(t *testing.T) {
		want := slices.Concat(oldDead, newDone, []int64{pending, running})
		slices.Sort(want)
		if ids := remaining(t); !slices.Equal(ids, want) {
			t.Fatalf("jobs left %v, want %v", ids, want)
		}
		purge(t, baton.JobDead, 100, 3)
		want = slices.Concat(newDone, []int64{pending, running})
		slices.Sort(want)
		if ids := remaining(t); !slices.Equal(ids, want) {
			t.Fatalf("jobs left %v, want %v", ids, want)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for name, c := range map[string]struct {
			status baton.JobStatus
			limit  int
		}{
			"pending": {baton.JobPending, 10},
			"running": {baton.JobRunning, 10},
			"unknown": {"finished", 10},
			"limit 0": {baton.JobDone, 0},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := st.PurgeJobs(ctx, c.status, clock.Now().Add(time.Hour), c.limit)
				wantCode(t, err, baton.EINVALID, "PurgeJobs")
			})
		}
		if ids := remaining(t); len(ids) != 3 {
			t.Fatalf("an invalid purge changed the queue: %v", ids)
		}
	})
}
