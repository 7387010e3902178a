package nlueval

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/sentiment"
)

// DefaultLanguages is the 10-language configuration measured by default.
var DefaultLanguages = []string{"en", "tr", "ru", "de", "es", "fr", "pt", "it", "ar", "nl"}

// EvalConfig is one `baton nlu eval` run.
type EvalConfig struct {
	Task         string // intent, sentiment or language
	TrainFile    string
	TestFile     string
	JSON         bool
	OOSThreshold float64  // intent: overrides the threshold chosen on held-out data
	Languages    []string // configured languages (language ID, sentiment with Lang "")
	// Lang is the texts' language. Sentiment: "" identifies each text.
	// Language: every text's expected language, for sets labelled with
	// something else (such as the sentiment sets); "" reads it from the
	// file's first column.
	Lang string
	// Progress, when set, follows the training and the scoring.
	Progress Progress
}

// RunEval evaluates and writes the report to w.
func RunEval(ctx context.Context, cfg EvalConfig, w io.Writer) error {
	if cfg.TestFile == "" {
		return baton.Errorf(baton.EINVALID, "nlu eval: --test is required")
	}
	langs := cfg.Languages
	if len(langs) == 0 {
		langs = DefaultLanguages
	}
	var r Report
	switch cfg.Task {
	case "intent":
		if cfg.TrainFile == "" {
			return baton.Errorf(baton.EINVALID, "nlu eval: --task intent needs --train (CSV text,label; intents YAML; or CLINC JSON)")
		}
		train, err := ReadIntentFile(cfg.TrainFile, "train")
		if err != nil {
			return err
		}
		test, err := ReadIntentFile(cfg.TestFile, "test")
		if err != nil {
			return err
		}
		r, _, err = Intent(ctx, train, test, intent.Options{OOSThreshold: cfg.OOSThreshold, Progress: cfg.Progress})
		if err != nil {
			return err
		}
		r.TrainFile = cfg.TrainFile
	case "sentiment", "language":
		if cfg.TrainFile != "" {
			return baton.Errorf(baton.EINVALID, "nlu eval: --task %s trains nothing; drop --train", cfg.Task)
		}
		rows, err := ReadLabeledTSV(cfg.TestFile)
		if err != nil {
			return err
		}
		det, err := langid.New(langs, langid.Options{})
		if err != nil {
			return err
		}
		if cfg.Task == "language" {
			if cfg.Lang != "" {
				for i := range rows {
					rows[i].Label = cfg.Lang
				}
			}
			r, err = scoreLanguage(det, rows, cfg.Progress)
		} else {
			var a *sentiment.Analyzer
			a, err = sentiment.New(sentiment.Options{})
			if err == nil {
				r, err = scoreSentiment(a, det, rows, cfg.Lang, cfg.Progress)
			}
		}
		if err != nil {
			return err
		}
	default:
		return baton.Errorf(baton.EINVALID, "nlu eval: --task must be intent, sentiment or language, not %q", cfg.Task)
	}
	r.TestFile = cfg.TestFile
	if cfg.JSON {
		return r.WriteJSON(w)
	}
	return r.WriteText(w)
}

// TrainConfig is one `baton nlu train` run.
type TrainConfig struct {
	Intents      string // intents YAML, CSV or CLINC JSON
	Dir          string // where the model is kept
	OOSThreshold float64
	JSON         bool
	Progress     Progress // follows the training; not called when the stored model is reused
}

// TrainResult says what `baton nlu train` did.
type TrainResult struct {
	Model      string       `json:"model"`
	Path       string       `json:"path"`
	Trained    bool         `json:"trained"` // false: the stored model matched the data
	DataHash   string       `json:"data_sha256"`
	Intents    int          `json:"intents"`
	Threshold  float64      `json:"oos_threshold"`
	Stats      intent.Stats `json:"stats"`
	ElapsedSec float64      `json:"elapsed_seconds"`
}

// RunTrain trains (or reuses) the model for an intents file.
func RunTrain(ctx context.Context, cfg TrainConfig, w io.Writer) error {
	if cfg.Intents == "" || cfg.Dir == "" {
		return baton.Errorf(baton.EINVALID, "nlu train: --intents and --dir are required")
	}
	start := time.Now()
	ex, err := ReadIntentFile(cfg.Intents, "train")
	if err != nil {
		return err
	}
	m, trained, err := intent.TrainOrLoad(ctx, cfg.Dir, ex, intent.Options{OOSThreshold: cfg.OOSThreshold, Progress: cfg.Progress})
	if err != nil {
		return err
	}
	res := TrainResult{
		Model: m.String(), Path: strings.TrimSuffix(cfg.Dir, "/") + "/" + intent.ModelFile, Trained: trained,
		DataHash: m.DataHash(), Intents: len(m.Intents()), Threshold: m.Threshold(), Stats: m.Stats(),
		ElapsedSec: time.Since(start).Seconds(),
	}
	if cfg.JSON {
		return Report{}.writeAny(w, res)
	}
	verb := "reused (data unchanged)"
	if trained {
		verb = "trained"
	}
	_, err = fmt.Fprintf(w, "%s: %s\n%s\ndata sha256: %s\n", res.Path, verb, res.Model, res.DataHash)
	return err
}
