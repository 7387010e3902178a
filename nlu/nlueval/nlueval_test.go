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
