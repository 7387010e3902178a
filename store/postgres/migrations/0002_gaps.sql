-- Questions the KB did not answer well (baton.Gap): the KB authors' to-do
-- list. Questions arrive already redacted. Conversation and message ids are
-- references for the reader, not foreign keys: a gap outlives erasure.
CREATE TABLE gaps (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id          text             NOT NULL,
    conversation_id bigint           NOT NULL DEFAULT 0,
    message_id      bigint           NOT NULL DEFAULT 0,
    question        text             NOT NULL,
    language        text             NOT NULL DEFAULT '',
    reason          text             NOT NULL,
    grounded        double precision NOT NULL DEFAULT 0,
    at              timestamptz      NOT NULL
);
CREATE INDEX gaps_bot_at ON gaps (bot_id, at, id);
