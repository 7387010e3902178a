package kb

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb/hashembed"
)

// FAQEntry is one line of a FAQ TSV: id, title (the question) and body (the
// answers; " ||| " separates several).
type FAQEntry struct {
	ID, Title, Body string
}

// FAQQuery is one line of a queries TSV: the id of the entry that answers it
// and the question.
type FAQQuery struct {
	ID, Question string
}

// ReadFAQ reads id<TAB>title<TAB>body lines. Every malformed line is
// reported with its number.
func ReadFAQ(path string) ([]FAQEntry, error) {
	var out []FAQEntry
	err := readTSV(path, 3, func(f []string) error {
		if f[0] == "" || strings.TrimSpace(f[1]) == "" || strings.TrimSpace(f[2]) == "" {
			return fmt.Errorf("id, title and body must not be empty")
		}
		out = append(out, FAQEntry{ID: f[0], Title: strings.TrimSpace(f[1]), Body: f[2]})
		return nil
	})
	return out, err
}

// ReadQueries reads id<TAB>question lines.
func ReadQueries(path string) ([]FAQQuery, error) {
	var out []FAQQuery
	err := readTSV(path, 2, func(f []string) error {
		if f[0] == "" || strings.TrimSpace(f[1]) == "" {
			return fmt.Errorf("id and question must not be empty")
		}
		out = append(out, FAQQuery{ID: f[0], Question: strings.TrimSpace(f[1])})
		return nil
	})
	return out, err
}

func readTSV(path string, fields int, fn func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return baton.Errorf(baton.EINVALID, "reading %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	var errs FileErrors
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", fields)
		if len(parts) != fields {
			errs = append(errs, FileError{File: path, Line: n, Msg: fmt.Sprintf("want %d tab-separated fields, got %d", fields, len(parts))})
			continue
		}
		if err := fn(parts); err != nil {
			errs = append(errs, FileError{File: path, Line: n, Msg: err.Error()})
		}
	}
	if err := sc.Err(); err != nil {
		return baton.Errorf(baton.EINVALID, "reading %s: %w", path, err)
	}
	if len(errs) > 0 {
		return baton.Errorf(baton.EINVALID, "%d bad line(s):\n%w", len(errs), errs)
	}
	if n == 0 {
		return baton.Errorf(baton.EINVALID, "%s is empty", path)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// FAQSlug is the article slug of a FAQ entry id.
func FAQSlug(id string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(id), "-"), "-")
	return "faq-" + s
}

// WriteFAQArticles writes one article file per entry under dir, so that an
// evaluation goes through the same import path as authors' files. Answers
// become paragraphs.
func WriteFAQArticles(entries []FAQEntry, dir, language string) error {
	seen := map[string]string{}
	for _, e := range entries {
		slug := FAQSlug(e.ID)
		if prev, dup := seen[slug]; dup {
			return baton.Errorf(baton.EINVALID, "FAQ ids %q and %q give the same slug %s", prev, e.ID, slug)
		}
		seen[slug] = e.ID
		var paras []string
		for _, p := range strings.Split(e.Body, " ||| ") {
			if p = strings.TrimSpace(p); p != "" {
				// Entries are plain text: a leading #, fence or pipe must
				// not turn into Markdown structure.
				if strings.ContainsAny(p[:1], "#`~|-*+>=") {
					p = `\` + p
				}
				paras = append(paras, p)
			}
		}
		d := &Document{
			Title: e.Title, Slug: slug, Language: language, Status: baton.ArticlePublished,
			Body: strings.Join(paras, "\n\n") + "\n",
		}
		data, err := Render(d)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, slug+".md"), data, 0o644); err != nil {
			return baton.Errorf(baton.EINVALID, "writing FAQ article: %w", err)
		}
	}
	return nil
}

// OpenFunc opens a fresh, empty store for a throwaway KB in dir; close
// releases it.
type OpenFunc func(ctx context.Context, dir string) (store baton.ArticleStore, close func() error, err error)

// EvalOptions configure EvalFAQ.
type EvalOptions struct {
	FAQ     string // TSV id, title, body
	Queries string // TSV id, question
	Modes   []Mode // nil = keyword, vector, hybrid
	// Open makes the throwaway store in a temp dir (required: the KB does
	// not choose a store itself).
	Open     OpenFunc
	Embedder baton.Embedder // nil = the offline hash embedder
	Language string         // of the FAQ (default en)
	Chunk    ChunkOptions
	// OutOfKB, when set, is a file of questions the KB does not cover
	// (CLINC150 JSON: its "oos_val" list; or one question per line) asked
	// through the extractive answerer: the share answered must stay low.
	OutOfKB   string
	Threshold float64 // answer threshold (0 = DefaultThreshold)
	RRFK      float64
	// BotID keys the throwaway KB (default: "eval-" and a random suffix,
	// so that a shared database can hold several runs).
	BotID string
	// Progress, when set, follows the run stage by stage ("importing",
	// "searching (keyword)", ..., "answering"): each stage reports 0 and
	// then each item done of its total.
	Progress func(stage string, done, total int)
}

// ModeFigures are the retrieval figures of one method.
type ModeFigures struct {
	Mode     Mode    `json:"mode"`
	Queries  int     `json:"queries"`
	Recall1  float64 `json:"recall_at_1"`
	Recall5  float64 `json:"recall_at_5"`
	MRR      float64 `json:"mrr"`
	MedianMS float64 `json:"latency_median_ms"`
	P99MS    float64 `json:"latency_p99_ms"`
}

// AnswerFigures measure when the bot answers from the KB.
type AnswerFigures struct {
	Threshold      float64 `json:"threshold"`
	InKB           int     `json:"in_kb_questions"`
	InKBAnswered   float64 `json:"in_kb_answered"`          // share answered
	InKBCorrect    float64 `json:"in_kb_correct_citations"` // share of answered citing the right entry
	OutOfKB        int     `json:"out_of_kb_questions"`
	OutOfKBAnswers float64 `json:"out_of_kb_answered"` // share answered (should be ≈ 0)
}

// EvalReport is the outcome of EvalFAQ.
type EvalReport struct {
	Store     string         `json:"store,omitempty"`
	Model     string         `json:"model"`
	Articles  int            `json:"articles"`
	Chunks    int            `json:"chunks"`
	ImportMS  float64        `json:"import_ms"`
	Modes     []ModeFigures  `json:"modes"`
	Answers   *AnswerFigures `json:"answers,omitempty"`
	StartedAt time.Time      `json:"started_at"`
}

// EvalFAQ builds a throwaway KB from a FAQ TSV (through Import, as an
// author's files would be) and measures recall@1, recall@5, MRR and query
// latency over the queries, per retrieval mode. Ranks are per article: the
// first passage of the right entry counts.
func EvalFAQ(ctx context.Context, opt EvalOptions) (EvalReport, error) {
	rep := EvalReport{StartedAt: time.Now().UTC()}
	entries, err := ReadFAQ(opt.FAQ)
	if err != nil {
		return rep, err
	}
	queries, err := ReadQueries(opt.Queries)
	if err != nil {
		return rep, err
	}
	ids := map[string]bool{}
	for _, e := range entries {
		ids[e.ID] = true
	}
	for i, q := range queries {
		if !ids[q.ID] {
			return rep, baton.Errorf(baton.EINVALID, "%s:%d: query names FAQ id %q, which is not in %s", opt.Queries, i+1, q.ID, opt.FAQ)
		}
	}
	// Read before anything is built: a bad file costs nothing.
	var outOfKB []string
	if opt.OutOfKB != "" {
		if outOfKB, err = ReadOutOfKB(opt.OutOfKB); err != nil {
			return rep, err
		}
	}
	if opt.Language == "" {
		opt.Language = "en"
	}
	if opt.BotID == "" {
		var b [6]byte
		rand.Read(b[:])
		opt.BotID = "eval-" + hex.EncodeToString(b[:])
	}
	if opt.Embedder == nil {
		if opt.Embedder, err = hashembed.New(hashembed.Options{}); err != nil {
			return rep, err
		}
	}
	if opt.Open == nil {
		return rep, baton.Errorf(baton.EINVALID, "eval: no store to build the throwaway KB in (EvalOptions.Open)")
	}
	modes := opt.Modes
	if len(modes) == 0 {
		modes = []Mode{ModeKeyword, ModeVector, ModeHybrid}
	}
	rep.Model = opt.Embedder.Model()

	tmp, err := os.MkdirTemp("", "baton-kb-eval-")
	if err != nil {
		return rep, baton.Errorf(baton.EINTERNAL, "eval: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	artDir := filepath.Join(tmp, "articles")
	if err := os.Mkdir(artDir, 0o755); err != nil {
		return rep, baton.Errorf(baton.EINTERNAL, "eval: %w", err)
	}
	if err := WriteFAQArticles(entries, artDir, opt.Language); err != nil {
		return rep, err
	}
	store, closeStore, err := opt.Open(ctx, tmp)
	if err != nil {
		return rep, fmt.Errorf("eval: opening the throwaway store: %w", err)
	}
	defer closeStore()

	start := time.Now()
	irep, err := Import(ctx, store, opt.Embedder, opt.BotID, artDir, ImportOptions{Chunk: opt.Chunk, Author: "eval", Progress: opt.Progress})
	if err != nil {
		return rep, fmt.Errorf("eval: import: %w", err)
	}
	rep.ImportMS = ms(time.Since(start))
	rep.Articles = len(irep.Created)
	rep.Chunks = irep.Embedded + irep.Reused

	ret := &Retriever{Store: store, Embedder: opt.Embedder, RRFK: opt.RRFK}
	for _, m := range modes {
		f, err := evalMode(ctx, ret, opt.BotID, m, queries, opt.Language, opt.Progress)
		if err != nil {
			return rep, err
		}
		rep.Modes = append(rep.Modes, f)
	}
	af, err := evalAnswers(ctx, ret, queries, outOfKB, opt)
	if err != nil {
		return rep, err
	}
	rep.Answers = af
	return rep, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// stepper reports the items of one stage: 0 first, then each one done.
func stepper(fn func(stage string, done, total int), stage string, total int) func(done int) {
	if fn == nil {
		return func(int) {}
	}
	fn(stage, 0, total)
	return func(done int) { fn(stage, done, total) }
}

func evalMode(ctx context.Context, ret *Retriever, bot string, m Mode, queries []FAQQuery, lang string, progress func(string, int, int)) (ModeFigures, error) {
	f := ModeFigures{Mode: m, Queries: len(queries)}
	lat := make([]time.Duration, 0, len(queries))
	step := stepper(progress, "searching ("+string(m)+")", len(queries))
	for i, q := range queries {
		start := time.Now()
		res, err := ret.Search(ctx, Query{BotID: bot, Text: q.Question, Language: lang, Mode: m, Limit: 10, Distinct: true})
		lat = append(lat, time.Since(start))
		step(i + 1)
		if err != nil {
			return f, fmt.Errorf("eval %s: %q: %w", m, q.Question, err)
		}
		want := FAQSlug(q.ID)
		for i, r := range res {
			if r.Chunk.Slug != want {
				continue
			}
			if i == 0 {
				f.Recall1++
			}
			if i < 5 {
				f.Recall5++
			}
			f.MRR += 1 / float64(i+1)
			break
		}
	}
	n := float64(len(queries))
	f.Recall1 /= n
	f.Recall5 /= n
	f.MRR /= n
	slices.Sort(lat)
	f.MedianMS = ms(percentile(lat, 0.5))
	f.P99MS = ms(percentile(lat, 0.99))
	return f, nil
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func evalAnswers(ctx context.Context, ret *Retriever, queries []FAQQuery, oos []string, opt EvalOptions) (*AnswerFigures, error) {
	ans := &Answerer{Retriever: ret, Threshold: opt.Threshold}
	af := &AnswerFigures{Threshold: ans.threshold(), InKB: len(queries)}
	answered, correct := 0, 0
	step := stepper(opt.Progress, "answering", len(queries)+len(oos))
	for i, q := range queries {
		a, err := ans.Extractive(ctx, AnswerRequest{BotID: opt.BotID, Question: q.Question, Language: opt.Language})
		if err != nil {
			return nil, fmt.Errorf("eval answers: %q: %w", q.Question, err)
		}
		step(i + 1)
		if a.Answered {
			answered++
			if a.Citations[0].Slug == FAQSlug(q.ID) {
				correct++
			}
		}
	}
	af.InKBAnswered = float64(answered) / float64(len(queries))
	if answered > 0 {
		af.InKBCorrect = float64(correct) / float64(answered)
	}
	if len(oos) == 0 {
		return af, nil
	}
	n := 0
	for i, q := range oos {
		a, err := ans.Extractive(ctx, AnswerRequest{BotID: opt.BotID, Question: q, Language: opt.Language})
		if err != nil {
			return nil, fmt.Errorf("eval out-of-KB: %q: %w", q, err)
		}
		step(len(queries) + i + 1)
		if a.Answered {
			n++
		}
	}
	af.OutOfKB = len(oos)
	af.OutOfKBAnswers = float64(n) / float64(len(oos))
	return af, nil
}

// ReadOutOfKB reads questions the KB does not cover: a CLINC150-style JSON
// file (the texts of its "oos_val" list) or plain text, one per line.
func ReadOutOfKB(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "reading %s: %w", path, err)
	}
	var out []string
	if strings.HasSuffix(path, ".json") {
		var d map[string][][]string
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, baton.Errorf(baton.EINVALID, "%s: not a CLINC150 JSON file: %w", path, err)
		}
		for _, p := range d["oos_val"] {
			if len(p) > 0 && strings.TrimSpace(p[0]) != "" {
				out = append(out, p[0])
			}
		}
	} else {
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	if len(out) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "%s holds no questions", path)
	}
	return out, nil
}

// RunEval runs EvalFAQ and prints its figures, as a table or JSON.
func RunEval(ctx context.Context, opt EvalOptions, asJSON bool, w io.Writer) error {
	rep, err := EvalFAQ(ctx, opt)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return WriteEvalReport(w, rep)
}

// WriteEvalReport prints the figures as a table.
func WriteEvalReport(w io.Writer, rep EvalReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "KB: %d articles, %d chunks, model %s, imported in %.0f ms", rep.Articles, rep.Chunks, rep.Model, rep.ImportMS)
	if rep.Store != "" {
		fmt.Fprintf(&b, ", store %s", rep.Store)
	}
	b.WriteString("\n\nmode      queries  recall@1  recall@5    MRR   median ms  p99 ms\n")
	for _, m := range rep.Modes {
		fmt.Fprintf(&b, "%-8s  %7d  %8.3f  %8.3f  %5.3f  %9.2f  %6.2f\n", m.Mode, m.Queries, m.Recall1, m.Recall5, m.MRR, m.MedianMS, m.P99MS)
	}
	if a := rep.Answers; a != nil {
		fmt.Fprintf(&b, "\nanswers at threshold %.2f: in-KB %d questions, %.1f %% answered, %.1f %% of those cite the right entry",
			a.Threshold, a.InKB, 100*a.InKBAnswered, 100*a.InKBCorrect)
		if a.OutOfKB > 0 {
			fmt.Fprintf(&b, "; out-of-KB %d questions, %.1f %% answered", a.OutOfKB, 100*a.OutOfKBAnswers)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
