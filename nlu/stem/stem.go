// Package stem reduces words to their stems with the Snowball stemmers
// (github.com/blevesearch/snowballstem, the Snowball project's algorithms
// compiled to Go), chosen by ISO 639-1 language code. Keyword search uses
// it so that "iadesi" finds "iade" and "возврата" finds "возврат" where
// the database has no stemmer of its own for the language.
package stem

import (
	"strings"
	"unicode"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/arabic"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/romanian"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"github.com/blevesearch/snowballstem/turkish"
)

// Stemmer stems one word of its language.
type Stemmer struct {
	lang  string
	stem  func(*snowballstem.Env) bool
	lower func(string) string
}

// For returns the stemmer of an ISO 639-1 language code (a region suffix
// such as "pt-BR" is ignored), and false when Snowball has none for it.
func For(lang string) (Stemmer, bool) {
	l := strings.ToLower(lang)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	s := Stemmer{lang: l, lower: strings.ToLower}
	switch l {
	case "ar":
		s.stem = arabic.Stem
	case "da":
		s.stem = danish.Stem
	case "de":
		s.stem = german.Stem
	case "en":
		s.stem = english.Stem
	case "es":
		s.stem = spanish.Stem
	case "fi":
		s.stem = finnish.Stem
	case "fr":
		s.stem = french.Stem
	case "hu":
		s.stem = hungarian.Stem
	case "it":
		s.stem = italian.Stem
	case "nb", "nn", "no":
		s.stem = norwegian.Stem
	case "nl":
		s.stem = dutch.Stem
	case "pt":
		s.stem = portuguese.Stem
	case "ro":
		s.stem = romanian.Stem
	case "ru":
		s.stem = russian.Stem
	case "sv":
		s.stem = swedish.Stem
	case "tr":
		s.stem = turkish.Stem
		// Turkish capitals lower-case differently: I is ı, İ is i.
		s.lower = func(w string) string { return strings.ToLowerSpecial(unicode.TurkishCase, w) }
	default:
		return Stemmer{}, false
	}
	return s, true
}

// Language is the stemmer's language code.
func (s Stemmer) Language() string { return s.lang }

// Word returns the stem of one word, lower-cased.
func (s Stemmer) Word(w string) string {
	env := snowballstem.NewEnv(s.lower(w))
	s.stem(env)
	return env.Current()
}

// Words splits text into words (runs of letters, digits and combining
// marks; everything else separates) and returns their stems in order.
func (s Stemmer) Words(text string) []string {
	words := Split(text)
	for i, w := range words {
		words[i] = s.Word(w)
	}
	return words
}

// Split splits text into words: runs of letters, digits and combining
// marks.
func Split(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
	})
}
