-- Primary interactions (chats and calls) that co-browse sessions ride on, chat transcripts, and
-- the webhook delivery log. Same conventions as 0001: microsecond times, wire strings for enums.

-- One row per chat or call.
CREATE TABLE interactions (
    interaction_id TEXT    NOT NULL PRIMARY KEY,
    -- 'chat' or 'voice'.
    kind           TEXT    NOT NULL,
    -- The customer's name (chat) or the caller reference the telephony system gave (voice).
    customer       TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    -- The agent handling it now; NULL while a chat waits in the queue.
    agent_id       TEXT,
    assigned_at    INTEGER,
    ended_at       INTEGER,
    -- Why it ended: customer_left, agent_ended, transferred, conferenced, call_ended, ...
    end_reason     TEXT,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
) STRICT;

CREATE INDEX interactions_started ON interactions (started_at);
CREATE INDEX interactions_agent ON interactions (agent_id, started_at);

-- Chat transcripts: one row per message, numbered per chat from 1.
CREATE TABLE chat_messages (
    interaction_id TEXT    NOT NULL REFERENCES interactions (interaction_id) ON DELETE CASCADE,
    message_id     INTEGER NOT NULL,
    -- 'customer', 'agent' or 'system'.
    author         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    sent_at        INTEGER NOT NULL,
    PRIMARY KEY (interaction_id, message_id)
) STRICT;

-- Every attempt to deliver a webhook event.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    -- The HTTP status the endpoint answered, or NULL when it did not answer.
    status      INTEGER,
    -- 'delivered', 'retrying' or 'failed'.
    outcome     TEXT    NOT NULL,
    error       TEXT,
    at          INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
