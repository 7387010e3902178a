package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/jobs"
)

// Service is a long-running part of the server beside HTTP: the job pool,
// the Slack console's Socket Mode connection, its catch-up worker.
type Service interface {
	// Name says which service an error is about.
	Name() string
	// Start launches the service and returns once it runs (its work goes
	// on in goroutines of its own). ctx bounds starting only; a service
	// must not keep it.
	Start(ctx context.Context) error
	// Stop ends what Start launched and returns when it has ended or ctx
	// is done, whichever comes first.
	Stop(ctx context.Context) error
}

// serviceStartTimeout bounds starting all services: App.Start has no
// context, and a service connects in the background rather than in Start.
const serviceStartTimeout = 30 * time.Second

// services starts a list of services in order and stops those it started
// in reverse order, so that each may rely on the ones before it (every
// service after the job pool may enqueue work) while it runs.
type services struct {
	all []Service

	mu      sync.Mutex
	began   bool      // Start was called: a group starts once
	started []Service // in start order
}

func newServices(all ...Service) *services { return &services{all: all} }

// start starts every service in order. When one fails, the ones started
// before it are stopped, in reverse order, within ctx, so that nothing is
// left running; the error names the service that failed and any that did
// not stop.
func (g *services) start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.began {
		return baton.Errorf(baton.ECONFLICT, "start services: already started")
	}
	g.began = true
	for _, s := range g.all {
		if err := s.Start(ctx); err != nil {
			err = baton.WrapError(baton.ErrorCode(err), err, "start "+s.Name())
			return errors.Join(err, g.stopLocked(ctx))
		}
		g.started = append(g.started, s)
	}
	return nil
}

// stop stops the started services in reverse order, each within ctx;
// every one is asked to stop whatever the others answer, and every
// failure is reported. A second stop has nothing left to stop.
func (g *services) stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopLocked(ctx)
}

func (g *services) stopLocked(ctx context.Context) error {
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		s := g.started[i]
		if err := s.Stop(ctx); err != nil {
			errs = append(errs, baton.WrapError(baton.ErrorCode(err), err, "stop "+s.Name()))
		}
	}
	g.started = nil
	return errors.Join(errs...)
}

// poolService runs the job pool as the first service: everything started
// after it may enqueue work, and it drains last.
type poolService struct{ pool *jobs.Pool }

func (p poolService) Name() string                { return "job pool" }
func (p poolService) Start(context.Context) error { return p.pool.Start() }

// Stop drains the pool; jobs still running when ctx is done are cancelled
// and given back to run again, and the error says so.
func (p poolService) Stop(ctx context.Context) error {
	if err := p.pool.Shutdown(ctx); err != nil {
		return baton.WrapError(baton.EUNAVAILABLE, err, "jobs were cancelled")
	}
	return nil
}
