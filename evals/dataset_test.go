package evals

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// The fixtures the harnesses' own tests use, seen from a suite file in
// this package's directory.
const (
	suiteFile   = "suite.yaml"
	intentTrain = "../nlu/nlueval/testdata/intent_train.csv"
	intentTest  = "../nlu/nlueval/testdata/intent_test.csv"
	langTSV     = "../nlu/nlueval/testdata/lang.tsv"
	sentTSV     = "../nlu/nlueval/testdata/sentiment_en.tsv"
	faqTSV      = "../kb/testdata/faq/faqs.tsv"
	queriesTSV  = "../kb/testdata/faq/queries.tsv"
	oosTXT      = "../kb/testdata/faq/oos.txt"
)

func TestDatasetValidate(t *testing.T) {
	at := func(d Dataset) Dataset { d.File, d.Line = suiteFile, 7; return d }
	tests := []struct {
		name string
		d    Dataset
		want []string // substrings of the error; none = valid
	}{
		{"intent", at(Dataset{Name: "small", Kind: KindIntent, Train: intentTrain, Test: intentTest}), nil},
		{"clinc without test", at(Dataset{Name: "clinc150", Kind: KindCLINC, Train: intentTrain}), nil},
		{"retrieval", at(Dataset{Name: "faq", Kind: KindRetrieval, FAQ: faqTSV, Queries: queriesTSV, OutOfKB: oosTXT, Lang: "en"}), nil},
		{"sentiment", at(Dataset{Name: "sentiment-en", Kind: KindSentiment, Test: sentTSV, Lang: "en"}), nil},
		{"language", at(Dataset{Name: "langs", Kind: KindLanguage, Test: langTSV}), nil},
		{"unknown kind", at(Dataset{Name: "x1", Kind: "vibes", Test: langTSV}),
			[]string{"suite.yaml:7: dataset x1", `kind "vibes" is not one of intent, clinc, retrieval, sentiment, language`}},
		{"no kind", at(Dataset{Name: "x1"}), []string{"suite.yaml:7: dataset x1: kind is required"}},
		{"no name", at(Dataset{Kind: KindLanguage, Test: langTSV}), []string{"suite.yaml:7: dataset: name is required"}},
		{"name with slash", at(Dataset{Name: "a/b", Kind: KindLanguage, Test: langTSV}), []string{`name "a/b" must be`}},
		{"name like a language", at(Dataset{Name: "tr", Kind: KindLanguage, Test: langTSV}), []string{"reads as a language code"}},
		{"missing file", at(Dataset{Name: "small", Kind: KindIntent, Train: intentTrain, Test: "nope.csv"}),
			[]string{"suite.yaml:7: dataset small: test nope.csv: no such file"}},
		{"directory", at(Dataset{Name: "small", Kind: KindSentiment, Test: "."}), []string{"is a directory"}},
		{"missing train", at(Dataset{Name: "small", Kind: KindIntent, Test: intentTest}), []string{"kind intent needs train"}},
		{"field the kind ignores", at(Dataset{Name: "small", Kind: KindSentiment, Train: intentTrain, Test: sentTSV}),
			[]string{"kind sentiment does not use train"}},
		{"bad lang", at(Dataset{Name: "small", Kind: KindSentiment, Test: sentTSV, Lang: "english"}), []string{`lang "english" is not`}},
		{"all problems at once", at(Dataset{Name: "small", Kind: KindRetrieval, FAQ: "a.tsv", Train: intentTrain}),
			[]string{"needs queries", "does not use train", "faq a.tsv: no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: no error")
			}
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("code %q, want invalid", baton.ErrorCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateDatasetsDuplicate(t *testing.T) {
	ds := []Dataset{
		{Name: "small", Kind: KindLanguage, Test: langTSV, File: suiteFile, Line: 3},
		{Name: "small", Kind: KindSentiment, Test: sentTSV, File: suiteFile, Line: 4},
	}
	err := ValidateDatasets(ds)
	if err == nil || !strings.Contains(err.Error(), "suite.yaml:4: dataset small: the name is already used by the dataset at line 3") {
		t.Fatalf("got %v", err)
	}
}

func TestDatasetPathRelativeToSuite(t *testing.T) {
	d := Dataset{File: "examples/evals/suite.yaml"}
	if got := d.Path("../../nlu/x.csv"); got != "nlu/x.csv" {
		t.Errorf("Path = %q", got)
	}
	if got := d.Path("/abs/x.csv"); got != "/abs/x.csv" {
		t.Errorf("absolute Path = %q", got)
	}
}

func TestRunDataset(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		d     Dataset
		n     int
		names []string
	}{
		{Dataset{Name: "small", Kind: KindIntent, Train: intentTrain, Test: intentTest}, 2,
			[]string{"intent.accuracy", "intent.macro_f1", "intent.top1", "intent.in_scope_accuracy"}},
		{Dataset{Name: "faq", Kind: KindRetrieval, FAQ: faqTSV, Queries: queriesTSV, OutOfKB: oosTXT}, 20,
			[]string{"retrieval.recall@1", "retrieval.recall@5", "retrieval.mrr", "kb.answered", "kb.out_of_kb_declined"}},
		{Dataset{Name: "sentiment-en", Kind: KindSentiment, Test: sentTSV, Lang: "en"}, 3,
			[]string{"sentiment.accuracy", "sentiment.macro_f1", "sentiment.coverage"}},
		{Dataset{Name: "langs", Kind: KindLanguage, Test: langTSV}, 3, []string{"language.accuracy", "language.macro_f1"}},
	}
	for _, tc := range tests {
		t.Run(tc.d.Kind, func(t *testing.T) {
			tc.d.File = suiteFile
			r, err := RunDataset(ctx, tc.d, DatasetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tc.d.Name || r.Kind != tc.d.Kind || r.N != tc.n {
				t.Errorf("name %q kind %q n %d, want %q %q %d", r.Name, r.Kind, r.N, tc.d.Name, tc.d.Kind, tc.n)
			}
			for _, n := range tc.names {
				v, ok := r.Metrics[n]
				if !ok {
					t.Errorf("metric %s missing from %v", n, r.Metrics)
				}
				if v < 0 || v > 1 {
					t.Errorf("metric %s = %v, outside [0,1]", n, v)
				}
			}
			for k := range r.Metrics {
				if strings.HasSuffix(k, "_ms") || strings.HasSuffix(k, "_us") || strings.HasSuffix(k, "_seconds") {
					t.Errorf("timing %s among the metrics", k)
				}
			}
			// The same inputs give the same result, as a report must.
			again, err := RunDataset(ctx, tc.d, DatasetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(r)
			b, _ := json.Marshal(again)
			if string(a) != string(b) {
				t.Errorf("two runs differ:\n%s\n%s", a, b)
			}
		})
	}
}

// TestRunDatasetFigures checks the figures against what the fixtures
// imply, so that a wrong mapping (recall@5 reported as recall@1, say)
// shows.
func TestRunDatasetFigures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// Every text in its own language but one Turkish text labelled "en":
	// accuracy 3/4, confused en ← tr once.
	lang := write("lang.tsv", "en\tWhere is my order, it has not arrived yet\n"+
		"tr\tSiparişim hâlâ gelmedi, yardım eder misiniz\n"+
		"ru\tМой заказ до сих пор не пришёл\n"+
		"en\tSiparişimi iptal etmek istiyorum lütfen yardım edin\n")
	d := Dataset{Name: "langs", Kind: KindLanguage, Test: lang, File: filepath.Join(dir, "suite.yaml")}
	r, err := RunDataset(context.Background(), d, DatasetOptions{Languages: []string{"en", "tr", "ru"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Metrics["language.accuracy"]; got != 0.75 {
		t.Errorf("language.accuracy = %v, want 0.75", got)
	}
	want := []Confusions{{Want: "en", Got: "tr", Count: 1}}
	if !reflect.DeepEqual(r.Confused, want) {
		t.Errorf("Confused = %+v, want %+v", r.Confused, want)
	}
}

func TestRunDatasetBadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.tsv")
	if err := os.WriteFile(p, []byte("no tab here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := Dataset{Name: "bad", Kind: KindSentiment, Test: "bad.tsv", File: filepath.Join(dir, "suite.yaml"), Line: 9}
	_, err := RunDataset(context.Background(), d, DatasetOptions{})
	if err == nil || baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("got %v, want an invalid error", err)
	}
	for _, w := range []string{"suite.yaml:9: dataset bad", "line 1: want label<TAB>text"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
