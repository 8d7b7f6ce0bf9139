//! The archive side of history (XEP-0313): catch-up pages with their
//! position, older pages, and gaps.

use super::*;

impl Store {
    /// Stores one page of archived messages (XEP-0313) like
    /// [`Store::insert_incoming`], in order, and moves the account's archive
    /// position to `last_id`/`last_time`, all in one transaction: after a
    /// crash the catch-up resumes right after the last committed page.
    pub fn insert_archive_page(
        &mut self,
        account: AccountId,
        messages: &[NewMessage],
        last_id: &str,
        last_time: Option<i64>,
    ) -> Result<Vec<InsertOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut burst = Burst::default();
        for new in messages {
            if new.account != account {
                return Err(StoreError::InvalidData(
                    "archive page row of another account".into(),
                ));
            }
            outcomes.push(burst.insert(&tx, new, None)?);
        }
        burst.finish(&tx)?;
        set_mam_position_in(&tx, account, Some(last_id), last_time)?;
        tx.commit()?;
        Ok(outcomes)
    }

    /// Stores a page of older history from the archive (XEP-0313), given
    /// oldest first, *before* everything stored: rows get ids below the
    /// lowest id in use, so history order (by id) puts them first. The
    /// archive position does not move. Duplicates are skipped as in
    /// [`Store::insert_incoming`]; outcomes come in the order given.
    pub fn insert_older_page(&mut self, messages: &[NewMessage]) -> Result<Vec<InsertOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let lowest: i64 = tx.query_row("SELECT coalesce(min(id), 1) FROM messages", [], |r| {
            r.get(0)
        })?;
        let mut next = lowest.min(0) - 1;
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut burst = Burst::default();
        for new in messages.iter().rev() {
            let outcome = burst.insert(&tx, new, Some(next))?;
            if matches!(outcome, InsertOutcome::Inserted(_)) {
                next -= 1;
            }
            outcomes.push(outcome);
        }
        burst.finish(&tx)?;
        tx.commit()?;
        outcomes.reverse();
        Ok(outcomes)
    }

    /// The archive id of the oldest stored message of `account`'s
    /// conversation with `peer` that has one, where older history from the
    /// archive continues.
    pub fn oldest_archive_id(&self, account: AccountId, peer: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT m.stanza_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE c.account_id = ?1 AND c.peer = ?2 AND m.stanza_id IS NOT NULL \
                 ORDER BY m.id LIMIT 1",
            )?
            .query_row(params![account.0, peer], |row| row.get(0))
            .optional()?)
    }

    /// The account's archive position, or `None` if no baseline was taken.
    pub fn mam_position(&self, account: AccountId) -> Result<Option<MamPosition>> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_id, last_time FROM mam_state WHERE account_id = ?1")?
            .query_row([account.0], |row| {
                Ok(MamPosition {
                    last_id: row.get(0)?,
                    last_time: row.get(1)?,
                })
            })
            .optional()?)
    }

    /// Sets the account's archive position (`last_id` `None`: the archive
    /// was empty at the baseline).
    pub fn set_mam_position(
        &self,
        account: AccountId,
        last_id: Option<&str>,
        last_time: Option<i64>,
    ) -> Result<()> {
        set_mam_position_in(&self.conn, account, last_id, last_time)
    }

    /// Records a possible gap in the account's history (see [`Gap`]).
    pub fn add_gap(&self, account: AccountId, after_time: Option<i64>) -> Result<Gap> {
        let detected_at = now_ms();
        self.conn
            .prepare_cached(
                "INSERT INTO gaps (account_id, after_time, detected_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![account.0, after_time, detected_at])?;
        Ok(Gap {
            id: self.conn.last_insert_rowid(),
            account,
            after_time,
            detected_at,
        })
    }

    /// The account's recorded gaps, oldest first.
    pub fn gaps(&self, account: AccountId) -> Result<Vec<Gap>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, after_time, detected_at FROM gaps WHERE account_id = ?1 \
             ORDER BY detected_at, id",
        )?;
        let rows = stmt.query_map([account.0], |row| {
            Ok(Gap {
                id: row.get(0)?,
                account,
                after_time: row.get(1)?,
                detected_at: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest server time of any of the account's messages (unix ms).
    pub fn newest_server_time(&self, account: AccountId) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT max(m.server_time) FROM conversations c \
                 JOIN messages m ON m.conversation_id = c.id WHERE c.account_id = ?1",
            )?
            .query_row([account.0], |row| row.get(0))?)
    }
}
