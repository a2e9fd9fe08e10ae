-- Session records: what happened in each co-browse session, for reports and audits.
--
-- Shipped migrations are never edited; a change to the schema is a new numbered file.
--
-- Conventions (the PostgreSQL backend keeps the same meaning in its own types):
-- - times are INTEGER microseconds since the Unix epoch, UTC: they sort and compare as numbers,
--   and microseconds are what PostgreSQL's timestamptz keeps, so both backends return equal times;
-- - record IDs are UUIDs as lowercase hyphenated TEXT;
-- - modes, roles and end reasons are their wire strings (`write`, `agent`, `customer_exit`), with
--   no CHECK listing them, so a new protocol value never needs a table rebuild; a value the code
--   does not know is reported as corrupt when read.

-- One row per session. The public session ID is unique only among live sessions and is reused
-- later, so the record ID is the key.
CREATE TABLE sessions (
    record_id   TEXT    NOT NULL PRIMARY KEY,
    session_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    -- The first agent join; NULL while no agent has joined.
    joined_at   INTEGER,
    ended_at    INTEGER,
    -- The latest agent to join (every join is in session_joins).
    agent_id    TEXT,
    agent_name  TEXT,
    -- The chat or call the session rode on, and the site origin it was started from.
    interaction TEXT,
    origin      TEXT,
    end_reason  TEXT,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CHECK ((joined_at IS NULL) = (agent_id IS NULL) AND (agent_id IS NULL) = (agent_name IS NULL))
) STRICT;

-- Newest-first listings and the `since` filter.
CREATE INDEX sessions_created_at ON sessions (created_at);
-- Looking a public session ID up (several records over time).
CREATE INDEX sessions_session_id ON sessions (session_id, created_at);
-- Records still open: closed at startup after a crash; live counts for reports.
CREATE INDEX sessions_open ON sessions (created_at) WHERE ended_at IS NULL;

-- Every agent join, in order: a second agent, or an agent who left and another who came.
CREATE TABLE session_joins (
    id         INTEGER NOT NULL PRIMARY KEY,
    record_id  TEXT    NOT NULL REFERENCES sessions (record_id) ON DELETE CASCADE,
    agent_id   TEXT    NOT NULL,
    agent_name TEXT    NOT NULL,
    at         INTEGER NOT NULL
) STRICT;

CREATE INDEX session_joins_record ON session_joins (record_id, id);
-- The `agent_id` filter: every session an agent took part in.
CREATE INDEX session_joins_agent ON session_joins (agent_id, record_id);

-- Every mode change, in order.
CREATE TABLE session_modes (
    id        INTEGER NOT NULL PRIMARY KEY,
    record_id TEXT    NOT NULL REFERENCES sessions (record_id) ON DELETE CASCADE,
    mode      TEXT    NOT NULL,
    by_role   TEXT    NOT NULL,
    at        INTEGER NOT NULL
) STRICT;

CREATE INDEX session_modes_record ON session_modes (record_id, id);

-- Every page the customer visited, in order (the server drops repeats before they get here).
CREATE TABLE session_pages (
    id        INTEGER NOT NULL PRIMARY KEY,
    record_id TEXT    NOT NULL REFERENCES sessions (record_id) ON DELETE CASCADE,
    url       TEXT    NOT NULL,
    title     TEXT    NOT NULL,
    at        INTEGER NOT NULL
) STRICT;

CREATE INDEX session_pages_record ON session_pages (record_id, id);
