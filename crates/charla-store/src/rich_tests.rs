//! Store tests of rich messages: acts kept as their own rows and what a
//! message shows derived from them, with who may do what; the migration
//! that adds them; drafts.

use rusqlite::Connection;

use crate::migrate::{self, MIGRATIONS};
use crate::*;

const PEER: &str = "bob@example.org";

fn setup() -> (Store, AccountId) {
    let store = Store::open_in_memory().unwrap();
    let account = store.upsert_account("me@example.org").unwrap();
    (store, account)
}

fn theirs(store: &mut Store, account: AccountId, id: &str, body: &str) -> Message {
    let new = NewMessage {
        unstyled: false,
        account,
        peer: PEER.into(),
        direction: Direction::In,
        sender: format!("{PEER}/phone"),
        body: body.into(),
        server_time: Some(1_700_000_000_000),
        origin_id: Some(id.into()),
        stanza_id: None,
        stanza_id_by: None,
        wire_id: Some(id.into()),
        markable: false,
        receipt_owed: false,
        reply: None,
    };
    match store.insert_incoming(&new).unwrap() {
        InsertOutcome::Inserted(m) => m,
        InsertOutcome::Duplicate(_) => panic!("duplicate"),
    }
}

fn act(
    account: AccountId,
    kind: ActionKind,
    direction: Direction,
    target: &str,
    body: Option<&str>,
    id: &str,
) -> NewAction {
    let author = match direction {
        Direction::In => PEER,
        Direction::Out => "me@example.org",
    };
    NewAction {
        chat: ActionChat::Chat {
            account,
            peer: PEER.into(),
        },
        kind,
        target: target.into(),
        direction,
        author: author.into(),
        author_name: author.into(),
        body: body.map(str::to_owned),
        action_id: Some(id.into()),
        moderated: false,
        server_time: None,
        pending: false,
    }
}

#[test]
fn a_message_shows_its_newest_allowed_text_and_keeps_the_others() {
    let (mut store, account) = setup();
    let m = theirs(&mut store, account, "m1", "helo");
    let mine = store
        .insert_outgoing(account, PEER, "mine", "o1", None)
        .unwrap();
    let a = |k, d, t: &str, b: Option<&str>, id: &str| act(account, k, d, t, b, id);
    store
        .insert_action(&a(
            ActionKind::Correct,
            Direction::In,
            "m1",
            Some("hello"),
            "c1",
        ))
        .unwrap();
    // Ours naming their message, theirs naming ours: neither counts.
    store
        .insert_action(&a(
            ActionKind::Correct,
            Direction::Out,
            "m1",
            Some("x"),
            "c2",
        ))
        .unwrap();
    store
        .insert_action(&a(ActionKind::Retract, Direction::In, "o1", None, "c3"))
        .unwrap();
    // A chain: a correction naming the previous correction.
    store
        .insert_action(&a(
            ActionKind::Correct,
            Direction::In,
            "c1",
            Some("hello!"),
            "c4",
        ))
        .unwrap();
    let shown = store.message(m.id).unwrap().unwrap();
    assert_eq!((shown.body.as_str(), shown.rich.edited), ("hello!", true));
    assert_eq!(store.message_versions(m.id).unwrap(), ["helo", "hello"]);
    let mine = store.message(mine.id).unwrap().unwrap();
    assert_eq!(mine.body, "mine");
    assert!(!mine.rich.retracted);
    // The same act again is stored once.
    assert_eq!(
        store
            .insert_action(&a(
                ActionKind::Correct,
                Direction::In,
                "m1",
                Some("hello"),
                "c1"
            ))
            .unwrap(),
        None
    );
    // The page shows the same as the single row.
    let conversation = store.conversation(account, PEER).unwrap();
    let page = store.history_page(conversation, None, 10).unwrap();
    assert!(page.iter().any(|p| p.body == "hello!"));
}

#[test]
fn reactions_are_per_author_newest_and_hidden_is_ours_only() {
    let (mut store, account) = setup();
    let m = theirs(&mut store, account, "m1", "photo");
    let a = |k, d, b: Option<&str>, id: &str| act(account, k, d, "m1", b, id);
    store
        .insert_action(&a(ActionKind::React, Direction::In, Some("👍\n😀"), "r1"))
        .unwrap();
    store
        .insert_action(&a(ActionKind::React, Direction::Out, Some("👍"), "r2"))
        .unwrap();
    store
        .insert_action(&a(ActionKind::React, Direction::In, Some("👍"), "r3"))
        .unwrap();
    let shown = store.message(m.id).unwrap().unwrap();
    assert_eq!(shown.rich.reactions.len(), 1, "{:?}", shown.rich.reactions);
    let thumbs = &shown.rich.reactions[0];
    assert_eq!(thumbs.by, [PEER, "me@example.org"]);
    assert!(thumbs.ours);
    // Hidden only by our own act.
    store
        .insert_action(&a(ActionKind::Hide, Direction::In, None, "h1"))
        .unwrap();
    assert!(!store.message(m.id).unwrap().unwrap().rich.hidden);
    store
        .insert_action(&a(ActionKind::Hide, Direction::Out, None, "h2"))
        .unwrap();
    assert!(store.message(m.id).unwrap().unwrap().rich.hidden);
    // Their retraction empties it and its reactions.
    store
        .insert_action(&a(ActionKind::Retract, Direction::In, None, "x1"))
        .unwrap();
    let gone = store.message(m.id).unwrap().unwrap();
    assert!(gone.rich.retracted);
    assert_eq!(gone.body, "");
    assert!(gone.rich.reactions.is_empty());
}

#[test]
fn more_than_the_cap_of_reactions_is_cut() {
    let (mut store, account) = setup();
    let m = theirs(&mut store, account, "m1", "x");
    let many: Vec<String> = (0..100).map(|i| format!("e{i}")).collect();
    store
        .insert_action(&act(
            account,
            ActionKind::React,
            Direction::In,
            "m1",
            Some(&many.join("\n")),
            "r1",
        ))
        .unwrap();
    let shown = store.message(m.id).unwrap().unwrap();
    assert_eq!(shown.rich.reactions.len(), MAX_REACTIONS);
}

#[test]
fn our_pending_acts_wait_until_sent() {
    let (mut store, account) = setup();
    theirs(&mut store, account, "m1", "x");
    let mut new = act(
        account,
        ActionKind::React,
        Direction::Out,
        "m1",
        Some("👍"),
        "r1",
    );
    new.pending = true;
    let id = store.insert_action(&new).unwrap().unwrap();
    let pending = store.pending_actions(account).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].to.as_str(), pending[0].room), (PEER, false));
    store.action_sent(id).unwrap();
    assert!(store.pending_actions(account).unwrap().is_empty());
}

#[test]
fn drafts_are_kept_per_chat_and_cleared_when_empty() {
    let (store, account) = setup();
    store.set_draft(account, PEER, "half a thought").unwrap();
    store
        .set_draft(account, "family@muc.example.org", "hola")
        .unwrap();
    store.set_draft(account, PEER, "a whole thought").unwrap();
    let drafts = store.drafts().unwrap();
    assert_eq!(drafts.len(), 2);
    assert!(drafts
        .iter()
        .any(|d| d.chat == PEER && d.body == "a whole thought"));
    store.set_draft(account, PEER, "").unwrap();
    assert_eq!(store.drafts().unwrap().len(), 1);
    assert!(store.set_draft(account, "not/bare", "x").is_err());
}

#[test]
fn the_migration_keeps_every_row_of_a_version_nine_database() {
    let mut conn = Connection::open_in_memory().unwrap();
    let nine: Vec<_> = MIGRATIONS.iter().filter(|m| m.version <= 9).collect();
    for m in &nine {
        conn.execute_batch(m.sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 9).unwrap();
    conn.execute_batch(
        "INSERT INTO accounts (id, jid, created_at) VALUES (1, 'me@example.org', 0);
         INSERT INTO conversations (id, account_id, peer) VALUES (1, 1, 'bob@example.org');
         INSERT INTO messages (conversation_id, direction, sender, body, local_time, state)
           VALUES (1, 'in', 'bob@example.org/x', 'old one', 1, 'received');
         INSERT INTO rooms (id, account_id, jid, nick) VALUES (1, 1, 'r@muc.example.org', 'me');
         INSERT INTO room_messages (room_id, direction, nick, body, local_time, state)
           VALUES (1, 'in', 'bob', 'old line', 1, 'received');",
    )
    .unwrap();
    migrate::migrate(&mut conn, MIGRATIONS).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE body = 'old one'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM room_messages WHERE body = 'old line'"),
        1
    );
    assert_eq!(count("SELECT count(*) FROM message_actions"), 0);
    assert_eq!(count("PRAGMA user_version"), i64::from(SCHEMA_VERSION));
}
