-- 0002: message archive (XEP-0313) catch-up state and gap markers.

-- Where the account's catch-up from its own server archive stands. No row: no
-- baseline yet (the first login takes one and does not pull old history).
-- A row with last_id NULL: the archive was empty at the baseline, so the next
-- catch-up starts at the archive's beginning. Updated in the same transaction
-- as the rows of each archive page it covers.
CREATE TABLE mam_state (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    last_id     TEXT,                                   -- archive id (stanza-id by our bare JID)
    last_time   INTEGER,                                -- unix ms of that archived message
    updated_at  INTEGER NOT NULL                        -- unix ms
);

-- A span of history that may be missing: the archive no longer had the item
-- after which we wanted to continue (expired), so catch-up restarted from
-- `after_time` (the last known message's time). The UI can show a marker.
CREATE TABLE gaps (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    after_time   INTEGER,                               -- unix ms; NULL: unknown
    detected_at  INTEGER NOT NULL                       -- unix ms
);
CREATE INDEX gaps_account ON gaps (account_id, detected_at);
