package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/nlu/nlueval"
)

// newNLUCmd is "baton nlu": evaluate and train the offline language
// understanding. The work is in nlu/nlueval; this only reads flags.
func newNLUCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nlu",
		Short: "Evaluate and train the offline language understanding",
	}
	cmd.AddCommand(newNLUEvalCmd(), newNLUTrainCmd())
	return cmd
}

func newNLUEvalCmd() *cobra.Command {
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
  baton nlu eval --task sentiment --lang en --test ../shared/data/sentiment/airline_en_dev.tsv --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Languages = nluSplitList(langs)
			return nlueval.RunEval(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Task, "task", "", "intent, sentiment or language")
	f.StringVar(&cfg.TrainFile, "train", "", "training data (intent only)")
	f.StringVar(&cfg.TestFile, "test", "", "test data")
	f.BoolVar(&cfg.JSON, "json", false, "print one JSON object")
	f.Float64Var(&cfg.OOSThreshold, "oos-threshold", 0, "intent: fixed out-of-scope threshold instead of the one chosen on held-out data")
	f.StringVar(&langs, "languages", strings.Join(nlueval.DefaultLanguages, ","), "configured languages (ISO 639-1, comma-separated)")
	f.StringVar(&cfg.Lang, "lang", "", "the texts' language: for sentiment (default: identify each), and for language, the expected language of every text (default: the file's first column)")
	_ = cmd.MarkFlagRequired("task")
	_ = cmd.MarkFlagRequired("test")
	return cmd
}

func newNLUTrainCmd() *cobra.Command {
	var cfg nlueval.TrainConfig
	cmd := &cobra.Command{
		Use:     "train",
		Short:   "Train the intent classifier, or reuse the stored one when its data is unchanged",
		Example: `  baton nlu train --intents examples/sportshop/intents.yaml --dir baton-data/nlu/sportshop`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return nlueval.RunTrain(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Intents, "intents", "", "intents YAML (or CSV text,label)")
	f.StringVar(&cfg.Dir, "dir", "", "directory the model is kept in")
	f.Float64Var(&cfg.OOSThreshold, "oos-threshold", 0, "fixed out-of-scope threshold instead of the one chosen on held-out data")
	f.BoolVar(&cfg.JSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("intents")
	_ = cmd.MarkFlagRequired("dir")
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
