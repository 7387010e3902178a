package lmfile

import (
	"bufio"
	"io"
	"math"
	"slices"
	"sort"
	"unicode"
)

// Fold is how both the generator and the detector lower a letter. Turkish
// İ lowers to a plain i (the standard library makes it i + combining dot,
// which is no letter and would split the word).
func Fold(r rune) rune {
	if r == 'İ' {
		return 'i'
	}
	return unicode.ToLower(r)
}

// Words calls fn with the folded letters of every word of line: runs of
// letters (with their combining marks dropped), as the detector reads a
// message.
func Words(line string, fn func(word []rune)) {
	var w []rune
	for _, r := range line {
		switch {
		case unicode.IsLetter(r):
			w = append(w, Fold(r))
		case unicode.Is(unicode.Mn, r) && len(w) > 0:
			// a combining mark belongs to the letter before it
		default:
			if len(w) > 0 {
				fn(w)
				w = w[:0]
			}
		}
	}
	if len(w) > 0 {
		fn(w)
	}
}

// FromText counts the letter n-grams of a plain-text corpus (one sentence
// or paragraph a line) up to order and returns their conditional
// log-probabilities: log count(ab…yz) / count(ab…y), and log count(a) /
// letters for single letters. N-grams seen fewer than minCount times are
// left out; they say more about the corpus than about the language.
func FromText(code, name, source string, text io.Reader, order, minCount int) (*Model, error) {
	counts := make([]map[string]int, order)
	for i := range counts {
		counts[i] = map[string]int{}
	}
	sc := bufio.NewScanner(text)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		Words(sc.Text(), func(w []rune) {
			for n := 1; n <= order; n++ {
				for i := 0; i+n <= len(w); i++ {
					counts[n-1][string(w[i:i+n])]++
				}
			}
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	total := 0
	for _, c := range counts[0] {
		total += c
	}
	m := &Model{Code: code, Name: name, Source: source, Grams: make([][]Gram, order)}
	for n := 1; n <= order; n++ {
		for g, c := range counts[n-1] {
			if c < minCount {
				continue
			}
			denom := total
			if n > 1 {
				rs := []rune(g)
				denom = counts[n-2][string(rs[:n-1])]
			}
			m.Grams[n-1] = append(m.Grams[n-1], Gram{Text: g, LogP: math.Log(float64(c) / float64(denom))})
		}
	}
	m.Scripts = ScriptsOf(m.Grams[0])
	return m, nil
}

// ScriptsOf names the Unicode scripts that carry at least 2 % of the
// letters in a unigram table, commonest first: the scripts a language is
// written in.
func ScriptsOf(unigrams []Gram) []string {
	mass := map[string]float64{}
	total := 0.0
	for _, g := range unigrams {
		p := math.Exp(g.LogP)
		total += p
		for _, r := range g.Text {
			if s := ScriptOf(r); s != "" {
				mass[s] += p
			}
		}
	}
	var out []string
	for s, p := range mass {
		if p >= 0.02*total {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if mass[out[i]] != mass[out[j]] {
			return mass[out[i]] > mass[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// scripts are the scripts ScriptOf knows, in the order it tries them:
// the commonest first so that most letters are placed at once.
var scripts = []string{
	"Latin", "Cyrillic", "Arabic", "Greek", "Hebrew", "Han", "Hiragana", "Katakana", "Hangul",
	"Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Tamil", "Telugu", "Kannada", "Malayalam",
	"Thai", "Georgian", "Armenian", "Ethiopic", "Khmer", "Lao", "Myanmar", "Sinhala", "Tibetan",
}

// ScriptOf is the Unicode script of a letter ("" for none of the
// scripts a language model may use).
func ScriptOf(r rune) string {
	if r < 0x80 {
		if unicode.IsLetter(r) {
			return "Latin"
		}
		return ""
	}
	if i := slices.IndexFunc(scripts, func(s string) bool { return unicode.Is(unicode.Scripts[s], r) }); i >= 0 {
		return scripts[i]
	}
	return ""
}
