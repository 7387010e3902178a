-- Questions the KB did not answer well (baton.Gap): the KB authors' to-do
-- list. Questions arrive already redacted.
CREATE TABLE gaps (
    id              INTEGER PRIMARY KEY,
    bot_id          TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER NOT NULL DEFAULT 0,
    question        TEXT    NOT NULL,
    language        TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL,
    grounded        REAL    NOT NULL DEFAULT 0,
    at              INTEGER NOT NULL
);
CREATE INDEX gaps_bot_at ON gaps (bot_id, at, id);
