package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton/nlu/langid/internal/lmfile"
)

func decodeFile(t *testing.T, path string) *lmfile.Model {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lmfile.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestCorpus(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	err := run([]string{"-corpus", "../lmfile/testdata/tr.txt", "-code", "tr", "-order", "3", "-min-count", "1", "-out", out}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeFile(t, filepath.Join(out, "tr.lm"))
	if m.Code != "tr" || m.Name != "Turkish" || !slices.Equal(m.Scripts, []string{"Latin"}) || len(m.Grams) != 3 {
		t.Fatalf("model %s %q %v with %d orders, want tr Turkish [Latin] with 3", m.Code, m.Name, m.Scripts, len(m.Grams))
	}
	if !strings.Contains(stdout.String(), "tr.lm: Turkish (Latin)") {
		t.Errorf("output %q does not name the file and language", stdout.String())
	}
	has := func(n int, g string) bool {
		return slices.ContainsFunc(m.Grams[n-1], func(x lmfile.Gram) bool { return x.Text == g })
	}
	if !has(1, "ş") || !has(2, "iş") || !has(3, "lüt") || has(3, "the") {
		t.Error("the corpus's n-grams are not what was counted")
	}
}

func TestRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"order too high", []string{"-order", "9", "en"}},
		{"order zero", []string{"-order", "0", "en"}},
		{"corpus without code", []string{"-corpus", "../lmfile/testdata/tr.txt"}},
		{"corpus with a bad code", []string{"-corpus", "../lmfile/testdata/tr.txt", "-code", "turkish"}},
		{"corpus and codes", []string{"-corpus", "../lmfile/testdata/tr.txt", "-code", "tr", "en"}},
		{"missing corpus", []string{"-corpus", "no-such-file.txt", "-code", "tr"}},
		{"unknown flag", []string{"-frobnicate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			if err := run(append([]string{"-out", out}, tc.args...), &bytes.Buffer{}); err == nil {
				t.Error("accepted")
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("wrote %d files", len(entries))
			}
		})
	}
}

// TestCommittedModels regenerates models from the pinned statistics and
// compares them with the committed files: the embedded data is what the
// committed generator makes.
func TestCommittedModels(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches the pinned statistics")
	}
	if err := exec.Command("go", "mod", "download", linguaModule+"@"+linguaVersion).Run(); err != nil {
		t.Skipf("the pinned statistics cannot be fetched here: %v", err)
	}
	out := t.TempDir()
	codes := []string{"en", "ru", "el"}
	if err := run(append([]string{"-out", out}, codes...), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, code := range codes {
		got := decodeFile(t, filepath.Join(out, code+".lm"))
		want := decodeFile(t, filepath.Join("..", "..", "models", code+".lm"))
		if got.Code != want.Code || got.Name != want.Name || got.Source != want.Source || !slices.Equal(got.Scripts, want.Scripts) || len(got.Grams) != len(want.Grams) {
			t.Fatalf("%s: regenerated header differs from the committed one", code)
		}
		for i := range got.Grams {
			if !slices.Equal(got.Grams[i], want.Grams[i]) {
				t.Errorf("%s: regenerated %d-grams differ from the committed ones", code, i+1)
			}
		}
	}
}
