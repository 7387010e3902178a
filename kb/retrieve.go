package kb

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/batonhq/baton"
)

// Mode picks the retrieval methods.
type Mode string

const (
	ModeHybrid  Mode = "hybrid"
	ModeKeyword Mode = "keyword"
	ModeVector  Mode = "vector"
)

// ParseMode accepts "", keyword, vector or hybrid ("" = hybrid).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeHybrid:
		return ModeHybrid, nil
	case ModeKeyword, ModeVector:
		return Mode(s), nil
	}
	return "", baton.Errorf(baton.EINVALID, "unknown retrieval mode %q: use keyword, vector or hybrid", s)
}

// Result is one retrieved passage with the score of each method. Ranks
// start at 1; 0 means the method did not return the chunk.
type Result struct {
	Chunk       baton.Chunk
	Title       string
	URL         string
	Keyword     float64 // the store's keyword score (bm25 / ts_rank_cd), higher is better
	KeywordRank int
	Vector      float64 // cosine similarity
	VectorRank  int
	Fused       float64 // reciprocal rank fusion (or the reranker's score)
	Language    string  // language searched (the fallback when it was used)
}

// Reranker reorders fused results, e.g. with an LLM. It may drop results
// and should set Fused to its own score.
type Reranker interface {
	Rerank(ctx context.Context, question string, results []Result) ([]Result, error)
}

// Retriever runs hybrid search over a bot's published articles.
type Retriever struct {
	// Store is searched by two goroutines at once: give the store itself,
	// never the transaction handle passed to a Tx callback.
	Store    baton.ArticleStore
	Embedder baton.Embedder
	Reranker Reranker // optional
	// Candidates is how many chunks each method contributes before fusion
	// (0 = 30: a few articles' worth per method is all that fusion needs to
	// order the first five; on StackFAQ dev 30 and 50 give the same recall
	// and 30 costs the stores less).
	Candidates int
	// RRFK is the k of reciprocal rank fusion, 1/(k + rank) (0 = 60, the
	// value of the original paper: it flattens the head so that one
	// method's first place does not drown the other's second).
	RRFK float64
}

// Query is one search.
type Query struct {
	BotID string
	Text  string
	// Language is the customer's; when nothing is found in it, Fallback
	// (the bot's default language) is searched. "" = any language.
	Language string
	Fallback string
	Mode     Mode
	Limit    int  // results returned (0 = 5)
	Distinct bool // at most one passage (the best) per article
}

// Search returns the best passages for q, best first.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Result, error) {
	if q.BotID == "" {
		return nil, baton.Errorf(baton.EINVALID, "search: bot id is empty")
	}
	if strings.TrimSpace(q.Text) == "" {
		return nil, baton.Errorf(baton.EINVALID, "search: the question is empty")
	}
	mode, err := ParseMode(string(q.Mode))
	if err != nil {
		return nil, err
	}
	q.Mode = mode
	if q.Limit <= 0 {
		q.Limit = 5
	}
	if r := []rune(q.Text); len(r) > maxQueryRunes {
		q.Text = string(r[:maxQueryRunes])
	}
	var qv []float32
	if q.Mode != ModeKeyword {
		vs, err := r.Embedder.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("search: embedding the question: %w", err)
		}
		if len(vs) != 1 {
			return nil, baton.Errorf(baton.EINTERNAL, "search: embedder returned %d vectors for 1 text", len(vs))
		}
		qv = vs[0]
	}
	res, err := r.search(ctx, q, q.Language, qv)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 && q.Fallback != "" && q.Fallback != q.Language && q.Language != "" {
		if res, err = r.search(ctx, q, q.Fallback, qv); err != nil {
			return nil, err
		}
	}
	if r.Reranker != nil && len(res) > 0 {
		if res, err = r.Reranker.Rerank(ctx, q.Text, res); err != nil {
			return nil, fmt.Errorf("search: rerank: %w", err)
		}
	}
	if len(res) > q.Limit {
		res = res[:q.Limit]
	}
	return res, nil
}

func (r *Retriever) search(ctx context.Context, q Query, lang string, qv []float32) ([]Result, error) {
	k := r.Candidates
	if k <= 0 {
		k = 30
	}
	if k < q.Limit {
		k = q.Limit
	}
	cq := baton.ChunkQuery{BotID: q.BotID, Language: lang, Text: keywordText(q.Text), K: k}
	// The two searches are independent: run them at once, so that a
	// query costs the slower of the two rather than their sum.
	var kw, vec []baton.ChunkHit
	var kwErr, vecErr error
	var wg sync.WaitGroup
	if q.Mode != ModeVector {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kw, kwErr = r.Store.SearchKeyword(ctx, cq)
		}()
	}
	// A question with no words embeds to the zero vector, which matches
	// nothing (and the store rejects it).
	if q.Mode != ModeKeyword && !isZero(qv) {
		vq := cq
		vq.Text, vq.Embedding, vq.Model = "", qv, r.Embedder.Model()
		vec, vecErr = r.Store.SearchVector(ctx, vq)
	}
	wg.Wait()
	if kwErr != nil {
		return nil, fmt.Errorf("search: keyword: %w", kwErr)
	}
	if vecErr != nil {
		return nil, fmt.Errorf("search: vector: %w", vecErr)
	}
	return fuse(kw, vec, r.rrfK(), lang, q.Distinct), nil
}

func (r *Retriever) rrfK() float64 {
	if r.RRFK <= 0 {
		return 60
	}
	return r.RRFK
}

// fuse merges two ranked lists by reciprocal rank fusion. Ranks are
// recomputed from list order, so a store's numbering does not matter. With
// distinct, an article counts once per list (its best chunk) and the
// article's best chunk of either list represents it.
func fuse(kw, vec []baton.ChunkHit, k float64, lang string, distinct bool) []Result {
	byKey := map[string]*Result{}
	var order []string
	key := func(h baton.ChunkHit) string {
		if distinct {
			return h.Slug
		}
		return fmt.Sprintf("%s#%d#%d", h.Slug, h.ArticleID, h.Ord)
	}
	get := func(h baton.ChunkHit) *Result {
		kk := key(h)
		if r, ok := byKey[kk]; ok {
			return r
		}
		r := &Result{Chunk: h.Chunk, Title: h.Title, URL: h.URL, Language: lang}
		byKey[kk] = r
		order = append(order, kk)
		return r
	}
	rank := 0
	for _, h := range kw {
		r := get(h)
		if r.KeywordRank != 0 {
			continue
		}
		rank++
		r.Keyword, r.KeywordRank = h.Score, rank
		r.Fused += 1 / (k + float64(rank))
	}
	rank = 0
	for _, h := range vec {
		r := get(h)
		if r.VectorRank != 0 {
			continue
		}
		rank++
		r.Vector, r.VectorRank = h.Score, rank
		r.Fused += 1 / (k + float64(rank))
		if distinct && r.KeywordRank != 0 && rank < r.KeywordRank {
			// The vector list found a better passage of this article.
			r.Chunk = h.Chunk
		}
	}
	out := make([]Result, 0, len(order))
	for _, kk := range order {
		out = append(out, *byKey[kk])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Fused != out[j].Fused {
			return out[i].Fused > out[j].Fused
		}
		// Equal fused scores are common at the top (first in one list,
		// second in the other): the closer meaning wins, since cosine
		// similarity, unlike a keyword score, compares across passages.
		if out[i].Vector != out[j].Vector {
			return out[i].Vector > out[j].Vector
		}
		return bestRank(out[i]) < bestRank(out[j])
	})
	return out
}

func bestRank(r Result) int {
	b := 1 << 30
	if r.KeywordRank > 0 {
		b = r.KeywordRank
	}
	if r.VectorRank > 0 && r.VectorRank < b {
		b = r.VectorRank
	}
	return b
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// keywordText drops function words from a question before keyword search:
// the store matches any word, and "how", "my" or "can" match every chunk
// and only add noise to the ranking. A question of function words only is
// searched as it is.
func keywordText(q string) string {
	if ws := newTerms().of(q); len(ws) > 0 {
		return strings.Join(ws[:min(len(ws), maxQueryWords)], " ")
	}
	return q
}

// A customer may paste a whole e-mail: the first words carry the question,
// and a bounded query keeps search time bounded.
const (
	maxQueryWords = 32
	maxQueryRunes = 4000
)
