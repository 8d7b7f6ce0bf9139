//! Several accounts at once in one Charla against real servers (Prosody and ejabberd): each account runs its own
//! session, with its own roster, presence and conversations; one can go offline, change its
//! presence or come back without touching the other.

use std::time::Duration;

use charla_core::{ConnectionState, Direction, Event, Message, Show};
use charla_tests::{both_servers, options, Device, Flavor, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

/// The next incoming message `d` stores.
async fn incoming(d: &mut Device, what: &str) -> Message {
    match d
        .wait_for(what, |e| {
            matches!(e, Event::MessageAdded { message, .. } if message.direction == Direction::In)
        })
        .await
    {
        Event::MessageAdded { message, .. } => message,
        _ => unreachable!(),
    }
}

async fn two_accounts_run_side_by_side_in_one_core(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("carol", "carol-pw")
        .user("bob", "bob-pw")
        .user("dave", "dave-pw")
        .mutual("alice", "bob", None)
        .mutual("alice", "dave", None)
        .mutual("carol", "bob", None)
        .start()
        .await
        .expect("server");
    let (alice_owned, bob_owned, carol_owned, dave_owned) = (
        server.jid("alice"),
        server.jid("bob"),
        server.jid("carol"),
        server.jid("dave"),
    );
    let (alice_jid, bob_jid, carol_jid, dave_jid) = (
        alice_owned.as_str(),
        bob_owned.as_str(),
        carol_owned.as_str(),
        dave_owned.as_str(),
    );
    let mut bob = Device::online(&server, "bob", WAIT).await;

    // One core (one database) with alice, then carol added beside her.
    let mut me = Device::online(&server, "alice", WAIT).await;
    let alice = me.account;
    let carol = me.core.add_account(carol_jid).expect("second account");
    assert_ne!(alice, carol);
    me.core
        .connect(carol, options(&server, "carol-pw", None))
        .await
        .expect("carol connects");
    me.wait_for("carol online", |e| {
        matches!(e, Event::Connection { account, state: ConnectionState::Online { .. } } if *account == carol)
    })
    .await;
    bob.presence_of(alice_jid, |p| p.is_some()).await;
    bob.presence_of(carol_jid, |p| p.is_some()).await;

    // Each account has its own roster.
    let jids = |account| {
        let mut jids: Vec<String> = me
            .core
            .contacts(account)
            .expect("contacts")
            .into_iter()
            .map(|c| c.jid)
            .collect();
        jids.sort();
        jids
    };
    assert_eq!(jids(alice), [bob_jid, dave_jid]);
    assert_eq!(jids(carol), [bob_jid]);

    // A message to each account lands in that account's conversation only.
    bob.core
        .send_message(bob.account, alice_jid, "hola alice")
        .await
        .expect("send");
    bob.core
        .send_message(bob.account, carol_jid, "hola carol")
        .await
        .expect("send");
    let mut got = Vec::new();
    while got.len() < 2 {
        let m = incoming(&mut me, "bob's messages").await;
        got.push((m.account_id, m.body));
    }
    got.sort_by_key(|(a, _)| *a);
    let mut want = vec![
        (alice, "hola alice".to_owned()),
        (carol, "hola carol".to_owned()),
    ];
    want.sort_by_key(|(a, _)| *a);
    assert_eq!(got, want);
    let bodies = |account| -> Vec<String> {
        me.core
            .history(account, bob_jid, None, 10)
            .expect("history")
            .into_iter()
            .map(|m| m.body)
            .collect()
    };
    assert_eq!(bodies(alice), ["hola alice"]);
    assert_eq!(bodies(carol), ["hola carol"]);

    // A reply goes out from the account it is written on.
    me.core
        .send_message(carol, bob_jid, "soy carol")
        .await
        .expect("reply");
    let reply = incoming(&mut bob, "carol's reply").await;
    assert_eq!(
        (reply.peer.as_str(), reply.body.as_str()),
        (carol_jid, "soy carol")
    );

    // Presence per account: carol busy, alice untouched.
    me.core
        .set_presence(carol, Show::Dnd, Some("In a meeting".into()))
        .await
        .expect("presence");
    let seen = bob
        .presence_of(carol_jid, |p| {
            p.as_ref().is_some_and(|p| p.show == Show::Dnd)
        })
        .await
        .expect("carol online");
    assert_eq!(seen.status.as_deref(), Some("In a meeting"));

    // Carol disabled: she goes offline, alice stays online and keeps receiving.
    me.core.disconnect(carol).await;
    bob.presence_of(carol_jid, |p| p.is_none()).await;
    bob.core
        .send_message(bob.account, alice_jid, "¿sigues ahí?")
        .await
        .expect("send");
    let m = incoming(&mut me, "message to alice after carol left").await;
    assert_eq!((m.account_id, m.body.as_str()), (alice, "¿sigues ahí?"));

    // Enabled again, carol comes back alone.
    me.core
        .connect(carol, options(&server, "carol-pw", None))
        .await
        .expect("carol again");
    bob.presence_of(carol_jid, |p| p.is_some()).await;
}

both_servers!(two_accounts_run_side_by_side_in_one_core,);
