//! Keeping every device and both ends in step, against real servers (each test runs on
//! Prosody and on ejabberd):
//! message carbons (XEP-0280), delivery receipts (XEP-0184) and displayed
//! markers (XEP-0333), and the forged versions of each that must change
//! nothing.

use std::time::Duration;

use charla_core::{Direction, ErrorCode, Event, MessageState};
use charla_tests::{both_servers, options, Device, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(15);

/// Logs `user` in (password `<user>-pw`) and waits for the bound JID (returned too) and the
/// roster, so that roster-dependent behaviour (receipts) is settled.
async fn online_as(server: &Server, user: &str) -> (Device, String) {
    let mut d = Device::new(server, user, WAIT);
    d.core
        .connect(d.account, options(server, &format!("{user}-pw"), None))
        .await
        .expect("login");
    let jid = d.bound_jid().await;
    d.wait_for("roster", |e| matches!(e, Event::RosterLoaded { .. }))
        .await;
    (d, jid)
}

/// [`online_as`] without the JID.
async fn online(server: &Server, user: &str) -> Device {
    online_as(server, user).await.0
}

async fn server(flavor: Flavor) -> Server {
    Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("mallory", "mallory-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server")
}

async fn two_devices_of_one_account_see_the_whole_conversation(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_owned, bob_owned) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (alice_owned.as_str(), bob_owned.as_str());
    let mut laptop = online(&server, "alice").await;
    let mut phone = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;

    // bob → alice reaches both devices.
    bob.core
        .send_message(bob.account, alice_jid, "to all your devices")
        .await
        .expect("send");
    for device in [&mut laptop, &mut phone] {
        let got = device
            .added_where("bob's message", |m| m.body == "to all your devices")
            .await;
        assert_eq!(got.direction, Direction::In);
        assert_eq!(got.peer, bob_jid);
    }

    // laptop → bob shows up on the phone as our own message (sent carbon).
    let sent = laptop
        .core
        .send_message(laptop.account, bob_jid, "written on the laptop")
        .await
        .expect("send");
    let copy = phone
        .added_where("sent carbon", |m| m.body == "written on the laptop")
        .await;
    assert_eq!(copy.direction, Direction::Out);
    assert_eq!(copy.peer, bob_jid);
    assert_eq!(copy.sender, alice_jid);
    assert_eq!(copy.state, MessageState::Sent);
    assert_eq!(copy.origin_id, sent.origin_id);
    bob.added_where("laptop's message", |m| m.body == "written on the laptop")
        .await;
    // bob's receipt goes to the laptop and, carbon-copied, to the phone.
    laptop
        .updated_to("delivered on the laptop", sent.id, MessageState::Delivered)
        .await;
    phone
        .updated_to("delivered on the phone", copy.id, MessageState::Delivered)
        .await;

    // Everything is stored exactly once on each device, once each has handled all the server
    // sent it before now.
    for device in [&mut laptop, &mut phone, &mut bob] {
        device.settled().await;
    }
    for device in [&laptop, &phone] {
        let h = device.history(bob_jid);
        let bodies: Vec<_> = h.iter().map(|m| (m.direction, m.body.as_str())).collect();
        assert_eq!(
            bodies,
            vec![
                (Direction::In, "to all your devices"),
                (Direction::Out, "written on the laptop"),
            ]
        );
    }
    assert_eq!(bob.history(alice_jid).len(), 2);
}

async fn forged_carbons_from_another_user_are_dropped(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_owned, bob_owned, mallory_owned) = (
        server.jid("alice"),
        server.jid("bob"),
        server.jid("mallory"),
    );
    let (alice_jid, bob_jid, mallory_jid) = (
        alice_owned.as_str(),
        bob_owned.as_str(),
        mallory_owned.as_str(),
    );
    let (mut alice, alice_full) = online_as(&server, "alice").await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    let fake_sent = format!(
        "<message xmlns='jabber:client' from='{alice_jid}/laptop' \
         to='{mallory_jid}' type='chat' id='f1'><body>fake from alice</body>\
         <origin-id xmlns='urn:xmpp:sid:0' id='f1'/></message>"
    );
    let fake_received = format!(
        "<message xmlns='jabber:client' from='{mallory_jid}/x' \
         to='{alice_jid}' type='chat' id='f2'><body>fake from mallory</body></message>"
    );
    for to in [alice_jid, alice_full.as_str()] {
        for (kind, inner) in [("sent", &fake_sent), ("received", &fake_received)] {
            bob.send(&format!(
                "<message to='{to}' type='chat'><{kind} xmlns='urn:xmpp:carbons:2'>\
                 <forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></{kind}></message>"
            ))
            .await;
        }
    }
    // A forged carbon with a body of its own is not read as bob's message either.
    bob.send(&format!(
        "<message to='{alice_jid}' type='chat'><body>wrapper body</body>\
         <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{fake_sent}\
         </forwarded></sent></message>"
    ))
    .await;
    bob.send(&format!(
        "<message to='{alice_jid}' type='chat' id='s1'><body>sentinel</body></message>"
    ))
    .await;
    let first = alice
        .wait_for("any message event", |e| {
            matches!(e, Event::MessageAdded { .. } | Event::MessageUpdated { .. })
        })
        .await;
    let Event::MessageAdded { message, .. } = first else {
        panic!("a forged carbon produced {first:?}")
    };
    assert_eq!(message.body, "sentinel");
    assert_eq!(message.peer, bob_jid);
    assert!(alice.history(mallory_jid).is_empty());
    assert_eq!(alice.history(bob_jid).len(), 1);
}

async fn receipt_from_the_peer_marks_the_message_delivered(flavor: Flavor) {
    let server = server(flavor).await;
    let bob_owned = server.jid("bob");
    let bob_jid = bob_owned.as_str();
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    let sent = alice
        .core
        .send_message(alice.account, bob_jid, "did you get this?")
        .await
        .expect("send");
    let got = bob
        .added_where("alice's message", |m| m.body == "did you get this?")
        .await;
    assert_eq!(got.state, MessageState::Received);
    alice
        .updated_to("delivered", sent.id, MessageState::Delivered)
        .await;
    let stored = alice.history(bob_jid).pop().expect("stored");
    assert_eq!(stored.state, MessageState::Delivered);
    // A late server ack does not move it back to `sent`. The outbox sends one message at a
    // time, the next once the server's ack of the previous one was applied: once a second
    // message is sent, the first one's ack has been applied.
    let next = alice
        .core
        .send_message(alice.account, bob_jid, "and this?")
        .await
        .expect("send");
    alice
        .updated_where("the next one sent", |m| {
            m.id == next.id && matches!(m.state, MessageState::Sent | MessageState::Delivered)
        })
        .await;
    let first = alice
        .history(bob_jid)
        .into_iter()
        .find(|m| m.id == sent.id)
        .expect("stored");
    assert_eq!(first.state, MessageState::Delivered);
}

async fn receipts_are_answered_for_contacts_only(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_owned, bob_owned, mallory_owned) = (
        server.jid("alice"),
        server.jid("bob"),
        server.jid("mallory"),
    );
    let (alice_jid, bob_jid, mallory_jid) = (
        alice_owned.as_str(),
        bob_owned.as_str(),
        mallory_owned.as_str(),
    );
    let mut alice = online(&server, "alice").await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let ask = |id: &str| {
        format!(
            "<message to='{alice_jid}' type='chat' id='{id}'><body>receipt please</body>\
             <request xmlns='urn:xmpp:receipts'/></message>"
        )
    };
    mallory.send(&ask("from-mallory")).await;
    alice
        .added_where("mallory's message", |m| m.peer == mallory_jid)
        .await;
    bob.send(&ask("from-bob")).await;
    alice
        .added_where("bob's message", |m| m.peer == bob_jid)
        .await;
    let receipt = bob.read_until("from-bob").await;
    assert!(receipt.contains("urn:xmpp:receipts"), "{receipt}");
    // alice handled mallory's message before bob's, so a receipt to mallory would have left
    // before bob's, and the server routed it to mallory before answering her ping.
    let to_mallory = mallory.settled().await;
    assert!(
        !to_mallory.contains("urn:xmpp:receipts"),
        "a stranger got a receipt: {to_mallory}"
    );
}

async fn forged_receipts_and_markers_change_nothing(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_owned, bob_owned) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (alice_owned.as_str(), bob_owned.as_str());
    let mut alice = online(&server, "alice").await;
    // bob is offline, so only a forger could acknowledge the message.
    let sent = alice
        .core
        .send_message(alice.account, bob_jid, "for bob's eyes")
        .await
        .expect("send");
    alice.updated_to("sent", sent.id, MessageState::Sent).await;
    let origin = sent.origin_id.clone().expect("origin-id");
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let forged = [
        format!("<message to='{alice_jid}' type='chat'><received xmlns='urn:xmpp:receipts' id='{origin}'/></message>"),
        format!("<message to='{alice_jid}' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='{origin}'/></message>"),
        format!("<message to='{alice_jid}'><received xmlns='urn:xmpp:receipts' id='{origin}'/></message>"),
        // The same, dressed up as a carbon of bob's receipt.
        format!("<message to='{alice_jid}' type='chat'><received xmlns='urn:xmpp:carbons:2'>\
            <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='{bob_jid}/phone' \
            to='{alice_jid}' type='chat'><received xmlns='urn:xmpp:receipts' id='{origin}'/>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='{origin}'/></message></forwarded></received></message>"),
    ];
    for xml in &forged {
        mallory.send(xml).await;
    }
    mallory
        .send(&format!(
            "<message to='{alice_jid}' type='chat'><body>sentinel</body></message>"
        ))
        .await;
    let first = alice
        .wait_for("any message event", |e| {
            matches!(e, Event::MessageAdded { .. } | Event::MessageUpdated { .. })
        })
        .await;
    assert!(
        matches!(&first, Event::MessageAdded { message, .. } if message.body == "sentinel"),
        "a forged acknowledgement produced {first:?}"
    );
    assert_eq!(
        alice.history(bob_jid).pop().expect("stored").state,
        MessageState::Sent
    );

    // The real receipt still works: bob logs in, gets it offline, answers.
    let mut bob = online(&server, "bob").await;
    bob.added_where("offline message", |m| m.body == "for bob's eyes")
        .await;
    alice
        .updated_to("delivered by bob", sent.id, MessageState::Delivered)
        .await;
}

async fn displayed_marker_from_the_peer_marks_the_message_displayed(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_owned, bob_owned, mallory_owned) = (
        server.jid("alice"),
        server.jid("bob"),
        server.jid("mallory"),
    );
    let (alice_jid, bob_jid, mallory_jid) = (
        alice_owned.as_str(),
        bob_owned.as_str(),
        mallory_owned.as_str(),
    );
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    let sent = alice
        .core
        .send_message(alice.account, bob_jid, "read me")
        .await
        .expect("send");
    let got = bob
        .added_where("alice's message", |m| m.body == "read me")
        .await;
    alice
        .updated_to("delivered", sent.id, MessageState::Delivered)
        .await;

    // Only an incoming message of that conversation can be marked.
    let own = bob
        .core
        .send_message(bob.account, alice_jid, "my own")
        .await
        .expect("send");
    for (peer, id) in [(mallory_jid, got.id), (alice_jid, own.id)] {
        let err = bob
            .core
            .mark_displayed(bob.account, peer, id)
            .await
            .expect_err("must be refused");
        assert_eq!(err.code, ErrorCode::InvalidInput, "{peer} {id:?}");
    }

    bob.core
        .mark_displayed(bob.account, alice_jid, got.id)
        .await
        .expect("marker");
    alice
        .updated_to("displayed", sent.id, MessageState::Displayed)
        .await;
    let h = alice.history(bob_jid);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0].state, MessageState::Displayed);
    // Nothing else about it changes afterwards (no downgrade to delivered).
    let later = alice.settled().await;
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Event::MessageUpdated { message, .. } if message.id == sent.id)),
        "{later:?}"
    );

    // Offline, a marker is refused rather than queued.
    bob.core.disconnect(bob.account).await;
    let err = bob
        .core
        .mark_displayed(bob.account, alice_jid, got.id)
        .await
        .expect_err("offline");
    assert_eq!(err.code, ErrorCode::NotConnected);
}

both_servers!(
    two_devices_of_one_account_see_the_whole_conversation,
    forged_carbons_from_another_user_are_dropped,
    receipt_from_the_peer_marks_the_message_delivered,
    receipts_are_answered_for_contacts_only,
    forged_receipts_and_markers_change_nothing,
    displayed_marker_from_the_peer_marks_the_message_displayed,
);
