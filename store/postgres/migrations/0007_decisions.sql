-- The bot's decision record, one row per turn, read back by conversation
-- (the bot's recent memory, the admin view). The state is the bot's own
-- JSON and round-trips byte for byte (json); the rest is only decoded (jsonb).
CREATE TABLE decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    message_id      bigint      NOT NULL DEFAULT 0,
    action          text        NOT NULL,
    analysis        jsonb,
    citations       jsonb,
    triggers        jsonb,
    took_us         bigint      NOT NULL DEFAULT 0,
    detail          text        NOT NULL DEFAULT '',
    state           json,
    created_at      timestamptz NOT NULL
);
CREATE INDEX decisions_conversation ON decisions (conversation_id, id);

-- One handoff packet per escalated conversation; a transfer replaces it.
CREATE TABLE handoff_packets (
    conversation_id bigint      PRIMARY KEY REFERENCES conversations (id),
    packet          jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
