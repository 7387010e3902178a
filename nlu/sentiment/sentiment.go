// Package sentiment scores customer messages from -1 (angry) to 1
// (delighted) with lexicons and rules, offline: negation, intensifiers and
// diminishers, ALL CAPS, exclamation and repeated punctuation, emoji and
// emoticons, and "but" clauses. English, Turkish and Russian have their own
// lexicons (see NOTICE); other languages get the emoji and whatever English
// words they contain. Trend smooths a conversation's scores.
package sentiment

import (
	"bufio"
	"embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/words"
)

//go:embed lexicon/*.tsv
var lexiconFS embed.FS

// Labels follow baton's sentiment labels.
const (
	Negative = baton.SentimentNegative
	Neutral  = baton.SentimentNeutral
	Positive = baton.SentimentPositive
)

// Result is the sentiment of one message.
type Result struct {
	Score float64 `json:"score"` // [-1, 1]
	Label string  `json:"label"`
	// Hits counts the words, emoji and signs that carried sentiment; zero
	// means the analyser had nothing to go on and the neutral label is a
	// default, not a verdict.
	Hits int `json:"hits"`
}

type entry struct {
	valence float64
	verb    bool // a Turkish verb stem: a negative suffix after it flips it
}

type lexicon struct {
	exact      map[string]entry
	prefix     map[string]entry    // stems, by their folded form
	phraseList map[string][]phrase // multi-word terms, by their first word
	maxStem    int
}

type phrase struct {
	words   []string
	prefix  bool // last word is a stem
	valence float64
}

// Analyzer holds the lexicons; build it once and share it.
type Analyzer struct {
	langs     map[string]*lexicon
	emoji     map[string]float64
	emojiKeys []string // longest first, so "🤦‍♂️" wins over "🤦"
	opt       Options
}

// Options tune the labels.
type Options struct {
	// NegativeBelow and PositiveAbove bound the neutral band (defaults
	// -0.05 and 0.05, the usual band of VADER-style compound scores).
	NegativeBelow, PositiveAbove float64
}

// New loads the embedded lexicons.
func New(opt Options) (*Analyzer, error) {
	if opt.NegativeBelow == 0 {
		opt.NegativeBelow = -0.05
	}
	if opt.PositiveAbove == 0 {
		opt.PositiveAbove = 0.05
	}
	a := &Analyzer{langs: map[string]*lexicon{}, emoji: map[string]float64{}, opt: opt}
	for _, lang := range []string{"en", "tr", "ru"} {
		lx, err := loadLexicon("lexicon/" + lang + ".tsv")
		if err != nil {
			return nil, err
		}
		a.langs[lang] = lx
	}
	if err := a.loadEmoji(); err != nil {
		return nil, err
	}
	return a, nil
}

func readTSV(name string, fn func(line int, fields []string) error) error {
	f, err := lexiconFS.Open(name)
	if err != nil {
		return baton.Errorf(baton.EINTERNAL, "sentiment lexicon %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, strings.Split(line, "\t")); err != nil {
			return baton.Errorf(baton.EINTERNAL, "sentiment lexicon %s line %d: %w", name, n, err)
		}
	}
	return sc.Err()
}

func loadLexicon(name string) (*lexicon, error) {
	lx := &lexicon{exact: map[string]entry{}, prefix: map[string]entry{}, phraseList: map[string][]phrase{}}
	err := readTSV(name, func(_ int, f []string) error {
		if len(f) < 2 {
			return fmt.Errorf("want term<TAB>valence")
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || v < -3 || v > 3 {
			return fmt.Errorf("valence %q is not a number in [-3, 3]", f[1])
		}
		e := entry{valence: v, verb: len(f) > 2 && f[2] == "v"}
		term := words.ASCIIFold(words.FoldString(f[0]))
		isPrefix := strings.HasSuffix(term, "*")
		term = strings.TrimSuffix(term, "*")
		if ws := strings.Fields(term); len(ws) > 1 {
			lx.phraseList[ws[0]] = append(lx.phraseList[ws[0]], phrase{words: ws, prefix: isPrefix, valence: v})
			return nil
		}
		if isPrefix {
			lx.prefix[term] = e
			lx.maxStem = max(lx.maxStem, len(term))
		} else {
			lx.exact[term] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k := range lx.phraseList {
		ps := lx.phraseList[k]
		sort.Slice(ps, func(i, j int) bool { return len(ps[i].words) > len(ps[j].words) })
	}
	return lx, nil
}

func (a *Analyzer) loadEmoji() error {
	err := readTSV("lexicon/emoji.tsv", func(_ int, f []string) error {
		if len(f) < 2 {
			return fmt.Errorf("want symbol<TAB>valence")
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return fmt.Errorf("valence %q: %w", f[1], err)
		}
		a.emoji[f[0]] = v
		return nil
	})
	if err != nil {
		return err
	}
	for k := range a.emoji {
		a.emojiKeys = append(a.emojiKeys, k)
	}
	sort.Slice(a.emojiKeys, func(i, j int) bool {
		if len(a.emojiKeys[i]) != len(a.emojiKeys[j]) {
			return len(a.emojiKeys[i]) > len(a.emojiKeys[j])
		}
		return a.emojiKeys[i] < a.emojiKeys[j]
	})
	return nil
}

// lookup returns the entry for a token (exact first, then the longest
// stem) and the length of the stem that matched.
func (lx *lexicon) lookup(tok string) (entry, int, bool) {
	if e, ok := lx.exact[tok]; ok {
		return e, len(tok), true
	}
	for n := min(len(tok), lx.maxStem); n >= 2; n-- {
		if e, ok := lx.prefix[tok[:n]]; ok {
			return e, n, true
		}
	}
	return entry{}, 0, false
}

// Label maps a score to a label with the analyser's neutral band.
func (a *Analyzer) Label(score float64) string {
	switch {
	case score <= a.opt.NegativeBelow:
		return Negative
	case score >= a.opt.PositiveAbove:
		return Positive
	}
	return Neutral
}

// Trend is the exponentially weighted mean of a conversation's scores,
// oldest first; alpha is the weight of the newest (0 < alpha ≤ 1, default
// 0.5 when out of range). It is what escalation triggers read: one angry
// line after many calm ones moves it, a run of them moves it far.
func Trend(scores []float64, alpha float64) float64 {
	if alpha <= 0 || alpha > 1 {
		alpha = 0.5
	}
	if len(scores) == 0 {
		return 0
	}
	t := scores[0]
	for _, s := range scores[1:] {
		t = alpha*s + (1-alpha)*t
	}
	return t
}

// normalize squashes a raw sum into (-1, 1) the way VADER's compound score
// does: about ±0.5 for one clear word, near ±1 for several.
func normalize(x float64) float64 {
	return x / math.Sqrt(x*x+15)
}
