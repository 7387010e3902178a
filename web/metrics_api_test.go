package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/web"
)

// recordingSource is a baton.MetricsSource that records the queries it is
// asked: what the handler makes of the parameters. The summary itself is
// handoff's (its tests run it on the real stores), which web may not
// import.
type recordingSource struct {
	mu      sync.Mutex
	queries []baton.MetricsQuery
	err     error
}

func (r *recordingSource) Summary(_ context.Context, q baton.MetricsQuery) (*baton.MetricsSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, q)
	if r.err != nil {
		return nil, r.err
	}
	return &baton.MetricsSummary{From: q.From, To: q.To, BotID: q.BotID, QueueID: q.QueueID, Conversations: 3,
		FirstResponse: baton.DurationStats{Count: 1, Median: 300, P90: 300, Mean: 300}}, nil
}

func (r *recordingSource) refuse(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *recordingSource) take() []baton.MetricsQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

func TestMetricsSummaryAPI(t *testing.T) {
	st := openStore(t)
	src := &recordingSource{}
	bots := []baton.Bot{{ID: "shop", Languages: []string{"en"}, Queues: []string{"general", "billing"}},
		{ID: "bank", Languages: []string{"en"}, Queues: []string{"loans"}}}
	base, _ := serve(t, web.Config{Store: st, AdminToken: adminToken, Metrics: src, Bots: bots})
	unconfigured, _ := serve(t, web.Config{Store: st, AdminToken: adminToken, Bots: bots})
	bearer := map[string]string{"Authorization": "Bearer " + adminToken}
	march2 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		base     string
		query    string
		header   map[string]string
		want     int
		wantCode string
		says     string              // the error message contains it
		asked    *baton.MetricsQuery // what the source was asked; nil = not asked
	}{
		{name: "no token", query: "", want: 401, wantCode: baton.EUNAUTHORIZED},
		{name: "wrong token", query: "", header: map[string]string{"Authorization": "Bearer " + adminToken + "x"}, want: 401, wantCode: baton.EUNAUTHORIZED},
		{name: "not configured", base: unconfigured, header: bearer, want: 404, wantCode: baton.ENOTFOUND, says: "not configured"},
		{name: "defaults", header: bearer, want: 200, asked: &baton.MetricsQuery{}},
		{name: "every parameter", query: "?from=2026-03-02T09:00:00Z&to=2026-03-03T09:00:00%2B02:00&bot=shop&queue=billing", header: bearer, want: 200,
			asked: &baton.MetricsQuery{From: march2.Add(9 * time.Hour), To: march2.Add(31 * time.Hour), BotID: "shop", QueueID: "billing"}},
		{name: "dates", query: "?from=2026-03-02&to=2026-03-09", header: bearer, want: 200,
			asked: &baton.MetricsQuery{From: march2, To: march2.Add(7 * 24 * time.Hour)}},
		{name: "a queue of any bot", query: "?queue=loans", header: bearer, want: 200, asked: &baton.MetricsQuery{QueueID: "loans"}},
		{name: "bad from", query: "?from=yesterday", header: bearer, want: 400, wantCode: baton.EINVALID, says: "query parameter from: want an RFC 3339 time"},
		{name: "bad to", query: "?from=2026-03-02&to=2026-13-01", header: bearer, want: 400, wantCode: baton.EINVALID, says: "query parameter to: want"},
		{name: "from after to", query: "?from=2026-03-09&to=2026-03-02", header: bearer, want: 400, wantCode: baton.EINVALID, says: "from must be before to"},
		{name: "from equal to", query: "?from=2026-03-02&to=2026-03-02T00:00:00Z", header: bearer, want: 400, wantCode: baton.EINVALID, says: "from must be before to"},
		{name: "unknown bot", query: "?bot=nobody", header: bearer, want: 400, wantCode: baton.EINVALID, says: "query parameter bot: no such bot; the bots are bank, shop"},
		{name: "unknown queue", query: "?queue=vip", header: bearer, want: 400, wantCode: baton.EINVALID, says: "query parameter queue: no such queue"},
		{name: "another bot's queue", query: "?bot=bank&queue=general", header: bearer, want: 400, wantCode: baton.EINVALID, says: "query parameter queue: not a queue of bot bank"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.base
			if b == "" {
				b = base
			}
			status, _, body := do(t, "GET", b+"/api/v1/metrics"+tc.query, nil, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if tc.wantCode != "" {
				if code := errorCode(t, body); code != tc.wantCode {
					t.Errorf("code %s, want %s", code, tc.wantCode)
				}
				if !strings.Contains(string(body), tc.says) {
					t.Errorf("body %s does not say %q", body, tc.says)
				}
			}
			asked := src.take()
			if tc.asked == nil {
				if len(asked) != 0 {
					t.Fatalf("the source was asked %+v", asked)
				}
				return
			}
			if len(asked) != 1 {
				t.Fatalf("the source was asked %d times", len(asked))
			}
			got, want := asked[0], *tc.asked
			if !got.From.Equal(want.From) || !got.To.Equal(want.To) || got.BotID != want.BotID || got.QueueID != want.QueueID || !got.Now.IsZero() {
				t.Fatalf("asked %+v, want %+v", got, want)
			}
			var out struct {
				Conversations int `json:"conversations"`
				FirstResponse struct {
					Median float64 `json:"median_seconds"`
				} `json:"first_response"`
			}
			if err := json.Unmarshal(body, &out); err != nil || out.Conversations != 3 || out.FirstResponse.Median != 300 {
				t.Fatalf("body %s (%v)", body, err)
			}
		})
	}
	t.Run("the source's refusal", func(t *testing.T) {
		src.refuse(baton.Errorf(baton.EINVALID, "metrics: from %s is longer than 366 days", "2020-01-01"))
		defer src.refuse(nil)
		status, _, body := do(t, "GET", base+"/api/v1/metrics?from=2020-01-01", nil, bearer)
		if status != 400 || errorCode(t, body) != baton.EINVALID || !strings.Contains(string(body), "366 days") {
			t.Fatalf("status %d: %s", status, body)
		}
		src.take()
	})
}
