package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/nlueval"
)

// newNLUCmd is "baton nlu": evaluate and train the offline language
// understanding. The work is in nlu/nlueval; this only reads flags.
func newNLUCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nlu",
		Short: "Evaluate and train the offline language understanding",
	}
	cmd.AddCommand(newNLUEvalCmd(e), newNLUTrainCmd(e))
	return cmd
}

func newNLUEvalCmd(e *env) *cobra.Command {
	var cfg nlueval.EvalConfig
	var langs string
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure intent, sentiment or language identification on labelled data",
		Long: `Measure an offline analyser on labelled data and print accuracy, macro-F1,
out-of-scope recall and precision (intent), the most confused pairs and the
per-message latency; --json prints one JSON object instead.

  intent:    --train and --test are CSV "text,label", an intents YAML, or the CLINC150
             JSON (train + oos_train for --train, val + oos_val for --test)
  sentiment: --test is TSV "label<TAB>text" with negative/neutral/positive
  language:  --test is TSV "lang<TAB>text", or any labelled TSV with --lang`,
		Example: `  baton nlu eval --task intent --train nlu/testdata/banking77/train80.csv --test nlu/testdata/banking77/heldout20.csv
  baton nlu eval --task intent --train nlu/testdata/clinc150/clinc150_train_val.json --test nlu/testdata/clinc150/clinc150_train_val.json
  baton nlu eval --task sentiment --lang en --test nlu/nlueval/testdata/sentiment_en.tsv --json
  baton nlu eval --task language --test nlu/nlueval/testdata/lang.tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Task == "" || cfg.TestFile == "" {
				return baton.Errorf(baton.EINVALID, "nlu eval: --task and --test are both required")
			}
			cfg.Languages = nluSplitList(langs)
			var out io.Writer
			var done func()
			cfg.Progress, out, done = e.progress()
			defer done()
			return nlueval.RunEval(cmd.Context(), cfg, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Task, "task", "", "intent, sentiment or language (required)")
	f.StringVar(&cfg.TrainFile, "train", "", "training data (intent only)")
	f.StringVar(&cfg.TestFile, "test", "", "test data (required)")
	f.BoolVar(&cfg.JSON, "json", false, "print one JSON object")
	f.Float64Var(&cfg.OOSThreshold, "oos-threshold", 0, "intent: fixed out-of-scope threshold instead of the one chosen on held-out data")
	f.StringVar(&langs, "languages", strings.Join(nlueval.DefaultLanguages, ","), "configured languages (ISO 639-1, comma-separated)")
	f.StringVar(&cfg.Lang, "lang", "", "the texts' language: for sentiment (default: identify each), and for language, the expected language of every text (default: the file's first column)")
	return cmd
}

func newNLUTrainCmd(e *env) *cobra.Command {
	var cfg nlueval.TrainConfig
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train the intent classifier, or reuse the stored one when its data is unchanged",
		Long: `Train the intent classifier on an intents file and keep the model in --dir;
when the model there was trained on the same data and options, it is reused
and nothing is trained.`,
		Example: `  baton nlu train --intents examples/sportshop/intents.yaml --dir baton-data/nlu/sportshop`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Intents == "" || cfg.Dir == "" {
				return baton.Errorf(baton.EINVALID, "nlu train: --intents and --dir are both required")
			}
			var out io.Writer
			var done func()
			cfg.Progress, out, done = e.progress()
			defer done()
			return nlueval.RunTrain(cmd.Context(), cfg, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Intents, "intents", "", "intents YAML, CSV text,label or CLINC150 JSON (required)")
	f.StringVar(&cfg.Dir, "dir", "", "directory the model is kept in (required)")
	f.Float64Var(&cfg.OOSThreshold, "oos-threshold", 0, "fixed out-of-scope threshold instead of the one chosen on held-out data")
	f.BoolVar(&cfg.JSON, "json", false, "print one JSON object")
	return cmd
}

func nluSplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
