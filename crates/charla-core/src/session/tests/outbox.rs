//! The outbox and the receipts we owe.

use charla_store::MessageState;

use super::{Harness, BOB, BOUND};
use crate::event::Event;
use crate::session::engine::{Fate, Watch};

#[test]
fn the_outbox_sends_one_message_at_a_time_in_order() {
    let mut h = Harness::online();
    let first = h
        .in_store(|s| s.insert_outgoing(h.account, BOB, "first", "o1", None))
        .expect("queued");
    h.in_store(|s| s.insert_outgoing(h.account, BOB, "second", "o2", None))
        .expect("queued");
    h.engine.on_command(crate::session::Command::Flush);
    h.collect();
    let sent = h.sent_named("message");
    assert_eq!(sent.len(), 1, "{:?}", h.sent_xml());
    assert!(String::from(&sent[0]).contains("first"));
    let Some((_, Watch::Message { id, generation })) = h.sent.last().map(|(_, w)| ((), *w)) else {
        panic!("not watched")
    };
    assert_eq!(id, first.id);
    h.clear();
    h.engine.on_fates(vec![Fate::Message {
        id,
        generation,
        ok: true,
    }]);
    h.collect();
    assert!(matches!(&h.events[0], Event::MessageUpdated { message, .. }
        if message.id == first.id && message.state == MessageState::Sent));
    let sent = h.sent_named("message");
    assert!(
        String::from(&sent[0]).contains("second"),
        "{:?}",
        h.sent_xml()
    );
}

#[test]
fn a_message_lost_with_its_stream_goes_again_after_the_bind_with_a_delay() {
    let mut h = Harness::online();
    let row = h
        .in_store(|s| s.insert_outgoing(h.account, BOB, "again", "o1", None))
        .expect("queued");
    h.engine.on_command(crate::session::Command::Flush);
    h.collect();
    let Some((_, Watch::Message { id, generation })) = h.sent.last().map(|(_, w)| ((), *w)) else {
        panic!("not watched")
    };
    h.bind();
    // The new stream was bound after the row was written (the clock may
    // not have moved a millisecond here).
    h.engine.link.bound_at = row.local_time + 1;
    h.answer("urn:xmpp:carbons:2", "");
    // The old stream's late fate releases nothing of the new one.
    h.engine.on_fates(vec![Fate::Message {
        id,
        generation,
        ok: false,
    }]);
    h.collect();
    let again: Vec<String> = h
        .sent_named("message")
        .iter()
        .map(String::from)
        .filter(|x| x.contains("again"))
        .collect();
    assert_eq!(again.len(), 2, "sent on each stream once: {again:?}");
    assert!(again[1].contains("urn:xmpp:delay"), "{}", again[1]);
}

#[test]
fn an_owed_receipt_is_sent_again_on_the_next_stream_until_acknowledged() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='m1'><body>hi</body>\
           <request xmlns='urn:xmpp:receipts'/></message>"
    ));
    let Some((_, watch @ Watch::Receipt { message })) = h.sent.last().map(|(_, w)| ((), *w)) else {
        panic!("receipt not watched: {:?}", h.sent)
    };
    assert_eq!(
        watch.fate(false),
        Some(Fate::Receipt { message, ok: false })
    );
    h.engine
        .on_fates(vec![Fate::Receipt { message, ok: false }]);
    h.clear();
    h.bind();
    h.answer("urn:xmpp:carbons:2", "");
    let receipts: Vec<String> = h
        .sent_named("message")
        .iter()
        .map(String::from)
        .filter(|x| x.contains("urn:xmpp:receipts"))
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    h.engine.on_fates(vec![Fate::Receipt { message, ok: true }]);
    let owed = h
        .in_store(|s| s.owed_receipts(h.account, 10))
        .expect("store");
    assert!(owed.is_empty(), "{owed:?}");
}
