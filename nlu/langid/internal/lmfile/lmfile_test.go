package lmfile

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func corpusModel(t *testing.T) *Model {
	t.Helper()
	f, err := os.Open("testdata/tr.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := FromText("tr", "Turkish", "testdata/tr.txt", f, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	m := corpusModel(t)
	data := encode(t, m)
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != m.Code || got.Name != m.Name || got.Source != m.Source || !slices.Equal(got.Scripts, []string{"Latin"}) {
		t.Fatalf("header = %q %q %q %v, want %q %q %q [Latin]", got.Code, got.Name, got.Source, got.Scripts, m.Code, m.Name, m.Source)
	}
	if len(got.Grams) != 4 {
		t.Fatalf("%d orders, want 4", len(got.Grams))
	}
	for i := range m.Grams {
		want := map[string]float64{}
		for _, g := range m.Grams[i] {
			want[g.Text] = g.LogP
		}
		if len(got.Grams[i]) != len(want) {
			t.Fatalf("order %d: %d n-grams, want %d", i+1, len(got.Grams[i]), len(want))
		}
		for _, g := range got.Grams[i] {
			w, ok := want[g.Text]
			if !ok {
				t.Fatalf("order %d: %q was not written", i+1, g.Text)
			}
			if g.LogP != Dequantize(Quantize(w)) || math.Abs(g.LogP-w) > 1.0/Scale && w > -255.0/Scale {
				t.Errorf("%q: log P %v, wrote %v", g.Text, g.LogP, w)
			}
		}
	}
	// Written again, the decoded model gives the same bytes: the
	// generator's output is stable.
	if again := encode(t, got); !bytes.Equal(again, data) {
		t.Error("re-encoding the decoded model changed its bytes")
	}
}

func TestFromTextCounts(t *testing.T) {
	m, err := FromText("tr", "Turkish", "test", strings.NewReader("aab ab\nİB"), 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	logP := map[string]float64{}
	for _, grams := range m.Grams {
		for _, g := range grams {
			logP[g.Text] = g.LogP
		}
	}
	// letters: a a b a b i b → a 3/7, b 3/7, i 1/7; "İ" folds to a plain i
	// and words do not run into each other.
	want := map[string]float64{
		"a": math.Log(3.0 / 7), "b": math.Log(3.0 / 7), "i": math.Log(1.0 / 7),
		"aa": math.Log(1.0 / 3), "ab": math.Log(2.0 / 3), "ib": 0,
	}
	if len(logP) != len(want) {
		t.Fatalf("n-grams %v, want %v", logP, want)
	}
	for g, w := range want {
		if math.Abs(logP[g]-w) > 1e-12 {
			t.Errorf("log P(%q) = %v, want %v", g, logP[g], w)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	valid := func() *Model {
		return &Model{Code: "xx", Name: "X", Scripts: []string{"Latin"}, Grams: [][]Gram{{{"a", -0.5}, {"b", -1}}}}
	}
	tests := []struct {
		name   string
		change func(*Model)
	}{
		{"no code", func(m *Model) { m.Code = "" }},
		{"no orders", func(m *Model) { m.Grams = nil }},
		{"too many orders", func(m *Model) { m.Grams = make([][]Gram, MaxOrder+1) }},
		{"no script", func(m *Model) { m.Scripts = nil }},
		{"unknown script", func(m *Model) { m.Scripts = []string{"Klingon"} }},
		{"wrong length", func(m *Model) { m.Grams[0] = append(m.Grams[0], Gram{"ab", -1}) }},
		{"twice", func(m *Model) { m.Grams[0] = append(m.Grams[0], Gram{"a", -1}) }},
		{"positive log", func(m *Model) { m.Grams[0][0].LogP = 0.1 }},
		{"NaN", func(m *Model) { m.Grams[0][0].LogP = math.NaN() }},
	}
	if err := Encode(io.Discard, valid()); err != nil {
		t.Fatalf("valid model: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.change(m)
			if err := Encode(io.Discard, m); err == nil {
				t.Error("encoded")
			}
		})
	}
}

// rezip returns a model file whose compressed body is body.
func rezip(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(Magic)
	zw := gzip.NewWriter(&b)
	zw.Write(body)
	zw.Close()
	return b.Bytes()
}

func body(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data[len(Magic):]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	m := &Model{Code: "xx", Name: "X", Scripts: []string{"Latin"}, Grams: [][]Gram{{{"a", -0.5}, {"b", -1}}, {{"ab", -0.1}}}}
	good := encode(t, m)
	b := body(t, good)
	// the body ends with the bigram: 1 entry, shared 0, 2 runes 'a' 'b', q
	tail := len(b) - 6
	if b[tail] != 1 || b[tail+1] != 0 || b[tail+2] != 2 {
		t.Fatalf("unexpected layout % x", b[tail:])
	}
	edit := func(f func([]byte) []byte) []byte { return rezip(t, f(slices.Clone(b))) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"wrong magic", append([]byte("BLM9"), good[len(Magic):]...)},
		{"not gzip", []byte(Magic + "plain text")},
		{"truncated file", good[:len(good)-10]},
		{"truncated body", edit(func(b []byte) []byte { return b[:len(b)-2] })},
		{"trailing data", edit(func(b []byte) []byte { return append(b, 0) })},
		{"shared more than the entry before", edit(func(b []byte) []byte { b[tail+1] = 2; return b })},
		{"zero probability", edit(func(b []byte) []byte { b[len(b)-1] = 0; return b })},
		{"count past the limit", edit(func(b []byte) []byte {
			return append(b[:tail], 0xff, 0xff, 0xff, 0xff, 0x0f)
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(bytes.NewReader(tc.data)); err == nil {
				t.Error("decoded")
			}
		})
	}
	if _, err := Decode(bytes.NewReader(rezip(t, b))); err != nil {
		t.Fatalf("the unedited body: %v", err)
	}
}

func TestScripts(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"hello", []string{"Latin"}},
		{"çğış", []string{"Latin"}},
		{"привет", []string{"Cyrillic"}},
		{"مرحبا", []string{"Arabic"}},
		{"γειά", []string{"Greek"}},
		{"שלום", []string{"Hebrew"}},
		{"ありがとう漢字漢字", []string{"Hiragana", "Han"}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			var grams []Gram
			for _, r := range tc.text {
				grams = append(grams, Gram{string(r), math.Log(1.0 / float64(len([]rune(tc.text))))})
			}
			if got := ScriptsOf(grams); !slices.Equal(got, tc.want) {
				t.Errorf("ScriptsOf(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
	for _, r := range "1 -.😀" {
		if s := ScriptOf(r); s != "" {
			t.Errorf("ScriptOf(%q) = %q, want none", r, s)
		}
	}
}

func TestWords(t *testing.T) {
	var got []string
	Words("İPTAL, don't  Мой-заказ 42 e\u0301te", func(w []rune) { got = append(got, string(w)) })
	want := []string{"iptal", "don", "t", "мой", "заказ", "ete"}
	if !slices.Equal(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
}
