package intent

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton"
)

// Intent is one entry of a bot's intents file.
type Intent struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Examples    []string `yaml:"examples" json:"examples"`
	// Skills and Queue let the triage bot route on the intent; nlu only
	// carries them.
	Queue  string   `yaml:"queue,omitempty" json:"queue,omitempty"`
	Skills []string `yaml:"skills,omitempty" json:"skills,omitempty"`
}

// intentsFile is the YAML layout: a top-level "intents" list.
type intentsFile struct {
	Intents []Intent `yaml:"intents"`
}

// ReadYAML reads a bot's intents file and checks it: every intent needs a
// unique name and at least one example.
func ReadYAML(r io.Reader) ([]Intent, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f intentsFile
	if err := dec.Decode(&f); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "intents file: %w", err)
	}
	if len(f.Intents) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "intents file: no intents (want a top-level \"intents:\" list)")
	}
	seen := map[string]bool{}
	for i, in := range f.Intents {
		name := strings.TrimSpace(in.Name)
		if name == "" {
			return nil, baton.Errorf(baton.EINVALID, "intents file: intents[%d]: name is empty", i)
		}
		if seen[name] {
			return nil, baton.Errorf(baton.EINVALID, "intents file: intents[%d]: name %q is used twice", i, name)
		}
		seen[name] = true
		if len(in.Examples) == 0 {
			return nil, baton.Errorf(baton.EINVALID, "intents file: intents[%d] (%s): no examples", i, name)
		}
		for j, ex := range in.Examples {
			if strings.TrimSpace(ex) == "" {
				return nil, baton.Errorf(baton.EINVALID, "intents file: intents[%d] (%s).examples[%d]: empty", i, name, j)
			}
		}
		f.Intents[i].Name = name
	}
	return f.Intents, nil
}

// ExamplesOf flattens intents into training examples.
func ExamplesOf(intents []Intent) []Example {
	var out []Example
	for _, in := range intents {
		for _, ex := range in.Examples {
			out = append(out, Example{Text: ex, Intent: in.Name})
		}
	}
	return out
}

// ReadCSV reads "text,label" rows with a header line (Banking77's layout).
func ReadCSV(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	header, err := cr.Read()
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "intent CSV: header: %w", err)
	}
	textCol := 0
	if strings.EqualFold(strings.TrimSpace(header[1]), "text") {
		textCol = 1
	}
	var out []Example
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, baton.Errorf(baton.EINVALID, "intent CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		ex := Example{Text: rec[textCol], Intent: strings.TrimSpace(rec[1-textCol])}
		if ex.Intent == "" || strings.TrimSpace(ex.Text) == "" {
			return nil, baton.Errorf(baton.EINVALID, "intent CSV: line %d: empty text or label", line)
		}
		out = append(out, ex)
	}
	if len(out) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "intent CSV: no rows")
	}
	return out, nil
}

// ReadCLINC reads the CLINC150 JSON layout ({"train": [[text, intent],
// ...], "val": ..., "oos_train": ...}) and returns the named splits
// concatenated. Out-of-scope rows carry the label "oos".
func ReadCLINC(r io.Reader, splits ...string) ([]Example, error) {
	var data map[string][][]string
	if err := json.NewDecoder(r).Decode(&data); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "CLINC JSON: %w", err)
	}
	var out []Example
	for _, s := range splits {
		rows, ok := data[s]
		if !ok {
			return nil, baton.Errorf(baton.EINVALID, "CLINC JSON: no split %q", s)
		}
		for i, row := range rows {
			if len(row) != 2 {
				return nil, baton.Errorf(baton.EINVALID, "CLINC JSON: %s[%d]: want [text, intent], got %d fields", s, i, len(row))
			}
			out = append(out, Example{Text: row[0], Intent: row[1]})
		}
	}
	return out, nil
}

// WriteCSV writes examples as "text,category" rows with a header.
func WriteCSV(w io.Writer, examples []Example) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"text", "category"}); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, ex := range examples {
		if err := cw.Write([]string{ex.Text, ex.Intent}); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// Split divides examples into a training and a held-out part with the
// same stratified, seeded rule Train uses: the share of each intent, or
// nothing from intents with fewer than five examples.
func Split(examples []Example, share float64, seed uint64) (train, held []Example) {
	return split(examples, share, seed)
}
