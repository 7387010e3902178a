package intent

import (
	"math"
	"sort"
	"unicode/utf8"

	"github.com/batonhq/baton/nlu/words"
)

// Features are hashed, so the model never stores n-gram strings and a
// message is featurised without allocating one string per n-gram. The
// groups are hashed with different seeds so that the word "card" and the
// character trigram "card" stay apart.
const (
	seedWord    = 0x9e3779b97f4a7c15
	seedBigram  = 0xc2b2ae3d27d4eb4f
	seedChar    = 0x165667b19e3779f9
	fnvPrime    = 1099511628211
	maxTokens   = 256 // longer messages are judged on their start: intents are stated early
	minCharGram = 2
	maxCharGram = 5
)

// feature is one hashed n-gram with its weight.
type feature struct {
	hash  uint64
	value float32
}

func hashBytes(seed uint64, b []byte) uint64 {
	h := seed
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// extract returns the raw counts of word, word-bigram and character n-gram
// features of text, grouped (group 0 words, 1 characters).
func extract(text string) (wordsF, chars map[uint64]float32) {
	toks := words.Split(text)
	if len(toks) > maxTokens {
		toks = toks[:maxTokens]
	}
	wordsF = make(map[uint64]float32, 2*len(toks))
	chars = make(map[uint64]float32, 16*len(toks))
	prev := []byte("^")
	buf := make([]byte, 0, 64)
	for _, t := range toks {
		w := []byte(words.ASCIIFold(t.Text))
		wordsF[hashBytes(seedWord, w)]++
		buf = append(buf[:0], prev...)
		buf = append(buf, ' ')
		buf = append(buf, w...)
		wordsF[hashBytes(seedBigram, buf)]++
		prev = w
		// character n-grams of " word ", on rune boundaries
		padded := make([]byte, 0, len(w)+2)
		padded = append(padded, ' ')
		padded = append(padded, w...)
		padded = append(padded, ' ')
		starts := runeStarts(padded)
		for i := range starts {
			for n := minCharGram; n <= maxCharGram && i+n <= len(starts); n++ {
				end := len(padded)
				if i+n < len(starts) {
					end = starts[i+n]
				}
				chars[hashBytes(seedChar+uint64(n), padded[starts[i]:end])]++
			}
		}
	}
	if len(toks) > 0 {
		buf = append(buf[:0], prev...)
		buf = append(buf, []byte(" $")...)
		wordsF[hashBytes(seedBigram, buf)]++
	}
	return wordsF, chars
}

func runeStarts(b []byte) []int {
	out := make([]int, 0, len(b))
	for i := 0; i < len(b); {
		out = append(out, i)
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return out
}

// vectorizer maps hashed features to columns and weighs them by sublinear
// term frequency times inverse document frequency; each group is
// L2-normalised on its own so that the many character n-grams do not drown
// the words.
type vectorizer struct {
	Columns map[uint64]int32
	IDF     []float32
}

func (v *vectorizer) vector(text string) []feature {
	wf, cf := extract(text)
	out := make([]feature, 0, len(wf)+len(cf))
	for gi, group := range []map[uint64]float32{wf, cf} {
		start := len(out)
		var norm float64
		for h, c := range group {
			col, ok := v.Columns[h]
			if !ok {
				continue
			}
			x := (1 + float32(math.Log(float64(c)))) * v.IDF[col]
			out = append(out, feature{hash: uint64(col), value: x})
			norm += float64(x) * float64(x)
		}
		if norm > 0 {
			gw := groupWeight[gi]
			inv := float32(gw / math.Sqrt(norm))
			for i := start; i < len(out); i++ {
				out[i].value *= inv
			}
		}
	}
	// Map iteration order is random; sorting keeps float sums, and so the
	// trained model, identical from run to run.
	sort.Slice(out, func(i, j int) bool { return out[i].hash < out[j].hash })
	return out
}

// groupWeight balances words against character n-grams (squares sum to 1).
// Character n-grams carry most of the weight: they survive typos, Turkish
// and Russian suffixes, and give steadier confidences for out-of-scope text.
var groupWeight = [2]float64{math.Sqrt(0.2), math.Sqrt(0.8)}

// fitVectorizer keeps the features seen in at least minDF training texts.
func fitVectorizer(texts []string, minDF int) *vectorizer {
	df := map[uint64]int{}
	for _, t := range texts {
		wf, cf := extract(t)
		for h := range wf {
			df[h]++
		}
		for h := range cf {
			df[h]++
		}
	}
	keys := make([]uint64, 0, len(df))
	for h, n := range df {
		if n >= minDF {
			keys = append(keys, h)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	v := &vectorizer{Columns: make(map[uint64]int32, len(keys)), IDF: make([]float32, len(keys))}
	n := float64(len(texts))
	for i, h := range keys {
		v.Columns[h] = int32(i)
		v.IDF[i] = float32(math.Log((1+n)/(1+float64(df[h]))) + 1)
	}
	return v
}
