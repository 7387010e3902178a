-- A counter bumped by every change that can alter vector search results
-- (chunks stored or removed, articles published, unpublished or moved).
-- Readers keep vectors in memory and reload them when it moves; being in
-- the database, it also sees changes made by other processes on the file.
CREATE TABLE kb_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO kb_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER kb_generation_chunk_insert AFTER INSERT ON chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER kb_generation_chunk_delete AFTER DELETE ON chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER kb_generation_chunk_update AFTER UPDATE ON chunks BEGIN
    UPDATE kb_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER kb_generation_article_update AFTER UPDATE OF status, bot_id, language ON articles BEGIN
    UPDATE kb_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER kb_generation_article_delete AFTER DELETE ON articles BEGIN
    UPDATE kb_generation SET generation = generation + 1 WHERE id = 1;
END;
