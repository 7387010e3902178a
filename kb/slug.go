package kb

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// slugMaxLen bounds a slug made from a title: long enough to tell
// articles apart, short enough for a file name and a URL.
const slugMaxLen = 60

// latinFold are the Latin letters that decomposition does not take to
// ASCII.
var latinFold = strings.NewReplacer("ı", "i", "ß", "ss", "æ", "ae", "ø", "o", "œ", "oe", "đ", "d", "ł", "l", "þ", "th", "ð", "d")

// Slugify makes a slug from a title by the KB's slug rules (lower-case
// a-z, 0-9 and single hyphens): accents dropped ("Müşteri" → "musteri"),
// every other run of characters a hyphen, cut at a word boundary within
// 60 characters. It returns "" when the title has no Latin letter or
// digit (a title in another script): the caller picks a slug then.
func Slugify(title string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, latinFold.Replace(strings.ToLower(title)))
	if err != nil {
		s = strings.ToLower(title)
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') })
	var b strings.Builder
	for _, w := range words {
		switch {
		case b.Len() == 0 && len(w) > slugMaxLen:
			return w[:slugMaxLen]
		case b.Len() > 0 && b.Len()+1+len(w) > slugMaxLen:
			return b.String()
		case b.Len() > 0:
			b.WriteByte('-')
		}
		b.WriteString(w)
	}
	return b.String()
}
