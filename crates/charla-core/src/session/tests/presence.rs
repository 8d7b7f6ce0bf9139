//! Our own presence: what is sent, and the one event that says what we show.

use super::Harness;
use crate::event::Event;
use crate::idle::AutoPresence;
use crate::presence::Show;
use crate::session::Command;

/// The `OwnPresence` events emitted so far, as (show, status, auto).
fn announced(h: &Harness) -> Vec<(Show, Option<String>, Option<Show>)> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::OwnPresence {
                show, status, auto, ..
            } => Some((*show, status.clone(), *auto)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_login_announces_the_presence_it_sent() {
    let mut h = Harness::new();
    h.bind();
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    assert!(announced(&h).is_empty(), "nothing is shown before carbons");
    h.answer("urn:xmpp:carbons:2", "");
    assert_eq!(h.sent_named("presence").len(), 1);
    assert_eq!(announced(&h), [(Show::Available, None, None)]);
}

#[test]
fn a_chosen_presence_is_sent_and_announced() {
    let mut h = Harness::online();
    h.engine.on_command(Command::SetPresence {
        show: Show::Dnd,
        status: Some("in a meeting".into()),
    });
    h.collect();
    let sent = h.sent_xml();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("<show>dnd</show>"), "{}", sent[0]);
    assert!(sent[0].contains("in a meeting"), "{}", sent[0]);
    assert_eq!(
        announced(&h),
        [(Show::Dnd, Some("in a meeting".into()), None)]
    );
}

#[test]
fn idle_away_is_announced_once_per_change_of_availability() {
    let mut h = Harness::online();
    let away = |show, since| Command::SetAuto(Some(AutoPresence { show, since }));
    h.engine.on_command(away(Show::Away, 1_000));
    // The same availability again (a later poll) is no news.
    h.engine.on_command(away(Show::Away, 2_000));
    h.engine.on_command(away(Show::Xa, 3_000));
    h.engine.on_command(Command::SetAuto(None));
    h.collect();
    assert_eq!(h.sent_named("presence").len(), 3, "{:?}", h.sent_xml());
    assert_eq!(
        announced(&h),
        [
            (Show::Available, None, Some(Show::Away)),
            (Show::Available, None, Some(Show::Xa)),
            (Show::Available, None, None),
        ]
    );
}
