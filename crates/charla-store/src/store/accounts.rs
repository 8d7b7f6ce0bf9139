//! Accounts: who they are, how they log in (pinned certificate, SASL
//! floor), the ones Charla keeps between starts, and removing one.

use super::*;

impl Store {
    /// Returns the id of the account with this bare JID, creating it if needed.
    pub fn upsert_account(&self, jid: &str) -> Result<AccountId> {
        Self::upsert_account_in(&self.conn, jid)
    }

    fn upsert_account_in(conn: &Connection, jid: &str) -> Result<AccountId> {
        let jid = bare_jid(jid)?;
        let existing = conn
            .prepare_cached("SELECT id FROM accounts WHERE jid = ?1")?
            .query_row([jid], |row| row.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(AccountId(id));
        }
        conn.prepare_cached("INSERT INTO accounts (jid, created_at) VALUES (?1, ?2)")?
            .execute(params![jid, now_ms()])?;
        Ok(AccountId(conn.last_insert_rowid()))
    }

    /// The account with this id, if any.
    pub fn account(&self, id: AccountId) -> Result<Option<Account>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, jid, host, port, enabled, roster_ver, created_at \
                 FROM accounts WHERE id = ?1",
            )?
            .query_row([id.0], account_from_row)
            .optional()?)
    }

    /// The SHA-256 of the server certificate pinned for `account`, if any.
    pub fn certificate_pin(&self, account: AccountId) -> Result<Option<[u8; 32]>> {
        let pin: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT sha256 FROM certificate_pins WHERE account_id = ?1")?
            .query_row([account.0], |row| row.get(0))
            .optional()?;
        pin.map(|bytes| {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| StoreError::InvalidData("a certificate pin is not 32 bytes".into()))
        })
        .transpose()
    }

    /// The strongest SASL mechanism that has worked for `account`, as the
    /// core last recorded it.
    pub fn sasl_mechanism(&self, account: AccountId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT mechanism FROM sasl_mechanisms WHERE account_id = ?1")?
            .query_row([account.0], |row| row.get(0))
            .optional()?)
    }

    /// Records `mechanism` as the strongest that has worked for `account`
    /// (the caller decides what is stronger).
    pub fn set_sasl_mechanism(&self, account: AccountId, mechanism: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sasl_mechanisms (account_id, mechanism, used_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id) DO UPDATE SET mechanism = ?2, used_at = ?3",
            )?
            .execute(params![account.0, mechanism, now_ms()])?;
        Ok(())
    }

    /// Pins the server certificate with this SHA-256 for `account`,
    /// replacing an earlier pin.
    pub fn set_certificate_pin(&self, account: AccountId, sha256: &[u8; 32]) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO certificate_pins (account_id, sha256, pinned_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id) DO UPDATE SET sha256 = ?2, pinned_at = ?3",
            )?
            .execute(params![account.0, &sha256[..], now_ms()])
            .map_err(unknown_on_constraint(account))?;
        Ok(())
    }

    /// All accounts, oldest first.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, jid, host, port, enabled, roster_ver, created_at \
             FROM accounts ORDER BY id",
        )?;
        let rows = stmt.query_map([], account_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets (or clears) the server host/port override. Returns `false` if the
    /// account does not exist.
    pub fn set_account_server(
        &self,
        id: AccountId,
        host: Option<&str>,
        port: Option<u16>,
    ) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached("UPDATE accounts SET host = ?2, port = ?3 WHERE id = ?1")?
            .execute(params![id.0, host, port])?;
        Ok(changed > 0)
    }

    /// Enables or disables an account. Returns `false` if it does not exist.
    pub fn set_account_enabled(&self, id: AccountId, enabled: bool) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached("UPDATE accounts SET enabled = ?2 WHERE id = ?1")?
            .execute(params![id.0, enabled])?;
        Ok(changed > 0)
    }

    /// The accounts kept between starts, in the order they were first kept.
    pub fn kept_accounts(&self) -> Result<Vec<KeptAccount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, jid, host, port, enabled, color FROM accounts \
             WHERE kept IS NOT NULL ORDER BY kept",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(KeptAccount {
                id: AccountId(row.get(0)?),
                jid: row.get(1)?,
                host: row.get(2)?,
                port: row.get(3)?,
                enabled: row.get(4)?,
                color: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keeps the account `jid` between starts, enabled, with this server
    /// override: an account kept already keeps its place and color, a new
    /// one goes last. Returns its id.
    pub fn keep_account(
        &mut self,
        jid: &str,
        host: Option<&str>,
        port: Option<u16>,
    ) -> Result<AccountId> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = Self::upsert_account_in(&tx, jid)?;
        tx.prepare_cached(
            "UPDATE accounts SET host = ?2, port = ?3, enabled = 1, kept = COALESCE(kept, \
             (SELECT COALESCE(MAX(kept), 0) + 1 FROM accounts)) WHERE id = ?1",
        )?
        .execute(params![id.0, host, port])?;
        tx.commit()?;
        Ok(id)
    }

    /// No longer keeps the account `jid` between starts (its data stays).
    /// Returns `false` if it was not kept.
    pub fn unkeep_account(&self, jid: &str) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached("UPDATE accounts SET kept = NULL WHERE jid = ?1 AND kept IS NOT NULL")?
            .execute([bare_jid(jid)?])?;
        Ok(changed > 0)
    }

    /// Sets the color an account is shown with (`#rrggbb`), or clears it.
    /// Returns `false` if the account does not exist.
    pub fn set_account_color(&self, id: AccountId, color: Option<&str>) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached("UPDATE accounts SET color = ?2 WHERE id = ?1")?
            .execute(params![id.0, color])?;
        Ok(changed > 0)
    }

    /// Removes an account from Charla, in one transaction. With
    /// `keep_history` the account stays, disabled, with its conversations
    /// readable: its unsent messages (room lines too) become `failed` and it owes no more
    /// receipts. Without, the account and everything stored for it
    /// (messages, conversations, contacts, outbox, rooms and their lines,
    /// archive position, gaps) are deleted. Returns `false` if there was no such account.
    pub fn remove_account(&mut self, id: AccountId, keep_history: bool) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = if keep_history {
            let found = tx
                .prepare_cached("UPDATE accounts SET enabled = 0 WHERE id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached(
                "UPDATE messages SET state = 'failed', error = ?2 \
                 WHERE direction = 'out' AND state = 'pending' AND conversation_id IN \
                 (SELECT id FROM conversations WHERE account_id = ?1)",
            )?
            .execute(params![id.0, "the account was removed from Charla"])?;
            tx.prepare_cached(
                "UPDATE messages SET receipt_owed = 0 WHERE receipt_owed = 1 AND \
                 conversation_id IN (SELECT id FROM conversations WHERE account_id = ?1)",
            )?
            .execute([id.0])?;
            tx.prepare_cached(
                "UPDATE room_messages SET state = 'failed', error = ?2 \
                 WHERE direction = 'out' AND state = 'pending' AND room_id IN \
                 (SELECT id FROM rooms WHERE account_id = ?1)",
            )?
            .execute(params![id.0, "the account was removed from Charla"])?;
            found
        } else {
            // Everything else goes with the account (ON DELETE CASCADE).
            tx.prepare_cached("DELETE FROM accounts WHERE id = ?1")?
                .execute([id.0])?
        };
        tx.commit()?;
        Ok(found > 0)
    }
}
