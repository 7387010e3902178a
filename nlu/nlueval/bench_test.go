package nlueval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/sentiment"
)

// Run with -benchtime=1x: each iteration trains a model from scratch.

// BenchmarkBanking77 trains on the committed 80 % split of Banking77's
// train.csv and measures on the other 20 %.
func BenchmarkBanking77(b *testing.B) {
	train, err := ReadIntentFile("../testdata/banking77/train80.csv", "train")
	if err != nil {
		b.Fatal(err)
	}
	test, err := ReadIntentFile("../testdata/banking77/heldout20.csv", "test")
	if err != nil {
		b.Fatal(err)
	}
	var r Report
	for b.Loop() {
		r, _, err = Intent(context.Background(), train, test, intent.Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.Accuracy, "accuracy")
	b.ReportMetric(*r.Top1, "top1-in-scope")
	b.ReportMetric(r.MacroF1, "macro-F1")
	b.ReportMetric(*r.Threshold, "threshold")
	b.ReportMetric(r.TrainSeconds, "train-s")
	b.ReportMetric(r.LatencyP50, "p50-µs")
	b.ReportMetric(r.LatencyP99, "p99-µs")
}

// BenchmarkCLINC150 trains on train + oos_train and measures on val +
// oos_val at the threshold chosen on out-of-fold predictions.
func BenchmarkCLINC150(b *testing.B) {
	const path = "../testdata/clinc150/clinc150_train_val.json"
	train, err := ReadIntentFile(path, "train")
	if err != nil {
		b.Fatal(err)
	}
	test, err := ReadIntentFile(path, "test")
	if err != nil {
		b.Fatal(err)
	}
	var r Report
	for b.Loop() {
		r, _, err = Intent(context.Background(), train, test, intent.Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(*r.InScopeAcc, "in-scope-acc")
	b.ReportMetric(*r.Top1, "top1-in-scope")
	b.ReportMetric(*r.OOSRecall, "oos-recall")
	b.ReportMetric(*r.OOSPrecision, "oos-precision")
	b.ReportMetric(*r.Threshold, "threshold")
	b.ReportMetric(r.TrainSeconds, "train-s")
	b.ReportMetric(r.LatencyP99, "p99-µs")
}

// sentimentSets are the development sets under ../shared/data/sentiment,
// which may not be committed; each with its language.
var sentimentSets = []struct{ file, lang string }{
	{"airline_en_dev.tsv", "en"},
	{"ru_banks_dev.tsv", "ru"},
	{"ru_telecom_dev.tsv", "ru"},
	{"tr_movie_dev.tsv", "tr"},
}

func sentimentData(b *testing.B, file string) []Labeled {
	// Skip messages are silent without -v; absence must be seen.
	dir, ok := DataDir()
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: sentiment sets absent: no data directory (set BATON_SHARED_DATA or place ../shared/data next to the repository)\n", b.Name())
		b.Skip("sentiment sets absent")
	}
	path := filepath.Join(dir, "sentiment", file)
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(os.Stderr, "%s: sentiment set absent: %s\n", b.Name(), path)
		b.Skip("sentiment set absent")
	}
	fmt.Fprintf(os.Stderr, "%s: data from %s\n", b.Name(), path)
	rows, err := ReadLabeledTSV(path)
	if err != nil {
		b.Fatal(err)
	}
	return rows
}

// BenchmarkSentiment reports negative vs not-negative macro-F1 and the
// share of texts with any evidence, per development set, with the set's
// language given.
func BenchmarkSentiment(b *testing.B) {
	a, err := sentiment.New(sentiment.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sentimentSets {
		b.Run(s.file, func(b *testing.B) {
			rows := sentimentData(b, s.file)
			var r Report
			for b.Loop() {
				r, err = Sentiment(a, nil, rows, s.lang)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(r.MacroF1, "macro-F1")
			b.ReportMetric(*r.Coverage, "coverage")
			b.ReportMetric(r.LatencyP99, "p99-µs")
		})
	}
}

// BenchmarkLanguageID reports identification accuracy on the sentiment
// texts with the ten languages of the demo's 10-language bot configured,
// and with an en/tr/ru bot, each text read as a new conversation.
func BenchmarkLanguageID(b *testing.B) {
	configs := []struct {
		name  string
		langs []string
	}{
		{"10-languages", DefaultLanguages},
		{"en-tr-ru", []string{"en", "tr", "ru"}},
	}
	for _, c := range configs {
		det, err := langid.New(c.langs, langid.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range sentimentSets {
			b.Run(c.name+"/"+s.file, func(b *testing.B) {
				rows := sentimentData(b, s.file)
				for i := range rows {
					rows[i].Label = s.lang
				}
				var r Report
				for b.Loop() {
					r, err = Language(det, rows)
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(r.Accuracy, "accuracy")
				b.ReportMetric(r.LatencyP99, "p99-µs")
			})
		}
	}
}
