package app

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
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
// given name/value pairs.
func labelled(t *testing.T, reg *prometheus.Registry, name string, pairs ...string) float64 {
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
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
