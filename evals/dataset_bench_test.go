package evals

import (
	"context"
	"testing"
)

// The targets: the Banking77 and the CLINC150 dataset evals in at
// most 30 s each on a 2-core machine, training included. Run with
// -benchtime=1x -count=5 and read the median: each iteration trains a
// model from scratch.

func benchDataset(b *testing.B, d Dataset, figures ...string) {
	d.File = suiteFile
	var r *DatasetResult
	var err error
	for b.Loop() {
		if r, err = RunDataset(context.Background(), d, DatasetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range figures {
		b.ReportMetric(r.Metrics[f], f)
	}
}

func BenchmarkDatasetBanking77(b *testing.B) {
	benchDataset(b, Dataset{Name: "banking77", Kind: KindIntent,
		Train: "../nlu/testdata/banking77/train80.csv", Test: "../nlu/testdata/banking77/heldout20.csv"},
		"intent.accuracy", "intent.macro_f1")
}

func BenchmarkDatasetCLINC150(b *testing.B) {
	benchDataset(b, Dataset{Name: "clinc150", Kind: KindCLINC, Train: "../nlu/testdata/clinc150/clinc150_train_val.json"},
		"intent.in_scope_accuracy", "oos.recall")
}
