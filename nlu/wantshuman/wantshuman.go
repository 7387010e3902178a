// Package wantshuman detects a customer's explicit request for a person in
// English, Turkish and Russian: "agent please", "temsilciye bağlayın",
// "позовите оператора". It tolerates case and one-letter typos, and is not
// fooled by negations ("I don't need a human", "оператор не нужен") or by
// questions about the bot ("are you a human?").
package wantshuman

import (
	"strings"

	"github.com/batonhq/baton/nlu/words"
)

// Result says whether the customer asked for a person and which words made
// it so.
type Result struct {
	Wants    bool
	Evidence string // the original text of the matched request
}

// Detector holds the compiled word lists; build it once and share it.
type Detector struct {
	strong, weak, cues, fillers, neg, shortNeg, post, desires, breaks, identity []pattern
	direct, comparisons                                                         []pattern
	identitySuffixes                                                            map[string]bool
}

// New compiles the word lists.
func New() *Detector {
	d := &Detector{
		strong:           compile(strongTerms),
		weak:             compile(weakTerms),
		cues:             compile(cues),
		fillers:          compile(fillers),
		neg:              compile(negators),
		shortNeg:         compile(shortNegators),
		post:             compile(postNegators),
		desires:          compile(desires),
		breaks:           compile(breaks),
		identity:         compile(identity),
		direct:           compile(directNegators),
		comparisons:      compile(comparisons),
		identitySuffixes: map[string]bool{},
	}
	for _, s := range identitySuffixes {
		d.identitySuffixes[s] = true
	}
	return d
}

// word is one element of a pattern.
type word struct {
	runes  []rune
	prefix bool
}

type pattern []word

func compile(list []string) []pattern {
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		var p pattern
		for _, f := range strings.Fields(s) {
			w := word{}
			if strings.HasSuffix(f, "*") {
				w.prefix = true
				f = strings.TrimSuffix(f, "*")
			}
			w.runes = []rune(words.ASCIIFold(words.FoldString(f)))
			p = append(p, w)
		}
		out = append(out, p)
	}
	return out
}

// matchWord compares a token with a pattern word, allowing one typo in words
// of five letters or more.
func matchWord(tok []rune, w word) bool {
	n := len(w.runes)
	if len(tok) == 0 || n == 0 {
		return false
	}
	// A typo rarely hits both of the first two letters; checking them
	// first keeps the edit distance off most pairs.
	plausible := tok[0] == w.runes[0] || (len(tok) > 1 && n > 1 && tok[1] == w.runes[1])
	if w.prefix {
		if len(tok) >= n && string(tok[:n]) == string(w.runes) {
			return true
		}
		if n < 5 || !plausible {
			return false
		}
		for l := n - 1; l <= n+1 && l <= len(tok); l++ {
			if words.Distance(tok[:l], w.runes, 1) <= 1 {
				return true
			}
		}
		return false
	}
	if string(tok) == string(w.runes) {
		return true
	}
	return n >= 5 && plausible && words.Distance(tok, w.runes, 1) <= 1
}

// matchAt returns how many tokens a pattern spans at i (0 = no match).
func matchAt(toks [][]rune, i int, p pattern) int {
	if i+len(p) > len(toks) {
		return 0
	}
	for k, w := range p {
		if !matchWord(toks[i+k], w) {
			return 0
		}
	}
	return len(p)
}

func matchAny(toks [][]rune, i int, ps []pattern) int {
	best := 0
	for _, p := range ps {
		if n := matchAt(toks, i, p); n > best {
			best = n
		}
	}
	return best
}

// Detect reads one message.
func (d *Detector) Detect(text string) Result {
	toks := words.Split(text)
	for _, clause := range words.Clauses(toks) {
		if r := d.clause(text, clause); r.Wants {
			return r
		}
	}
	return Result{}
}

func (d *Detector) clause(text string, clause []words.Token) Result {
	rs := make([][]rune, len(clause))
	for i, t := range clause {
		rs[i] = []rune(words.ASCIIFold(t.Text))
	}
	for i := 0; i < len(rs); i++ {
		strong := true
		n := matchAny(rs, i, d.strong)
		if n == 0 {
			strong = false
			n = matchAny(rs, i, d.weak)
		}
		if n == 0 {
			continue
		}
		end := i + n
		if d.negated(rs, i, end) || d.identityQuestion(rs, i, end) || (end < len(rs) && matchAny(rs, end, d.comparisons) > 0) {
			i = end - 1
			continue
		}
		cue := d.cueBefore(rs, i)
		if cue < 0 && d.cueAfter(rs, end) {
			cue = i
		}
		bare := strong && d.onlyFillers(rs, i, end)
		if cue >= 0 || bare {
			from := i
			if cue >= 0 && cue < i {
				from = cue
			}
			return Result{Wants: true, Evidence: text[clause[from].Start:clause[end-1].End]}
		}
		i = end - 1
	}
	return Result{}
}

// cueBefore returns the index of the nearest request cue before the term in
// the clause, or -1.
func (d *Detector) cueBefore(rs [][]rune, term int) int {
	for j := term - 1; j >= 0 && term-j <= 8; j-- {
		if matchAny(rs, j, d.cues) > 0 {
			return j
		}
	}
	return -1
}

// cueAfter handles verb-final Turkish ("temsilciye bağlayın") and "human
// please".
func (d *Detector) cueAfter(rs [][]rune, end int) bool {
	for j := end; j < len(rs) && j-end < 4; j++ {
		if matchAny(rs, j, d.cues) > 0 {
			return true
		}
	}
	return false
}

func (d *Detector) onlyFillers(rs [][]rune, start, end int) bool {
	for j := range rs {
		if j >= start && j < end {
			continue
		}
		if matchAny(rs, j, d.fillers) == 0 && matchAny(rs, j, d.strong) == 0 {
			return false
		}
	}
	return true
}

// negated reports whether the term at [start, end) is refused.
func (d *Detector) negated(rs [][]rune, start, end int) bool {
	// "no human", "no agents please"
	for j := max(0, start-2); j < start; j++ {
		if matchAny(rs, j, d.shortNeg) > 0 && (j == start-1 || isArticle(rs[j+1])) {
			return true
		}
	}
	// "no need for a human", "без оператора"
	for j := start - 1; j >= 0 && start-j <= 5; j-- {
		if matchAny(rs, j, d.breaks) > 0 {
			break
		}
		if matchAny(rs, j, d.direct) > 0 {
			return true
		}
	}
	// A negator before the term, touching a desire or the term itself,
	// with no break between them.
	for j := start - 1; j >= 0 && start-j <= 7; j-- {
		if matchAny(rs, j, d.breaks) > 0 && j < start-1 {
			break
		}
		n := matchAny(rs, j, d.neg)
		if n == 0 {
			continue
		}
		after := j + n
		if after == start || (after < start && (matchAny(rs, after, d.desires) > 0 || isArticle(rs[after]) && after+1 == start)) {
			return true
		}
		if after+1 < start && isAux(rs[after]) && matchAny(rs, after+1, d.desires) > 0 {
			return true
		}
	}
	// "temsilci istemiyorum", "оператор не нужен", "a human is not needed"
	for j := end; j < len(rs) && j-end < 5; j++ {
		if matchAny(rs, j, d.breaks) > 0 {
			break
		}
		if matchAny(rs, j, d.post) > 0 {
			return true
		}
	}
	return false
}

// identityQuestion reports "are you a human?", "sen insan mısın?", "ты
// человек?" when nothing in the clause asks for anyone.
func (d *Detector) identityQuestion(rs [][]rune, start, end int) bool {
	if end < len(rs) && d.identitySuffixes[string(rs[end])] {
		return d.cueBefore(rs, start) < 0
	}
	for j := max(0, start-4); j < start; j++ {
		if matchAny(rs, j, d.identity) > 0 {
			for k := 0; k < len(rs); k++ {
				if (k < start || k >= end) && matchAny(rs, k, d.cues) > 0 && string(rs[k]) != "talking" {
					return false
				}
			}
			return true
		}
	}
	return false
}

func isArticle(r []rune) bool {
	s := string(r)
	return s == "a" || s == "an" || s == "the" || s == "any" || s == "to"
}

func isAux(r []rune) bool {
	s := string(r)
	return s == "to" || s == "really" || s == "even"
}
