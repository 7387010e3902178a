package evals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// Comparison is two runs side by side: every metric of either with its
// change, and the cases whose verdict differs.
type Comparison struct {
	A       CompareSide     `json:"a"`
	B       CompareSide     `json:"b"`
	Metrics []MetricCompare `json:"metrics"`
	// Fixed passed in B and failed in A; Broken the other way round;
	// OnlyA and OnlyB are cases one run has and the other not.
	Fixed  []CaseChange `json:"fixed"`
	Broken []CaseChange `json:"broken"`
	OnlyA  []string     `json:"only_a,omitempty"`
	OnlyB  []string     `json:"only_b,omitempty"`
}

// CompareSide names one run.
type CompareSide struct {
	File   string         `json:"file"`
	Suite  string         `json:"suite"`
	Mode   string         `json:"mode"`
	Counts map[string]int `json:"counts"`
}

// MetricCompare is one metric in both runs. A or B is nil when that run
// did not measure it.
type MetricCompare struct {
	Metric string   `json:"metric"`
	A      *float64 `json:"a"`
	B      *float64 `json:"b"`
	Delta  *float64 `json:"delta,omitempty"` // B - A
	// Change is "better", "worse" or "same" (lower-is-better metrics
	// read the other way), "new" or "gone".
	Change string `json:"change"`
}

// CaseChange is a case whose verdict differs, with what failed in the
// run where it failed.
type CaseChange struct {
	ID       string    `json:"id"`
	Language string    `json:"language"`
	Failures []Failure `json:"failures"`
}

// Compare puts run a and run b side by side. Both must be of this
// ReportVersion (ReadReportFile checks that when reading them).
func Compare(a, b *Report, fileA, fileB string) (*Comparison, error) {
	for _, s := range []struct {
		r    *Report
		file string
	}{{a, fileA}, {b, fileB}} {
		if s.r == nil {
			return nil, baton.Errorf(baton.EINVALID, "compare: no report for %s", s.file)
		}
		if s.r.Version != ReportVersion {
			return nil, baton.Errorf(baton.EINVALID, "compare: report %s is of report version %d, not %d", s.file, s.r.Version, ReportVersion)
		}
	}
	c := &Comparison{
		A: CompareSide{File: fileA, Suite: a.Suite, Mode: a.Mode, Counts: a.Counts},
		B: CompareSide{File: fileB, Suite: b.Suite, Mode: b.Mode, Counts: b.Counts},
	}
	names := map[string]bool{}
	for k := range a.Metrics {
		names[k] = true
	}
	for k := range b.Metrics {
		names[k] = true
	}
	for _, k := range sortedMetrics(names) {
		m := MetricCompare{Metric: k}
		va, okA := a.Metrics[k]
		vb, okB := b.Metrics[k]
		if okA {
			m.A = &va
		}
		if okB {
			m.B = &vb
		}
		switch {
		case !okA:
			m.Change = "new"
		case !okB:
			m.Change = "gone"
		default:
			d := vb - va
			m.Delta = &d
			switch {
			case math.Abs(d) < 1e-9:
				m.Change = "same"
			case (d > 0) != LowerIsBetter(k):
				m.Change = "better"
			default:
				m.Change = "worse"
			}
		}
		c.Metrics = append(c.Metrics, m)
	}
	inB := map[string]CaseResult{}
	for _, cr := range b.Cases {
		inB[cr.ID] = cr
	}
	inA := map[string]bool{}
	for _, ca := range a.Cases {
		inA[ca.ID] = true
		cb, ok := inB[ca.ID]
		switch {
		case !ok:
			c.OnlyA = append(c.OnlyA, ca.ID)
		case ca.Passed && !cb.Passed:
			c.Broken = append(c.Broken, CaseChange{ID: ca.ID, Language: cb.Language, Failures: cb.Failures})
		case !ca.Passed && cb.Passed:
			c.Fixed = append(c.Fixed, CaseChange{ID: ca.ID, Language: ca.Language, Failures: ca.Failures})
		}
	}
	for _, cb := range b.Cases {
		if !inA[cb.ID] {
			c.OnlyB = append(c.OnlyB, cb.ID)
		}
	}
	for _, l := range []*[]CaseChange{&c.Fixed, &c.Broken} {
		if *l == nil {
			*l = []CaseChange{}
		}
		sort.Slice(*l, func(i, j int) bool { return (*l)[i].ID < (*l)[j].ID })
	}
	sort.Strings(c.OnlyA)
	sort.Strings(c.OnlyB)
	return c, nil
}

// WriteJSON writes the comparison as one JSON object.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// WriteText writes the comparison for people: the metrics in columns, then
// the cases that changed verdict with what failed.
func (c *Comparison) WriteText(w io.Writer) error {
	var buf bytes.Buffer
	side := func(label string, s CompareSide) {
		fmt.Fprintf(&buf, "%s: %s (suite %s, %s", label, s.File, s.Suite, s.Mode)
		if n, ok := s.Counts["cases"]; ok {
			fmt.Fprintf(&buf, ", %d/%d cases passed", s.Counts["passed"], n)
		}
		buf.WriteString(")\n")
	}
	side("A", c.A)
	side("B", c.B)
	if c.A.Suite != c.B.Suite {
		fmt.Fprintf(&buf, "note: the runs are of different suites (%s, %s)\n", c.A.Suite, c.B.Suite)
	}
	buf.WriteString("\n")
	width := len("metric")
	for _, m := range c.Metrics {
		width = max(width, len(m.Metric))
	}
	val := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4f", *p)
	}
	fmt.Fprintf(&buf, "%-*s  %8s  %8s  %8s\n", width, "metric", "A", "B", "B-A")
	for _, m := range c.Metrics {
		d := ""
		if m.Delta != nil {
			d = fmt.Sprintf("%+.4f", *m.Delta)
		}
		change := m.Change
		if change == "same" {
			change = ""
		}
		fmt.Fprintf(&buf, "%-*s  %8s  %8s  %8s  %s", width, m.Metric, val(m.A), val(m.B), d, change)
		buf.Truncate(len(bytes.TrimRight(buf.Bytes(), " ")))
		buf.WriteString("\n")
	}
	cases := func(title string, list []CaseChange, failedIn string) {
		fmt.Fprintf(&buf, "\n%s (%d)\n", title, len(list))
		for _, cc := range list {
			fmt.Fprintf(&buf, "  %s [%s]\n", cc.ID, cc.Language)
			for _, f := range cc.Failures {
				at := "end"
				if f.Step > 0 {
					at = fmt.Sprintf("step %d", f.Step)
				}
				fmt.Fprintf(&buf, "      in %s, %s line %d: %s: want %q, got %q", failedIn, at, f.Line, f.Field, f.Want, f.Got)
				if f.Detail != "" {
					fmt.Fprintf(&buf, " (%s)", f.Detail)
				}
				buf.WriteString("\n")
			}
		}
	}
	cases("broken: passed in A, fail in B", c.Broken, "B")
	cases("fixed: failed in A, pass in B", c.Fixed, "A")
	if len(c.OnlyA) > 0 {
		fmt.Fprintf(&buf, "\nonly in A (%d): %s\n", len(c.OnlyA), strings.Join(c.OnlyA, ", "))
	}
	if len(c.OnlyB) > 0 {
		fmt.Fprintf(&buf, "\nonly in B (%d): %s\n", len(c.OnlyB), strings.Join(c.OnlyB, ", "))
	}
	_, err := w.Write(buf.Bytes())
	return err
}
