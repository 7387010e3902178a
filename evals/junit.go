package evals

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// JUnit XML, the shape CI systems read (the Ant/Jenkins schema): one
// testsuite for the run, one testcase per case, a failure per failed case
// whose message names file:line of its first failed expectation and whose
// text lists them all with the bot's decisions.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML. A failed gate is one more failed
// testcase ("gate"), naming the metrics that regressed.
func WriteJUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: r.Suite, Time: fmt.Sprintf("%.3f", r.Timing.Took),
		Properties: []junitProperty{{"mode", r.Mode}}}
	if !r.Timing.Started.IsZero() {
		s.Timestamp = r.Timing.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, name := range sortedMetrics(r.Metrics) {
		s.Properties = append(s.Properties, junitProperty{name, formatMetric(name, r.Metrics[name])})
	}
	for _, c := range r.Cases {
		jc := junitCase{Name: c.ID, Classname: r.Suite + "." + strings.TrimSuffix(filepath.Base(c.File), filepath.Ext(c.File)),
			File: c.File, Line: c.Line, Time: "0"}
		if !c.Passed {
			var text strings.Builder
			for _, f := range c.Failures {
				fmt.Fprintf(&text, "%s\n", FailureText(c, f))
				if t := turnOf(c, f.Step); t != nil && t.Decision != nil {
					fmt.Fprintf(&text, "  decision: %s\n", DecisionText(t.Decision))
				}
			}
			msg := c.ID + " failed"
			if len(c.Failures) > 0 {
				msg = FailureText(c, c.Failures[0])
				if n := len(c.Failures) - 1; n > 0 {
					msg += fmt.Sprintf(" (and %d more)", n)
				}
			}
			jc.Failure = &junitFailure{Message: msg, Type: "expectation", Text: text.String()}
			s.Failures++
		}
		s.Cases = append(s.Cases, jc)
	}
	if g := r.Gate; g != nil {
		jc := junitCase{Name: "gate", Classname: r.Suite + ".gate", Time: "0"}
		if !g.Passed {
			var text strings.Builder
			var names []string
			for _, d := range g.Regressions() {
				names = append(names, d.Metric)
				fmt.Fprintf(&text, "%s: %s → %s (tolerance %s)\n", d.Metric, formatMetric(d.Metric, d.Baseline), formatMetric(d.Metric, d.Now), formatMetric(d.Metric, d.Tolerance))
			}
			if len(g.Broken) > 0 {
				fmt.Fprintf(&text, "cases that passed in the baseline and fail now: %s\n", strings.Join(g.Broken, ", "))
			}
			jc.Failure = &junitFailure{Message: "regressed against " + g.Baseline + ": " + strings.Join(names, ", "), Type: "gate", Text: text.String()}
			s.Failures++
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	out := junitSuites{Name: r.Suite, Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
