//! Contacts and presence subscriptions (RFC 6121) against real servers, Prosody and ejabberd
//! (each test runs on both): adding a contact asks for their presence and pre-approves theirs
//! where the server supports pre-approval (Prosody), or accepts their request by itself where it
//! does not (ejabberd); a request is accepted (both ways) or denied; a contact is renamed and
//! regrouped; removing one cancels both subscriptions.

use std::time::Duration;

use charla_core::{Event, RosterEntry, Subscription};
use charla_tests::{both_servers, Device, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

async fn online(server: &Server, user: &str) -> Device {
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

async fn add_accept_deny_edit_and_remove_contacts(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("carol", "carol-pw")
        .start()
        .await
        .expect("server");
    let (a, b, c) = (server.jid("alice"), server.jid("bob"), server.jid("carol"));
    let (alice_jid, bob_jid, carol_jid) = (a.as_str(), b.as_str(), c.as_str());
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    let mut carol = online(&server, "carol").await;

    // alice adds bob: he is in her list, asked, not yet sharing.
    alice
        .core
        .add_contact(alice.account, bob_jid, Some(" Bobby "), Some("Friends"))
        .await
        .expect("add bob");
    let added = contact(&mut alice, bob_jid, |c| c.ask_pending).await;
    assert_eq!(added.name.as_deref(), Some("Bobby"));
    assert_eq!(added.groups, ["Friends"]);
    assert_eq!(added.subscription, Subscription::None);

    // bob accepts, and asks back. Prosody advertises pre-approval, so alice pre-approved him
    // and Prosody answers his request itself; ejabberd does not, so his request reaches alice's
    // Charla, which accepts it because she added him. Either way it is mutual without asking
    // alice, and she is never shown a request.
    request_from(&mut bob, alice_jid).await;
    bob.core
        .answer_subscription(bob.account, alice_jid, true)
        .await
        .expect("accept");
    // alice's list says both, and she now sees bob online (in either order).
    let (mut both, mut sees) = (false, false);
    while !(both && sees) {
        match alice.wait_for("mutual and online", |_| true).await {
            Event::ContactChanged { contact, .. } if contact.jid == bob_jid => {
                both = contact.subscription == Subscription::Both;
            }
            Event::PresenceChanged { jid, presence, .. } if jid == bob_jid => {
                sees = presence.is_some();
            }
            _ => {}
        }
    }
    contact(&mut bob, alice_jid, |c| {
        c.subscription == Subscription::Both
    })
    .await;
    let seen = alice.settled().await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::SubscriptionRequest { .. })),
        "alice was asked: {seen:?}"
    );

    // alice adds carol, who says no.
    alice
        .core
        .add_contact(alice.account, carol_jid, None, None)
        .await
        .expect("add carol");
    request_from(&mut carol, alice_jid).await;
    carol
        .core
        .answer_subscription(carol.account, alice_jid, false)
        .await
        .expect("deny");
    let denied = contact(&mut alice, carol_jid, |c| !c.ask_pending).await;
    assert_eq!(denied.subscription, Subscription::None);

    // Rename and regroup bob.
    alice
        .core
        .edit_contact(
            alice.account,
            bob_jid,
            Some("Robert"),
            &["Work".into(), "Family".into()],
        )
        .await
        .expect("edit");
    let edited = contact(&mut alice, bob_jid, |c| c.name.as_deref() == Some("Robert")).await;
    assert_eq!(edited.groups, ["Family", "Work"]);
    assert_eq!(edited.subscription, Subscription::Both);

    // Remove bob: gone for alice, and bob no longer shares with her either way.
    alice
        .core
        .remove_contact(alice.account, bob_jid)
        .await
        .expect("remove");
    alice
        .wait_for(
            "bob removed",
            |e| matches!(e, Event::ContactRemoved { jid, .. } if jid == bob_jid),
        )
        .await;
    contact(&mut bob, alice_jid, |c| {
        c.subscription == Subscription::None
    })
    .await;

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

async fn a_blocked_jid_is_listed_and_nothing_from_it_arrives(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("mallory", "mallory-pw")
        .start()
        .await
        .expect("server");
    let mut alice = online(&server, "alice").await;
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let (a, m) = (server.jid("alice"), server.jid("mallory"));
    let (alice_jid, mallory_jid) = (a.as_str(), m.as_str());

    assert!(alice
        .core
        .blocked(alice.account)
        .await
        .expect("list")
        .is_empty());
    alice
        .core
        .block(alice.account, mallory_jid, true)
        .await
        .expect("block");
    assert_eq!(
        alice.core.blocked(alice.account).await.expect("list"),
        [mallory_jid]
    );

    // Nothing mallory sends reaches alice: not a message, not a subscription request.
    mallory
        .send(&format!(
            "<message type='chat' to='{alice_jid}'><body>buy now</body></message>\
             <presence type='subscribe' to='{alice_jid}'/>"
        ))
        .await;
    // Once the server answered mallory's ping it has handled both: dropped them, or routed
    // them to alice before answering her own ping.
    assert!(mallory.alive().await);
    for e in alice.settled().await {
        assert!(
            !matches!(
                e,
                Event::MessageAdded { .. } | Event::SubscriptionRequest { .. }
            ),
            "from a blocked JID: {e:?}"
        );
    }
    assert!(alice.history(mallory_jid).is_empty());

    // Unblocked, she can write again.
    alice
        .core
        .block(alice.account, mallory_jid, false)
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
            "<message type='chat' to='{alice_jid}'><body>sorry</body></message>"
        ))
        .await;
    assert_eq!(alice.added("after unblocking").await.body, "sorry");
}

async fn typing_is_shown_both_ways_between_contacts_only(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("eve", "eve-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server");
    let (a, b, eve_jid) = (server.jid("alice"), server.jid("bob"), server.jid("eve"));
    let (alice_jid, bob_jid) = (a.as_str(), b.as_str());
    let mut alice = online(&server, "alice").await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;
    let mut eve = RawClient::login(&server, "eve", "eve-pw", WAIT).await;
    eve.send("<presence/>").await;

    bob.send(&format!(
        "<message type='chat' to='{alice_jid}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
    ))
    .await;
    let typing = alice
        .wait_for("bob typing", |e| matches!(e, Event::ChatState { .. }))
        .await;
    assert!(matches!(
        typing,
        Event::ChatState { ref peer, state: charla_core::ChatState::Composing, .. } if peer == bob_jid
    ));

    for to in [bob_jid, eve_jid.as_str()] {
        alice
            .core
            .send_chat_state(alice.account, to, charla_core::ChatState::Composing)
            .await
            .expect("chat state");
    }
    bob.read_until("composing").await;
    // eve is no contact: she learns nothing. Anything alice sent her was on alice's stream
    // before alice's settling ping, so the server routed it to eve before answering that, and
    // before answering eve's.
    alice.settled().await;
    let seen = eve.settled().await;
    assert!(!seen.contains("chatstates"), "{seen}");
}

/// Pre-approval (RFC 6121 §3.4) is a stream feature for a logged-in client: Prosody offers it,
/// ejabberd 23.01 does not. Charla pre-approves only where it is offered (see
/// `add_accept_deny_edit_and_remove_contacts` for what it does elsewhere).
async fn pre_approval_is_offered_by_prosody_only(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("server");
    let alice = RawClient::login(&server, "alice", "alice-pw", WAIT).await;
    let offered = alice.features().contains("urn:xmpp:features:pre-approval");
    assert_eq!(offered, flavor == Flavor::Prosody, "{}", alice.features());
}

/// alice adds bob and goes offline; bob accepts and asks back while she is away.
///
/// On ejabberd (no pre-approval) bob's request waits for alice's next login, and Charla answers
/// it then without asking her: both end `both`.
///
/// On Prosody 0.12.3 alice's pre-approval answers bob's request while she is offline, and
/// Prosody marks her side `both`, but it never routes that `subscribed` to bob (its log shows
/// "outbound presence subscribed from alice for bob" and no inbound one, unlike when alice is
/// online): bob stays `from` with his request pending, and alice's client, which sees `both`,
/// has nothing to answer. This asserts what Prosody does; not pre-approving at all (and
/// answering the request when it comes, as on ejabberd) would end `both` there too.
async fn an_accept_while_the_adder_is_away(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .start()
        .await
        .expect("server");
    let (a, b) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (a.as_str(), b.as_str());
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    alice
        .core
        .add_contact(alice.account, bob_jid, None, None)
        .await
        .expect("add bob");
    contact(&mut alice, bob_jid, |c| c.ask_pending).await;
    alice.logout().await;

    request_from(&mut bob, alice_jid).await;
    bob.core
        .answer_subscription(bob.account, alice_jid, true)
        .await
        .expect("accept");
    contact(&mut bob, alice_jid, |c| {
        c.subscription == Subscription::From && c.ask_pending
    })
    .await;

    alice
        .login(charla_tests::options(&server, "alice-pw", None))
        .await;
    let entry = |d: &Device, jid: &str| {
        d.core
            .contacts(d.account)
            .expect("contacts")
            .into_iter()
            .find(|c| c.jid == jid)
            .unwrap_or_else(|| panic!("{jid} not in the roster"))
    };
    if flavor == Flavor::Ejabberd {
        contact(&mut bob, alice_jid, |c| {
            c.subscription == Subscription::Both
        })
        .await;
    }
    // Whatever else comes, came before alice's settling ping was answered (her initial
    // presence, which the server answers with what it stored for her, went out before it);
    // alice is never asked.
    let seen = alice.settled().await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::SubscriptionRequest { .. })),
        "alice was asked: {seen:?}"
    );
    // And what alice's login sent bob was routed to him before she was answered.
    bob.settled().await;
    assert_eq!(entry(&alice, bob_jid).subscription, Subscription::Both);
    let bobs = entry(&bob, alice_jid);
    match flavor {
        Flavor::Ejabberd => assert_eq!(bobs.subscription, Subscription::Both),
        Flavor::Prosody => assert_eq!(
            (bobs.subscription, bobs.ask_pending),
            (Subscription::From, true)
        ),
    }
}

both_servers!(
    an_accept_while_the_adder_is_away,
    pre_approval_is_offered_by_prosody_only,
    add_accept_deny_edit_and_remove_contacts,
    a_blocked_jid_is_listed_and_nothing_from_it_arrives,
    typing_is_shown_both_ways_between_contacts_only,
);
