package evals

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkRun1000 runs 1,000 conversation cases offline on throwaway
// SQLite: the test suite's 14 cases (KB answers in two languages, every
// kind of escalation, an action against the order API, agents claiming,
// transferring and resolving through the agent API, CSAT, a 31-minute
// wait, WhatsApp and SMS) repeated with ids of their own. The target is
// 30 s on 2 cores (cases_per_s ≥ 33).
func BenchmarkRun1000(b *testing.B) {
	n := benchCases()
	dir := b.TempDir()
	src, err := filepath.Abs("testdata/suite")
	if err != nil {
		b.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(src, "cases", "*.yaml"))
	if err != nil || len(files) == 0 {
		b.Fatalf("cases: %v", err)
	}
	var bodies []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, string(data))
	}
	per := 0
	for _, body := range bodies {
		per += strings.Count(body, "\n  - id: ")
	}
	copies := (n + per - 1) / per
	if err := os.MkdirAll(filepath.Join(dir, "cases"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range copies {
		for j, body := range bodies {
			text := strings.ReplaceAll(body, "\n  - id: ", fmt.Sprintf("\n  - id: c%03d-", i))
			if err := os.WriteFile(filepath.Join(dir, "cases", fmt.Sprintf("%03d-%d.yaml", i, j)), []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	suite, err := os.ReadFile(filepath.Join(src, "suite.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	text := strings.ReplaceAll(string(suite), "../shop/", filepath.Join(src, "../shop")+"/")
	if err := os.WriteFile(filepath.Join(dir, "suite.yaml"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := LoadSuite(dir)
	if err != nil {
		b.Fatal(err)
	}
	s.Cases = s.Cases[:n]
	b.ResetTimer()
	for range b.N {
		rep, err := Run(context.Background(), s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts["passed"] != n {
			b.Fatalf("%d of %d cases passed", rep.Counts["passed"], n)
		}
		b.ReportMetric(rep.Timing.Took, "s/1000cases")
		b.ReportMetric(float64(n)/rep.Timing.Took, "cases/s")
		b.ReportMetric(rep.Timing.TurnP50, "turn_p50_ms")
		b.ReportMetric(rep.Timing.TurnP99, "turn_p99_ms")
	}
}

// benchCases is 1,000 unless BATON_BENCH_CASES says (a quicker profile).
func benchCases() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("BATON_BENCH_CASES"), &n); err == nil && n > 0 {
		return n
	}
	return 1000
}
