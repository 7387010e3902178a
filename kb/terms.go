package kb

import (
	"github.com/batonhq/baton/kb/hashembed"
)

// terms are the content words of a text: lower-cased, function words
// dropped. They decide which sentences of a passage answer a question and
// how much of the question a passage covers.
type terms struct {
	stop hashembed.StopWords
}

func newTerms() terms { return terms{stop: hashembed.NewStopWords()} }

func (t terms) of(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range hashembed.Tokens(text) {
		if t.stop.Has(w) || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// sameWord matches a word with its inflections by a shared prefix of up to
// five letters ("refund"/"refunds", "iade"/"iadesi", "заказ"/"заказа"):
// crude, but language-agnostic and predictable.
func sameWord(a, b string) bool {
	if a == b {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) < 4 || len(rb) < 4 {
		return false
	}
	p := min(5, len(ra), len(rb))
	return string(ra[:p]) == string(rb[:p])
}

// matched reports which of the query words occur in words.
func matched(query, words []string) []bool {
	out := make([]bool, len(query))
	for i, q := range query {
		for _, w := range words {
			if sameWord(q, w) {
				out[i] = true
				break
			}
		}
	}
	return out
}

// coverage is the share of the query's content words found in words,
// weighted by length: long words carry more of a question's meaning than
// short ones.
func coverage(query, words []string) float64 {
	if len(query) == 0 {
		return 0
	}
	var got, all float64
	for i, ok := range matched(query, words) {
		w := float64(min(len([]rune(query[i])), 8))
		all += w
		if ok {
			got += w
		}
	}
	return got / all
}
