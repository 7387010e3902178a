-- What the human queue needs: the SLA clocks on the conversation, the
-- agent's last assignment (routing's tie-break), satisfaction surveys and
-- agent tokens.

ALTER TABLE conversations
    ADD COLUMN queued_at            timestamptz,
    ADD COLUMN assigned_at          timestamptz,
    ADD COLUMN first_response_due   timestamptz,
    ADD COLUMN next_response_due    timestamptz,
    ADD COLUMN first_agent_reply_at timestamptz,
    ADD COLUMN last_agent_reply_at  timestamptz,
    ADD COLUMN resolutions          integer NOT NULL DEFAULT 0;

-- The clocks of conversations that exist already, from their history.
UPDATE conversations c SET
    resolutions = (SELECT count(*) FROM events e
        WHERE e.conversation_id = c.id AND e.type = 'transition' AND e.to_state = 'resolved'),
    queued_at = (SELECT max(e.at) FROM events e
        WHERE e.conversation_id = c.id AND e.type = 'transition' AND e.to_state = 'queued' AND e.from_state <> 'queued'),
    assigned_at = (SELECT max(e.at) FROM events e
        WHERE e.conversation_id = c.id AND e.type = 'transition' AND e.to_state = 'assigned' AND e.from_state <> 'snoozed'),
    first_agent_reply_at = (SELECT min(m.created_at) FROM messages m
        WHERE m.conversation_id = c.id AND m.direction = 'out' AND m.author = 'agent'),
    last_agent_reply_at = (SELECT max(m.created_at) FROM messages m
        WHERE m.conversation_id = c.id AND m.direction = 'out' AND m.author = 'agent');

-- An agent's load: AssignConversation counts it under the agent's row
-- lock, AgentLoads for every agent at once. Resolved conversations keep
-- their agent_id and are not in it.
CREATE INDEX conversations_open_agent ON conversations (agent_id, channel) WHERE state IN ('assigned', 'snoozed');

ALTER TABLE agents ADD COLUMN last_assigned_at timestamptz;

-- One survey per resolution episode of a conversation.
CREATE TABLE csat (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    resolution      integer     NOT NULL,
    bot_id          text        NOT NULL,
    queue_id        text        NOT NULL DEFAULT '',
    agent_id        text        NOT NULL DEFAULT '',
    channel         text        NOT NULL,
    bot_resolved    boolean     NOT NULL DEFAULT false,
    rating          integer     NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    comment         text        NOT NULL DEFAULT '',
    requested_at    timestamptz NOT NULL,
    answered_at     timestamptz,
    CONSTRAINT csat_episode UNIQUE (conversation_id, resolution)
);
CREATE INDEX csat_requested ON csat (requested_at, id);

-- Agent tokens by digest: the secret itself is never stored.
CREATE TABLE agent_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id   text        NOT NULL REFERENCES agents (id),
    name       text        NOT NULL,
    prefix     text        NOT NULL DEFAULT '',
    hash       bytea       NOT NULL CONSTRAINT agent_tokens_hash UNIQUE,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX agent_tokens_agent ON agent_tokens (agent_id, id);
