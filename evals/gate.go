package evals

import (
	"slices"
	"sort"
)

// gateEpsilon absorbs the rounding of metrics written to JSON.
const gateEpsilon = 1e-9

// Gate compares a run with its baseline: every metric of the baseline is
// compared with the run's under its tolerance (tol.For), the sign flipped
// for the metrics where lower is better; a metric the run no longer has
// counts as regressed (something stopped being measured). Broken are the
// cases that passed in the baseline and fail now. The gate passes when no
// metric regressed.
func Gate(now, baseline *Report, baselineName string, tol Tolerances) *GateResult {
	g := &GateResult{Baseline: baselineName, Passed: true, Deltas: []MetricDelta{}}
	for _, name := range sortedMetrics(baseline.Metrics) {
		b := baseline.Metrics[name]
		t := tol.For(name)
		n, ok := now.Metrics[name]
		d := MetricDelta{Metric: name, Baseline: b, Now: n, Tolerance: t}
		switch {
		case !ok:
			d.Regressed = true
		case LowerIsBetter(name):
			d.Regressed = n > b+t+gateEpsilon
		default:
			d.Regressed = n < b-t-gateEpsilon
		}
		if d.Regressed {
			g.Passed = false
		}
		g.Deltas = append(g.Deltas, d)
	}
	passed := map[string]bool{}
	for _, c := range baseline.Cases {
		passed[c.ID] = c.Passed
	}
	for _, c := range now.Cases {
		if !c.Passed && passed[c.ID] {
			g.Broken = append(g.Broken, c.ID)
		}
	}
	sort.Strings(g.Broken)
	return g
}

// Regressions are the deltas that regressed.
func (g *GateResult) Regressions() []MetricDelta {
	return slices.DeleteFunc(slices.Clone(g.Deltas), func(d MetricDelta) bool { return !d.Regressed })
}
