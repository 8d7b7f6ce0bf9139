//! The roster cache, strangers and message requests, and avatars by contact.

use super::*;

impl Store {
    /// Roster version of the cached roster (`None` if unknown or no account).
    pub fn roster_version(&self, id: AccountId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT roster_ver FROM accounts WHERE id = ?1")?
            .query_row([id.0], |row| row.get(0))
            .optional()?
            .flatten())
    }

    // ---- roster ---------------------------------------------------------

    /// Replaces the account's whole cached roster and its version, atomically.
    /// Items with subscription `remove` are skipped.
    pub fn replace_roster(
        &mut self,
        account: AccountId,
        items: &[RosterEntry],
        ver: Option<&str>,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .prepare_cached("UPDATE accounts SET roster_ver = ?2 WHERE id = ?1")?
            .execute(params![account.0, ver])?;
        if found == 0 {
            return Err(unknown_account(account));
        }
        tx.prepare_cached("DELETE FROM contacts WHERE account_id = ?1")?
            .execute([account.0])?;
        for item in items {
            upsert_contact_in(&tx, account, item)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds or updates one contact (e.g. from a roster push), replacing its
    /// groups. An entry with subscription `remove` deletes the contact instead.
    pub fn upsert_contact(&mut self, account: AccountId, entry: &RosterEntry) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        upsert_contact_in(&tx, account, entry)?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a contact and its groups. Returns `false` if it was not cached.
    pub fn remove_contact(&self, account: AccountId, jid: &str) -> Result<bool> {
        remove_contact_in(&self.conn, account, jid)
    }

    /// Whether `jid` (bare) is in the account's cached roster.
    pub fn is_contact(&self, account: AccountId, jid: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM contacts WHERE account_id = ?1 AND jid = ?2")?
            .query_row(params![account.0, jid], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// How many messages `jid` has left in a conversation the user never
    /// answered, counting at most `up_to`; `None` once the user has written
    /// to them (then they are no stranger to this account).
    pub fn unanswered(&self, account: AccountId, jid: &str, up_to: u32) -> Result<Option<u32>> {
        let row: Option<(bool, u32)> = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages m \
                                WHERE m.conversation_id = c.id AND m.direction = 'out'), \
                        (SELECT COUNT(*) FROM (SELECT 1 FROM messages m \
                                WHERE m.conversation_id = c.id AND m.direction = 'in' LIMIT ?3)) \
                 FROM conversations c WHERE c.account_id = ?1 AND c.peer = ?2",
            )?
            .query_row(params![account.0, jid, up_to], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        Ok(match row {
            None => Some(0),
            Some((true, _)) => None,
            Some((false, n)) => Some(n),
        })
    }

    /// Whether `jid` is a stranger to the account: not in its roster and
    /// never written to from it. Their messages are message requests.
    pub fn is_stranger(&self, account: AccountId, jid: &str) -> Result<bool> {
        Ok(!self.is_contact(account, jid)? && self.unanswered(account, jid, 1)?.is_some())
    }

    /// The account's message requests (conversations with strangers that
    /// hold at least one message), newest first.
    pub fn message_requests(&self, account: AccountId) -> Result<Vec<MessageRequest>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.peer, COUNT(*), MAX(m.id) FROM conversations c \
             JOIN messages m ON m.conversation_id = c.id \
             WHERE c.account_id = ?1 \
               AND NOT EXISTS (SELECT 1 FROM contacts k WHERE k.account_id = c.account_id AND k.jid = c.peer) \
               AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = c.id AND o.direction = 'out') \
             GROUP BY c.id ORDER BY MAX(m.id) DESC",
        )?;
        let rows: Vec<(String, u32, i64)> = stmt
            .query_map([account.0], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut requests = Vec::with_capacity(rows.len());
        for (peer, count, last) in rows {
            if let Some(last) = self.message(MessageId(last))? {
                requests.push(MessageRequest {
                    account_id: account,
                    peer,
                    count,
                    last,
                });
            }
        }
        Ok(requests)
    }

    /// Deletes the account's conversation with `peer` and all its stored
    /// messages, in one transaction. Returns how many messages went.
    pub fn delete_conversation(&mut self, account: AccountId, peer: &str) -> Result<u32> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = tx
            .prepare_cached(
                "DELETE FROM messages WHERE conversation_id IN \
                 (SELECT id FROM conversations WHERE account_id = ?1 AND peer = ?2)",
            )?
            .execute(params![account.0, peer])?;
        tx.prepare_cached("DELETE FROM conversations WHERE account_id = ?1 AND peer = ?2")?
            .execute(params![account.0, peer])?;
        tx.commit()?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    /// The account's cached roster, sorted by JID.
    pub fn contacts(&self, account: AccountId) -> Result<Vec<RosterEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.jid, c.name, c.subscription, c.ask_pending, g.name \
             FROM contacts c LEFT JOIN contact_groups g ON g.contact_id = c.id \
             WHERE c.account_id = ?1 ORDER BY c.jid, g.name",
        )?;
        let mut rows = stmt.query([account.0])?;
        let mut entries: Vec<RosterEntry> = Vec::new();
        while let Some(row) = rows.next()? {
            let jid: String = row.get(0)?;
            let group: Option<String> = row.get(4)?;
            match entries.last_mut() {
                Some(last) if last.jid == jid => last.groups.extend(group),
                _ => entries.push(RosterEntry {
                    jid,
                    name: row.get(1)?,
                    subscription: text_column(row, 2)?,
                    ask_pending: row.get(3)?,
                    groups: group.into_iter().collect(),
                }),
            }
        }
        Ok(entries)
    }

    // ---- avatars (XEP-0084, XEP-0153) ------------------------------------

    /// Records `jid`'s current avatar hash (`None`: no avatar). Returns
    /// whether it changed.
    pub fn set_avatar(&self, account: AccountId, jid: &str, hash: Option<&str>) -> Result<bool> {
        if self.avatar(account, jid)?.as_deref() == hash {
            return Ok(false);
        }
        match hash {
            Some(hash) => self
                .conn
                .prepare_cached(
                    "INSERT INTO avatars (account_id, jid, hash) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id, jid) DO UPDATE SET hash = excluded.hash",
                )?
                .execute(params![account.0, jid, hash])?,
            None => self
                .conn
                .prepare_cached("DELETE FROM avatars WHERE account_id = ?1 AND jid = ?2")?
                .execute(params![account.0, jid])?,
        };
        Ok(true)
    }

    /// `jid`'s recorded avatar hash.
    pub fn avatar(&self, account: AccountId, jid: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT hash FROM avatars WHERE account_id = ?1 AND jid = ?2")?
            .query_row(params![account.0, jid], |row| row.get(0))
            .optional()?)
    }

    /// Every recorded avatar of the account as `(jid, hash)`, sorted by JID.
    pub fn avatars(&self, account: AccountId) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT jid, hash FROM avatars WHERE account_id = ?1 ORDER BY jid")?;
        let rows = stmt.query_map([account.0], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    // ---- conversations and messages -------------------------------------
}
