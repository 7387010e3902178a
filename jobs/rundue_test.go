package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/jobs"
)

// TestRunDue drains the due jobs in the caller's goroutine with the pool's
// verdicts, on SQLite and PostgreSQL, without Start.
func TestRunDue(t *testing.T) {
	type jobCase struct {
		kind  string
		runAt time.Duration // from now; positive is later
		// fail returns the error of the given attempt (1-based).
		fail         func(attempt int) error
		maxAttempts  int
		wantStatus   baton.JobStatus
		wantAttempts int
		wantError    string
	}
	unavailable := func(upTo int) func(int) error {
		return func(a int) error {
			if a <= upTo {
				return baton.Errorf(baton.EUNAVAILABLE, "provider down (attempt %d)", a)
			}
			return nil
		}
	}
	tests := []struct {
		name        string
		baseBackoff time.Duration
		jobs        []jobCase
		wantRan     int
	}{
		{"due jobs run once, later ones stay", time.Hour, []jobCase{
			{kind: "work", wantStatus: baton.JobDone, wantAttempts: 1},
			{kind: "work", wantStatus: baton.JobDone, wantAttempts: 1},
			{kind: "work", runAt: time.Hour, wantStatus: baton.JobPending, wantAttempts: 0},
			{kind: "unregistered", wantStatus: baton.JobPending, wantAttempts: 0},
		}, 2},
		{"bad input is dead-lettered at once", time.Hour, []jobCase{
			{kind: "work", fail: func(int) error { return baton.Errorf(baton.EINVALID, "payload has no message id") },
				wantStatus: baton.JobDead, wantAttempts: 1, wantError: "payload has no message id"},
		}, 1},
		{"a retry due later waits", time.Hour, []jobCase{
			{kind: "work", fail: unavailable(1), wantStatus: baton.JobPending, wantAttempts: 1, wantError: "provider down (attempt 1)"},
		}, 1},
		{"a retry due now runs again in the same call", 0, []jobCase{
			{kind: "work", fail: unavailable(2), wantStatus: baton.JobDone, wantAttempts: 3, wantError: "provider down (attempt 2)"},
		}, 3},
		{"retries stop at MaxAttempts", 0, []jobCase{
			{kind: "work", fail: unavailable(10), maxAttempts: 2, wantStatus: baton.JobDead, wantAttempts: 2, wantError: "provider down (attempt 2)"},
		}, 2},
		{"a panic is an internal error, retried", 0, []jobCase{
			{kind: "work", fail: func(a int) error {
				if a == 1 {
					panic("nil map")
				}
				return nil
			}, wantStatus: baton.JobDone, wantAttempts: 2, wantError: "panicked: nil map"},
		}, 2},
	}
	for _, sc := range []struct {
		name string
		open func(t *testing.T) baton.Store
	}{
		{"sqlite", func(t *testing.T) baton.Store { return openStore(t, nil) }},
		{"postgres", func(t *testing.T) baton.Store { return openPostgres(t) }},
	} {
		for _, tc := range tests {
			t.Run(sc.name+"/"+tc.name, func(t *testing.T) {
				st := sc.open(t)
				opts := fastOptions()
				opts.BaseBackoff, opts.MaxBackoff = tc.baseBackoff, max(tc.baseBackoff, time.Millisecond)
				// Half the backoff window, or none: a retry due now.
				jitter := 0.5
				if tc.baseBackoff == 0 {
					jitter = 0
				}
				opts.Jitter = func() float64 { return jitter }
				observed := map[string]int{}
				var mu sync.Mutex
				opts.Observe = func(kind, outcome string, _ time.Duration) {
					mu.Lock()
					observed[outcome]++
					mu.Unlock()
				}
				p := jobs.New(st, opts)
				ids := make([]int64, len(tc.jobs))
				now := time.Now()
				for i, jc := range tc.jobs {
					ids[i] = enqueue(t, st, &baton.Job{Kind: jc.kind, RunAt: now.Add(jc.runAt), MaxAttempts: jc.maxAttempts,
						Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
				}
				err := p.Register("work", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
					var pl struct{ I int }
					_ = json.Unmarshal(j.Payload, &pl)
					if f := tc.jobs[pl.I].fail; f != nil {
						return f(j.Attempts)
					}
					return nil
				}))
				if err != nil {
					t.Fatal(err)
				}
				ran, err := p.RunDue(context.Background())
				if err != nil || ran != tc.wantRan {
					t.Fatalf("RunDue = %d, %v; want %d attempts", ran, err, tc.wantRan)
				}
				for i, jc := range tc.jobs {
					j, err := st.GetJob(context.Background(), ids[i])
					if err != nil {
						t.Fatal(err)
					}
					if j.Status != jc.wantStatus || j.Attempts != jc.wantAttempts || !strings.Contains(j.LastError, jc.wantError) {
						t.Errorf("job %d: status=%s attempts=%d error=%q; want %s after %d with %q",
							i, j.Status, j.Attempts, j.LastError, jc.wantStatus, jc.wantAttempts, jc.wantError)
					}
				}
				mu.Lock()
				total := 0
				for _, n := range observed {
					total += n
				}
				mu.Unlock()
				if total != tc.wantRan {
					t.Errorf("observed %v, want %d attempts", observed, tc.wantRan)
				}
				// Nothing is due any more: a second call runs nothing.
				if ran, err := p.RunDue(context.Background()); ran != 0 || err != nil {
					t.Errorf("second RunDue = %d, %v; want 0", ran, err)
				}
			})
		}
	}
}

// TestRunDueCancelled: cancelling the caller's context interrupts the
// running job, which is given back to run again at once, and stops the
// drain.
func TestRunDueCancelled(t *testing.T) {
	st := openStore(t, nil)
	p := jobs.New(st, fastOptions())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	if err := p.Register("work", baton.JobHandlerFunc(func(jctx context.Context, j *baton.Job) error {
		calls++
		cancel()
		<-jctx.Done()
		return jctx.Err()
	})); err != nil {
		t.Fatal(err)
	}
	first := enqueue(t, st, &baton.Job{Kind: "work"})
	second := enqueue(t, st, &baton.Job{Kind: "work"})
	ran, err := p.RunDue(ctx)
	if !errors.Is(err, context.Canceled) || ran != 1 || calls != 1 {
		t.Fatalf("RunDue = %d, %v after %d calls; want 1 attempt and context.Canceled", ran, err, calls)
	}
	j, err := st.GetJob(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != baton.JobPending || j.Attempts != 1 || !strings.Contains(j.LastError, "interrupted by the caller") || j.RunAt.After(time.Now()) {
		t.Errorf("interrupted job: status=%s attempts=%d error=%q run_at=%v; want pending, due now", j.Status, j.Attempts, j.LastError, j.RunAt)
	}
	if j, _ := st.GetJob(context.Background(), second); j.Status != baton.JobPending || j.Attempts != 0 {
		t.Errorf("second job status=%s attempts=%d, want untouched", j.Status, j.Attempts)
	}
}

func TestRunDueWithoutKindsClaimsNothing(t *testing.T) {
	st := &countingStore{JobStore: openStore(t, nil)}
	enqueue(t, st, &baton.Job{Kind: "anything"})
	p := jobs.New(st, fastOptions())
	if ran, err := p.RunDue(context.Background()); ran != 0 || err != nil {
		t.Fatalf("RunDue = %d, %v; want 0", ran, err)
	}
	if n := st.claims.Load(); n != 0 {
		t.Errorf("RunDue with no handlers claimed %d times", n)
	}
}
