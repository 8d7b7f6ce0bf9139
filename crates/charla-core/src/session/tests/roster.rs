//! Roster, subscriptions and presence.

use tokio::sync::oneshot;

use super::{Harness, BOB, BOUND, OWN};
use crate::event::Event;
use crate::session::{Command, RosterOp};

#[test]
fn the_roster_answer_is_stored_and_announced() {
    let mut h = Harness::new();
    h.bind();
    h.answer(
        "jabber:iq:roster",
        "<query xmlns='jabber:iq:roster' ver='v1'>\
           <item jid='bob@example.net' name='Bob' subscription='both'><group>Friends</group></item></query>",
    );
    h.answer("urn:xmpp:carbons:2", "");
    let Some(Event::RosterLoaded { contacts, .. }) = h
        .events
        .iter()
        .find(|e| matches!(e, Event::RosterLoaded { .. }))
    else {
        panic!("{:?}", h.events)
    };
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].name.as_deref(), Some("Bob"));
    assert_eq!(
        h.in_store(|s| s.roster_version(h.account))
            .expect("store")
            .as_deref(),
        Some("v1")
    );
}

#[test]
fn presence_is_taken_from_contacts_only() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&format!(
        "<presence from='{BOB}/phone' to='{BOUND}'><show>away</show></presence>"
    ));
    assert!(
        matches!(&h.events[..], [Event::PresenceChanged { jid, presence: Some(_), .. }] if jid == BOB)
    );
    h.clear();
    h.receive(&format!(
        "<presence from='stranger@evil.example/x' to='{BOUND}'/>"
    ));
    assert!(h.events.is_empty(), "{:?}", h.events);
    // A new stream: contacts are offline until they say otherwise.
    h.bind();
    assert!(matches!(
        &h.events[0],
        Event::PresenceChanged { presence: None, .. }
    ));
}

#[test]
fn a_subscription_request_is_asked_unless_we_added_them() {
    let mut h = Harness::online();
    h.receive(&format!(
        "<presence type='subscribe' from='carol@example.net' to='{OWN}'/>"
    ));
    assert!(
        matches!(&h.events[..], [Event::SubscriptionRequest { jid, .. }] if jid == "carol@example.net")
    );
    assert!(h.sent.is_empty());
    h.clear();
    let entry = charla_store::RosterEntry {
        jid: "dave@example.net".into(),
        name: None,
        subscription: charla_store::Subscription::None,
        ask_pending: true,
        groups: vec![],
    };
    h.in_store(|s| s.upsert_contact(h.account, &entry))
        .expect("store");
    h.receive(&format!(
        "<presence type='subscribe' from='dave@example.net' to='{OWN}'/>"
    ));
    assert!(h.events.is_empty(), "{:?}", h.events);
    let approved = String::from(&h.sent_named("presence")[0]);
    assert!(
        approved.contains("subscribed") && approved.contains("dave@example.net"),
        "{approved}"
    );
}

#[test]
fn accepting_a_request_is_mutual_and_adding_sets_the_item_first() {
    let mut h = Harness::online();
    let (reply, mut answer) = oneshot::channel();
    h.engine.on_command(Command::Roster {
        op: RosterOp::Answer {
            jid: "carol@example.net".parse().expect("jid"),
            accept: true,
        },
        reply,
    });
    h.collect();
    assert!(answer.try_recv().expect("answered").is_ok());
    let types: Vec<String> = h
        .sent_named("presence")
        .iter()
        .map(|p| p.attr("type").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(types, ["subscribed", "subscribe"]);
    h.clear();
    let (reply, mut answer) = oneshot::channel();
    h.engine.on_command(Command::Roster {
        op: RosterOp::Add {
            jid: BOB.parse().expect("jid"),
            name: Some("Bob".into()),
            groups: vec![],
        },
        reply,
    });
    h.collect();
    assert_eq!(h.sent[0].0.name(), "iq", "{:?}", h.sent_xml());
    assert!(h.sent_xml()[1].contains("subscribe"), "{:?}", h.sent_xml());
    assert!(answer.try_recv().is_err(), "waits for the server");
    h.answer("jabber:iq:roster", "");
    assert!(answer.try_recv().expect("answered").is_ok());
}
