-- 0006: the strongest login method that has worked for each account (SASL mechanism name,
-- e.g. SCRAM-SHA-256-PLUS). A server that later offers only weaker ones is refused, so that
-- an attacker in between cannot downgrade a login to PLAIN.
CREATE TABLE sasl_mechanisms (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    mechanism   TEXT NOT NULL,
    used_at     INTEGER NOT NULL
);
