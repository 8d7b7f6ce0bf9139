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
    Message, MessageId, MessageRequest, MessageState, NewMessage, NewRoomMessage, OwedReceipt,
    Room, RoomId, RoomInsertOutcome, RoomMessage, RoomMessageId, RosterEntry, StoreError,
    Subscription,
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
             m.body, m.server_time, m.local_time, m.origin_id, m.stanza_id, m.state, m.error, \
             m.reply_id, m.reply_to, m.unstyled FROM messages m ",
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

/// Maps a foreign-key failure on `account` to "no such account"; any other
/// error stays as it is.
fn unknown_on_constraint(account: AccountId) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            unknown_account(account)
        }
        e => e.into(),
    }
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
        rich: reply_from_columns(row.get(13)?, row.get(14)?, row.get(15)?),
    })
}

/// What a row says of itself (`reply_id`, `reply_to`, `unstyled`), before
/// its acts and reply are resolved.
fn reply_from_columns(id: Option<String>, to: Option<String>, unstyled: bool) -> crate::Rich {
    crate::Rich {
        unstyled,
        reply: id.map(|id| {
            Box::new(crate::Reply {
                id,
                to,
                target: None,
                quote: None,
                author: None,
            })
        }),
        ..crate::Rich::default()
    }
}

/// The body of [`Store::insert_incoming`], inside the caller's transaction.
/// What one transaction of incoming rows keeps between them: the
/// conversation ids already looked up, and each conversation's newest
/// activity, written once by [`Burst::finish`] instead of once per row.
#[derive(Default)]
struct Burst {
    conversations: HashMap<(i64, String), ConversationId>,
    activity: HashMap<ConversationId, i64>,
    /// Whether each conversation has any act stored: a new row of one
    /// without needs no derivation (most rows of most bursts).
    acts: HashMap<ConversationId, bool>,
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
        let acts = match self.acts.get(&conversation_id) {
            Some(known) => *known,
            None => {
                let known = actions::has_acts(tx, conversation_id)?;
                self.acts.insert(conversation_id, known);
                known
            }
        };
        let outcome = insert_incoming_at(tx, conversation_id, new, row_id, acts)?;
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
    acts: bool,
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
            rich: reply_from_columns(
                new.reply.as_ref().map(|r| r.id.clone()),
                new.reply.as_ref().and_then(|r| r.to.clone()),
                new.unstyled,
            ),
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
        Some(mut message) => {
            // An act that came before it, or the message it answers.
            if acts || new.reply.is_some() {
                actions::decorate_message(tx, &mut message)?;
            }
            Ok(InsertOutcome::Inserted(message))
        }
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
    .map_err(unknown_on_constraint(account))?;
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
    markable, receipt_owed, id, reply_id, reply_to, unstyled) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

/// [`INSERT`], or nothing if the row would repeat a unique key (a duplicate).
const SKIP_DUPLICATE: &str = "INSERT INTO messages (conversation_id, direction, sender, body, \
    server_time, local_time, origin_id, stanza_id, stanza_id_by, state, error, wire_id, \
    markable, receipt_owed, id, reply_id, reply_to, unstyled) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
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
        message.rich.reply.as_ref().map(|r| &r.id),
        message.rich.reply.as_ref().and_then(|r| r.to.as_ref()),
        message.rich.unstyled,
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

// After `select_messages!`, which they use (macros are scoped by text order).
mod accounts;
mod actions;
pub use actions::MAX_REACTIONS;
mod archive;
mod messages;
mod rooms;
mod roster;
