//! Stanzas no honest client sends, from a stranger through real Prosody: nested far too deep,
//! with thousands of attributes, megabytes large, or never ending. Charla must survive each
//! one (before issue 14 one deep headline aborted the whole process with a stack overflow) and
//! read on: the stranger's next ordinary message arrives.
//!
//! What Prosody 0.12 does with each is asserted too: stanzas up to its `c2s_stanza_size_limit`
//! (raised here to 16 MiB, so that the 10 MB and the million-deep stanzas reach Charla; the
//! default, 256 KiB, closes the sender's stream) are routed as they are; an endless one is cut
//! by Prosody itself, which closes the sender's stream. Charla's own bound for an endless stanza (from a
//! hostile server) is tested without a server, in `charla_core`'s `bounds` tests.

use std::time::Duration;

use charla_core::Event;
use charla_tests::{free_port, options, Device, RawClient, RawComponent, TestServer};

const WAIT: Duration = Duration::from_secs(60);

async fn server() -> TestServer {
    TestServer::builder()
        .user("alice", "alice-pw")
        .user("mallory", "mallory-pw")
        .global_config("c2s_stanza_size_limit = 16 * 1024 * 1024")
        .start()
        .await
        .expect("prosody")
}

fn nested(depth: usize) -> String {
    format!(
        "<x xmlns='urn:example'>{}{}</x>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

/// What Prosody 0.12 does with a hostile stanza from its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prosody {
    /// Routes it to alice as it is.
    Routes,
    /// Closes the sender's stream, and nothing reaches alice.
    ClosesSender,
}

/// Sends `hostile` from mallory and checks what Prosody did with it (`expected`); then
/// mallory (logged in again if Prosody closed the stream) sends an ordinary message, and
/// alice must get it without her connection ever changing state.
async fn survives(
    server: &TestServer,
    alice: &mut Device,
    mallory: &mut RawClient,
    what: &str,
    hostile: &str,
    expected: Prosody,
) {
    // Prosody may close the stream while the stanza is still being written.
    let prosody = if mallory.try_send(hostile).await && mallory.alive().await {
        Prosody::Routes
    } else {
        *mallory = RawClient::login(server, "mallory", "mallory-pw", WAIT).await;
        Prosody::ClosesSender
    };
    assert_eq!(prosody, expected, "what Prosody did with {what}");
    let body = format!("after {what}");
    mallory
        .send(&format!(
            "<message type='chat' to='alice@charla.test'><body>{body}</body></message>"
        ))
        .await;
    // Any change of the connection state would mean the session went down.
    let event = alice
        .wait_for(&format!("the message after {what}"), |e| match e {
            Event::Connection { state, .. } => panic!("the connection changed: {state:?}"),
            Event::MessageAdded { message, .. } => message.body.starts_with("after "),
            _ => false,
        })
        .await;
    let Event::MessageAdded { message: got, .. } = event else {
        unreachable!()
    };
    assert_eq!(got.body, body, "the stanza after {what} was lost");
    assert_eq!(got.peer, "mallory@charla.test");
}

/// alice online, and mallory, a stranger to her, on a raw stream.
async fn alice_and_mallory() -> (TestServer, Device, String, RawClient) {
    let server = server().await;
    let mut alice = Device::new(&server, "alice", WAIT);
    let alice_full = alice.login(options(&server, "alice-pw", None)).await;
    let mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    (server, alice, alice_full, mallory)
}

/// None of the hostile stanzas became a message: alice has only the `expected` ordinary ones.
fn only_ordinary_messages(alice: &Device, expected: usize) {
    let rows = alice
        .core
        .history(alice.account, "mallory@charla.test", None, 100)
        .expect("history");
    assert!(
        rows.iter().all(|m| m.body.starts_with("after ")),
        "{:?}",
        rows.iter().map(|m| m.body.len()).collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), expected);
}

/// A headline, a chat message and an IQ, each nested `depth` levels deep. With its size limit
/// raised, Prosody routes every one of them (a deep chat message it fails to archive, and logs
/// that). Before issue 14, the 1,000-deep headline alone aborted Charla with a stack overflow.
async fn deep_stanzas_from_a_stranger(depth: usize) {
    let (server, mut alice, alice_full, mut mallory) = alice_and_mallory().await;
    let x = nested(depth);
    let cases = [
        (
            "headline",
            format!("<message type='headline' to='alice@charla.test'>{x}</message>"),
        ),
        (
            "chat",
            format!("<message type='chat' to='alice@charla.test'><body>deep</body>{x}</message>"),
        ),
        (
            "iq",
            format!("<iq type='get' id='deep{depth}' to='{alice_full}'>{x}</iq>"),
        ),
    ];
    for (kind, hostile) in cases {
        let what = format!("a {kind} {depth} deep");
        survives(
            &server,
            &mut alice,
            &mut mallory,
            &what,
            &hostile,
            Prosody::Routes,
        )
        .await;
    }
    only_ordinary_messages(&alice, 3);
}

#[tokio::test]
async fn stanzas_1_000_deep_from_a_stranger_do_not_take_charla_down() {
    deep_stanzas_from_a_stranger(1_000).await;
}

#[tokio::test]
async fn stanzas_100_000_deep_from_a_stranger_do_not_take_charla_down() {
    deep_stanzas_from_a_stranger(100_000).await;
}

#[tokio::test]
async fn stanzas_1_000_000_deep_from_a_stranger_do_not_take_charla_down() {
    deep_stanzas_from_a_stranger(1_000_000).await;
}

#[tokio::test]
async fn wide_and_huge_stanzas_from_a_stranger_do_not_take_charla_down() {
    let (server, mut alice, _, mut mallory) = alice_and_mallory().await;
    let attributes: String = (0..10_000).map(|i| format!(" a{i}='v'")).collect();
    survives(
        &server,
        &mut alice,
        &mut mallory,
        "10,000 attributes",
        &format!("<message type='chat' to='alice@charla.test'><body>wide</body><x xmlns='urn:example'{attributes}/></message>"),
        Prosody::Routes,
    )
    .await;
    let huge = "x".repeat(10 * 1024 * 1024);
    survives(
        &server,
        &mut alice,
        &mut mallory,
        "a 10 MB message",
        &format!("<message type='chat' to='alice@charla.test'><body>{huge}</body></message>"),
        Prosody::Routes,
    )
    .await;
    only_ordinary_messages(&alice, 2);
}

#[tokio::test]
async fn an_endless_stanza_is_cut_by_prosody_and_charla_reads_on() {
    let server = server().await;
    let mut alice = Device::online(&server, "alice", WAIT).await;
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    mallory
        .send("<message type='chat' to='alice@charla.test'><body>")
        .await;
    // Prosody closes mallory's stream once the stanza passes its limit (16 MiB here); the
    // write that crosses it fails.
    let chunk = "y".repeat(1024 * 1024);
    for _ in 0..32 {
        if !mallory.try_send(&chunk).await {
            break;
        }
    }
    let mut again = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    survives(
        &server,
        &mut alice,
        &mut again,
        "an endless stanza",
        "",
        Prosody::Routes,
    )
    .await;
}

#[tokio::test]
async fn a_stranger_leaves_at_most_twenty_messages_and_no_presence() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("mallory", "mallory-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("prosody");
    let mut alice = Device::new(&server, "alice", WAIT);
    let alice_full = alice.login(options(&server, "alice-pw", None)).await;
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    let mut flood = String::new();
    for n in 0..100 {
        flood.push_str(&format!(
            "<presence to='{alice_full}'><status>I am {n}</status></presence>"
        ));
    }
    for n in 0..500 {
        flood.push_str(&format!(
            "<message type='chat' to='alice@charla.test' id='s{n}'><body>spam {n}</body></message>"
        ));
    }
    mallory.send(&flood).await;
    // Prosody has routed all of it once it answers this ping; bob's message comes after.
    assert!(mallory.alive().await);
    bob.send(
        "<message type='chat' to='alice@charla.test'><body>bob after the flood</body></message>",
    )
    .await;
    let mut from_mallory = 0;
    loop {
        let event = alice
            .wait_for("bob's message after the flood", |e| {
                matches!(
                    e,
                    Event::MessageAdded { .. } | Event::PresenceChanged { .. }
                )
            })
            .await;
        match event {
            Event::PresenceChanged { jid, .. } => {
                assert_ne!(
                    jid, "mallory@charla.test",
                    "a stranger's presence was taken"
                )
            }
            Event::MessageAdded { message, .. } if message.peer == "mallory@charla.test" => {
                assert_eq!(message.body, format!("spam {from_mallory}"));
                from_mallory += 1;
            }
            Event::MessageAdded { message, .. } => {
                assert_eq!(message.body, "bob after the flood");
                break;
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(from_mallory, 20, "a stranger stores at most 20 messages");
    let stored = alice
        .core
        .history(alice.account, "mallory@charla.test", None, 1000)
        .expect("history");
    assert_eq!(stored.len(), 20);

    // Once alice answers, mallory is no stranger: every message is kept.
    alice
        .core
        .send_message(alice.account, "mallory@charla.test", "who are you?")
        .await
        .expect("send");
    // (mallory's raw stream sent no presence: the answer waits in her offline store.)
    mallory
        .send("<message type='chat' to='alice@charla.test'><body>an answer</body></message>")
        .await;
    alice
        .added_where("mallory's answer", |m| m.body == "an answer")
        .await;
}

/// The resident memory of this test process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// 100,000 presences from 10,000 strangers (addresses of a hostile server's domain, played by
/// a Prosody component) leave nothing behind: no event, no presence kept, and the process's
/// memory stays where it was (printed; the note of issue 14 gives the figure).
#[tokio::test]
async fn a_presence_flood_from_10_000_strangers_keeps_nothing() {
    let port = free_port().expect("port");
    let mut builder = TestServer::builder().user("alice", "alice-pw");
    for line in RawComponent::config(port, "evil.charla.test", "s3cret") {
        builder = builder.global_config(line);
    }
    let server = builder.start().await.expect("prosody");
    let mut alice = Device::new(&server, "alice", WAIT);
    let alice_full = alice.login(options(&server, "alice-pw", None)).await;
    let mut evil = RawComponent::connect(&server, port, "evil.charla.test", "s3cret", WAIT).await;
    let before = rss_kib();
    for batch in 0..100 {
        let mut flood = String::new();
        for n in batch * 1_000..(batch + 1) * 1_000 {
            let user = n % 10_000;
            flood.push_str(&format!(
                "<presence from='u{user}@evil.charla.test/r{n}' to='{alice_full}'>\
                 <show>chat</show><status>flood {n}</status></presence>"
            ));
        }
        evil.send(&flood).await;
    }
    // On the same stream after the flood: when alice has it, she has read every presence.
    evil.send(&format!(
        "<message from='u1@evil.charla.test/r' to='{alice_full}' type='chat'><body>after the flood</body></message>"
    ))
    .await;
    alice
        .wait_for("the message after the flood", |e| match e {
            Event::PresenceChanged { jid, .. } => panic!("a stranger's presence was kept: {jid}"),
            Event::MessageAdded { message, .. } => message.body == "after the flood",
            _ => false,
        })
        .await;
    let after = rss_kib();
    eprintln!(
        "presence flood: 100,000 presences from 10,000 strangers; test process RSS {before} KiB \
         before, {after} KiB after"
    );
    assert!(
        after < before + 32 * 1024,
        "memory grew by {} KiB",
        after.saturating_sub(before)
    );
}
