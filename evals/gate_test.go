package evals

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, fill func(*bytes.Buffer)) {
	t.Helper()
	var b bytes.Buffer
	fill(&b)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGate: each metric against its tolerance (exact name, then the name
// without its language, then the default), the sign flipped where lower
// is better, a metric no longer measured regressed.
func TestGate(t *testing.T) {
	tol := Tolerances{Default: 0.02, ByName: map[string]float64{"escalation.f1": 0, "tr/routing.queue": 0, "intent.accuracy": 0.1}}
	tests := []struct {
		name      string
		base, now map[string]float64
		regressed []string
	}{
		{"unchanged", map[string]float64{"intent.accuracy": 0.9}, map[string]float64{"intent.accuracy": 0.9}, nil},
		{"better", map[string]float64{"escalation.f1": 0.8}, map[string]float64{"escalation.f1": 0.95}, nil},
		{"within the default", map[string]float64{"routing.queue": 0.9}, map[string]float64{"routing.queue": 0.885}, nil},
		{"beyond the default", map[string]float64{"routing.queue": 0.9}, map[string]float64{"routing.queue": 0.85}, []string{"routing.queue"}},
		{"exact tolerance zero", map[string]float64{"escalation.f1": 1}, map[string]float64{"escalation.f1": 0.99}, []string{"escalation.f1"}},
		{"a language's own", map[string]float64{"tr/routing.queue": 1, "en/routing.queue": 1}, map[string]float64{"tr/routing.queue": 0.99, "en/routing.queue": 0.99}, []string{"tr/routing.queue"}},
		{"a language falls back to the name's", map[string]float64{"ru/intent.accuracy": 0.9}, map[string]float64{"ru/intent.accuracy": 0.85}, nil},
		{"lower is better, up", map[string]float64{"turns_to_resolution": 2}, map[string]float64{"turns_to_resolution": 2.5}, []string{"turns_to_resolution"}},
		{"lower is better, down", map[string]float64{"turns_to_resolution": 2}, map[string]float64{"turns_to_resolution": 1.5}, nil},
		{"a dataset's latency", map[string]float64{"banking77/latency_ms": 1}, map[string]float64{"banking77/latency_ms": 1.5}, []string{"banking77/latency_ms"}},
		{"no longer measured", map[string]float64{"oos.recall": 0.5}, map[string]float64{}, []string{"oos.recall"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := Gate(&Report{Metrics: tc.now}, &Report{Metrics: tc.base}, "base.json", tol)
			var got []string
			for _, d := range g.Regressions() {
				got = append(got, d.Metric)
			}
			if strings.Join(got, ",") != strings.Join(tc.regressed, ",") || g.Passed != (len(tc.regressed) == 0) {
				t.Errorf("regressed %v (passed %v), want %v", got, g.Passed, tc.regressed)
			}
		})
	}
}

// TestGateBroken names the cases that passed in the baseline and fail now,
// not those that failed already.
func TestGateBroken(t *testing.T) {
	base := &Report{Metrics: map[string]float64{}, Cases: []CaseResult{{ID: "a", Passed: true}, {ID: "b", Passed: false}, {ID: "c", Passed: true}}}
	now := &Report{Metrics: map[string]float64{}, Cases: []CaseResult{{ID: "c"}, {ID: "b"}, {ID: "a", Passed: true}, {ID: "new"}}}
	g := Gate(now, base, "base.json", Tolerances{})
	if strings.Join(g.Broken, ",") != "c" {
		t.Errorf("broken %v", g.Broken)
	}
}

// TestSMSChoice: a press on SMS answers with the number the bot's text
// gives the choice.
func TestSMSChoice(t *testing.T) {
	for _, tc := range []struct{ text, title, want string }{
		{"Did this help? Reply 1 for Yes or 2 for No.", "No", "2"},
		{"Did this help? Reply 1 for Yes or 2 for No.", "yes", "1"},
		{"Which of these do you mean?\n1. Returns and refunds\n2. Delivery times", "Delivery times", "2"},
		{"Which of these do you mean?\n1. Returns and refunds", "Something else", "Something else"},
	} {
		if got := smsChoice(tc.text, tc.title); got != tc.want {
			t.Errorf("smsChoice(%q, %q) = %q, want %q", tc.text, tc.title, got, tc.want)
		}
	}
}
