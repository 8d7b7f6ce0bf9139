//! Group chats (XEP-0045, XEP-0421) and each room's catch-up (XEP-0313 on
//! the room), with the hostile cases: lines from rooms we are not in, the
//! room's own JID, stanza-ids and subjects from others, nicks that pose as
//! others, kicks and bans, floods of occupants.

use charla_store::{Direction, MessageState};

use super::{Harness, OWN};
use crate::event::{Event, OccupantChange, RoomExit};
use crate::session::muc::{LAST_LINES, MAX_OCCUPANTS};
use crate::session::Command;

pub(super) const ROOM: &str = "family@conference.example.org";
const MAM: &str = "urn:xmpp:mam:2";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

fn join(h: &mut Harness, nick: &str, password: Option<&str>) {
    h.engine.on_command(Command::JoinRoom {
        room: ROOM.parse().expect("jid"),
        nick: nick.into(),
        password: password.map(str::to_owned),
    });
    h.collect();
}

/// An occupant's presence in the room (`extra` inside `<x/>`, `after` after it).
pub(super) fn occupant(nick: &str, extra: &str, after: &str) -> String {
    format!(
        "<presence from='{ROOM}/{nick}' to='{OWN}/desk'><x xmlns='{MUC_USER}'>\
           <item affiliation='member' role='participant'/>{extra}</x>{after}</presence>"
    )
}

fn gone(nick: &str, extra: &str) -> String {
    format!(
        "<presence type='unavailable' from='{ROOM}/{nick}' to='{OWN}/desk'>\
           <x xmlns='{MUC_USER}'><item affiliation='none' role='none'/>{extra}</x></presence>"
    )
}

fn own_presence() -> String {
    occupant("alice", "<status code='110'/>", "")
}

/// A line of `nick` with the room's stanza-id `sid`.
pub(super) fn line(nick: &str, sid: &str, body: &str) -> String {
    format!(
        "<message type='groupchat' from='{ROOM}/{nick}' to='{OWN}/desk' id='w-{sid}'>\
           <body>{body}</body><stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='{sid}'/></message>"
    )
}

/// A result of the room's archive for query `q`.
fn archived(q: &str, sid: &str, nick: &str, body: &str) -> String {
    format!(
        "<message from='{ROOM}' to='{OWN}/desk'><result xmlns='{MAM}' queryid='{q}' id='{sid}'>\
           <forwarded xmlns='urn:xmpp:forward:0'>\
           <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>\
           <message xmlns='jabber:client' from='{ROOM}/{nick}' type='groupchat' id='a-{sid}'>\
           <body>{body}</body></message></forwarded></result></message>"
    )
}

fn fin(complete: bool) -> String {
    format!("<fin xmlns='{MAM}' complete='{complete}'/>")
}

/// The queryid of the last query sent to the room's archive.
fn room_query(h: &Harness) -> (String, String) {
    let query = h
        .sent
        .iter()
        .rev()
        .map(|(e, _)| e)
        .find(|e| e.name() == "iq" && e.attr("to") == Some(ROOM))
        .expect("a query to the room")
        .clone();
    let q = query
        .get_child("query", MAM)
        .and_then(|q| q.attr("queryid"))
        .expect("queryid")
        .to_owned();
    (q, String::from(&query))
}

/// Alice, online, in the room with bob; the room's catch-up done.
pub(super) fn in_room() -> Harness {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&occupant("bob", "", ""));
    h.receive(&own_presence());
    h.answer_to(ROOM, MAM, &fin(true));
    assert!(joined(&h).is_some(), "{:?}", h.events);
    h.clear();
    h
}

fn joined(h: &Harness) -> Option<&Event> {
    h.events
        .iter()
        .find(|e| matches!(e, Event::RoomJoined { .. }))
}

/// Bodies of the room's stored lines, oldest first.
fn room_history(h: &Harness) -> Vec<String> {
    room_lines(h).into_iter().map(|m| m.body).collect()
}

pub(super) fn room_lines(h: &Harness) -> Vec<charla_store::RoomMessage> {
    h.in_store(|s| {
        let room = s.room(h.account, ROOM)?.expect("room kept");
        let mut page = s.room_history_page(room.id, None, 500)?;
        page.reverse();
        Ok::<_, charla_store::StoreError>(page)
    })
    .expect("history")
}

fn added_lines(h: &Harness) -> Vec<String> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::RoomMessageAdded { message, .. } => Some(message.body.clone()),
            _ => None,
        })
        .collect()
}

fn joins_sent(h: &Harness) -> usize {
    h.sent_named("presence")
        .iter()
        .filter(|p| p.attr("to").is_some_and(|to| to.starts_with(ROOM)) && p.attr("type").is_none())
        .count()
}

#[test]
fn a_join_asks_the_room_for_no_history_and_is_settled_after_the_archive() {
    let mut h = Harness::online();
    join(&mut h, "alice", Some("s3cret"));
    let presence = &h.sent_named("presence")[0];
    let xml = String::from(presence);
    assert_eq!(presence.attr("to"), Some(&*format!("{ROOM}/alice")));
    assert!(
        xml.contains("maxstanzas='0'") || xml.contains("maxstanzas=\"0\""),
        "{xml}"
    );
    assert!(xml.contains("s3cret"), "{xml}");
    h.receive(&occupant(
        "bob",
        "",
        "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='ob'/>",
    ));
    h.receive(&occupant(
        "alice",
        "<status code='110'/>",
        "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='oa'/>",
    ));
    assert!(joined(&h).is_none(), "not before the catch-up");
    // Nothing stored yet: the last lines, not the whole archive.
    let (q, query) = room_query(&h);
    assert!(
        query.contains(&format!("<max>{LAST_LINES}</max>")),
        "{query}"
    );
    assert!(
        query.contains("<before>") || query.contains("<before/>"),
        "{query}"
    );
    h.receive(&archived(&q, "S1", "bob", "before we came"));
    h.answer_to(ROOM, MAM, &fin(true));
    let Some(Event::RoomJoined {
        nick,
        occupants,
        added,
        ..
    }) = joined(&h)
    else {
        panic!("{:?}", h.events)
    };
    assert_eq!((nick.as_str(), *added), ("alice", 1));
    let nicks: Vec<_> = occupants.iter().map(|o| o.nick.as_str()).collect();
    assert_eq!(nicks, ["alice", "bob"]);
    assert_eq!(occupants[1].occupant_id.as_deref(), Some("ob"));
    // The line came before the settled fact.
    assert!(matches!(h.events.last(), Some(Event::RoomJoined { .. })));
    assert_eq!(room_history(&h), ["before we came"]);
}

#[test]
fn live_lines_during_the_catch_up_are_held_and_stored_after_the_archive() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&own_presence());
    let (q, _) = room_query(&h);
    h.receive(&line("bob", "S3", "live"));
    assert!(room_history(&h).is_empty(), "held until the catch-up ends");
    h.receive(&archived(&q, "S1", "bob", "one"));
    h.receive(&archived(&q, "S2", "carol", "two"));
    // The live line again, from the archive: stored once.
    h.receive(&archived(&q, "S3", "bob", "live"));
    h.answer_to(ROOM, MAM, &fin(true));
    assert_eq!(room_history(&h), ["one", "two", "live"]);
    assert_eq!(added_lines(&h), ["one", "two", "live"]);
}

#[test]
fn after_a_fresh_bind_the_room_is_joined_again_and_caught_up_after_its_newest_line() {
    let mut h = in_room();
    h.receive(&line("bob", "S1", "one"));
    h.receive(&line("bob", "S2", "two"));
    h.bind();
    h.answer("urn:xmpp:carbons:2", "");
    assert_eq!(joins_sent(&h), 1, "{:?}", h.sent_xml());
    h.receive(&own_presence());
    let (q, query) = room_query(&h);
    assert!(query.contains("<after>S2</after>"), "{query}");
    h.receive(&archived(&q, "S2", "bob", "two"));
    h.receive(&archived(&q, "S3", "bob", "three"));
    h.answer_to(ROOM, MAM, &fin(true));
    assert_eq!(room_history(&h), ["one", "two", "three"]);
}

#[test]
fn after_a_resumption_the_room_is_not_joined_again() {
    let mut h = in_room();
    h.engine.on_link_lost();
    h.engine.on_resumed();
    h.collect();
    assert_eq!(joins_sent(&h), 0);
    // Still in it.
    h.receive(&line("bob", "S1", "still here"));
    assert_eq!(room_history(&h), ["still here"]);
}

#[test]
fn a_groupchat_from_a_room_we_are_not_in_is_dropped() {
    let mut h = Harness::online();
    h.receive(&line("bob", "S1", "not joined"));
    join(&mut h, "alice", None);
    // Joining, not in it yet.
    h.receive(&line("bob", "S2", "too early"));
    h.receive(&format!(
        "<message type='groupchat' from='other@conference.example.org/bob' to='{OWN}/desk'>\
           <body>elsewhere</body></message>"
    ));
    assert!(h.events.is_empty(), "{:?}", h.events);
    assert!(room_history(&h).is_empty());
    // Nor is it a chat message.
    assert!(h.history("other@conference.example.org").is_empty());
}

#[test]
fn a_message_from_the_rooms_own_jid_is_not_an_occupants_line() {
    let mut h = in_room();
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}' to='{OWN}/desk'><body>I am bob</body>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='S1'/></message>"
    ));
    assert!(room_history(&h).is_empty());
    assert!(added_lines(&h).is_empty());
}

#[test]
fn a_stanza_id_by_anyone_but_the_room_is_not_trusted() {
    let mut h = in_room();
    for (by, body) in [
        (OWN, "by our server"),
        (&*format!("{ROOM}/bob"), "by an occupant"),
        ("conference.example.org", "by the service"),
    ] {
        h.receive(&format!(
            "<message type='groupchat' from='{ROOM}/mallory' to='{OWN}/desk'><body>{body}</body>\
               <stanza-id xmlns='urn:xmpp:sid:0' by='{by}' id='FAKE'/></message>"
        ));
    }
    let lines = room_lines(&h);
    assert_eq!(lines.len(), 3, "not deduplicated by it");
    assert!(lines.iter().all(|l| l.stanza_id.is_none()));
    // Nor is it where the next catch-up starts: with no line to go on,
    // that is the time we were last caught up.
    h.bind();
    h.answer("urn:xmpp:carbons:2", "");
    h.receive(&own_presence());
    let (_, query) = room_query(&h);
    assert!(
        !query.contains("FAKE") && query.contains("var='start'") && !query.contains("<before"),
        "{query}"
    );
}

#[test]
fn a_room_archive_result_counts_only_from_the_room_for_our_query() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&own_presence());
    let (q, _) = room_query(&h);
    // From an occupant, and for another query.
    let forged = archived(&q, "S9", "bob", "forged").replacen(
        &format!("from='{ROOM}' to="),
        &format!("from='{ROOM}/mallory' to="),
        1,
    );
    h.receive(&forged);
    h.receive(&archived("not-ours", "S8", "bob", "other query"));
    h.receive(&archived(&q, "S1", "bob", "real"));
    h.answer_to(ROOM, MAM, &fin(true));
    assert_eq!(room_history(&h), ["real"]);
}

#[test]
fn a_subject_counts_only_from_the_room_we_are_in() {
    let mut h = in_room();
    let subject = |from: &str, text: &str| {
        format!(
            "<message type='groupchat' from='{from}' to='{OWN}/desk'><subject>{text}</subject></message>"
        )
    };
    h.receive(&subject("mallory@evil.example/x", "forged"));
    h.receive(&subject("other@conference.example.org", "another room"));
    assert!(h.events.is_empty(), "{:?}", h.events);
    h.receive(&subject(&format!("{ROOM}/bob"), "Sunday lunch"));
    assert!(matches!(
        &h.events[..],
        [Event::RoomSubject { subject: Some(s), .. }] if s == "Sunday lunch"
    ));
    let kept = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    assert_eq!(kept.subject.as_deref(), Some("Sunday lunch"));
    assert!(room_history(&h).is_empty(), "a subject is not a line");
}

#[test]
fn our_reflected_line_marks_the_outbox_row_sent_and_nothing_is_receipted() {
    let mut h = in_room();
    let room = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    let row = h
        .in_store(|s| s.insert_room_outgoing(room.id, "hi all", "o1", None, None))
        .expect("row");
    h.in_store(|s| s.insert_room_outgoing(room.id, "second", "o2", None, None))
        .expect("row");
    h.engine.on_command(Command::Flush);
    h.collect();
    let sent = h.sent_named("message");
    assert_eq!(sent.len(), 1, "one at a time: {:?}", h.sent_xml());
    let xml = String::from(&sent[0]);
    assert!(xml.contains("groupchat") && xml.contains("o1"), "{xml}");
    assert!(
        !xml.contains("urn:xmpp:receipts"),
        "rooms get no receipt requests"
    );
    h.clear();
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}/alice' to='{OWN}/desk' id='o1'><body>hi all</body>\
           <origin-id xmlns='urn:xmpp:sid:0' id='o1'/>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='S5'/></message>"
    ));
    assert!(added_lines(&h).is_empty(), "not a new line");
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::RoomMessageUpdated { message, .. }
            if message.id == row.id && message.state == MessageState::Sent
    )));
    // The next line goes now.
    assert!(String::from(&h.sent_named("message")[0]).contains("o2"));
    let lines = room_lines(&h);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].direction, Direction::Out);
    assert_eq!(lines[0].stanza_id.as_deref(), Some("S5"));
    // Someone's line asking for a receipt gets none.
    h.clear();
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}/bob' to='{OWN}/desk' id='b1'><body>hey</body>\
           <request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>"
    ));
    assert_eq!(added_lines(&h), ["hey"]);
    assert!(h.sent.is_empty(), "{:?}", h.sent_xml());
}

#[test]
fn a_taken_nick_suggests_another_and_a_password_is_asked_for() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&format!(
        "<presence type='error' from='{ROOM}/alice' to='{OWN}/desk'><error type='cancel'>\
           <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    ));
    assert!(
        matches!(
            &h.events[..],
            [Event::RoomNickTaken { nick, suggested, .. }] if nick == "alice" && suggested == "alice_"
        ),
        "{:?}",
        h.events
    );
    h.clear();
    join(&mut h, "alice_", None);
    h.receive(&format!(
        "<presence type='error' from='{ROOM}/alice_' to='{OWN}/desk'><error type='auth'>\
           <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    ));
    assert!(
        matches!(&h.events[..], [Event::RoomPasswordRequired { .. }]),
        "{:?}",
        h.events
    );
}

#[test]
fn a_kick_or_ban_of_ourselves_is_told_and_the_room_is_not_joined_again() {
    for (code, kicked) in [("307", true), ("301", false)] {
        let mut h = in_room();
        h.receive(&gone(
            "alice",
            &format!("<status code='{code}'/><status code='110'/>"),
        ));
        let reason = h.events.iter().find_map(|e| match e {
            Event::RoomLeft { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        match (kicked, reason) {
            (true, Some(RoomExit::Kicked { .. })) | (false, Some(RoomExit::Banned { .. })) => {}
            (_, other) => panic!("{code}: {other:?}"),
        }
        // Out: its lines are not taken any more.
        h.receive(&line("bob", "S1", "after the kick"));
        assert!(room_history(&h).is_empty());
        h.bind();
        h.answer("urn:xmpp:carbons:2", "");
        assert_eq!(joins_sent(&h), 0, "{code}: {:?}", h.sent_xml());
    }
}

#[test]
fn nicks_that_differ_only_by_invisible_characters_are_two_occupants_and_flagged() {
    let mut h = in_room();
    // Bidi controls cannot be in an address, and zero-width characters
    // are mapped away by resourceprep (RFC 7622), as the room does: that
    // is bob himself. Hangul fillers stay, invisible.
    h.receive(&occupant("b\u{200B}ob", "", ""));
    assert!(
        matches!(
            &h.events[..],
            [Event::OccupantChanged {
                change: OccupantChange::Changed { occupant, .. },
                ..
            }] if occupant.nick == "bob"
        ),
        "{:?}",
        h.events
    );
    h.clear();
    for nick in ["b\u{115F}ob", "bob\u{3164}"] {
        h.receive(&occupant(nick, "", ""));
    }
    let joined: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::OccupantChanged {
                change: OccupantChange::Joined { occupant },
                ..
            } => Some(occupant.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        joined.len(),
        2,
        "not the same occupant as bob: {:?}",
        h.events
    );
    for o in &joined {
        assert_ne!(o.nick, "bob");
        assert_eq!(o.display, "bob");
        assert!(o.disguised, "{:?}", o.nick);
    }
    // Their lines keep the nick as sent.
    h.receive(&line("b\u{115F}ob", "S1", "it's me, bob"));
    assert_eq!(room_lines(&h)[0].nick, "b\u{115F}ob");
    // A new nick is an attribute, where bidi controls can hide: flagged.
    h.clear();
    h.receive(
        &gone("bob", "<item nick='\u{202E}bob'/><status code='303'/>")
            .replace("<item affiliation='none' role='none'/>", ""),
    );
    assert!(
        matches!(
            &h.events[..],
            [Event::OccupantChanged {
                change: OccupantChange::Changed { occupant, .. },
                ..
            }] if occupant.display == "bob" && occupant.disguised
        ),
        "{:?}",
        h.events
    );
}

#[test]
fn the_occupant_cap_holds_under_ten_thousand_joins() {
    let mut h = in_room();
    for i in 0..10_000 {
        h.engine
            .on_stanza(super::stanza(&occupant(&format!("flood{i}"), "", "")));
    }
    h.collect();
    let joins = h
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::OccupantChanged {
                    change: OccupantChange::Joined { .. },
                    ..
                }
            )
        })
        .count();
    // Alice and bob were there already.
    assert_eq!(joins, MAX_OCCUPANTS - 2);
}

#[test]
fn a_join_and_leave_storm_ends_as_it_began_and_a_nick_change_is_one_change() {
    let mut h = in_room();
    for i in 0..1_000 {
        h.engine
            .on_stanza(super::stanza(&occupant(&format!("guest{i}"), "", "")));
        h.engine
            .on_stanza(super::stanza(&gone(&format!("guest{i}"), "")));
    }
    h.collect();
    let (joins, leaves) = h.events.iter().fold((0, 0), |(j, l), e| match e {
        Event::OccupantChanged { change, .. } => match change {
            OccupantChange::Joined { .. } => (j + 1, l),
            OccupantChange::Left { .. } => (j, l + 1),
            OccupantChange::Changed { .. } => (j, l),
        },
        _ => (j, l),
    });
    assert_eq!((joins, leaves), (1_000, 1_000));
    h.clear();
    h.receive(
        &gone("bob", "<item nick='robert'/><status code='303'/>")
            .replace("<item affiliation='none' role='none'/>", ""),
    );
    h.receive(&occupant("robert", "", ""));
    let changes: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::OccupantChanged { change, .. } => Some(change.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            &changes[..],
            [
                OccupantChange::Changed { old_nick: Some(old), occupant },
                OccupantChange::Changed { old_nick: None, .. },
            ] if old == "bob" && occupant.nick == "robert"
        ),
        "{changes:?}"
    );
}

#[test]
fn leaving_sends_unavailable_and_forgets_only_when_asked() {
    let mut h = in_room();
    h.engine.on_command(Command::LeaveRoom {
        room: ROOM.parse().expect("jid"),
        forget: false,
    });
    h.collect();
    let p = &h.sent_named("presence")[0];
    assert_eq!(p.attr("type"), Some("unavailable"));
    assert!(matches!(
        &h.events[..],
        [Event::RoomLeft {
            reason: RoomExit::Left,
            ..
        }]
    ));
    let kept = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    assert!(!kept.autojoin);
}

#[test]
fn a_room_we_create_takes_the_default_configuration() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&occupant(
        "alice",
        "<status code='110'/><status code='201'/>",
        "",
    ));
    let config = String::from(&h.find_request("http://jabber.org/protocol/muc#owner", Some(ROOM)));
    assert!(
        config.contains("type='set'") || config.contains("type=\"set\""),
        "{config}"
    );
    assert!(
        config.contains("jabber:x:data") && config.contains("submit"),
        "{config}"
    );
}

#[test]
fn an_expired_room_position_falls_back_to_the_last_lines_and_a_room_without_archive_still_joins() {
    let mut h = in_room();
    h.receive(&line("bob", "S1", "one"));
    h.bind();
    h.answer("urn:xmpp:carbons:2", "");
    h.receive(&own_presence());
    let id = h
        .find_request(MAM, Some(ROOM))
        .attr("id")
        .expect("id")
        .to_owned();
    h.receive(&format!(
        "<iq type='error' from='{ROOM}' id='{id}'><error type='cancel'>\
           <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    let (_, query) = room_query(&h);
    assert!(
        query.contains("<before") && !query.contains("<after>"),
        "{query}"
    );
    assert!(joined(&h).is_none());
    // That one fails too (no archive at all): joined without catch-up.
    let id = h
        .find_request(MAM, Some(ROOM))
        .attr("id")
        .expect("id")
        .to_owned();
    h.receive(&format!(
        "<iq type='error' from='{ROOM}' id='{id}'><error type='cancel'>\
           <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    assert!(matches!(
        joined(&h),
        Some(Event::RoomJoined { added: 0, .. })
    ));
}

#[test]
fn our_own_nick_change_is_kept_and_our_lines_are_known_under_it() {
    let mut h = in_room();
    h.receive(
        &gone(
            "alice",
            "<item nick='ally'/><status code='303'/><status code='110'/>",
        )
        .replace("<item affiliation='none' role='none'/>", ""),
    );
    h.receive(&occupant("ally", "<status code='110'/>", ""));
    assert!(
        matches!(
            &h.events[0],
            Event::OccupantChanged {
                change: OccupantChange::Changed { old_nick: Some(old), occupant },
                ..
            } if old == "alice" && occupant.nick == "ally"
        ),
        "{:?}",
        h.events
    );
    let kept = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    assert_eq!(kept.nick, "ally");
    h.receive(&line("ally", "S1", "from another device of ours"));
    assert_eq!(room_lines(&h)[0].direction, Direction::Out);
}

#[test]
fn a_flood_during_the_catch_up_is_held_only_up_to_the_cap() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&own_presence());
    let flood: Vec<String> = (0..crate::session::muc::MAX_HELD + 5)
        .map(|i| line("bob", &format!("F{i}"), &format!("flood {i}")))
        .collect();
    let flood: Vec<&str> = flood.iter().map(String::as_str).collect();
    h.receive_burst(&flood);
    h.answer_to(ROOM, MAM, &fin(true));
    assert_eq!(added_lines(&h).len(), crate::session::muc::MAX_HELD);
}

#[test]
fn a_password_is_kept_in_memory_for_the_rejoin_and_never_stored() {
    let mut h = Harness::online();
    join(&mut h, "alice", Some("s3cret"));
    h.receive(&own_presence());
    h.answer_to(ROOM, MAM, &fin(true));
    h.bind();
    h.answer("urn:xmpp:carbons:2", "");
    let rejoin = h
        .sent_named("presence")
        .into_iter()
        .find(|p| p.attr("to") == Some(&*format!("{ROOM}/alice")))
        .expect("rejoined");
    assert!(String::from(&rejoin).contains("s3cret"));
    let dump = h.in_store(|s| s.rooms(h.account)).expect("rooms");
    assert!(!format!("{dump:?}").contains("s3cret"));
}

#[test]
fn a_subject_during_the_catch_up_comes_with_the_join_and_a_bounce_fails_our_line() {
    let mut h = Harness::online();
    join(&mut h, "alice", None);
    h.receive(&own_presence());
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}' to='{OWN}/desk'><subject>Sunday lunch</subject></message>"
    ));
    h.answer_to(ROOM, MAM, &fin(true));
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::RoomSubject { .. })));
    assert!(matches!(
        joined(&h),
        Some(Event::RoomJoined { subject: Some(s), .. }) if s == "Sunday lunch"
    ));
    let room = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    let row = h
        .in_store(|s| s.insert_room_outgoing(room.id, "shout", "o1", None, None))
        .expect("row");
    h.in_store(|s| s.insert_room_outgoing(room.id, "next", "o2", None, None))
        .expect("row");
    h.clear();
    h.engine.on_command(Command::Flush);
    h.collect();
    h.clear();
    h.receive(&format!(
        "<message type='error' from='{ROOM}' to='{OWN}/desk' id='o1'><error type='auth'>\
           <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
    ));
    assert!(
        h.events.iter().any(|e| matches!(
            e,
            Event::RoomMessageUpdated { message, .. }
                if message.id == row.id && message.state == MessageState::Failed
        )),
        "{:?}",
        h.events
    );
    assert!(String::from(&h.sent_named("message")[0]).contains("o2"));
    // Not a one-to-one bounce either.
    assert!(h.history(ROOM).is_empty());
}

#[test]
fn leaving_for_good_forgets_the_bookmark_and_later_lines_are_dropped() {
    let mut h = in_room();
    h.engine.on_command(Command::LeaveRoom {
        room: ROOM.parse().expect("jid"),
        forget: true,
    });
    h.collect();
    let kept = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    assert!(!kept.autojoin && !kept.bookmarked);
    h.receive(&line("bob", "S1", "after we left"));
    h.receive(&occupant("carol", "", ""));
    assert!(room_history(&h).is_empty());
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::OccupantChanged { .. })));
}

#[test]
fn joining_again_under_another_nick_changes_nick_and_keeps_the_room() {
    let mut h = in_room();
    join(&mut h, "ally", None);
    let p = &h.sent_named("presence")[0];
    assert_eq!(p.attr("to"), Some(&*format!("{ROOM}/ally")));
    assert!(
        !String::from(p).contains("http://jabber.org/protocol/muc'"),
        "no join element"
    );
    // Taken: told, and still in the room as alice with bob.
    h.receive(&format!(
        "<presence type='error' from='{ROOM}/ally' to='{OWN}/desk'><error type='cancel'>\
           <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    ));
    assert!(
        matches!(&h.events[..], [Event::RoomNickTaken { .. }]),
        "{:?}",
        h.events
    );
    h.receive(&line("bob", "S1", "still in"));
    assert_eq!(room_history(&h), ["still in"]);
    h.clear();
    h.receive(&gone("bob", ""));
    assert!(matches!(
        &h.events[..],
        [Event::OccupantChanged { change: OccupantChange::Left { nick, .. }, .. }] if nick == "bob"
    ));
}

#[test]
fn after_a_resumption_a_self_ping_finds_a_room_that_lost_us_and_joins_again() {
    let mut h = in_room();
    h.receive(&line("bob", "S1", "one"));
    h.engine.on_link_lost();
    h.engine.on_resumed();
    h.collect();
    let ping = h.find_request("urn:xmpp:ping", Some(&format!("{ROOM}/alice")));
    let id = ping.attr("id").expect("id").to_owned();
    // Forged by someone else: ignored.
    h.receive(&format!(
        "<iq type='error' from='mallory@evil.example' id='{id}'><error type='cancel'>\
           <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    assert_eq!(joins_sent(&h), 0);
    // The room no longer knows us.
    h.receive(&format!(
        "<iq type='error' from='{ROOM}/alice' id='{id}'><error type='cancel'>\
           <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    assert_eq!(joins_sent(&h), 1, "{:?}", h.sent_xml());
    h.receive(&own_presence());
    let (q, query) = room_query(&h);
    assert!(query.contains("<after>S1</after>"), "{query}");
    h.receive(&archived(&q, "S1", "bob", "one"));
    h.receive(&archived(&q, "S2", "bob", "two"));
    h.answer_to(ROOM, MAM, &fin(true));
    assert_eq!(room_history(&h), ["one", "two"]);
}

#[test]
fn a_self_ping_answered_or_refused_for_want_of_ping_keeps_us_in_the_room() {
    let answers = [
        "<iq type='result' from='ROOM/alice' id='ID'/>",
        "<iq type='error' from='ROOM/alice' id='ID'><error type='cancel'>\
           <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    ];
    for answer in answers {
        let mut h = in_room();
        h.engine.on_link_lost();
        h.engine.on_resumed();
        h.collect();
        let ping = h.find_request("urn:xmpp:ping", Some(&format!("{ROOM}/alice")));
        let id = ping.attr("id").expect("id");
        h.receive(&answer.replace("ROOM", ROOM).replace("ID", id));
        assert_eq!(joins_sent(&h), 0, "{answer}");
    }
}

#[test]
fn a_room_we_create_as_a_private_group_gets_its_settings_before_others_come() {
    let mut h = Harness::online();
    h.engine.on_command(Command::CreateRoom {
        room: ROOM.parse().expect("jid"),
        nick: "alice".into(),
        preset: crate::roomconfig::RoomPreset {
            kind: crate::roomconfig::RoomKind::PrivateGroup,
            name: "Family".into(),
            description: None,
        },
    });
    h.collect();
    // The room tells us we created it (status 201): its form is asked for.
    h.receive(&occupant(
        "alice",
        "<status code='110'/><status code='201'/>",
        "",
    ));
    let owner = "http://jabber.org/protocol/muc#owner";
    h.answer_to(
        ROOM,
        owner,
        "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'>\
           <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
           <field var='muc#roomconfig_roomname' type='text-single'/>\
           <field var='muc#roomconfig_membersonly' type='boolean'/>\
           <field var='muc#roomconfig_whois' type='list-single'/>\
         </x></query>",
    );
    let submit = String::from(&h.find_request(owner, Some(ROOM)));
    assert!(submit.contains("type='submit'"), "{submit}");
    assert!(
        submit.contains("<field var='muc#roomconfig_membersonly'><value>1</value></field>"),
        "{submit}"
    );
    assert!(
        submit.contains("<field var='muc#roomconfig_whois'><value>anyone</value></field>"),
        "{submit}"
    );
    let kept = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("kept");
    assert_eq!(kept.name.as_deref(), Some("Family"));
    // Settled only once configured: until the room accepts the form, no
    // catch-up and no RoomJoined (an invitation sent earlier may go nowhere).
    let asked_archive = |h: &Harness| {
        h.sent_xml()
            .iter()
            .any(|x| x.contains(MAM) && x.contains(ROOM))
    };
    assert!(!asked_archive(&h), "{:?}", h.sent_xml());
    h.answer_to(ROOM, owner, "");
    assert!(asked_archive(&h), "{:?}", h.sent_xml());
    h.answer_to(ROOM, MAM, &fin(true));
    assert!(joined(&h).is_some(), "{:?}", h.events);
}

#[test]
fn a_room_that_exists_already_is_joined_as_it_is() {
    let mut h = Harness::online();
    h.engine.on_command(Command::CreateRoom {
        room: ROOM.parse().expect("jid"),
        nick: "alice".into(),
        preset: crate::roomconfig::RoomPreset {
            kind: crate::roomconfig::RoomKind::PublicChannel,
            name: "Family".into(),
            description: None,
        },
    });
    h.receive(&own_presence());
    assert!(
        !h.sent_xml()
            .iter()
            .any(|x| x.contains("http://jabber.org/protocol/muc#owner")),
        "someone else's room is not reconfigured: {:?}",
        h.sent_xml()
    );
}

fn invites(h: &Harness) -> Vec<(String, String, bool)> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::RoomInvite {
                room,
                from,
                stranger,
                ..
            } => Some((room.clone(), from.clone(), *stranger)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_invitation_is_an_offer_never_a_join_nor_a_chat_line() {
    let mut h = Harness::online();
    h.contact("bob@example.org");
    h.receive(&format!(
        "<message from='bob@example.org/phone' to='{OWN}/desk'><body>Come!</body>\
           <x xmlns='jabber:x:conference' jid='{ROOM}' reason='Sunday lunch'/></message>"
    ));
    h.receive(&format!(
        "<message from='{ROOM}' to='{OWN}/desk'>\
           <x xmlns='{MUC_USER}'><invite from='mallory@evil.example/x'/></x></message>"
    ));
    assert_eq!(
        invites(&h),
        [
            (ROOM.to_owned(), "bob@example.org".to_owned(), false),
            (ROOM.to_owned(), "mallory@evil.example".to_owned(), true),
        ]
    );
    assert!(h.sent_named("presence").is_empty(), "nothing joined");
    assert!(h.history("bob@example.org").is_empty(), "not a chat line");
}

#[test]
fn our_invitation_goes_through_the_room() {
    let mut h = in_room();
    h.engine.on_command(Command::Invite {
        room: ROOM.parse().expect("jid"),
        to: "bob@example.org".parse().expect("jid"),
        reason: Some("Sunday".into()),
    });
    h.collect();
    let sent = h.sent_xml();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(&format!("to='{ROOM}'")), "{}", sent[0]);
    assert!(
        sent[0].contains("<invite to='bob@example.org'><reason>Sunday</reason></invite>"),
        "{}",
        sent[0]
    );
}

fn mds_event(from: &str, sid: &str) -> String {
    format!(
        "<message from='{from}' to='{OWN}/desk' type='headline'>\
           <event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='urn:xmpp:mds:displayed:0'><item id='{ROOM}'>\
               <displayed xmlns='urn:xmpp:mds:displayed:0'>\
                 <stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{ROOM}'/></displayed>\
             </item></items></event></message>"
    )
}

#[test]
fn a_room_read_on_another_device_is_read_here_and_reading_here_tells_them() {
    let mut h = in_room();
    h.receive(&line("bob", "s1", "one"));
    h.receive(&line("bob", "s2", "two"));
    let two = room_lines(&h)
        .into_iter()
        .find(|l| l.body == "two")
        .expect("stored");
    h.clear();
    // Forged: from anyone but our own account.
    for from in ["mallory@example.org", ROOM, "alice@example.org/phone"] {
        h.receive(&mds_event(from, "s2"));
    }
    assert!(
        !h.events.iter().any(|e| matches!(e, Event::RoomRead { .. })),
        "{:?}",
        h.events
    );
    h.receive(&mds_event(OWN, "s2"));
    assert!(
        h.events.iter().any(
            |e| matches!(e, Event::RoomRead { room, up_to, .. } if room == ROOM && *up_to == two.id)
        ),
        "{:?}",
        h.events
    );
    h.clear();
    h.engine.on_command(Command::RoomDisplayed {
        room: ROOM.parse().expect("jid"),
        stanza_id: "s2".into(),
    });
    h.collect();
    let published = String::from(&h.request("http://jabber.org/protocol/pubsub"));
    assert!(
        published.contains("node='urn:xmpp:mds:displayed:0'"),
        "{published}"
    );
    assert!(published.contains("id='s2'"), "{published}");
}

#[test]
fn an_occupants_private_message_is_kept_with_the_room_marked_private_never_as_a_chat() {
    let mut h = in_room();
    h.receive(&format!(
        "<message type='chat' from='{ROOM}/bob' to='{OWN}/desk' id='p1'><body>psst</body>\
           <origin-id xmlns='urn:xmpp:sid:0' id='p1'/>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='FORGED'/>\
           <x xmlns='{MUC_USER}'/></message>"
    ));
    // A chat state alone from an occupant is no message at all.
    h.receive(&format!(
        "<message type='chat' from='{ROOM}/bob' to='{OWN}/desk'>\
           <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
    ));
    assert_eq!(added_lines(&h), ["psst"]);
    let lines = room_lines(&h);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].private_with.as_deref(), Some("bob"));
    assert_eq!(lines[0].direction, Direction::In);
    assert_eq!(
        lines[0].stanza_id, None,
        "a private message's stanza-id proves nothing"
    );
    let chats = h
        .in_store(|s| {
            let c = s.conversation(h.account, ROOM)?;
            s.history_page(c, None, 10)
        })
        .expect("conversations");
    assert!(
        chats.is_empty(),
        "no one-to-one chat with the room: {chats:?}"
    );
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::MessageAdded { .. })),
        "{:?}",
        h.events
    );
}

#[test]
fn copies_of_private_messages_from_our_server_are_not_chats_with_the_room() {
    let mut h = in_room();
    // Our server's archive (or a carbon) holding a private message from
    // the room, or one we sent from another device: neither is a chat.
    h.receive(&format!(
        "<message from='{OWN}' to='{OWN}/desk'><sent xmlns='urn:xmpp:carbons:2'>\
           <forwarded xmlns='urn:xmpp:forward:0'>\
           <message xmlns='jabber:client' type='chat' from='{OWN}/phone' to='{ROOM}/bob' id='c1'>\
           <body>from my phone</body></message></forwarded></sent></message>"
    ));
    h.engine.on_command(Command::LeaveRoom {
        room: ROOM.parse().expect("jid"),
        forget: false,
    });
    h.collect();
    // Out of the room now: its occupant's message is no chat either.
    h.receive(&format!(
        "<message type='chat' from='{ROOM}/bob' to='{OWN}/desk' id='p2'><body>still there?</body></message>"
    ));
    let chats = h
        .in_store(|s| {
            let c = s.conversation(h.account, ROOM)?;
            s.history_page(c, None, 10)
        })
        .expect("conversations");
    assert!(chats.is_empty(), "{chats:?}");
}

#[test]
fn our_private_message_goes_to_the_occupant_through_the_room_and_is_sent_on_the_servers_ack() {
    use crate::session::engine::{Fate, Watch};
    let mut h = in_room();
    let room = h
        .in_store(|s| s.room(h.account, ROOM))
        .expect("store")
        .expect("room");
    let row = h
        .in_store(|s| s.insert_room_outgoing(room.id, "just you", "p9", Some("bob"), None))
        .expect("row");
    h.engine.on_command(Command::Flush);
    h.collect();
    let sent = h.sent_named("message");
    assert_eq!(sent.len(), 1, "{:?}", h.sent_xml());
    assert_eq!(
        String::from(&sent[0]),
        format!(
            "<message xmlns='jabber:client' id='p9' to='{ROOM}/bob' type='chat'>\
               <body>just you</body><origin-id xmlns='urn:xmpp:sid:0' id='p9'/>\
               <x xmlns='{MUC_USER}'/></message>"
        )
        .replace("               ", "")
    );
    let Some((_, Watch::RoomPrivate { id, generation })) = h.sent.last().cloned() else {
        panic!("not watched: {:?}", h.sent)
    };
    assert_eq!(id, row.id);
    // Not sent twice while on its way.
    h.clear();
    h.engine.on_command(Command::Flush);
    h.collect();
    assert!(h.sent_named("message").is_empty());
    h.engine.on_fates(vec![Fate::RoomPrivate {
        id,
        generation,
        ok: true,
    }]);
    h.collect();
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::RoomMessageUpdated { message, .. }
            if message.id == row.id && message.state == MessageState::Sent
            && message.private_with.as_deref() == Some("bob")
    )));
}

#[test]
fn a_mention_reference_to_us_marks_the_line_and_one_to_others_does_not() {
    let mut h = in_room();
    let reference = |uri: &str| {
        format!("<reference xmlns='urn:xmpp:reference:0' type='mention' begin='0' end='5' uri='{uri}'/>")
    };
    for (sid, body, refs) in [
        (
            "R1",
            "hello there",
            reference(&format!("xmpp:{ROOM}/alice")),
        ),
        ("R2", "and you", reference(&format!("xmpp:{OWN}"))),
        ("R3", "not you", reference(&format!("xmpp:{ROOM}/bob"))),
        // Percent-encoded, as a URI may be.
        (
            "R4",
            "encoded",
            reference(&format!("xmpp:{}", ROOM.replace('@', "%40") + "/alice")),
        ),
        (
            "R5",
            "a link",
            "<reference xmlns='urn:xmpp:reference:0' type='data' uri='xmpp:x@y'/>".into(),
        ),
    ] {
        h.receive(&format!(
            "<message type='groupchat' from='{ROOM}/bob' to='{OWN}/desk' id='w-{sid}'>\
               <body>{body}</body>{refs}<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='{sid}'/></message>"
        ));
    }
    let marked: Vec<(String, bool)> = room_lines(&h)
        .into_iter()
        .map(|m| (m.body, m.mentions_us))
        .collect();
    assert_eq!(
        marked,
        [
            ("hello there".to_owned(), true),
            ("and you".to_owned(), true),
            ("not you".to_owned(), false),
            ("encoded".to_owned(), true),
            ("a link".to_owned(), false),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn every_quarter_hour_in_a_room_a_self_ping_finds_a_ghost_membership() {
    use crate::session::muc::selfping::SELF_PING_EVERY;
    let mut h = in_room();
    let due = h
        .engine
        .self_ping_deadline()
        .expect("the self-ping scheduled");
    assert_eq!(due, tokio::time::Instant::now() + SELF_PING_EVERY);
    assert!(h.engine.next_deadline().is_some_and(|next| next <= due));
    let pings = |h: &Harness| {
        h.sent_xml()
            .iter()
            .filter(|s| s.contains("urn:xmpp:ping"))
            .count()
    };
    tokio::time::advance(SELF_PING_EVERY - std::time::Duration::from_secs(1)).await;
    h.engine.on_timeout(tokio::time::Instant::now());
    h.collect();
    assert_eq!(pings(&h), 0, "not yet: {:?}", h.sent_xml());
    tokio::time::advance(std::time::Duration::from_secs(1)).await;
    h.engine.on_timeout(tokio::time::Instant::now());
    h.collect();
    let ping = h.find_request("urn:xmpp:ping", Some(&format!("{ROOM}/alice")));
    let id = ping.attr("id").expect("id").to_owned();
    // The next one is scheduled while we are in the room.
    assert_eq!(
        h.engine.self_ping_deadline(),
        Some(tokio::time::Instant::now() + SELF_PING_EVERY)
    );
    // The room restarted and forgot us: joined again.
    h.receive(&format!(
        "<iq type='error' from='{ROOM}/alice' id='{id}'><error type='cancel'>\
           <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    assert_eq!(joins_sent(&h), 1, "{:?}", h.sent_xml());
}

#[tokio::test(start_paused = true)]
async fn out_of_every_room_no_self_ping_is_scheduled() {
    let mut h = in_room();
    h.engine.on_command(Command::LeaveRoom {
        room: ROOM.parse().expect("jid"),
        forget: false,
    });
    h.collect();
    tokio::time::advance(crate::session::muc::selfping::SELF_PING_EVERY).await;
    h.engine.on_timeout(tokio::time::Instant::now());
    h.collect();
    assert!(
        !h.sent_xml().iter().any(|s| s.contains("urn:xmpp:ping")),
        "{:?}",
        h.sent_xml()
    );
    assert_eq!(h.engine.self_ping_deadline(), None, "no room to ask");
}

#[test]
fn an_occupants_presence_and_status_are_kept_and_told() {
    let mut h = in_room();
    h.receive(&occupant(
        "bob",
        "",
        "<show>away</show><status>at lunch</status>",
    ));
    let changed = h.events.iter().find_map(|e| match e {
        Event::OccupantChanged {
            change: OccupantChange::Changed { occupant, .. },
            ..
        } => Some(occupant.clone()),
        _ => None,
    });
    let bob = changed.expect("bob's change told");
    assert_eq!(bob.show, crate::presence::Show::Away);
    assert_eq!(bob.status.as_deref(), Some("at lunch"));
}
