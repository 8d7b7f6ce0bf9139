//! The inbound pipeline: classify, authorize, dedupe and store, side
//! effects, emit, acks.

use super::{Harness, BOB, BOUND, OWN};
use crate::event::Event;
use crate::session::pipeline::STRANGER_MESSAGES;

fn chat(from: &str, id: &str, body: &str) -> String {
    format!(
        "<message type='chat' from='{from}' to='{BOUND}' id='{id}'>\
           <body>{body}</body><origin-id xmlns='urn:xmpp:sid:0' id='{id}'/>\
           <request xmlns='urn:xmpp:receipts'/></message>"
    )
}

#[test]
fn a_contacts_message_is_stored_then_announced_then_receipted() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&chat(&format!("{BOB}/phone"), "m1", "hello"));
    assert_eq!(h.history(BOB), ["hello"]);
    assert_eq!(h.added(), ["hello"]);
    assert!(matches!(
        &h.events[0],
        Event::MessageAdded {
            stranger: false,
            ..
        }
    ));
    let receipt = &h.sent_named("message")[0];
    let xml = String::from(receipt);
    assert!(
        xml.contains("urn:xmpp:receipts") && xml.contains("m1"),
        "{xml}"
    );
}

#[test]
fn a_burst_is_one_batch_in_order_and_a_duplicate_is_stored_once() {
    let mut h = Harness::online();
    h.contact(BOB);
    let from = format!("{BOB}/phone");
    h.receive_burst(&[
        &chat(&from, "m1", "one"),
        &chat(&from, "m2", "two"),
        &chat(&from, "m1", "one"),
    ]);
    assert_eq!(h.history(BOB), ["one", "two"]);
    assert_eq!(h.added(), ["one", "two"]);
    // The sender may have missed our first receipt: the copy gets one too.
    assert_eq!(h.sent_named("message").len(), 3);
}

#[test]
fn a_stranger_gets_no_receipt_and_no_more_than_the_limit() {
    let mut h = Harness::online();
    let from = "spam@evil.example/bot";
    let flood: Vec<String> = (0..STRANGER_MESSAGES + 5)
        .map(|i| chat(from, &format!("s{i}"), &format!("spam {i}")))
        .collect();
    let flood: Vec<&str> = flood.iter().map(String::as_str).collect();
    h.receive_burst(&flood);
    assert_eq!(
        h.history("spam@evil.example").len(),
        STRANGER_MESSAGES as usize
    );
    assert!(h
        .events
        .iter()
        .all(|e| matches!(e, Event::MessageAdded { stranger: true, .. })));
    // A receipt would tell them we are online.
    assert!(h.sent_named("message").is_empty(), "{:?}", h.sent_xml());
}

#[test]
fn a_carbon_of_our_own_message_is_stored_as_outgoing_and_a_forged_one_dropped() {
    let mut h = Harness::online();
    h.contact(BOB);
    let sent = |outer: &str, body: &str| {
        format!(
            "<message from='{outer}' to='{BOUND}' type='chat'>\
               <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
               <message xmlns='jabber:client' from='{OWN}/phone' to='{BOB}' type='chat' id='c-{body}'>\
               <body>{body}</body></message></forwarded></sent></message>"
        )
    };
    // Only our own account may send carbons (CVE-2017-5589 and kin).
    h.receive(&sent(&format!("{BOB}/phone"), "forged"));
    assert!(h.history(BOB).is_empty());
    h.receive(&sent(OWN, "from my phone"));
    assert_eq!(h.history(BOB), ["from my phone"]);
    let Some(Event::MessageAdded { message, .. }) = h.events.first() else {
        panic!("{:?}", h.events)
    };
    assert_eq!(message.direction, charla_store::Direction::Out);
}

#[test]
fn chat_states_bounces_and_headlines_are_not_chat_messages() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}'>\
           <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
    ));
    assert!(matches!(&h.events[..], [Event::ChatState { peer, .. }] if peer == BOB));
    h.receive(&format!(
        "<message type='headline' from='{BOB}/phone' to='{BOUND}'><body>news</body></message>"
    ));
    h.receive(&format!(
        "<message type='error' from='{BOB}/phone' to='{BOUND}' id='x'>\
           <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
    ));
    assert!(h.history(BOB).is_empty());
    assert_eq!(h.events.len(), 1, "{:?}", h.events);
}

#[test]
fn a_receipt_moves_our_message_and_a_forged_one_from_someone_else_does_not() {
    let mut h = Harness::online();
    h.contact(BOB);
    let out = h
        .in_store(|s| s.insert_outgoing(h.account, BOB, "hi bob", "o1", None))
        .expect("queued");
    let receipt = |from: &str| {
        format!(
            "<message from='{from}' to='{BOUND}'><received xmlns='urn:xmpp:receipts' id='o1'/></message>"
        )
    };
    h.receive(&receipt("carol@example.net/x"));
    assert!(h.events.is_empty(), "{:?}", h.events);
    h.receive(&receipt(&format!("{BOB}/phone")));
    let Some(Event::MessageUpdated { message, .. }) = h.events.first() else {
        panic!("{:?}", h.events)
    };
    assert_eq!(message.id, out.id);
    assert_eq!(message.state, charla_store::MessageState::Delivered);
}
