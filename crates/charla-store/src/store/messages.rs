//! Messages: conversations, incoming rows (deduplicated), the outbox and
//! its states, receipts owed, and history pages.

use super::*;

impl Store {
    /// Delivery receipts the account still owes, oldest first (at most `limit`).
    pub fn owed_receipts(&self, account: AccountId, limit: u32) -> Result<Vec<OwedReceipt>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.sender, m.wire_id FROM messages m INDEXED BY messages_receipt_owed \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.receipt_owed = 1 AND c.account_id = ?1 AND m.wire_id IS NOT NULL \
             ORDER BY m.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![account.0, limit], |row| {
            Ok(OwedReceipt {
                message: MessageId(row.get(0)?),
                to: row.get(1)?,
                wire_id: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The server acknowledged the receipt for `message`: nothing is owed any more.
    pub fn receipt_sent(&mut self, message: MessageId) -> Result<()> {
        self.receipts_sent(&[message])
    }

    /// [`Store::receipt_sent`] for several messages, in one transaction.
    pub fn receipts_sent(&mut self, messages: &[MessageId]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached("UPDATE messages SET receipt_owed = 0 WHERE id = ?1")?;
            for message in messages {
                update.execute([message.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The id a displayed marker (XEP-0333) for `message` names: its `id`
    /// attribute, if the sender marked it markable.
    pub fn marker_id(&self, message: MessageId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT wire_id FROM messages WHERE id = ?1 AND markable = 1")?
            .query_row([message.0], |row| row.get(0))
            .optional()?
            .flatten())
    }

    /// The id of the one-to-one conversation with `peer` (bare JID), creating
    /// it if needed.
    pub fn conversation(&self, account: AccountId, peer: &str) -> Result<ConversationId> {
        conversation_in(&self.conn, account, peer)
    }

    /// Stores an incoming message, or a copy of one of our own (carbons, MAM).
    ///
    /// A message whose stanza-id (then: direction + origin-id) already exists
    /// in the conversation is a [`InsertOutcome::Duplicate`] and the stored
    /// row is left untouched. New messages get state `received` (incoming) or
    /// `sent` (outgoing copies); the conversation's last activity is updated in
    /// the same transaction.
    pub fn insert_incoming(&mut self, new: &NewMessage) -> Result<InsertOutcome> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut burst = Burst::default();
        let outcome = burst.insert(&tx, new, None)?;
        burst.finish(&tx)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Stores a burst of incoming messages like [`Store::insert_incoming`],
    /// in order, in one transaction: one commit for the whole burst, and
    /// nothing of it stored if any row fails. Outcomes come in the order
    /// given; a message repeated within the burst is a duplicate of its first
    /// copy.
    pub fn insert_incoming_batch(&mut self, messages: &[NewMessage]) -> Result<Vec<InsertOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut burst = Burst::default();
        let outcomes = messages
            .iter()
            .map(|new| burst.insert(&tx, new, None))
            .collect::<Result<Vec<_>>>()?;
        burst.finish(&tx)?;
        tx.commit()?;
        Ok(outcomes)
    }

    /// Stores a message we are about to send, in state `pending`, with the
    /// account's bare JID as sender. Committed before returning, so the caller
    /// sends it only once it is safe on disk. `origin_id` must be unique among
    /// our messages in the conversation.
    pub fn insert_outgoing(
        &mut self,
        account: AccountId,
        peer: &str,
        body: &str,
        origin_id: &str,
        reply: Option<&crate::ReplyRef>,
    ) -> Result<Message> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sender: String = tx
            .prepare_cached("SELECT jid FROM accounts WHERE id = ?1")?
            .query_row([account.0], |row| row.get(0))
            .optional()?
            .ok_or_else(|| unknown_account(account))?;
        let conversation_id = conversation_in(&tx, account, peer)?;
        let message = insert_message_in(
            &tx,
            Message {
                id: MessageId(0),
                conversation_id,
                account_id: account,
                peer: peer.to_owned(),
                direction: Direction::Out,
                sender,
                body: body.to_owned(),
                server_time: None,
                local_time: now_ms(),
                origin_id: Some(origin_id.to_owned()),
                stanza_id: None,
                state: MessageState::Pending,
                error: None,
                rich: reply_from_columns(
                    reply.map(|r| r.id.clone()),
                    reply.and_then(|r| r.to.clone()),
                    false,
                ),
            },
            Wire {
                // Our stanza's id is its origin-id.
                id: Some(origin_id),
                ..Wire::default()
            },
        )?;
        let mut message = message;
        actions::decorate_message(&tx, &mut message)?;
        tx.commit()?;
        Ok(message)
    }

    /// Moves a message to `state` if [`MessageState::can_transition_to`]
    /// allows it, storing `error` (`None` clears it), and returns the updated
    /// row. Returns `None` (changing nothing) if the message does not exist or
    /// the transition is not allowed (e.g. a late `sent` after `delivered`).
    pub fn set_state(
        &self,
        id: MessageId,
        state: MessageState,
        error: Option<&str>,
    ) -> Result<Option<Message>> {
        let current: Option<MessageState> = self
            .conn
            .prepare_cached("SELECT state FROM messages WHERE id = ?1")?
            .query_row([id.0], |row| text_column(row, 0))
            .optional()?;
        let Some(current) = current else {
            return Ok(None);
        };
        if !current.can_transition_to(state) {
            return Ok(None);
        }
        // Compare-and-set, so a concurrent change from another connection is not clobbered.
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET state = ?2, error = ?3 WHERE id = ?1 AND state = ?4",
            )?
            .execute(params![id.0, state.as_str(), error, current.as_str()])?;
        if changed == 0 {
            return Ok(None);
        }
        self.message(id)
    }

    /// Puts a `failed` outgoing message back in the outbox (`pending`, error
    /// cleared), for a retry the user asked for; returns the updated row, or
    /// `None` if it is not an outgoing message that failed.
    pub fn retry_outgoing(&self, id: MessageId) -> Result<Option<Message>> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET state = 'pending', error = NULL \
                 WHERE id = ?1 AND direction = 'out' AND state = 'failed'",
            )?
            .execute([id.0])?;
        if changed == 0 {
            return Ok(None);
        }
        self.message(id)
    }

    /// The incoming message of `account`'s conversation with `peer` that a
    /// displayed marker or receipt names by `id` (its `id` attribute, else
    /// its origin-id), if any.
    pub fn find_incoming(
        &self,
        account: AccountId,
        peer: &str,
        id: &str,
    ) -> Result<Option<MessageId>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE c.account_id = ?1 AND c.peer = ?2 AND m.direction = 'in' \
                 AND (m.wire_id = ?3 OR m.origin_id = ?3) ORDER BY m.id DESC LIMIT 1",
            )?
            .query_row(params![account.0, peer, id], |row| row.get(0))
            .optional()?
            .map(MessageId))
    }

    /// How many incoming messages of `account`'s conversation with `peer`
    /// are newer than `after`.
    pub fn incoming_after(&self, account: AccountId, peer: &str, after: MessageId) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE c.account_id = ?1 AND c.peer = ?2 AND m.direction = 'in' AND m.id > ?3",
            )?
            .query_row(params![account.0, peer, after.0], |row| row.get(0))?)
    }

    /// Our own message with this origin-id in the conversation, if any.
    pub fn find_outgoing_by_origin_id(
        &self,
        conversation: ConversationId,
        origin_id: &str,
    ) -> Result<Option<Message>> {
        Ok(self
            .conn
            .prepare_cached(select_messages!(
                "WHERE m.conversation_id = ?1 AND m.direction = 'out' AND m.origin_id = ?2"
            ))?
            .query_row(params![conversation.0, origin_id], message_from_row)
            .optional()?)
    }

    /// Our own message with this origin-id in the account's conversation
    /// with `peer` (bare JID), if any. Unlike [`Store::conversation`] this
    /// never creates a conversation, so looking up what a stranger refers to
    /// leaves no trace.
    pub fn find_outgoing(
        &self,
        account: AccountId,
        peer: &str,
        origin_id: &str,
    ) -> Result<Option<Message>> {
        let conversation = self
            .conn
            .prepare_cached(
                "SELECT id FROM conversations WHERE account_id = ?1 AND peer = ?2 AND kind = 'chat'",
            )?
            .query_row(params![account.0, peer], |row| row.get(0))
            .optional()?;
        match conversation {
            Some(id) => self.find_outgoing_by_origin_id(ConversationId(id), origin_id),
            None => Ok(None),
        }
    }

    /// The account's outgoing messages still in state `pending`, oldest first.
    pub fn pending_outgoing(&self, account: AccountId) -> Result<Vec<Message>> {
        let mut stmt = self.conn.prepare_cached(PENDING_OUTGOING_SQL)?;
        let rows = stmt.query_map([account.0], message_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Up to `limit` messages of a conversation, newest first, all older than
    /// `before` (or the newest ones if `None`). Pass the last returned id as
    /// `before` to get the next page.
    pub fn history_page(
        &self,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let before = before.map_or(i64::MAX, |id| id.0);
        let mut stmt = self.conn.prepare_cached(HISTORY_PAGE_SQL)?;
        let rows = stmt.query_map(params![conversation.0, before, limit], message_from_row)?;
        let mut page = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for m in &mut page {
            actions::decorate_message(&self.conn, m)?;
        }
        Ok(page)
    }

    /// The message with this id, if any.
    pub fn message(&self, id: MessageId) -> Result<Option<Message>> {
        let mut found = self
            .conn
            .prepare_cached(select_messages!("WHERE m.id = ?1"))?
            .query_row([id.0], message_from_row)
            .optional()?;
        if let Some(m) = &mut found {
            actions::decorate_message(&self.conn, m)?;
        }
        Ok(found)
    }
}
