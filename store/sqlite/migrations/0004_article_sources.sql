-- What the last import of each slug read from its file (baton.ArticleSource).
CREATE TABLE article_sources (
    bot_id      TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    file        TEXT    NOT NULL DEFAULT '',
    hash        TEXT    NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (bot_id, slug)
);
