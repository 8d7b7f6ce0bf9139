//! Broken links against a real Prosody, through a loopback proxy the test controls: a reset
//! connection resumes (XEP-0198) without losing or doubling anything, a silently stalled link
//! is noticed by the keepalive, a stream the server lost (`<failed/>` after a restart) is
//! bound again and its unacknowledged messages resent with a delay stamp (XEP-0203), and a
//! message the client read but could not commit comes back from the archive (XEP-0313).
//!
//! Every test runs on Prosody and on ejabberd, except the one that restarts the server (the
//! binary's ejabberd is shared by its tests): it runs on Prosody only.

use std::time::Duration;

use charla_core::{ConnectionState, Event, Keepalive, MessageState};
use charla_tests::{
    both_servers, is_online, options, Device, Flavor, Proxy, RawClient, Server, TestServer,
    XmppServer,
};

const WAIT: Duration = Duration::from_secs(30);
/// alice and bob on the Prosody of the test that restarts it.
const ALICE: &str = "alice@charla.test";
const BOB: &str = "bob@charla.test";

async fn server() -> TestServer {
    TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("prosody")
}

async fn server_on(flavor: Flavor) -> Server {
    Server::builder(flavor)
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("server")
}

async fn proxy<S: XmppServer + ?Sized>(server: &S) -> Proxy {
    let target = format!("{}:{}", server.host(), server.c2s_port());
    Proxy::start(target.parse().expect("address"))
        .await
        .expect("proxy")
}

/// alice online through `proxy`, noticing a dead link after 1 s + 1 s of silence.
async fn alice_via<S: XmppServer + ?Sized>(server: &S, proxy: &Proxy) -> Device {
    let mut alice = Device::new(server, "alice", WAIT);
    let mut opts = options(server, "alice-pw", Some(proxy.port()));
    opts.keepalive = Keepalive {
        idle: Duration::from_secs(1),
        answer: Duration::from_secs(1),
    };
    alice.login(opts).await;
    alice
}

fn chat(to: &str, id: &str, body: &str) -> String {
    format!(
        "<message type='chat' to='{to}' id='{id}'><body>{body}</body>\
         <request xmlns='urn:xmpp:receipts'/></message>"
    )
}

/// Waits until alice's stored message `id` to `peer` is in `state` (the update may come
/// before or after other events).
async fn reaches_in(
    alice: &mut Device,
    peer: &str,
    id: charla_core::MessageId,
    state: MessageState,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = alice
            .history(peer)
            .into_iter()
            .find(|m| m.id == id)
            .map(|m| m.state);
        if now == Some(state) {
            return;
        }
        match tokio::time::timeout_at(deadline, alice.events.recv()).await {
            Ok(Some(_)) => {}
            _ => panic!("message {id:?} never reached {state:?} (it is {now:?})"),
        }
    }
}

fn bodies(alice: &Device, peer: &str) -> Vec<String> {
    alice.history(peer).into_iter().map(|m| m.body).collect()
}

async fn a_reset_link_resumes_and_loses_or_doubles_nothing(flavor: Flavor) {
    let server = server_on(flavor).await;
    let (alice_owned, bob_owned) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (alice_owned.as_str(), bob_owned.as_str());
    let proxy = proxy(&server).await;
    let mut alice = alice_via(&server, &proxy).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;

    assert_eq!(proxy.kill(), 1, "alice's one connection");
    // While alice is cut off: bob writes to her, she writes to him.
    bob.send(&chat(alice_jid, "b1", "while you were away"))
        .await;
    let sent = alice
        .core
        .send_message(alice.account, bob_jid, "and while I was away")
        .await
        .expect("queued");
    alice.wait_for("back online", is_online).await;
    let got = alice.added("bob's message").await;
    assert_eq!(got.body, "while you were away");
    reaches_in(&mut alice, bob_jid, sent.id, MessageState::Sent).await;
    let seen = bob.read_until("and while I was away").await;
    assert_eq!(seen.matches("and while I was away").count(), 1, "{seen}");
    // A second copy would be on alice's stream before her settling ping, so the server routed
    // it to bob before answering her, and before answering bob's ping.
    alice.settled().await;
    let more = bob.settled().await;
    assert!(!more.contains("and while I was away"), "doubled: {more}");
    assert!(proxy.accepted() >= 2, "alice came back through the proxy");
    let mut all = bodies(&alice, bob_jid);
    all.sort();
    assert_eq!(all, ["and while I was away", "while you were away"]);
}

async fn a_stalled_link_is_noticed_and_its_message_still_sent_once(flavor: Flavor) {
    let server = server_on(flavor).await;
    let bob_owned = server.jid("bob");
    let bob_jid = bob_owned.as_str();
    let proxy = proxy(&server).await;
    let mut alice = alice_via(&server, &proxy).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;

    proxy.pause();
    let sent = alice
        .core
        .send_message(alice.account, bob_jid, "into the void")
        .await
        .expect("queued");
    // Nothing moves: the keepalive (1 s idle, 1 s to answer) gives up on the link.
    alice
        .wait_for("the stall noticed", |e| {
            matches!(
                e,
                Event::Connection {
                    state: ConnectionState::Reconnecting { .. },
                    ..
                }
            )
        })
        .await;
    proxy.resume();
    alice.wait_for("back online", is_online).await;
    reaches_in(&mut alice, bob_jid, sent.id, MessageState::Sent).await;
    let seen = bob.read_until("into the void").await;
    // A second copy would be on alice's stream before her settling ping (see above).
    alice.settled().await;
    let more = bob.settled().await;
    assert_eq!(
        (seen + &more).matches("into the void").count(),
        1,
        "exactly one copy"
    );
}

#[tokio::test]
async fn a_stream_the_server_lost_is_bound_again_and_resends_with_a_delay_stamp() {
    let mut server = server().await;
    let proxy = proxy(&server).await;
    let mut alice = alice_via(&server, &proxy).await;

    // The message goes into a stalled link: written, never acknowledged.
    proxy.pause();
    let written = now_ms();
    let sent = alice
        .core
        .send_message(alice.account, BOB, "written before the restart")
        .await
        .expect("queued");
    // The server forgets every session; alice's resumption gets <failed/>.
    server.restart().await.expect("restart");
    proxy.kill();
    proxy.resume();
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;
    reaches_in(&mut alice, BOB, sent.id, MessageState::Sent).await;

    let seen = bob.read_until("</message>").await;
    assert!(seen.contains("written before the restart"), "{seen}");
    assert!(
        seen.contains(&format!("from='{ALICE}'")) || seen.contains(&format!("from=\"{ALICE}\"")),
        "the delay names alice: {seen}"
    );
    let stamp = delay_stamp(&seen).expect("a delay stamp on the resent message");
    let skew = (stamp - written).abs();
    assert!(skew < 2_000, "stamped when written ({stamp} vs {written})");
    // A second copy would be on alice's stream before her settling ping (see above).
    alice.settled().await;
    let more = bob.settled().await;
    assert!(
        !more.contains("written before the restart"),
        "doubled: {more}"
    );
}

/// The `stamp` of the first `<delay>` in `xml`, as unix ms.
fn delay_stamp(xml: &str) -> Option<i64> {
    let at = xml.find("urn:xmpp:delay")?;
    let tag_start = xml[..at].rfind('<')?;
    let tag = &xml[tag_start..tag_start + xml[tag_start..].find('>')?];
    let value = tag.split("stamp=").nth(1)?;
    let quote = value.chars().next()?;
    let value = &value[1..][..value[1..].find(quote)?];
    chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    i64::try_from(since.as_millis()).expect("ms")
}

async fn a_message_read_but_not_committed_comes_back_from_the_archive(flavor: Flavor) {
    let server = server_on(flavor).await;
    let (alice_owned, bob_owned) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (alice_owned.as_str(), bob_owned.as_str());
    let mut alice = Device::new(&server, "alice", WAIT);
    alice.login(options(&server, "alice-pw", None)).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    // The catch-up baseline is taken and alice is caught up; then one message, live. It asks
    // for no receipt: recording that receipt's acknowledgement is a write of its own, which
    // could otherwise meet the lock below and be the error the test waits for.
    let baseline = alice.caught_up_added().await;
    assert!(baseline.is_empty(), "{baseline:?}");
    bob.send(&format!(
        "<message type='chat' to='{alice_jid}' id='b0'><body>first</body></message>"
    ))
    .await;
    assert_eq!(alice.added("first").await.body, "first");

    // Another process holds the database's write lock: alice reads the next message
    // (and acknowledges the stanza to the server) but cannot commit it.
    let blocker = rusqlite::Connection::open(alice.db()).expect("open");
    blocker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    bob.send(&chat(alice_jid, "b1", "read but not committed"))
        .await;
    alice
        .wait_for("the failed commit", |e| matches!(e, Event::Error { .. }))
        .await;
    blocker.execute_batch("ROLLBACK").expect("unlock");
    drop(blocker);
    // A later message commits fine, but must not move the archive position past the lost one.
    bob.send(&chat(alice_jid, "b2", "after the lock")).await;
    assert_eq!(alice.added("after").await.body, "after the lock");

    alice.logout().await;
    alice.login(options(&server, "alice-pw", None)).await;
    let recovered = alice.caught_up_added().await;
    assert_eq!(
        recovered.first().map(String::as_str),
        Some("read but not committed"),
        "{recovered:?}"
    );
    // It was never answered: the catch-up sends its receipt now.
    let receipts = bob.read_until("id='b1'").await;
    assert!(receipts.contains("urn:xmpp:receipts"), "{receipts}");
    // Whatever else the server had for alice is handled too.
    alice.settled().await;
    let all = bodies(&alice, bob_jid);
    for body in ["first", "read but not committed", "after the lock"] {
        assert_eq!(all.iter().filter(|b| *b == body).count(), 1, "{all:?}");
    }
}

async fn a_bounced_message_fails_with_the_reason_and_a_retry_sends_it(flavor: Flavor) {
    let server = server_on(flavor).await;
    let mut alice = Device::new(&server, "alice", WAIT);
    alice.login(options(&server, "alice-pw", None)).await;
    let carol_owned = server.jid("carol");
    let to = carol_owned.as_str();
    let sent = alice
        .core
        .send_message(alice.account, to, "are you there?")
        .await
        .expect("queued");
    // No such account yet: the server bounces it.
    let failed = alice
        .wait_for("the bounce", |e| {
            matches!(e, Event::MessageUpdated { message, .. }
                if message.id == sent.id && message.state == MessageState::Failed)
        })
        .await;
    let Event::MessageUpdated { message, .. } = failed else {
        unreachable!()
    };
    assert!(message.error.is_some_and(|e| !e.is_empty()), "a reason");
    // Nothing but a failed message of ours can be retried.
    let wrong = alice
        .core
        .retry(alice.account, charla_core::MessageId(sent.id.0 + 1000))
        .await;
    assert!(wrong.is_err(), "{wrong:?}");

    // carol signs up; the retried message goes out and reaches her.
    server
        .register("carol", "carol-pw")
        .await
        .expect("register");
    let retried = alice
        .core
        .retry(alice.account, sent.id)
        .await
        .expect("retry");
    assert_eq!(
        (retried.state, retried.error),
        (MessageState::Pending, None)
    );
    reaches_in(&mut alice, to, sent.id, MessageState::Sent).await;
    let again = alice.core.retry(alice.account, sent.id).await;
    assert!(again.is_err(), "sent, not failed: {again:?}");
    let mut carol = RawClient::login(&server, "carol", "carol-pw", WAIT).await;
    carol.send("<presence/>").await;
    carol.read_until("are you there?").await;
}

both_servers!(
    a_reset_link_resumes_and_loses_or_doubles_nothing,
    a_stalled_link_is_noticed_and_its_message_still_sent_once,
    a_message_read_but_not_committed_comes_back_from_the_archive,
    a_bounced_message_fails_with_the_reason_and_a_retry_sends_it,
);
