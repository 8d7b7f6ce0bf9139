-- 0008: group chats (XEP-0045). A room is kept per account with our nick in it and what the
-- user chose (autojoin, bookmarked); whether we are in it now is live state of the session and
-- is not stored. A password-protected room's password is never stored here (see
-- no_table_has_a_password_column): the session keeps it while it runs.
CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    jid           TEXT    NOT NULL,                     -- the room's bare JID
    nick          TEXT    NOT NULL,                     -- our nick in it
    name          TEXT,
    subject       TEXT,
    autojoin      INTEGER NOT NULL DEFAULT 1 CHECK (autojoin IN (0, 1)),
    bookmarked    INTEGER NOT NULL DEFAULT 0 CHECK (bookmarked IN (0, 1)),
    last_activity INTEGER,                              -- unix ms
    UNIQUE (account_id, jid)
);

-- A room's lines, apart from one-to-one messages: their author is an occupant (nick, XEP-0421
-- occupant-id, the real JID where the room shows it), their stanza-id is the room's (XEP-0359
-- `by` the room's bare JID, never our server's), they get no receipts, and they are paged and
-- deduplicated per room.
CREATE TABLE room_messages (
    id           INTEGER PRIMARY KEY,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    nick         TEXT    NOT NULL,                      -- the author's nick, as sent
    occupant_id  TEXT,                                  -- XEP-0421, only from the room
    real_jid     TEXT,                                  -- non-anonymous rooms only
    body         TEXT    NOT NULL,
    server_time  INTEGER,                               -- unix ms
    local_time   INTEGER NOT NULL,                      -- unix ms, when stored
    origin_id    TEXT,                                  -- XEP-0359 origin-id
    stanza_id    TEXT,                                  -- XEP-0359 stanza-id by the room
    state        TEXT    NOT NULL CHECK (state IN ('received', 'pending', 'sent', 'failed')),
    error        TEXT
);

-- Keyset paging of a room's history, and its newest stanza-id (where catch-up resumes).
CREATE INDEX room_messages_page ON room_messages (room_id, id);
-- Deduplication keys: the room's stanza-id, then our own lines by origin-id (their reflection
-- by the room). Another occupant's origin-id is only looked up with its nick, for rooms that
-- stamp no stanza-id: an occupant must not be able to hide another's line by reusing its id.
CREATE UNIQUE INDEX room_messages_stanza_id ON room_messages (room_id, stanza_id)
    WHERE stanza_id IS NOT NULL;
CREATE UNIQUE INDEX room_messages_own_origin_id ON room_messages (room_id, origin_id)
    WHERE direction = 'out' AND origin_id IS NOT NULL;
CREATE INDEX room_messages_origin_id ON room_messages (room_id, origin_id)
    WHERE direction = 'in' AND origin_id IS NOT NULL;
-- Lines we wrote still waiting to go out.
CREATE INDEX room_messages_pending_out ON room_messages (id)
    WHERE direction = 'out' AND state = 'pending';
