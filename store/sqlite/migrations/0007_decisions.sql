-- The bot's decision record, one row per turn, read back by conversation
-- (the bot's recent memory, the admin view).
CREATE TABLE decisions (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    message_id      INTEGER NOT NULL DEFAULT 0,
    action          TEXT    NOT NULL,
    analysis        TEXT,
    citations       TEXT,
    triggers        TEXT,
    took_us         INTEGER NOT NULL DEFAULT 0,
    detail          TEXT    NOT NULL DEFAULT '',
    state           TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX decisions_conversation ON decisions (conversation_id, id);

-- One handoff packet per escalated conversation; a transfer replaces it.
CREATE TABLE handoff_packets (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    packet          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
