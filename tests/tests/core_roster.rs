//! Contacts and presence subscriptions (RFC 6121) against a real Prosody: adding a contact asks
//! for their presence and pre-approves theirs; a request is accepted (both ways) or denied; a
//! contact is renamed and regrouped; removing one cancels both subscriptions.

use std::time::Duration;

use charla_core::{Event, RosterEntry, Subscription};
use charla_tests::{Device, TestServer};

const WAIT: Duration = Duration::from_secs(30);
const ALICE: &str = "alice@charla.test";
const BOB: &str = "bob@charla.test";
const CAROL: &str = "carol@charla.test";

async fn online(server: &TestServer, user: &str) -> Device {
    Device::online(server, user, WAIT).await
}

/// Waits for a roster push about `jid` that satisfies `pred`.
async fn contact(d: &mut Device, jid: &str, pred: impl Fn(&RosterEntry) -> bool) -> RosterEntry {
    match d
        .wait_for(&format!("{jid} in the roster"), |e| {
            matches!(e, Event::ContactChanged { contact, .. } if contact.jid == jid && pred(contact))
        })
        .await
    {
        Event::ContactChanged { contact, .. } => contact,
        _ => unreachable!(),
    }
}

async fn request_from(d: &mut Device, jid: &str) {
    d.wait_for(
        &format!("a request from {jid}"),
        |e| matches!(e, Event::SubscriptionRequest { jid: from, .. } if from == jid),
    )
    .await;
}

#[tokio::test]
async fn add_accept_deny_edit_and_remove_contacts() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("carol", "carol-pw")
        .start()
        .await
        .expect("prosody");
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    let mut carol = online(&server, "carol").await;

    // alice adds bob: he is in her list, asked, not yet sharing.
    alice
        .core
        .add_contact(alice.account, BOB, Some(" Bobby "), Some("Friends"))
        .await
        .expect("add bob");
    let added = contact(&mut alice, BOB, |c| c.ask_pending).await;
    assert_eq!(added.name.as_deref(), Some("Bobby"));
    assert_eq!(added.groups, ["Friends"]);
    assert_eq!(added.subscription, Subscription::None);

    // bob accepts, and asks back: alice pre-approved him, so it is mutual at once.
    request_from(&mut bob, ALICE).await;
    bob.core
        .answer_subscription(bob.account, ALICE, true)
        .await
        .expect("accept");
    // alice's list says both, and she now sees bob online (in either order).
    let (mut both, mut sees) = (false, false);
    while !(both && sees) {
        match alice.wait_for("mutual and online", |_| true).await {
            Event::ContactChanged { contact, .. } if contact.jid == BOB => {
                both = contact.subscription == Subscription::Both;
            }
            Event::PresenceChanged { jid, presence, .. } if jid == BOB => {
                sees = presence.is_some();
            }
            _ => {}
        }
    }
    contact(&mut bob, ALICE, |c| c.subscription == Subscription::Both).await;

    // alice adds carol, who says no.
    alice
        .core
        .add_contact(alice.account, CAROL, None, None)
        .await
        .expect("add carol");
    request_from(&mut carol, ALICE).await;
    carol
        .core
        .answer_subscription(carol.account, ALICE, false)
        .await
        .expect("deny");
    let denied = contact(&mut alice, CAROL, |c| !c.ask_pending).await;
    assert_eq!(denied.subscription, Subscription::None);

    // Rename and regroup bob.
    alice
        .core
        .edit_contact(
            alice.account,
            BOB,
            Some("Robert"),
            &["Work".into(), "Family".into()],
        )
        .await
        .expect("edit");
    let edited = contact(&mut alice, BOB, |c| c.name.as_deref() == Some("Robert")).await;
    assert_eq!(edited.groups, ["Family", "Work"]);
    assert_eq!(edited.subscription, Subscription::Both);

    // Remove bob: gone for alice, and bob no longer shares with her either way.
    alice
        .core
        .remove_contact(alice.account, BOB)
        .await
        .expect("remove");
    alice
        .wait_for(
            "bob removed",
            |e| matches!(e, Event::ContactRemoved { jid, .. } if jid == BOB),
        )
        .await;
    contact(&mut bob, ALICE, |c| c.subscription == Subscription::None).await;

    // A bad JID is refused before anything is sent.
    let bad = alice
        .core
        .add_contact(alice.account, "not a jid", None, None)
        .await;
    assert_eq!(
        bad.expect_err("bad jid").code,
        charla_core::ErrorCode::InvalidJid
    );
}

#[tokio::test]
async fn a_blocked_jid_is_listed_and_nothing_from_it_arrives() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("mallory", "mallory-pw")
        .start()
        .await
        .expect("prosody");
    let mut alice = online(&server, "alice").await;
    let mut mallory = charla_tests::RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    const MALLORY: &str = "mallory@charla.test";

    assert!(alice
        .core
        .blocked(alice.account)
        .await
        .expect("list")
        .is_empty());
    alice
        .core
        .block(alice.account, MALLORY, true)
        .await
        .expect("block");
    assert_eq!(
        alice.core.blocked(alice.account).await.expect("list"),
        [MALLORY]
    );

    // Nothing mallory sends reaches alice: not a message, not a subscription request.
    mallory
        .send(&format!(
            "<message type='chat' to='{ALICE}'><body>buy now</body></message>\
             <presence type='subscribe' to='{ALICE}'/>"
        ))
        .await;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(1), alice.events.recv()).await
    {
        assert!(
            !matches!(
                e,
                Event::MessageAdded { .. } | Event::SubscriptionRequest { .. }
            ),
            "from a blocked JID: {e:?}"
        );
    }
    assert!(alice.history(MALLORY).is_empty());

    // Unblocked, she can write again.
    alice
        .core
        .block(alice.account, MALLORY, false)
        .await
        .expect("unblock");
    assert!(alice
        .core
        .blocked(alice.account)
        .await
        .expect("list")
        .is_empty());
    mallory
        .send(&format!(
            "<message type='chat' to='{ALICE}'><body>sorry</body></message>"
        ))
        .await;
    assert_eq!(alice.added("after unblocking").await.body, "sorry");
}

#[tokio::test]
async fn typing_is_shown_both_ways_between_contacts_only() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("eve", "eve-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("prosody");
    let mut alice = online(&server, "alice").await;
    let mut bob = charla_tests::RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;
    let mut eve = charla_tests::RawClient::login(&server, "eve", "eve-pw", WAIT).await;
    eve.send("<presence/>").await;

    bob.send(&format!(
        "<message type='chat' to='{ALICE}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
    ))
    .await;
    let typing = alice
        .wait_for("bob typing", |e| matches!(e, Event::ChatState { .. }))
        .await;
    assert!(matches!(
        typing,
        Event::ChatState { ref peer, state: charla_core::ChatState::Composing, .. } if peer == BOB
    ));

    for to in [BOB, "eve@charla.test"] {
        alice
            .core
            .send_chat_state(alice.account, to, charla_core::ChatState::Composing)
            .await
            .expect("chat state");
    }
    bob.read_until("composing").await;
    // eve is no contact: she learns nothing.
    let seen = eve.read_for(Duration::from_secs(1)).await;
    assert!(!seen.contains("chatstates"), "{seen}");
}
