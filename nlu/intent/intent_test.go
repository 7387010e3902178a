package intent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func loadFixture(t testing.TB) []Example {
	t.Helper()
	f, err := os.Open("testdata/intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	intents, err := ReadYAML(f)
	if err != nil {
		t.Fatal(err)
	}
	return ExamplesOf(intents)
}

func trainFixture(t testing.TB) *Model {
	t.Helper()
	m, err := Train(context.Background(), loadFixture(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClassify(t *testing.T) {
	m := trainFixture(t)
	tests := []struct {
		text string
		want string // "" = out of scope
	}{
		{"where's my order??", "order_status"},
		{"my parcel still hasnt arrived", "order_status"},
		{"SİPARİŞİM NEREDE", "order_status"},
		{"siparisim nerede", "order_status"},
		{"где же мой заказ", "order_status"},
		{"I'd like a refund for the shoes", "refund"},
		{"iade etmek istiyorum lütfen", "refund"},
		{"как вернуть деньги", "refund"},
		{"what size chart do you use", "sizes"},
		{"hangi beden olmalı", "sizes"},
		{"hello", "greeting"},
		{"привет", "greeting"},
		{"tell me a funny joke", ""},
		{"what will the weather be like", ""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			p := m.Classify(tc.text)
			if p.Intent != tc.want {
				t.Errorf("Classify(%q) = %+v, want %q", tc.text, p, tc.want)
			}
			if p.OutOfScope != (tc.want == "") {
				t.Errorf("OutOfScope = %v", p.OutOfScope)
			}
			if p.Confidence < 0 || p.Confidence > 1 {
				t.Errorf("confidence %v", p.Confidence)
			}
			for _, s := range p.Top {
				if s.Intent == "oos" {
					t.Errorf("the out-of-scope class leaked into Top: %+v", p.Top)
				}
			}
		})
	}
	if got := m.Intents(); len(got) != 4 {
		t.Errorf("Intents() = %v, want the four real intents", got)
	}
}

func TestBadInput(t *testing.T) {
	m := trainFixture(t)
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"spaces", "   \n\t "},
		{"emoji", "👍"},
		{"invalid utf8", "\xff\xfe\xc3 where is my order"},
		{"100KB", strings.Repeat("where is my order ", 6000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := m.Classify(tc.text)
			if p.Confidence < 0 || p.Confidence > 1 || len(p.Top) == 0 {
				t.Errorf("Classify = %+v", p)
			}
		})
	}
	if p := m.Classify(""); !p.OutOfScope {
		t.Errorf("empty text should be out of scope, got %+v", p)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := trainFixture(t), trainFixture(t)
	if len(a.w) != len(b.w) || a.temperature != b.temperature || a.threshold != b.threshold {
		t.Fatalf("two trainings differ: T %v/%v, threshold %v/%v", a.temperature, b.temperature, a.threshold, b.threshold)
	}
	for i := range a.w {
		if a.w[i] != b.w[i] {
			t.Fatalf("two trainings on the same data differ at weight %d", i)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	m := trainFixture(t)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"where is my order", "iade", "какой размер", "hi"} {
		p1, p2 := m.Classify(text), m2.Classify(text)
		if p1.Intent != p2.Intent || p1.Confidence != p2.Confidence {
			t.Errorf("%q: %+v before saving, %+v after loading", text, p1, p2)
		}
	}
	if _, err := Load(strings.NewReader("not a model")); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("Load(garbage) = %v, want EINVALID", err)
	}
}

func TestTrainOrLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ex := loadFixture(t)
	m1, trained, err := TrainOrLoad(ctx, dir, ex, Options{})
	if err != nil || !trained {
		t.Fatalf("first call: trained=%v err=%v, want a fresh model", trained, err)
	}
	m2, trained, err := TrainOrLoad(ctx, dir, ex, Options{})
	if err != nil || trained {
		t.Fatalf("second call: trained=%v err=%v, want the stored model", trained, err)
	}
	if m1.DataHash() != m2.DataHash() || len(m1.DataHash()) != 64 {
		t.Fatalf("hashes %q / %q", m1.DataHash(), m2.DataHash())
	}
	changed := append(append([]Example(nil), ex...), Example{Text: "where is my stuff", Intent: "order_status"})
	m3, trained, err := TrainOrLoad(ctx, dir, changed, Options{})
	if err != nil || !trained || m3.DataHash() == m1.DataHash() {
		t.Fatalf("changed data: trained=%v err=%v", trained, err)
	}
	// A damaged file is replaced, not trusted.
	if err := os.WriteFile(filepath.Join(dir, ModelFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, trained, err := TrainOrLoad(ctx, dir, changed, Options{}); err != nil || !trained {
		t.Fatalf("damaged file: trained=%v err=%v", trained, err)
	}
}

func TestTrainRejectsBadData(t *testing.T) {
	tests := []struct {
		name string
		ex   []Example
	}{
		{"none", nil},
		{"one intent", []Example{{"a", "x"}, {"b", "x"}}},
		{"only oos besides one", []Example{{"a", "x"}, {"b", "oos"}}},
		{"empty text", []Example{{"a", "x"}, {" ", "y"}}},
		{"empty intent", []Example{{"a", "x"}, {"b", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Train(context.Background(), tc.ex, Options{}); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("Train = %v, want EINVALID", err)
			}
		})
	}
}

func TestReadYAMLRejects(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no intents", "intents: []\n", "no intents"},
		{"duplicate", "intents:\n- name: a\n  examples: [x]\n- name: a\n  examples: [y]\n", "used twice"},
		{"no examples", "intents:\n- name: a\n", "no examples"},
		{"empty example", "intents:\n- name: a\n  examples: ['  ']\n", "examples[0]"},
		{"unknown field", "intents:\n- name: a\n  exmples: [x]\n", "exmples"},
		{"not yaml", "intents: [", "intents file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadYAML(strings.NewReader(tc.yaml))
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadYAML = %v, want EINVALID mentioning %q", err, tc.want)
			}
		})
	}
}

func TestReadCSVAndCLINC(t *testing.T) {
	ex, err := ReadCSV(strings.NewReader("text,category\n\"hello, there\",greeting\nwhere is it,order\n"))
	if err != nil || len(ex) != 2 || ex[0].Text != "hello, there" || ex[1].Intent != "order" {
		t.Fatalf("ReadCSV = %+v, %v", ex, err)
	}
	if _, err := ReadCSV(strings.NewReader("text,category\nonly one field\n")); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("ReadCSV(bad row) = %v", err)
	}
	js := `{"train": [["hi", "greeting"]], "oos_train": [["weather?", "oos"]]}`
	ex, err = ReadCLINC(strings.NewReader(js), "train", "oos_train")
	if err != nil || len(ex) != 2 || ex[1].Intent != "oos" {
		t.Fatalf("ReadCLINC = %+v, %v", ex, err)
	}
	if _, err := ReadCLINC(strings.NewReader(js), "val"); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("ReadCLINC(missing split) = %v", err)
	}
}

// TestTrainProgress: every epoch of every fold and of the final fit is
// reported once, in order, ending at the total; the model is the one
// training without a progress callback gives.
func TestTrainProgress(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		want int // epochs reported
	}{
		{"four folds and the final fit", Options{}, 5 * 8},
		{"no cross-validation", Options{Folds: 1, Epochs: 3}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls [][2]int
			opt := tc.opt
			opt.Progress = func(stage string, done, total int) {
				if stage != "training" {
					t.Errorf("stage %q", stage)
				}
				calls = append(calls, [2]int{done, total})
			}
			m, err := Train(context.Background(), loadFixture(t), opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != tc.want+1 {
				t.Fatalf("%d calls, want %d: %v", len(calls), tc.want+1, calls)
			}
			for i, c := range calls {
				if c != [2]int{i, tc.want} {
					t.Fatalf("call %d = %v, want [%d %d]", i, c, i, tc.want)
				}
			}
			plain, err := Train(context.Background(), loadFixture(t), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if m.DataHash() != plain.DataHash() || m.Threshold() != plain.Threshold() || m.Temperature() != plain.Temperature() {
				t.Errorf("progress changed the model: %v vs %v", m, plain)
			}
		})
	}
}
