package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
)

// kbWorld is a configuration file, a data directory and a copy of the test
// articles that a test may edit.
type kbWorld struct {
	cfg, data, articles string
	databaseURL         string // PostgreSQL when set, else SQLite under data
}

func newKBWorld(t *testing.T, configYAML string) *kbWorld {
	t.Helper()
	dir := t.TempDir()
	w := &kbWorld{cfg: filepath.Join(dir, "baton.yaml"), data: filepath.Join(dir, "data"), articles: filepath.Join(dir, "articles")}
	if err := os.WriteFile(w.cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(w.articles, os.DirFS("testdata/kb/articles")); err != nil {
		t.Fatal(err)
	}
	return w
}

const oneBotConfig = "bots:\n  - id: shop\n    languages: [en]\n"

// kb runs "baton --config <cfg> kb ARGS" in process, with the world's data
// directory in the environment.
func (w *kbWorld) kb(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, lookupEnv: func(k string) (string, bool) {
		switch {
		case k == "BATON_DATA_DIR":
			return w.data, true
		case k == "BATON_DATABASE_URL" && w.databaseURL != "":
			return w.databaseURL, true
		}
		return "", false
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = run(ctx, append([]string{"--config", w.cfg, "--log-format", "text", "--log-level", "warn", "kb"}, args...), e)
	return code, out.String(), errb.String()
}

// mustKB runs a kb command that must succeed.
func (w *kbWorld) mustKB(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := w.kb(t, args...)
	if code != exitOK {
		t.Fatalf("kb %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
	}
	return stdout
}

// store opens the world's database directly, after the command closed it.
func (w *kbWorld) store(t *testing.T) baton.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var st baton.Store
	var err error
	if w.databaseURL != "" {
		st, err = postgres.Open(ctx, w.databaseURL, postgres.Options{})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(w.data, sqliteFile), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// versions counts the stored versions of every slug of bot shop.
func versions(t *testing.T, st baton.ArticleStore) map[string]int {
	t.Helper()
	ctx := context.Background()
	arts, err := st.ListArticles(ctx, baton.ArticleFilter{BotID: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range arts {
		vs, err := st.ListArticleVersions(ctx, "shop", a.Slug)
		if err != nil {
			t.Fatal(err)
		}
		out[a.Slug] = len(vs)
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestKBImportLifecycle: import, re-import (nothing), edit one file (exactly
// one new version), a bad file (reported with file:line, nothing from it
// imported), export → import (no-op), prune.
func TestKBImportLifecycle(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKBImportLifecycle(t, "") })
	t.Run("postgres", func(t *testing.T) { testKBImportLifecycle(t, pgtest.Schema(t)) })
}

func testKBImportLifecycle(t *testing.T, databaseURL string) {
	w := newKBWorld(t, oneBotConfig)
	w.databaseURL = databaseURL

	out := w.mustKB(t, "import", w.articles)
	if !strings.Contains(out, "created      3: delivery-times, returns, shoe-sizes") {
		t.Fatalf("first import did not create the three articles:\n%s", out)
	}
	first := versions(t, w.store(t))
	if !sameCounts(first, map[string]int{"delivery-times": 1, "returns": 1, "shoe-sizes": 1}) {
		t.Fatalf("versions after the first import: %v", first)
	}

	steps := []struct {
		name    string
		edit    func(t *testing.T)
		args    []string
		code    int
		out     []string // in stdout
		stderr  []string
		absent  []string // not in stdout
		once    []string // exactly once in stdout and stderr together
		changed map[string]int
	}{
		{
			name:   "unchanged files do nothing",
			args:   []string{"import", w.articles},
			out:    []string{"unchanged    3"},
			absent: []string{"created", "updated", "published"},
		},
		{
			name: "one edited file makes exactly one new version",
			edit: func(t *testing.T) {
				appendTo(t, filepath.Join(w.articles, "returns.md"), "\nSale items can be returned too.\n")
			},
			args:    []string{"import", w.articles},
			out:     []string{"updated      1: returns", "unchanged    2"},
			absent:  []string{"created"},
			changed: map[string]int{"returns": 2},
		},
		{
			name: "a bad file is reported with file and line and nothing from it is imported",
			edit: func(t *testing.T) {
				bad := "---\ntitle: Gift cards\nslug: gift-cards\nlanguage: xx\nstatus: published\n---\nGift cards are sold online.\n"
				if err := os.WriteFile(filepath.Join(w.articles, "gift-cards.md"), []byte(bad), 0o644); err != nil {
					t.Fatal(err)
				}
				// A bad edit of an existing article must leave it alone too.
				p := filepath.Join(w.articles, "shoe-sizes.md")
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data = bytes.Replace(data, []byte("status: published"), []byte("status: live"), 1)
				data = append(data, "Kids' sizes are on the next page.\n"...)
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args:   []string{"import", w.articles},
			code:   exitBadInput,
			out:    []string{"bad          2 file(s), nothing imported from them", "unchanged    2"},
			stderr: []string{"2 problem(s) in 2 file(s)", "gift-cards.md:4: unknown language \"xx\"", "shoe-sizes.md:6: unknown status \"live\""},
			// Each problem is told once, on stderr with the error.
			absent: []string{"created", "updated", "gift-cards.md:4", "shoe-sizes.md:6"},
			once:   []string{"gift-cards.md:4: unknown language", "shoe-sizes.md:6: unknown status"},
		},
		{
			name: "export then import is a no-op",
			edit: func(t *testing.T) {
				for _, f := range []string{"gift-cards.md", "shoe-sizes.md"} {
					if err := os.Remove(filepath.Join(w.articles, f)); err != nil {
						t.Fatal(err)
					}
				}
			},
			args:   []string{"export", filepath.Join(w.data, "..", "exported")},
			out:    []string{"exported 3 articles"},
			absent: []string{"created", "updated"},
		},
		{
			name:   "import of the export",
			args:   []string{"import", filepath.Join(w.data, "..", "exported")},
			out:    []string{"files        3", "unchanged    3"},
			absent: []string{"created", "updated", "published"},
		},
		{
			name:   "prune unpublishes the article whose file is gone",
			args:   []string{"import", "--prune", w.articles},
			out:    []string{"pruned       1: shoe-sizes", "unchanged    2"},
			absent: []string{"created", "updated"},
		},
	}
	want := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.edit != nil {
				st.edit(t)
			}
			code, out, errs := w.kb(t, st.args...)
			if code != st.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, st.code, out, errs)
			}
			for _, s := range st.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range st.stderr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
			for _, s := range st.absent {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range st.once {
				if n := strings.Count(out+errs, s); n != 1 {
					t.Errorf("%q is reported %d times\nstdout: %s\nstderr: %s", s, n, out, errs)
				}
			}
			for slug, n := range st.changed {
				want[slug] = n
			}
			if got := versions(t, w.store(t)); !sameCounts(got, want) {
				t.Errorf("versions %v, want %v", got, want)
			}
		})
	}

	st := w.store(t)
	live, err := st.ListArticles(context.Background(), baton.ArticleFilter{BotID: "shop", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, a := range live {
		slugs = append(slugs, a.Slug)
	}
	if got := strings.Join(slugs, ","); got != "delivery-times,returns" {
		t.Errorf("published after prune: %s", got)
	}
}

// TestKBSearch: the ranked passages with keyword, vector and fused scores.
func TestKBSearch(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKBSearch(t, "") })
	t.Run("postgres", func(t *testing.T) { testKBSearch(t, pgtest.Schema(t)) })
}

func testKBSearch(t *testing.T, databaseURL string) {
	w := newKBWorld(t, oneBotConfig)
	w.databaseURL = databaseURL
	w.mustKB(t, "import", w.articles)
	scores := regexp.MustCompile(`fused (\d+\.\d+)  keyword (\d+\.\d+) \(#\d+\)  vector (-?\d+\.\d+) \(#\d+\)`)
	tests := []struct {
		name  string
		args  []string
		first string // slug of the best passage
		both  bool   // the best passage has both scores
	}{
		{"hybrid", []string{"search", "how long does standard delivery take"}, "delivery-times", true},
		{"words as separate arguments", []string{"search", "how", "do", "I", "return", "an", "item"}, "returns", true},
		{"keyword only", []string{"search", "--mode", "keyword", "refund payment method"}, "returns", false},
		{"vector only", []string{"search", "--mode", "vector", "--k", "1", "what size running shoes"}, "shoe-sizes", false},
		{"language filter falls back to the bot's language", []string{"search", "--lang", "tr", "tracking link"}, "delivery-times", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := w.mustKB(t, tc.args...)
			// A fallback is said first.
			if strings.HasPrefix(out, "nothing found in ") {
				out = out[strings.Index(out, "\n")+1:]
			}
			if !strings.HasPrefix(out, "1. ["+tc.first+"]") {
				t.Fatalf("best passage is not %s:\n%s", tc.first, out)
			}
			if !strings.Contains(out, "   fused ") {
				t.Errorf("no fused score:\n%s", out)
			}
			// Every passage names its language, --lang or not.
			if strings.Contains(out, "()") || !strings.Contains(out, "  (en)\n") {
				t.Errorf("a passage without its language:\n%s", out)
			}
			if tc.both {
				m := scores.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("no line with keyword, vector and fused scores:\n%s", out)
				}
				if m[1] == "0.0000" || m[2] == "0.000" || m[3] == "0.000" {
					t.Errorf("zero score in %q", m[0])
				}
			}
			if strings.Contains(tc.name, "vector") && strings.Contains(out, "\n2. ") {
				t.Errorf("--k 1 printed more than one passage:\n%s", out)
			}
		})
	}
}

// TestKBBadInput: every mistake is a clear error, exit status 2, and no
// data directory when the mistake is caught before the store.
func TestKBBadInput(t *testing.T) {
	two := "bots:\n  - id: shop\n    languages: [en]\n  - id: club\n    languages: [en]\n"
	tests := []struct {
		name   string
		config string
		args   []string
		stderr string
	}{
		{"bot must be named when there are two", two, []string{"import", "testdata/kb/articles"}, "the configuration has 2 bots (club, shop); say which"},
		{"unknown bot", oneBotConfig, []string{"export", "--bot", "nope", "out"}, `no bot "nope" in the configuration (bots: shop)`},
		{"no bot configured", "server:\n  addr: 127.0.0.1:0\n", []string{"search", "delivery"}, "the configuration has no bot"},
		{"no directory and no kb.dir", oneBotConfig, []string{"import"}, "give the directory of the articles, or set kb.dir of bot shop"},
		{"missing directory", oneBotConfig, []string{"import", "no/such/dir"}, "reading KB directory no/such/dir"},
		{"bad mode", oneBotConfig, []string{"search", "--mode", "fuzzy", "delivery"}, `--mode: unknown retrieval mode "fuzzy"`},
		{"bad k", oneBotConfig, []string{"search", "--k", "0", "delivery"}, "--k: want a number from 1 to 100"},
		{"bad language", oneBotConfig, []string{"search", "--lang", "english", "delivery"}, `--lang: unknown language "english"`},
		{"bad since", oneBotConfig, []string{"gaps", "--since", "last week"}, `--since: "last week" is neither a duration`},
		{"eval needs both files", oneBotConfig, []string{"eval", "--faq", "testdata/kb/faq.tsv"}, "--faq and --queries are both required"},
		{"eval of a malformed questions file", oneBotConfig, []string{"eval", "--faq", "testdata/kb/faq.tsv", "--queries", "testdata/kb/articles/returns.md"}, "want 2 tab-separated fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newKBWorld(t, tc.config)
			code, out, errs := w.kb(t, tc.args...)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitBadInput, out, errs)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errs)
			}
		})
	}
	t.Run("nothing opened before the flags are checked", func(t *testing.T) {
		w := newKBWorld(t, oneBotConfig)
		if code, _, _ := w.kb(t, "search", "--mode", "fuzzy", "delivery"); code != exitBadInput {
			t.Fatalf("exit %d", code)
		}
		if _, err := os.Stat(w.data); !os.IsNotExist(err) {
			t.Errorf("the data directory exists after a bad flag (%v)", err)
		}
	})
}

// TestKBEval builds a throwaway KB from a FAQ TSV and prints the figures of
// each mode.
func TestKBEval(t *testing.T) {
	w := newKBWorld(t, oneBotConfig)
	out := w.mustKB(t, "eval", "--faq", "testdata/kb/faq.tsv", "--queries", "testdata/kb/queries.tsv", "--json")
	var rep struct {
		Articles int `json:"articles"`
		Modes    []struct {
			Mode    string  `json:"mode"`
			Queries int     `json:"queries"`
			Recall1 float64 `json:"recall_at_1"`
			Recall5 float64 `json:"recall_at_5"`
			MRR     float64 `json:"mrr"`
		} `json:"modes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Articles != 4 || len(rep.Modes) != 3 {
		t.Fatalf("articles %d, modes %d; want 4 and 3\n%s", rep.Articles, len(rep.Modes), out)
	}
	best := map[string]float64{}
	for _, m := range rep.Modes {
		t.Run(m.Mode, func(t *testing.T) {
			if m.Queries != 5 {
				t.Errorf("queries %d, want 5", m.Queries)
			}
			if m.Recall1 > m.Recall5 || m.MRR < m.Recall1 || m.MRR > m.Recall5 || m.Recall5 > 1 {
				t.Errorf("inconsistent figures: recall@1 %.2f recall@5 %.2f MRR %.2f", m.Recall1, m.Recall5, m.MRR)
			}
		})
		best[m.Mode] = m.Recall5
	}
	// Four entries: the fused list holds every one of them, so hybrid
	// finds the right entry among its five for every question, whatever
	// one method misses.
	if best["hybrid"] != 1 || best["hybrid"] < best["keyword"] || best["hybrid"] < best["vector"] {
		t.Errorf("recall@5 by mode %v: hybrid should find every entry", best)
	}
	table := w.mustKB(t, "eval", "--faq", "testdata/kb/faq.tsv", "--queries", "testdata/kb/queries.tsv", "--mode", "keyword")
	if !strings.Contains(table, "recall@1") || !strings.Contains(table, "keyword ") || strings.Contains(table, "hybrid ") {
		t.Errorf("--mode keyword table:\n%s", table)
	}
	if _, err := os.Stat(w.data); !os.IsNotExist(err) {
		t.Errorf("eval touched the configured data directory (%v)", err)
	}
}

// TestKBGaps clusters recorded gaps and ranks the clusters by volume.
func TestKBGaps(t *testing.T) {
	w := newKBWorld(t, oneBotConfig)
	w.mustKB(t, "import", w.articles) // creates the database
	st := w.store(t)
	gs := st.(baton.GapStore)
	now := time.Now().UTC()
	for i, g := range []struct {
		q   string
		age time.Duration
	}{
		{"do you sell gift cards", time.Hour},
		{"can I buy a gift card", 2 * time.Hour},
		{"gift card for my brother", 3 * time.Hour},
		{"is there a student discount", 4 * time.Hour},
		{"do you sell gift vouchers", 90 * 24 * time.Hour},
	} {
		err := gs.RecordGap(context.Background(), &baton.Gap{BotID: "shop", Question: g.q, Language: "en",
			Reason: baton.GapUnanswered, MessageID: int64(i + 1), At: now.Add(-g.age)})
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		total string
		first string
	}{
		{"last 30 days by default", []string{"gaps"}, "4 unanswered questions", "1. 3 questions"},
		{"since a duration", []string{"gaps", "--since", "150m"}, "2 unanswered questions", "1. 2 questions"},
		{"everything since a date", []string{"gaps", "--since", now.AddDate(-1, 0, 0).Format(time.DateOnly)}, "5 unanswered questions", "1. 2 questions"},
	}
	sizes := regexp.MustCompile(`(?m)^\d+\. (\d+) questions`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := w.mustKB(t, tc.args...)
			if !strings.HasPrefix(out, tc.total) || !strings.Contains(out, tc.first) {
				t.Errorf("want %q and %q:\n%s", tc.total, tc.first, out)
			}
			prev := 1 << 30
			for _, m := range sizes.FindAllStringSubmatch(out, -1) {
				n, _ := strconv.Atoi(m[1])
				if n > prev {
					t.Errorf("clusters not ranked by volume:\n%s", out)
				}
				prev = n
			}
		})
	}
	if out := w.mustKB(t, "gaps", "--top", "1"); strings.Contains(out, "\n2. ") {
		t.Errorf("--top 1 printed a second cluster:\n%s", out)
	}
}

// kbImportLog is the one log line of a start-up import.
type kbImportLog struct {
	Msg       string `json:"msg"`
	Bot       string `json:"bot"`
	Files     int    `json:"files"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Bad       int    `json:"bad"`
	Took      string `json:"took"`
	Problem   string `json:"problem"`
}

func kbLogs(t *testing.T, out string) (imports []kbImportLog, bad []string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var l kbImportLog
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		switch l.Msg {
		case "kb imported":
			imports = append(imports, l)
		case "kb: bad article file skipped":
			bad = append(bad, l.Problem)
		}
	}
	return imports, bad
}

// TestDemoImportsKB: the demo loads the example KB on start, and a restart
// changes nothing.
func TestDemoImportsKB(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var created int
	for i, want := range []string{"first start imports", "restart changes nothing"} {
		t.Run(want, func(t *testing.T) {
			p := start(t, repoRoot(t), cleanEnv("BATON_DATA_DIR="+data), "demo", "--addr", "127.0.0.1:0", "--log-format", "json")
			p.stop(t, syscall.SIGINT)
			imports, bad := kbLogs(t, p.out.String())
			if len(imports) != 1 || len(bad) != 0 {
				t.Fatalf("want one import log line and no bad file, got %+v %v\n%s", imports, bad, p.out)
			}
			l := imports[0]
			t.Logf("demo KB import: %+v", l)
			if l.Bot != "sportshop" || l.Files < 30 {
				t.Errorf("import of %d files for bot %q", l.Files, l.Bot)
			}
			if i == 0 {
				created = l.Created
				if l.Created != l.Files {
					t.Errorf("first start created %d of %d articles", l.Created, l.Files)
				}
			} else if l.Created != 0 || l.Updated != 0 || l.Unchanged != created {
				t.Errorf("restart: created %d, updated %d, unchanged %d (of %d)", l.Created, l.Updated, l.Unchanged, created)
			}
		})
	}
}

// TestServeImportsKBWithABadFile: a bad file is logged with file and line
// and the server starts with the other articles.
func TestServeImportsKBWithABadFile(t *testing.T) {
	const token = "kb-serve-test-admin-token"
	w := newKBWorld(t, "server:\n  admin_token: "+token+"\nbots:\n  - id: shop\n    languages: [en]\n    kb:\n      dir: articles\n")
	bad := "---\ntitle: Gift cards\nslug: gift-cards\nlanguage: en\nstatus: published\n---\n\n"
	if err := os.WriteFile(filepath.Join(w.articles, "gift-cards.md"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, ".", cleanEnv("BATON_DATA_DIR="+w.data), "serve", "--config", w.cfg, "--addr", "127.0.0.1:0", "--log-format", "json")
	if status, body := get(t, p.url+"/readyz", nil); status != 200 {
		t.Errorf("readyz %d: %s", status, body)
	}
	// The admin API serves what the start-up import stored.
	status, body := get(t, p.url+"/api/v1/bots/shop/articles?published=true", map[string]string{"Authorization": "Bearer " + token})
	if status != 200 || strings.Count(body, `"slug"`) != 3 || !strings.Contains(body, `"slug":"delivery-times"`) {
		t.Errorf("article list %d: %s", status, body)
	}
	p.stop(t, syscall.SIGTERM)
	imports, problems := kbLogs(t, p.out.String())
	if len(imports) != 1 || imports[0].Created != 3 || imports[0].Bad != 1 {
		t.Fatalf("import log lines %+v\n%s", imports, p.out)
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "gift-cards.md:") || !strings.Contains(problems[0], "body") {
		t.Errorf("bad file log lines %q", problems)
	}
	if got := versions(t, w.store(t)); !sameCounts(got, map[string]int{"delivery-times": 1, "returns": 1, "shoe-sizes": 1}) {
		t.Errorf("stored %v", got)
	}
}
