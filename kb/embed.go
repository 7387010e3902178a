package kb

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/batonhq/baton"
)

// titleWeight is the share of a chunk's vector that comes from its
// breadcrumb (article title and headings); the rest comes from the passage.
// Titles of support articles are the question the article answers, the
// closest thing to what a customer types, so they get as much weight as the
// whole passage: an even split, not a tuned constant.
const titleWeight = 0.5

// embedBatch bounds one call to the embedder (remote APIs limit inputs).
const embedBatch = 64

// EmbedChunks sets Model and Embedding on every chunk, reusing the vectors
// in reuse (by chunk hash, same model only) and embedding the rest. It
// returns how many chunks were embedded and how many reused.
func EmbedChunks(ctx context.Context, emb baton.Embedder, chunks []baton.Chunk, reuse map[string][]float32) (embedded, reused int, err error) {
	var todo []int
	for i := range chunks {
		chunks[i].Model = emb.Model()
		if v, ok := reuse[chunks[i].Hash]; ok && len(v) == emb.Dim() {
			chunks[i].Embedding = v
			reused++
			continue
		}
		todo = append(todo, i)
	}
	for start := 0; start < len(todo); start += embedBatch {
		part := todo[start:min(start+embedBatch, len(todo))]
		texts := make([]string, 0, 2*len(part))
		for _, i := range part {
			crumb, passage := splitChunkText(chunks[i].Text)
			texts = append(texts, crumb, passage)
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return embedded, reused, fmt.Errorf("embedding %d chunks with %s: %w", len(part), emb.Model(), err)
		}
		if len(vecs) != len(texts) {
			return embedded, reused, baton.Errorf(baton.EINTERNAL, "embedder %s returned %d vectors for %d texts", emb.Model(), len(vecs), len(texts))
		}
		for j, i := range part {
			v, err := mix(vecs[2*j], vecs[2*j+1], emb.Dim())
			if err != nil {
				return embedded, reused, baton.Errorf(baton.EINTERNAL, "embedder %s: %w", emb.Model(), err)
			}
			chunks[i].Embedding = v
			embedded++
		}
	}
	return embedded, reused, nil
}

func splitChunkText(text string) (crumb, passage string) {
	if c, p, ok := strings.Cut(text, "\n\n"); ok {
		return c, p
	}
	return text, text
}

// mix returns the unit vector of titleWeight·t + (1-titleWeight)·p.
func mix(t, p []float32, dim int) ([]float32, error) {
	if len(t) != dim || len(p) != dim {
		return nil, fmt.Errorf("vector of length %d/%d, want %d", len(t), len(p), dim)
	}
	out := make([]float32, dim)
	var n float64
	for i := range out {
		x := titleWeight*float64(t[i]) + (1-titleWeight)*float64(p[i])
		out[i] = float32(x)
		n += x * x
	}
	if n > 0 {
		inv := 1 / math.Sqrt(n)
		for i := range out {
			out[i] = float32(float64(out[i]) * inv)
		}
	}
	return out, nil
}
