-- 0009: what is addressed to us in a group chat.
-- - A private message (XEP-0045 §7.5): a message to or from one occupant, through the room, is
--   kept with the room's lines but marked with the other occupant's nick, so it is never shown as
--   said to the whole room nor as a one-to-one chat with a contact.
-- - A mention by reference (XEP-0372): the line names our occupant JID or our account, whatever
--   its text says.
ALTER TABLE room_messages ADD COLUMN private_with TEXT;
ALTER TABLE room_messages ADD COLUMN mentions_us INTEGER NOT NULL DEFAULT 0 CHECK (mentions_us IN (0, 1));
