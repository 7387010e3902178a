package evals

import (
	"context"
	"path/filepath"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/nlueval"
	"github.com/batonhq/baton/nlu/sentiment"
	"github.com/batonhq/baton/store/sqlite"
)

// DatasetOptions configure RunDataset.
type DatasetOptions struct {
	// Open makes the throwaway store a retrieval dataset's KB is built in
	// (nil: an SQLite file in the evaluation's temporary directory).
	Open kb.OpenFunc
	// Embedder embeds a retrieval dataset's KB (nil: the offline hash
	// embedder, as `baton kb eval`).
	Embedder baton.Embedder
	// Languages are those language identification chooses among (language
	// datasets, and sentiment datasets without a lang); nil: the ten
	// `baton nlu eval` measures by default.
	Languages []string
	// Progress, when set, follows each dataset stage by stage.
	Progress func(stage string, done, total int)
}

// RunDataset evaluates one labelled dataset with the harnesses `baton nlu
// eval` and `baton kb eval` use, and names its figures as a suite's metrics
// (without the dataset's prefix: Report.Metrics adds it). Latencies and
// durations are left out: they are the only part two runs may disagree on,
// and the caller times each dataset for Report.Timing.
func RunDataset(ctx context.Context, d Dataset, opts DatasetOptions) (*DatasetResult, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	res := &DatasetResult{Name: d.Name, Kind: d.Kind, Metrics: map[string]float64{}}
	var (
		r   nlueval.Report
		err error
	)
	switch d.Kind {
	case KindIntent, KindCLINC:
		r, err = runIntent(ctx, d, opts)
		if err != nil {
			return nil, err
		}
		res.Metrics["intent.accuracy"] = r.Accuracy
		res.Metrics["intent.macro_f1"] = r.MacroF1
		setIf(res.Metrics, "intent.top1", r.Top1)
		setIf(res.Metrics, "intent.in_scope_accuracy", r.InScopeAcc)
		setIf(res.Metrics, "oos.recall", r.OOSRecall)
		setIf(res.Metrics, "oos.precision", r.OOSPrecision)
	case KindSentiment:
		r, err = runLabeled(d, opts)
		if err != nil {
			return nil, err
		}
		res.Metrics["sentiment.accuracy"] = r.Accuracy
		res.Metrics["sentiment.macro_f1"] = r.MacroF1
		setIf(res.Metrics, "sentiment.coverage", r.Coverage)
	case KindLanguage:
		r, err = runLabeled(d, opts)
		if err != nil {
			return nil, err
		}
		res.Metrics["language.accuracy"] = r.Accuracy
		res.Metrics["language.macro_f1"] = r.MacroF1
	case KindRetrieval:
		return runRetrieval(ctx, d, opts, res)
	}
	res.N = r.TestSize
	for _, p := range r.Confused {
		res.Confused = append(res.Confused, Confusions{Want: p.Gold, Got: p.Predicted, Count: p.Count})
	}
	return res, nil
}

func setIf(m map[string]float64, k string, v *float64) {
	if v != nil {
		m[k] = *v
	}
}

func runIntent(ctx context.Context, d Dataset, opts DatasetOptions) (nlueval.Report, error) {
	trainPath, testPath := d.Path(d.Train), d.Path(d.Test)
	if testPath == "" { // CLINC: val + oos_val of the training file
		testPath = trainPath
	}
	train, err := nlueval.ReadIntentFile(trainPath, "train")
	if err != nil {
		return nlueval.Report{}, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	test, err := nlueval.ReadIntentFile(testPath, "test")
	if err != nil {
		return nlueval.Report{}, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	r, _, err := nlueval.Intent(ctx, train, test, intent.Options{Progress: stageNamed(opts.Progress, d.Name)})
	if err != nil {
		return r, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	return r, nil
}

func runLabeled(d Dataset, opts DatasetOptions) (nlueval.Report, error) {
	rows, err := nlueval.ReadLabeledTSV(d.Path(d.Test))
	if err != nil {
		return nlueval.Report{}, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	langs := opts.Languages
	if len(langs) == 0 {
		langs = nlueval.DefaultLanguages
	}
	det, err := langid.New(langs, langid.Options{})
	if err != nil {
		return nlueval.Report{}, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	var r nlueval.Report
	if d.Kind == KindLanguage {
		if d.Lang != "" {
			for i := range rows {
				rows[i].Label = d.Lang
			}
		}
		r, err = nlueval.Language(det, rows)
	} else {
		var a *sentiment.Analyzer
		if a, err = sentiment.New(sentiment.Options{}); err == nil {
			r, err = nlueval.Sentiment(a, det, rows, d.Lang)
		}
	}
	if err != nil {
		return r, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	return r, nil
}

// runRetrieval measures the hybrid mode only: it is the one the bot
// answers with, and the other two would triple the time for figures no
// gate reads.
func runRetrieval(ctx context.Context, d Dataset, opts DatasetOptions, res *DatasetResult) (*DatasetResult, error) {
	open := opts.Open
	if open == nil {
		open = ThrowawayKBStore
	}
	lang := d.Lang
	if lang == "" {
		lang = "en"
	}
	rep, err := kb.EvalFAQ(ctx, kb.EvalOptions{
		FAQ: d.Path(d.FAQ), Queries: d.Path(d.Queries), OutOfKB: d.Path(d.OutOfKB),
		Modes: []kb.Mode{kb.ModeHybrid}, Open: open, Embedder: opts.Embedder, Language: lang,
		Progress: stageNamed(opts.Progress, d.Name),
	})
	if err != nil {
		return nil, baton.WrapError(baton.ErrorCode(err), err, d.where())
	}
	m := rep.Modes[0]
	res.N = m.Queries
	res.Metrics["retrieval.recall@1"] = m.Recall1
	res.Metrics["retrieval.recall@5"] = m.Recall5
	res.Metrics["retrieval.mrr"] = m.MRR
	if a := rep.Answers; a != nil {
		res.Metrics["kb.answered"] = a.InKBAnswered
		if a.InKBAnswered > 0 {
			res.Metrics["citation.accuracy"] = a.InKBCorrect
		}
		if a.OutOfKB > 0 {
			// Declined rather than answered, so that higher is better
			// like every metric the gate does not flip.
			res.Metrics["kb.out_of_kb_declined"] = 1 - a.OutOfKBAnswers
		}
	}
	return res, nil
}

// ThrowawayKBStore is a kb.OpenFunc: a fresh SQLite store in dir, the
// throwaway KB of a retrieval eval (`baton kb eval` and a suite's
// retrieval datasets alike).
func ThrowawayKBStore(ctx context.Context, dir string) (baton.ArticleStore, func() error, error) {
	s, err := sqlite.Open(ctx, filepath.Join(dir, "kb.db"), sqlite.Options{})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// stageNamed names each stage after the dataset, so that a progress bar
// over several datasets says which one it is on.
func stageNamed(fn func(string, int, int), name string) func(string, int, int) {
	if fn == nil {
		return nil
	}
	return func(stage string, done, total int) { fn(name+": "+stage, done, total) }
}
