package langid

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/langid/internal/lmfile"
)

// models are the languages this build identifies, one file per language
// written by nlu/langid/internal/langgen; a language is added by adding
// its file (see nlu/README.md).
//
//go:embed models/*.lm
var models embed.FS

// maxOrder is the longest n-gram the detector reads: four letters packed
// into one 64-bit key.
const maxOrder = 4

// Scoring constants, in nats. A letter a language's model has never seen
// is nearly impossible in it; an n-gram missing from a model that lists
// every n-gram seen in a million sentences costs its step down to the
// shorter context.
const (
	unseenLetter = -12.0
	backoffCost  = -1.5
)

// table is the n-gram statistics of a bot's languages merged into one
// map, so that reading a message costs one lookup per n-gram for all
// languages together.
type table struct {
	n       int              // languages
	order   int              // longest n-gram in any model
	letters map[rune]int     // letter → 1-based index; 0 = no model has it
	grams   map[uint64]int32 // packed n-gram → row in q
	q       []uint8          // row*n + language: lmfile's quantised log P, 0 = not in that model
	scripts [][]string       // per language: the scripts it is written in
}

// loadTable reads the embedded models of codes (valid ISO 639-1 codes,
// no duplicates) into one table.
func loadTable(codes []string) (*table, error) {
	t := &table{n: len(codes), letters: map[rune]int{}, grams: map[uint64]int32{}}
	key := make([]int, 0, maxOrder)
	for l, code := range codes {
		data, err := models.ReadFile("models/" + code + ".lm")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, baton.Errorf(baton.EINVALID, "language detector: language %q is not supported (supported: %s)", code, strings.Join(Supported(), ", "))
		}
		if err != nil {
			return nil, baton.WrapError(baton.EINTERNAL, err, "language detector: reading the model of "+code)
		}
		h, err := lmfile.Read(bytes.NewReader(data), func(n int, gram []rune, q byte) {
			if n > maxOrder {
				return
			}
			t.order = max(t.order, n)
			key = key[:0]
			for _, r := range gram {
				c := t.letters[r]
				if c == 0 {
					c = len(t.letters) + 1
					t.letters[r] = c
				}
				key = append(key, c)
			}
			p := pack(key)
			row, ok := t.grams[p]
			if !ok {
				row = int32(len(t.q) / t.n)
				t.grams[p] = row
				t.q = append(t.q, make([]uint8, t.n)...)
			}
			t.q[int(row)*t.n+l] = q
		}, nil)
		if err != nil {
			return nil, baton.WrapError(baton.EINTERNAL, err, "language detector: the model of "+code+" is damaged; regenerate it")
		}
		if h.Code != code {
			return nil, baton.Errorf(baton.EINTERNAL, "language detector: models/%s.lm holds the model of %q", code, h.Code)
		}
		if len(t.letters) >= 1<<16 {
			return nil, baton.Errorf(baton.EINVALID, "language detector: %s use %d letters, more than the detector numbers", strings.Join(codes[:l+1], ","), len(t.letters))
		}
		t.scripts = append(t.scripts, h.Scripts)
	}
	t.q = slices.Clip(t.q)
	return t, nil
}

func pack(codes []int) uint64 {
	var p uint64
	for _, c := range codes {
		p = p<<16 | uint64(c)
	}
	return p
}

// score adds to sums[l] the log-probability of word under language l's
// letter model, for the languages with want[l]: every letter given the
// longest context its model knows, less backoffCost for each letter of
// context it had to drop.
func (t *table) score(word []rune, want []bool, sums []float64) {
	codes := make([]int, len(word))
	for i, r := range word {
		codes[i] = t.letters[r]
	}
	var rows [maxOrder]int32
	for i := range codes {
		top := min(t.order, i+1)
		// rows[k-1] is the row of the k letters ending at i, -1 if none
		for k := 1; k <= top; k++ {
			rows[k-1] = -1
			if codes[i-k+1] == 0 {
				for ; k <= top; k++ {
					rows[k-1] = -1
				}
				break
			}
			if row, ok := t.grams[pack(codes[i-k+1:i+1])]; ok {
				rows[k-1] = row
			}
		}
		for l := range t.n {
			if !want[l] {
				continue
			}
			s := unseenLetter + backoffCost*float64(top-1)
			for k := top; k >= 1; k-- {
				if r := rows[k-1]; r >= 0 {
					if q := t.q[int(r)*t.n+l]; q != 0 {
						s = lmfile.Dequantize(q) + backoffCost*float64(top-k)
						break
					}
				}
			}
			sums[l] += s
		}
	}
}
