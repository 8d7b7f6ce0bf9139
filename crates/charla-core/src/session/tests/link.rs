//! The stream's life: login, losses, resumption, a dead link.

use std::time::Duration;

use super::{Harness, BOUND};
use crate::event::{ConnectionState, Event};

#[test]
fn a_bind_asks_for_roster_features_and_carbons_and_goes_online_after_carbons() {
    let mut h = Harness::new();
    h.bind();
    for ns in [
        "jabber:iq:roster",
        "http://jabber.org/protocol/disco#info",
        "urn:xmpp:carbons:2",
    ] {
        h.request(ns);
    }
    assert!(
        h.sent_named("presence").is_empty(),
        "presence waits for carbons"
    );
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    // The roster waits for "online".
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::RosterLoaded { .. })));
    h.answer("urn:xmpp:carbons:2", "");
    let presence = h.sent_named("presence");
    assert_eq!(presence.len(), 1, "{:?}", h.sent_xml());
    assert!(String::from(&presence[0]).contains("http://jabber.org/protocol/caps"));
    let online = h
        .events
        .iter()
        .position(|e| matches!(e, Event::Connection { state: ConnectionState::Online { jid }, .. } if jid == BOUND))
        .expect("online");
    let roster = h
        .events
        .iter()
        .position(|e| matches!(e, Event::RosterLoaded { .. }))
        .expect("roster");
    assert!(online < roster, "{:?}", h.events);
    assert!(h.ready.try_recv().expect("ready").is_ok());
    // The first login takes the archive's baseline.
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CatchUpStarted { .. })));
    h.request("urn:xmpp:mam:2");
}

#[test]
fn three_losses_without_resuming_open_a_fresh_stream() {
    let mut h = Harness::online();
    h.engine.on_link_lost();
    h.engine.on_resumed();
    h.engine.on_link_lost();
    h.engine.on_link_lost();
    h.collect();
    assert_eq!(h.restarts, 0, "a resumption in between resets the count");
    h.engine.on_link_lost();
    h.collect();
    assert_eq!(h.restarts, 1);
    assert!(!h.engine.link_up());
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_carbons_request_means_a_dead_link_never_online() {
    let mut h = Harness::new();
    h.bind();
    tokio::time::advance(Duration::from_secs(10)).await;
    h.engine.on_timeout(tokio::time::Instant::now());
    h.collect();
    assert_eq!(h.restarts, 1);
    assert!(!h.events.iter().any(|e| matches!(
        e,
        Event::Connection {
            state: ConnectionState::Online { .. },
            ..
        }
    )));
    assert!(h.sent_named("presence").is_empty());
}

#[test]
fn closing_takes_contacts_offline_and_fails_a_pending_login() {
    let mut h = Harness::new();
    h.bind();
    h.engine.on_closed();
    h.collect();
    assert!(h.ready.try_recv().expect("answered").is_err());
    assert!(matches!(
        h.events.last(),
        Some(Event::Connection {
            state: ConnectionState::Disconnected,
            ..
        })
    ));
}
