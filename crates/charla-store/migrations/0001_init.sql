-- 0001: initial schema. Passwords are never stored here (they live in the OS keyring).

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    jid         TEXT    NOT NULL UNIQUE,                -- bare JID
    host        TEXT,                                   -- server host override
    port        INTEGER CHECK (port IS NULL OR port BETWEEN 1 AND 65535),
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    roster_ver  TEXT,                                   -- RFC 6121 roster version of the cache
    created_at  INTEGER NOT NULL                        -- unix ms
);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    jid          TEXT    NOT NULL,                      -- bare JID
    name         TEXT,
    subscription TEXT    NOT NULL
                 CHECK (subscription IN ('none', 'to', 'from', 'both', 'remove')),
    ask_pending  INTEGER NOT NULL DEFAULT 0 CHECK (ask_pending IN (0, 1)),
    UNIQUE (account_id, jid)
);

CREATE TABLE contact_groups (
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    PRIMARY KEY (contact_id, name)
) WITHOUT ROWID;

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    peer          TEXT    NOT NULL,                     -- bare JID
    kind          TEXT    NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat')),
    last_activity INTEGER,                              -- unix ms
    UNIQUE (account_id, peer, kind)
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    sender          TEXT    NOT NULL,                   -- full or bare JID of the author
    body            TEXT    NOT NULL,
    server_time     INTEGER,                            -- unix ms, from the server / delay stamp
    local_time      INTEGER NOT NULL,                   -- unix ms, when it was stored
    origin_id       TEXT,                               -- XEP-0359 origin-id
    stanza_id       TEXT,                               -- XEP-0359 stanza-id (only if trusted)
    stanza_id_by    TEXT,                               -- JID that assigned stanza_id
    state           TEXT    NOT NULL CHECK (state IN
                    ('received', 'pending', 'sent', 'delivered', 'displayed', 'failed')),
    error           TEXT
);

-- Keyset paging of a conversation's history.
CREATE INDEX messages_conversation_page ON messages (conversation_id, id);

-- Deduplication keys.
CREATE UNIQUE INDEX messages_stanza_id ON messages (conversation_id, stanza_id)
    WHERE stanza_id IS NOT NULL;
CREATE UNIQUE INDEX messages_origin_id ON messages (conversation_id, direction, origin_id)
    WHERE origin_id IS NOT NULL;

-- Outgoing messages still waiting to be sent (a small set).
CREATE INDEX messages_pending_out ON messages (id)
    WHERE direction = 'out' AND state = 'pending';
