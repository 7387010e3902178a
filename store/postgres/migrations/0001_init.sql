-- Baton schema, version 1.
--
-- Conventions: ids are identity columns; times are timestamptz written from the
-- application's clock (never now(), so that tests can move time); JSON that must
-- round-trip byte for byte (job payloads, message metadata) is json, JSON that is
-- only ever decoded is jsonb; nil Go slices and maps are stored as SQL NULL / JSON
-- null so that they come back nil.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE customers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id      text        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    verified    boolean     NOT NULL DEFAULT false,
    external_id text        NOT NULL DEFAULT '',
    attributes  jsonb,
    erased_at   timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE channel_identities (
    bot_id       text        NOT NULL,
    channel      text        NOT NULL,
    address      text        NOT NULL,
    customer_id  bigint      NOT NULL REFERENCES customers (id),
    opted_out    boolean     NOT NULL DEFAULT false,
    opted_out_at timestamptz,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (bot_id, channel, address)
);
CREATE INDEX channel_identities_customer ON channel_identities (customer_id);

CREATE TABLE conversations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id           text        NOT NULL,
    customer_id      bigint      NOT NULL REFERENCES customers (id),
    channel          text        NOT NULL,
    address          text        NOT NULL DEFAULT '',
    state            text        NOT NULL,
    queue_id         text        NOT NULL DEFAULT '',
    agent_id         text        NOT NULL DEFAULT '',
    priority         integer     NOT NULL DEFAULT 0,
    language         text        NOT NULL DEFAULT '',
    attributes       jsonb,
    last_inbound_at  timestamptz,
    last_outbound_at timestamptz,
    snoozed_until    timestamptz,
    resolved_at      timestamptz,
    version          integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX conversations_customer ON conversations (bot_id, customer_id, channel, id);
CREATE INDEX conversations_state ON conversations (bot_id, state, id);
CREATE INDEX conversations_queue ON conversations (queue_id, id) WHERE queue_id <> '';
CREATE INDEX conversations_agent ON conversations (agent_id, id) WHERE agent_id <> '';

CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    type            text        NOT NULL,
    from_state      text        NOT NULL DEFAULT '',
    to_state        text        NOT NULL DEFAULT '',
    actor           text        NOT NULL DEFAULT '',
    reason          text        NOT NULL DEFAULT '',
    data            jsonb,
    at              timestamptz NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, id);

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    bot_id          text        NOT NULL,
    channel         text        NOT NULL,
    -- NULL when the provider has not given an id yet: NULLs never collide.
    provider_id     text,
    direction       text        NOT NULL,
    author          text        NOT NULL,
    author_id       text        NOT NULL DEFAULT '',
    type            text        NOT NULL DEFAULT 'text',
    text            text        NOT NULL DEFAULT '',
    payload         text        NOT NULL DEFAULT '',
    reply_to        text        NOT NULL DEFAULT '',
    attachments     jsonb,
    status          text        NOT NULL,
    status_code     text        NOT NULL DEFAULT '',
    status_reason   text        NOT NULL DEFAULT '',
    metadata        json,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT messages_provider_id UNIQUE (channel, provider_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE agents (
    id            text PRIMARY KEY,
    bot_id        text        NOT NULL DEFAULT '',
    name          text        NOT NULL DEFAULT '',
    email         text        NOT NULL DEFAULT '',
    skills        text[],
    capacity      jsonb,
    status        text        NOT NULL,
    slack_user_id text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);
CREATE INDEX agents_slack_user ON agents (slack_user_id) WHERE slack_user_id <> '';

CREATE TABLE articles (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id     text        NOT NULL,
    slug       text        NOT NULL,
    version    integer     NOT NULL,
    title      text        NOT NULL DEFAULT '',
    body       text        NOT NULL DEFAULT '',
    language   text        NOT NULL DEFAULT '',
    tags       text[],
    audience   text        NOT NULL DEFAULT '',
    queue_id   text        NOT NULL DEFAULT '',
    skills     text[],
    url        text        NOT NULL DEFAULT '',
    status     text        NOT NULL,
    author     text        NOT NULL DEFAULT '',
    hash       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    CONSTRAINT articles_version UNIQUE (bot_id, slug, version)
);
-- At most one published version per slug, enforced by the database.
CREATE UNIQUE INDEX articles_published ON articles (bot_id, slug) WHERE status = 'published';

CREATE TABLE chunks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id   bigint      NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    bot_id       text        NOT NULL,
    slug         text        NOT NULL,
    language     text        NOT NULL DEFAULT '',
    ord          integer     NOT NULL,
    heading_path text[],
    text         text        NOT NULL,
    hash         text        NOT NULL DEFAULT '',
    model        text        NOT NULL DEFAULT '',
    -- Models differ in dimension, so the column is unconstrained and dim says
    -- which per-dimension HNSW index (created on demand) covers the row.
    dim          integer     NOT NULL DEFAULT 0,
    embedding    vector,
    -- Text search configuration chosen from the chunk's language.
    tsconfig     regconfig   NOT NULL DEFAULT 'simple',
    tsv          tsvector GENERATED ALWAYS AS (to_tsvector(tsconfig, text)) STORED,
    -- length(tsv), kept apart so that corpus statistics for ranking come
    -- from an index-only scan instead of reading every tsvector.
    lexemes      integer     NOT NULL DEFAULT 0
);
CREATE INDEX chunks_article ON chunks (article_id, ord);
CREATE INDEX chunks_bot ON chunks (bot_id, language) INCLUDE (lexemes);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

CREATE TABLE jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL,
    conversation_id bigint      NOT NULL DEFAULT 0,
    -- NULL when the job has no idempotency key.
    key             text,
    payload         json,
    status          text        NOT NULL,
    run_at          timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    max_attempts    integer     NOT NULL,
    lease_owner     text        NOT NULL DEFAULT '',
    lease_until     timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT jobs_key UNIQUE (key)
);
-- Claiming walks live jobs in (run_at, id) order and stops at the first
-- runnable one; finished jobs stay out of the index.
CREATE INDEX jobs_live ON jobs (run_at, id) WHERE status IN ('pending', 'running');
-- The per-conversation ordering checks: earlier live jobs, and held leases.
CREATE INDEX jobs_conversation_live ON jobs (conversation_id, id)
    WHERE status IN ('pending', 'running') AND conversation_id <> 0;
CREATE INDEX jobs_conversation_running ON jobs (conversation_id)
    WHERE status = 'running' AND conversation_id <> 0;
CREATE INDEX jobs_kind ON jobs (kind, id);
-- A queue table churns: keep its statistics and dead rows in check.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- baton_next_job finds and row-locks (SKIP LOCKED) the next runnable job:
-- due pending jobs and expired leases, in (run_at, id) order, skipping jobs
-- whose conversation has a job holding a lease or an earlier job that is due
-- or waiting for a retry (a never-run timer that is not due does not block).
-- It walks jobs_live in order and stops at the first hit whatever the
-- statistics say: a queue that was empty when last analysed and now holds a
-- backlog would otherwise be sorted in full on every claim.
CREATE FUNCTION baton_next_job(p_now timestamptz, p_kinds text[], p_skip_convs bigint[], p_skip_jobs bigint[])
RETURNS TABLE (job_id bigint, job_conversation_id bigint)
LANGUAGE plpgsql
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
BEGIN
    RETURN QUERY
    SELECT j.id, j.conversation_id FROM jobs j
    WHERE j.status IN ('pending', 'running')
        AND ((j.status = 'pending' AND j.run_at <= p_now) OR (j.status = 'running' AND j.lease_until <= p_now))
        AND (cardinality(p_kinds) = 0 OR j.kind = ANY (p_kinds))
        AND NOT (j.conversation_id = ANY (p_skip_convs))
        AND NOT (j.id = ANY (p_skip_jobs))
        AND (j.conversation_id = 0 OR (
            NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0
                    AND k.status = 'running' AND k.lease_until > p_now)
            AND NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0 AND k.id < j.id
                    AND k.status IN ('pending', 'running') AND (k.attempts > 0 OR k.run_at <= p_now))))
    ORDER BY j.run_at, j.id
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED;
END
$$;
