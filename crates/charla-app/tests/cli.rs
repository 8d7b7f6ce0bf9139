//! `charla-cli` against a real Prosody: it prints the app's decisions about
//! the core's events (the same `AppEvent`s the desktop app shows) as JSON
//! lines: a contact's messages are notified with their roster name and
//! counted as unread, do-not-disturb counts without notifying, reading the
//! chat resets the count, and a stranger's message is a message request;
//! in a room, mentions notify and our own lines do not.

use std::process::Stdio;
use std::time::Duration;

use charla_tests::{Device, TestServer};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const WAIT: Duration = Duration::from_secs(30);

/// The CLI's output, one JSON object per line.
struct Cli {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<Value>,
}

impl Cli {
    /// The next printed object matching `pred` (every one read is kept in `seen`).
    async fn next(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let read = async {
            while let Some(line) = self.lines.next_line().await.expect("stdout") {
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
                self.seen.push(value.clone());
                if pred(&value) {
                    return value;
                }
            }
            panic!("charla-cli ended before {what}; printed: {:?}", self.seen);
        };
        tokio::time::timeout(WAIT, read)
            .await
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
    }

    async fn send(&mut self, command: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write");
    }
}

fn of_type<'a>(kind: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |v| v["type"] == kind
}

#[tokio::test]
async fn the_cli_prints_the_apps_unread_counts_and_notifications() {
    let server = TestServer::builder()
        .mutual_pair("alice", "bob")
        .roster_name("bob", "Bob")
        .user("carol", "carol-pw")
        .start()
        .await
        .expect("prosody");
    let dir = tempfile::tempdir().expect("dir");
    let alice = server.jid("alice");
    let mut child = Command::new(env!("CARGO_BIN_EXE_charla-cli"))
        .args([
            "--jid",
            &alice,
            "--password",
            "alice-pw",
            "--host",
            server.host(),
        ])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_cert_pem())
        .arg("--db")
        .arg(dir.path().join("cli.sqlite3"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("charla-cli");
    let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut cli = Cli {
        child,
        lines,
        seen: Vec::new(),
    };
    cli.next("online", |v| {
        v["type"] == "connection" && v["state"]["state"] == "online"
    })
    .await;
    cli.next("the roster", of_type("roster_loaded")).await;

    // Bob writes three times: each is notified with his roster name, and
    // counted.
    let bob = Device::online(&server, "bob", WAIT).await;
    for text in ["one", "two", "three"] {
        bob.core
            .send_message(bob.account, &alice, text)
            .await
            .expect("send");
    }
    let bob_chat = json!({"account": 1, "peer": server.jid("bob")});
    for text in ["one", "two", "three"] {
        let note = cli.next("a notification", of_type("notify")).await;
        assert_eq!(
            (&note["chat"], &note["title"], &note["body"]),
            (&bob_chat, &json!("Bob"), &json!(text))
        );
    }
    let mut unread = cli
        .next("the unread count", of_type("unread_changed"))
        .await;
    while unread["count"] != 3 {
        unread = cli
            .next("the unread count", of_type("unread_changed"))
            .await;
    }
    assert_eq!((&unread["chat"], &unread["total"]), (&bob_chat, &json!(3)));
    assert!(unread["last"].is_number(), "{unread}");

    // Do not disturb: counted, not notified.
    cli.send("/status dnd").await;
    let mut bob = bob;
    bob.presence_of(&alice, |p| {
        p.as_ref().is_some_and(|p| p.show == charla_core::Show::Dnd)
    })
    .await;
    bob.core
        .send_message(bob.account, &alice, "four")
        .await
        .expect("send");
    let unread = cli
        .next("the unread count", of_type("unread_changed"))
        .await;
    assert_eq!((&unread["count"], &unread["total"]), (&json!(4), &json!(4)));

    // Reading the chat resets it, and its notifications go.
    cli.send(&format!("/read {}", server.jid("bob"))).await;
    assert_eq!(
        cli.next("a dismissal", of_type("dismiss")).await,
        json!({"type": "dismiss", "chat": bob_chat})
    );
    let read = cli
        .next("the unread count", of_type("unread_changed"))
        .await;
    assert_eq!(
        read,
        json!({"type": "unread_changed", "chat": bob_chat, "count": 0, "total": 0, "last": null})
    );

    // A stranger: a message request, neither counted nor notified.
    cli.send("/status available").await;
    let carol = Device::online(&server, "carol", WAIT).await;
    carol
        .core
        .send_message(carol.account, &alice, "buy now")
        .await
        .expect("send");
    let request = cli
        .next("a message request", of_type("requests_changed"))
        .await;
    assert_eq!(request, json!({"type": "requests_changed", "account": 1}));

    cli.send("/quit").await;
    let status = tokio::time::timeout(WAIT, cli.child.wait())
        .await
        .expect("charla-cli quits")
        .expect("exit status");
    assert!(status.success(), "{status}");
    let decided: Vec<&Value> = cli
        .seen
        .iter()
        .filter(|v| ["notify", "unread_changed"].contains(&v["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        decided.iter().filter(|v| v["type"] == "notify").count(),
        3,
        "only bob's first three are notified: {decided:?}"
    );
    assert!(
        !decided
            .iter()
            .any(|v| v["chat"]["peer"] == server.jid("carol").as_str()),
        "{decided:?}"
    );
}

/// `charla-cli` logged in as `user` (password `<user>-pw`) on `server`, once online.
async fn start_cli(server: &TestServer, user: &str, dir: &std::path::Path) -> Cli {
    let mut child = Command::new(env!("CARGO_BIN_EXE_charla-cli"))
        .args([
            "--jid",
            &server.jid(user),
            "--password",
            &format!("{user}-pw"),
        ])
        .args(["--host", server.host()])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_cert_pem())
        .arg("--db")
        .arg(dir.join(format!("cli-{user}.sqlite3")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("charla-cli");
    let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut cli = Cli {
        child,
        lines,
        seen: Vec::new(),
    };
    cli.next("online", |v| {
        v["type"] == "connection" && v["state"]["state"] == "online"
    })
    .await;
    cli
}

/// In a room (`/join`, `/say`): a line without our nick counts and is not
/// notified (a room notifies mentions only by default), a mention is
/// notified as `nick: text` and marks the room, and our own line neither
/// counts nor notifies.
#[tokio::test]
async fn the_cli_prints_the_rooms_decisions() {
    let server = TestServer::builder()
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("prosody");
    let dir = tempfile::tempdir().expect("dir");
    let mut cli = start_cli(&server, "alice", dir.path()).await;
    let room = format!("family@{}", server.muc_domain());
    cli.send(&format!("/join {room} Alice")).await;
    cli.next("alice in the room", |v| {
        v["type"] == "room_joined" && v["room"] == room.as_str()
    })
    .await;

    let mut bob = Device::online(&server, "bob", WAIT).await;
    bob.core
        .join_room(bob.account, &room, "bob", None)
        .await
        .expect("join");
    bob.wait_for("bob in the room", |e| {
        matches!(e, charla_core::Event::RoomJoined { .. })
    })
    .await;
    let family = json!({"account": 1, "peer": room});
    bob.core
        .send_room_message(bob.account, &room, "hello everyone")
        .await
        .expect("say");
    assert_eq!(
        cli.next("a quiet line", of_type("quiet")).await,
        json!({"type": "quiet", "chat": family, "why": "not_mentioned", "count": 1})
    );
    bob.core
        .send_room_message(bob.account, &room, "alice, lunch?")
        .await
        .expect("say");
    let note = cli.next("a notification", of_type("notify")).await;
    assert_eq!(
        (&note["chat"], &note["room"], &note["body"]),
        (&family, &json!(true), &json!("bob: alice, lunch?"))
    );
    let unread = cli
        .next("the room's unread lines", |v| {
            v["type"] == "room_unread_changed" && v["count"] == 2
        })
        .await;
    assert_eq!(unread["mentioned"], json!(true));

    // Our own line, reflected by the room: nothing to decide.
    cli.send(&format!("/say {room} coming")).await;
    cli.next("our line reflected", |v| {
        v["type"] == "room_message_updated" && v["message"]["state"] == "sent"
    })
    .await;
    cli.send("/quit").await;
    let status = tokio::time::timeout(WAIT, cli.child.wait())
        .await
        .expect("charla-cli quits")
        .expect("exit status");
    assert!(status.success(), "{status}");
    while let Ok(Some(line)) = cli.lines.next_line().await {
        cli.seen.push(serde_json::from_str(&line).expect("JSON"));
    }
    let decided: Vec<&Value> = cli
        .seen
        .iter()
        .filter(|v| {
            ["notify", "room_unread_changed", "quiet"].contains(&v["type"].as_str().unwrap_or(""))
        })
        .collect();
    // Two decisions for each of bob's lines, none for ours.
    assert_eq!(decided.len(), 4, "{decided:?}");
    assert!(
        !decided.iter().any(|v| v.to_string().contains("coming")),
        "{decided:?}"
    );
}

/// Rich messages from the command line (the peer the window's end-to-end
/// tests drive): `/edit`, `/react`, `/reply` and `/retract` act on the
/// chat's last message, and bob's core sees each.
#[tokio::test]
async fn the_cli_edits_reacts_replies_and_retracts() {
    let server = TestServer::builder()
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("prosody");
    let dir = tempfile::tempdir().expect("dir");
    let mut cli = start_cli(&server, "alice", dir.path()).await;
    cli.next("the roster", of_type("roster_loaded")).await;
    let mut bob = Device::online(&server, "bob", WAIT).await;
    let bob_jid = server.jid("bob");
    let his = bob
        .core
        .send_message(bob.account, &server.jid("alice"), "tea?")
        .await
        .expect("send");
    cli.next("bob's message", |v| {
        v["type"] == "message_added" && v["message"]["body"] == "tea?"
    })
    .await;
    cli.send(&format!("/react {bob_jid} 👍")).await;
    bob.updated_where("alice's reaction", |m| {
        m.id == his.id && m.rich.reactions.first().is_some_and(|r| r.emoji == "👍")
    })
    .await;
    cli.send(&format!("/reply {bob_jid} yes please")).await;
    let answer = bob
        .added_where("alice's reply", |m| m.body == "yes please")
        .await;
    assert_eq!(answer.rich.reply.and_then(|r| r.target), Some(his.id.0));
    cli.send(&format!("/edit {bob_jid} yes, please")).await;
    bob.updated_where("the correction", |m| {
        m.body == "yes, please" && m.rich.edited
    })
    .await;
    cli.send(&format!("/retract {bob_jid}")).await;
    bob.updated_where("the retraction", |m| m.id == answer.id && m.rich.retracted)
        .await;
}
