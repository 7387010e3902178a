package app

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/sqlite"
)

func TestJobMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newJobMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.observe("turn", "done", 10*time.Millisecond)
	m.observe("turn", "done", 20*time.Millisecond)
	m.observe("deliver", "dead", time.Millisecond)
	m.deliveryInDoubt(baton.ChannelWhatsApp)
	tests := []struct {
		kind, outcome string
		want          float64
	}{
		{"turn", "done", 2},
		{"deliver", "dead", 1},
		{"turn", "retry", 0},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.outcome, func(t *testing.T) {
			if got := counter(t, reg, "baton_jobs_total", tc.kind, tc.outcome); got != tc.want {
				t.Errorf("baton_jobs_total = %v, want %v", got, tc.want)
			}
		})
	}
	if got := labelled(t, reg, "baton_deliveries_in_doubt_total", "channel", "whatsapp"); got != 1 {
		t.Errorf("baton_deliveries_in_doubt_total{channel=whatsapp} = %v, want 1", got)
	}
	if got := labelled(t, reg, "baton_deliveries_in_doubt_total", "channel", "sms"); got != 0 {
		t.Errorf("baton_deliveries_in_doubt_total{channel=sms} = %v, want 0", got)
	}
	if _, err := newJobMetrics(reg); err == nil {
		t.Error("registering the job metrics twice must fail")
	}
}

// counter reads a counter with the given kind and outcome labels from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, kind, outcome string) float64 {
	t.Helper()
	return labelled(t, reg, name, "kind", kind, "outcome", outcome)
}

// labelled reads the counter of reg named name whose labels include the
// given name/value pairs (0 when there is none).
func labelled(t *testing.T, reg *prometheus.Registry, name string, pairs ...string) float64 {
	t.Helper()
	return find(t, reg, name, pairs...).GetCounter().GetValue()
}

func TestHumanMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newHumanMetrics(reg, []string{"shop"})
	if err != nil {
		t.Fatal(err)
	}
	m.FirstResponse("general", baton.PriorityHigh, 90*time.Second)
	m.FirstResponse("general", baton.PriorityHigh, 30*time.Second)
	m.Resolved("general", time.Hour)
	m.Assigned("billing", 45*time.Second)
	m.Escalated("general", []string{baton.TriggerWantsHuman, baton.TriggerNegativeSentiment})
	m.Escalated("general", nil)
	m.CSATAnswered("shop", 5)
	m.CSATAnswered("shop", 5)
	histograms := []struct {
		name        string
		pairs       []string
		count       uint64
		sum         float64
		bucket, cum float64 // the bucket with upper bound `bucket` holds cum samples
	}{
		{"baton_first_response_seconds", []string{"queue", "general", "priority", "high"}, 2, 120, 60, 1},
		{"baton_resolution_seconds", []string{"queue", "general"}, 1, 3600, 3600, 1},
		{"baton_queue_wait_seconds", []string{"queue", "billing"}, 1, 45, 30, 0},
	}
	for _, h := range histograms {
		t.Run(h.name, func(t *testing.T) {
			got := find(t, reg, h.name, h.pairs...)
			if got == nil || got.GetHistogram().GetSampleCount() != h.count || got.GetHistogram().GetSampleSum() != h.sum {
				t.Fatalf("%s%v = %v, want %d samples summing to %v", h.name, h.pairs, got, h.count, h.sum)
			}
			for _, b := range got.GetHistogram().GetBucket() {
				if b.GetUpperBound() == h.bucket && float64(b.GetCumulativeCount()) != h.cum {
					t.Errorf("bucket le=%v holds %d, want %v", h.bucket, b.GetCumulativeCount(), h.cum)
				}
			}
		})
	}
	counters := []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"baton_escalations_total", []string{"trigger", "wants_human"}, 1},
		{"baton_escalations_total", []string{"trigger", "negative_sentiment"}, 1},
		{"baton_escalations_total", []string{"trigger", "manual"}, 1},
		{"baton_escalations_total", []string{"trigger", "loop"}, 0},
		{"baton_csat_answers_total", []string{"bot", "shop", "rating", "5"}, 2},
		{"baton_csat_answers_total", []string{"bot", "shop", "rating", "1"}, 0},
	}
	for _, c := range counters {
		got := find(t, reg, c.name, c.pairs...)
		if got == nil || got.GetCounter().GetValue() != c.want {
			t.Errorf("%s%v = %v, want %v (exported from the start)", c.name, c.pairs, got, c.want)
		}
	}
}

func TestDeskCollector(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Name: "Maya", Capacity: map[baton.ChannelKind]int{baton.ChannelWebChat: 3, baton.ChannelSMS: 1}}); err != nil {
		t.Fatal(err)
	}
	for i, queue := range []string{"general", "general", "billing", "", "assigned"} {
		cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelWebChat, Address: "v" + strconv.Itoa(i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelWebChat, Address: "v" + strconv.Itoa(i)}
		if err := st.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		switch queue {
		case "": // stays with the bot
		case "assigned":
			maya := "maya"
			if _, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateAssigned, AgentID: &maya, Actor: "system"}); err != nil {
				t.Fatal(err)
			}
		default:
			if _, _, err := st.TransitionConversation(ctx, c.ID, baton.Transition{To: baton.StateQueued, QueueID: &queue, Actor: "system"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs := &bytes.Buffer{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newDeskCollector(st, []string{"general", "billing", "returns"}, slog.New(slog.NewTextHandler(logs, nil))))
	gauges := []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"baton_queue_depth", []string{"queue", "general"}, 2},
		{"baton_queue_depth", []string{"queue", "billing"}, 1},
		{"baton_queue_depth", []string{"queue", "returns"}, 0},
		{"baton_agent_open_conversations", []string{"agent", "maya"}, 1},
		{"baton_agent_capacity", []string{"agent", "maya"}, 4},
	}
	for _, g := range gauges {
		got := find(t, reg, g.name, g.pairs...)
		if got == nil || got.GetGauge().GetValue() != g.want {
			t.Errorf("%s%v = %v, want %v", g.name, g.pairs, got, g.want)
		}
	}
	// A store that cannot answer: the scrape goes on without these
	// series, and says why in the log.
	st.Close()
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("a failed read failed the scrape: %v", err)
	}
	if find(t, reg, "baton_queue_depth", "queue", "general") != nil {
		t.Error("a failed read exported a depth")
	}
	if !strings.Contains(logs.String(), "could not read the queues") || !strings.Contains(logs.String(), "could not read the agents' loads") {
		t.Errorf("logs: %s", logs)
	}
}

// find is the metric of reg named name whose labels include the given
// name/value pairs, or nil.
func find(t *testing.T, reg *prometheus.Registry, name string, pairs ...string) *dto.Metric {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i+1 < len(pairs); i += 2 {
				match = match && labels[pairs[i]] == pairs[i+1]
			}
			if match {
				return m
			}
		}
	}
	return nil
}
