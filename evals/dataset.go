package evals

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/batonhq/baton"
)

// Dataset kinds: what a suite's labelled dataset measures.
const (
	// KindIntent is intent data as CSV "text,label" (or an intents YAML):
	// Train and Test.
	KindIntent = "intent"
	// KindCLINC is the CLINC150 JSON with its out-of-scope examples:
	// Train (train + oos_train) and Test (val + oos_val; the same file as
	// Train when empty).
	KindCLINC = "clinc"
	// KindRetrieval is a FAQ TSV (id, title, body) and its questions TSV
	// (id, question), as `baton kb eval` reads them, with optional
	// questions the KB does not cover (OutOfKB) and the FAQ's Lang.
	KindRetrieval = "retrieval"
	// KindSentiment is a labelled sentiment TSV (label, text): Test, and
	// the texts' Lang ("" identifies each text's language).
	KindSentiment = "sentiment"
	// KindLanguage is a labelled language TSV (lang, text): Test; Lang,
	// when set, is every text's expected language instead of the label.
	KindLanguage = "language"
)

// DatasetKinds lists the kinds a suite may name.
var DatasetKinds = []string{KindIntent, KindCLINC, KindRetrieval, KindSentiment, KindLanguage}

// Dataset is one entry of a suite's datasets: a labelled dataset run beside
// the conversation cases. Its metrics are reported under "<Name>/<metric>".
type Dataset struct {
	Name    string `yaml:"name" json:"name"`
	Kind    string `yaml:"kind" json:"kind"`
	Train   string `yaml:"train,omitempty" json:"train,omitempty"`
	Test    string `yaml:"test,omitempty" json:"test,omitempty"`
	FAQ     string `yaml:"faq,omitempty" json:"faq,omitempty"`
	Queries string `yaml:"queries,omitempty" json:"queries,omitempty"`
	OutOfKB string `yaml:"out_of_kb,omitempty" json:"out_of_kb,omitempty"`
	Lang    string `yaml:"lang,omitempty" json:"lang,omitempty"`

	// File is the suite file the entry was read from: relative paths are
	// resolved against its directory ("" = the working directory). Line is
	// the entry's line in it. Both name the place in errors.
	File string `yaml:"-" json:"-"`
	Line int    `yaml:"-" json:"-"`
}

// datasetName keeps a name usable as a metric prefix: no "/" (it separates
// the prefix from the metric) and not two letters alone, which would read
// as a language code ("en/intent.accuracy" is English's, not a dataset's).
var datasetName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Path resolves one of the entry's paths against the suite file's
// directory.
func (d Dataset) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || d.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(d.File), p)
}

// where names the entry in errors: "suite.yaml:12: dataset banking77".
func (d Dataset) where() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
		}
		b.WriteString(": ")
	} else if d.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", d.Line)
	}
	b.WriteString("dataset")
	if d.Name != "" {
		b.WriteString(" " + d.Name)
	}
	return b.String()
}

// Validate checks the entry before anything runs: a known kind, a usable
// name, the files the kind needs present and readable, none it would
// ignore. Every problem is reported, each with the suite file and line.
func (d Dataset) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, baton.Errorf(baton.EINVALID, "%s: %s", d.where(), fmt.Sprintf(format, args...)))
	}
	switch {
	case d.Name == "":
		bad("name is required")
	case !datasetName.MatchString(d.Name):
		bad("name %q must be lower-case letters, digits, '.', '_' or '-' (it prefixes the dataset's metrics)", d.Name)
	case len(d.Name) == 2:
		bad("name %q is two letters, which reads as a language code in metric names; use a longer name", d.Name)
	}
	type field struct {
		key, val string
	}
	var need, allow []field
	all := []field{{"train", d.Train}, {"test", d.Test}, {"faq", d.FAQ}, {"queries", d.Queries}, {"out_of_kb", d.OutOfKB}, {"lang", d.Lang}}
	byKey := map[string]field{}
	for _, f := range all {
		byKey[f.key] = f
	}
	pick := func(keys ...string) []field {
		var out []field
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	}
	switch d.Kind {
	case KindIntent:
		need, allow = pick("train", "test"), nil
	case KindCLINC:
		need, allow = pick("train"), pick("test")
	case KindRetrieval:
		need, allow = pick("faq", "queries"), pick("out_of_kb", "lang")
	case KindSentiment, KindLanguage:
		need, allow = pick("test"), pick("lang")
	case "":
		bad("kind is required (one of %s)", strings.Join(DatasetKinds, ", "))
		return errors.Join(errs...)
	default:
		bad("kind %q is not one of %s", d.Kind, strings.Join(DatasetKinds, ", "))
		return errors.Join(errs...)
	}
	used := map[string]bool{}
	for _, f := range need {
		used[f.key] = true
		if f.val == "" {
			bad("kind %s needs %s", d.Kind, f.key)
		}
	}
	for _, f := range allow {
		used[f.key] = true
	}
	for _, f := range all {
		if f.val != "" && !used[f.key] {
			bad("kind %s does not use %s", d.Kind, f.key)
		}
	}
	if d.Lang != "" && !langCode.MatchString(d.Lang) {
		bad("lang %q is not an ISO 639-1 code such as en, tr or ru", d.Lang)
	}
	for _, f := range all {
		if f.key == "lang" || f.val == "" || !used[f.key] {
			continue
		}
		p := d.Path(f.val)
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			bad("%s %s: no such file", f.key, p)
		case err != nil:
			bad("%s %s: %v", f.key, p, err)
		case st.IsDir():
			bad("%s %s is a directory, not a file", f.key, p)
		}
	}
	return errors.Join(errs...)
}

var langCode = regexp.MustCompile(`^[a-z]{2}$`)

// ValidateDatasets validates every entry and that no two share a name
// (their metrics would mix under one prefix).
func ValidateDatasets(ds []Dataset) error {
	var errs []error
	seen := map[string]Dataset{}
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		}
		if d.Name == "" {
			continue
		}
		if prev, dup := seen[d.Name]; dup {
			at := "line " + fmt.Sprint(prev.Line)
			if prev.File != d.File && prev.File != "" {
				at = fmt.Sprintf("%s:%d", prev.File, prev.Line)
			}
			errs = append(errs, baton.Errorf(baton.EINVALID, "%s: the name is already used by the dataset at %s", d.where(), at))
			continue
		}
		seen[d.Name] = d
	}
	return errors.Join(errs...)
}
