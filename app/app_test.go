package app_test

import (
	"context"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
)

// TestRunJobsDrainsThePipeline: one customer message and one RunJobs call
// later, the turn has run and its reply is delivered, with the attempts
// counted in the app's registry; nothing is left to run.
func TestRunJobsDrainsThePipeline(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.post("whatsapp", waText("wamid.run1", "16505551234", "Where is my order?", start))
			ran, err := e.app.RunJobs(context.Background())
			if err != nil || ran != 2 {
				t.Fatalf("RunJobs = %d, %v; want the turn and its delivery", ran, err)
			}
			conv := onlyConversation(t, e)
			if out := e.outbound(conv.ID); len(out) != 1 || out[0].Status != baton.StatusSent || out[0].Text != ackText {
				t.Fatalf("outbound %+v, want the acknowledgement sent", out)
			}
			for _, kind := range []string{baton.JobTurn, baton.JobDeliver} {
				if n := app.Labelled(t, e.app.Registry(), "baton_jobs_total", "kind", kind, "outcome", "done"); n != 1 {
					t.Errorf("baton_jobs_total{kind=%q,outcome=done} = %v, want 1", kind, n)
				}
			}
			if ran, err := e.app.RunJobs(context.Background()); ran != 0 || err != nil {
				t.Fatalf("second RunJobs = %d, %v; want nothing left", ran, err)
			}
		})
	}
}

func TestNewNeedsAStoreAndAConfiguration(t *testing.T) {
	st := stores()[0].Open(t, nil)
	tests := []struct {
		name string
		cfg  *config.Config
		opt  app.Options
	}{
		{"no store", &config.Config{}, app.Options{}},
		{"no configuration", nil, app.Options{Store: st}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := app.New(context.Background(), tc.cfg, tc.opt); baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("New = %v, want %s", err, baton.EINVALID)
			}
		})
	}
}
