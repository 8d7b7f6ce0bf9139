-- 0007: the accounts Charla keeps between starts live here, not in the shell's settings file:
-- `kept` is an account's place among them (first added first; NULL: not kept, e.g. one used
-- for a single login or removed keeping its history), `color` the color the user chose for it.
-- The shell imports the accounts of an older settings.json once (charla-app).

ALTER TABLE accounts ADD COLUMN kept INTEGER;
ALTER TABLE accounts ADD COLUMN color TEXT
    CHECK (color IS NULL OR (length(color) = 7 AND color GLOB '#[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]'));
CREATE UNIQUE INDEX accounts_kept ON accounts (kept) WHERE kept IS NOT NULL;
