-- 0010: rich messages. What anyone does to a message after it was sent is kept as its own row,
-- never by rewriting the message: a correction (XEP-0308), a retraction (XEP-0424, or a room's
-- moderation, XEP-0425), reactions (XEP-0444), or our own "delete for me". Each names its target
-- by the id the XEP uses (origin-id or id in a one-to-one chat, the room's stanza-id in a room),
-- so one that arrives before its target (out of order, through an archive) applies once the
-- target arrives. What a message shows is derived from these rows when it is read, and only
-- from those whose author may act on it: the archive, carbons and a second device all agree.
CREATE TABLE message_actions (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
    room_id         INTEGER REFERENCES rooms (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('correct', 'retract', 'react', 'hide')),
    target          TEXT    NOT NULL,                   -- the id the action names
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    author          TEXT    NOT NULL,                   -- bare JID; in rooms oid:, jid: or nick:
    author_name     TEXT    NOT NULL,                   -- shown: bare JID, or nick in a room
    body            TEXT,                               -- a correction's text; reactions, one per line
    action_id       TEXT,                               -- the action stanza's own id (dedupe)
    moderated       INTEGER NOT NULL DEFAULT 0 CHECK (moderated IN (0, 1)),
    pending         INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)), -- ours, not yet sent
    server_time     INTEGER,                            -- unix ms
    local_time      INTEGER NOT NULL,                   -- unix ms, when stored
    CHECK ((conversation_id IS NULL) <> (room_id IS NULL))
);
CREATE INDEX message_actions_chat ON message_actions (conversation_id, target)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX message_actions_room ON message_actions (room_id, target)
    WHERE room_id IS NOT NULL;
-- Our actions still to send (a small set).
CREATE INDEX message_actions_pending ON message_actions (id) WHERE pending = 1;
-- The same action seen again (live, then in the archive; or through carbons) is stored once.
CREATE UNIQUE INDEX message_actions_once_chat ON message_actions (conversation_id, author, action_id)
    WHERE conversation_id IS NOT NULL AND action_id IS NOT NULL;
CREATE UNIQUE INDEX message_actions_once_room ON message_actions (room_id, author, action_id)
    WHERE room_id IS NOT NULL AND action_id IS NOT NULL;

-- A reply (XEP-0461): the id of the message it answers (as the XEP names it) and its author.
ALTER TABLE messages ADD COLUMN reply_id TEXT;
ALTER TABLE messages ADD COLUMN reply_to TEXT;
ALTER TABLE room_messages ADD COLUMN reply_id TEXT;
ALTER TABLE room_messages ADD COLUMN reply_to TEXT;

-- The sender asked that its text be shown unstyled (XEP-0393 `<unstyled/>`).
ALTER TABLE messages ADD COLUMN unstyled INTEGER NOT NULL DEFAULT 0 CHECK (unstyled IN (0, 1));
ALTER TABLE room_messages ADD COLUMN unstyled INTEGER NOT NULL DEFAULT 0 CHECK (unstyled IN (0, 1));

-- The unsent text of each chat or room, kept as it is typed.
CREATE TABLE drafts (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    chat       TEXT    NOT NULL,                        -- the peer's or the room's bare JID
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,                        -- unix ms
    PRIMARY KEY (account_id, chat)
) WITHOUT ROWID;
