-- 0003: what receipts and markers refer to, and receipts we still owe.

-- The `id` attribute the sender gave the message: delivery receipts (XEP-0184) and
-- displayed markers (XEP-0333) name it.
ALTER TABLE messages ADD COLUMN wire_id TEXT;
-- The sender asked for displayed markers (XEP-0333 <markable/>).
ALTER TABLE messages ADD COLUMN markable INTEGER NOT NULL DEFAULT 0 CHECK (markable IN (0, 1));
-- We owe the sender a delivery receipt that the server has not yet acknowledged: set when
-- the message is stored, cleared once the server acks the receipt, so a receipt lost with a
-- stream or a crash is sent again on the next login.
ALTER TABLE messages ADD COLUMN receipt_owed INTEGER NOT NULL DEFAULT 0
    CHECK (receipt_owed IN (0, 1));

CREATE INDEX messages_receipt_owed ON messages (id) WHERE receipt_owed = 1;
