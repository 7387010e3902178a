package sentiment

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton/nlu/words"
)

// maxBytes bounds the text scored: sentiment saturates long before, and
// the cost stays flat for a 100 KB paste.
const maxBytes = 16 << 10

var (
	urlRE = regexp.MustCompile(`(?i)https?://\S+|www\.\S+|@[\p{L}\p{N}_]+`)

	negators = set("not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
		"cant", "cannot", "couldnt", "wont", "wouldnt", "shouldnt", "havent", "hasnt", "hadnt", "aint",
		"nothing", "nobody", "neither", "nor", "without", "hardly", "barely",
		"не", "ни", "нет", "без", "нету", "никогда", "никак")
	// Turkish negates after the word: "güzel değil", "sorun yok".
	postNegators = set("degil", "degildi", "degildir", "yok", "yoktu", "olmaz", "olmadi", "olmamis",
		"etmem", "etmiyorum", "etmedim", "etmeyin", "etmez", "edemem", "edemiyorum", "edemedim")
	boosters = map[string]float64{
		"very": 1.3, "really": 1.3, "so": 1.25, "extremely": 1.5, "too": 1.2, "absolutely": 1.4,
		"totally": 1.3, "super": 1.3, "incredibly": 1.5, "completely": 1.4, "most": 1.2, "such": 1.2,
		"utterly": 1.5, "truly": 1.3, "seriously": 1.3, "highly": 1.3, "beyond": 1.3,
		"cok": 1.3, "gercekten": 1.3, "asiri": 1.5, "son": 1.1, "derece": 1.3, "fazla": 1.2, "en": 1.2,
		"tam": 1.2, "resmen": 1.3, "kesinlikle": 1.4, "hic": 1.3, "gayet": 1.2, "bayagi": 1.2,
		"очень": 1.3, "совсем": 1.3, "крайне": 1.5, "слишком": 1.2, "самый": 1.2, "самая": 1.2,
		"абсолютно": 1.4, "реально": 1.3, "жутко": 1.4, "полностью": 1.3, "просто": 1.1, "вообще": 1.3,
		"slightly": 0.6, "somewhat": 0.7, "bit": 0.7, "little": 0.7, "kinda": 0.7, "fairly": 0.8,
		"biraz": 0.7, "az": 0.7, "nispeten": 0.8, "немного": 0.7, "слегка": 0.6, "чуть": 0.6,
	}
	buts = set("but", "however", "although", "though", "yet", "ama", "fakat", "ancak", "lakin", "но", "однако", "зато")
)

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// Analyze scores text written in lang (ISO 639-1; "" or an unknown code
// uses the English lexicon and emoji only).
func (a *Analyzer) Analyze(text, lang string) Result {
	if len(text) > maxBytes {
		n := maxBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	text = strings.ToValidUTF8(text, " ")
	text = urlRE.ReplaceAllString(text, " ")
	var sum float64
	hits := 0

	// Emoji and emoticons, longest first, each occurrence once.
	rest := text
	for _, k := range a.emojiKeys {
		if n := strings.Count(rest, k); n > 0 {
			sum += a.emoji[k] * float64(min(n, 3))
			hits += n
			rest = strings.ReplaceAll(rest, k, " ")
		}
	}

	toks := words.Split(rest)
	lexes := a.lexiconsFor(lang)
	folded := make([]string, len(toks))
	for i, t := range toks {
		folded[i] = words.ASCIIFold(t.Text)
	}
	lastBut := -1
	for i, w := range folded {
		if buts[w] {
			lastBut = i
		}
	}
	caps := 0
	for _, t := range toks {
		if t.Caps {
			caps++
		}
	}
	shouting := caps >= 3 && caps*10 >= len(toks)*7

	matched := make([]bool, len(folded))
	for i := 0; i < len(folded); i++ {
		v, span, verbNeg, ok := a.match(lexes, folded, i)
		if !ok {
			continue
		}
		for k := i; k < i+span; k++ {
			matched[k] = true
		}
		hits++
		if verbNeg {
			v = -v * 0.8
		}
		// intensifiers and diminishers right before
		for j := max(0, i-2); j < i; j++ {
			if b, ok := boosters[folded[j]]; ok {
				v *= b
			}
		}
		if negatedBefore(folded, i) || negatedAfter(folded, i+span-1) {
			v = -v * 0.74
		}
		if toks[i].Caps && !shouting {
			v *= 1.4
		}
		switch {
		case lastBut >= 0 && i < lastBut:
			v *= 0.5
		case lastBut >= 0 && i > lastBut:
			v *= 1.5
		}
		sum += v
		i += span - 1
	}
	// A negated action with no sentiment word of its own is a complaint in
	// support: "it didn't arrive", "I can't log in", "не приходит".
	for j, w := range folded {
		if !negators[w] || j+1 >= len(folded) || w == "no" || w == "nor" {
			continue
		}
		touched := false
		for k := j + 1; k < len(folded) && k <= j+3; k++ {
			if matched[k] {
				touched = true
			}
		}
		if !touched {
			sum -= 0.6
			hits++
		}
	}
	if shouting {
		hits++
		if sum <= 0 {
			sum = sum*1.3 - 0.8
		} else {
			sum *= 1.3
		}
	}
	excl := min(strings.Count(text, "!"), 4)
	if excl > 0 && sum != 0 {
		if sum > 0 {
			sum += 0.25 * float64(excl)
		} else {
			sum -= 0.25 * float64(excl)
		}
	}
	if (strings.Contains(text, "??") || strings.Contains(text, "?!") || strings.Contains(text, "!?")) && sum <= 0 {
		// Repeated question marks in support are impatience.
		sum -= 0.6
		hits++
	}
	score := normalize(sum)
	return Result{Score: score, Label: a.Label(score), Hits: hits}
}

func (a *Analyzer) lexiconsFor(lang string) []*lexicon {
	switch lang {
	case "tr":
		return []*lexicon{a.langs["tr"], a.langs["en"]}
	case "ru":
		return []*lexicon{a.langs["ru"], a.langs["en"]}
	case "en":
		return []*lexicon{a.langs["en"], a.langs["ru"]}
	}
	// Turkish stems would read too much into other Latin-script languages.
	return []*lexicon{a.langs["en"], a.langs["ru"]}
}

// match looks the token at i up, phrases first, and reports the valence,
// how many tokens it spans and whether a Turkish negative verb suffix
// flips it.
func (a *Analyzer) match(lexes []*lexicon, toks []string, i int) (float64, int, bool, bool) {
	for _, lx := range lexes {
		for _, p := range lx.phraseList[toks[i]] {
			if i+len(p.words) > len(toks) {
				continue
			}
			ok := true
			for k, w := range p.words[1:] {
				t := toks[i+1+k]
				last := k == len(p.words)-2
				if !(t == w || (last && p.prefix && strings.HasPrefix(t, w))) {
					ok = false
					break
				}
			}
			if ok {
				return p.valence, len(p.words), false, true
			}
		}
		if e, n, ok := lx.lookup(toks[i]); ok {
			return e.valence, 1, e.verb && turkishNegativeSuffix(toks[i][n:]), true
		}
	}
	return 0, 0, false, false
}

// turkishNegativeSuffix reports whether what follows a verb stem is the
// negative -ma/-me (beğen-me-dim, sev-mi-yorum) rather than the infinitive
// (-mak/-mek) or the evidential past (-miş).
func turkishNegativeSuffix(rest string) bool {
	switch {
	case strings.HasPrefix(rest, "mak"), strings.HasPrefix(rest, "mek"):
		return false
	case strings.HasPrefix(rest, "ma"), strings.HasPrefix(rest, "me"):
		return true
	case strings.HasPrefix(rest, "miyor"), strings.HasPrefix(rest, "muyor"):
		return true
	}
	return false
}

func negatedBefore(toks []string, i int) bool {
	for j := max(0, i-3); j < i; j++ {
		if negators[toks[j]] {
			// "no problem", "not bad" flip; a but in between ends the reach
			for k := j + 1; k < i; k++ {
				if buts[toks[k]] {
					return false
				}
			}
			return true
		}
	}
	return false
}

func negatedAfter(toks []string, i int) bool {
	for j := i + 1; j < len(toks) && j <= i+2; j++ {
		if postNegators[toks[j]] {
			return true
		}
		if buts[toks[j]] {
			return false
		}
	}
	return false
}
