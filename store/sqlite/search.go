package sqlite

import (
	"container/heap"
	"context"
	"math"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/stem"
)

const (
	defaultK = 10
	// maxQueryTerms bounds the work one keyword query can cause.
	maxQueryTerms = 32
)

// keywordStemmer is the Go-side stemmer of a language for keyword search,
// or false for English (the FTS5 porter tokenizer stems it) and for
// languages Snowball has no stemmer for (their words are indexed as
// written).
func keywordStemmer(lang string) (stem.Stemmer, bool) {
	st, ok := stem.For(lang)
	if !ok || st.Language() == "en" {
		return stem.Stemmer{}, false
	}
	return st, true
}

// ftsText is what the keyword index holds for a chunk of the given
// language: its words stemmed when keywordStemmer has a stemmer, else the
// text itself.
func ftsText(lang, text string) string {
	st, ok := keywordStemmer(lang)
	if !ok {
		return text
	}
	return strings.Join(st.Words(text), " ")
}

// ftsQuery turns user text into an FTS5 query that matches any of its
// words, each as written and as stemmed by each of stemmers (the languages
// whose chunks may answer). Every term is quoted as a string, so nothing
// the user types (quotes, parentheses, AND/OR/NOT/NEAR, column filters, ^,
// *, -) is ever syntax. It returns "" when the text has no words.
func ftsQuery(text string, stemmers []stem.Stemmer) string {
	seen := map[string]bool{}
	var terms []string
	add := func(w string) {
		if !seen[w] && len(terms) < maxQueryTerms {
			seen[w] = true
			// Words hold only letters, digits and marks, so they contain
			// no double quote; quoting makes them plain strings to FTS5.
			terms = append(terms, `"`+w+`"`)
		}
	}
	for _, w := range stem.Split(text) {
		add(strings.ToLower(w))
		for _, st := range stemmers {
			add(st.Word(w))
		}
	}
	return strings.Join(terms, " OR ")
}

func validateQuery(q baton.ChunkQuery) (baton.ChunkQuery, error) {
	if strings.TrimSpace(q.BotID) == "" {
		return q, baton.Errorf(baton.EINVALID, "chunk search: bot id is required")
	}
	if q.K <= 0 {
		q.K = defaultK
	}
	return q, nil
}

// SearchKeyword ranks chunks of published articles by bm25 over FTS5.
func (s *Store) SearchKeyword(ctx context.Context, q baton.ChunkQuery) ([]baton.ChunkHit, error) {
	q, err := validateQuery(q)
	if err != nil {
		return nil, err
	}
	stemmers, err := s.keywordStemmers(ctx, q)
	if err != nil {
		return nil, translate(err, "keyword search")
	}
	match := ftsQuery(q.Text, stemmers)
	if match == "" {
		return nil, nil
	}
	// Rank inside FTS5 alone first (no joins for the thousands of rows a
	// common word matches), then keep the candidates that pass the bot,
	// language and published filter. When too few of that window pass
	// (the words are common in another bot's or another language's
	// chunks), rank the passing matches alone instead, in one pass. bm25()
	// is lower-is-better; a hit's Score is its negation so that every
	// store's scores read higher-is-better.
	ids, scores, more, err := s.ftsCandidates(ctx, match, 8*q.K)
	if err != nil {
		return nil, translate(err, "keyword search")
	}
	hits, err := s.keywordHits(ctx, q, ids, scores)
	if err != nil {
		return nil, translate(err, "keyword search")
	}
	if len(hits) < q.K && more {
		if ids, scores, err = s.ftsFiltered(ctx, q, match); err != nil {
			return nil, translate(err, "keyword search")
		}
		if hits, err = s.keywordHits(ctx, q, ids, scores); err != nil {
			return nil, translate(err, "keyword search")
		}
	}
	for i := range hits {
		hits[i].Rank = i + 1
	}
	return hits, nil
}

// keywordStemmers are the stemmers of the languages a query may be
// answered in: its own, or when it has none every language the bot has
// published articles in.
func (s *Store) keywordStemmers(ctx context.Context, q baton.ChunkQuery) ([]stem.Stemmer, error) {
	langs := []string{q.Language}
	if q.Language == "" {
		rows, err := s.reader().QueryContext(ctx, `SELECT DISTINCT language FROM articles WHERE bot_id = ? AND status = 'published' ORDER BY language`, q.BotID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		langs = langs[:0]
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return nil, err
			}
			langs = append(langs, l)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []stem.Stemmer
	for _, l := range langs {
		if st, ok := keywordStemmer(l); ok {
			out = append(out, st)
		}
	}
	return out, nil
}

// ftsCandidates returns the best window matches by bm25 (ties by id) and
// whether there may be more.
func (s *Store) ftsCandidates(ctx context.Context, match string, window int) ([]int64, []float64, bool, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts
		WHERE chunks_fts MATCH ? ORDER BY score, rowid LIMIT ?`, match, window)
	if err != nil {
		return nil, nil, false, err
	}
	defer rows.Close()
	var (
		ids    []int64
		scores []float64
	)
	for rows.Next() {
		var (
			id    int64
			score float64
		)
		if err := rows.Scan(&id, &score); err != nil {
			return nil, nil, false, err
		}
		ids, scores = append(ids, id), append(scores, -score)
	}
	return ids, scores, len(ids) == window, rows.Err()
}

// ftsFiltered returns the best q.K matches by bm25 (ties by id) among the
// chunks that pass q's bot, language and published filter. The filter runs
// as FTS5 returns each match (CROSS JOIN keeps FTS5 the outer loop), so
// bm25 is computed for the passing matches only. It replaced widening the
// ranked window eightfold until enough passed: for a Turkish question
// whose stems are common English words ("iş" folds to "is") that reranked
// every match three times and filtered thousands of ids, 30-40 ms at 5,000
// chunks.
func (s *Store) ftsFiltered(ctx context.Context, q baton.ChunkQuery, match string) ([]int64, []float64, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT f.rowid, bm25(chunks_fts) AS score
		FROM chunks_fts f CROSS JOIN chunks c ON c.id = f.rowid CROSS JOIN articles a ON a.id = c.article_id
		WHERE chunks_fts MATCH ? AND a.bot_id = ? AND a.status = 'published' AND (? = '' OR a.language = ?)
		ORDER BY score, f.rowid LIMIT ?`, match, q.BotID, q.Language, q.Language, q.K)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		ids    []int64
		scores []float64
	)
	for rows.Next() {
		var (
			id    int64
			score float64
		)
		if err := rows.Scan(&id, &score); err != nil {
			return nil, nil, err
		}
		ids, scores = append(ids, id), append(scores, -score)
	}
	return ids, scores, rows.Err()
}

// keywordHits returns the first q.K candidates that pass q's filter, in
// candidate order, loaded. The filter reads only the candidates' article
// ids; the text (most of a row, with the embedding, and so on overflow
// pages) is read for the winners alone: reading it for the whole window
// (240 rows for a hybrid search's 30) was most of a keyword search's time
// at 5,000 chunks.
func (s *Store) keywordHits(ctx context.Context, q baton.ChunkQuery, ids []int64, scores []float64) ([]baton.ChunkHit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{q.BotID, q.Language, q.Language}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.reader().QueryContext(ctx, keywordFilterSQL(len(ids)), args...)
	if err != nil {
		return nil, err
	}
	pass := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		pass[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var winners []int64
	score := map[int64]float64{}
	for i, id := range ids {
		if pass[id] && len(winners) < q.K {
			winners = append(winners, id)
			score[id] = scores[i]
		}
	}
	loaded, err := s.loadHits(ctx, winners)
	if err != nil {
		return nil, err
	}
	hits := make([]baton.ChunkHit, 0, len(winners))
	for _, id := range winners {
		// A chunk replaced between the two reads is left out, as it
		// would have been a moment later.
		if h, ok := loaded[id]; ok {
			h.Score = score[id]
			hits = append(hits, h)
		}
	}
	return hits, nil
}

// keywordFilterSQL selects which of n candidate chunk ids pass the bot,
// publication and language filter ($1 bot, $2 and $3 language, then the
// ids). CROSS JOIN makes the candidates the outer loop (SQLite keeps the
// order it is given): one row lookup each. Left to itself the planner
// walked the bot's whole KB through the articles' bot index and matched
// every chunk against the list.
func keywordFilterSQL(n int) string {
	return `SELECT c.id FROM chunks c CROSS JOIN articles a ON a.id = c.article_id
		WHERE a.bot_id = ? AND a.status = 'published' AND (? = '' OR a.language = ?) AND c.id IN (` + placeholders(n) + `)`
}

// loadHits reads the chunks ids (with their article's title and URL) in
// one query.
func (s *Store) loadHits(ctx context.Context, ids []int64) (map[int64]baton.ChunkHit, error) {
	out := make(map[int64]baton.ChunkHit, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT `+hitCols+`, a.title, a.url FROM chunks c JOIN articles a ON a.id = c.article_id
		WHERE c.id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h baton.ChunkHit
		c, err := scanHit(rows, &h.Title, &h.URL)
		if err != nil {
			return nil, err
		}
		h.Chunk = c
		out[c.ID] = h
	}
	return out, rows.Err()
}

// SearchVector ranks chunks of published articles by exact cosine
// similarity to q.Embedding, among chunks of the same model and dimension.
// Only ids and vectors are read for the scan; the k winners are loaded after.
func (s *Store) SearchVector(ctx context.Context, q baton.ChunkQuery) ([]baton.ChunkHit, error) {
	q, err := validateQuery(q)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(q.Model) == "" {
		return nil, baton.Errorf(baton.EINVALID, "vector search: model is required")
	}
	qnorm := norm(q.Embedding)
	if len(q.Embedding) == 0 || qnorm == 0 {
		return nil, baton.Errorf(baton.EINVALID, "vector search: the query embedding is empty or zero")
	}
	top := &topK{k: q.K}
	if s.tx != nil {
		// Inside a transaction the vectors may include its own uncommitted
		// writes: scan the file rather than let them into the shared cache.
		if err := s.scanVectors(ctx, q, qnorm, top); err != nil {
			return nil, translate(err, "vector search")
		}
	} else {
		set, err := s.vectors.get(ctx, s.read, vectorKey{bot: q.BotID, model: q.Model, dim: len(q.Embedding)})
		if err != nil {
			return nil, translate(err, "vector search")
		}
		set.search(q.Embedding, q.Language, top)
	}

	best := top.sorted()
	ids := make([]int64, len(best))
	for i, b := range best {
		ids[i] = b.id
	}
	// One query for the k winners: one each cost a statement's
	// preparation per hit.
	loaded, err := s.loadHits(ctx, ids)
	if err != nil {
		return nil, translate(err, "vector search")
	}
	hits := make([]baton.ChunkHit, 0, len(best))
	for _, b := range best {
		h, ok := loaded[b.id]
		if !ok {
			// Replaced since the vectors were read: the next search
			// reloads them.
			continue
		}
		h.Score, h.Rank = b.score, len(hits)+1
		hits = append(hits, h)
	}
	return hits, nil
}

// scanVectors reads every candidate vector from the database.
func (s *Store) scanVectors(ctx context.Context, q baton.ChunkQuery, qnorm float64, top *topK) error {
	rows, err := s.reader().QueryContext(ctx, `SELECT c.id, c.embedding FROM chunks c JOIN articles a ON a.id = c.article_id
		WHERE c.model = ? AND c.dim = ? AND a.bot_id = ? AND a.status = 'published' AND (? = '' OR a.language = ?)`,
		q.Model, len(q.Embedding), q.BotID, q.Language, q.Language)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			raw []byte
		)
		if err := rows.Scan(&id, &raw); err != nil {
			return err
		}
		top.offer(scored{id: id, score: clamp(cosineBlob(q.Embedding, qnorm, raw))})
	}
	return rows.Err()
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// cosineBlob computes the cosine similarity of q with a stored
// little-endian float32 vector without decoding it into a slice.
func cosineBlob(q []float32, qnorm float64, blob []byte) float64 {
	if len(blob) != 4*len(q) {
		return math.Inf(-1)
	}
	var dot, n float64
	for i, x := range q {
		y := float64(math.Float32frombits(uint32(blob[4*i]) | uint32(blob[4*i+1])<<8 | uint32(blob[4*i+2])<<16 | uint32(blob[4*i+3])<<24))
		dot += float64(x) * y
		n += y * y
	}
	if n == 0 {
		return 0
	}
	return dot / (qnorm * math.Sqrt(n))
}

type scored struct {
	id    int64
	score float64
}

// better orders by score, then by id so that ties are stable across stores.
func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

// topK keeps the k best scores in a min-heap (worst on top).
type topK struct {
	k     int
	items []scored
}

func (t *topK) Len() int           { return len(t.items) }
func (t *topK) Less(i, j int) bool { return better(t.items[j], t.items[i]) }
func (t *topK) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topK) Push(x any)         { t.items = append(t.items, x.(scored)) }
func (t *topK) Pop() any {
	last := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return last
}

func (t *topK) offer(s scored) {
	if len(t.items) < t.k {
		heap.Push(t, s)
		return
	}
	if better(s, t.items[0]) {
		t.items[0] = s
		heap.Fix(t, 0)
	}
}

func (t *topK) sorted() []scored {
	out := make([]scored, len(t.items))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(t).(scored)
	}
	return out
}
