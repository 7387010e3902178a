package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testJobConcurrentClaims(t *testing.T) {
	st, _, ctx := s.fresh(t)
	const jobs = 120
	want := map[int64]bool{}
	for i := 0; i < jobs; i++ {
		// Most jobs belong to one of three conversations, so neighbouring
		// jobs, which claimers reach at the same time, often share one.
		j := &baton.Job{Kind: baton.JobDeliver}
		if i%4 != 0 {
			j.ConversationID = int64(i%3 + 1)
		}
		enqueue(t, ctx, st, j)
		want[j.ID] = true
	}
	claimConcurrently(t, ctx, []baton.Store{st}, 8, want)
}

// testJobCrash is the acceptance test for leases: a worker that dies
// holding a job loses it when the lease passes, the job is done exactly
// once, and a late completion by the dead worker is refused.
func (s *suite) testJobCrash(t *testing.T) {
	t.Run("reclaimed after the lease and done once", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		j := enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: 1})
		a := claim(t, ctx, st, "worker-a", nil, j.ID)
		// Worker A dies here. Until its lease passes nobody else gets the job.
		clock.Advance(lease - time.Microsecond)
		claim(t, ctx, st, "worker-b", nil, 0)
		clock.Advance(time.Microsecond)
		b := claim(t, ctx, st, "worker-b", nil, j.ID)
		if b.Attempts != a.Attempts+1 || b.LeaseOwner != "worker-b" {
			t.Fatalf("reclaim = attempts %d owner %q", b.Attempts, b.LeaseOwner)
		}
		must(t, st.CompleteJob(ctx, j.ID, "worker-b"), "B completes")
		wantCode(t, st.CompleteJob(ctx, j.ID, "worker-a"), baton.ECONFLICT, "A's late completion")
		wantCode(t, st.RetryJob(ctx, j.ID, "worker-a", "late", clock.Now()), baton.ECONFLICT, "A's late retry")
		got, err := st.GetJob(ctx, j.ID)
		must(t, err, "GetJob")
		if got.Status != baton.JobDone || got.LeaseOwner != "worker-b" {
			t.Fatalf("job = status %q owner %q, want done by worker-b", got.Status, got.LeaseOwner)
		}
		clock.Advance(10 * lease)
		claim(t, ctx, st, "worker-c", nil, 0)
	})

	t.Run("racing workers that die", func(t *testing.T) {
		st, clock, ctx := s.fresh(t)
		const (
			workers       = 8
			conversations = 6
			jobs          = 90
			crashLease    = 10 * time.Second
		)
		for i := 0; i < jobs; i++ {
			enqueue(t, ctx, st, &baton.Job{Kind: baton.JobTurn, ConversationID: int64(i % (conversations + 1)) /* 0 = free */})
		}
		h := newLeaseChecker(t)
		stop := make(chan struct{})
		var clockWG sync.WaitGroup
		clockWG.Add(1)
		go func() {
			// Time passes while the workers run, so that dead workers'
			// leases expire and live ones sometimes do too.
			defer clockWG.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Microsecond):
					clock.Advance(time.Second)
				}
			}
		}()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for gen := 0; ; gen++ {
					owner := fmt.Sprintf("w%d.%d", w, gen)
					if h.allDone(jobs) || ctx.Err() != nil {
						return
					}
					j, err := st.ClaimJob(ctx, owner, nil, crashLease)
					if err != nil {
						h.fail("claim: %v", err)
						return
					}
					if j == nil {
						time.Sleep(100 * time.Microsecond)
						continue
					}
					h.claimed(j, crashLease)
					if rng.IntN(5) == 0 {
						// This worker dies holding the job; the next
						// generation of the goroutine is a new worker.
						continue
					}
					h.releasing(j.ID, owner)
					err = st.CompleteJob(ctx, j.ID, owner)
					switch baton.ErrorCode(err) {
					case "":
						h.completed(j)
					case baton.ECONFLICT:
						// The lease ran out under this worker and another
						// took the job over: that one completes it.
					default:
						h.fail("complete %d: %v", j.ID, err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(stop)
		clockWG.Wait()
		h.check(jobs)
		done, err := st.ListJobs(ctx, baton.JobFilter{Status: baton.JobDone})
		must(t, err, "ListJobs")
		if len(done) != jobs {
			t.Fatalf("%d jobs done in the store, want %d", len(done), jobs)
		}
		for _, j := range done {
			if h.completions[j.ID] != 1 {
				t.Errorf("job %d completed %d times, want exactly once", j.ID, h.completions[j.ID])
			}
		}
	})
}

// leaseChecker watches every claim for two live leases on one job or on one
// conversation at the same store time. A lease is live from the claim until
// it runs out or its worker starts completing the job; leases of workers that
// died stay live until they run out. Intervals are compared, not arrival
// order, so a worker that is slow to report its claim cannot cause a false
// alarm.
type leaseChecker struct {
	t           *testing.T
	mu          sync.Mutex
	leases      []heldLease
	completions map[int64]int
	failures    []string
}

type heldLease struct {
	job   int64
	owner string
	conv  int64
	from  time.Time
	until time.Time
	live  bool
}

func newLeaseChecker(t *testing.T) *leaseChecker {
	return &leaseChecker{t: t, completions: map[int64]int{}}
}

func (h *leaseChecker) fail(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures = append(h.failures, fmt.Sprintf(format, args...))
}

func (h *leaseChecker) claimed(j *baton.Job, lease time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if j.LeaseUntil == nil {
		h.failures = append(h.failures, fmt.Sprintf("job %d claimed without a lease", j.ID))
		return
	}
	// The store's "now" at the claim is the lease end minus the lease.
	l := heldLease{job: j.ID, owner: j.LeaseOwner, conv: j.ConversationID, from: j.LeaseUntil.Add(-lease), until: *j.LeaseUntil, live: true}
	for _, o := range h.leases {
		if !o.live || !(o.from.Before(l.until) && l.from.Before(o.until)) {
			continue
		}
		if o.job == l.job {
			h.failures = append(h.failures, fmt.Sprintf("job %d: lease of %s [%v, %v) overlaps lease of %s [%v, %v)", l.job, l.owner, l.from, l.until, o.owner, o.from, o.until))
		} else if l.conv != 0 && o.conv == l.conv {
			h.failures = append(h.failures, fmt.Sprintf("conversation %d: job %d (%s) [%v, %v) overlaps job %d (%s) [%v, %v)", l.conv, l.job, l.owner, l.from, l.until, o.job, o.owner, o.from, o.until))
		}
	}
	h.leases = append(h.leases, l)
}

// releasing is called before CompleteJob: from then on the job may be
// handed on, so the checker stops counting the lease as live.
func (h *leaseChecker) releasing(id int64, owner string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.leases {
		if h.leases[i].job == id && h.leases[i].owner == owner {
			h.leases[i].live = false
		}
	}
}

func (h *leaseChecker) completed(j *baton.Job) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.completions[j.ID]++
}

func (h *leaseChecker) allDone(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.completions) >= n || len(h.failures) > 0
}

func (h *leaseChecker) check(n int) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.failures {
		h.t.Error(f)
	}
	if len(h.completions) != n {
		h.t.Errorf("%d jobs completed, want %d", len(h.completions), n)
	}
	for id, c := range h.completions {
		if c != 1 {
			h.t.Errorf("job %d completed %d times", id, c)
		}
	}
}
