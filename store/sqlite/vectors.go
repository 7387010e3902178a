package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"math"
	"sync"
)

// vectorCache keeps the searchable vectors of (bot, model, dimension) in
// memory, normalised, so that an exact cosine search is a pass of dot
// products instead of reading every blob from the file. Entries carry the
// kb_generation they were loaded at and are reloaded when it moves.
type vectorCache struct {
	mu      sync.Mutex
	entries map[vectorKey]*vectorSet
}

// maxVectorSets bounds memory: past it the cache starts over.
const maxVectorSets = 16

type vectorKey struct {
	bot, model string
	dim        int
}

type vectorSet struct {
	generation int64
	ids        []int64
	langs      []string
	unit       []float32 // len(ids) * dim, each row of norm 1 (or all zero)
}

func newVectorCache() *vectorCache { return &vectorCache{entries: map[vectorKey]*vectorSet{}} }

// get returns the vectors of key as of the current generation, loading them
// when the cached copy is older. The generation is read before the rows, so
// a change that lands in between makes the copy look older than it is
// (reloaded next time), never newer.
func (c *vectorCache) get(ctx context.Context, q querier, key vectorKey) (*vectorSet, error) {
	var gen int64
	if err := q.QueryRowContext(ctx, `SELECT generation FROM kb_generation WHERE id = 1`).Scan(&gen); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if set, ok := c.entries[key]; ok && set.generation == gen {
		return set, nil
	}
	set, err := loadVectors(ctx, q, key, gen)
	if err != nil {
		return nil, err
	}
	if len(c.entries) >= maxVectorSets {
		clear(c.entries)
	}
	c.entries[key] = set
	return set, nil
}

func loadVectors(ctx context.Context, q querier, key vectorKey, gen int64) (*vectorSet, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.id, a.language, c.embedding FROM chunks c JOIN articles a ON a.id = c.article_id
		WHERE c.model = ? AND c.dim = ? AND a.bot_id = ? AND a.status = 'published'`,
		key.model, key.dim, key.bot)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := &vectorSet{generation: gen}
	var blob sql.RawBytes
	for rows.Next() {
		var (
			id   int64
			lang string
		)
		// RawBytes: the blob is decoded straight into the set, not copied
		// first.
		if err := rows.Scan(&id, &lang, &blob); err != nil {
			return nil, err
		}
		if len(blob) != 4*key.dim {
			continue
		}
		base := len(set.unit)
		set.unit = append(set.unit, make([]float32, key.dim)...)
		row := set.unit[base:]
		var sum float64
		for i := range row {
			f := math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
			row[i] = f
			sum += float64(f) * float64(f)
		}
		if n := math.Sqrt(sum); n > 0 {
			for i := range row {
				row[i] = float32(float64(row[i]) / n)
			}
		}
		set.ids = append(set.ids, id)
		set.langs = append(set.langs, lang)
	}
	return set, rows.Err()
}

// search offers every vector of the set (of language lang, when set) to top,
// scored by cosine similarity with q.
func (set *vectorSet) search(q []float32, lang string, top *topK) {
	dim := len(q)
	qn := norm(q)
	unitQ := make([]float64, dim)
	for i, x := range q {
		unitQ[i] = float64(x) / qn
	}
	for i, id := range set.ids {
		if lang != "" && set.langs[i] != lang {
			continue
		}
		top.offer(scored{id: id, score: clamp(dot(unitQ, set.unit[i*dim:(i+1)*dim]))})
	}
}

// clamp keeps rounding from pushing a similarity past ±1.
func clamp(x float64) float64 { return math.Max(-1, math.Min(1, x)) }

// dot is the inner product, with four independent sums so the loop is not
// one long dependency chain.
func dot(a []float64, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(a); j += 4 {
		s0 += a[j] * float64(b[j])
		s1 += a[j+1] * float64(b[j+1])
		s2 += a[j+2] * float64(b[j+2])
		s3 += a[j+3] * float64(b[j+3])
	}
	for ; j < len(a); j++ {
		s0 += a[j] * float64(b[j])
	}
	return (s0 + s1) + (s2 + s3)
}
