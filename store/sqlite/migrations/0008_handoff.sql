-- What the human queue needs: the SLA clocks on the conversation, the
-- agent's last assignment (routing's tie-break), satisfaction surveys and
-- agent tokens.

ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_response_due INTEGER;
ALTER TABLE conversations ADD COLUMN next_response_due INTEGER;
ALTER TABLE conversations ADD COLUMN first_agent_reply_at INTEGER;
ALTER TABLE conversations ADD COLUMN last_agent_reply_at INTEGER;
ALTER TABLE conversations ADD COLUMN resolutions INTEGER NOT NULL DEFAULT 0;

-- The clocks of conversations that exist already, from their history.
UPDATE conversations SET
    resolutions = (SELECT count(*) FROM events e
        WHERE e.conversation_id = conversations.id AND e.type = 'transition' AND e.to_state = 'resolved'),
    queued_at = (SELECT max(e.at) FROM events e
        WHERE e.conversation_id = conversations.id AND e.type = 'transition' AND e.to_state = 'queued' AND e.from_state <> 'queued'),
    assigned_at = (SELECT max(e.at) FROM events e
        WHERE e.conversation_id = conversations.id AND e.type = 'transition' AND e.to_state = 'assigned' AND e.from_state <> 'snoozed'),
    first_agent_reply_at = (SELECT min(m.created_at) FROM messages m
        WHERE m.conversation_id = conversations.id AND m.direction = 'out' AND m.author = 'agent'),
    last_agent_reply_at = (SELECT max(m.created_at) FROM messages m
        WHERE m.conversation_id = conversations.id AND m.direction = 'out' AND m.author = 'agent');

-- An agent's load: AssignConversation counts it under the agent's lock,
-- AgentLoads for every agent at once. Resolved conversations keep their
-- agent_id and are not in it.
CREATE INDEX conversations_open_agent ON conversations (agent_id, channel) WHERE state IN ('assigned', 'snoozed');

ALTER TABLE agents ADD COLUMN last_assigned_at INTEGER;

-- One survey per resolution episode of a conversation.
CREATE TABLE csat (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    resolution      INTEGER NOT NULL,
    bot_id          TEXT    NOT NULL,
    queue_id        TEXT    NOT NULL DEFAULT '',
    agent_id        TEXT    NOT NULL DEFAULT '',
    channel         TEXT    NOT NULL,
    bot_resolved    INTEGER NOT NULL DEFAULT 0,
    rating          INTEGER NOT NULL DEFAULT 0,
    comment         TEXT    NOT NULL DEFAULT '',
    requested_at    INTEGER NOT NULL,
    answered_at     INTEGER,
    UNIQUE (conversation_id, resolution)
);
CREATE INDEX csat_requested ON csat (requested_at, id);

-- Agent tokens by digest: the secret itself is never stored.
CREATE TABLE agent_tokens (
    id         INTEGER PRIMARY KEY,
    agent_id   TEXT    NOT NULL REFERENCES agents (id),
    name       TEXT    NOT NULL,
    prefix     TEXT    NOT NULL DEFAULT '',
    hash       BLOB    NOT NULL UNIQUE,
    expires_at INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX agent_tokens_agent ON agent_tokens (agent_id, id);
