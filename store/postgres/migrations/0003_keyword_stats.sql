-- Keyword ranking from an inverted index and corpus statistics kept by
-- ReplaceChunks (the only writer of chunks). Ranking from the chunks table
-- read every matching chunk's row and tsvector and counted the corpus on
-- every query: 71 ms median, 180 ms p99 at 50,000 chunks, where a common
-- word matches thousands of chunks. From chunk_postings the same BM25 is an
-- index-only range scan per query word.
--
-- chunk_terms: how many of the bot's chunks in a language hold a lexeme
-- (drafts and old versions included, as before: they barely move it).
-- Rows that drop to zero stay; they cost nothing at query time.
CREATE TABLE chunk_terms (
    bot_id   text    NOT NULL,
    language text    NOT NULL,
    lexeme   text    NOT NULL,
    df       integer NOT NULL,
    PRIMARY KEY (bot_id, language, lexeme)
);

-- chunk_corpus: per bot and language, the number of chunks and the sum of
-- their distinct-lexeme counts (the BM25 average length), with the text
-- search configuration the chunks were indexed with (a query without a
-- language parses its words once per configuration in play).
CREATE TABLE chunk_corpus (
    bot_id   text      NOT NULL,
    language text      NOT NULL,
    tsconfig regconfig NOT NULL,
    chunks   bigint    NOT NULL,
    lexemes  bigint    NOT NULL,
    PRIMARY KEY (bot_id, language, tsconfig)
);

-- chunk_postings: one row per chunk and lexeme, with what BM25 needs: the
-- lexeme's occurrences in the chunk (tf, = ts_rank_cd's count) and the
-- chunk's distinct-lexeme count (len); article_id filters published chunks
-- without reading the chunks table.
CREATE TABLE chunk_postings (
    bot_id     text    NOT NULL,
    language   text    NOT NULL,
    lexeme     text    NOT NULL,
    chunk_id   bigint  NOT NULL,
    article_id bigint  NOT NULL,
    tf         integer NOT NULL,
    len        integer NOT NULL,
    PRIMARY KEY (bot_id, language, lexeme, chunk_id) INCLUDE (article_id, tf, len)
);

INSERT INTO chunk_postings (bot_id, language, lexeme, chunk_id, article_id, tf, len)
SELECT c.bot_id, c.language, u.lexeme, c.id, c.article_id, greatest(cardinality(u.positions), 1), c.lexemes
FROM chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u;

INSERT INTO chunk_terms (bot_id, language, lexeme, df)
SELECT c.bot_id, c.language, l.lexeme, count(*)
FROM chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv)) AS l(lexeme)
GROUP BY 1, 2, 3;

INSERT INTO chunk_corpus (bot_id, language, tsconfig, chunks, lexemes)
SELECT bot_id, language, tsconfig, count(*), sum(lexemes)
FROM chunks
GROUP BY 1, 2, 3;
