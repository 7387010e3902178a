package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/sqlite"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t testing.TB, clock baton.Clock) baton.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// conversation creates a conversation so that jobs can reference it.
func conversation(t *testing.T, st baton.Store, address string) int64 {
	t.Helper()
	ctx := context.Background()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWebChat, Address: address}, "")
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWebChat, Address: address, State: baton.StateBot}
	if err := st.CreateConversation(ctx, c); err != nil {
		t.Fatalf("conversation: %v", err)
	}
	return c.ID
}

func enqueue(t testing.TB, st baton.JobStore, j *baton.Job) int64 {
	t.Helper()
	if _, err := st.Enqueue(context.Background(), j); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return j.ID
}

func shutdown(t *testing.T, p *jobs.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// waitJob polls the store until cond holds for the job or the time is up.
func waitJob(t *testing.T, st baton.JobStore, id int64, what string, cond func(*baton.Job) bool) *baton.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := st.GetJob(context.Background(), id)
		if err != nil {
			t.Fatalf("get job %d: %v", id, err)
		}
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d never became %s: status=%s attempts=%d last_error=%q", id, what, j.Status, j.Attempts, j.LastError)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fastOptions() jobs.Options {
	return jobs.Options{
		Workers:     4,
		Lease:       5 * time.Second,
		BaseBackoff: time.Millisecond,
		MaxBackoff:  2 * time.Millisecond,
		IdleMin:     5 * time.Millisecond,
		IdleMax:     20 * time.Millisecond,
	}
}

func TestBackoff(t *testing.T) {
	base, ceiling := time.Second, time.Minute
	tests := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0.999999, 999999 * time.Microsecond},
		{1, 0.5, 500 * time.Millisecond},
		{2, 0.5, time.Second},
		{3, 0.5, 2 * time.Second},
		{6, 1, 32 * time.Second},
		{7, 1, time.Minute},        // capped
		{7, 0.5, 30 * time.Second}, // the jitter applies to the capped value
		{500, 0.25, 15 * time.Second},
		{1, 0, 0},
		{0, 1, time.Second}, // attempts start at 1
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("attempt=%d/jitter=%g", tc.attempt, tc.jitter), func(t *testing.T) {
			if got := jobs.Backoff(tc.attempt, base, ceiling, tc.jitter); got != tc.want {
				t.Errorf("Backoff = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPoolRunsEveryJobOnceInConversationOrder runs jobs of several
// conversations plus unordered ones on two pools (two processes) sharing
// one store: SQLite always, PostgreSQL when a test database is configured.
func TestPoolRunsEveryJobOnceInConversationOrder(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testOrdering(t, openStore(t, nil)) })
	t.Run("postgres", func(t *testing.T) { testOrdering(t, openPostgres(t)) })
}

func testOrdering(t *testing.T, st baton.Store) {
	convs := []int64{conversation(t, st, "a"), conversation(t, st, "b"), conversation(t, st, "c")}
	const perConv, loose = 12, 8
	var ids []int64
	for i := 0; i < perConv; i++ {
		for _, c := range convs {
			ids = append(ids, enqueue(t, st, &baton.Job{Kind: baton.JobTurn, ConversationID: c, Payload: json.RawMessage(fmt.Sprintf(`{"seq":%d}`, i))}))
		}
	}
	for i := 0; i < loose; i++ {
		ids = append(ids, enqueue(t, st, &baton.Job{Kind: baton.JobDeliver}))
	}

	var (
		mu       sync.Mutex
		runs     = map[int64]int{}
		order    = map[int64][]int{}
		inFlight = map[int64]int{}
		overlap  atomic.Bool
	)
	h := baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
		mu.Lock()
		runs[j.ID]++
		if j.ConversationID != 0 {
			inFlight[j.ConversationID]++
			if inFlight[j.ConversationID] > 1 {
				overlap.Store(true)
			}
			var p struct{ Seq int }
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				mu.Unlock()
				return baton.Errorf(baton.EINVALID, "payload: %w", err)
			}
			order[j.ConversationID] = append(order[j.ConversationID], p.Seq)
		}
		mu.Unlock()
		time.Sleep(time.Millisecond) // give other workers a chance to overlap
		mu.Lock()
		if j.ConversationID != 0 {
			inFlight[j.ConversationID]--
		}
		mu.Unlock()
		return nil
	})
	var observed atomic.Int64
	opts := fastOptions()
	opts.Observe = func(kind, outcome string, _ time.Duration) {
		if outcome == jobs.OutcomeDone {
			observed.Add(1)
		}
	}
	opts.Workers = 2
	var pools []*jobs.Pool
	for _, owner := range []string{"proc-a", "proc-b"} {
		opts.Owner = owner
		p := jobs.New(st, opts)
		for _, kind := range []string{baton.JobTurn, baton.JobDeliver} {
			if err := p.Register(kind, h); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
	}
	for _, id := range ids {
		waitJob(t, st, id, "done", func(j *baton.Job) bool { return j.Status == baton.JobDone })
	}
	for _, p := range pools {
		shutdown(t, p)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if runs[id] != 1 {
			t.Errorf("job %d ran %d times, want 1", id, runs[id])
		}
	}
	if overlap.Load() {
		t.Error("two jobs of one conversation ran at the same time")
	}
	for _, c := range convs {
		for i, seq := range order[c] {
			if seq != i {
				t.Fatalf("conversation %d ran jobs in order %v, want 0..%d", c, order[c], perConv-1)
			}
		}
	}
	if got := observed.Load(); got != int64(len(ids)) {
		t.Errorf("observed %d completions, want %d", got, len(ids))
	}
}

func TestPoolFailureVerdicts(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		// fail returns the error of the given attempt (1-based).
		fail         func(attempt int) error
		wantStatus   baton.JobStatus
		wantAttempts int
		wantError    string // substring of LastError
	}{
		{
			name: "unavailable is retried until it succeeds",
			fail: func(a int) error {
				if a < 3 {
					return baton.Errorf(baton.EUNAVAILABLE, "provider down (attempt %d)", a)
				}
				return nil
			},
			wantStatus: baton.JobDone, wantAttempts: 3, wantError: "provider down (attempt 2)",
		},
		{
			name:       "invalid input is dead-lettered at once",
			fail:       func(int) error { return baton.Errorf(baton.EINVALID, "payload has no message id") },
			wantStatus: baton.JobDead, wantAttempts: 1, wantError: "payload has no message id",
		},
		{
			name:       "forbidden is dead-lettered at once",
			fail:       func(int) error { return baton.Errorf(baton.EFORBIDDEN, "recipient blocked us") },
			wantStatus: baton.JobDead, wantAttempts: 1, wantError: "recipient blocked us",
		},
		{
			name:        "plain errors are retried up to MaxAttempts, keeping the last error",
			maxAttempts: 3,
			fail:        func(a int) error { return fmt.Errorf("boom %d", a) },
			wantStatus:  baton.JobDead, wantAttempts: 3, wantError: "boom 3",
		},
		{
			name: "a panic is an internal error and is retried",
			fail: func(a int) error {
				if a == 1 {
					panic("nil map")
				}
				return nil
			},
			wantStatus: baton.JobDone, wantAttempts: 2, wantError: "panicked: nil map",
		},
		{
			name:        "retry-later is retryable even with a permanent code inside",
			maxAttempts: 2,
			fail: func(a int) error {
				return &baton.RetryLater{After: time.Millisecond, Err: baton.Errorf(baton.EINVALID, "rate limited %d", a)}
			},
			wantStatus: baton.JobDead, wantAttempts: 2, wantError: "rate limited 2",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, nil)
			p := jobs.New(st, fastOptions())
			err := p.Register("work", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
				return tc.fail(j.Attempts)
			}))
			if err != nil {
				t.Fatal(err)
			}
			id := enqueue(t, st, &baton.Job{Kind: "work", MaxAttempts: tc.maxAttempts})
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			j := waitJob(t, st, id, string(tc.wantStatus), func(j *baton.Job) bool {
				return j.Status == baton.JobDone || j.Status == baton.JobDead
			})
			shutdown(t, p)
			if j.Status != tc.wantStatus || j.Attempts != tc.wantAttempts {
				t.Errorf("status=%s attempts=%d, want %s after %d", j.Status, j.Attempts, tc.wantStatus, tc.wantAttempts)
			}
			if !strings.Contains(j.LastError, tc.wantError) {
				t.Errorf("last error %q, want it to contain %q", j.LastError, tc.wantError)
			}
		})
	}
}

func TestRetryLaterDelaysTheNextAttempt(t *testing.T) {
	st := openStore(t, nil)
	p := jobs.New(st, fastOptions())
	var returned time.Time
	err := p.Register("send", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
		returned = time.Now()
		return &baton.RetryLater{After: time.Hour, Err: baton.Errorf(baton.EUNAVAILABLE, "429 from provider")}
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, st, &baton.Job{Kind: "send"})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	j := waitJob(t, st, id, "waiting for retry", func(j *baton.Job) bool {
		return j.Status == baton.JobPending && j.Attempts == 1
	})
	shutdown(t, p)
	if earliest := returned.Add(time.Hour - time.Second); j.RunAt.Before(earliest) {
		t.Errorf("next attempt at %v, want no sooner than %v", j.RunAt, earliest)
	}
	if !strings.Contains(j.LastError, "429 from provider") {
		t.Errorf("last error %q", j.LastError)
	}
}

// TestLongJobKeepsItsLease runs a job three times longer than its lease while
// a second pool (another process) polls for the same kind: without lease
// extension the second pool would take the job over.
func TestLongJobKeepsItsLease(t *testing.T) {
	st := openStore(t, nil)
	var runs atomic.Int32
	h := baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
		runs.Add(1)
		select {
		case <-time.After(1800 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	var lost atomic.Int32
	var pools []*jobs.Pool
	for _, owner := range []string{"proc-a", "proc-b"} {
		opts := fastOptions()
		// Margins are wide because the machine running the tests may be
		// busy: the job takes three leases, extended every 200ms.
		opts.Lease = 600 * time.Millisecond
		opts.Workers = 2
		opts.IdleMin, opts.IdleMax = 20*time.Millisecond, 50*time.Millisecond
		opts.Owner = owner
		opts.Observe = func(_, outcome string, _ time.Duration) {
			if outcome == jobs.OutcomeLost {
				lost.Add(1)
			}
		}
		p := jobs.New(st, opts)
		if err := p.Register("long", h); err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
	}
	id := enqueue(t, st, &baton.Job{Kind: "long"})
	for _, p := range pools {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	j := waitJob(t, st, id, "done", func(j *baton.Job) bool { return j.Status == baton.JobDone })
	for _, p := range pools {
		shutdown(t, p)
	}
	if runs.Load() != 1 || j.Attempts != 1 || lost.Load() != 0 {
		t.Errorf("runs=%d attempts=%d lost=%d, want one run holding its lease", runs.Load(), j.Attempts, lost.Load())
	}
}

// TestLostLeaseCancelsTheHandler: a worker stalls past its lease (the store's
// clock jumps), another owner reclaims the job, and the first worker's next
// extension finds out, cancels its handler and saves nothing.
func TestLostLeaseCancelsTheHandler(t *testing.T) {
	clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := openStore(t, clock)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	opts := fastOptions()
	opts.Workers = 1 // only the rescuer may pick the job up again
	opts.Lease = 150 * time.Millisecond
	opts.Owner = "stalled"
	var outcomes sync.Map
	opts.Observe = func(_, outcome string, _ time.Duration) { outcomes.Store(outcome, true) }
	p := jobs.New(st, opts)
	err := p.Register("slow", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil // a result the pool must not save: the job is not ours any more
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, st, &baton.Job{Kind: "slow"})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	<-started
	// The stalled worker keeps extending in real time; jump the store's
	// clock past its lease and claim before its next extension lands.
	var other *baton.Job
	for i := 0; i < 50 && other == nil; i++ {
		clock.Advance(time.Minute)
		if other, err = st.ClaimJob(context.Background(), "rescuer", []string{"slow"}, time.Hour); err != nil {
			t.Fatalf("rescuer claim: %v", err)
		}
	}
	if other == nil || other.ID != id {
		t.Fatalf("rescuer claimed %v, want job %d", other, id)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled handler was never cancelled")
	}
	shutdown(t, p)
	j, err := st.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != baton.JobRunning || j.LeaseOwner != "rescuer" {
		t.Errorf("job status=%s owner=%q, want still running for the rescuer", j.Status, j.LeaseOwner)
	}
	if _, ok := outcomes.Load(jobs.OutcomeLost); !ok {
		t.Error("the lost lease was not reported")
	}
	if err := st.CompleteJob(context.Background(), id, "rescuer"); err != nil {
		t.Errorf("rescuer complete: %v", err)
	}
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		name         string
		deadline     time.Duration
		wantErr      error
		wantStatus   baton.JobStatus
		wantCanceled bool
	}{
		{"running job finishes within the deadline", 5 * time.Second, nil, baton.JobDone, false},
		{"job past the deadline is cancelled and given back", 100 * time.Millisecond, context.DeadlineExceeded, baton.JobPending, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, nil)
			started := make(chan struct{})
			var canceled atomic.Bool
			p := jobs.New(st, fastOptions())
			err := p.Register("work", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
				close(started)
				// Needs 300ms of work: shorter than one deadline, longer
				// than the other.
				select {
				case <-time.After(300 * time.Millisecond):
					return nil
				case <-ctx.Done():
					canceled.Store(true)
					return ctx.Err()
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			id := enqueue(t, st, &baton.Job{Kind: "work"})
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			<-started
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			if err := p.Shutdown(ctx); !errors.Is(err, tc.wantErr) {
				t.Errorf("Shutdown = %v, want %v", err, tc.wantErr)
			}
			// Once Shutdown returns nothing runs any more: a job enqueued
			// now stays pending.
			late := enqueue(t, st, &baton.Job{Kind: "work"})
			time.Sleep(50 * time.Millisecond)
			for _, c := range []struct {
				id     int64
				status baton.JobStatus
			}{{id, tc.wantStatus}, {late, baton.JobPending}} {
				j, err := st.GetJob(context.Background(), c.id)
				if err != nil {
					t.Fatal(err)
				}
				if j.Status != c.status {
					t.Errorf("job %d status %s, want %s", c.id, j.Status, c.status)
				}
				if c.id == id && tc.wantCanceled && !strings.Contains(j.LastError, "interrupted by shutdown") {
					t.Errorf("interrupted job's last error %q", j.LastError)
				}
			}
			if canceled.Load() != tc.wantCanceled {
				t.Errorf("handler cancelled = %v, want %v", canceled.Load(), tc.wantCanceled)
			}
		})
	}
}

// countingStore counts claims so that tests can tell when workers have polled.
type countingStore struct {
	baton.JobStore
	claims atomic.Int64
}

// ClaimJob counts a claim once it returned: a claim still waiting for the
// database (behind the pool's start-up purge, on SQLite) may yet find a job
// enqueued meanwhile.
func (s *countingStore) ClaimJob(ctx context.Context, owner string, kinds []string, lease time.Duration) (*baton.Job, error) {
	j, err := s.JobStore.ClaimJob(ctx, owner, kinds, lease)
	s.claims.Add(1)
	return j, err
}

func TestNotifyWakesAnIdleWorker(t *testing.T) {
	tests := []struct {
		name   string
		notify bool
	}{
		{"with notify the job runs at once", true},
		{"without notify the job waits for the next poll", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &countingStore{JobStore: openStore(t, nil)}
			opts := fastOptions()
			opts.Workers = 1
			opts.IdleMin, opts.IdleMax = time.Hour, time.Hour
			p := jobs.New(st, opts)
			ran := make(chan struct{}, 1)
			if err := p.Register("turn", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
				ran <- struct{}{}
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			defer shutdown(t, p)
			for st.claims.Load() == 0 { // the worker found nothing and went to sleep
				time.Sleep(time.Millisecond)
			}
			enqueue(t, st, &baton.Job{Kind: "turn"})
			if tc.notify {
				p.Notify()
			}
			wait := 5 * time.Second
			if !tc.notify {
				wait = 200 * time.Millisecond
			}
			select {
			case <-ran:
				if !tc.notify {
					t.Error("the job ran without a notification before the poll interval")
				}
			case <-time.After(wait):
				if tc.notify {
					t.Error("Notify did not wake the idle worker")
				}
			}
		})
	}
}

func TestPoolWithoutKindsClaimsNothing(t *testing.T) {
	st := &countingStore{JobStore: openStore(t, nil)}
	enqueue(t, st, &baton.Job{Kind: "anything"})
	p := jobs.New(st, fastOptions())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	p.Notify()
	shutdown(t, p)
	if n := st.claims.Load(); n != 0 {
		t.Errorf("a pool with no handlers claimed %d times", n)
	}
}

func TestRegister(t *testing.T) {
	st := openStore(t, nil)
	p := jobs.New(st, fastOptions())
	noop := baton.JobHandlerFunc(func(context.Context, *baton.Job) error { return nil })
	tests := []struct {
		name string
		do   func() error
		code string
	}{
		{"first registration", func() error { return p.Register("turn", noop) }, ""},
		{"same kind twice", func() error { return p.Register("turn", noop) }, baton.ECONFLICT},
		{"empty kind", func() error { return p.Register("", noop) }, baton.EINVALID},
		{"nil handler", func() error { return p.Register("deliver", nil) }, baton.EINVALID},
		{"start", p.Start, ""},
		{"after start", func() error { return p.Register("sla", noop) }, baton.ECONFLICT},
		{"start twice", p.Start, baton.ECONFLICT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := baton.ErrorCode(tc.do()); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
		})
	}
	shutdown(t, p)
	if got := strings.Join(p.Kinds(), ","); got != "turn" {
		t.Errorf("kinds %q", got)
	}
}

// BenchmarkPool measures end-to-end throughput of claim → run → complete on
// the SQLite store.
func BenchmarkPool(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) baton.Store
	}{
		{"sqlite", func(tb testing.TB) baton.Store { return openStore(tb, nil) }},
		{"postgres", openPostgres},
	}
	for _, store := range stores {
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("store=%s/workers=%d", store.name, workers), func(b *testing.B) {
				benchPool(b, store.open(b), workers)
			})
		}
	}
}

func benchPool(b *testing.B, st baton.Store, workers int) {
	var done atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	opts := fastOptions()
	opts.Workers = workers
	p := jobs.New(st, opts)
	if err := p.Register("noop", baton.JobHandlerFunc(func(context.Context, *baton.Job) error {
		if done.Add(1) == n {
			close(all)
		}
		return nil
	})); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		enqueue(b, st, &baton.Job{Kind: "noop"})
	}
	b.ResetTimer()
	start := time.Now()
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	<-all
	elapsed := time.Since(start)
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
}

// TestPoolPurgesFinishedJobs: done and dead jobs leave the store once older
// than their retention, each status by its own; pending jobs never do.
func TestPoolPurgesFinishedJobs(t *testing.T) {
	clock := baton.NewManualClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	st := openStore(t, clock)
	opts := fastOptions()
	opts.Clock = clock
	opts.KeepDone, opts.KeepDead, opts.PurgeEvery = time.Hour, 3*time.Hour, 5*time.Millisecond
	p := jobs.New(st, opts)
	for kind, err := range map[string]error{"ok": nil, "bad": baton.Errorf(baton.EINVALID, "no such order")} {
		if err := p.Register(kind, baton.JobHandlerFunc(func(context.Context, *baton.Job) error { return err })); err != nil {
			t.Fatal(err)
		}
	}
	var done, dead []int64
	for i := range 3 {
		done = append(done, enqueue(t, st, &baton.Job{Kind: "ok", Payload: json.RawMessage(fmt.Sprint(i))}))
	}
	for range 2 {
		dead = append(dead, enqueue(t, st, &baton.Job{Kind: "bad"}))
	}
	later := enqueue(t, st, &baton.Job{Kind: "ok", RunAt: clock.Now().Add(30 * 24 * time.Hour)})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, p)
	for _, id := range done {
		waitJob(t, st, id, "done", func(j *baton.Job) bool { return j.Status == baton.JobDone })
	}
	for _, id := range dead {
		waitJob(t, st, id, "dead", func(j *baton.Job) bool { return j.Status == baton.JobDead })
	}
	count := func(status baton.JobStatus) int {
		jobs, err := st.ListJobs(context.Background(), baton.JobFilter{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	waitCount := func(status baton.JobStatus, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for count(status) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d %s jobs, want %d", count(status), status, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond) // ten purge rounds
	if count(baton.JobDone) != 3 || count(baton.JobDead) != 2 {
		t.Fatalf("purged jobs younger than their retention: %d done, %d dead left", count(baton.JobDone), count(baton.JobDead))
	}
	clock.Advance(2 * time.Hour)
	waitCount(baton.JobDone, 0)
	if count(baton.JobDead) != 2 {
		t.Fatalf("dead jobs purged after 2 h, want them kept 3 h")
	}
	clock.Advance(2 * time.Hour)
	waitCount(baton.JobDead, 0)
	if j, err := st.GetJob(context.Background(), later); err != nil || j.Status != baton.JobPending {
		t.Fatalf("pending job = %+v, %v; want it untouched", j, err)
	}
}

// lockedBuffer is written by the workers and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFailedJobErrorsGoThroughTheRedactor: a handler's error may carry what a
// provider or a customer wrote; the pool logs and keeps it only redacted,
// whether the job is retried, dead-lettered or panicked.
func TestFailedJobErrorsGoThroughTheRedactor(t *testing.T) {
	const email = "jane.doe@example.com"
	tests := []struct {
		name string
		fail func(attempt int) error
		want baton.JobStatus
	}{
		{"retried then dead", func(a int) error {
			return baton.Errorf(baton.EUNAVAILABLE, "provider said: no user %s (attempt %d)", email, a)
		}, baton.JobDead},
		{"dead at once", func(int) error { return baton.Errorf(baton.EINVALID, "bad address %s", email) }, baton.JobDead},
		{"panicked", func(a int) error {
			if a == 1 {
				panic("no route to " + email)
			}
			return nil
		}, baton.JobDone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, nil)
			var logs lockedBuffer
			o := fastOptions()
			o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			o.Redact = baton.RedactFunc(func(s string) string { return strings.ReplaceAll(s, email, "[EMAIL]") })
			p := jobs.New(st, o)
			if err := p.Register("work", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error { return tc.fail(j.Attempts) })); err != nil {
				t.Fatal(err)
			}
			id := enqueue(t, st, &baton.Job{Kind: "work", MaxAttempts: 2})
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			j := waitJob(t, st, id, string(tc.want), func(j *baton.Job) bool { return j.Status == tc.want })
			shutdown(t, p)
			if strings.Contains(logs.String(), email) || strings.Contains(j.LastError, email) {
				t.Fatalf("the address reached the log or the job:\nlog: %s\nlast error: %s", logs.String(), j.LastError)
			}
			if !strings.Contains(logs.String(), "[EMAIL]") || !strings.Contains(j.LastError, "[EMAIL]") {
				t.Fatalf("the failure is not reported at all:\nlog: %s\nlast error: %s", logs.String(), j.LastError)
			}
		})
	}
}

// TestExactRetryLaterSkipsTheBackoff: a RetryLater marked Exact runs again
// at After, however long the pool's own backoff would have been; without
// Exact the longer of the two wins.
func TestExactRetryLaterSkipsTheBackoff(t *testing.T) {
	for _, tc := range []struct {
		name  string
		exact bool
		want  time.Duration
	}{
		{"exact", true, time.Second},
		{"not exact", false, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := baton.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			st := openStore(t, clock)
			// The backoff of the first retry is a full hour (jitter 1).
			p := jobs.New(st, jobs.Options{Clock: clock, BaseBackoff: time.Hour, MaxBackoff: time.Hour, Jitter: func() float64 { return 1 }})
			err := p.Register("post", baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
				return &baton.RetryLater{After: time.Second, Exact: tc.exact, Err: baton.Errorf(baton.EUNAVAILABLE, "Slack answered 503")}
			}))
			if err != nil {
				t.Fatal(err)
			}
			id := enqueue(t, st, &baton.Job{Kind: "post"})
			if _, err := p.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			j, err := st.GetJob(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != baton.JobPending || !j.RunAt.Equal(clock.Now().Add(tc.want)) {
				t.Fatalf("job %s at %v, want pending at now+%v", j.Status, j.RunAt.Sub(clock.Now()), tc.want)
			}
		})
	}
}
