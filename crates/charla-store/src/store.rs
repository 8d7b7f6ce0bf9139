//! The [`Store`] handle and all its queries.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::migrate::{self, MIGRATIONS, SCHEMA_VERSION};
use crate::{
    Account, AccountId, ConversationId, Direction, Gap, InsertOutcome, KeptAccount, MamPosition,
    Message, MessageId, MessageRequest, MessageState, NewMessage, OwedReceipt, RosterEntry,
    StoreError, Subscription,
};

type Result<T> = std::result::Result<T, StoreError>;

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages after which a commit checkpoints them into the database (SQLite's default is
/// 1,000). A burst of incoming messages rewrites the same index pages transaction after
/// transaction; with fewer, larger checkpoints each such page is copied and synced once for
/// many transactions (ingest benchmark, dedup + commit in bursts of 100: about 100k → 113k
/// msg/s). The WAL file grows to about 16 MB before it is reused.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4_000;

/// Enough room for every distinct statement this module prepares.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// Selects every [`Message`] field from `messages m` (optionally with an
/// `INDEXED BY` clause) joined to `conversations c`. `CROSS JOIN` makes SQLite
/// always drive the query from `messages`, whatever its statistics say.
macro_rules! select_messages {
    ($tail:literal) => {
        select_messages!("", $tail)
    };
    ($hint:literal, $tail:literal) => {
        concat!(
            "SELECT m.id, m.conversation_id, c.account_id, c.peer, m.direction, m.sender, \
             m.body, m.server_time, m.local_time, m.origin_id, m.stanza_id, m.state, m.error \
             FROM messages m ",
            $hint,
            " CROSS JOIN conversations c ON c.id = m.conversation_id ",
            $tail
        )
    };
}

/// One page of a conversation's history, newest first: `?1` conversation,
/// `?2` exclusive upper bound on the id, `?3` limit. Pinned to the paging index.
pub(crate) const HISTORY_PAGE_SQL: &str = select_messages!(
    "INDEXED BY messages_conversation_page",
    "WHERE m.conversation_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
);

/// An account's pending outgoing messages, oldest first: `?1` account.
/// Pinned to the small partial index of pending messages.
pub(crate) const PENDING_OUTGOING_SQL: &str = select_messages!(
    "INDEXED BY messages_pending_out",
    "WHERE c.account_id = ?1 AND m.direction = 'out' AND m.state = 'pending' ORDER BY m.id"
);

/// Charla's local database. Owns one SQLite connection; `Send` but not `Sync`.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the database file at `path` and migrates it.
    ///
    /// Uses WAL journaling (checkpointed every 4,000 pages), `synchronous=NORMAL`,
    /// foreign keys and a busy timeout. A database from a newer Charla is refused with
    /// [`StoreError::NewerSchema`] before anything is written to it.
    /// The file is private to the user (`0600`), and so are the WAL and
    /// shared-memory files SQLite creates beside it with its mode.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path != Path::new(":memory:") {
            crate::profile::make_private(path).map_err(|e| {
                StoreError::InvalidData(format!("cannot open {}: {e}", path.display()))
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate::check_supported(&conn, SCHEMA_VERSION)?;
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        Self::init(conn)
    }

    /// Opens a fresh, migrated in-memory database (for tests and previews).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        migrate::migrate(&mut conn, MIGRATIONS)?;
        Ok(Self { conn })
    }

    // ---- accounts -------------------------------------------------------

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
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    unknown_account(account)
                }
                e => e.into(),
            })?;
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
    /// readable: its unsent messages become `failed` and it owes no more
    /// receipts. Without, the account and everything stored for it
    /// (messages, conversations, contacts, outbox, archive position, gaps)
    /// are deleted. Returns `false` if there was no such account.
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
            found
        } else {
            // Everything else goes with the account (ON DELETE CASCADE).
            tx.prepare_cached("DELETE FROM accounts WHERE id = ?1")?
                .execute([id.0])?
        };
        tx.commit()?;
        Ok(found > 0)
    }

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
            },
            Wire {
                // Our stanza's id is its origin-id.
                id: Some(origin_id),
                ..Wire::default()
            },
        )?;
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
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The message with this id, if any.
    pub fn message(&self, id: MessageId) -> Result<Option<Message>> {
        Ok(self
            .conn
            .prepare_cached(select_messages!("WHERE m.id = ?1"))?
            .query_row([id.0], message_from_row)
            .optional()?)
    }

    /// The underlying connection, for tests that inspect the schema directly.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Checks that `jid` looks like a bare JID (non-empty, no resource).
fn bare_jid(jid: &str) -> Result<&str> {
    if jid.is_empty() || jid.contains('/') {
        return Err(StoreError::InvalidData(format!("not a bare JID: {jid:?}")));
    }
    Ok(jid)
}

fn unknown_account(id: AccountId) -> StoreError {
    StoreError::InvalidData(format!("unknown account {}", id.0))
}

/// Current time in unix milliseconds (0 if the clock is before 1970).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads a text column into one of the text enums.
fn text_column<T: FromStr<Err = StoreError>>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// Maps a row selected as `id, jid, host, port, enabled, roster_ver, created_at`.
fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(row.get(0)?),
        jid: row.get(1)?,
        host: row.get(2)?,
        port: row.get(3)?,
        enabled: row.get(4)?,
        roster_ver: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// Maps a row selected with `select_messages!`.
fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId(row.get(0)?),
        conversation_id: ConversationId(row.get(1)?),
        account_id: AccountId(row.get(2)?),
        peer: row.get(3)?,
        direction: text_column(row, 4)?,
        sender: row.get(5)?,
        body: row.get(6)?,
        server_time: row.get(7)?,
        local_time: row.get(8)?,
        origin_id: row.get(9)?,
        stanza_id: row.get(10)?,
        state: text_column(row, 11)?,
        error: row.get(12)?,
    })
}

/// The body of [`Store::insert_incoming`], inside the caller's transaction.
/// What one transaction of incoming rows keeps between them: the
/// conversation ids already looked up, and each conversation's newest
/// activity, written once by [`Burst::finish`] instead of once per row.
#[derive(Default)]
struct Burst {
    conversations: HashMap<(i64, String), ConversationId>,
    activity: HashMap<ConversationId, i64>,
}

impl Burst {
    /// Stores one incoming row (see [`Store::insert_incoming`]) with the row
    /// id given (`None`: the next one).
    fn insert(
        &mut self,
        tx: &Connection,
        new: &NewMessage,
        row_id: Option<i64>,
    ) -> Result<InsertOutcome> {
        let key = (new.account.0, new.peer.clone());
        let conversation_id = match self.conversations.get(&key) {
            Some(id) => *id,
            None => {
                let id = conversation_in(tx, new.account, &new.peer)?;
                self.conversations.insert(key, id);
                id
            }
        };
        let outcome = insert_incoming_at(tx, conversation_id, new, row_id)?;
        if let InsertOutcome::Inserted(message) = &outcome {
            let time = message.server_time.unwrap_or(message.local_time);
            let newest = self.activity.entry(conversation_id).or_insert(time);
            *newest = (*newest).max(time);
        }
        Ok(outcome)
    }

    /// Moves each conversation's last activity forward to its newest row.
    fn finish(self, tx: &Connection) -> Result<()> {
        for (conversation, time) in self.activity {
            bump_activity_in(tx, conversation, time)?;
        }
        Ok(())
    }
}

/// Stores one incoming row in `conversation_id` unless it is a duplicate
/// there; the conversation's activity is left to the caller. The insert
/// itself detects duplicates (the unique stanza-id and origin-id indexes),
/// so a new row costs no lookup; only a duplicate is then looked up.
fn insert_incoming_at(
    tx: &Connection,
    conversation_id: ConversationId,
    new: &NewMessage,
    row_id: Option<i64>,
) -> Result<InsertOutcome> {
    let state = match new.direction {
        Direction::In => MessageState::Received,
        Direction::Out => MessageState::Sent,
    };
    let inserted = insert_row_in(
        tx,
        SKIP_DUPLICATE,
        Message {
            id: MessageId(0),
            conversation_id,
            account_id: new.account,
            peer: new.peer.clone(),
            direction: new.direction,
            sender: new.sender.clone(),
            body: new.body.clone(),
            server_time: new.server_time,
            local_time: now_ms(),
            origin_id: new.origin_id.clone(),
            stanza_id: new.stanza_id.clone(),
            state,
            error: None,
        },
        Wire {
            row_id,
            stanza_id_by: new.stanza_id_by.as_deref(),
            id: new.wire_id.as_deref(),
            markable: new.markable,
            receipt_owed: new.receipt_owed && new.wire_id.is_some(),
        },
    )?;
    match inserted {
        Some(message) => Ok(InsertOutcome::Inserted(message)),
        None => Ok(InsertOutcome::Duplicate(duplicate_of(
            tx,
            conversation_id,
            new,
        )?)),
    }
}

/// The stored row `new` duplicates: same stanza-id, else same direction and
/// origin-id, in the conversation.
fn duplicate_of(
    tx: &Connection,
    conversation_id: ConversationId,
    new: &NewMessage,
) -> Result<MessageId> {
    if let Some(stanza_id) = &new.stanza_id {
        let existing = tx
            .prepare_cached(
                "SELECT id FROM messages WHERE conversation_id = ?1 AND stanza_id = ?2",
            )?
            .query_row(params![conversation_id.0, stanza_id], |row| row.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(MessageId(id));
        }
    }
    if let Some(origin_id) = &new.origin_id {
        let existing = tx
            .prepare_cached(
                "SELECT id FROM messages \
                 WHERE conversation_id = ?1 AND direction = ?2 AND origin_id = ?3",
            )?
            .query_row(
                params![conversation_id.0, new.direction.as_str(), origin_id],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(MessageId(id));
        }
    }
    Err(StoreError::InvalidData(
        "message row conflicts with an existing one but duplicates none".into(),
    ))
}

fn set_mam_position_in(
    conn: &Connection,
    account: AccountId,
    last_id: Option<&str>,
    last_time: Option<i64>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO mam_state (account_id, last_id, last_time, updated_at) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO UPDATE SET \
         last_id = excluded.last_id, last_time = excluded.last_time, \
         updated_at = excluded.updated_at",
    )?
    .execute(params![account.0, last_id, last_time, now_ms()])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            unknown_account(account)
        }
        e => e.into(),
    })?;
    Ok(())
}

fn conversation_in(conn: &Connection, account: AccountId, peer: &str) -> Result<ConversationId> {
    let peer = bare_jid(peer)?;
    let existing = conn
        .prepare_cached(
            "SELECT id FROM conversations WHERE account_id = ?1 AND peer = ?2 AND kind = 'chat'",
        )?
        .query_row(params![account.0, peer], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(ConversationId(id));
    }
    conn.prepare_cached(
        "INSERT INTO conversations (account_id, peer, kind) VALUES (?1, ?2, 'chat')",
    )?
    .execute(params![account.0, peer])?;
    Ok(ConversationId(conn.last_insert_rowid()))
}

/// The columns of a message row that only the core reads.
#[derive(Default)]
struct Wire<'a> {
    /// The row id to use (`None`: the next one).
    row_id: Option<i64>,
    stanza_id_by: Option<&'a str>,
    id: Option<&'a str>,
    markable: bool,
    receipt_owed: bool,
}

/// Inserts `message` (whose id is ignored), bumps the conversation's last
/// activity, and returns the message with its new id.
fn insert_message_in(conn: &Connection, message: Message, wire: Wire<'_>) -> Result<Message> {
    let message = insert_row_in(conn, INSERT, message, wire)?
        .ok_or_else(|| StoreError::InvalidData("message row not inserted".into()))?;
    bump_activity_in(
        conn,
        message.conversation_id,
        message.server_time.unwrap_or(message.local_time),
    )?;
    Ok(message)
}

/// Inserts a message row.
const INSERT: &str = "INSERT INTO messages (conversation_id, direction, sender, body, \
    server_time, local_time, origin_id, stanza_id, stanza_id_by, state, error, wire_id, \
    markable, receipt_owed, id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

/// [`INSERT`], or nothing if the row would repeat a unique key (a duplicate).
const SKIP_DUPLICATE: &str = "INSERT INTO messages (conversation_id, direction, sender, body, \
    server_time, local_time, origin_id, stanza_id, stanza_id_by, state, error, wire_id, \
    markable, receipt_owed, id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
    ON CONFLICT DO NOTHING";

/// Inserts `message` (whose id is ignored) with `sql` ([`INSERT`] or
/// [`SKIP_DUPLICATE`]) and returns it with its new id, or `None` if the
/// statement skipped it.
fn insert_row_in(
    conn: &Connection,
    sql: &str,
    mut message: Message,
    wire: Wire<'_>,
) -> Result<Option<Message>> {
    let changed = conn.prepare_cached(sql)?.execute(params![
        message.conversation_id.0,
        message.direction.as_str(),
        message.sender,
        message.body,
        message.server_time,
        message.local_time,
        message.origin_id,
        message.stanza_id,
        wire.stanza_id_by,
        message.state.as_str(),
        message.error,
        wire.id,
        wire.markable,
        wire.receipt_owed,
        wire.row_id,
    ])?;
    if changed == 0 {
        return Ok(None);
    }
    message.id = MessageId(conn.last_insert_rowid());
    Ok(Some(message))
}

/// Moves the conversation's last activity forward to `time` (never back).
fn bump_activity_in(conn: &Connection, conversation: ConversationId, time: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_activity = max(coalesce(last_activity, ?2), ?2) \
         WHERE id = ?1",
    )?
    .execute(params![conversation.0, time])?;
    Ok(())
}

fn upsert_contact_in(conn: &Connection, account: AccountId, entry: &RosterEntry) -> Result<()> {
    if entry.subscription == Subscription::Remove {
        remove_contact_in(conn, account, &entry.jid)?;
        return Ok(());
    }
    let jid = bare_jid(&entry.jid)?;
    let contact_id: i64 = conn
        .prepare_cached(
            "INSERT INTO contacts (account_id, jid, name, subscription, ask_pending) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account_id, jid) DO UPDATE SET name = excluded.name, \
             subscription = excluded.subscription, ask_pending = excluded.ask_pending \
             RETURNING id",
        )?
        .query_row(
            params![
                account.0,
                jid,
                entry.name,
                entry.subscription.as_str(),
                entry.ask_pending
            ],
            |row| row.get(0),
        )?;
    conn.prepare_cached("DELETE FROM contact_groups WHERE contact_id = ?1")?
        .execute([contact_id])?;
    let mut insert_group = conn.prepare_cached(
        "INSERT INTO contact_groups (contact_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for group in &entry.groups {
        insert_group.execute(params![contact_id, group])?;
    }
    Ok(())
}

fn remove_contact_in(conn: &Connection, account: AccountId, jid: &str) -> Result<bool> {
    let removed = conn
        .prepare_cached("DELETE FROM contacts WHERE account_id = ?1 AND jid = ?2")?
        .execute(params![account.0, jid])?;
    Ok(removed > 0)
}
