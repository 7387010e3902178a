-- Baton schema, version 1. Times are microseconds since the Unix epoch (UTC);
-- JSON columns hold maps and slices; NULL means "not set".

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    bot_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    verified    INTEGER NOT NULL DEFAULT 0,
    external_id TEXT    NOT NULL DEFAULT '',
    attributes  TEXT,
    erased_at   INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE channel_identities (
    bot_id       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    opted_out    INTEGER NOT NULL DEFAULT 0,
    opted_out_at INTEGER,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (bot_id, channel, address)
) WITHOUT ROWID;
CREATE INDEX channel_identities_customer ON channel_identities (customer_id);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    bot_id           TEXT    NOT NULL,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    channel          TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    queue_id         TEXT    NOT NULL DEFAULT '',
    agent_id         TEXT    NOT NULL DEFAULT '',
    priority         INTEGER NOT NULL DEFAULT 0,
    language         TEXT    NOT NULL DEFAULT '',
    attributes       TEXT,
    last_inbound_at  INTEGER,
    last_outbound_at INTEGER,
    snoozed_until    INTEGER,
    resolved_at      INTEGER,
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX conversations_customer ON conversations (customer_id, bot_id, channel, id);
CREATE INDEX conversations_state ON conversations (bot_id, state, id);
CREATE INDEX conversations_queue ON conversations (queue_id, id) WHERE queue_id <> '';
CREATE INDEX conversations_agent ON conversations (agent_id, id) WHERE agent_id <> '';

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    type            TEXT    NOT NULL,
    from_state      TEXT    NOT NULL DEFAULT '',
    to_state        TEXT    NOT NULL DEFAULT '',
    actor           TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL DEFAULT '',
    data            TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    bot_id          TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    provider_id     TEXT,
    direction       TEXT    NOT NULL,
    author          TEXT    NOT NULL,
    author_id       TEXT    NOT NULL DEFAULT '',
    type            TEXT    NOT NULL,
    text            TEXT    NOT NULL DEFAULT '',
    payload         TEXT    NOT NULL DEFAULT '',
    reply_to        TEXT    NOT NULL DEFAULT '',
    attachments     TEXT,
    status          TEXT    NOT NULL,
    status_code     TEXT    NOT NULL DEFAULT '',
    status_reason   TEXT    NOT NULL DEFAULT '',
    metadata        TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Provider retries are deduplicated by this key (NULL provider ids never clash).
CREATE UNIQUE INDEX messages_provider ON messages (channel, provider_id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    bot_id        TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    skills        TEXT,
    capacity      TEXT,
    status        TEXT    NOT NULL,
    slack_user_id TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX agents_slack ON agents (slack_user_id) WHERE slack_user_id <> '';

CREATE TABLE articles (
    id         INTEGER PRIMARY KEY,
    bot_id     TEXT    NOT NULL,
    slug       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    title      TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL DEFAULT '',
    language   TEXT    NOT NULL DEFAULT '',
    tags       TEXT,
    audience   TEXT    NOT NULL DEFAULT '',
    queue_id   TEXT    NOT NULL DEFAULT '',
    skills     TEXT,
    url        TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL,
    author     TEXT    NOT NULL DEFAULT '',
    hash       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (bot_id, slug, version)
);
-- At most one published version per slug, whatever the code does.
CREATE UNIQUE INDEX articles_published ON articles (bot_id, slug) WHERE status = 'published';

CREATE TABLE chunks (
    id           INTEGER PRIMARY KEY,
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ord          INTEGER NOT NULL,
    heading_path TEXT,
    text         TEXT    NOT NULL,
    hash         TEXT    NOT NULL DEFAULT '',
    model        TEXT    NOT NULL DEFAULT '',
    dim          INTEGER NOT NULL DEFAULT 0,
    embedding    BLOB
);
CREATE INDEX chunks_article ON chunks (article_id, ord);
CREATE INDEX chunks_model ON chunks (model, dim) WHERE model <> '';

-- Keyword index over chunk text, kept in step by triggers. Porter stemming
-- on top of unicode61 (diacritics folded) so "refunds" finds "refund".
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    text,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    key             TEXT,
    payload         TEXT,
    status          TEXT    NOT NULL,
    run_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX jobs_key ON jobs (key);
-- The claim query walks these two small indexes; done and dead jobs are in
-- neither.
CREATE INDEX jobs_pending ON jobs (run_at, id) WHERE status = 'pending';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_active_conversation ON jobs (conversation_id, id) WHERE status IN ('pending', 'running');
CREATE INDEX jobs_kind ON jobs (kind, id);
