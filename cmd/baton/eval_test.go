package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals"
)

func runEval(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, lookupEnv: config.MapEnv(nil)}
	code = run(context.Background(), append([]string{"eval", "run"}, args...), e)
	return code, out.String(), errb.String()
}

// TestEvalRunCommand: a passing suite exits 0 with its summary and writes
// report.json and report.xml; the same suite broken on purpose exits 3
// against that report, naming the metric and the case that broke; a suite
// with a failing case exits 0, and 4 with --strict; an invalid one exits 2
// naming file, line and case before anything runs.
func TestEvalRunCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runEval(t, "../../evals/testdata/suite", "--report", dir, "--parallel", "2")
	if code != 0 || !strings.Contains(out, "Suite shop (offline): 17 cases, 17 passed, 0 failed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	base, err := evals.ReadReport(filepath.Join(dir, "report.json"))
	if err != nil || base.Counts["passed"] != 17 {
		t.Fatalf("report.json: %v %v", err, base)
	}
	xmlData, err := os.ReadFile(filepath.Join(dir, "report.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Tests int `xml:"tests,attr"`
	}
	if err := xml.Unmarshal(xmlData, &junit); err != nil || junit.Tests != 17 {
		t.Fatalf("report.xml: %v, %d tests", err, junit.Tests)
	}

	code, out, errOut = runEval(t, "../../evals/testdata/broken", "--baseline", filepath.Join(dir, "report.json"))
	if code != exitGateFailed {
		t.Fatalf("broken suite against the baseline: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "routing.skills") || !strings.Contains(errOut, "broken cases: damaged-en") {
		t.Errorf("stderr does not name the metric and the case:\n%s", errOut)
	}
	if !strings.Contains(out, "Gate against") || !strings.Contains(out, "FAILED") {
		t.Errorf("summary without the gate's verdict:\n%s", out)
	}

	code, out, errOut = runEval(t, "../../evals/testdata/failing")
	if code != 0 || !strings.Contains(out, "2 failed") {
		t.Errorf("failing suite without --strict: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runEval(t, "../../evals/testdata/failing", "--json", "--strict")
	if code != exitCasesFailed || !strings.Contains(errOut, "2 of 5 cases failed") || !strings.HasPrefix(out, "{") {
		t.Errorf("failing suite: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = runEval(t, "../../evals/testdata/invalid/unknown-intent")
	if code != exitBadInput || !strings.Contains(errOut, "cases.yaml:12: case two: expect.intent") || out != "" {
		t.Errorf("invalid suite: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runEval(t, "../../evals/testdata/suite", "--baseline", filepath.Join(dir, "nope.json"))
	if code != exitBadInput || !strings.Contains(errOut, "nope.json") {
		t.Errorf("missing baseline: exit %d\n%s", code, errOut)
	}
}
