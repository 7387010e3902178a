// Package lmfile is the file format of nlu/langid's language models: one
// gzip-compressed file per language holding the conditional
// log-probabilities of its letter n-grams. The generator
// (nlu/langid/internal/langgen) writes it, the detector reads it; the
// format lives here so that both agree and a test can hold them to it.
//
// Layout after the magic "BLM1" and inside the gzip stream, every integer
// an unsigned varint and every string its length then its UTF-8 bytes:
//
//	code, name, source, number of scripts, scripts…, highest order N,
//	then for n = 1…N: count, then count entries sorted by their runes,
//	each the number of leading runes it shares with the entry before,
//	the rest of its runes, and one byte q with log P = -q/Scale.
package lmfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Magic opens every model file; the digit is the format's version.
const Magic = "BLM1"

// Scale is the quantisation of log-probabilities: a stored byte q means
// log P = -q/Scale, a resolution of 1/16 nat, down to P ≈ 1.2e-7. The
// detector sums hundreds of them, so finer steps change nothing it decides.
const Scale = 16

// MaxOrder bounds n: longer contexts cost size and memory for little
// gain on messages.
const MaxOrder = 5

// Model is one language's letter n-gram statistics.
type Model struct {
	Code    string   // ISO 639-1 code, the file's name
	Name    string   // English name of the language
	Source  string   // where the statistics come from, for the NOTICE
	Scripts []string // Unicode scripts its letters are written in, commonest first
	// Grams[n-1] are the n-grams of n lower-case letters.
	Grams [][]Gram
}

// Gram is one n-gram with the natural log of the probability of its last
// letter after the ones before it (of the letter itself for n = 1).
type Gram struct {
	Text string
	LogP float64
}

// Quantize is the byte a log-probability is stored as (1…255).
func Quantize(logP float64) byte {
	q := math.Round(-logP * Scale)
	return byte(min(max(q, 1), 255))
}

// Dequantize is the log-probability a stored byte stands for.
func Dequantize(q byte) float64 { return -float64(q) / Scale }

// Encode writes m; the n-grams of each order are written sorted, so the
// same model always gives the same bytes.
func Encode(w io.Writer, m *Model) error {
	if err := m.validate(); err != nil {
		return err
	}
	var body bytes.Buffer
	putString(&body, m.Code)
	putString(&body, m.Name)
	putString(&body, m.Source)
	putUvarint(&body, uint64(len(m.Scripts)))
	for _, s := range m.Scripts {
		putString(&body, s)
	}
	putUvarint(&body, uint64(len(m.Grams)))
	for _, grams := range m.Grams {
		sorted := slices.Clone(grams)
		slices.SortFunc(sorted, func(a, b Gram) int { return strings.Compare(a.Text, b.Text) })
		putUvarint(&body, uint64(len(sorted)))
		var prev []rune
		for _, g := range sorted {
			rs := []rune(g.Text)
			shared := 0
			for shared < len(prev) && shared < len(rs) && prev[shared] == rs[shared] {
				shared++
			}
			putUvarint(&body, uint64(shared))
			putUvarint(&body, uint64(len(rs)-shared))
			for _, r := range rs[shared:] {
				putUvarint(&body, uint64(r))
			}
			body.WriteByte(Quantize(g.LogP))
			prev = rs
		}
	}
	if _, err := io.WriteString(w, Magic); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(body.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

func (m *Model) validate() error {
	if m.Code == "" {
		return errors.New("language model: no code")
	}
	if len(m.Grams) == 0 || len(m.Grams) > MaxOrder {
		return fmt.Errorf("language model %s: %d orders, want 1 to %d", m.Code, len(m.Grams), MaxOrder)
	}
	if len(m.Scripts) == 0 {
		return fmt.Errorf("language model %s: no script", m.Code)
	}
	for _, s := range m.Scripts {
		if unicode.Scripts[s] == nil {
			return fmt.Errorf("language model %s: %q is not a Unicode script", m.Code, s)
		}
	}
	for i, grams := range m.Grams {
		seen := make(map[string]bool, len(grams))
		for _, g := range grams {
			if utf8.RuneCountInString(g.Text) != i+1 || !utf8.ValidString(g.Text) {
				return fmt.Errorf("language model %s: %q is not a %d-gram", m.Code, g.Text, i+1)
			}
			if seen[g.Text] {
				return fmt.Errorf("language model %s: %q listed twice", m.Code, g.Text)
			}
			seen[g.Text] = true
			if !(g.LogP <= 0) {
				return fmt.Errorf("language model %s: %q has log-probability %v, want ≤ 0", m.Code, g.Text, g.LogP)
			}
		}
	}
	return nil
}

// Decode reads a model written by Encode.
func Decode(r io.Reader) (*Model, error) {
	var m *Model
	h, err := Read(r, func(n int, gram []rune, q byte) {
		m.Grams[n-1] = append(m.Grams[n-1], Gram{Text: string(gram), LogP: Dequantize(q)})
	}, func(h *Model) { m = h })
	if err != nil {
		return nil, err
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// Read streams a model written by Encode: header is called with the
// model's code, name, source and scripts (Grams one empty list per order)
// before fn is called
// with every n-gram, shortest first, in the order they are stored. gram is
// reused between calls. It returns the header.
func Read(r io.Reader, fn func(n int, gram []rune, q byte), header func(*Model)) (*Model, error) {
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != Magic {
		return nil, fmt.Errorf("language model: not a %s file", Magic)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("language model: %w", err)
	}
	d := decoder{r: bufio.NewReader(zr)}
	m := &Model{Code: d.string(), Name: d.string(), Source: d.string()}
	for n := d.count(16); n > 0; n-- {
		m.Scripts = append(m.Scripts, d.string())
	}
	orders := d.count(MaxOrder)
	m.Grams = make([][]Gram, orders)
	if d.err == nil && header != nil {
		header(m)
	}
	rs := make([]rune, 0, MaxOrder)
	for n := 1; n <= orders && d.err == nil; n++ {
		count := d.count(1 << 24)
		rs = rs[:0]
		for range count {
			shared, rest := d.count(n), d.count(n)
			if d.err != nil {
				break
			}
			if shared > len(rs) || shared+rest != n {
				d.err = fmt.Errorf("entry of %d+%d runes in the %d-grams", shared, rest, n)
				break
			}
			rs = rs[:shared]
			for range rest {
				rs = append(rs, rune(d.count(unicode.MaxRune)))
			}
			q := d.byte()
			if d.err == nil && q == 0 {
				d.err = fmt.Errorf("%q has no probability", string(rs))
			}
			if d.err != nil {
				break
			}
			fn(n, rs, q)
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("language model %q: %w", m.Code, d.err)
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("language model %q: data after the last n-gram", m.Code)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("language model %q: %w", m.Code, err)
	}
	return m, nil
}

type decoder struct {
	r   *bufio.Reader
	err error
}

func (d *decoder) count(limit int) int {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.err = truncated(err)
		return 0
	}
	if v > uint64(limit) {
		d.err = fmt.Errorf("value %d over its limit %d", v, limit)
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count(1 << 10)
	if d.err != nil {
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = truncated(err)
		return ""
	}
	return string(b)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	b, err := d.r.ReadByte()
	if err != nil {
		d.err = truncated(err)
	}
	return b
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func putUvarint(b *bytes.Buffer, v uint64) { b.Write(binary.AppendUvarint(nil, v)) }

func putString(b *bytes.Buffer, s string) {
	putUvarint(b, uint64(len(s)))
	b.WriteString(s)
}
