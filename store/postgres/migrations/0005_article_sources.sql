-- What the last import of each slug read from its file (baton.ArticleSource).
CREATE TABLE article_sources (
    bot_id      text        NOT NULL,
    slug        text        NOT NULL,
    file        text        NOT NULL DEFAULT '',
    hash        text        NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (bot_id, slug)
);
