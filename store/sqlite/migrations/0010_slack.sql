-- The Slack console's way back: the card and thread of each conversation
-- per workspace, and the event ids of Slack's deliveries already handled.

CREATE TABLE slack_threads (
    team_id         TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    channel_id      TEXT    NOT NULL,
    message_ts      TEXT    NOT NULL,
    thread_ts       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (team_id, conversation_id),
    -- A reply in a thread reaches one conversation.
    UNIQUE (team_id, channel_id, thread_ts)
);
CREATE INDEX slack_threads_conversation ON slack_threads (conversation_id);

CREATE TABLE slack_events (
    team_id  TEXT    NOT NULL,
    event_id TEXT    NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (team_id, event_id)
);
CREATE INDEX slack_events_seen ON slack_events (seen_at);
