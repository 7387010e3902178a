// Package nlueval measures the offline analysers on labelled data: intent
// (accuracy, macro-F1, out-of-scope recall and precision), sentiment
// (negative vs not-negative) and language identification, with the most
// confused pairs and per-message latency. `baton nlu eval` and the
// benchmarks print what it returns.
package nlueval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/sentiment"
)

// Pair is a confusion: how often gold was read as predicted.
type Pair struct {
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Report is the outcome of one evaluation. Pointers are absent from the
// JSON when they do not apply to the task.
type Report struct {
	Task      string  `json:"task"`
	TrainFile string  `json:"train_file,omitempty"`
	TestFile  string  `json:"test_file,omitempty"`
	TrainSize int     `json:"train_size,omitempty"`
	TestSize  int     `json:"test_size"`
	Accuracy  float64 `json:"accuracy"`
	// Top1 is intent ranking alone on in-scope messages: the best intent
	// is right, whatever the out-of-scope threshold decided.
	Top1         *float64 `json:"top1_in_scope_accuracy,omitempty"`
	MacroF1      float64  `json:"macro_f1"`
	InScopeAcc   *float64 `json:"in_scope_accuracy,omitempty"`
	OOSRecall    *float64 `json:"oos_recall,omitempty"`
	OOSPrecision *float64 `json:"oos_precision,omitempty"`
	Threshold    *float64 `json:"oos_threshold,omitempty"`
	Coverage     *float64 `json:"coverage,omitempty"` // sentiment: share of texts with any evidence
	Languages    []string `json:"languages,omitempty"`
	Confused     []Pair   `json:"most_confused"`
	LatencyP50   float64  `json:"latency_p50_us"`
	LatencyP99   float64  `json:"latency_p99_us"`
	TrainSeconds float64  `json:"train_seconds,omitempty"`
	Note         string   `json:"note,omitempty"`
}

// Labeled is one text with its gold label.
type Labeled struct {
	Label string
	Text  string
}

// OOS is the label of out-of-scope examples in intent data.
const OOS = "oos"

// Intent trains on train and measures on test. Test examples labelled
// "oos" count for out-of-scope recall and precision; in-scope accuracy
// counts a rejected in-scope message as wrong.
func Intent(ctx context.Context, train, test []intent.Example, opt intent.Options) (Report, *intent.Model, error) {
	if len(test) == 0 {
		return Report{}, nil, baton.Errorf(baton.EINVALID, "intent eval: empty test set")
	}
	start := time.Now()
	m, err := intent.Train(ctx, train, opt)
	if err != nil {
		return Report{}, nil, err
	}
	r := Report{Task: "intent", TrainSize: len(train), TestSize: len(test), TrainSeconds: time.Since(start).Seconds()}
	return scoreIntent(r, m, test, opt.Progress), m, nil
}

// IntentModel measures an already trained model.
func IntentModel(m *intent.Model, test []intent.Example) Report {
	return scoreIntent(Report{Task: "intent", TestSize: len(test)}, m, test, nil)
}

// Progress is called as an evaluation goes: the stage, the items done and
// their total. Nil reports nothing.
type Progress func(stage string, done, total int)

// step reports item done of total, at most about a hundred times a stage
// so that reporting costs nothing next to what is measured.
func (p Progress) step(stage string, done, total int) {
	if p == nil {
		return
	}
	if every := max(1, total/100); done == 0 || done == total || done%every == 0 {
		p(stage, done, total)
	}
}

func scoreIntent(r Report, m *intent.Model, test []intent.Example, progress Progress) Report {
	gold := make([]string, len(test))
	pred := make([]string, len(test))
	lat := make([]time.Duration, len(test))
	top1, inScope := 0, 0
	// Latency is a serving figure: the garbage training left behind is
	// collected first so that its sweep does not land on the timings.
	runtime.GC()
	progress.step("classifying", 0, len(test))
	for i, ex := range test {
		t0 := time.Now()
		p := m.Classify(ex.Text)
		lat[i] = time.Since(t0)
		progress.step("classifying", i+1, len(test))
		gold[i] = ex.Intent
		pred[i] = p.Intent
		if p.OutOfScope {
			pred[i] = OOS
		}
		if ex.Intent != OOS {
			inScope++
			if len(p.Top) > 0 && p.Top[0].Intent == ex.Intent {
				top1++
			}
		}
	}
	if inScope > 0 {
		r.Top1 = ptr(float64(top1) / float64(inScope))
	}
	r.Accuracy, r.MacroF1, r.Confused = classification(gold, pred)
	in, inOK, oos, oosOK, predOOS := 0, 0, 0, 0, 0
	for i := range gold {
		if pred[i] == OOS {
			predOOS++
		}
		if gold[i] == OOS {
			oos++
			if pred[i] == OOS {
				oosOK++
			}
			continue
		}
		in++
		if pred[i] == gold[i] {
			inOK++
		}
	}
	if in > 0 {
		r.InScopeAcc = ptr(float64(inOK) / float64(in))
	}
	if oos > 0 {
		r.OOSRecall = ptr(float64(oosOK) / float64(oos))
		prec := 0.0
		if predOOS > 0 {
			prec = float64(oosOK) / float64(predOOS)
		}
		r.OOSPrecision = ptr(prec)
	}
	r.Threshold = ptr(m.Threshold())
	r.LatencyP50, r.LatencyP99 = percentiles(lat)
	return r
}

// Sentiment measures negative vs not-negative on texts labelled negative,
// neutral or positive. lang is the texts' language; "" identifies each
// text's language among det's languages first.
func Sentiment(a *sentiment.Analyzer, det *langid.Detector, test []Labeled, lang string) (Report, error) {
	return scoreSentiment(a, det, test, lang, nil)
}

func scoreSentiment(a *sentiment.Analyzer, det *langid.Detector, test []Labeled, lang string, progress Progress) (Report, error) {
	if len(test) == 0 {
		return Report{}, baton.Errorf(baton.EINVALID, "sentiment eval: empty test set")
	}
	gold := make([]string, len(test))
	pred := make([]string, len(test))
	lat := make([]time.Duration, len(test))
	covered := 0
	progress.step("scoring", 0, len(test))
	for i, ex := range test {
		switch ex.Label {
		case sentiment.Negative, sentiment.Neutral, sentiment.Positive:
		default:
			return Report{}, baton.Errorf(baton.EINVALID, "sentiment eval: row %d: label %q is not negative, neutral or positive", i+1, ex.Label)
		}
		t0 := time.Now()
		l := lang
		if l == "" && det != nil {
			l = det.Detect(ex.Text, "").Language
		}
		res := a.Analyze(ex.Text, l)
		lat[i] = time.Since(t0)
		progress.step("scoring", i+1, len(test))
		if res.Hits > 0 {
			covered++
		}
		gold[i], pred[i] = binary(ex.Label), binary(res.Label)
	}
	r := Report{Task: "sentiment", TestSize: len(test), Note: "negative vs not-negative"}
	r.Accuracy, r.MacroF1, r.Confused = classification(gold, pred)
	r.Coverage = ptr(float64(covered) / float64(len(test)))
	r.LatencyP50, r.LatencyP99 = percentiles(lat)
	return r, nil
}

func binary(label string) string {
	if label == sentiment.Negative {
		return "negative"
	}
	return "not-negative"
}

// Language measures identification of texts labelled with ISO 639-1
// codes, each read as the first message of a new conversation.
func Language(det *langid.Detector, test []Labeled) (Report, error) {
	return scoreLanguage(det, test, nil)
}

func scoreLanguage(det *langid.Detector, test []Labeled, progress Progress) (Report, error) {
	if len(test) == 0 {
		return Report{}, baton.Errorf(baton.EINVALID, "language eval: empty test set")
	}
	gold := make([]string, len(test))
	pred := make([]string, len(test))
	lat := make([]time.Duration, len(test))
	progress.step("identifying", 0, len(test))
	for i, ex := range test {
		t0 := time.Now()
		pred[i] = det.Detect(ex.Text, "").Language
		lat[i] = time.Since(t0)
		progress.step("identifying", i+1, len(test))
		gold[i] = strings.ToLower(strings.TrimSpace(ex.Label))
	}
	r := Report{Task: "language", TestSize: len(test), Languages: det.Languages()}
	r.Accuracy, r.MacroF1, r.Confused = classification(gold, pred)
	r.LatencyP50, r.LatencyP99 = percentiles(lat)
	return r, nil
}

// classification returns accuracy, macro-F1 over the gold labels, and the
// ten most frequent confusions.
func classification(gold, pred []string) (acc, macroF1 float64, confused []Pair) {
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	pairs := map[[2]string]int{}
	correct := 0
	for i := range gold {
		if gold[i] == pred[i] {
			correct++
			tp[gold[i]]++
			continue
		}
		fn[gold[i]]++
		fp[pred[i]]++
		pairs[[2]string{gold[i], pred[i]}]++
	}
	seen := map[string]bool{}
	var labels []string
	for _, g := range gold {
		if !seen[g] {
			seen[g] = true
			labels = append(labels, g)
		}
	}
	// In a fixed order: a floating-point sum's last bits depend on the
	// order of its terms, and two runs must report the same figure.
	sort.Strings(labels)
	var sum float64
	for _, l := range labels {
		d := 2*tp[l] + fp[l] + fn[l]
		if d > 0 {
			sum += 2 * float64(tp[l]) / float64(d)
		}
	}
	for p, n := range pairs {
		confused = append(confused, Pair{Gold: p[0], Predicted: p[1], Count: n})
	}
	sort.Slice(confused, func(i, j int) bool {
		if confused[i].Count != confused[j].Count {
			return confused[i].Count > confused[j].Count
		}
		if confused[i].Gold != confused[j].Gold {
			return confused[i].Gold < confused[j].Gold
		}
		return confused[i].Predicted < confused[j].Predicted
	})
	if len(confused) > 10 {
		confused = confused[:10]
	}
	if confused == nil {
		confused = []Pair{}
	}
	return float64(correct) / float64(len(gold)), sum / float64(len(labels)), confused
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return float64(s[i].Nanoseconds()) / 1e3
	}
	return at(0.5), at(0.99)
}

func ptr(f float64) *float64 { return &f }

// WriteJSON writes the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error { return r.writeAny(w, r) }

func (Report) writeAny(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteText writes the report for people.
func (r Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "task:            %s", r.Task)
	if r.Note != "" {
		fmt.Fprintf(b, " (%s)", r.Note)
	}
	b.WriteString("\n")
	if r.TrainFile != "" {
		fmt.Fprintf(b, "train:           %s (%d examples, %.1f s)\n", r.TrainFile, r.TrainSize, r.TrainSeconds)
	}
	if r.TestFile != "" {
		fmt.Fprintf(b, "test:            %s (%d examples)\n", r.TestFile, r.TestSize)
	} else {
		fmt.Fprintf(b, "test:            %d examples\n", r.TestSize)
	}
	if len(r.Languages) > 0 {
		fmt.Fprintf(b, "languages:       %s\n", strings.Join(r.Languages, ","))
	}
	fmt.Fprintf(b, "accuracy:        %.4f\n", r.Accuracy)
	if r.Top1 != nil {
		fmt.Fprintf(b, "top-1 in-scope:  %.4f (ranking alone, no threshold)\n", *r.Top1)
	}
	fmt.Fprintf(b, "macro-F1:        %.4f\n", r.MacroF1)
	if r.InScopeAcc != nil {
		fmt.Fprintf(b, "in-scope acc:    %.4f\n", *r.InScopeAcc)
	}
	if r.OOSRecall != nil {
		fmt.Fprintf(b, "oos recall:      %.4f\n", *r.OOSRecall)
		fmt.Fprintf(b, "oos precision:   %.4f\n", *r.OOSPrecision)
	}
	if r.Threshold != nil {
		fmt.Fprintf(b, "oos threshold:   %.4f\n", *r.Threshold)
	}
	if r.Coverage != nil {
		fmt.Fprintf(b, "coverage:        %.4f\n", *r.Coverage)
	}
	fmt.Fprintf(b, "latency:         p50 %.1f µs, p99 %.1f µs per message\n", r.LatencyP50, r.LatencyP99)
	if len(r.Confused) > 0 {
		b.WriteString("most confused (gold → predicted):\n")
		for _, p := range r.Confused {
			fmt.Fprintf(b, "  %5d  %s → %s\n", p.Count, p.Gold, p.Predicted)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadIntentFile reads intent data: CSV "text,label", a bot's intents
// YAML, or the CLINC150 JSON (role "train" reads train + oos_train, role
// "test" reads val + oos_val).
func ReadIntentFile(path, role string) ([]intent.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "intent data %s: %w", path, err)
	}
	defer f.Close()
	var ex []intent.Example
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		splits := []string{"train", "oos_train"}
		if role == "test" {
			splits = []string{"val", "oos_val"}
		}
		ex, err = intent.ReadCLINC(f, splits...)
	case ".yaml", ".yml":
		var in []intent.Intent
		in, err = intent.ReadYAML(f)
		ex = intent.ExamplesOf(in)
	default:
		ex, err = intent.ReadCSV(f)
	}
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "%s: %w", path, err)
	}
	return ex, nil
}

// ReadLabeledTSV reads "label<TAB>text" rows.
func ReadLabeledTSV(path string) ([]Labeled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "labelled data %s: %w", path, err)
	}
	defer f.Close()
	return readLabeled(f, path)
}

func readLabeled(r io.Reader, name string) ([]Labeled, error) {
	var out []Labeled
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(label) == "" {
			return nil, baton.Errorf(baton.EINVALID, "%s line %d: want label<TAB>text", name, n)
		}
		out = append(out, Labeled{Label: strings.TrimSpace(label), Text: text})
	}
	if err := sc.Err(); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "%s: no rows", name)
	}
	return out, nil
}

// DataDir is where the shared measurement data lives: $BATON_SHARED_DATA, or
// ../shared/data next to the repository root. ok is false when it is
// absent.
func DataDir() (dir string, ok bool) {
	if d := os.Getenv("BATON_SHARED_DATA"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir = filepath.Join(filepath.Dir(d), "shared", "data")
			_, err := os.Stat(dir)
			return dir, err == nil
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}
