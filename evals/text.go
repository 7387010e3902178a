package evals

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText writes the terminal summary: the counts, every metric overall
// and per language, the datasets, escalation by trigger, each failed
// expectation with the bot's decision, and the gate's verdict.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("Suite %s (%s): %d cases, %d passed, %d failed; %d turns, %d expectations\n",
		r.Suite, r.Mode, r.Counts["cases"], r.Counts["passed"], r.Counts["failed"], r.Counts["turns"], r.Counts["expectations"])
	ew.printf("Took %.1fs; a turn took %.1f ms (median), %.1f ms (p99)\n", r.Timing.Took, r.Timing.TurnP50, r.Timing.TurnP99)
	for _, l := range r.Langs {
		if lt, ok := r.Timing.Languages[l]; ok {
			ew.printf("  %s: %.1f ms (median), %.1f ms (p99)\n", l, lt.P50, lt.P99)
		}
	}
	if n := r.Counts["judge_skipped"]; n > 0 {
		ew.printf("%d judge rubrics not graded: an offline run has no model to grade them\n", n)
	}
	ew.printf("\n")

	width := len("metric")
	for _, name := range MetricNames() {
		width = max(width, len(name))
	}
	ew.printf("%-*s", width, "metric")
	for _, col := range append([]string{"all"}, r.Langs...) {
		ew.printf(" %7s", col)
	}
	ew.printf("\n")
	for _, name := range MetricNames() {
		var cells []string
		measured := false
		for _, key := range append([]string{name}, prefixed(r.Langs, name)...) {
			if v, ok := r.Metrics[key]; ok {
				cells = append(cells, formatMetric(key, v))
				measured = true
			} else {
				cells = append(cells, "-")
			}
		}
		if !measured {
			continue
		}
		ew.printf("%-*s", width, name)
		for _, c := range cells {
			ew.printf(" %7s", c)
		}
		ew.printf("\n")
	}
	if len(r.Datasets) > 0 {
		ew.printf("\nDatasets\n")
		for _, d := range r.Datasets {
			names := make([]string, 0, len(d.Metrics))
			for k := range d.Metrics {
				names = append(names, k)
			}
			sort.Strings(names)
			parts := make([]string, len(names))
			for i, k := range names {
				parts[i] = k + " " + formatMetric(k, d.Metrics[k])
			}
			ew.printf("  %s (%s, %d): %s\n", d.Name, d.Kind, d.N, strings.Join(parts, ", "))
		}
	}
	if len(r.Triggers) > 0 {
		ew.printf("\nEscalation by trigger\n")
		for _, t := range sortedKeys(r.Triggers) {
			c := r.Triggers[t]
			ew.printf("  %-20s tp %d  fp %d  fn %d  tn %d\n", t, c.TP, c.FP, c.FN, c.TN)
		}
	}
	failed := 0
	for _, c := range r.Cases {
		if c.Passed {
			continue
		}
		if failed == 0 {
			ew.printf("\nFailed cases\n")
		}
		failed++
		ew.printf("  ✗ %s (%s:%d, %s, %s) ended %s\n", c.ID, c.File, c.Line, c.Language, c.Channel, or(c.Outcome, "with no conversation"))
		for _, f := range c.Failures {
			ew.printf("      %s\n", FailureText(c, f))
			if t := turnOf(c, f.Step); t != nil && t.Decision != nil {
				ew.printf("        decision: %s\n", DecisionText(t.Decision))
			}
		}
	}
	if g := r.Gate; g != nil {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED"
		}
		ew.printf("\nGate against %s: %s\n", g.Baseline, verdict)
		for _, d := range g.Regressions() {
			ew.printf("  ✗ %s %s → %s (tolerance %s)\n", d.Metric, formatMetric(d.Metric, d.Baseline), formatMetric(d.Metric, d.Now), formatMetric(d.Metric, d.Tolerance))
		}
		if len(g.Broken) > 0 {
			ew.printf("  Cases that passed in the baseline and fail now: %s\n", strings.Join(g.Broken, ", "))
		}
	}
	return ew.err
}

// FailureText is one failed expectation in a line: where, what was
// wanted, what came.
func FailureText(c CaseResult, f Failure) string {
	where := fmt.Sprintf("%s:%d", c.File, f.Line)
	step := "conversation"
	if f.Step > 0 {
		step = fmt.Sprintf("step %d", f.Step)
	}
	s := fmt.Sprintf("%s: %s: %s: want %q, got %q", where, step, f.Field, f.Want, oneLine(f.Got))
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

// DecisionText is a decision record in a line.
func DecisionText(d *DecisionRecord) string {
	var b strings.Builder
	b.WriteString(d.Action)
	if d.Detail != "" {
		fmt.Fprintf(&b, " (%s)", d.Detail)
	}
	if d.Language != "" {
		fmt.Fprintf(&b, " lang=%s", d.Language)
	}
	intent := d.Intent
	if d.OutOfScope {
		intent += " out-of-scope"
	}
	if intent != "" {
		fmt.Fprintf(&b, " intent=%s(%.2f)", strings.TrimSpace(intent), d.Confidence)
	}
	fmt.Fprintf(&b, " sentiment=%.2f", d.Sentiment)
	if len(d.Citations) > 0 {
		fmt.Fprintf(&b, " cited=%s", strings.Join(d.Citations, ","))
	}
	if len(d.Triggers) > 0 {
		fmt.Fprintf(&b, " fired=%s", strings.Join(d.Triggers, ","))
	}
	return b.String()
}

func turnOf(c CaseResult, step int) *TurnResult {
	for i := range c.Turns {
		if c.Turns[i].Step == step {
			return &c.Turns[i]
		}
	}
	return nil
}

func prefixed(prefixes []string, name string) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p + "/" + name
	}
	return out
}

func formatMetric(name string, v float64) string {
	if LowerIsBetter(name) {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
