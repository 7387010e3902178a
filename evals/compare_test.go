package evals

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"other version", write("v2.json", `{"version": 2, "suite": "s", "metrics": {}}`), "is of report version 2; this baton reads version 1"},
		{"no version", write("nov.json", `{"suite": "s"}`), "has no version: not an eval report"},
		{"not JSON", write("bad.json", `<html>`), "is not a JSON eval report"},
		{"wrong type", write("type.json", `{"version": 1, "metrics": {"a": "x"}}`), "type.json"},
		{"missing", filepath.Join(dir, "none.json"), "none.json: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadReport(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("code %s", baton.ErrorCode(err))
			}
		})
	}
	r, err := ReadReport("testdata/report_a.json")
	if err != nil || r.Suite != "sportshop" || len(r.Cases) != 4 {
		t.Fatalf("report_a: %v %+v", err, r)
	}
}

func TestCompare(t *testing.T) {
	a, b := readFixture(t, "report_a.json"), readFixture(t, "report_b.json")
	c, err := Compare(a, b, "a.json", "b.json")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]MetricCompare{}
	for _, m := range c.Metrics {
		byName[m.Metric] = m
	}
	// Every metric of either run is there.
	for k := range a.Metrics {
		if _, ok := byName[k]; !ok {
			t.Errorf("metric %s of A missing", k)
		}
	}
	for k := range b.Metrics {
		if _, ok := byName[k]; !ok {
			t.Errorf("metric %s of B missing", k)
		}
	}
	tests := []struct {
		metric, change string
		delta          float64
	}{
		{"case.pass_rate", "worse", -0.25},
		{"intent.accuracy", "better", 0.02},
		{"turns_to_resolution", "worse", 0.5}, // lower is better
		{"tr/routing.queue", "worse", -0.5},
		{"intent.macro_f1", "same", 0},
		{"oos.recall", "gone", 0},
		{"retrieval.mrr", "new", 0},
	}
	for _, tc := range tests {
		t.Run(tc.metric, func(t *testing.T) {
			m := byName[tc.metric]
			if m.Change != tc.change {
				t.Errorf("change %q, want %q", m.Change, tc.change)
			}
			if m.Delta != nil && (*m.Delta-tc.delta > 1e-9 || tc.delta-*m.Delta > 1e-9) {
				t.Errorf("delta %v, want %v", *m.Delta, tc.delta)
			}
			if (tc.change == "new" || tc.change == "gone") != (m.Delta == nil) {
				t.Errorf("delta %v for a %s metric", m.Delta, tc.change)
			}
		})
	}
	// Overall metrics come first, then each language's and dataset's.
	if c.Metrics[0].Metric != "case.pass_rate" || strings.Contains(c.Metrics[len(byName)-1].Metric, "/") == false {
		t.Errorf("order: first %s, last %s", c.Metrics[0].Metric, c.Metrics[len(c.Metrics)-1].Metric)
	}
	if len(c.Broken) != 1 || c.Broken[0].ID != "human-please-tr" || len(c.Broken[0].Failures) != 2 {
		t.Errorf("broken %+v", c.Broken)
	}
	if len(c.Fixed) != 1 || c.Fixed[0].ID != "order-status-ru" || c.Fixed[0].Failures[0].Field != "intent" {
		t.Errorf("fixed %+v", c.Fixed)
	}
}

func TestCompareCaseSets(t *testing.T) {
	a, b := readFixture(t, "report_a.json"), readFixture(t, "report_b.json")
	b.Cases = append(b.Cases[:1], CaseResult{ID: "new-case", Passed: true})
	c, err := Compare(a, b, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.OnlyA, ",") != "angry-refund-tr,human-please-tr,order-status-ru" || strings.Join(c.OnlyB, ",") != "new-case" {
		t.Errorf("only A %v, only B %v", c.OnlyA, c.OnlyB)
	}
	if len(c.Broken) != 0 || len(c.Fixed) != 0 {
		t.Errorf("broken %v fixed %v", c.Broken, c.Fixed)
	}
	b.Version = 7
	if _, err := Compare(a, b, "a", "b"); err == nil || !strings.Contains(err.Error(), "report b is of report version 7") {
		t.Errorf("another version: %v", err)
	}
}

func TestComparisonOutputs(t *testing.T) {
	c, err := Compare(readFixture(t, "report_a.json"), readFixture(t, "report_b.json"), "a.json", "b.json")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"A: a.json (suite sportshop, offline, 3/4 cases passed)",
		"B: b.json (suite sportshop, llm, 3/4 cases passed)",
		"broken: passed in A, fail in B (1)\n  human-please-tr [tr]\n      in B, step 1 line 18: escalated: want \"true\", got \"false\"",
		"fixed: failed in A, pass in B (1)\n  order-status-ru [ru]",
	} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text.String())
		}
	}
	// The metric table, column by column.
	rows := map[string]string{}
	for _, l := range strings.Split(text.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = strings.Join(f, " ")
		}
	}
	for _, w := range []string{"case.pass_rate 0.7500 0.5000 -0.2500 worse", "oos.recall 1.0000 - gone", "retrieval.mrr - 0.8000 new", "intent.macro_f1 0.8800 0.8800 +0.0000"} {
		if got := rows[strings.Fields(w)[0]]; got != w {
			t.Errorf("row %q, want %q", got, w)
		}
	}
	var js bytes.Buffer
	if err := c.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Metrics) != len(c.Metrics) || back.Broken[0].ID != "human-please-tr" {
		t.Errorf("JSON round trip: %+v", back)
	}
}
