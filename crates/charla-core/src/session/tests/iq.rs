//! IQs: what we answer, who may answer our requests, timeouts.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{Harness, BOB, BOUND, OWN};
use crate::error::ErrorCode;
use crate::event::Event;

fn last_sent(h: &Harness) -> String {
    h.sent_xml().pop().expect("an answer")
}

#[test]
fn disco_info_lists_our_features_and_ping_is_answered() {
    let mut h = Harness::online();
    h.receive(&format!(
        "<iq type='get' id='d1' from='{BOB}/phone' to='{BOUND}'>\
           <query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    ));
    let answer = last_sent(&h);
    assert!(answer.contains("type='result'"), "{answer}");
    assert!(answer.contains("urn:xmpp:receipts"), "{answer}");
    assert!(
        answer.contains("http://jabber.org/protocol/chatstates"),
        "{answer}"
    );
    h.receive(&format!(
        "<iq type='get' id='p1' from='{BOB}/phone'><ping xmlns='urn:xmpp:ping'/></iq>"
    ));
    let pong = last_sent(&h);
    assert!(
        pong.contains("type='result'") && pong.contains("p1"),
        "{pong}"
    );
}

#[test]
fn version_and_time_are_answered_and_anything_else_is_refused() {
    let mut h = Harness::online();
    h.receive(&format!(
        "<iq type='get' id='v1' from='{BOB}/phone'><query xmlns='jabber:iq:version'/></iq>"
    ));
    assert!(
        last_sent(&h).contains("<name>Charla</name>"),
        "{}",
        last_sent(&h)
    );
    h.receive(&format!(
        "<iq type='get' id='t1' from='{BOB}/phone'><time xmlns='urn:xmpp:time'/></iq>"
    ));
    assert!(last_sent(&h).contains("<utc>"), "{}", last_sent(&h));
    h.receive(&format!(
        "<iq type='get' id='u1' from='{BOB}/phone'><unknown xmlns='urn:x'/></iq>"
    ));
    let refused = last_sent(&h);
    assert!(
        refused.contains("service-unavailable") && refused.contains("u1"),
        "{refused}"
    );
}

#[test]
fn a_roster_push_from_anyone_but_our_account_is_refused_and_changes_nothing() {
    let mut h = Harness::online();
    let push = |from: &str| {
        format!(
            "<iq type='set' id='r1'{from}><query xmlns='jabber:iq:roster'>\
               <item jid='mallory@evil.example' subscription='both'/></query></iq>"
        )
    };
    h.receive(&push(&format!(" from='{BOB}/phone'")));
    assert!(
        last_sent(&h).contains("service-unavailable"),
        "{}",
        last_sent(&h)
    );
    assert!(h.events.is_empty(), "{:?}", h.events);
    assert!(!h
        .in_store(|s| s.is_contact(h.account, "mallory@evil.example"))
        .expect("store"));
    // From our own account (or the server on its behalf: no `from`).
    h.receive(&push(&format!(" from='{OWN}'")));
    assert!(
        matches!(&h.events[..], [Event::ContactChanged { contact, .. }]
        if contact.jid == "mallory@evil.example")
    );
}

#[test]
fn a_forged_answer_is_dropped_and_the_real_one_still_awaited() {
    let mut h = Harness::new();
    h.bind();
    let id = h
        .request("jabber:iq:roster")
        .attr("id")
        .expect("id")
        .to_owned();
    let roster =
        "<query xmlns='jabber:iq:roster'><item jid='bob@example.net' subscription='both'/></query>";
    // Pidgin CVE-2013-6483: an answer from someone else than our account.
    h.receive(&format!(
        "<iq type='result' id='{id}' from='{BOB}/phone'>{roster}</iq>"
    ));
    assert!(!h.in_store(|s| s.is_contact(h.account, BOB)).expect("store"));
    h.receive(&format!(
        "<iq type='result' id='{id}' from='{OWN}'>{roster}</iq>"
    ));
    assert!(h.in_store(|s| s.is_contact(h.account, BOB)).expect("store"));
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_request_times_out_with_an_error() {
    let mut h = Harness::online();
    let (reply, mut answer) = oneshot::channel();
    h.engine.on_command(super::super::Command::LastActivity {
        jid: BOB.parse().expect("jid"),
        reply,
    });
    h.collect();
    let deadline = h.engine.next_deadline().expect("a deadline");
    tokio::time::advance(Duration::from_secs(29)).await;
    h.engine.on_timeout(tokio::time::Instant::now());
    assert!(answer.try_recv().is_err(), "not yet");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(tokio::time::Instant::now() >= deadline);
    h.engine.on_timeout(tokio::time::Instant::now());
    let error = answer.try_recv().expect("answered").expect_err("an error");
    assert_eq!(error.code, ErrorCode::Timeout);
}

#[test]
fn a_last_activity_answer_counts_only_from_the_contact_asked() {
    let mut h = Harness::online();
    let (reply, mut answer) = oneshot::channel();
    h.engine.on_command(super::super::Command::LastActivity {
        jid: BOB.parse().expect("jid"),
        reply,
    });
    h.collect();
    let id = h
        .request("jabber:iq:last")
        .attr("id")
        .expect("id")
        .to_owned();
    let last = "<query xmlns='jabber:iq:last' seconds='42'/>";
    for forger in [
        OWN.to_owned(),
        format!("{BOB}/phone"),
        "carol@example.net".into(),
    ] {
        h.receive(&format!(
            "<iq type='result' id='{id}' from='{forger}'>{last}</iq>"
        ));
        assert!(answer.try_recv().is_err(), "accepted from {forger}");
    }
    h.receive(&format!(
        "<iq type='result' id='{id}' from='{BOB}'>{last}</iq>"
    ));
    assert_eq!(answer.try_recv().expect("answered").expect("ok"), Some(42));
}

#[test]
fn a_request_while_offline_fails_as_not_connected() {
    let mut h = Harness::new();
    let (reply, mut answer) = oneshot::channel();
    h.engine.on_command(super::super::Command::Iq {
        to: None,
        set: false,
        payload: xmpp_parsers::ping::Ping.into(),
        reply,
    });
    h.collect();
    assert!(h.sent.is_empty());
    let error = answer.try_recv().expect("answered").expect_err("an error");
    assert_eq!(error.code, ErrorCode::NotConnected);
}
