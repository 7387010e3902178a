// Package jobs runs durable jobs: a pool of workers that claim jobs of the
// registered kinds from a baton.JobStore, keep their leases alive while they
// run, retry failures with capped exponential backoff and full jitter,
// dead-letter what cannot succeed, and drain gracefully on shutdown.
//
// Ordering and mutual exclusion per conversation are the store's job (its
// claim rule); the pool only has to hold a lease while it works and give the
// job back with the right verdict.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Outcomes reported to Options.Observe.
const (
	OutcomeDone  = "done"  // completed
	OutcomeRetry = "retry" // failed, will run again
	OutcomeDead  = "dead"  // dead-lettered
	OutcomeLost  = "lost"  // the lease was lost; another worker owns the job now
)

// Options configure a Pool. Zero values take the defaults in brackets.
type Options struct {
	Workers     int           // concurrent jobs [4]
	Lease       time.Duration // how long a claim holds a job before others may take it [30s]
	BaseBackoff time.Duration // delay before the first retry, before jitter [1s]
	MaxBackoff  time.Duration // cap of the exponential backoff [10m]
	IdleMin     time.Duration // first poll delay when there was nothing to do [50ms]
	IdleMax     time.Duration // poll delay ceiling when idle or the store fails [1s]
	// StoreTimeout bounds every call to the store, so that a hung database
	// cannot wedge a worker forever [5s].
	StoreTimeout time.Duration
	// CancelWait is how long Shutdown waits for cancelled jobs to return
	// once its deadline passed [1s]. A handler that ignores its context is
	// abandoned after that; its lease expires and the job runs again.
	CancelWait time.Duration
	// Owner identifies this process in leases [host-pid-random]; each
	// worker claims as Owner/w<n>, so that a job reclaimed after an expired
	// lease is noticed even by another worker of the same process.
	Owner  string
	Clock  baton.Clock  // [baton.SystemClock]
	Logger *slog.Logger // [discard]
	// KeepDone and KeepDead are how long finished jobs stay in the store,
	// for inspection, before the pool purges them [7 days; 30 days, long
	// enough to look into why a job gave up]. A negative value keeps them
	// for ever.
	KeepDone time.Duration
	KeepDead time.Duration
	// PurgeEvery is how often the pool purges finished jobs [1h]; it also
	// purges once at Start.
	PurgeEvery time.Duration
	// Redact cleans a failed job's error text before it is logged or saved
	// with the job: handlers' errors may carry what a provider or a
	// customer wrote [kept as it is].
	Redact baton.Redactor
	// Observe, when set, is called once per finished attempt.
	Observe func(kind, outcome string, took time.Duration)
	// Jitter returns a number in [0, 1); tests make it deterministic
	// [math/rand/v2].
	Jitter func() float64
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.IdleMin <= 0 {
		o.IdleMin = 50 * time.Millisecond
	}
	if o.IdleMax < o.IdleMin {
		o.IdleMax = max(time.Second, o.IdleMin)
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 5 * time.Second
	}
	if o.CancelWait <= 0 {
		o.CancelWait = time.Second
	}
	if o.KeepDone == 0 {
		o.KeepDone = 7 * 24 * time.Hour
	}
	if o.KeepDead == 0 {
		o.KeepDead = 30 * 24 * time.Hour
	}
	if o.PurgeEvery <= 0 {
		o.PurgeEvery = time.Hour
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Clock == nil {
		o.Clock = baton.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Jitter == nil {
		o.Jitter = mrand.Float64
	}
}

func defaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Pool is a set of workers sharing one store. Register handlers, then Start;
// Shutdown once.
type Pool struct {
	store    baton.JobStore
	opts     Options
	handlers map[string]baton.JobHandler
	kinds    []string

	wake chan struct{}
	stop chan struct{}

	// jobCtx is the parent of every running job's context; cancelling it is
	// the last step of a shutdown whose deadline passed.
	jobCtx    context.Context
	cancelJob context.CancelFunc

	mu       sync.Mutex
	started  bool
	stopping bool
	workers  sync.WaitGroup
}

// New returns a pool over store. It claims nothing until Start.
func New(store baton.JobStore, opts Options) *Pool {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{
		store:     store,
		opts:      opts,
		handlers:  map[string]baton.JobHandler{},
		wake:      make(chan struct{}, opts.Workers),
		stop:      make(chan struct{}),
		jobCtx:    ctx,
		cancelJob: cancel,
	}
}

// Owner is the prefix of this pool's lease owner names.
func (p *Pool) Owner() string { return p.opts.Owner }

// Register sets the handler of a job kind. It must be called before Start;
// only registered kinds are ever claimed.
func (p *Pool) Register(kind string, h baton.JobHandler) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.started:
		return baton.Errorf(baton.ECONFLICT, "register job kind %q: the pool is already running", kind)
	case kind == "" || h == nil:
		return baton.Errorf(baton.EINVALID, "register job kind %q: kind and handler are required", kind)
	case p.handlers[kind] != nil:
		return baton.Errorf(baton.ECONFLICT, "register job kind %q: already registered", kind)
	}
	p.handlers[kind] = h
	p.kinds = append(p.kinds, kind)
	sort.Strings(p.kinds)
	return nil
}

// Kinds returns the registered kinds.
func (p *Pool) Kinds() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.kinds...)
}

// Start launches the workers. With no registered kind it starts none: an
// empty kind list means "every kind" to the store, and a pool must never
// claim work it cannot do.
func (p *Pool) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return baton.Errorf(baton.ECONFLICT, "job pool already started")
	}
	p.started = true
	if len(p.kinds) == 0 {
		p.opts.Logger.Info("job pool idle: no job kinds registered")
		return nil
	}
	for i := 0; i < p.opts.Workers; i++ {
		p.workers.Add(1)
		go p.work(i)
	}
	p.workers.Add(1)
	go p.purgeLoop()
	p.opts.Logger.Info("job pool started", "workers", p.opts.Workers, "kinds", p.kinds, "owner", p.opts.Owner)
	return nil
}

// Notify wakes one idle worker at once. Call it after enqueueing a job in
// this process so that the job does not wait for the next poll.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default: // every worker already has a wake-up pending
	}
}

// Shutdown stops claiming, lets running jobs finish until ctx is done, then
// cancels their contexts and waits (at most Options.CancelWait) for them to
// return. It returns ctx's error when jobs had to be cancelled. A cancelled
// job is given back to the store to run again at once.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return baton.Errorf(baton.ECONFLICT, "job pool already shut down")
	}
	p.stopping = true
	p.mu.Unlock()
	close(p.stop)

	done := make(chan struct{})
	go func() {
		p.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		p.cancelJob()
		return nil
	case <-ctx.Done():
	}
	p.opts.Logger.Warn("job pool: shutdown deadline passed, cancelling running jobs")
	p.cancelJob()
	t := time.NewTimer(p.opts.CancelWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.opts.Logger.Error("job pool: jobs ignored cancellation; abandoning them to lease expiry")
	}
	return ctx.Err()
}

func (p *Pool) work(n int) {
	defer p.workers.Done()
	owner := fmt.Sprintf("%s/w%d", p.opts.Owner, n)
	idle := time.Duration(0)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		j, err := p.claim(context.Background(), owner, p.kinds)
		switch {
		case err != nil:
			p.opts.Logger.Error("job pool: claim failed", "worker", n, "err", err)
			idle = p.opts.IdleMax
		case j == nil:
			idle = min(max(2*idle, p.opts.IdleMin), p.opts.IdleMax)
		default:
			idle = 0
			p.run(p.jobCtx, "shutdown", j, owner)
			continue
		}
		t := time.NewTimer(idle)
		select {
		case <-p.stop:
			t.Stop()
			return
		case <-p.wake:
			idle = 0
		case <-t.C:
		}
		t.Stop()
	}
}

// purgeBatch bounds one PurgeJobs call: on SQLite a purge holds the one
// writer, and workers completing jobs must not wait long behind it.
const purgeBatch = 500

// purgeLoop purges finished jobs at Start and then every PurgeEvery until
// Shutdown. Several processes may purge at once; the stores let them.
func (p *Pool) purgeLoop() {
	defer p.workers.Done()
	t := time.NewTicker(p.opts.PurgeEvery)
	defer t.Stop()
	for {
		p.purge()
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

// purge deletes the done and dead jobs older than their retention, in
// batches, stopping early on Shutdown or a store error (the next round
// tries again).
func (p *Pool) purge() {
	for _, r := range []struct {
		status baton.JobStatus
		keep   time.Duration
	}{{baton.JobDone, p.opts.KeepDone}, {baton.JobDead, p.opts.KeepDead}} {
		if r.keep < 0 {
			continue
		}
		before := p.opts.Clock.Now().Add(-r.keep)
		total := 0
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), p.opts.StoreTimeout)
			n, err := p.store.PurgeJobs(ctx, r.status, before, purgeBatch)
			cancel()
			total += n
			if err != nil {
				p.opts.Logger.Error("job pool: purging finished jobs failed", "status", r.status, "err", err)
				break
			}
			if n < purgeBatch {
				break
			}
		}
		if total > 0 {
			p.opts.Logger.Info("job pool: purged finished jobs", "status", r.status, "count", total, "older_than", before)
		}
	}
}

func (p *Pool) claim(ctx context.Context, owner string, kinds []string) (*baton.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.StoreTimeout)
	defer cancel()
	return p.store.ClaimJob(ctx, owner, kinds, p.opts.Lease)
}

// RunDue runs every job of the registered kinds that is due now, one after
// the other in the caller's goroutine, with the handlers, leases, retries
// and dead letters of the workers, until none is due; it returns how many
// attempts it made. Jobs scheduled later, or waiting for a retry, stay for
// later. It needs no Start: tests, "baton chat" and eval runs drain the
// queue with it and know, when it returns, that the work they caused is
// done. Cancelling ctx cancels the running job, which is given back to run
// again at once, and returns ctx's error. A job that a RetryLater or a zero
// backoff makes due again at once runs again in the same call, as a worker
// would run it.
func (p *Pool) RunDue(ctx context.Context) (ran int, err error) {
	kinds := p.Kinds()
	if len(kinds) == 0 {
		return 0, nil // an empty kind list would claim every kind
	}
	owner := p.opts.Owner + "/sync"
	for {
		if err := ctx.Err(); err != nil {
			return ran, err
		}
		j, err := p.claim(ctx, owner, kinds)
		if err != nil {
			return ran, fmt.Errorf("run due jobs: %w", err)
		}
		if j == nil {
			return ran, nil
		}
		p.run(ctx, "the caller", j, owner)
		ran++
	}
}

// run executes one claimed job under parent and records the verdict. A job
// that fails once parent is cancelled (by stopper: a shutdown, a caller
// that gave up) was interrupted, not refused: it runs again at once.
func (p *Pool) run(parent context.Context, stopper string, j *baton.Job, owner string) {
	start := time.Now()
	ctx, cancel := context.WithCancel(parent)
	lost := make(chan struct{})
	keepDone := make(chan struct{})
	go func() {
		defer close(keepDone)
		p.keepLease(ctx, j, owner, cancel, lost)
	}()
	err := p.call(ctx, j)
	cancel()
	<-keepDone

	select {
	case <-lost:
		p.observe(j, OutcomeLost, start)
		return
	default:
	}
	interruptedBy := ""
	if err != nil && parent.Err() != nil {
		interruptedBy = stopper
	}
	p.finish(j, owner, err, interruptedBy, start)
}

// call runs the handler, turning a panic into an internal error so that one
// bad job cannot take the process down.
func (p *Pool) call(ctx context.Context, j *baton.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.opts.Logger.Error("job panicked", "job", j.ID, "kind", j.Kind, "panic", p.redact(fmt.Sprint(r)), "stack", string(debug.Stack()))
			err = baton.Errorf(baton.EINTERNAL, "job %d (%s) panicked: %v", j.ID, j.Kind, r)
		}
	}()
	return p.handlers[j.Kind].HandleJob(ctx, j)
}

// keepLease extends the lease every third of its length while the handler
// runs. If another worker took the job over (ECONFLICT), the handler's
// context is cancelled: its result would be thrown away anyway.
func (p *Pool) keepLease(ctx context.Context, j *baton.Job, owner string, cancel context.CancelFunc, lost chan<- struct{}) {
	t := time.NewTicker(max(p.opts.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sctx, scancel := context.WithTimeout(context.Background(), p.opts.StoreTimeout)
		err := p.store.ExtendLease(sctx, j.ID, owner, p.opts.Lease)
		scancel()
		switch {
		case err == nil:
		case baton.ErrorCode(err) == baton.ECONFLICT:
			p.opts.Logger.Warn("job lease lost; abandoning the job", "job", j.ID, "kind", j.Kind)
			close(lost)
			cancel()
			return
		default:
			// The lease may still be valid; try again on the next tick.
			p.opts.Logger.Error("job lease extension failed", "job", j.ID, "kind", j.Kind, "err", err)
		}
	}
}

func (p *Pool) finish(j *baton.Job, owner string, err error, interruptedBy string, start time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StoreTimeout)
	defer cancel()
	log := p.opts.Logger.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	outcome := OutcomeDone
	var serr error
	var msg string
	if err != nil {
		msg = p.redact(err.Error())
	}
	switch {
	case err == nil:
		serr = p.store.CompleteJob(ctx, j.ID, owner)
	case interruptedBy != "":
		// A shutdown or the caller cut it short; that says nothing about
		// the job, so it runs again as soon as a worker is free.
		outcome = OutcomeRetry
		log.Warn("job interrupted by "+interruptedBy, "err", msg)
		serr = p.store.RetryJob(ctx, j.ID, owner, "interrupted by "+interruptedBy+": "+msg, p.opts.Clock.Now())
	default:
		retry, delay := p.verdict(j, err)
		if retry {
			outcome = OutcomeRetry
			runAt := p.opts.Clock.Now().Add(delay)
			if baton.ErrorCode(err) == baton.ERATELIMITED {
				// A budget said "not yet" (the bot's turns per
				// conversation): nothing failed.
				log.Info("job deferred", "err", msg, "retry_in", delay)
			} else {
				log.Warn("job failed, will retry", "err", msg, "retry_in", delay)
			}
			serr = p.store.RetryJob(ctx, j.ID, owner, msg, runAt)
		} else {
			outcome = OutcomeDead
			log.Error("job dead-lettered", "err", msg, "code", baton.ErrorCode(err))
			serr = p.store.KillJob(ctx, j.ID, owner, msg)
		}
	}
	if serr != nil {
		if baton.ErrorCode(serr) == baton.ECONFLICT {
			outcome = OutcomeLost
			log.Warn("job lease lost before its result was saved", "err", serr)
		} else {
			// The lease will expire and the job will run again: at least
			// once, never silently dropped.
			log.Error("job result not saved", "outcome", outcome, "err", serr)
		}
	}
	p.observe(j, outcome, start)
}

func (p *Pool) redact(s string) string {
	if p.opts.Redact == nil {
		return s
	}
	return p.opts.Redact.Redact(s)
}

// verdict decides whether a failed job runs again and after how long.
func (p *Pool) verdict(j *baton.Job, err error) (retry bool, delay time.Duration) {
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = baton.DefaultMaxAttempts
	}
	var later *baton.RetryLater
	isLater := errors.As(err, &later)
	if !isLater {
		switch baton.ErrorCode(err) {
		case baton.EUNAVAILABLE, baton.EINTERNAL:
		default:
			return false, 0 // the input is wrong; running it again cannot help
		}
	}
	if j.Attempts >= maxAttempts {
		return false, 0
	}
	if isLater && later.Exact {
		return true, max(later.After, 0)
	}
	delay = Backoff(j.Attempts, p.opts.BaseBackoff, p.opts.MaxBackoff, p.opts.Jitter())
	if isLater && later.After > delay {
		delay = later.After
	}
	return true, delay
}

// Backoff is the delay before the retry that follows attempt (1-based):
// "full jitter", a uniform draw from [0, min(max, base·2^(attempt-1))), where
// jitter is the draw in [0, 1). Spreading retries over the whole window keeps
// many jobs failing on the same outage from retrying in lockstep.
func Backoff(attempt int, base, maxDelay time.Duration, jitter float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	ceiling := float64(base) * math.Pow(2, float64(attempt-1))
	if ceiling > float64(maxDelay) || math.IsInf(ceiling, 0) {
		ceiling = float64(maxDelay)
	}
	return time.Duration(ceiling * jitter)
}

func (p *Pool) observe(j *baton.Job, outcome string, start time.Time) {
	if p.opts.Observe != nil {
		p.opts.Observe(j.Kind, outcome, time.Since(start))
	}
}
