-- 0004: the avatar (XEP-0084, XEP-0153) each contact and the account itself have now, by hash,
-- so that it shows offline and after a restart without a fetch. The images are files named by
-- their hash in a directory beside the database. Kept apart from `contacts`, which a full roster
-- fetch replaces.

CREATE TABLE avatars (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    jid        TEXT    NOT NULL,                          -- bare JID: a contact or the account
    hash       TEXT    NOT NULL CHECK (length(hash) = 40), -- SHA-1 of the image, lowercase hex
    PRIMARY KEY (account_id, jid)
) WITHOUT ROWID;
