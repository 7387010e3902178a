package nlueval

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/langid"
	"github.com/batonhq/baton/nlu/sentiment"
)

func TestClassification(t *testing.T) {
	tests := []struct {
		name       string
		gold, pred []string
		acc, f1    float64
		top        string
	}{
		{"perfect", []string{"a", "b"}, []string{"a", "b"}, 1, 1, ""},
		{"one wrong", []string{"a", "a", "b", "b"}, []string{"a", "b", "b", "b"}, 0.75, (2.0/3 + 0.8) / 2, "a→b"},
		{"all wrong", []string{"a", "b"}, []string{"b", "a"}, 0, 0, "a→b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, f1, conf := classification(tc.gold, tc.pred)
			if math.Abs(acc-tc.acc) > 1e-9 || math.Abs(f1-tc.f1) > 1e-9 {
				t.Errorf("acc %v f1 %v, want %v %v", acc, f1, tc.acc, tc.f1)
			}
			if tc.top != "" && (len(conf) == 0 || conf[0].Gold+"→"+conf[0].Predicted != tc.top) {
				t.Errorf("most confused %+v, want %s", conf, tc.top)
			}
		})
	}
}

func TestIntent(t *testing.T) {
	train, err := ReadIntentFile("testdata/intent_train.csv", "train")
	if err != nil {
		t.Fatal(err)
	}
	test, err := ReadIntentFile("testdata/intent_test.csv", "test")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := Intent(context.Background(), train, test, intent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy != 1 || r.TestSize != 2 || r.LatencyP99 <= 0 || r.Threshold == nil {
		t.Errorf("report %+v", r)
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["task"] != "intent" {
		t.Errorf("JSON %s", js.String())
	}
	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "accuracy:") {
		t.Errorf("text %q", txt.String())
	}
}

func TestSentimentAndLanguage(t *testing.T) {
	det, err := langid.New([]string{"en", "tr", "ru"}, langid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := sentiment.New(sentiment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadLabeledTSV("testdata/sentiment.tsv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Sentiment(a, det, st, "")
	if err != nil || r.Accuracy != 1 || r.Coverage == nil {
		t.Errorf("sentiment report %+v, %v", r, err)
	}
	lt, err := ReadLabeledTSV("testdata/lang.tsv")
	if err != nil {
		t.Fatal(err)
	}
	r, err = Language(det, lt)
	if err != nil || r.Accuracy != 1 {
		t.Errorf("language report %+v, %v", r, err)
	}
	if _, err := Sentiment(a, det, []Labeled{{Label: "angry", Text: "x"}}, "en"); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("unknown label: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"no tab", "negative this has no tab\n"},
		{"empty", "\n\n"},
		{"empty label", "\tsome text\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readLabeled(strings.NewReader(tc.in), "x.tsv"); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("readLabeled = %v, want EINVALID", err)
			}
		})
	}
	if _, err := ReadIntentFile("testdata/missing.csv", "train"); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("missing file: %v", err)
	}
}

func TestRunEval(t *testing.T) {
	tests := []struct {
		name    string
		cfg     EvalConfig
		wantErr bool
		want    string
	}{
		{"intent text", EvalConfig{Task: "intent", TrainFile: "testdata/intent_train.csv", TestFile: "testdata/intent_test.csv"}, false, "oos threshold:"},
		{"intent json", EvalConfig{Task: "intent", TrainFile: "testdata/intent_train.csv", TestFile: "testdata/intent_test.csv", JSON: true}, false, `"task": "intent"`},
		{"sentiment", EvalConfig{Task: "sentiment", TestFile: "testdata/sentiment.tsv", Languages: []string{"en", "tr"}}, false, "coverage:"},
		{"language json", EvalConfig{Task: "language", TestFile: "testdata/lang.tsv", JSON: true}, false, `"accuracy": 1`},
		// A sentiment-labelled set measured for language with --lang: the
		// sentiment labels must not be taken for languages.
		{"language of a labelled set", EvalConfig{Task: "language", Lang: "en", TestFile: "testdata/sentiment_en.tsv", JSON: true}, false, `"accuracy": 1`},
		{"unknown task", EvalConfig{Task: "topic", TestFile: "testdata/lang.tsv"}, true, ""},
		{"intent without train", EvalConfig{Task: "intent", TestFile: "testdata/intent_test.csv"}, true, ""},
		{"sentiment with train", EvalConfig{Task: "sentiment", TrainFile: "x", TestFile: "testdata/sentiment.tsv"}, true, ""},
		{"no test", EvalConfig{Task: "language"}, true, ""},
		{"bad language", EvalConfig{Task: "language", TestFile: "testdata/lang.tsv", Languages: []string{"zz"}}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := RunEval(context.Background(), tc.cfg, &out)
			if tc.wantErr {
				if baton.ErrorCode(err) != baton.EINVALID {
					t.Errorf("err = %v, want EINVALID", err)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tc.want) {
				t.Errorf("err %v, output %q lacks %q", err, out.String(), tc.want)
			}
		})
	}
}

func TestRunTrain(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	var last [2]int
	calls := 0
	cfg := TrainConfig{Intents: "testdata/intent_train.csv", Dir: dir, Progress: func(stage string, done, total int) {
		calls++
		last = [2]int{done, total}
	}}
	if err := RunTrain(context.Background(), cfg, &out); err != nil || !strings.Contains(out.String(), ": trained") {
		t.Fatalf("first run: %v %q", err, out.String())
	}
	if calls == 0 || last[0] != last[1] {
		t.Errorf("training reported %d times, last %v", calls, last)
	}
	out.Reset()
	calls = 0
	if err := RunTrain(context.Background(), cfg, &out); err != nil || !strings.Contains(out.String(), "reused") {
		t.Fatalf("second run: %v %q", err, out.String())
	}
	if calls != 0 {
		t.Errorf("a reused model reported %d training steps", calls)
	}
	if err := RunTrain(context.Background(), TrainConfig{Dir: dir}, &out); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("missing --intents: %v", err)
	}
}

// TestRunEvalProgress: each task reports its stages in order, each from 0
// to its total, and the report is the one a run without progress gives.
func TestRunEvalProgress(t *testing.T) {
	tests := []struct {
		name   string
		cfg    EvalConfig
		stages []string
	}{
		{"intent", EvalConfig{Task: "intent", TrainFile: "testdata/intent_train.csv", TestFile: "testdata/intent_test.csv", JSON: true}, []string{"training", "classifying"}},
		{"sentiment", EvalConfig{Task: "sentiment", TestFile: "testdata/sentiment.tsv", Languages: []string{"en", "tr"}, JSON: true}, []string{"scoring"}},
		{"language", EvalConfig{Task: "language", TestFile: "testdata/lang.tsv", JSON: true}, []string{"identifying"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			type call struct {
				stage       string
				done, total int
			}
			var calls []call
			cfg := tc.cfg
			cfg.Progress = func(stage string, done, total int) { calls = append(calls, call{stage, done, total}) }
			var with, without bytes.Buffer
			if err := RunEval(context.Background(), cfg, &with); err != nil {
				t.Fatal(err)
			}
			if err := RunEval(context.Background(), tc.cfg, &without); err != nil {
				t.Fatal(err)
			}
			var stages []string
			for i, c := range calls {
				if c.done < 0 || c.done > c.total {
					t.Fatalf("call %d: %+v", i, c)
				}
				if i == 0 || calls[i-1].stage != c.stage {
					if c.done != 0 {
						t.Errorf("stage %s starts at %d", c.stage, c.done)
					}
					if i > 0 && calls[i-1].done != calls[i-1].total {
						t.Errorf("stage %s ended at %d of %d", calls[i-1].stage, calls[i-1].done, calls[i-1].total)
					}
					stages = append(stages, c.stage)
				} else if c.done <= calls[i-1].done {
					t.Errorf("stage %s went from %d to %d", c.stage, calls[i-1].done, c.done)
				}
			}
			if last := calls[len(calls)-1]; last.done != last.total {
				t.Errorf("last call %+v", last)
			}
			if strings.Join(stages, ",") != strings.Join(tc.stages, ",") {
				t.Errorf("stages %v, want %v", stages, tc.stages)
			}
			// Latencies differ from run to run; everything else must not.
			strip := func(s string) string {
				var keep []string
				for _, l := range strings.Split(s, "\n") {
					if !strings.Contains(l, "latency") && !strings.Contains(l, "train_seconds") {
						keep = append(keep, l)
					}
				}
				return strings.Join(keep, "\n")
			}
			if strip(with.String()) != strip(without.String()) {
				t.Errorf("progress changed the report:\n%s\n----\n%s", with.String(), without.String())
			}
		})
	}
}

// TestClassificationDeterministic: macro-F1 is a sum of per-label F1 in
// floating point, whose last bits depend on the order of the additions; an
// eval report must be the same on every run of the same inputs.
func TestClassificationDeterministic(t *testing.T) {
	var gold, pred []string
	for i := range 60 {
		l := "label" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		for j := range 7 {
			gold = append(gold, l)
			if j < i%7 {
				pred = append(pred, "label-other")
			} else {
				pred = append(pred, l)
			}
		}
	}
	_, first, _ := classification(gold, pred)
	for range 200 {
		if _, f1, _ := classification(gold, pred); math.Float64bits(f1) != math.Float64bits(first) {
			t.Fatalf("macro-F1 %v then %v for the same input", first, f1)
		}
	}
}
