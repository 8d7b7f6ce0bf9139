-- 0004: server certificates the user chose to trust for an account.

-- The SHA-256 of the one leaf certificate (DER) the user pinned for this account after
-- seeing it rejected. A connection presenting exactly this certificate is accepted; any
-- other goes through normal verification. One pin per account; pinning again replaces it.
CREATE TABLE certificate_pins (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sha256     BLOB NOT NULL CHECK (length(sha256) = 32),
    pinned_at  INTEGER NOT NULL
);
