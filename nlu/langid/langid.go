// Package langid identifies the language of customer messages among a bot's
// configured languages. The statistics are the project's own letter n-gram
// models (models/*.lm, one per language, written by internal/langgen): the
// message's script narrows the candidates (Cyrillic, Arabic, Greek, Hebrew …
// settle it at once when only one configured language uses it), then each
// remaining language scores every letter given up to three letters before
// it. It keeps a conversation's language steady: a message too short to
// judge ("ok", "thanks", "👍") keeps the language the conversation already
// settled on.
package langid

import (
	"io/fs"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/langid/internal/lmfile"
)

// Options tune a Detector.
type Options struct {
	// MinLetters is the length under which a message cannot change a
	// settled language unless the detector is sure (default 16).
	MinLetters int
	// MinConfidence is how sure the detector must be to override the
	// settled language on a short message (default 0.9).
	MinConfidence float64
}

// Detector identifies languages; it is safe for concurrent use.
type Detector struct {
	langs    []string
	table    *table
	opt      Options
	function functionIndex
}

// New builds a detector for the given ISO 639-1 codes; the first is the
// bot's default language.
func New(languages []string, opt Options) (*Detector, error) {
	if len(languages) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "language detector: no languages configured")
	}
	d := &Detector{opt: opt}
	for _, code := range languages {
		c := strings.ToLower(strings.TrimSpace(code))
		if len(c) != 2 || strings.ContainsFunc(c, func(r rune) bool { return r < 'a' || r > 'z' }) {
			return nil, baton.Errorf(baton.EINVALID, "language detector: %q is not an ISO 639-1 code (supported: %s)", code, strings.Join(Supported(), ", "))
		}
		if !slices.Contains(d.langs, c) {
			d.langs = append(d.langs, c)
		}
	}
	t, err := loadTable(d.langs)
	if err != nil {
		return nil, err
	}
	d.table = t
	if d.opt.MinLetters == 0 {
		d.opt.MinLetters = 16
	}
	if d.opt.MinConfidence == 0 {
		d.opt.MinConfidence = 0.9
	}
	d.function = newFunctionIndex(d.langs)
	return d, nil
}

// Supported returns the codes New accepts, sorted: the languages whose
// model this build embeds.
func Supported() []string {
	entries, err := fs.ReadDir(models, "models")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if code, ok := strings.CutSuffix(e.Name(), ".lm"); ok {
			out = append(out, code)
		}
	}
	sort.Strings(out)
	return out
}

// Languages returns the configured codes, default first.
func (d *Detector) Languages() []string { return append([]string(nil), d.langs...) }

// Result is one identification.
type Result struct {
	Language   string
	Confidence float64
	// Kept is true when the message was too short or too unclear to judge
	// and the settled (or default) language was kept.
	Kept bool
}

// temperature divides the languages' log-likelihoods before they are
// turned into confidences: letter n-grams are not independent, so the raw
// sums are far surer than the models' hit rate on short texts warrants.
const temperature = 2

// Detect identifies the language of text. settled is the conversation's
// language so far ("" for a new conversation, which falls back to the
// bot's default language).
func (d *Detector) Detect(text, settled string) Result {
	fallback := d.langs[0]
	if s := strings.ToLower(settled); s != "" && slices.Contains(d.langs, s) {
		fallback = s
	}
	if len(d.langs) == 1 {
		return Result{Language: d.langs[0], Confidence: 1}
	}
	clean := Clean(prefix(text, maxBytes))
	var wordList [][]rune
	perScript := map[string]int{}
	lmfile.Words(clean, func(w []rune) {
		wordList = append(wordList, append([]rune(nil), w...))
		for _, r := range w {
			if s := lmfile.ScriptOf(r); s != "" {
				perScript[s]++
			}
		}
	})
	letters := 0
	for _, n := range perScript {
		letters += n
	}
	script := mainScript(perScript)
	if letters == 0 {
		return Result{Language: fallback, Kept: true}
	}
	// Only the languages written in the message's main script compete;
	// when none of the bot's languages is, the message says nothing the
	// bot can use.
	want := make([]bool, len(d.langs))
	candidates := 0
	for l, scripts := range d.table.scripts {
		if slices.Contains(scripts, script) {
			want[l] = true
			candidates++
		}
	}
	if candidates == 0 {
		return Result{Language: fallback, Kept: true}
	}
	values := make([]float64, len(d.langs))
	if candidates > 1 {
		for _, w := range wordList {
			if lmfile.ScriptOf(w[0]) == script {
				d.table.score(w, want, values)
			}
		}
	}
	softmax(values, want)
	code, conf := d.top(values)
	if votes := d.function.vote(clean); len(votes) > 0 {
		// in the bot's order, so that a tie goes to the same language
		// every time: the settled one, else the one configured first
		best := code
		for i, l := range d.langs {
			n := votes[l]
			if want[i] && (n > votes[best] || (n == votes[best] && l == fallback)) {
				best = l
			}
		}
		if best != code && votes[best] >= 2 && votes[best] >= votes[code]+2 {
			code, conf = best, max(d.confidenceOf(values, best), 0.5)
		}
	}
	if letters < d.opt.MinLetters && conf < d.opt.MinConfidence {
		return Result{Language: fallback, Confidence: d.confidenceOf(values, fallback), Kept: true}
	}
	return Result{Language: code, Confidence: conf}
}

// mainScript is the script most of the letters are written in, with Latin
// letters counting half against any other script: names, brands, handles
// and product codes are written in Latin inside messages of every script,
// while the reverse is rare. Ties go to the non-Latin script, then by name.
func mainScript(perScript map[string]int) string {
	best, bestWeight := "", 0
	for s, n := range perScript {
		w := 2 * n
		if s == "Latin" && len(perScript) > 1 {
			w = n
		}
		if w > bestWeight || (w == bestWeight && (best == "Latin" || (s != "Latin" && s < best))) {
			best, bestWeight = s, w
		}
	}
	return best
}

// softmax turns the candidates' log-likelihoods into confidences in
// place; the other languages get 0.
func softmax(v []float64, want []bool) {
	top := math.Inf(-1)
	for l, x := range v {
		if want[l] {
			top = max(top, x)
		}
	}
	sum := 0.0
	for l, x := range v {
		if want[l] {
			v[l] = math.Exp((x - top) / temperature)
			sum += v[l]
		} else {
			v[l] = 0
		}
	}
	for l := range v {
		v[l] /= sum
	}
}

// top is the likeliest language; ties go to the one listed first.
func (d *Detector) top(values []float64) (string, float64) {
	best := 0
	for l, v := range values {
		if v > values[best] {
			best = l
		}
	}
	return d.langs[best], values[best]
}

func (d *Detector) confidenceOf(values []float64, code string) float64 {
	for l, c := range d.langs {
		if c == code {
			return values[l]
		}
	}
	return 0
}

// junk is what says nothing about a language and misleads n-gram models:
// links, handles, e-mail addresses, numbers, the hash of a hashtag.
var junk = regexp.MustCompile(`(?i)https?://\S+|www\.\S+|\S+@\S+|@[\p{L}\p{N}_]+|#|\bRT\b|\p{N}+`)

// Clean removes links, handles, numbers and invalid bytes before
// identification.
func Clean(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	return junk.ReplaceAllString(text, " ")
}

// maxBytes bounds the text read: a language is clear long before 4 KB and
// the cost grows with the length.
const maxBytes = 4096

// prefix cuts s to at most n bytes on a rune boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
