package postgres

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/batonhq/baton"
)

// maxIndexedDim is pgvector's limit for HNSW on vector; larger embeddings
// are stored and searched exactly, without an index.
const maxIndexedDim = 2000

// maxHalfIndexedDim is the limit for HNSW on halfvec.
const maxHalfIndexedDim = 4000

// HNSW build parameters. Measured on 50,000 hashed n-gram chunks (512
// dimensions, paraphrased questions): recall@10 at ef_search 400 went from
// 0.92 (m 16, ef_construction 64, the defaults) to 0.96 with
// ef_construction 200 for the same query time; m 32 needed more query time
// for the same recall, and ef_construction 400 gained nothing.
const (
	hnswM              = 16
	hnswEfConstruction = 200
)

// maxDim is pgvector's limit for the vector type itself.
const maxDim = 16000

// defaultK is the number of hits when a query does not say.
const defaultK = 10

// textSearchConfig picks the PostgreSQL text search configuration for an
// ISO 639-1 language code (a region suffix is ignored). Languages without a
// stemmer here use 'simple': lower-cased words, no stemming, no stop words.
func textSearchConfig(lang string) string {
	l := strings.ToLower(lang)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "en", "english":
		return "english"
	case "tr", "turkish":
		return "turkish"
	case "ru", "russian":
		return "russian"
	case "de", "german":
		return "german"
	case "es", "spanish":
		return "spanish"
	case "fr", "french":
		return "french"
	case "pt", "portuguese":
		return "portuguese"
	case "it", "italian":
		return "italian"
	case "nl", "dutch":
		return "dutch"
	}
	return "simple"
}

// hitCols are a chunk's columns without its embedding: search results are
// read, never compared again, and an embedding is the bulk of a row (2 KB
// at 512 dimensions, stored out of line), so fetching it for 38 vector
// candidates cost about a millisecond per search at 50,000 chunks.
const hitCols = `c.id, c.article_id, c.bot_id, c.slug, c.language, c.ord, c.heading_path, c.text, c.hash, c.model`

// chunkCols add the embedding, for ListChunks.
const chunkCols = hitCols + `, c.embedding`

// scanHit scans hitCols and then extra.
func scanHit(row pgx.Row, extra ...any) (baton.Chunk, error) {
	var c baton.Chunk
	dest := append([]any{&c.ID, &c.ArticleID, &c.BotID, &c.Slug, &c.Language, &c.Ord, &c.HeadingPath, &c.Text, &c.Hash, &c.Model}, extra...)
	return c, row.Scan(dest...)
}

// scanChunk scans chunkCols.
func scanChunk(row pgx.Row) (baton.Chunk, error) {
	var emb *pgvector.Vector
	c, err := scanHit(row, &emb)
	if err == nil && emb != nil {
		c.Embedding = emb.Slice()
	}
	return c, err
}

func hnswIndexName(dim int) string { return fmt.Sprintf("chunks_embedding_hnsw_%d", dim) }

// indexedDim says whether embeddings of dim dimensions get an HNSW index.
func (vi *vectorInfo) indexedDim(dim int) bool {
	if vi.halfvec {
		return dim <= maxHalfIndexedDim
	}
	return dim <= maxIndexedDim
}

// indexCast is the expression the HNSW index of one dimension is built on
// and searched by. With halfvec (pgvector >= 0.7) the graph holds half
// precision vectors: half the size, so at 50,000 chunks of 512 dimensions
// it stays within a small shared_buffers (65 MB instead of 130 MB) and a
// search reads half the pages; the search re-ranks its candidates at full
// precision, so scores and order are exact among them.
func (vi *vectorInfo) indexCast(dim int) (cast, ops string) {
	if vi.halfvec {
		return fmt.Sprintf("halfvec(%d)", dim), "halfvec_cosine_ops"
	}
	return fmt.Sprintf("vector(%d)", dim), "vector_cosine_ops"
}

// ensureVectorIndex creates the partial HNSW index for one dimension the
// first time chunks of that dimension are stored. The advisory lock keeps
// two writers from racing on the index name.
func (s *Store) ensureVectorIndex(ctx context.Context, q querier, dim int) error {
	if !s.vector.indexedDim(dim) {
		return nil
	}
	name := hnswIndexName(dim)
	var exists bool
	// Look the index up on the chunks table the statements resolve to, not
	// by name on the search path (another schema may have one of that name).
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'chunks'::regclass AND c.relname = $1)`, name).Scan(&exists); err != nil {
		return wrapErr(err, "check vector index")
	}
	if exists {
		return nil
	}
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockArea, lockIndex); err != nil {
		return wrapErr(err, "lock vector index creation")
	}
	// dim is an int, so formatting it into the statement is safe; the
	// planner only uses a partial index whose predicate and expression
	// appear literally in the query.
	cast, ops := s.vector.indexCast(dim)
	_, err := q.Exec(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON chunks USING hnsw ((embedding::%s) %s) WITH (m = %d, ef_construction = %d) WHERE dim = %d`,
		name, cast, ops, hnswM, hnswEfConstruction, dim))
	return wrapErr(err, "create vector index")
}

// ReplaceChunks swaps an article version's chunks in one transaction and
// one round trip for the inserts, and sets the chunks' ids.
func (s *Store) ReplaceChunks(ctx context.Context, articleID int64, chunks []baton.Chunk) error {
	dims := map[int]bool{}
	for i, c := range chunks {
		switch {
		case len(c.Embedding) > maxDim:
			return baton.Errorf(baton.EINVALID, "chunk %d of article %d: embedding has %d dimensions, the limit is %d", i, articleID, len(c.Embedding), maxDim)
		case len(c.Embedding) > 0 && c.Model == "":
			return baton.Errorf(baton.EINVALID, "chunk %d of article %d: an embedding needs its model", i, articleID)
		}
		if len(c.Embedding) > 0 {
			dims[len(c.Embedding)] = true
		}
	}
	return s.inTx(ctx, func(q querier) error {
		var botID, slug, lang string
		err := q.QueryRow(ctx, `SELECT bot_id, slug, language FROM articles WHERE id = $1 FOR SHARE`, articleID).Scan(&botID, &slug, &lang)
		if err == pgx.ErrNoRows {
			return baton.Errorf(baton.ENOTFOUND, "article version %d not found", articleID)
		}
		if err != nil {
			return wrapErr(err, "replace chunks")
		}
		for d := range dims {
			if err := s.ensureVectorIndex(ctx, q, d); err != nil {
				return err
			}
		}
		cfg := textSearchConfig(lang)
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = c.Text
		}
		b := &pgx.Batch{}
		// The statistics move by the new chunks minus the old ones, in one
		// statement each that takes its row locks in key order: two imports
		// into one bot touch the same frequent words, and a consistent
		// order keeps them from deadlocking.
		b.Queue(`
			WITH old AS (
				SELECT tsvector_to_array(tsv) AS lexemes FROM chunks WHERE article_id = $1
			), new AS (
				SELECT tsvector_to_array(to_tsvector($4::regconfig, t)) AS lexemes FROM unnest($5::text[]) AS t
			), d AS (
				SELECT l.lexeme, sum(x.sign) AS df
				FROM (SELECT lexemes, -1 AS sign FROM old UNION ALL SELECT lexemes, 1 FROM new) x
					CROSS JOIN LATERAL unnest(x.lexemes) AS l(lexeme)
				GROUP BY l.lexeme
				HAVING sum(x.sign) <> 0
			)
			INSERT INTO chunk_terms AS t (bot_id, language, lexeme, df)
			SELECT $2, $3, d.lexeme, d.df FROM d ORDER BY d.lexeme
			ON CONFLICT (bot_id, language, lexeme) DO UPDATE SET df = t.df + excluded.df`,
			articleID, botID, lang, cfg, texts)
		b.Queue(`
			WITH old AS (
				SELECT count(*) AS n, coalesce(sum(lexemes), 0) AS lexemes FROM chunks WHERE article_id = $1
			), new AS (
				SELECT count(*) AS n, coalesce(sum(length(to_tsvector($4::regconfig, t))), 0) AS lexemes FROM unnest($5::text[]) AS t
			)
			INSERT INTO chunk_corpus AS c (bot_id, language, tsconfig, chunks, lexemes)
			SELECT $2, $3, $4::regconfig, new.n - old.n, new.lexemes - old.lexemes FROM old, new
			WHERE new.n <> old.n OR new.lexemes <> old.lexemes
			ON CONFLICT (bot_id, language, tsconfig) DO UPDATE SET chunks = c.chunks + excluded.chunks, lexemes = c.lexemes + excluded.lexemes`,
			articleID, botID, lang, cfg, texts)
		b.Queue(`
			DELETE FROM chunk_postings p
			USING chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv)) AS u(lexeme)
			WHERE c.article_id = $1 AND p.bot_id = c.bot_id AND p.language = c.language AND p.lexeme = u.lexeme AND p.chunk_id = c.id`,
			articleID)
		b.Queue(`DELETE FROM chunks WHERE article_id = $1`, articleID)
		for _, c := range chunks {
			var emb *pgvector.Vector
			if len(c.Embedding) > 0 {
				v := pgvector.NewVector(c.Embedding)
				emb = &v
			}
			b.Queue(`INSERT INTO chunks (article_id, bot_id, slug, language, ord, heading_path, text, hash, model, dim, embedding, tsconfig, lexemes)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::regconfig, length(to_tsvector($12::regconfig, $7))) RETURNING id`,
				articleID, botID, slug, lang, c.Ord, c.HeadingPath, c.Text, c.Hash, c.Model, len(c.Embedding), emb, cfg)
		}
		b.Queue(`
			INSERT INTO chunk_postings (bot_id, language, lexeme, chunk_id, article_id, tf, len)
			SELECT c.bot_id, c.language, u.lexeme, c.id, c.article_id, greatest(cardinality(u.positions), 1), c.lexemes
			FROM chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u
			WHERE c.article_id = $1`, articleID)
		br := q.SendBatch(ctx, b)
		defer br.Close()
		for _, what := range []string{"replace chunks: term statistics", "replace chunks: corpus statistics", "replace chunks: delete postings", "replace chunks: delete"} {
			if _, err := br.Exec(); err != nil {
				return wrapErr(err, what)
			}
		}
		for i := range chunks {
			if err := br.QueryRow().Scan(&chunks[i].ID); err != nil {
				return wrapErr(err, "replace chunks: insert")
			}
		}
		if _, err := br.Exec(); err != nil {
			return wrapErr(err, "replace chunks: postings")
		}
		if err := br.Close(); err != nil {
			return wrapErr(err, "replace chunks")
		}
		return analyzeIfStale(ctx, q)
	})
}

// analyzeIfStale refreshes the planner's statistics on chunks, articles and
// the keyword index tables once a good share of postings changed since the
// last analysis. A KB import grows the tables a hundredfold within a
// minute, before autovacuum looks; meanwhile a planner that believes the
// bot has one chunk reads every tsvector instead of using the GIN index
// (seconds per search, measured), or joins every published article to
// every keyword candidate (10 ms per search on a 478-chunk KB). Postings,
// some fifty per chunk, are what is counted: a small KB of a few hundred
// chunks passes the threshold too.
func analyzeIfStale(ctx context.Context, q querier) error {
	var stale bool
	err := q.QueryRow(ctx, `
		SELECT coalesce(s.n_mod_since_analyze, 0) > greatest(500, 0.2 * greatest(c.reltuples, 0))
		FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
		WHERE c.oid = 'chunk_postings'::regclass`).Scan(&stale)
	if err != nil || !stale {
		return wrapErr(err, "replace chunks: check statistics")
	}
	_, err = q.Exec(ctx, `ANALYZE chunks, articles, chunk_postings, chunk_terms, chunk_corpus`)
	return wrapErr(err, "replace chunks: analyze")
}

func (s *Store) ListChunks(ctx context.Context, articleID int64) ([]baton.Chunk, error) {
	rows, err := s.q().Query(ctx, `SELECT `+chunkCols+` FROM chunks c WHERE c.article_id = $1 ORDER BY c.ord, c.id`, articleID)
	if err != nil {
		return nil, wrapErr(err, "list chunks")
	}
	defer rows.Close()
	var out []baton.Chunk
	for rows.Next() {
		c, err := scanChunk(rows)
		if err != nil {
			return nil, wrapErr(err, "list chunks")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list chunks")
	}
	return out, nil
}

func collectHits(rows pgx.Rows) ([]baton.ChunkHit, error) {
	defer rows.Close()
	var out []baton.ChunkHit
	for rows.Next() {
		var h baton.ChunkHit
		c, err := scanHit(rows, &h.Title, &h.URL, &h.Score)
		if err != nil {
			return nil, err
		}
		h.Chunk = c
		h.Rank = len(out) + 1
		out = append(out, h)
	}
	return out, rows.Err()
}

func queryK(k int) int {
	if k <= 0 {
		return defaultK
	}
	return k
}

// maxQueryWords bounds the OR query built from a question.
const maxQueryWords = 32

// queryWords splits user text into words (letters and digits); everything
// else, query operators included, only separates words.
func queryWords(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	return words
}

// uniqueFold drops repeated words (ignoring case), so a question that
// repeats a word does not count it twice.
func uniqueFold(words []string) []string {
	seen := map[string]bool{}
	out := words[:0:0]
	for _, w := range words {
		k := strings.ToLower(w)
		if !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	return out
}

// efSearch is the HNSW candidate list size for a query of k hits. Measured
// recall@10 against exact search (random 256-dimension vectors, 20,000
// rows, the hard case): 0.44 at 100, 0.68 at 200, 0.86 at 400, 0.96 at 800.
// Hashed n-gram embeddings of 50,000 chunks, paraphrased questions, with
// the index built as hnswM and hnswEfConstruction say: 0.89 at 200, 0.94 at
// 300, 0.96 at 400, 0.97 at 500 (8 ms at 400). Real embedding models
// cluster far more and do better. The floor trades a few milliseconds for
// recall; the cap keeps a large K from scanning the graph. Above the floor
// the list grows by 10 per hit: a hybrid search asks for 30 candidates
// (38 with the tie slack), and at 16 per hit its vector half alone took
// 15 ms at 50,000 chunks, over half of the 20 ms budget.
func efSearch(k int) int {
	ef := 10 * k
	if ef < 400 {
		ef = 400
	}
	if ef > 1000 {
		ef = 1000
	}
	return ef
}

// vectorTieSlack is how many extra nearest candidates the index search
// fetches so that equal scores at the k-th place still break by chunk id.
const vectorTieSlack = 8

// How a vector search runs is decided by the store where the planner is
// known to decide badly. pgvector's cost estimate at ef_search 400 made the
// planner compare every chunk with the query up to several thousand chunks,
// and each comparison reads an embedding stored out of line (2 KB at 512
// dimensions): 22-34 ms for a bot of 5,000 chunks, where the index answers
// in about 4 ms. So a search among a bot's chunks that are most of the
// index goes through the index; a search among a few (exactVectorMax,
// under a millisecond) compares them all, exactly; in between (a small bot
// next to a large one, whose share of the graph a filtered index search
// would have to dig for) the planner decides, as before.
const exactVectorMax = 200

type vectorPlan int

const (
	planByPlanner vectorPlan = iota
	planExact
	planIndex
)

// vectorSearchSQL is the nearest-neighbour query for one dimension. With
// exact, every matching chunk is compared at full precision
// (cosine_distance, a function call that no index serves). Otherwise the
// inner query repeats the partial index's cast and predicate literally and
// orders by that distance alone, so the planner can use that dimension's
// HNSW index; the outer one orders its candidates by the full-precision
// distance and breaks ties by id.
func (vi *vectorInfo) vectorSearchSQL(dim int, exact bool) string {
	cast, _ := vi.indexCast(dim)
	order := fmt.Sprintf("c.embedding::%[2]s <=> $1::vector(%[1]d)::%[2]s", dim, cast)
	if exact {
		order = "dist"
	}
	return fmt.Sprintf(`
		SELECT `+strings.ReplaceAll(hitCols, "c.", "h.")+`, h.title, h.url, (1 - h.dist)::float8 AS score FROM (
			SELECT `+hitCols+`, a.title, a.url, cosine_distance(c.embedding::vector(%[1]d), $1::vector(%[1]d)) AS dist
			FROM chunks c JOIN articles a ON a.id = c.article_id AND a.status = 'published'
			WHERE c.dim = %[1]d AND c.bot_id = $2 AND c.model = $3 AND ($4 = '' OR c.language = $4)
			ORDER BY `+order+`
			LIMIT $5
		) h
		ORDER BY h.dist, h.id
		LIMIT $6`, dim)
}

// vectorSearchArgs are the parameters of vectorSearchSQL.
func vectorSearchArgs(q baton.ChunkQuery, k int) []any {
	return []any{pgvector.NewVector(q.Embedding), q.BotID, q.Model, q.Language, k + vectorTieSlack, k}
}

// forceIndex are the planner settings turned off to leave it only the
// HNSW index for the inner, distance-ordered query: without a sort, the
// index is the only way to read chunks in distance order. The outer sort
// of the 38 candidates is then costed as disabled too, which passes
// jit_above_cost: JIT compiled that 5 ms query for 140 ms, so it is off.
var forceIndex = []string{"enable_seqscan", "enable_bitmapscan", "enable_sort", "jit"}

// vectorSearchBatch is a vector search in one round trip: the settings
// and the search go in one batch, which runs as one implicit transaction
// (or inside the caller's), so the transaction-local settings last exactly
// as long as the search. For the index they are a larger candidate list
// for recall, (pgvector >= 0.8) iterative scans, so that rows removed by
// the filters do not leave fewer than k hits, and, when the store decided
// so, the index made the only plan. The search is the batch's last query.
func (s *Store) vectorSearchBatch(ctx context.Context, q baton.ChunkQuery) (*pgx.Batch, vectorPlan, error) {
	dim := len(q.Embedding)
	plan := planExact
	if s.vector.indexedDim(dim) {
		// The chunks of the bot (in the language) and all chunks, as the
		// keyword statistics ReplaceChunks keeps count them: a few rows
		// per bot.
		var n, total int64
		if err := s.q().QueryRow(ctx, `SELECT coalesce(sum(chunks) FILTER (WHERE bot_id = $1 AND ($2 = '' OR language = $2)), 0)::bigint,
				coalesce(sum(chunks), 0)::bigint FROM chunk_corpus`, q.BotID, q.Language).Scan(&n, &total); err != nil {
			return nil, 0, wrapErr(err, "vector search: count the chunks")
		}
		switch {
		case n <= exactVectorMax:
		case 2*n >= total:
			plan = planIndex
		default:
			plan = planByPlanner
		}
	}
	k := queryK(q.K)
	b := &pgx.Batch{}
	if plan != planExact {
		// One statement for all the settings.
		set := []string{`set_config('hnsw.ef_search', $1, true)`}
		if s.vector.iterativeScan {
			set = append(set, `set_config('hnsw.iterative_scan', 'strict_order', true)`)
		}
		if plan == planIndex {
			for _, name := range forceIndex {
				set = append(set, `set_config('`+name+`', 'off', true)`)
			}
		}
		b.Queue(`SELECT `+strings.Join(set, ", "), fmt.Sprint(efSearch(k+vectorTieSlack)))
	}
	b.Queue(s.vector.vectorSearchSQL(dim, plan == planExact), vectorSearchArgs(q, k)...)
	return b, plan, nil
}

// SearchVector returns the chunks nearest to q.Embedding by cosine
// similarity (1 - cosine distance), among chunks of the same model and
// dimension: exactly among at most exactVectorMax chunks, through the HNSW
// index among a bot's chunks that are most of the index.
func (s *Store) SearchVector(ctx context.Context, q baton.ChunkQuery) ([]baton.ChunkHit, error) {
	dim := len(q.Embedding)
	switch {
	case q.BotID == "":
		return nil, baton.Errorf(baton.EINVALID, "vector search: bot id is empty")
	case q.Model == "":
		return nil, baton.Errorf(baton.EINVALID, "vector search: model is empty")
	case dim == 0:
		return nil, baton.Errorf(baton.EINVALID, "vector search: the query has no embedding")
	case dim > maxDim:
		return nil, baton.Errorf(baton.EINVALID, "vector search: %d dimensions, the limit is %d", dim, maxDim)
	case isZero(q.Embedding):
		return nil, baton.Errorf(baton.EINVALID, "vector search: the query embedding is all zero (no direction to compare)")
	}
	b, plan, err := s.vectorSearchBatch(ctx, q)
	if err != nil {
		return nil, err
	}
	db := s.q()
	if s.tx != nil && plan == planIndex {
		// The planner settings of the batch last until the end of the
		// transaction: inside the caller's, a savepoint rolled back after
		// the search ends them with it.
		sp, err := s.tx.Begin(ctx)
		if err != nil {
			return nil, wrapErr(err, "vector search")
		}
		defer func() { _ = sp.Rollback(ctx) }()
		db = sp
	}
	br := db.SendBatch(ctx, b)
	defer br.Close()
	for i := 1; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			return nil, wrapErr(err, "vector search: settings")
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrapErr(err, "vector search")
	}
	hits, err := collectHits(rows)
	if err != nil {
		return nil, wrapErr(err, "vector search")
	}
	if err := br.Close(); err != nil {
		return nil, wrapErr(err, "vector search")
	}
	return hits, nil
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
