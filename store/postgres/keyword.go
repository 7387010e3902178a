package postgres

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
)

// BM25 parameters: term-frequency saturation and length normalisation.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// keywordSQL ranks from chunk_postings, chunk_terms and chunk_corpus
// (migration 3, kept by ReplaceChunks). $1 bot, $2 language (” for all),
// $3 words, $4 k.
func keywordSQL() string {
	return `
	WITH langs AS (
		SELECT language, tsconfig, chunks, lexemes FROM chunk_corpus
		WHERE bot_id = $1 AND ($2 = '' OR language = $2) AND chunks > 0
	), corpus AS (
		SELECT sum(chunks)::float8 AS n, greatest(sum(lexemes)::float8 / sum(chunks)::float8, 1) AS avglen FROM langs
	), wl AS (
		-- Each word parsed once per language in play, with that language's
		-- configuration; stop words have no lexeme and drop out.
		SELECT w.i, l.language, tsvector_to_array(to_tsvector(l.tsconfig, w.word)) AS lexemes
		FROM unnest($3::text[]) WITH ORDINALITY AS w(word, i) CROSS JOIN langs l
	), df AS MATERIALIZED (
		-- A word stemming to several lexemes is in at most as many chunks
		-- as its rarest lexeme.
		-- One primary-key lookup per lexeme, as a scalar subquery so that
		-- no plan (statistics or not) reads the bot's whole vocabulary.
		SELECT wl.i, sum((SELECT coalesce(min(greatest(coalesce(
				(SELECT t.df FROM chunk_terms t WHERE t.bot_id = $1 AND t.language = wl.language AND t.lexeme = u.lexeme),
			0), 0)), 0)
			FROM unnest(wl.lexemes) AS u(lexeme))) AS df
		FROM wl WHERE cardinality(wl.lexemes) > 0
		GROUP BY wl.i
	), terms AS MATERIALIZED (
		-- Materialised, and float8 throughout: the score is computed once
		-- per posting, thousands of times, where numeric arithmetic and
		-- an idf recomputed per row cost more than the index scan.
		SELECT wl.language, u.lexeme, ln(1 + greatest(corpus.n - df.df + 0.5, 0.5) / (df.df + 0.5))::float8 AS idf
		FROM wl JOIN df USING (i) CROSS JOIN corpus CROSS JOIN LATERAL unnest(wl.lexemes) AS u(lexeme)
		WHERE df.df > 0
	), scored AS (
		SELECT p.chunk_id, p.article_id,
			sum(t.idf * p.tf * ` + fmt.Sprint(bm25K1+1) + `::float8 / (p.tf + ` + fmt.Sprint(bm25K1) + `::float8 * (` + fmt.Sprint(1-bm25B) + `::float8 + ` + fmt.Sprint(bm25B) + `::float8 * p.len / corpus.avglen))) AS score
		FROM terms t CROSS JOIN corpus
			-- A posting list read per query word, whatever the statistics
			-- say: OFFSET 0 keeps the planner from flattening the lateral
			-- subquery and turning the join around. A bot whose chunks
			-- arrived after the last ANALYZE looks empty to the planner,
			-- which then read every posting of the bot and matched each
			-- against the words (60 ms for a new 2,000-chunk bot next to a
			-- 50,000-chunk one, and autovacuum's 10 % threshold may never
			-- come).
			CROSS JOIN LATERAL (
				SELECT p.chunk_id, p.article_id, p.tf, p.len FROM chunk_postings p
				WHERE p.bot_id = $1 AND p.language = t.language AND p.lexeme = t.lexeme
				OFFSET 0
			) p
		GROUP BY p.chunk_id, p.article_id
	), top AS (
		-- Published chunks only, checked against one hash of the bot's
		-- published article ids. Written as a join (or a bare IN, which
		-- the planner turns into one), the check was a primary-key lookup
		-- per scored chunk: the planner cannot know how many chunks the
		-- words match (it guesses a few dozen), and a common word matches
		-- thousands (3,751 lookups, half of a 6.8 ms search at 5,000
		-- chunks). IS TRUE keeps the IN a subplan, which PostgreSQL hashes
		-- while the ids fit in work_mem (some 100,000 articles at the
		-- defaults).
		SELECT s.chunk_id, s.score
		FROM scored s
		WHERE (s.article_id IN (SELECT a.id FROM articles a WHERE a.bot_id = $1 AND a.status = 'published')) IS TRUE
		ORDER BY s.score DESC, s.chunk_id
		LIMIT $4
	)
	SELECT ` + hitCols + `, a.title, a.url, top.score::float8
	FROM top JOIN chunks c ON c.id = top.chunk_id JOIN articles a ON a.id = c.article_id
	ORDER BY top.score DESC, c.id`
}

// SearchKeyword ranks published chunks containing any of the words of
// q.Text with BM25. Each word is parsed on its own with the text search
// configuration of each language in play (the query's, or every language
// of the bot's chunks), so user text is never parsed as query syntax and
// words are stemmed per language. ts_rank_cd alone has no inverse document
// frequency, so a passage repeating a common word ("days") would outrank
// the one holding the rare word that matters ("refund"): the score is
// therefore
// sum over words of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)),
// with tf the word's occurrences in the chunk, idf from the share of the
// bot's chunks (in the language) containing it, and len the chunk's number
// of distinct lexemes. Everything comes from the inverted index
// chunk_postings and the statistics ReplaceChunks keeps next to it: a
// common word matching thousands of chunks costs an index range scan, not
// thousands of chunk rows read and ranked. Only the top k are joined back
// to their columns.
func (s *Store) SearchKeyword(ctx context.Context, q baton.ChunkQuery) ([]baton.ChunkHit, error) {
	if q.BotID == "" {
		return nil, baton.Errorf(baton.EINVALID, "keyword search: bot id is empty")
	}
	words := uniqueFold(queryWords(q.Text))
	if len(words) == 0 {
		return nil, nil
	}
	rows, err := s.q().Query(ctx, keywordSQL(), q.BotID, q.Language, words, queryK(q.K))
	if err != nil {
		return nil, wrapErr(err, "keyword search")
	}
	hits, err := collectHits(rows)
	if err != nil {
		return nil, wrapErr(err, "keyword search")
	}
	return hits, nil
}
