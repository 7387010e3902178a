// Package langid identifies the language of customer messages among a bot's
// configured languages, with lingua-go doing the statistics. It keeps a
// conversation's language steady: a message too short to judge ("ok",
// "thanks", "👍") keeps the language the conversation already settled on.
package langid

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	lingua "github.com/pemistahl/lingua-go"

	"github.com/batonhq/baton"
)

// supported lists the languages a bot may configure; the product's
// lexicons and phrasings cover en, tr and ru fully, the others are
// identified so that a conversation is routed to the right agents.
var supported = map[string]lingua.Language{
	"en": lingua.English, "tr": lingua.Turkish, "ru": lingua.Russian, "de": lingua.German,
	"es": lingua.Spanish, "fr": lingua.French, "pt": lingua.Portuguese, "it": lingua.Italian,
	"ar": lingua.Arabic, "nl": lingua.Dutch, "uk": lingua.Ukrainian, "pl": lingua.Polish,
	"az": lingua.Azerbaijani, "kk": lingua.Kazakh, "fa": lingua.Persian, "he": lingua.Hebrew,
	"el": lingua.Greek, "sv": lingua.Swedish, "da": lingua.Danish, "ro": lingua.Romanian,
}

// Options tune a Detector.
type Options struct {
	// HighAccuracy loads lingua's 1- to 5-gram models. It reads short texts
	// better but costs about 25 MB per language resident; the default low
	// accuracy mode (trigrams only) costs about 3 MB per language and leans
	// on the conversation's history for short texts instead.
	HighAccuracy bool
	// MinLetters is the length under which a message cannot change a
	// settled language unless lingua is sure (default 16).
	MinLetters int
	// MinConfidence is how sure lingua must be to override the settled
	// language on a short message (default 0.9).
	MinConfidence float64
}

// Detector identifies languages; it is safe for concurrent use.
type Detector struct {
	langs    []string
	byLingua map[lingua.Language]string
	det      lingua.LanguageDetector
	opt      Options
	function functionIndex
}

// New builds a detector for the given ISO 639-1 codes; the first is the
// bot's default language.
func New(languages []string, opt Options) (*Detector, error) {
	if len(languages) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "language detector: no languages configured")
	}
	d := &Detector{byLingua: map[lingua.Language]string{}, opt: opt}
	var ls []lingua.Language
	for _, code := range languages {
		c := strings.ToLower(strings.TrimSpace(code))
		l, ok := supported[c]
		if !ok {
			return nil, baton.Errorf(baton.EINVALID, "language detector: language %q is not supported (supported: %s)", code, strings.Join(Supported(), ", "))
		}
		if _, dup := d.byLingua[l]; dup {
			continue
		}
		d.byLingua[l] = c
		d.langs = append(d.langs, c)
		ls = append(ls, l)
	}
	if d.opt.MinLetters == 0 {
		d.opt.MinLetters = 16
	}
	if d.opt.MinConfidence == 0 {
		d.opt.MinConfidence = 0.9
	}
	d.function = newFunctionIndex(d.langs)
	if len(ls) == 1 {
		// lingua needs two languages; a one-language bot needs no guess.
		d.det = nil
		return d, nil
	}
	b := lingua.NewLanguageDetectorBuilder().FromLanguages(ls...)
	if !opt.HighAccuracy {
		b = b.WithLowAccuracyMode()
	}
	d.det = b.Build()
	return d, nil
}

// Supported returns the codes New accepts, sorted.
func Supported() []string {
	out := make([]string, 0, len(supported))
	for c := range supported {
		out = append(out, c)
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

// Detect identifies the language of text. settled is the conversation's
// language so far ("" for a new conversation, which falls back to the
// bot's default language).
func (d *Detector) Detect(text, settled string) Result {
	fallback := d.langs[0]
	if s := strings.ToLower(settled); s != "" {
		for _, l := range d.langs {
			if l == s {
				fallback = s
			}
		}
	}
	if d.det == nil {
		return Result{Language: d.langs[0], Confidence: 1}
	}
	clean := Clean(prefix(text, maxBytes))
	letters := countLetters(clean)
	if letters == 0 {
		return Result{Language: fallback, Kept: true}
	}
	values := d.det.ComputeLanguageConfidenceValues(clean)
	if len(values) == 0 || values[0].Value() == 0 {
		return Result{Language: fallback, Kept: true}
	}
	top := values[0]
	code := d.byLingua[top.Language()]
	conf := top.Value()
	if votes := d.function.vote(clean); len(votes) > 0 {
		best := code
		for l, n := range votes {
			if n > votes[best] || (n == votes[best] && l == fallback) {
				best = l
			}
		}
		if best != code && votes[best] >= 2 && votes[best] >= votes[code]+2 {
			code, conf = best, max(confidenceOf(values, d.byLingua, best), 0.5)
		}
	}
	if letters < d.opt.MinLetters && conf < d.opt.MinConfidence && code != fallback {
		return Result{Language: fallback, Confidence: confidenceOf(values, d.byLingua, fallback), Kept: true}
	}
	return Result{Language: code, Confidence: conf}
}

func confidenceOf(values []lingua.ConfidenceValue, names map[lingua.Language]string, code string) float64 {
	for _, v := range values {
		if names[v.Language()] == code {
			return v.Value()
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

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// maxBytes bounds the text read: a language is clear long before 4 KB and
// lingua's cost grows with the length.
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
