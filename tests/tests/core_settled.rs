//! Settled facts, on both servers: `Core::settle` returns only once everything the server had
//! sent the account before it is stored and announced, so "what came" is a check of the event
//! channel, not a wait; and each catch-up says when it is over.

use std::time::Duration;

use charla_core::Event;
use charla_tests::{both_servers, Device, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(60);
const BURST: usize = 30;

/// `bob` sends `to` the messages "`what` 0" to "`what` n-1"; once the server answered his ping
/// after them, it has taken them all.
async fn send_and_settle(bob: &mut RawClient, to: &str, what: &str, n: usize) {
    for i in 0..n {
        bob.send(&format!(
            "<message type='chat' to='{to}' id='{what}{i}'><body>{what} {i}</body></message>"
        ))
        .await;
    }
    bob.settled().await;
}

/// A server with alice and bob, contacts of each other.
async fn pair(flavor: Flavor) -> Server {
    Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server")
}

async fn settle_returns_after_everything_sent_before_it(flavor: Flavor) {
    let server = pair(flavor).await;
    let mut alice = Device::online(&server, "alice", WAIT).await;
    alice
        .wait_for("caught up", |e| matches!(e, Event::CatchUpFinished { .. }))
        .await;
    alice.settled().await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    send_and_settle(&mut bob, &server.jid("alice"), "burst", BURST).await;
    let added = alice.settled_added().await;
    let expected: Vec<String> = (0..BURST).map(|n| format!("burst {n}")).collect();
    assert_eq!(added, expected);
    // Nothing else was on its way: a second settle finds no message.
    assert!(alice.settled_added().await.is_empty());
}

async fn a_catch_up_says_when_it_is_over_with_what_it_added(flavor: Flavor) {
    let server = pair(flavor).await;
    // The first login takes the archive's baseline: nothing to add.
    let mut alice = Device::online(&server, "alice", WAIT).await;
    let first = alice
        .wait_for("baseline", |e| matches!(e, Event::CatchUpFinished { .. }))
        .await;
    assert!(
        matches!(
            first,
            Event::CatchUpFinished {
                added: 0,
                complete: true,
                ..
            }
        ),
        "{first:?}"
    );
    alice.core.disconnect(alice.account).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    send_and_settle(&mut bob, &server.jid("alice"), "offline", 3).await;
    alice
        .login(charla_tests::options(&server, "alice-pw", None))
        .await;
    let mut bodies = Vec::new();
    loop {
        match alice.wait_for("the catch-up", |_| true).await {
            Event::MessageAdded { message, .. } => bodies.push(message.body),
            Event::CatchUpFinished {
                added, complete, ..
            } => {
                assert!(complete);
                // Offline storage may bring them live before the archive does; either
                // way each arrives once, and all of them before the catch-up is over.
                assert_eq!(bodies, ["offline 0", "offline 1", "offline 2"]);
                assert!(added as usize <= bodies.len(), "{added}");
                break;
            }
            _ => {}
        }
    }
}

both_servers!(
    settle_returns_after_everything_sent_before_it,
    a_catch_up_says_when_it_is_over_with_what_it_added
);
