// Package hashembed is an offline text embedder: hashed word and character
// n-grams, sublinear TF weighting, signed feature hashing into a fixed
// dimension, L2-normalised. It needs no model file and no network, is
// deterministic across runs and machines, and handles any language written
// with word separators (character n-grams carry the morphology of Turkish
// and Russian that whole words miss).
package hashembed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/batonhq/baton"
)

// Options tune the features. The zero value is the default model.
type Options struct {
	Dim int // 0 = 512
}

// Embedder implements baton.Embedder. It holds no mutable state and is safe
// for concurrent use.
type Embedder struct {
	dim  int
	stop StopWords // read-only after New
}

// New returns an embedder of the given dimension.
func New(opt Options) (*Embedder, error) {
	if opt.Dim == 0 {
		opt.Dim = 512
	}
	if opt.Dim < 16 || opt.Dim > 1<<16 {
		return nil, baton.Errorf(baton.EINVALID, "hash embedder: dimension %d out of range [16, 65536]", opt.Dim)
	}
	return &Embedder{dim: opt.Dim, stop: NewStopWords()}, nil
}

// Version changes whenever the features change, so that stored vectors of
// an older scheme are never compared with new ones.
const Version = "v1"

// Model names the scheme and dimension, e.g. "hash-ngram-v1-512".
func (e *Embedder) Model() string { return fmt.Sprintf("hash-ngram-%s-%d", Version, e.dim) }

// Dim is the vector length.
func (e *Embedder) Dim() int { return e.dim }

// Embed returns one unit vector per text (the zero vector for a text with no
// words).
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = e.Vector(t)
	}
	return out, nil
}

// Feature weights: whole words carry the meaning, word pairs a little word
// order, character n-grams the variants (plurals, cases, typos). Function
// words are kept (a question can hinge on "not") but weigh little.
const (
	wWord     = 1.0
	wStopWord = 0.15
	wBigram   = 0.5
	wChar     = 0.35
	minGram   = 3
	maxGram   = 5
)

// Vector embeds one text.
func (e *Embedder) Vector(text string) []float32 {
	words := Tokens(text)
	tf := make(map[string]float64, len(words)*8)
	for i, w := range words {
		stop := e.stop.Has(w)
		if stop {
			tf["w:"+w] += wStopWord
		} else {
			tf["w:"+w] += wWord
		}
		if i > 0 && !(stop && e.stop.Has(words[i-1])) {
			tf["b:"+words[i-1]+" "+w] += wBigram
		}
		if stop {
			continue
		}
		rs := []rune("<" + w + ">")
		var grams int
		for n := minGram; n <= maxGram; n++ {
			if len(rs) >= n {
				grams += len(rs) - n + 1
			}
		}
		// Spread a fixed weight over the word's n-grams so that long words
		// do not outweigh short ones.
		gw := wChar * 4 / math.Max(4, float64(grams))
		for n := minGram; n <= maxGram; n++ {
			for j := 0; j+n <= len(rs); j++ {
				tf["c:"+string(rs[j:j+n])] += gw
			}
		}
	}
	v := make([]float64, e.dim)
	for f, w := range tf {
		h := fnv.New64a()
		h.Write([]byte(f))
		x := h.Sum64()
		idx := int(x % uint64(e.dim))
		// Sublinear TF: repeating a word ten times is not ten times the
		// evidence.
		val := 1 + math.Log(1+w)
		if x>>63 == 1 {
			val = -val
		}
		v[idx] += val
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, e.dim)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// Tokens lower-cases text and splits it into words of letters and digits.
// Turkish dotted and dotless i fold to i so that "İade" and "iade" match.
func Tokens(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r == 'İ' || r == 'ı' || r == 'I':
			b.WriteRune('i')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r):
			// combining marks belong to the letter before them
		case r == '\'' || r == '’':
			// "don't" → "dont"; Turkish suffixes after an apostrophe
			// ("Ankara'ya") stay on the word.
		default:
			flush()
		}
	}
	flush()
	return out
}

// stopWordList holds frequent function words of the languages the example
// bots speak; they still count, at a small weight.
const stopWordList = `
a an the and or but if of to in on at by for with from as is are was were be been being am do does did
i me my you your we our us it its he she they them their this that these those there here what which who
whom whose when where why how can could would should will shall may might must not no yes so than too very
just about into over under again then once all any both each few more most other some such only own same
have has had having get got im ive dont doesnt didnt cant wont isnt arent
ve ile bir bu şu o ne mi mı mu mü da de ki için gibi çok daha ben sen biz siz onlar var yok ama veya
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от
меня еще нет о из ему теперь когда даже ну ли если уже или ни быть был него до вас нибудь опять уж вам
ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтобы без
будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом
один почти мой тем чтоб нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть
после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою
этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между`

// StopWords is a set of lower-case function words (English, Turkish,
// Russian).
type StopWords map[string]bool

// NewStopWords returns a fresh set.
func NewStopWords() StopWords {
	m := StopWords{}
	for _, w := range strings.Fields(stopWordList) {
		m[w] = true
	}
	return m
}

// Has reports whether w (lower-case) is a function word.
func (s StopWords) Has(w string) bool { return s[w] }
