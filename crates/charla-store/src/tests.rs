//! Unit tests for the whole store (in-memory, plus a few on real files).

use std::str::FromStr;

use rusqlite::Connection;

use crate::migrate::{self, Migration, MIGRATIONS};
use crate::store::{HISTORY_PAGE_SQL, PENDING_OUTGOING_SQL};
use crate::*;

fn store() -> Store {
    Store::open_in_memory().unwrap()
}

fn setup() -> (Store, AccountId) {
    let store = store();
    let account = store.upsert_account("me@example.org").unwrap();
    (store, account)
}

fn incoming(account: AccountId, peer: &str, body: &str) -> NewMessage {
    NewMessage {
        unstyled: false,
        reply: None,
        account,
        peer: peer.to_owned(),
        direction: Direction::In,
        sender: format!("{peer}/phone"),
        body: body.to_owned(),
        server_time: None,
        origin_id: None,
        stanza_id: None,
        stanza_id_by: None,
        wire_id: None,
        markable: false,
        receipt_owed: false,
    }
}

fn inserted(outcome: InsertOutcome) -> Message {
    match outcome {
        InsertOutcome::Inserted(message) => message,
        InsertOutcome::Duplicate(id) => panic!("unexpected duplicate of {id:?}"),
    }
}

fn entry(jid: &str, subscription: Subscription, groups: &[&str]) -> RosterEntry {
    RosterEntry {
        jid: jid.to_owned(),
        name: None,
        subscription,
        ask_pending: false,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn user_version(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

fn query_plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let details = stmt
        .query_map(params, |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    details.join("\n")
}

// ---- types ----------------------------------------------------------------

#[test]
fn store_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
}

#[test]
fn enums_round_trip_through_text_and_serde() {
    for state in [
        MessageState::Received,
        MessageState::Pending,
        MessageState::Sent,
        MessageState::Delivered,
        MessageState::Displayed,
        MessageState::Failed,
    ] {
        assert_eq!(MessageState::from_str(state.as_str()).unwrap(), state);
    }
    for sub in [
        Subscription::None,
        Subscription::To,
        Subscription::From,
        Subscription::Both,
        Subscription::Remove,
    ] {
        assert_eq!(sub.as_str().parse::<Subscription>().unwrap(), sub);
    }
    assert_eq!("out".parse::<Direction>().unwrap(), Direction::Out);
    let err = "bogus".parse::<MessageState>().unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
    // Serialized forms match the stored text; ids are plain numbers.
    let (mut store, account) = setup();
    let message = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-1", None)
        .unwrap();
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(value["state"], "pending");
    assert_eq!(value["direction"], "out");
    assert_eq!(value["id"], message.id.0);
    assert_eq!(value["account_id"], account.0);
    let back: Message = serde_json::from_value(value).unwrap();
    assert_eq!(back, message);
}

// ---- migrations and opening ---------------------------------------------------

#[test]
fn migrations_are_numbered_from_one_without_gaps() {
    for (i, migration) in MIGRATIONS.iter().enumerate() {
        assert_eq!(migration.version as usize, i + 1);
    }
    assert_eq!(SCHEMA_VERSION as usize, MIGRATIONS.len());
}

#[test]
fn fresh_database_is_at_latest_version_with_pragmas() {
    let store = store();
    assert_eq!(user_version(store.conn()), i64::from(SCHEMA_VERSION));
    let fk: i64 = store
        .conn()
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn migrating_again_is_a_no_op() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate::migrate(&mut conn, MIGRATIONS).unwrap();
    conn.execute(
        "INSERT INTO accounts (jid, created_at) VALUES ('me@example.org', 0)",
        [],
    )
    .unwrap();
    let schema = |conn: &Connection| -> Vec<String> {
        conn.prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let before = schema(&conn);
    migrate::migrate(&mut conn, MIGRATIONS).unwrap();
    assert_eq!(schema(&conn), before);
    assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION));
    let accounts: i64 = conn
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(accounts, 1);
}

#[test]
fn no_table_has_a_password_column() {
    let store = store();
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p \
             WHERE m.type = 'table'",
        )
        .unwrap();
    let columns = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    assert!(columns.len() > 20, "{columns:?}");
    for (table, column) in columns {
        let lower = column.to_lowercase();
        assert!(
            !lower.contains("pass") && !lower.contains("secret"),
            "{table}.{column}"
        );
    }
}

#[test]
fn failed_migration_rolls_back_and_keeps_version() {
    let mut conn = Connection::open_in_memory().unwrap();
    let good = Migration {
        version: 1,
        sql: "CREATE TABLE one (x INTEGER);",
    };
    let bad = Migration {
        version: 2,
        sql: "CREATE TABLE two (x INTEGER); INSERT INTO missing VALUES (1);",
    };
    let err = migrate::migrate(&mut conn, &[good, bad]).unwrap_err();
    assert!(
        matches!(err, StoreError::Migration { version: 2, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "store.migration");
    assert_eq!(user_version(&conn), 1);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(tables, ["one"]);
}

#[test]
fn newer_schema_is_refused_in_memory() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = migrate::migrate(&mut conn, MIGRATIONS).unwrap_err();
    assert!(matches!(
        err,
        StoreError::NewerSchema { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
    ));
    assert_eq!(err.code(), "store.newer_schema");
    assert_eq!(user_version(&conn), i64::from(SCHEMA_VERSION + 1));
}

#[test]
fn newer_schema_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charla.sqlite3");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x TEXT); INSERT INTO future VALUES ('keep');")
            .unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 999, supported } if supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains("999"), "{err}");

    assert_eq!(std::fs::read(&path).unwrap(), before, "file bytes changed");
    assert!(!dir.path().join("charla.sqlite3-wal").exists());
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), 999);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

#[test]
fn file_database_uses_wal_and_reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charla.sqlite3");
    let (account, conversation, sent) = {
        let mut store = Store::open(&path).unwrap();
        let conn = store.conn();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 1, "synchronous=NORMAL");
        let timeout: i64 = conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert!(timeout > 0);

        let account = store.upsert_account("me@example.org").unwrap();
        store
            .replace_roster(
                account,
                &[entry("bob@example.org", Subscription::Both, &["Friends"])],
                Some("v1"),
            )
            .unwrap();
        let sent = store
            .insert_outgoing(account, "bob@example.org", "persist me", "o-1", None)
            .unwrap();
        (account, sent.conversation_id, sent)
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(store.conn()), i64::from(SCHEMA_VERSION));
    assert_eq!(store.upsert_account("me@example.org").unwrap(), account);
    assert_eq!(
        store.roster_version(account).unwrap().as_deref(),
        Some("v1")
    );
    assert_eq!(store.contacts(account).unwrap().len(), 1);
    assert_eq!(
        store.conversation(account, "bob@example.org").unwrap(),
        conversation
    );
    assert_eq!(store.message(sent.id).unwrap(), Some(sent.clone()));
    assert_eq!(store.pending_outgoing(account).unwrap(), vec![sent]);
}

#[test]
fn wal_file_written_concurrently_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charla.sqlite3");
    let mut writer = Store::open(&path).unwrap();
    let account = writer.upsert_account("me@example.org").unwrap();
    let conversation = writer.conversation(account, "bob@example.org").unwrap();
    let reader = Store::open(&path).unwrap();
    const TOTAL: usize = 200;

    let handle = std::thread::spawn(move || {
        for i in 0..TOTAL {
            let mut message = incoming(account, "bob@example.org", &format!("m{i}"));
            message.stanza_id = Some(format!("s{i}"));
            inserted(writer.insert_incoming(&message).unwrap());
        }
        writer
    });
    let mut last_seen = 0;
    while !handle.is_finished() {
        let page = reader
            .history_page(conversation, None, TOTAL as u32)
            .unwrap();
        assert!(page.len() >= last_seen, "committed rows never disappear");
        assert!(page.windows(2).all(|w| w[0].id > w[1].id));
        last_seen = page.len();
    }
    let writer = handle.join().unwrap();
    assert_eq!(
        reader.history_page(conversation, None, 1000).unwrap().len(),
        TOTAL
    );
    // The reader can write too while the writer is open.
    let mut reader = reader;
    let reply = reader
        .insert_outgoing(account, "bob@example.org", "reply", "o-r", None)
        .unwrap();
    assert_eq!(writer.message(reply.id).unwrap(), Some(reply));
}

// ---- accounts -----------------------------------------------------------------

#[test]
fn upsert_account_is_idempotent() {
    let store = store();
    let a = store.upsert_account("me@example.org").unwrap();
    let b = store.upsert_account("other@example.org").unwrap();
    assert_ne!(a, b);
    assert_eq!(store.upsert_account("me@example.org").unwrap(), a);
    assert_eq!(store.accounts().unwrap().len(), 2);
}

#[test]
fn upsert_account_rejects_non_bare_jids() {
    let store = store();
    for jid in ["", "me@example.org/laptop"] {
        let err = store.upsert_account(jid).unwrap_err();
        assert_eq!(err.code(), "store.invalid_data", "{jid:?}");
    }
    assert!(store.accounts().unwrap().is_empty());
}

#[test]
fn account_and_accounts_read_back_defaults() {
    let store = store();
    let a = store.upsert_account("me@example.org").unwrap();
    let b = store.upsert_account("work@example.com").unwrap();
    let account = store.account(a).unwrap().unwrap();
    assert_eq!(account.id, a);
    assert_eq!(account.jid, "me@example.org");
    assert_eq!(account.host, None);
    assert_eq!(account.port, None);
    assert!(account.enabled);
    assert_eq!(account.roster_ver, None);
    assert!(account.created_at > 1_600_000_000_000, "unix ms");
    let ids: Vec<AccountId> = store.accounts().unwrap().iter().map(|a| a.id).collect();
    assert_eq!(ids, [a, b]);
    assert_eq!(store.account(AccountId(999)).unwrap(), None);
}

#[test]
fn set_account_server_sets_and_clears_override() {
    let (store, account) = setup();
    assert!(store
        .set_account_server(account, Some("xmpp.example.org"), Some(5223))
        .unwrap());
    let got = store.account(account).unwrap().unwrap();
    assert_eq!(got.host.as_deref(), Some("xmpp.example.org"));
    assert_eq!(got.port, Some(5223));
    assert!(store.set_account_server(account, None, None).unwrap());
    let got = store.account(account).unwrap().unwrap();
    assert_eq!((got.host, got.port), (None, None));
    assert!(!store
        .set_account_server(AccountId(999), Some("x"), None)
        .unwrap());
}

#[test]
fn set_account_enabled_toggles() {
    let (store, account) = setup();
    assert!(store.set_account_enabled(account, false).unwrap());
    assert!(!store.account(account).unwrap().unwrap().enabled);
    assert!(store.set_account_enabled(account, true).unwrap());
    assert!(store.account(account).unwrap().unwrap().enabled);
    assert!(!store.set_account_enabled(AccountId(999), true).unwrap());
}

// ---- roster -------------------------------------------------------------------

#[test]
fn replace_roster_replaces_everything_and_sets_version() {
    let (mut store, account) = setup();
    assert_eq!(store.roster_version(account).unwrap(), None);
    let mut carol = entry("carol@example.org", Subscription::To, &["Work", "Friends"]);
    carol.name = Some("Carol".into());
    carol.ask_pending = true;
    store
        .replace_roster(
            account,
            &[
                entry("bob@example.org", Subscription::Both, &[]),
                carol.clone(),
            ],
            Some("ver-1"),
        )
        .unwrap();
    let contacts = store.contacts(account).unwrap();
    carol.groups = vec!["Friends".into(), "Work".into()]; // returned sorted
    assert_eq!(
        contacts,
        [entry("bob@example.org", Subscription::Both, &[]), carol]
    );
    assert_eq!(
        store.roster_version(account).unwrap().as_deref(),
        Some("ver-1")
    );

    store
        .replace_roster(
            account,
            &[entry("dave@example.org", Subscription::From, &["Work"])],
            None,
        )
        .unwrap();
    assert_eq!(
        store.contacts(account).unwrap(),
        [entry("dave@example.org", Subscription::From, &["Work"])]
    );
    assert_eq!(store.roster_version(account).unwrap(), None);
    let orphans: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM contact_groups g \
             WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = g.contact_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}

#[test]
fn replace_roster_failure_keeps_old_roster() {
    let (mut store, account) = setup();
    let old = [entry("bob@example.org", Subscription::Both, &["A"])];
    store.replace_roster(account, &old, Some("v1")).unwrap();
    let err = store
        .replace_roster(
            account,
            &[
                entry("carol@example.org", Subscription::Both, &[]),
                entry("bad@example.org/resource", Subscription::Both, &[]),
            ],
            Some("v2"),
        )
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
    assert_eq!(store.contacts(account).unwrap(), old);
    assert_eq!(
        store.roster_version(account).unwrap().as_deref(),
        Some("v1")
    );
}

#[test]
fn replace_roster_unknown_account_fails() {
    let mut store = store();
    let err = store
        .replace_roster(AccountId(42), &[], Some("v"))
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
}

#[test]
fn roster_is_per_account() {
    let (mut store, me) = setup();
    let work = store.upsert_account("work@example.com").unwrap();
    store
        .upsert_contact(me, &entry("bob@example.org", Subscription::Both, &[]))
        .unwrap();
    store
        .upsert_contact(work, &entry("boss@example.com", Subscription::To, &[]))
        .unwrap();
    assert_eq!(store.contacts(me).unwrap()[0].jid, "bob@example.org");
    assert_eq!(store.contacts(work).unwrap()[0].jid, "boss@example.com");
    store.replace_roster(me, &[], None).unwrap();
    assert!(store.contacts(me).unwrap().is_empty());
    assert_eq!(store.contacts(work).unwrap().len(), 1);
}

#[test]
fn upsert_contact_inserts_then_updates_and_replaces_groups() {
    let (mut store, account) = setup();
    let mut bob = entry("bob@example.org", Subscription::None, &["Old", "Old"]);
    bob.ask_pending = true;
    store.upsert_contact(account, &bob).unwrap();
    bob.groups = vec!["Old".into()]; // duplicates collapse
    assert_eq!(store.contacts(account).unwrap(), [bob.clone()]);

    let mut updated = entry("bob@example.org", Subscription::Both, &["New"]);
    updated.name = Some("Bob".into());
    store.upsert_contact(account, &updated).unwrap();
    assert_eq!(store.contacts(account).unwrap(), [updated]);
}

#[test]
fn upsert_contact_with_remove_deletes_it() {
    let (mut store, account) = setup();
    store
        .upsert_contact(
            account,
            &entry("bob@example.org", Subscription::Both, &["G"]),
        )
        .unwrap();
    store
        .upsert_contact(
            account,
            &entry("bob@example.org", Subscription::Remove, &[]),
        )
        .unwrap();
    assert!(store.contacts(account).unwrap().is_empty());
    // Removing an unknown contact this way is fine, and remove items are skipped on replace.
    store
        .upsert_contact(
            account,
            &entry("nobody@example.org", Subscription::Remove, &[]),
        )
        .unwrap();
    store
        .replace_roster(
            account,
            &[entry("gone@example.org", Subscription::Remove, &[])],
            None,
        )
        .unwrap();
    assert!(store.contacts(account).unwrap().is_empty());
}

#[test]
fn remove_contact_deletes_contact_and_groups() {
    let (mut store, account) = setup();
    store
        .upsert_contact(
            account,
            &entry("bob@example.org", Subscription::Both, &["G"]),
        )
        .unwrap();
    store
        .upsert_contact(account, &entry("carol@example.org", Subscription::To, &[]))
        .unwrap();
    assert!(store.remove_contact(account, "bob@example.org").unwrap());
    assert!(!store.remove_contact(account, "bob@example.org").unwrap());
    assert_eq!(
        store.contacts(account).unwrap(),
        [entry("carol@example.org", Subscription::To, &[])]
    );
    let groups: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM contact_groups", [], |r| r.get(0))
        .unwrap();
    assert_eq!(groups, 0, "groups cascade with the contact");
}

#[test]
fn upsert_contact_for_unknown_account_fails() {
    let mut store = store();
    let err = store
        .upsert_contact(
            AccountId(7),
            &entry("bob@example.org", Subscription::Both, &[]),
        )
        .unwrap_err();
    assert_eq!(err.code(), "store.sqlite", "foreign key violation");
}

// ---- conversations --------------------------------------------------------------

#[test]
fn conversation_is_get_or_create() {
    let (store, account) = setup();
    let other = store.upsert_account("work@example.com").unwrap();
    let bob = store.conversation(account, "bob@example.org").unwrap();
    assert_eq!(store.conversation(account, "bob@example.org").unwrap(), bob);
    assert_ne!(
        store.conversation(account, "carol@example.org").unwrap(),
        bob
    );
    assert_ne!(store.conversation(other, "bob@example.org").unwrap(), bob);
    let err = store
        .conversation(account, "bob@example.org/phone")
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
}

#[test]
fn inserting_updates_last_activity_monotonically() {
    let (mut store, account) = setup();
    let last_activity = |store: &Store, id: ConversationId| -> Option<i64> {
        store
            .conn()
            .query_row(
                "SELECT last_activity FROM conversations WHERE id = ?1",
                [id.0],
                |r| r.get(0),
            )
            .unwrap()
    };
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    assert_eq!(last_activity(&store, conversation), None);

    let mut new = incoming(account, "bob@example.org", "late");
    new.server_time = Some(2_000);
    inserted(store.insert_incoming(&new).unwrap());
    assert_eq!(last_activity(&store, conversation), Some(2_000));

    // An older (backfilled) message does not move it back.
    new.server_time = Some(1_000);
    new.body = "early".into();
    inserted(store.insert_incoming(&new).unwrap());
    assert_eq!(last_activity(&store, conversation), Some(2_000));

    let sent = store
        .insert_outgoing(account, "bob@example.org", "now", "o-1", None)
        .unwrap();
    assert_eq!(last_activity(&store, conversation), Some(sent.local_time));
}

// ---- messages ---------------------------------------------------------------------

#[test]
fn insert_incoming_batch_stores_in_order_and_dedups_within_the_burst() {
    let (mut store, account) = setup();
    let with_sid = |peer: &str, body: &str, sid: &str| NewMessage {
        stanza_id: Some(sid.to_owned()),
        stanza_id_by: Some("me@example.org".to_owned()),
        ..incoming(account, peer, body)
    };
    let earlier = inserted(
        store
            .insert_incoming(&with_sid("bob@example.org", "zero", "s0"))
            .unwrap(),
    );
    let burst = [
        with_sid("bob@example.org", "one", "s1"),
        with_sid("carol@example.org", "two", "s2"),
        with_sid("bob@example.org", "one again", "s1"),
        with_sid("bob@example.org", "zero again", "s0"),
        with_sid("bob@example.org", "three", "s3"),
    ];
    let outcomes = store.insert_incoming_batch(&burst).unwrap();
    let ids: Vec<MessageId> = outcomes
        .iter()
        .map(|o| match o {
            InsertOutcome::Inserted(m) => m.id,
            InsertOutcome::Duplicate(id) => *id,
        })
        .collect();
    assert!(matches!(outcomes[0], InsertOutcome::Inserted(_)));
    assert!(matches!(outcomes[1], InsertOutcome::Inserted(_)));
    assert_eq!(outcomes[2], InsertOutcome::Duplicate(ids[0]));
    assert_eq!(outcomes[3], InsertOutcome::Duplicate(earlier.id));
    assert!(matches!(&outcomes[4], InsertOutcome::Inserted(m) if m.body == "three"));
    assert!(ids[0] < ids[1] && ids[1] < ids[4]);
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    // The conversation's activity is the newest row's of the burst, whatever the order.
    let times: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| match o {
            InsertOutcome::Inserted(m) if m.peer == "bob@example.org" => {
                Some(m.server_time.unwrap_or(m.local_time))
            }
            _ => None,
        })
        .collect();
    let activity: Option<i64> = store
        .conn()
        .query_row(
            "SELECT last_activity FROM conversations WHERE id = ?1",
            [conversation.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(activity, times.iter().copied().max());
    // Newest first.
    let bob = store.history_page(conversation, None, 10).unwrap();
    assert_eq!(
        bob.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["three", "one", "zero"]
    );
}

#[test]
fn insert_incoming_batch_stores_nothing_if_a_row_fails() {
    let (mut store, account) = setup();
    let burst = [
        incoming(account, "bob@example.org", "fine"),
        incoming(AccountId(99), "bob@example.org", "unknown account"),
    ];
    assert!(store.insert_incoming_batch(&burst).is_err());
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    assert!(store
        .history_page(conversation, None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn insert_incoming_stores_all_fields() {
    let (mut store, account) = setup();
    let mut new = incoming(account, "bob@example.org", "hello");
    new.server_time = Some(1_700_000_000_000);
    new.origin_id = Some("o-1".into());
    new.stanza_id = Some("s-1".into());
    new.stanza_id_by = Some("me@example.org".into());
    let message = inserted(store.insert_incoming(&new).unwrap());
    assert_eq!(message.account_id, account);
    assert_eq!(message.peer, "bob@example.org");
    assert_eq!(message.direction, Direction::In);
    assert_eq!(message.sender, "bob@example.org/phone");
    assert_eq!(message.body, "hello");
    assert_eq!(message.server_time, Some(1_700_000_000_000));
    assert!(message.local_time > 0);
    assert_eq!(message.origin_id.as_deref(), Some("o-1"));
    assert_eq!(message.stanza_id.as_deref(), Some("s-1"));
    assert_eq!(message.state, MessageState::Received);
    assert_eq!(message.error, None);
    assert_eq!(
        message.conversation_id,
        store.conversation(account, "bob@example.org").unwrap()
    );
    assert_eq!(store.message(message.id).unwrap(), Some(message.clone()));
    let by: Option<String> = store
        .conn()
        .query_row(
            "SELECT stanza_id_by FROM messages WHERE id = ?1",
            [message.id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by.as_deref(), Some("me@example.org"));
}

#[test]
fn message_returns_none_for_unknown_id() {
    let store = store();
    assert_eq!(store.message(MessageId(12345)).unwrap(), None);
}

#[test]
fn dedup_by_stanza_id_keeps_original_row() {
    let (mut store, account) = setup();
    let mut first = incoming(account, "bob@example.org", "original");
    first.stanza_id = Some("s-1".into());
    let original = inserted(store.insert_incoming(&first).unwrap());

    let mut again = incoming(account, "bob@example.org", "DIFFERENT BODY");
    again.stanza_id = Some("s-1".into());
    again.server_time = Some(5);
    again.origin_id = Some("fresh-origin".into());
    assert_eq!(
        store.insert_incoming(&again).unwrap(),
        InsertOutcome::Duplicate(original.id)
    );
    assert_eq!(store.message(original.id).unwrap(), Some(original.clone()));
    let conversation = original.conversation_id;
    assert_eq!(
        store.history_page(conversation, None, 10).unwrap(),
        [original]
    );
}

#[test]
fn stanza_id_dedup_is_per_conversation() {
    let (mut store, account) = setup();
    let mut a = incoming(account, "bob@example.org", "a");
    a.stanza_id = Some("s-1".into());
    let mut b = incoming(account, "carol@example.org", "b");
    b.stanza_id = Some("s-1".into());
    inserted(store.insert_incoming(&a).unwrap());
    inserted(store.insert_incoming(&b).unwrap());
}

#[test]
fn dedup_by_origin_id_within_direction() {
    let (mut store, account) = setup();
    let mut first = incoming(account, "bob@example.org", "original");
    first.origin_id = Some("o-1".into());
    let original = inserted(store.insert_incoming(&first).unwrap());

    let mut again = incoming(account, "bob@example.org", "changed");
    again.origin_id = Some("o-1".into());
    assert_eq!(
        store.insert_incoming(&again).unwrap(),
        InsertOutcome::Duplicate(original.id)
    );
    // A new stanza-id does not make an origin-id duplicate new.
    again.stanza_id = Some("s-9".into());
    assert_eq!(
        store.insert_incoming(&again).unwrap(),
        InsertOutcome::Duplicate(original.id)
    );
    assert_eq!(store.message(original.id).unwrap(), Some(original));

    // The same origin-id in the other direction is a different message.
    let mut own = incoming(account, "bob@example.org", "mine");
    own.direction = Direction::Out;
    own.sender = "me@example.org/laptop".into();
    own.origin_id = Some("o-1".into());
    let own = inserted(store.insert_incoming(&own).unwrap());
    assert_eq!(
        own.state,
        MessageState::Sent,
        "copies of own messages are sent"
    );
}

#[test]
fn messages_without_ids_are_never_duplicates() {
    let (mut store, account) = setup();
    let new = incoming(account, "bob@example.org", "same");
    let a = inserted(store.insert_incoming(&new).unwrap());
    let b = inserted(store.insert_incoming(&new).unwrap());
    assert_ne!(a.id, b.id);
}

#[test]
fn carbon_copy_of_own_pending_message_is_a_duplicate() {
    let (mut store, account) = setup();
    let pending = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-7", None)
        .unwrap();
    let mut copy = incoming(account, "bob@example.org", "hi");
    copy.direction = Direction::Out;
    copy.sender = "me@example.org/laptop".into();
    copy.origin_id = Some("o-7".into());
    copy.stanza_id = Some("s-7".into());
    assert_eq!(
        store.insert_incoming(&copy).unwrap(),
        InsertOutcome::Duplicate(pending.id)
    );
    assert_eq!(store.message(pending.id).unwrap(), Some(pending));
}

#[test]
fn insert_incoming_rejects_bad_peer_and_unknown_account() {
    let (mut store, account) = setup();
    let err = store
        .insert_incoming(&incoming(account, "bob@example.org/res", "x"))
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
    let err = store
        .insert_incoming(&incoming(AccountId(99), "bob@example.org", "x"))
        .unwrap_err();
    assert_eq!(err.code(), "store.sqlite");
    let count: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn insert_outgoing_is_pending_from_account_jid() {
    let (mut store, account) = setup();
    let message = store
        .insert_outgoing(account, "bob@example.org", "hi bob", "o-1", None)
        .unwrap();
    assert_eq!(message.direction, Direction::Out);
    assert_eq!(message.state, MessageState::Pending);
    assert_eq!(message.sender, "me@example.org");
    assert_eq!(message.peer, "bob@example.org");
    assert_eq!(message.body, "hi bob");
    assert_eq!(message.origin_id.as_deref(), Some("o-1"));
    assert_eq!(
        (message.server_time, message.stanza_id.clone()),
        (None, None)
    );
    assert_eq!(store.message(message.id).unwrap(), Some(message));
}

#[test]
fn insert_outgoing_errors() {
    let (mut store, account) = setup();
    let err = store
        .insert_outgoing(AccountId(99), "bob@example.org", "x", "o-1", None)
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
    store
        .insert_outgoing(account, "bob@example.org", "x", "o-1", None)
        .unwrap();
    let err = store
        .insert_outgoing(account, "bob@example.org", "y", "o-1", None)
        .unwrap_err();
    assert_eq!(
        err.code(),
        "store.sqlite",
        "origin-id reuse violates the unique index"
    );
}

#[test]
fn outgoing_state_moves_forward_only() {
    let (mut store, account) = setup();
    let message = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-1", None)
        .unwrap();
    let sent = store
        .set_state(message.id, MessageState::Sent, None)
        .unwrap()
        .unwrap();
    assert_eq!(sent.state, MessageState::Sent);
    assert_eq!(sent.body, "hi");
    let delivered = store
        .set_state(message.id, MessageState::Delivered, None)
        .unwrap()
        .unwrap();
    assert_eq!(delivered.state, MessageState::Delivered);

    // Late or repeated updates never downgrade.
    for stale in [
        MessageState::Sent,
        MessageState::Pending,
        MessageState::Failed,
        MessageState::Delivered,
        MessageState::Received,
    ] {
        assert_eq!(store.set_state(message.id, stale, None).unwrap(), None);
    }
    assert_eq!(store.message(message.id).unwrap(), Some(delivered));

    let displayed = store
        .set_state(message.id, MessageState::Displayed, None)
        .unwrap()
        .unwrap();
    assert_eq!(displayed.state, MessageState::Displayed);
    assert_eq!(
        store
            .set_state(message.id, MessageState::Delivered, None)
            .unwrap(),
        None
    );
}

#[test]
fn failed_and_retry() {
    let (mut store, account) = setup();
    let a = store
        .insert_outgoing(account, "bob@example.org", "a", "o-a", None)
        .unwrap();
    let failed = store
        .set_state(a.id, MessageState::Failed, Some("remote-server-not-found"))
        .unwrap()
        .unwrap();
    assert_eq!(failed.state, MessageState::Failed);
    assert_eq!(failed.error.as_deref(), Some("remote-server-not-found"));
    assert_eq!(
        store.set_state(a.id, MessageState::Sent, None).unwrap(),
        None
    );

    let retry = store
        .set_state(a.id, MessageState::Pending, None)
        .unwrap()
        .unwrap();
    assert_eq!(retry.state, MessageState::Pending);
    assert_eq!(retry.error, None, "retry clears the error");

    let b = store
        .insert_outgoing(account, "bob@example.org", "b", "o-b", None)
        .unwrap();
    store.set_state(b.id, MessageState::Sent, None).unwrap();
    let failed = store
        .set_state(b.id, MessageState::Failed, Some("timeout"))
        .unwrap()
        .unwrap();
    assert_eq!(failed.state, MessageState::Failed);
    // A receipt arriving after all proves delivery.
    let delivered = store
        .set_state(b.id, MessageState::Delivered, None)
        .unwrap()
        .unwrap();
    assert_eq!(delivered.state, MessageState::Delivered);
}

#[test]
fn set_state_ignores_unknown_and_incoming_messages() {
    let (mut store, account) = setup();
    assert_eq!(
        store
            .set_state(MessageId(77), MessageState::Sent, None)
            .unwrap(),
        None
    );
    let received = inserted(
        store
            .insert_incoming(&incoming(account, "bob@example.org", "hi"))
            .unwrap(),
    );
    assert_eq!(
        store
            .set_state(received.id, MessageState::Failed, Some("x"))
            .unwrap(),
        None
    );
    assert_eq!(store.message(received.id).unwrap(), Some(received));
}

#[test]
fn transition_table() {
    use MessageState as S;
    let all = [
        S::Received,
        S::Pending,
        S::Sent,
        S::Delivered,
        S::Displayed,
        S::Failed,
    ];
    let allowed = [
        (S::Pending, S::Sent),
        (S::Pending, S::Delivered),
        (S::Pending, S::Displayed),
        (S::Pending, S::Failed),
        (S::Sent, S::Delivered),
        (S::Sent, S::Displayed),
        (S::Sent, S::Failed),
        (S::Delivered, S::Displayed),
        (S::Failed, S::Pending),
        (S::Failed, S::Delivered),
        (S::Failed, S::Displayed),
    ];
    for from in all {
        for to in all {
            assert_eq!(
                from.can_transition_to(to),
                allowed.contains(&(from, to)),
                "{from:?} -> {to:?}"
            );
        }
    }
}

#[test]
fn find_outgoing_by_origin_id_only_finds_own_messages() {
    let (mut store, account) = setup();
    let mine = store
        .insert_outgoing(account, "bob@example.org", "mine", "o-1", None)
        .unwrap();
    let mut theirs = incoming(account, "bob@example.org", "theirs");
    theirs.origin_id = Some("o-2".into());
    let theirs = inserted(store.insert_incoming(&theirs).unwrap());
    let conversation = mine.conversation_id;
    assert_eq!(
        store
            .find_outgoing_by_origin_id(conversation, "o-1")
            .unwrap(),
        Some(mine)
    );
    assert_eq!(
        store
            .find_outgoing_by_origin_id(conversation, "o-2")
            .unwrap(),
        None
    );
    let other = store.conversation(account, "carol@example.org").unwrap();
    assert_eq!(
        store.find_outgoing_by_origin_id(other, "o-1").unwrap(),
        None
    );
    assert_eq!(theirs.direction, Direction::In);
}

#[test]
fn pending_outgoing_is_oldest_first_and_per_account() {
    let (mut store, me) = setup();
    let work = store.upsert_account("work@example.com").unwrap();
    let first = store
        .insert_outgoing(me, "bob@example.org", "1", "o-1", None)
        .unwrap();
    let sent = store
        .insert_outgoing(me, "carol@example.org", "2", "o-2", None)
        .unwrap();
    let third = store
        .insert_outgoing(me, "carol@example.org", "3", "o-3", None)
        .unwrap();
    store
        .insert_outgoing(work, "boss@example.com", "w", "o-w", None)
        .unwrap();
    inserted(
        store
            .insert_incoming(&incoming(me, "bob@example.org", "in"))
            .unwrap(),
    );
    store.set_state(sent.id, MessageState::Sent, None).unwrap();
    assert_eq!(store.pending_outgoing(me).unwrap(), [first, third]);
    assert_eq!(store.pending_outgoing(work).unwrap().len(), 1);
    assert!(store.pending_outgoing(AccountId(99)).unwrap().is_empty());
}

#[test]
fn history_pages_with_keyset() {
    let (mut store, account) = setup();
    let mut ids = Vec::new();
    for i in 0..25 {
        // Interleave another conversation to make sure it never leaks in.
        let other = incoming(account, "carol@example.org", &format!("c{i}"));
        inserted(store.insert_incoming(&other).unwrap());
        let m = inserted(
            store
                .insert_incoming(&incoming(account, "bob@example.org", &format!("b{i}")))
                .unwrap(),
        );
        ids.push(m.id);
    }
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = store.history_page(conversation, before, 10).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.iter().all(|m| m.conversation_id == conversation));
        assert!(page.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        before = page.last().map(|m| m.id);
        pages.push(page);
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let seen: Vec<MessageId> = pages.concat().iter().map(|m| m.id).collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every message exactly once, in order");
    assert_eq!(pages[0][0].body, "b24");
    assert_eq!(pages[2][4].body, "b0");

    assert!(store
        .history_page(conversation, None, 0)
        .unwrap()
        .is_empty());
    // A page started at an arbitrary id continues below it.
    let tail = store.history_page(conversation, Some(ids[3]), 100).unwrap();
    let tail_ids: Vec<MessageId> = tail.iter().map(|m| m.id).collect();
    assert_eq!(tail_ids, [ids[2], ids[1], ids[0]]);
    let empty = store.conversation(account, "nobody@example.org").unwrap();
    assert!(store.history_page(empty, None, 10).unwrap().is_empty());
}

#[test]
fn history_page_uses_the_conversation_index() {
    let (mut store, account) = setup();
    for i in 0..5 {
        inserted(
            store
                .insert_incoming(&incoming(account, "bob@example.org", &format!("{i}")))
                .unwrap(),
        );
        inserted(
            store
                .insert_incoming(&incoming(account, "carol@example.org", &format!("{i}")))
                .unwrap(),
        );
    }
    // Both without statistics and with (misleading, tiny-table) statistics.
    for analyze in [false, true] {
        if analyze {
            store.conn().execute_batch("ANALYZE").unwrap();
        }
        for before in [i64::MAX, 3] {
            let plan = query_plan(
                store.conn(),
                HISTORY_PAGE_SQL,
                rusqlite::params![1, before, 10],
            );
            assert!(!plan.contains("SCAN"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            assert!(
                plan.contains(
                    "SEARCH m USING INDEX messages_conversation_page (conversation_id=? AND id<?)"
                ),
                "{plan}"
            );
        }
    }
}

#[test]
fn lookups_use_indexes() {
    let (mut store, account) = setup();
    store
        .insert_outgoing(account, "bob@example.org", "x", "o-1", None)
        .unwrap();
    for analyze in [false, true] {
        if analyze {
            store.conn().execute_batch("ANALYZE").unwrap();
        }
        let conn = store.conn();
        let plan = query_plan(
            conn,
            "SELECT id FROM messages WHERE conversation_id = ?1 AND stanza_id = ?2",
            rusqlite::params![1, "s"],
        );
        assert!(plan.contains("messages_stanza_id"), "{plan}");
        let plan = query_plan(
            conn,
            "SELECT id FROM messages \
             WHERE conversation_id = ?1 AND direction = ?2 AND origin_id = ?3",
            rusqlite::params![1, "out", "o"],
        );
        assert!(plan.contains("messages_origin_id"), "{plan}");
        let plan = query_plan(conn, PENDING_OUTGOING_SQL, rusqlite::params![1]);
        assert!(plan.contains("messages_pending_out"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

// ---- errors -----------------------------------------------------------------------

#[test]
fn disk_full_is_reported_as_such() {
    let (mut store, account) = setup();
    let pages: i64 = store
        .conn()
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();
    store
        .conn()
        .pragma_update(None, "max_page_count", pages + 2)
        .unwrap();
    let big = "x".repeat(64 * 1024);
    let err = (0..100)
        .find_map(|i| {
            store
                .insert_incoming(&incoming(account, "bob@example.org", &format!("{i}{big}")))
                .err()
        })
        .expect("the size limit must be hit");
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert_eq!(err.code(), "store.disk_full");
    assert!(store.conn().is_autocommit(), "transaction rolled back");
}

#[test]
fn corrupt_stored_values_are_invalid_data() {
    let (mut store, account) = setup();
    let message = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-1", None)
        .unwrap();
    store
        .conn()
        .execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    store
        .conn()
        .execute(
            "UPDATE messages SET state = 'bogus' WHERE id = ?1",
            [message.id.0],
        )
        .unwrap();
    let err = store.message(message.id).unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
    assert!(err.to_string().contains("bogus"), "{err}");

    store
        .conn()
        .execute("UPDATE accounts SET port = 70000", [])
        .unwrap();
    let err = store.account(account).unwrap_err();
    assert_eq!(err.code(), "store.invalid_data");
}

#[test]
fn error_codes_are_stable() {
    let sqlite = StoreError::from(rusqlite::Error::QueryReturnedNoRows);
    assert_eq!(sqlite.code(), "store.sqlite");
    assert_eq!(StoreError::DiskFull.code(), "store.disk_full");
    assert_eq!(
        StoreError::InvalidData("x".into()).code(),
        "store.invalid_data"
    );
    assert_eq!(
        StoreError::NewerSchema {
            found: 2,
            supported: 1
        }
        .code(),
        "store.newer_schema"
    );
}

#[test]
fn find_outgoing_matches_peer_and_direction_and_creates_nothing() {
    let (mut store, account) = setup();
    let sent = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-1", None)
        .unwrap();
    let mut theirs = incoming(account, "bob@example.org", "yo");
    theirs.origin_id = Some("o-2".into());
    inserted(store.insert_incoming(&theirs).unwrap());
    assert_eq!(
        store
            .find_outgoing(account, "bob@example.org", "o-1")
            .unwrap(),
        Some(sent)
    );
    // Not ours, another peer, another account: nothing.
    assert_eq!(
        store
            .find_outgoing(account, "bob@example.org", "o-2")
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_outgoing(account, "eve@example.org", "o-1")
            .unwrap(),
        None
    );
    let other = store.upsert_account("other@example.org").unwrap();
    assert_eq!(
        store
            .find_outgoing(other, "bob@example.org", "o-1")
            .unwrap(),
        None
    );
    let conversations: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(conversations, 1, "lookups must not create conversations");
}

#[test]
fn is_contact_checks_the_cached_roster() {
    let (mut store, account) = setup();
    store
        .upsert_contact(account, &entry("bob@example.org", Subscription::Both, &[]))
        .unwrap();
    assert!(store.is_contact(account, "bob@example.org").unwrap());
    assert!(!store.is_contact(account, "eve@example.org").unwrap());
    let other = store.upsert_account("other@example.org").unwrap();
    assert!(!store.is_contact(other, "bob@example.org").unwrap());
}

// ---- message archive (XEP-0313) -------------------------------------------

fn archived(account: AccountId, peer: &str, body: &str, sid: &str) -> NewMessage {
    NewMessage {
        stanza_id: Some(sid.to_owned()),
        stanza_id_by: Some("me@example.org".to_owned()),
        server_time: Some(1_000),
        ..incoming(account, peer, body)
    }
}

#[test]
fn mam_position_is_absent_then_set_and_replaced() {
    let (store, account) = setup();
    assert_eq!(store.mam_position(account).unwrap(), None);
    store.set_mam_position(account, None, None).unwrap();
    assert_eq!(
        store.mam_position(account).unwrap(),
        Some(MamPosition {
            last_id: None,
            last_time: None
        })
    );
    store
        .set_mam_position(account, Some("a1"), Some(5))
        .unwrap();
    assert_eq!(
        store.mam_position(account).unwrap(),
        Some(MamPosition {
            last_id: Some("a1".into()),
            last_time: Some(5)
        })
    );
    assert!(store
        .set_mam_position(AccountId(999), Some("x"), None)
        .is_err());
}

#[test]
fn archive_page_commits_rows_and_position_together_and_dedups() {
    let (mut store, account) = setup();
    let live = inserted(
        store
            .insert_incoming(&archived(account, "bob@example.org", "live", "s2"))
            .unwrap(),
    );
    let page = [
        archived(account, "bob@example.org", "one", "s1"),
        archived(account, "bob@example.org", "live", "s2"),
        archived(account, "carol@example.org", "three", "s3"),
    ];
    let outcomes = store
        .insert_archive_page(account, &page, "s3", Some(3_000))
        .unwrap();
    assert!(matches!(&outcomes[0], InsertOutcome::Inserted(m) if m.body == "one"));
    assert_eq!(outcomes[1], InsertOutcome::Duplicate(live.id));
    assert!(matches!(&outcomes[2], InsertOutcome::Inserted(m) if m.peer == "carol@example.org"));
    assert_eq!(
        store
            .mam_position(account)
            .unwrap()
            .unwrap()
            .last_id
            .as_deref(),
        Some("s3")
    );
    // The same page again changes nothing.
    let again = store
        .insert_archive_page(account, &page, "s3", Some(3_000))
        .unwrap();
    assert!(again
        .iter()
        .all(|o| matches!(o, InsertOutcome::Duplicate(_))));
}

#[test]
fn failed_archive_page_keeps_the_old_position_and_no_rows() {
    let (mut store, account) = setup();
    store.set_mam_position(account, Some("s0"), None).unwrap();
    let page = [
        archived(account, "bob@example.org", "one", "s1"),
        archived(account, "not/bare", "bad", "s2"),
    ];
    assert!(store
        .insert_archive_page(account, &page, "s2", None)
        .is_err());
    assert_eq!(
        store
            .mam_position(account)
            .unwrap()
            .unwrap()
            .last_id
            .as_deref(),
        Some("s0")
    );
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    assert!(store
        .history_page(conversation, None, 10)
        .unwrap()
        .is_empty());
    // Rows of another account are refused.
    let other = store.upsert_account("other@example.org").unwrap();
    let foreign = [archived(other, "bob@example.org", "x", "s9")];
    assert!(store
        .insert_archive_page(account, &foreign, "s9", None)
        .is_err());
}

#[test]
fn gaps_are_recorded_per_account_and_newest_server_time() {
    let (mut store, account) = setup();
    let other = store.upsert_account("other@example.org").unwrap();
    assert!(store.gaps(account).unwrap().is_empty());
    assert_eq!(store.newest_server_time(account).unwrap(), None);
    let gap = store.add_gap(account, Some(42)).unwrap();
    store.add_gap(other, None).unwrap();
    assert_eq!(store.gaps(account).unwrap(), vec![gap]);
    let mut m = incoming(account, "bob@example.org", "x");
    m.server_time = Some(77);
    store.insert_incoming(&m).unwrap();
    assert_eq!(store.newest_server_time(account).unwrap(), Some(77));
    assert_eq!(store.newest_server_time(other).unwrap(), None);
}

// ---- receipts owed and marker ids ------------------------------------------

#[test]
fn owed_receipts_are_listed_until_sent_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let (first, second, plain) = {
        let mut store = Store::open(&path).unwrap();
        let account = store.upsert_account("me@example.org").unwrap();
        let owed = |body: &str, id: &str| NewMessage {
            wire_id: Some(id.to_owned()),
            receipt_owed: true,
            ..incoming(account, "bob@example.org", body)
        };
        let first = inserted(store.insert_incoming(&owed("one", "w1")).unwrap());
        let second = inserted(store.insert_incoming(&owed("two", "w2")).unwrap());
        // Owed but without an id to name: nothing can be sent, nothing is listed.
        let no_id = NewMessage {
            receipt_owed: true,
            ..incoming(account, "bob@example.org", "three")
        };
        store.insert_incoming(&no_id).unwrap();
        let plain = inserted(
            store
                .insert_incoming(&incoming(account, "bob@example.org", "four"))
                .unwrap(),
        );
        (first, second, plain)
    };
    let mut store = Store::open(&path).unwrap();
    let account = store.upsert_account("me@example.org").unwrap();
    let owed = store.owed_receipts(account, 10).unwrap();
    assert_eq!(
        owed.iter()
            .map(|o| (o.message, o.wire_id.as_str(), o.to.as_str()))
            .collect::<Vec<_>>(),
        [
            (first.id, "w1", "bob@example.org/phone"),
            (second.id, "w2", "bob@example.org/phone")
        ]
    );
    assert_eq!(store.owed_receipts(account, 1).unwrap().len(), 1);
    store.receipt_sent(first.id).unwrap();
    store.receipt_sent(plain.id).unwrap();
    let owed = store.owed_receipts(account, 10).unwrap();
    assert_eq!(
        owed.iter().map(|o| o.message).collect::<Vec<_>>(),
        [second.id]
    );
    store.receipts_sent(&[second.id, first.id]).unwrap();
    assert!(store.owed_receipts(account, 10).unwrap().is_empty());
    let other = store.upsert_account("other@example.org").unwrap();
    assert!(store.owed_receipts(other, 10).unwrap().is_empty());
}

#[test]
fn marker_id_is_the_wire_id_of_markable_messages_only() {
    let (mut store, account) = setup();
    let markable = NewMessage {
        wire_id: Some("w1".into()),
        markable: true,
        ..incoming(account, "bob@example.org", "mark me")
    };
    let not_markable = NewMessage {
        wire_id: Some("w2".into()),
        ..incoming(account, "bob@example.org", "do not")
    };
    let a = inserted(store.insert_incoming(&markable).unwrap());
    let b = inserted(store.insert_incoming(&not_markable).unwrap());
    assert_eq!(store.marker_id(a.id).unwrap().as_deref(), Some("w1"));
    assert_eq!(store.marker_id(b.id).unwrap(), None);
    assert_eq!(store.marker_id(MessageId(999_999)).unwrap(), None);
    // Our own messages are named by their origin-id, which is also their id.
    let out = store
        .insert_outgoing(account, "bob@example.org", "mine", "o-1", None)
        .unwrap();
    assert_eq!(out.origin_id.as_deref(), Some("o-1"));
}

#[test]
fn only_a_failed_outgoing_message_can_be_retried() {
    let (mut store, account) = setup();
    let out = store
        .insert_outgoing(account, "bob@example.org", "hi", "o-1", None)
        .unwrap();
    // Pending, not failed: nothing to retry.
    assert_eq!(store.retry_outgoing(out.id).unwrap(), None);
    store
        .set_state(out.id, MessageState::Failed, Some("recipient-unavailable"))
        .unwrap();
    let retried = store.retry_outgoing(out.id).unwrap().expect("retried");
    assert_eq!(
        (retried.state, retried.error),
        (MessageState::Pending, None)
    );
    assert_eq!(
        store
            .pending_outgoing(account)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [out.id]
    );
    let incoming = inserted(
        store
            .insert_incoming(&incoming(account, "bob@example.org", "theirs"))
            .unwrap(),
    );
    assert_eq!(store.retry_outgoing(incoming.id).unwrap(), None);
    assert_eq!(store.retry_outgoing(MessageId(424_242)).unwrap(), None);
}

#[test]
fn older_pages_go_before_everything_in_history_order() {
    let (mut store, account) = setup();
    let newest = inserted(
        store
            .insert_incoming(&archived(account, "bob@example.org", "m3", "s3"))
            .unwrap(),
    );
    let other = inserted(
        store
            .insert_incoming(&incoming(account, "carol@example.org", "hi"))
            .unwrap(),
    );
    assert_eq!(
        store
            .oldest_archive_id(account, "bob@example.org")
            .unwrap()
            .as_deref(),
        Some("s3")
    );
    // A page, oldest first, overlapping what is stored.
    let page = [
        archived(account, "bob@example.org", "m1", "s1"),
        archived(account, "bob@example.org", "m2", "s2"),
        archived(account, "bob@example.org", "m3", "s3"),
    ];
    let outcomes = store.insert_older_page(&page).unwrap();
    assert!(matches!(outcomes[2], InsertOutcome::Duplicate(id) if id == newest.id));
    let (m1, m2) = (inserted(outcomes[0].clone()), inserted(outcomes[1].clone()));
    assert!(m1.id < m2.id && m2.id < newest.id && m2.id < other.id);
    // And the page before that goes before those.
    let older = store
        .insert_older_page(&[archived(account, "bob@example.org", "m0", "s0")])
        .unwrap();
    let m0 = inserted(older[0].clone());
    assert!(m0.id < m1.id);
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    let history: Vec<String> = store
        .history_page(conversation, None, 10)
        .unwrap()
        .into_iter()
        .rev()
        .map(|m| m.body)
        .collect();
    assert_eq!(history, ["m0", "m1", "m2", "m3"]);
    assert_eq!(
        store
            .oldest_archive_id(account, "bob@example.org")
            .unwrap()
            .as_deref(),
        Some("s0")
    );
}

#[test]
fn removing_an_account_keeps_its_history_readable_or_deletes_all_of_it() {
    let (mut store, account) = setup();
    let other = store.upsert_account("other@example.org").unwrap();
    let mut in_msg = incoming(account, "bob@example.org", "hi");
    in_msg.receipt_owed = true;
    in_msg.wire_id = Some("w1".into());
    store.insert_incoming(&in_msg).unwrap();
    store
        .insert_outgoing(account, "bob@example.org", "unsent", "o1", None)
        .unwrap();
    store
        .insert_outgoing(other, "bob@example.org", "theirs", "o2", None)
        .unwrap();

    assert!(store.remove_account(account, true).unwrap());
    let kept = store.account(account).unwrap().expect("still there");
    assert!(!kept.enabled);
    let conversation = store.conversation(account, "bob@example.org").unwrap();
    let page = store.history_page(conversation, None, 10).unwrap();
    let states: Vec<_> = page.iter().map(|m| (m.body.as_str(), m.state)).collect();
    assert_eq!(
        states,
        [
            ("unsent", MessageState::Failed),
            ("hi", MessageState::Received)
        ]
    );
    assert!(store.pending_outgoing(account).unwrap().is_empty());
    assert!(store.owed_receipts(account, 10).unwrap().is_empty());
    // The other account is untouched.
    assert_eq!(store.pending_outgoing(other).unwrap().len(), 1);

    assert!(store.remove_account(account, false).unwrap());
    assert!(store.account(account).unwrap().is_none());
    let left: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1, "only the other account's message is left");
    assert!(!store.remove_account(account, false).unwrap());
}

#[test]
fn certificate_pin_is_per_account_and_replaced() {
    let (store, account) = setup();
    let other = store.upsert_account("other@example.org").unwrap();
    assert_eq!(store.certificate_pin(account).unwrap(), None);
    store.set_certificate_pin(account, &[1; 32]).unwrap();
    store.set_certificate_pin(account, &[2; 32]).unwrap();
    assert_eq!(store.certificate_pin(account).unwrap(), Some([2; 32]));
    assert_eq!(store.certificate_pin(other).unwrap(), None);
    let err = store
        .set_certificate_pin(AccountId(9999), &[3; 32])
        .expect_err("no such account");
    assert!(matches!(err, StoreError::InvalidData(_)), "{err:?}");
}

#[test]
fn avatar_hashes_are_recorded_and_survive_a_roster_replacement() {
    let (mut store, account) = setup();
    let hash = "a".repeat(40);
    store
        .replace_roster(account, &[entry("bob@x", Subscription::Both, &[])], None)
        .unwrap();
    assert!(store.set_avatar(account, "bob@x", Some(&hash)).unwrap());
    assert!(!store.set_avatar(account, "bob@x", Some(&hash)).unwrap());
    store
        .replace_roster(account, &[entry("bob@x", Subscription::Both, &[])], None)
        .unwrap();
    assert_eq!(store.avatar(account, "bob@x").unwrap(), Some(hash.clone()));
    assert_eq!(store.avatars(account).unwrap(), [("bob@x".into(), hash)]);
    // Not a SHA-1: refused by the schema, nothing changes.
    assert!(store.set_avatar(account, "bob@x", Some("short")).is_err());
    assert!(store.set_avatar(account, "bob@x", None).unwrap());
    assert_eq!(store.avatar(account, "bob@x").unwrap(), None);
}

#[cfg(unix)]
#[test]
fn the_database_and_its_wal_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charla.sqlite3");
    // A file some other program left readable is tightened too.
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&path).unwrap();
    store.upsert_account("me@example.org").unwrap();
    for name in ["charla.sqlite3", "charla.sqlite3-wal", "charla.sqlite3-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[test]
fn unanswered_counts_a_strangers_messages_until_the_user_writes() {
    let (mut store, account) = setup();
    assert_eq!(store.unanswered(account, "eve@x", 5).unwrap(), Some(0));
    let rows: Vec<NewMessage> = (0..8)
        .map(|i| incoming(account, "eve@x", &format!("spam {i}")))
        .collect();
    store.insert_incoming_batch(&rows).unwrap();
    assert_eq!(store.unanswered(account, "eve@x", 5).unwrap(), Some(5));
    assert_eq!(store.unanswered(account, "eve@x", 100).unwrap(), Some(8));
    store
        .insert_outgoing(account, "eve@x", "who are you?", "out-1", None)
        .unwrap();
    assert_eq!(store.unanswered(account, "eve@x", 100).unwrap(), None);
}

#[test]
fn message_requests_are_strangers_conversations_newest_first() {
    let (mut store, account) = setup();
    let other = store.upsert_account("other@example.org").unwrap();
    assert!(store.is_stranger(account, "eve@x").unwrap());
    let rows: Vec<NewMessage> = (0..3)
        .map(|i| incoming(account, "eve@x", &format!("spam {i}")))
        .chain([incoming(account, "mallory@x", "hi")])
        .chain([incoming(account, "bob@x", "hello")])
        .chain([incoming(other, "eve@x", "elsewhere")])
        .collect();
    store.insert_incoming_batch(&rows).unwrap();
    store
        .upsert_contact(account, &entry("bob@x", Subscription::Both, &[]))
        .unwrap();
    assert!(!store.is_stranger(account, "bob@x").unwrap());
    assert!(store.is_stranger(account, "eve@x").unwrap());

    let requests = store.message_requests(account).unwrap();
    let summary: Vec<(&str, u32, &str)> = requests
        .iter()
        .map(|r| (r.peer.as_str(), r.count, r.last.body.as_str()))
        .collect();
    assert_eq!(summary, [("mallory@x", 1, "hi"), ("eve@x", 3, "spam 2")]);
    assert!(requests.iter().all(|r| r.account_id == account));

    // Answering makes it an ordinary chat.
    store
        .insert_outgoing(account, "mallory@x", "who are you?", "out-1", None)
        .unwrap();
    assert!(!store.is_stranger(account, "mallory@x").unwrap());
    let peers: Vec<String> = store
        .message_requests(account)
        .unwrap()
        .into_iter()
        .map(|r| r.peer)
        .collect();
    assert_eq!(peers, ["eve@x"]);
}

#[test]
fn delete_conversation_removes_its_messages_only() {
    let (mut store, account) = setup();
    let other = store.upsert_account("other@example.org").unwrap();
    let rows: Vec<NewMessage> = (0..4)
        .map(|i| incoming(account, "eve@x", &format!("spam {i}")))
        .chain([incoming(account, "bob@x", "hello")])
        .chain([incoming(other, "eve@x", "elsewhere")])
        .collect();
    store.insert_incoming_batch(&rows).unwrap();
    assert_eq!(store.delete_conversation(account, "eve@x").unwrap(), 4);
    assert!(store
        .message_requests(account)
        .unwrap()
        .iter()
        .all(|r| r.peer != "eve@x"));
    assert_eq!(store.unanswered(account, "eve@x", 100).unwrap(), Some(0));
    let left: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 2, "bob's and the other account's stay");
    assert_eq!(store.delete_conversation(account, "eve@x").unwrap(), 0);
}

#[test]
fn kept_accounts_keep_their_order_place_and_color() {
    let mut store = store();
    // An account used once (a login without "remember me") is not kept.
    store.upsert_account("once@example.org").unwrap();
    let b = store.keep_account("b@example.org", None, None).unwrap();
    let a = store
        .keep_account("a@example.org", Some("h"), Some(5223))
        .unwrap();
    assert!(store.set_account_color(b, Some("#a0b1c2")).unwrap());
    assert!(store.set_account_enabled(b, false).unwrap());
    let jids = |store: &Store| -> Vec<String> {
        store
            .kept_accounts()
            .unwrap()
            .into_iter()
            .map(|k| k.jid)
            .collect()
    };
    assert_eq!(jids(&store), ["b@example.org", "a@example.org"]);
    // Keeping it again (a new login) enables it, in the same place, same color.
    assert_eq!(store.keep_account("b@example.org", None, None).unwrap(), b);
    let kept = store.kept_accounts().unwrap();
    assert_eq!(
        kept[0],
        KeptAccount {
            id: b,
            jid: "b@example.org".into(),
            host: None,
            port: None,
            enabled: true,
            color: Some("#a0b1c2".into()),
        }
    );
    assert_eq!(
        (kept[1].id, kept[1].host.as_deref(), kept[1].port),
        (a, Some("h"), Some(5223))
    );
    // Not kept any more: gone from the list, a later keep puts it last.
    assert!(store.unkeep_account("b@example.org").unwrap());
    assert!(!store.unkeep_account("b@example.org").unwrap());
    assert_eq!(jids(&store), ["a@example.org"]);
    store.keep_account("b@example.org", None, None).unwrap();
    assert_eq!(jids(&store), ["a@example.org", "b@example.org"]);
    // Only #rrggbb colors are stored.
    assert!(store.set_account_color(a, Some("red")).is_err());
}

// ---- rooms (XEP-0045) -------------------------------------------------

fn room_line(room: RoomId, nick: &str, body: &str, stanza_id: Option<&str>) -> NewRoomMessage {
    NewRoomMessage {
        unstyled: false,
        reply: None,
        room,
        direction: Direction::In,
        nick: nick.to_owned(),
        occupant_id: None,
        real_jid: None,
        body: body.to_owned(),
        server_time: Some(1_700_000_000_000),
        origin_id: None,
        stanza_id: stanza_id.map(str::to_owned),
        private_with: None,
        mentions_us: false,
    }
}

/// A store on a real file with one account and the room `family@muc.example.org`.
fn room_on_file() -> (tempfile::TempDir, Store, AccountId, Room) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("charla.db")).unwrap();
    let account = store.upsert_account("me@example.org").unwrap();
    let room = store
        .upsert_room(account, "family@muc.example.org", "me")
        .unwrap();
    (dir, store, account, room)
}

#[test]
fn a_room_is_kept_per_account_with_our_nick_and_autojoin() {
    let (_dir, mut store, account, room) = room_on_file();
    assert_eq!(room.nick, "me");
    assert!(room.autojoin && !room.bookmarked);
    store.set_room_autojoin(room.id, false).unwrap();
    store
        .set_room_subject(room.id, Some("Sunday lunch"))
        .unwrap();
    let again = store
        .upsert_room(account, "family@muc.example.org", "me2")
        .unwrap();
    assert_eq!(again.id, room.id);
    assert_eq!(again.nick, "me2");
    assert!(again.autojoin, "joining again joins at login again");
    assert_eq!(again.subject.as_deref(), Some("Sunday lunch"));
    assert_eq!(store.rooms(account).unwrap(), vec![again]);
    assert!(store
        .upsert_room(account, "family@muc.example.org/nick", "me")
        .is_err());
    assert!(store.upsert_room(account, "x@muc.example.org", "").is_err());
}

#[test]
fn room_lines_are_deduplicated_by_the_rooms_stanza_id_and_paged_in_order() {
    let (_dir, mut store, _, room) = room_on_file();
    let outcomes = store
        .insert_room_lines(&[
            room_line(room.id, "bob", "one", Some("r1")),
            room_line(room.id, "carol", "two", Some("r2")),
            room_line(room.id, "bob", "one again", Some("r1")),
        ])
        .unwrap();
    assert!(matches!(outcomes[0], RoomInsertOutcome::Inserted(_)));
    assert!(matches!(outcomes[1], RoomInsertOutcome::Inserted(_)));
    assert!(matches!(outcomes[2], RoomInsertOutcome::Duplicate(_)));
    let page = store.room_history_page(room.id, None, 10).unwrap();
    let bodies: Vec<_> = page.iter().rev().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["one", "two"]);
    assert_eq!(page[0].room, "family@muc.example.org");
    assert_eq!(
        store.newest_room_stanza_id(room.id).unwrap().as_deref(),
        Some("r2")
    );
    let older = store
        .room_history_page(room.id, Some(page[0].id), 10)
        .unwrap();
    assert_eq!(older.len(), 1);
}

#[test]
fn our_line_reflected_by_the_room_is_the_same_row_now_sent() {
    let (_dir, mut store, account, room) = room_on_file();
    let pending = store
        .insert_room_outgoing(room.id, "hi all", "o1", None, None)
        .unwrap();
    assert_eq!(pending.state, MessageState::Pending);
    assert_eq!(
        store.pending_room_outgoing(account).unwrap(),
        vec![pending.clone()]
    );
    let reflection = NewRoomMessage {
        direction: Direction::Out,
        origin_id: Some("o1".into()),
        ..room_line(room.id, "me", "hi all", Some("r7"))
    };
    let outcomes = store
        .insert_room_lines(std::slice::from_ref(&reflection))
        .unwrap();
    let RoomInsertOutcome::Reflected(sent) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!((sent.id, sent.state), (pending.id, MessageState::Sent));
    assert_eq!(sent.stanza_id.as_deref(), Some("r7"));
    assert!(store.pending_room_outgoing(account).unwrap().is_empty());
    // Its copy from the room's archive changes nothing.
    let again = store.insert_room_lines(&[reflection]).unwrap();
    assert_eq!(again, vec![RoomInsertOutcome::Duplicate(pending.id)]);
    assert_eq!(store.room_history_page(room.id, None, 10).unwrap().len(), 1);
}

#[test]
fn an_occupant_cannot_hide_anothers_line_by_reusing_its_origin_id() {
    let (_dir, mut store, _, room) = room_on_file();
    let with_origin = |nick: &str, body: &str| NewRoomMessage {
        origin_id: Some("same".into()),
        ..room_line(room.id, nick, body, None)
    };
    let outcomes = store
        .insert_room_lines(&[
            with_origin("mallory", "first"),
            with_origin("bob", "real"),
            with_origin("bob", "real"),
        ])
        .unwrap();
    assert!(matches!(outcomes[1], RoomInsertOutcome::Inserted(_)));
    assert!(matches!(outcomes[2], RoomInsertOutcome::Duplicate(_)));
    // Nor can anyone else's line with our origin-id mark ours as sent.
    let ours = store
        .insert_room_outgoing(room.id, "mine", "o9", None, None)
        .unwrap();
    let forged = NewRoomMessage {
        origin_id: Some("o9".into()),
        ..room_line(room.id, "mallory", "mine", Some("r9"))
    };
    let outcomes = store.insert_room_lines(&[forged]).unwrap();
    assert!(matches!(outcomes[0], RoomInsertOutcome::Inserted(_)));
    let still = store.room_history_page(room.id, None, 10).unwrap();
    let ours_now = still.iter().find(|m| m.id == ours.id).unwrap();
    assert_eq!(ours_now.state, MessageState::Pending);
}

#[test]
fn a_room_line_state_moves_forward_only() {
    let (_dir, mut store, _, room) = room_on_file();
    let line = store
        .insert_room_outgoing(room.id, "x", "o1", None, None)
        .unwrap();
    let failed = store
        .set_room_message_state(line.id, MessageState::Failed, Some("forbidden"))
        .unwrap()
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("forbidden"));
    assert!(store
        .set_room_message_state(line.id, MessageState::Received, None)
        .unwrap()
        .is_none());
}

#[test]
fn deleting_an_account_deletes_its_rooms_and_lines() {
    let (_dir, mut store, account, room) = room_on_file();
    store
        .insert_room_lines(&[room_line(room.id, "bob", "one", Some("r1"))])
        .unwrap();
    store
        .conn()
        .execute("DELETE FROM accounts WHERE id = ?1", [account.0])
        .unwrap();
    let left: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM room_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_forgotten_room_keeps_its_history_and_our_line_is_found_by_origin_id() {
    let (_dir, mut store, account, room) = room_on_file();
    let line = store
        .insert_room_outgoing(room.id, "x", "o1", None, None)
        .unwrap();
    store.forget_room(room.id).unwrap();
    let kept = store.room(account, &room.jid).unwrap().unwrap();
    assert!(!kept.autojoin && !kept.bookmarked);
    assert_eq!(
        store
            .find_room_outgoing(room.id, "o1")
            .unwrap()
            .map(|m| m.id),
        Some(line.id)
    );
    assert_eq!(store.find_room_outgoing(room.id, "o2").unwrap(), None);
}

#[test]
fn the_archive_copy_of_a_line_stored_live_without_stanza_id_is_the_same_line() {
    let (_dir, mut store, _, room) = room_on_file();
    let live = NewRoomMessage {
        origin_id: Some("o1".into()),
        ..room_line(room.id, "bob", "hello", None)
    };
    let archived = NewRoomMessage {
        stanza_id: Some("r1".into()),
        ..live.clone()
    };
    let first = store.insert_room_lines(&[live]).unwrap();
    let RoomInsertOutcome::Inserted(row) = &first[0] else {
        panic!("{first:?}")
    };
    let again = store
        .insert_room_lines(std::slice::from_ref(&archived))
        .unwrap();
    assert_eq!(again, vec![RoomInsertOutcome::Duplicate(row.id)]);
    assert_eq!(
        store.newest_room_stanza_id(room.id).unwrap().as_deref(),
        Some("r1")
    );
    // The same line sent again by its author (its reflection was lost, so
    // it went out once more) comes with another stanza-id: still the same
    // line (XEP-0359: an origin-id names one message of its sender).
    let resent = NewRoomMessage {
        stanza_id: Some("r2".into()),
        ..archived.clone()
    };
    assert_eq!(
        store.insert_room_lines(&[resent]).unwrap(),
        vec![RoomInsertOutcome::Duplicate(row.id)]
    );
    // Another occupant's line with that origin-id is not hidden by it.
    let other = NewRoomMessage {
        stanza_id: Some("r3".into()),
        ..room_line(room.id, "mallory", "hello", Some("r3"))
    };
    let other = NewRoomMessage {
        origin_id: Some("o1".into()),
        ..other
    };
    assert!(matches!(
        store.insert_room_lines(&[other]).unwrap()[0],
        RoomInsertOutcome::Inserted(_)
    ));
}

#[test]
fn removing_an_account_keeping_history_fails_its_unsent_room_lines() {
    let (_dir, mut store, account, room) = room_on_file();
    let line = store
        .insert_room_outgoing(room.id, "unsent", "o1", None, None)
        .unwrap();
    assert!(store.remove_account(account, true).unwrap());
    let kept = store.room_history_page(room.id, None, 10).unwrap();
    assert_eq!(kept[0].id, line.id);
    assert_eq!(kept[0].state, MessageState::Failed);
    assert!(store.pending_room_outgoing(account).unwrap().is_empty());
}

#[test]
fn a_private_message_and_a_mention_by_reference_are_kept_as_such() {
    let (_dir, mut store, _account, room) = room_on_file();
    let private = NewRoomMessage {
        private_with: Some("bob".into()),
        ..room_line(room.id, "bob", "psst", None)
    };
    let mention = NewRoomMessage {
        mentions_us: true,
        ..room_line(room.id, "carol", "look", Some("s1"))
    };
    store
        .insert_room_lines(&[
            private,
            mention,
            room_line(room.id, "dan", "hi", Some("s2")),
        ])
        .unwrap();
    let ours = store
        .insert_room_outgoing(room.id, "just you", "o1", Some("bob"), None)
        .unwrap();
    assert_eq!(ours.private_with.as_deref(), Some("bob"));
    let mut page = store.room_history_page(room.id, None, 10).unwrap();
    page.reverse();
    let kept: Vec<_> = page
        .iter()
        .map(|m| (m.body.as_str(), m.private_with.as_deref(), m.mentions_us))
        .collect();
    assert_eq!(
        kept,
        [
            ("psst", Some("bob"), false),
            ("look", None, true),
            ("hi", None, false),
            ("just you", Some("bob"), false),
        ]
    );
}

#[test]
fn the_next_room_line_to_send_is_found_among_pending_rows_only() {
    let (_dir, mut store, account, room) = room_on_file();
    let other = store
        .upsert_room(account, "team@muc.example.org", "me")
        .unwrap();
    store
        .insert_room_lines(&[room_line(room.id, "bob", "old", Some("s1"))])
        .unwrap();
    let private = store
        .insert_room_outgoing(room.id, "psst", "p1", Some("bob"), None)
        .unwrap();
    let first = store
        .insert_room_outgoing(room.id, "one", "o1", None, None)
        .unwrap();
    store
        .insert_room_outgoing(room.id, "two", "o2", None, None)
        .unwrap();
    let elsewhere = store
        .insert_room_outgoing(other.id, "x", "o3", None, None)
        .unwrap();
    assert_eq!(
        store.next_room_outgoing(room.id).unwrap().map(|m| m.id),
        Some(first.id)
    );
    assert_eq!(
        store.next_room_outgoing(other.id).unwrap().map(|m| m.id),
        Some(elsewhere.id)
    );
    assert_eq!(
        store
            .pending_room_private(account, 10)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [private.id]
    );
    store
        .set_room_message_state(first.id, MessageState::Sent, None)
        .unwrap();
    assert_eq!(
        store.next_room_outgoing(room.id).unwrap().map(|m| m.body),
        Some("two".into())
    );
}
