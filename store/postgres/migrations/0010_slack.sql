-- The Slack console's way back: the card and thread of each conversation
-- per workspace, and the event ids of Slack's deliveries already handled.

CREATE TABLE slack_threads (
    team_id         text        NOT NULL,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    channel_id      text        NOT NULL,
    message_ts      text        NOT NULL,
    thread_ts       text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT slack_threads_conversation PRIMARY KEY (team_id, conversation_id),
    -- A reply in a thread reaches one conversation.
    CONSTRAINT slack_threads_root UNIQUE (team_id, channel_id, thread_ts)
);
CREATE INDEX slack_threads_conversation_id ON slack_threads (conversation_id);

CREATE TABLE slack_events (
    team_id  text        NOT NULL,
    event_id text        NOT NULL,
    seen_at  timestamptz NOT NULL,
    CONSTRAINT slack_events_pkey PRIMARY KEY (team_id, event_id)
);
CREATE INDEX slack_events_seen ON slack_events (seen_at);
