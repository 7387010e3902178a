-- Keyword search that stems every language Snowball knows, not English
-- alone. FTS5's porter tokenizer only knows English: Turkish and Russian
-- inflections ("iadesi", "возврата") did not find their base forms. The
-- store now writes into fts_text the chunk's words stemmed in its article's
-- language (the text itself for English, which porter keeps stemming, and
-- for languages without a stemmer), and the index is over that column.
-- Rows stored before keep their text: queries also look for each word as
-- written, so they match as they did until their article is saved again.
ALTER TABLE chunks ADD COLUMN fts_text TEXT NOT NULL DEFAULT '';
UPDATE chunks SET fts_text = text;

DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
DROP TRIGGER chunks_fts_update;
DROP TABLE chunks_fts;

CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    fts_text,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, fts_text) VALUES (new.id, new.fts_text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, fts_text) VALUES ('delete', old.id, old.fts_text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF fts_text ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, fts_text) VALUES ('delete', old.id, old.fts_text);
    INSERT INTO chunks_fts (rowid, fts_text) VALUES (new.id, new.fts_text);
END;
INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
