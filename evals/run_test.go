package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/batonhq/baton/store/postgres/pgtest"
)

// stores are the databases a run is tested on: throwaway SQLite always,
// PostgreSQL when the test database is configured.
func stores() []struct{ name, url string } {
	out := []struct{ name, url string }{{"sqlite", ""}}
	if pgtest.Available() {
		out = append(out, struct{ name, url string }{"postgres", "postgres"})
	}
	return out
}

func runSuite(t *testing.T, dir string, opt Options) *Report {
	t.Helper()
	s, err := LoadSuite(dir)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Parallel == 0 {
		opt.Parallel = 2
	}
	opt.TempDir = t.TempDir()
	rep, err := Run(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func caseByID(t *testing.T, r *Report, id string) CaseResult {
	t.Helper()
	for _, c := range r.Cases {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s in the report", id)
	return CaseResult{}
}

// TestRunSuite plays the test suite through the real pipeline on each
// store: every case passes, and what the report says of each was what the
// bot did on its channel.
func TestRunSuite(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.name, func(t *testing.T) {
			opt := Options{}
			if sc.url != "" {
				opt.DatabaseURL = pgtest.URL(t)
			}
			rep := runSuite(t, "testdata/suite", opt)
			for _, c := range rep.Cases {
				for _, f := range c.Failures {
					t.Errorf("%s", FailureText(c, f))
				}
			}
			if rep.Counts["cases"] != 17 || rep.Counts["passed"] != 17 || rep.Metrics[MetricCasePassRate] != 1 {
				t.Fatalf("counts %v, pass rate %v", rep.Counts, rep.Metrics[MetricCasePassRate])
			}
			if rep.Counts["judge_skipped"] != 1 {
				t.Errorf("judge rubrics skipped offline: %d, want 1", rep.Counts["judge_skipped"])
			}
			if rep.Mode != "offline" || rep.Suite != "shop" || strings.Join(rep.Langs, ",") != "en,tr" {
				t.Errorf("mode %s suite %s languages %v", rep.Mode, rep.Suite, rep.Langs)
			}
			// The turn latency per language, as overall, from each
			// language's own turns.
			for _, l := range rep.Langs {
				lt, ok := rep.Timing.Languages[l]
				if !ok || lt.P50 <= 0 || lt.P99 < lt.P50 {
					t.Errorf("%s latency %+v (overall p99 %.2f ms)", l, lt, rep.Timing.TurnP99)
				}
			}
			// The KB answer cites its article; the SMS one offers its
			// yes/no as text lines.
			ret := caseByID(t, rep, "returns-en")
			if d := ret.Turns[0].Decision; d == nil || d.Action != "answer" || strings.Join(d.Citations, ",") != "returns-policy" {
				t.Errorf("returns-en decision %+v", ret.Turns[0].Decision)
			}
			if ret.Outcome != OutcomeBotResolved {
				t.Errorf("returns-en outcome %s", ret.Outcome)
			}
			// The order action ran with the slot the customer gave and
			// read the order from the suite's order API.
			ord := caseByID(t, rep, "order-en")
			if d := ord.Turns[1].Decision; d == nil || d.Slots["order_id"] != "SS-10001" {
				t.Errorf("order-en decision %+v", ord.Turns[1].Decision)
			}
			// The agent flow ended with the agent's resolution and the
			// customer's rating.
			if c := caseByID(t, rep, "agent-flow-en"); c.Outcome != OutcomeAgentResolved {
				t.Errorf("agent-flow-en outcome %s", c.Outcome)
			}
			if c := caseByID(t, rep, "spam-en"); c.Outcome != OutcomeArchived {
				t.Errorf("spam-en outcome %s", c.Outcome)
			}
			for _, m := range []string{MetricIntentAccuracy, MetricEscF1, MetricRoutingQueue, MetricRoutingSkills, MetricCitationAccuracy, "tr/" + MetricCitationAccuracy} {
				if rep.Metrics[m] != 1 {
					t.Errorf("%s = %v, want 1", m, rep.Metrics[m])
				}
			}
			if c := rep.Triggers["wants_human"]; c.TP != 2 || c.FP != 0 || c.FN != 0 {
				t.Errorf("wants_human counts %+v", c)
			}
		})
	}
}

// TestRunFailures: a failed expectation is listed with its step, its line
// in the case file, what was wanted and what came, beside the decision the
// bot took; a press on a button the bot did not offer is a failure too.
func TestRunFailures(t *testing.T) {
	rep := runSuite(t, "testdata/failing", Options{})
	if rep.Counts["failed"] != 2 || rep.Counts["passed"] != 3 {
		t.Fatalf("counts %v", rep.Counts)
	}
	c := caseByID(t, rep, "wrong-intent")
	if len(c.Failures) != 1 {
		t.Fatalf("failures %+v", c.Failures)
	}
	f := c.Failures[0]
	if f.Step != 1 || f.Line != 7 || f.Field != "intent" || f.Want != "shipping" || f.Got != "returns" {
		t.Errorf("failure %+v", f)
	}
	if d := c.Turns[0].Decision; d == nil || d.Intent != "returns" {
		t.Errorf("the turn's decision record %+v", c.Turns[0].Decision)
	}
	c = caseByID(t, rep, "wrong-text-and-outcome")
	var fields []string
	for _, f := range c.Failures {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, ","); got != "contains,press,outcome" {
		t.Errorf("failed fields %s: %+v", got, c.Failures)
	}
	// One outcome of two held; the bot resolution the customer came
	// back after is not honest containment.
	if rep.Metrics[MetricIntentAccuracy] != 0 || rep.Metrics[MetricOutcomeAccuracy] != 0.5 || rep.Metrics[MetricContainmentHonest] != 0 {
		t.Errorf("metrics %v", rep.Metrics)
	}
	if c := caseByID(t, rep, "recontact-after-resolution-en"); !c.Passed || c.Outcome != OutcomeBotResolved {
		t.Errorf("recontact case: passed %v, outcome %s, %+v", c.Passed, c.Outcome, c.Failures)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), `testdata/failing/cases.yaml:7: step 1: intent: want "shipping", got "returns"`) ||
		!strings.Contains(text.String(), "decision: answer") {
		t.Errorf("summary:\n%s", text.String())
	}
}

// TestRunDeterministic: two runs of the same inputs give the same report
// apart from its timing.
func TestRunDeterministic(t *testing.T) {
	a := runSuite(t, "testdata/suite", Options{Parallel: 2})
	b := runSuite(t, "testdata/suite", Options{Parallel: 1})
	ja, jb := withoutTiming(t, a), withoutTiming(t, b)
	if ja != jb {
		t.Fatalf("two runs differ:\n%s\n---\n%s", ja, jb)
	}
}

func withoutTiming(t *testing.T, r *Report) string {
	t.Helper()
	c := *r
	c.Timing = Timing{}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestGateBreaks: the suite run with the returns skill taken from the only
// agent who had it fails the gate against the good run's report, naming
// the metric and the cases that broke.
func TestGateBreaks(t *testing.T) {
	good := runSuite(t, "testdata/suite", Options{})
	bad := runSuite(t, "testdata/broken", Options{})
	s, err := LoadSuite("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	if g := Gate(good, good, "good.json", s.Tolerances); !g.Passed || len(g.Broken) > 0 {
		t.Fatalf("a run against itself: %+v", g)
	}
	g := Gate(bad, good, "good.json", s.Tolerances)
	if g.Passed {
		t.Fatal("the gate passed")
	}
	var regressed []string
	for _, d := range g.Regressions() {
		regressed = append(regressed, d.Metric)
	}
	if !strings.Contains(strings.Join(regressed, ","), MetricRoutingSkills) {
		t.Errorf("regressed %v, want %s among them", regressed, MetricRoutingSkills)
	}
	if strings.Join(g.Broken, ",") != "damaged-en" {
		t.Errorf("broken %v, want damaged-en", g.Broken)
	}
}

// TestJUnit: the JUnit XML is well-formed, has one testcase per case and
// a failure naming file:line for each failed case.
func TestJUnit(t *testing.T) {
	rep := runSuite(t, "testdata/failing", Options{})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				File    string `xml:"file,attr"`
				Line    int    `xml:"line,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(&buf)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	if doc.Tests != 5 || doc.Failures != 2 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 5 {
		t.Fatalf("tests %d failures %d suites %+v", doc.Tests, doc.Failures, doc.Suites)
	}
	for _, c := range doc.Suites[0].Cases {
		if c.File == "" || c.Line == 0 {
			t.Errorf("testcase %s has no file:line", c.Name)
		}
		if c.Name == "wrong-intent" && (c.Failure == nil || !strings.HasPrefix(c.Failure.Message, "testdata/failing/cases.yaml:7:")) {
			t.Errorf("wrong-intent failure %+v", c.Failure)
		}
		if c.Name == "passes" && c.Failure != nil {
			t.Errorf("passes failed: %+v", c.Failure)
		}
	}
}

// TestReportRoundTrip: a report read back is the report written; another
// version is refused.
func TestReportRoundTrip(t *testing.T) {
	rep := runSuite(t, "testdata/failing", Options{})
	dir := t.TempDir()
	path := dir + "/r.json"
	writeFile(t, path, func(b *bytes.Buffer) { _ = WriteJSON(b, rep) })
	back, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if withoutTiming(t, back) != withoutTiming(t, rep) {
		t.Error("the report read back differs")
	}
	old := *rep
	old.Version = 0
	writeFile(t, path, func(b *bytes.Buffer) { _ = json.NewEncoder(b).Encode(old) })
	if _, err := ReadReport(path); err == nil || !strings.Contains(err.Error(), "version 0") {
		t.Errorf("a report of another version: %v", err)
	}
}
