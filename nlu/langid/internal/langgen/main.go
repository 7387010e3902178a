// Command langgen writes the language model files of nlu/langid.
//
//	go run ./nlu/langid/internal/langgen [-out DIR] [code …]
//
// The defaults (-order 4 -max-grams 20000) are those of the committed
// models.
//
// derives each language's model from the letter n-gram statistics that
// lingua-go publishes (Apache-2.0, computed from the Leipzig Wortschatz news
// corpora; see nlu/langid/NOTICE). The module is fetched at the pinned
// version through the Go module proxy and checked against its go.sum hash;
// nothing of lingua's code is used, only its data files are read. With no
// codes it rewrites every model already in DIR.
//
//	go run ./nlu/langid/internal/langgen -corpus FILE -code xx [-name Name] [-out DIR]
//
// counts a plain-text corpus instead (UTF-8, one sentence or paragraph a
// line), for a language lingua-go does not cover or a corpus of your own.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/batonhq/baton/nlu/langid/internal/lmfile"
)

// The statistics are pinned: the same version and hash give the same files.
const (
	linguaModule  = "github.com/pemistahl/lingua-go"
	linguaVersion = "v1.4.0"
	linguaSum     = "h1:ifYhthrlW7iO4icdubwlduYnmwU37V1sbNrwhKBR4rM="
	linguaSource  = linguaModule + "@" + linguaVersion + " language-models (Apache-2.0; Leipzig Wortschatz news corpora)"
)

// orderFiles are lingua-go's file names for each n.
var orderFiles = []string{"unigrams", "bigrams", "trigrams", "quadrigrams", "fivegrams"}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "langgen:", err)
		os.Exit(1)
	}
}

type options struct {
	out      string
	order    int
	maxGrams int
	corpus   string
	code     string
	name     string
	minCount int
}

func run(args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("langgen", flag.ContinueOnError)
	fs.StringVar(&o.out, "out", "nlu/langid/models", "directory of the model files")
	fs.IntVar(&o.order, "order", 4, "longest n-gram kept (1 to 5; the detector reads up to 4)")
	fs.IntVar(&o.maxGrams, "max-grams", 20000, "keep at most this many n-grams of each order above 3, the likeliest (0: all)")
	fs.StringVar(&o.corpus, "corpus", "", "count this plain-text file instead of lingua-go's statistics (needs -code)")
	fs.StringVar(&o.code, "code", "", "with -corpus: the language's ISO 639-1 code")
	fs.StringVar(&o.name, "name", "", "with -corpus: the language's English name (default: from the code)")
	fs.IntVar(&o.minCount, "min-count", 2, "with -corpus: leave out n-grams seen fewer times")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.order < 1 || o.order > lmfile.MaxOrder {
		return fmt.Errorf("-order %d: want 1 to %d", o.order, lmfile.MaxOrder)
	}
	if o.corpus != "" {
		if fs.NArg() > 0 {
			return errors.New("-corpus reads one language: give its code with -code, not as arguments")
		}
		m, err := fromCorpus(o)
		if err != nil {
			return err
		}
		return write(o.out, m, prune(m, o.maxGrams), stdout)
	}
	codes := fs.Args()
	if len(codes) == 0 {
		existing, err := filepath.Glob(filepath.Join(o.out, "*.lm"))
		if err != nil {
			return err
		}
		for _, p := range existing {
			codes = append(codes, strings.TrimSuffix(filepath.Base(p), ".lm"))
		}
		if len(codes) == 0 {
			return fmt.Errorf("no codes given and no models in %s", o.out)
		}
	}
	dir, err := linguaDir()
	if err != nil {
		return err
	}
	for _, code := range codes {
		m, err := fromLingua(dir, code, o.order)
		if err != nil {
			return err
		}
		if err := write(o.out, m, prune(m, o.maxGrams), stdout); err != nil {
			return err
		}
	}
	return nil
}

func fromCorpus(o options) (*lmfile.Model, error) {
	name, err := languageName(o.code, o.name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(o.corpus)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return lmfile.FromText(o.code, name, "corpus "+filepath.Base(o.corpus), f, o.order, o.minCount)
}

func languageName(code, name string) (string, error) {
	tag, err := language.ParseBase(code)
	if err != nil || len(code) != 2 || tag.String() != code {
		return "", fmt.Errorf("%q is not an ISO 639-1 code", code)
	}
	if name == "" {
		name = display.English.Languages().Name(tag)
	}
	return name, nil
}

// linguaDir downloads (or finds in the module cache) the pinned lingua-go
// module and returns its directory after checking its hash.
func linguaDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", linguaModule+"@"+linguaVersion)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", linguaModule, linguaVersion, err)
	}
	var mod struct{ Dir, Sum, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	if mod.Error != "" {
		return "", fmt.Errorf("go mod download: %s", mod.Error)
	}
	if mod.Sum != linguaSum {
		return "", fmt.Errorf("%s@%s has hash %s, want %s", linguaModule, linguaVersion, mod.Sum, linguaSum)
	}
	return mod.Dir, nil
}

func fromLingua(dir, code string, order int) (*lmfile.Model, error) {
	name, err := languageName(code, "")
	if err != nil {
		return nil, err
	}
	m := &lmfile.Model{Code: code, Name: name, Source: linguaSource}
	for n := 1; n <= order; n++ {
		path := filepath.Join(dir, "language-models", code, orderFiles[n-1]+".pb.bin.zip")
		grams, err := readLinguaFile(path, n)
		if errors.Is(err, os.ErrNotExist) && n > 1 {
			// lingua-go keeps only the letters of languages whose
			// script is theirs alone (Greek, Hebrew, …): the script
			// is what identifies them.
			break
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lingua-go has no model for %q (%s); count a corpus with -corpus instead", code, path)
		}
		if err != nil {
			return nil, err
		}
		m.Grams = append(m.Grams, grams)
	}
	m.Scripts = lmfile.ScriptsOf(m.Grams[0])
	return m, nil
}

// readLinguaFile reads one of lingua-go's zipped protocol buffers:
// a model (field 4: n-gram sets) whose sets each hold a probability
// (field 1, double) and its n-grams (field 2, strings).
func readLinguaFile(path string, n int) ([]lmfile.Gram, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		return nil, fmt.Errorf("%s: %d files, want 1", path, len(zr.File))
	}
	f, err := zr.File[0].Open()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	var grams []lmfile.Gram
	err = fields(data, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != 4 || typ != protowire.BytesType {
			return nil
		}
		var p float64
		var texts []string
		err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			switch {
			case num == 1 && typ == protowire.Fixed64Type:
				x, _ := protowire.ConsumeFixed64(v)
				p = math.Float64frombits(x)
			case num == 2 && typ == protowire.BytesType:
				texts = append(texts, string(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !(p > 0 && p <= 1) {
			return fmt.Errorf("probability %v", p)
		}
		for _, t := range texts {
			if utf8.RuneCountInString(t) != n {
				return fmt.Errorf("%q is not a %d-gram", t, n)
			}
			grams = append(grams, lmfile.Gram{Text: t, LogP: math.Log(p)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return grams, nil
}

// fields calls fn with every field of a protocol buffer message; v is the
// field's payload (the bytes of a length-delimited field, the raw 8 bytes
// of a fixed64).
func fields(b []byte, fn func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				v = b[:n]
			}
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err := fn(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// prune keeps, of each order above 3, the max n-grams likeliest to occur
// (by the chained probability of their letters): those that carry most of
// a text's evidence. Orders up to 3 are small and kept whole. It returns,
// for each order, the share of that order's occurrences the kept n-grams
// make up.
func prune(m *lmfile.Model, max int) []float64 {
	kept := make([]float64, len(m.Grams))
	for i := range kept {
		kept[i] = 1
	}
	if max <= 0 {
		return kept
	}
	logP := make([]map[string]float64, len(m.Grams))
	for i, grams := range m.Grams {
		logP[i] = make(map[string]float64, len(grams))
		for _, g := range grams {
			logP[i][g.Text] = g.LogP
		}
	}
	joint := func(text string) float64 {
		rs := []rune(text)
		s := 0.0
		for k := 1; k <= len(rs); k++ {
			s += logP[k-1][string(rs[:k])]
		}
		return s
	}
	for i := 3; i < len(m.Grams); i++ {
		grams := slices.Clone(m.Grams[i])
		if len(grams) <= max {
			continue
		}
		score := make(map[string]float64, len(grams))
		total := 0.0
		for _, g := range grams {
			score[g.Text] = joint(g.Text)
			total += math.Exp(score[g.Text])
		}
		sort.Slice(grams, func(a, b int) bool {
			if score[grams[a].Text] != score[grams[b].Text] {
				return score[grams[a].Text] > score[grams[b].Text]
			}
			return grams[a].Text < grams[b].Text
		})
		m.Grams[i] = grams[:max]
		share := 0.0
		for _, g := range m.Grams[i] {
			share += math.Exp(score[g.Text])
		}
		kept[i] = share / total
	}
	return kept
}

func write(dir string, m *lmfile.Model, kept []float64, stdout io.Writer) error {
	var buf bytes.Buffer
	if err := lmfile.Encode(&buf, m); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, m.Code+".lm")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	counts := make([]string, len(m.Grams))
	for i, g := range m.Grams {
		counts[i] = fmt.Sprint(len(g))
		if kept[i] < 1 {
			counts[i] += fmt.Sprintf(" (%.0f %% of occurrences)", 100*kept[i])
		}
	}
	fmt.Fprintf(stdout, "%s: %s (%s), n-grams %s, %d bytes\n", path, m.Name, strings.Join(m.Scripts, "+"), strings.Join(counts, "/"), buf.Len())
	return nil
}
