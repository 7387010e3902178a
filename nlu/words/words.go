// Package words splits customer text into folded tokens that keep their
// byte offsets, so that every analyser (wants-human, sentiment, intent)
// sees "İPTAL", "iptal" and "ıptal" alike and can still point back into the
// original text.
package words

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is one word of a text: its folded form and where it came from.
type Token struct {
	Text  string // folded: lower case, Turkish dotless/dotted i and ё merged
	Start int    // byte offsets into the original text
	End   int
	Caps  bool // written in capitals (at least two letters, no lower case)
	Punct string
}

// Fold lowers r the way a customer's intent is spelled, not the way a
// locale would: Turkish İ/I/ı all become i (customers type either on
// foreign keyboards), ё becomes е, and diacritics used interchangeably in
// Turkish chat (ş ç ğ ö ü) keep their letters so that lexicons can list
// both spellings where it matters.
func Fold(r rune) rune {
	switch r {
	case 'İ', 'I', 'ı':
		return 'i'
	case 'Ё', 'ё':
		return 'е'
	case '’', 'ʼ', '`', '´':
		return '\''
	}
	return unicode.ToLower(r)
}

// ASCIIFold maps the Turkish letters with diacritics to their ASCII
// neighbours: a lot of Turkish text is typed without them.
func ASCIIFold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'ş':
			return 's'
		case 'ç':
			return 'c'
		case 'ğ':
			return 'g'
		case 'ö':
			return 'o'
		case 'ü':
			return 'u'
		case 'â':
			return 'a'
		case 'î':
			return 'i'
		case 'û':
			return 'u'
		}
		return r
	}, s)
}

// FoldString folds every rune of s (see Fold) and drops apostrophes, so
// "Don't" and "dont" are one token.
func FoldString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		f := Fold(r)
		if f == '\'' {
			continue
		}
		b.WriteRune(f)
	}
	return b.String()
}

// Split returns the word tokens of s. Letters and digits make words; an
// apostrophe inside a word is dropped ("don't" → "dont"); emoji and
// punctuation are not words, but the punctuation right after a word is kept
// in Punct (sentiment reads "!!!" and clause boundaries from it). Invalid
// UTF-8 bytes are treated as spaces.
func Split(s string) []Token {
	var toks []Token
	var b strings.Builder
	start := -1
	upper, lower := 0, 0
	flush := func(end int) {
		if start < 0 {
			return
		}
		toks = append(toks, Token{Text: b.String(), Start: start, End: end, Caps: upper >= 2 && lower == 0})
		b.Reset()
		start = -1
		upper, lower = 0, 0
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			flush(i)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
			if unicode.IsUpper(r) {
				upper++
			} else if unicode.IsLower(r) {
				lower++
			}
			if !unicode.Is(unicode.Mn, r) {
				b.WriteRune(Fold(r))
			}
		case (r == '\'' || r == '’' || r == 'ʼ') && start >= 0 && i+size < len(s) && isLetterAt(s, i+size):
			// inside a word: skip it
		default:
			flush(i)
			if len(toks) > 0 && !unicode.IsSpace(r) && unicode.IsPunct(r) && toks[len(toks)-1].End+len(toks[len(toks)-1].Punct) == i {
				toks[len(toks)-1].Punct += string(r)
			}
		}
		i += size
	}
	flush(len(s))
	return toks
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// Clauses groups tokens into clauses: a clause ends at a token followed by
// sentence or clause punctuation (. , ; ! ? …) so that "no, I want a human"
// reads as two thoughts.
func Clauses(toks []Token) [][]Token {
	var out [][]Token
	begin := 0
	for i, t := range toks {
		if strings.ContainsAny(t.Punct, ".,;!?…:") {
			out = append(out, toks[begin:i+1])
			begin = i + 1
		}
	}
	if begin < len(toks) {
		out = append(out, toks[begin:])
	}
	return out
}

// Distance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions), capped
// at limit+1 so that long strings cost little.
func Distance(a, b []rune, limit int) int {
	if abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	var buf [3][33]int
	var prev2, prev, cur []int
	if len(b) < 33 {
		prev2, prev, cur = buf[0][:len(b)+1], buf[1][:len(b)+1], buf[2][:len(b)+1]
	} else {
		prev2, prev, cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
