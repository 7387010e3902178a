package kb

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/sqlite"
)

func TestEvalFAQ(t *testing.T) {
	ctx := context.Background()
	rep, err := EvalFAQ(ctx, EvalOptions{Open: openSQLite,
		FAQ: "testdata/faq/faqs.tsv", Queries: "testdata/faq/queries.tsv", OutOfKB: "testdata/faq/oos.txt",
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Articles != 10 || rep.Chunks < 10 {
		t.Errorf("%d articles, %d chunks", rep.Articles, rep.Chunks)
	}
	if len(rep.Modes) != 3 {
		t.Fatalf("modes %+v", rep.Modes)
	}
	for _, m := range rep.Modes {
		t.Run(string(m.Mode), func(t *testing.T) {
			if m.Queries != 20 {
				t.Errorf("%d queries", m.Queries)
			}
			if !(m.Recall1 <= m.Recall5 && m.Recall5 <= 1 && m.MRR >= m.Recall1 && m.MRR <= m.Recall5+1e-9) {
				t.Errorf("inconsistent figures %+v", m)
			}
			if m.MedianMS <= 0 || m.P99MS < m.MedianMS {
				t.Errorf("latency median %.3f p99 %.3f", m.MedianMS, m.P99MS)
			}
		})
	}
	hybrid := rep.Modes[2]
	// Ten distinct topics; some questions use synonyms no article has
	// ("voucher"), so not all are found.
	if hybrid.Recall5 < 0.8 || hybrid.Recall1 < 0.6 {
		t.Errorf("hybrid recall@1 %.2f recall@5 %.2f on an easy set", hybrid.Recall1, hybrid.Recall5)
	}
	a := rep.Answers
	if a == nil || a.OutOfKB != 5 || a.OutOfKBAnswers > 0.2 || a.InKBAnswered == 0 {
		t.Errorf("answer figures %+v", a)
	}

	var buf bytes.Buffer
	if err := WriteEvalReport(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10 articles", "keyword", "vector", "hybrid", "recall@1", "out-of-KB 5 questions"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunEvalJSON(t *testing.T) {
	var buf bytes.Buffer
	err := RunEval(context.Background(), EvalOptions{Open: openSQLite,
		FAQ: "testdata/faq/faqs.tsv", Queries: "testdata/faq/queries.tsv", Modes: []Mode{ModeKeyword},
	}, true, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var rep EvalReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(rep.Modes) != 1 || rep.Modes[0].Mode != ModeKeyword || rep.Modes[0].Queries != 20 {
		t.Errorf("report %+v", rep)
	}
}

func TestEvalRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "q.tsv")
	os.WriteFile(unknown, []byte("1\tok\n99\twhere is it\n"), 0o644)
	tests := []struct {
		name, faq, queries, want string
	}{
		{"short line", "testdata/faq/bad_faqs.tsv", "testdata/faq/queries.tsv", "bad_faqs.tsv:1: want 3 tab-separated fields, got 2"},
		{"missing file", filepath.Join(dir, "none.tsv"), "testdata/faq/queries.tsv", "none.tsv"},
		{"unknown id", "testdata/faq/faqs.tsv", unknown, `q.tsv:2: query names FAQ id "99"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EvalFAQ(context.Background(), EvalOptions{Open: openSQLite, FAQ: tc.faq, Queries: tc.queries})
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want EINVALID with %q", err, tc.want)
			}
		})
	}
}

// stackFAQDir is the StackFAQ data (CC BY-SA, read in place, never copied
// into the repository).
func stackFAQDir() string {
	if d := os.Getenv("BATON_STACKFAQ_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data", "stackfaq")
}

func clincFile() string {
	if f := os.Getenv("BATON_CLINC150_FILE"); f != "" {
		return f
	}
	return filepath.Join("..", "..", "shared", "data", "clinc150", "clinc150_train_val.json")
}

// postgresOpener opens the test database for a throwaway KB; the bot id of
// the evaluation is reused, so the caller must not share the database with
// a concurrent evaluation.
func postgresOpener(url string) OpenFunc {
	return func(ctx context.Context, _ string) (baton.ArticleStore, func() error, error) {
		p, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			return nil, nil, err
		}
		return p, func() error { p.Close(); return nil }, nil
	}
}

// BenchmarkStackFAQ prints the retrieval figures of issue 5 on StackFAQ dev
// (keyword, vector, hybrid; both stores when Postgres is configured) and the
// answer figures with CLINC150 out-of-scope validation questions.
func BenchmarkStackFAQ(b *testing.B) {
	dir := stackFAQDir()
	if _, err := os.Stat(filepath.Join(dir, "faqs.tsv")); err != nil {
		b.Skipf("StackFAQ not found at %s (set BATON_STACKFAQ_DIR)", dir)
	}
	type storeCase struct {
		name string
		open OpenFunc
	}
	cases := []storeCase{{"sqlite", openSQLite}}
	if url := os.Getenv("BATON_TEST_DATABASE_URL"); url != "" {
		cases = append(cases, storeCase{"postgres", postgresOpener(url)})
	}
	oos := clincFile()
	if _, err := os.Stat(oos); err != nil {
		oos = ""
	}
	for _, sc := range cases {
		b.Run(sc.name, func(b *testing.B) {
			var rep EvalReport
			for b.Loop() {
				var err error
				rep, err = EvalFAQ(context.Background(), EvalOptions{
					FAQ: filepath.Join(dir, "faqs.tsv"), Queries: filepath.Join(dir, "queries_dev.tsv"),
					Open: sc.open, OutOfKB: oos,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			rep.Store = sc.name
			for _, m := range rep.Modes {
				b.ReportMetric(m.Recall1, string(m.Mode)+"-R@1")
				b.ReportMetric(m.Recall5, string(m.Mode)+"-R@5")
				b.ReportMetric(m.MRR, string(m.Mode)+"-MRR")
				b.ReportMetric(m.P99MS, string(m.Mode)+"-p99-ms")
			}
			if a := rep.Answers; a != nil {
				b.ReportMetric(a.InKBAnswered, "dev-answered")
				b.ReportMetric(a.InKBCorrect, "dev-correct-cite")
				b.ReportMetric(a.OutOfKBAnswers, "oos-answered")
			}
			var buf bytes.Buffer
			WriteEvalReport(&buf, rep)
			b.Log("\n" + buf.String())
		})
	}
}

// TestEvalProgress: the import, each mode's searches and the answers are
// reported stage by stage, each from 0 to its total, in order.
func TestEvalProgress(t *testing.T) {
	type call struct {
		stage       string
		done, total int
	}
	var calls []call
	_, err := EvalFAQ(context.Background(), EvalOptions{Open: openSQLite,
		FAQ: "testdata/faq/faqs.tsv", Queries: "testdata/faq/queries.tsv", OutOfKB: "testdata/faq/oos.txt",
		Modes:    []Mode{ModeKeyword, ModeHybrid},
		Progress: func(stage string, done, total int) { calls = append(calls, call{stage, done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Per stage: its total, and every step from 0 to it.
	want := []call{{"importing", 0, 10}, {"searching (keyword)", 0, 20}, {"searching (hybrid)", 0, 20}, {"answering", 0, 25}}
	i := 0
	for _, w := range want {
		for d := 0; d <= w.total; d++ {
			exp := call{w.stage, d, w.total}
			if i >= len(calls) || calls[i] != exp {
				t.Fatalf("call %d = %+v, want %+v (all: %v)", i, calls[min(i, len(calls)-1)], exp, calls)
			}
			i++
		}
	}
	if i != len(calls) {
		t.Errorf("%d calls after the last stage: %v", len(calls)-i, calls[i:])
	}
}

// TestEvalReadsOutOfKBFirst: a bad out-of-KB file is reported before any
// KB is built.
func TestEvalReadsOutOfKBFirst(t *testing.T) {
	opened := false
	_, err := EvalFAQ(context.Background(), EvalOptions{
		FAQ: "testdata/faq/faqs.tsv", Queries: "testdata/faq/queries.tsv", OutOfKB: filepath.Join(t.TempDir(), "none.txt"),
		Open: func(ctx context.Context, dir string) (baton.ArticleStore, func() error, error) {
			opened = true
			return openSQLite(ctx, dir)
		},
	})
	if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("error %v, want EINVALID naming the file", err)
	}
	if opened {
		t.Error("a store was opened before the out-of-KB file was read")
	}
}

// openSQLite is the throwaway store the tests evaluate in.
func openSQLite(ctx context.Context, dir string) (baton.ArticleStore, func() error, error) {
	s, err := sqlite.Open(ctx, filepath.Join(dir, "kb.db"), sqlite.Options{})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// The KB never chooses a store: an evaluation without one is refused.
func TestEvalNeedsAStore(t *testing.T) {
	_, err := EvalFAQ(context.Background(), EvalOptions{FAQ: "testdata/faq/faqs.tsv", Queries: "testdata/faq/queries.tsv"})
	if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "EvalOptions.Open") {
		t.Fatalf("error %v, want EINVALID naming EvalOptions.Open", err)
	}
}
