//! The catch-up and older history (XEP-0313).

use super::{Harness, BOB, BOUND, OWN};
use crate::event::Event;

const MAM: &str = "urn:xmpp:mam:2";

/// A harness whose archive position is `A0`, online, with a catch-up open.
fn catching_up() -> (Harness, String) {
    let mut h = Harness::new();
    h.contact(BOB);
    h.in_store(|s| s.set_mam_position(h.account, Some("A0"), Some(1_700_000_000_000)))
        .expect("position");
    h.bind();
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    h.answer_to(
        OWN,
        "http://jabber.org/protocol/disco#info",
        "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:sid:0'/></query>",
    );
    h.answer("urn:xmpp:carbons:2", "");
    let query = h.request(MAM);
    let queryid = query
        .get_child("query", MAM)
        .and_then(|q| q.attr("queryid"))
        .expect("queryid")
        .to_owned();
    assert!(String::from(&query).contains("A0"), "after the position");
    h.collect();
    h.events.clear();
    (h, queryid)
}

fn result(from: Option<&str>, queryid: &str, id: &str, body: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<message{from} to='{BOUND}'><result xmlns='{MAM}' queryid='{queryid}' id='{id}'>\
           <forwarded xmlns='urn:xmpp:forward:0'>\
           <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>\
           <message xmlns='jabber:client' from='{BOB}/phone' to='{OWN}' type='chat' id='w-{id}'>\
           <body>{body}</body></message></forwarded></result></message>"
    )
}

fn fin(complete: bool, last: &str) -> String {
    format!(
        "<fin xmlns='{MAM}' complete='{complete}'><set xmlns='http://jabber.org/protocol/rsm'>\
           <last>{last}</last></set></fin>"
    )
}

#[test]
fn a_catch_up_stores_our_archive_only_and_then_says_it_finished() {
    let (mut h, q) = catching_up();
    h.receive(&result(None, &q, "A1", "missed one"));
    // Only our own account's archive may answer (a forged result).
    h.receive(&result(Some(&format!("{BOB}/phone")), &q, "A9", "forged"));
    h.receive(&result(Some(OWN), &q, "A2", "missed two"));
    assert!(h.history(BOB).is_empty(), "stored with the page");
    h.answer(MAM, &fin(true, "A2"));
    assert_eq!(h.history(BOB), ["missed one", "missed two"]);
    assert_eq!(h.added(), ["missed one", "missed two"]);
    assert!(matches!(
        h.events.last(),
        Some(Event::CatchUpFinished {
            added: 2,
            complete: true,
            ..
        })
    ));
    let position = h.in_store(|s| s.mam_position(h.account)).expect("store");
    assert_eq!(position.and_then(|p| p.last_id).as_deref(), Some("A2"));
}

#[test]
fn an_incomplete_page_asks_for_the_next_after_its_last_id() {
    let (mut h, q) = catching_up();
    h.receive(&result(None, &q, "A1", "first page"));
    h.answer(MAM, &fin(false, "A1"));
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::CatchUpFinished { .. })));
    let next = String::from(&h.request(MAM));
    assert!(next.contains("<after>A1</after>"), "{next}");
}

#[test]
fn live_messages_during_a_catch_up_are_committed_after_the_archive() {
    let (mut h, q) = catching_up();
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='live'><body>live</body>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{OWN}' id='A3'/></message>"
    ));
    assert!(h.history(BOB).is_empty(), "held until the catch-up ends");
    h.receive(&result(None, &q, "A1", "archived"));
    h.answer(MAM, &fin(true, "A1"));
    assert_eq!(h.history(BOB), ["archived", "live"]);
    // Finished comes after every message it brought, held ones included.
    assert!(matches!(
        h.events.last(),
        Some(Event::CatchUpFinished { .. })
    ));
}

#[test]
fn an_expired_position_records_a_gap_and_continues_by_time() {
    let (mut h, _) = catching_up();
    let id = h.request(MAM).attr("id").expect("id").to_owned();
    h.receive(&format!(
        "<iq type='error' id='{id}'><error type='cancel'>\
           <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    assert_eq!(h.in_store(|s| s.gaps(h.account)).expect("gaps").len(), 1);
    let by_time = String::from(&h.request(MAM));
    assert!(
        by_time.contains("start") && !by_time.contains("<after>"),
        "{by_time}"
    );
}

#[test]
fn a_new_stream_cuts_a_catch_up_short_and_says_so() {
    let (mut h, _) = catching_up();
    h.bind();
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::CatchUpFinished {
            complete: false,
            ..
        }
    )));
}

#[test]
fn older_history_is_stored_silently_and_reported_to_who_asked() {
    let mut h = Harness::online();
    h.contact(BOB);
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    h.engine.on_command(crate::session::Command::FetchOlder {
        peer: BOB.parse().expect("jid"),
        reply,
    });
    h.collect();
    let query = h.request(MAM);
    let q = query
        .get_child("query", MAM)
        .and_then(|q| q.attr("queryid"))
        .expect("queryid")
        .to_owned();
    h.receive(&result(None, &q, "B1", "long ago"));
    h.answer(MAM, &fin(true, "B1"));
    let older = answer.try_recv().expect("answered").expect("ok");
    assert_eq!((older.added, older.complete), (1, true));
    assert_eq!(h.history(BOB), ["long ago"]);
    assert!(h.added().is_empty(), "history, not news");
    assert!(
        h.sent_named("message").is_empty(),
        "no receipts for history"
    );
}
