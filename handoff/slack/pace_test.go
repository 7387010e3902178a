package slack

import (
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestLaneVerdict: a lane job's 429 waits exactly Retry-After; Slack
// unreachable waits 1 s doubling to the cap; a wrong input is left to the
// pool; an unexpected failure gives up after the usual attempts; a job
// out of lanes is left as it is.
func TestLaneVerdict(t *testing.T) {
	c := &Console{OutageRetryMax: 30 * time.Second}
	unavailable := baton.Errorf(baton.EUNAVAILABLE, "Slack chat.postMessage: 503")
	limited := &baton.RetryLater{After: 3 * time.Second, Err: baton.Errorf(baton.ERATELIMITED, "429")}
	for _, tc := range []struct {
		name      string
		lane      string
		op        string
		attempts  int
		err       error
		wantAfter time.Duration // an exact RetryLater after this; 0 = none
		wantCode  string
	}{
		{"429", "slack:C1", "", 4, limited, 3 * time.Second, baton.ERATELIMITED},
		{"first outage retry", "slack:C1", "", 1, unavailable, time.Second, baton.EUNAVAILABLE},
		{"third outage retry", "slack:C1", "", 3, unavailable, 4 * time.Second, baton.EUNAVAILABLE},
		{"capped", "slack:C1", "", 6, unavailable, 30 * time.Second, baton.EUNAVAILABLE},
		{"capped for ever", "slack:C1", "", 5000, unavailable, 30 * time.Second, baton.EUNAVAILABLE},
		{"wrong input", "slack:C1", "", 1, baton.Errorf(baton.EINVALID, "channel_not_found"), 0, baton.EINVALID},
		{"unexpected, early", "slack:C1", "", 3, errors.New("boom"), 0, baton.EINTERNAL},
		{"unexpected, late", "slack:C1", "", baton.DefaultMaxAttempts, errors.New("boom"), 0, baton.EINVALID},
		{"no lane", "", opDM, 3, unavailable, 0, baton.EUNAVAILABLE},
		{"a card update outlasts an outage out of the lanes", "", opNotify, 5000, unavailable, 30 * time.Second, baton.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.laneVerdict(&baton.Job{Lane: tc.lane, Attempts: tc.attempts}, tc.op, tc.err)
			var later *baton.RetryLater
			isLater := errors.As(err, &later)
			switch {
			case tc.wantAfter > 0 && (!isLater || !later.Exact || later.After != tc.wantAfter):
				t.Fatalf("got %#v, want an exact retry after %v", err, tc.wantAfter)
			case tc.wantAfter == 0 && isLater && later.Exact:
				t.Fatalf("got an exact retry after %v, want none", later.After)
			}
			if got := baton.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code %q, want %q", got, tc.wantCode)
			}
		})
	}
}
