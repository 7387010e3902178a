package app_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
)

// serviceLog records what the test services were asked to do, in order.
type serviceLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *serviceLog) add(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

func (l *serviceLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// recordingService records its starts and stops, fails them when told,
// and keeps the deadline of the context Stop was given.
type recordingService struct {
	name               string
	log                *serviceLog
	startErr, stopErr  error
	mu                 sync.Mutex
	stopDeadline       time.Time
	startHadNoDeadline bool
}

func (s *recordingService) Name() string { return s.name }

func (s *recordingService) Start(ctx context.Context) error {
	s.log.add("start " + s.name)
	_, ok := ctx.Deadline()
	s.mu.Lock()
	s.startHadNoDeadline = !ok
	s.mu.Unlock()
	return s.startErr
}

func (s *recordingService) Stop(ctx context.Context) error {
	s.log.add("stop " + s.name)
	d, _ := ctx.Deadline()
	s.mu.Lock()
	s.stopDeadline = d
	s.mu.Unlock()
	return s.stopErr
}

// newServicesApp assembles the app over a fresh SQLite store with the
// given services.
func newServicesApp(t *testing.T, svc ...app.Service) *app.App {
	t.Helper()
	st := stores()[0].Open(t, nil)
	cfg := testConfig(t, "http://127.0.0.1:9", "http://127.0.0.1:9", envOptions{})
	a, err := app.New(context.Background(), cfg, app.Options{Store: st, Jobs: fastJobs(), Services: svc})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	return a
}

func TestServicesStartInOrderAndStopInReverse(t *testing.T) {
	log := &serviceLog{}
	svc := []*recordingService{{name: "a", log: log}, {name: "b", log: log}, {name: "c", log: log}}
	a := newServicesApp(t, svc[0], svc[1], svc[2])
	if got := log.get(); len(got) != 0 {
		t.Fatalf("New started services: %v", got)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got, want := log.get(), []string{"start a", "start b", "start c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after Start: %v, want %v", got, want)
	}
	for _, s := range svc {
		if s.startHadNoDeadline {
			t.Errorf("service %s was started without a deadline", s.name)
		}
	}
	if err := a.Start(); baton.ErrorCode(err) != baton.ECONFLICT {
		t.Fatalf("a second Start = %v, want %s", err, baton.ECONFLICT)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	want := []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}
	if got := log.get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Shutdown: %v, want %v", got, want)
	}
	for _, s := range svc {
		if !s.stopDeadline.Equal(deadline) {
			t.Errorf("service %s was stopped with deadline %v, want Shutdown's %v", s.name, s.stopDeadline, deadline)
		}
	}
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("a second Shutdown: %v", err)
	}
	if got := log.get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("a second Shutdown stopped services again: %v", got)
	}
}

func TestServiceFailures(t *testing.T) {
	boom := baton.Errorf(baton.EUNAVAILABLE, "connect: connection refused")
	tests := []struct {
		name string
		// startErr and stopErr fail the start or the stop of the service
		// of that name.
		startErr, stopErr map[string]error
		wantStart         []string // calls made by Start
		wantShutdown      []string // calls made by Shutdown
		startErrHas       []string // what Start's error says; nil = no error
		shutdownErrHas    []string // what Shutdown's error says; nil = no error
	}{
		{
			name:        "a service that fails to start stops the ones started before it",
			startErr:    map[string]error{"b": boom},
			wantStart:   []string{"start a", "start b", "stop a"},
			startErrHas: []string{"start b", "connection refused"},
		},
		{
			name:        "the first service failing stops only the job pool",
			startErr:    map[string]error{"a": boom},
			wantStart:   []string{"start a"},
			startErrHas: []string{"start a", "connection refused"},
		},
		{
			name:        "a failed stop while unwinding is reported too",
			startErr:    map[string]error{"c": boom},
			stopErr:     map[string]error{"a": errors.New("socket stuck")},
			wantStart:   []string{"start a", "start b", "start c", "stop b", "stop a"},
			startErrHas: []string{"start c", "connection refused", "stop a", "socket stuck"},
		},
		{
			name:           "a failed stop on Shutdown is reported and the others still stop",
			stopErr:        map[string]error{"b": errors.New("socket stuck")},
			wantStart:      []string{"start a", "start b", "start c"},
			wantShutdown:   []string{"stop c", "stop b", "stop a"},
			shutdownErrHas: []string{"stop b", "socket stuck"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &serviceLog{}
			var svc []app.Service
			for _, name := range []string{"a", "b", "c"} {
				svc = append(svc, &recordingService{name: name, log: log, startErr: tc.startErr[name], stopErr: tc.stopErr[name]})
			}
			a := newServicesApp(t, svc...)
			err := a.Start()
			wantErrText(t, "Start", err, tc.startErrHas)
			if tc.startErrHas != nil && baton.ErrorCode(err) != baton.EUNAVAILABLE {
				t.Errorf("Start's error code = %q, want the failing service's %q", baton.ErrorCode(err), baton.EUNAVAILABLE)
			}
			if got := log.get(); !reflect.DeepEqual(got, tc.wantStart) {
				t.Fatalf("Start: %v, want %v", got, tc.wantStart)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// After a failed Start nothing is left to stop: not a service
			// and not the job pool (whose second shutdown would fail).
			err = a.Shutdown(ctx)
			wantErrText(t, "Shutdown", err, tc.shutdownErrHas)
			if got := log.get()[len(tc.wantStart):]; !reflect.DeepEqual(got, tc.wantShutdown) && (len(got) != 0 || len(tc.wantShutdown) != 0) {
				t.Fatalf("Shutdown: %v, want %v", got, tc.wantShutdown)
			}
		})
	}
}

// wantErrText checks that err mentions every part of has, or that it is
// nil when has is.
func wantErrText(t *testing.T, what string, err error, has []string) {
	t.Helper()
	if has == nil {
		if err != nil {
			t.Fatalf("%s: %v, want no error", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s succeeded, want an error saying %q", what, has)
	}
	for _, h := range has {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("%s: error %q does not say %q", what, err, h)
		}
	}
}

// TestTheJobPoolRunsWithTheServices: the workers run while the services
// do, and a service that fails to start takes them down with it, so that
// a failed Start leaves nothing claiming jobs.
func TestTheJobPoolRunsWithTheServices(t *testing.T) {
	boom := errors.New("connection refused")
	tests := []struct {
		name     string
		startErr error
		wantRun  bool
	}{
		{"started", nil, true},
		{"a service failed to start", boom, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newServicesApp(t, &recordingService{name: "a", log: &serviceLog{}, startErr: tc.startErr})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = a.Shutdown(ctx)
			})
			if err := a.Start(); (err != nil) != (tc.startErr != nil) {
				t.Fatalf("Start = %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// A follow-up of no conversation: any attempt at it shows a
			// worker claimed it.
			j := &baton.Job{Kind: baton.JobFollowUp, ConversationID: 987654, Payload: []byte(`{}`)}
			if _, err := a.Store().Enqueue(ctx, j); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			// Workers poll every few milliseconds (fastJobs): a second is
			// a hundred chances to claim it.
			wait := time.NewTimer(time.Second)
			defer wait.Stop()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for ran := false; ; {
				got, err := a.Store().GetJob(ctx, j.ID)
				if err != nil {
					t.Fatalf("GetJob: %v", err)
				}
				ran = got.Attempts > 0
				if ran {
					if !tc.wantRun {
						t.Fatal("a worker claimed a job after Start failed")
					}
					return
				}
				select {
				case <-tick.C:
					continue
				case <-wait.C:
				}
				if tc.wantRun {
					t.Fatal("no worker claimed the job within a second of Start")
				}
				return
			}
		})
	}
}
