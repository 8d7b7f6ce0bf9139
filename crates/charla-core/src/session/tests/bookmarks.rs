//! Room bookmarks (XEP-0402, the XEP-0048 list migrated): read at login,
//! written when the user joins and leaves, followed when our other devices
//! change them, and never taken from anyone but our own account.

use xmpp_parsers::minidom::Element;

use super::{Harness, OWN};
use crate::session::Command;

const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const PRIVATE: &str = "jabber:iq:private";
const FAMILY: &str = "family@conference.example.org";
const TEAM: &str = "team@conference.example.org";

/// Logged in, with the bookmarks request (sent after the initial presence)
/// still among what was sent.
fn logged_in() -> Harness {
    let mut h = Harness::new();
    h.bind();
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    h.answer_to(
        OWN,
        "http://jabber.org/protocol/disco#info",
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
           <identity category='account' type='registered'/></query>",
    );
    h.answer("urn:xmpp:carbons:2", "");
    h
}

fn item(room: &str, autojoin: bool, nick: &str, name: &str) -> String {
    format!(
        "<item id='{room}'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='{autojoin}' \
           name='{name}'><nick>{nick}</nick></conference></item>"
    )
}

fn items(items: &[String]) -> String {
    format!(
        "<pubsub xmlns='{PUBSUB}'><items node='urn:xmpp:bookmarks:1'>{}</items></pubsub>",
        items.concat()
    )
}

/// Presences sent to a room (joins and leaves), as `to` and `type`.
fn room_presences(h: &Harness) -> Vec<(String, Option<String>)> {
    h.sent_named("presence")
        .iter()
        .filter_map(|p| {
            let to = p.attr("to")?;
            to.contains("@conference.")
                .then(|| (to.to_owned(), p.attr("type").map(str::to_owned)))
        })
        .collect()
}

/// The bookmark IQs sent (publish or retract), as (what, room, autojoin).
fn bookmark_changes(h: &Harness) -> Vec<(String, String, Option<String>)> {
    h.sent_named("iq")
        .iter()
        .filter_map(|iq| iq.get_child("pubsub", PUBSUB))
        .filter_map(|pubsub| {
            let change: &Element = pubsub
                .children()
                .find(|c| c.name() == "publish" || c.name() == "retract")?;
            let item = change.get_child("item", PUBSUB)?;
            let autojoin = item
                .children()
                .next()
                .and_then(|c| c.attr("autojoin"))
                .map(str::to_owned);
            Some((
                change.name().to_owned(),
                item.attr("id")?.to_owned(),
                autojoin,
            ))
        })
        .collect()
}

fn kept(h: &Harness, room: &str) -> Option<charla_store::Room> {
    h.in_store(|s| s.room(h.account, room)).expect("store")
}

#[test]
fn login_reads_the_list_joins_its_autojoin_rooms_and_keeps_the_others() {
    let mut h = logged_in();
    h.answer(
        PUBSUB,
        &items(&[
            item(FAMILY, true, "al", "Family"),
            item(TEAM, false, "alice", "Team"),
        ]),
    );
    assert_eq!(room_presences(&h), [(format!("{FAMILY}/al"), None)]);
    let family = kept(&h, FAMILY).expect("family kept");
    assert!(family.autojoin && family.bookmarked, "{family:?}");
    assert_eq!(family.name.as_deref(), Some("Family"));
    let team = kept(&h, TEAM).expect("team kept");
    assert!(!team.autojoin && team.bookmarked, "{team:?}");
    assert!(
        h.sent_xml().iter().all(|x| !x.contains(PRIVATE)),
        "a list on the server: the legacy one is not read"
    );
}

#[test]
fn an_empty_list_is_filled_from_the_legacy_one_once() {
    let mut h = logged_in();
    h.receive(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
           <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        h.request(PUBSUB).attr("id").expect("id")
    ));
    h.answer(
        PRIVATE,
        &format!(
            "<query xmlns='{PRIVATE}'><storage xmlns='storage:bookmarks'>\
               <conference jid='{FAMILY}' autojoin='true' name='Family'><nick>al</nick></conference>\
             </storage></query>"
        ),
    );
    assert_eq!(
        bookmark_changes(&h),
        [("publish".into(), FAMILY.into(), Some("true".into()))]
    );
    assert_eq!(room_presences(&h), [(format!("{FAMILY}/al"), None)]);
    assert_eq!(
        h.sent_xml().iter().filter(|x| x.contains(PRIVATE)).count(),
        1
    );
}

#[test]
fn a_room_kept_to_join_but_not_on_the_list_is_bookmarked_once_we_are_in() {
    let mut h = Harness::new();
    h.in_store(|s| s.upsert_room(h.account, TEAM, "alice"))
        .expect("kept");
    h.bind();
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    h.answer("urn:xmpp:carbons:2", "");
    h.answer(PUBSUB, &items(&[item(FAMILY, true, "al", "Family")]));
    assert!(
        bookmark_changes(&h).is_empty(),
        "not while joining (a refused nick must not be bookmarked): {:?}",
        h.sent_xml()
    );
    h.receive(&format!(
        "<presence from='{TEAM}/alice' to='{OWN}/desk'>\
           <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='member' role='participant'/><status code='110'/></x></presence>"
    ));
    h.answer_to(
        TEAM,
        "urn:xmpp:mam:2",
        "<fin xmlns='urn:xmpp:mam:2' complete='true'/>",
    );
    assert_eq!(
        bookmark_changes(&h),
        [("publish".into(), TEAM.into(), Some("true".into()))]
    );
}

#[test]
fn a_bookmark_removed_on_another_device_while_we_were_away_is_left_here_too() {
    let mut h = Harness::new();
    h.in_store(|s| {
        let family = s.upsert_room(h.account, FAMILY, "al")?;
        s.set_room_bookmark(family.id, Some("Family"))
    })
    .expect("kept");
    h.bind();
    h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
    h.answer("urn:xmpp:carbons:2", "");
    // Joined again at login, as kept...
    assert_eq!(room_presences(&h), [(format!("{FAMILY}/al"), None)]);
    // ...but the list no longer has it.
    h.answer(PUBSUB, &items(&[item(TEAM, true, "alice", "Team")]));
    assert_eq!(
        room_presences(&h),
        [
            (format!("{FAMILY}/al"), None),
            (format!("{TEAM}/alice"), None),
            (format!("{FAMILY}/al"), Some("unavailable".into())),
        ]
    );
    let family = kept(&h, FAMILY).expect("history kept");
    assert!(!family.autojoin && !family.bookmarked, "{family:?}");
    assert!(
        bookmark_changes(&h).is_empty(),
        "not bookmarked again: {:?}",
        h.sent_xml()
    );
}

#[test]
fn a_room_we_got_into_is_bookmarked_leaving_clears_autojoin_and_for_good_retracts() {
    let mut h = logged_in();
    h.answer(PUBSUB, &items(&[]));
    h.answer(PRIVATE, &format!("<query xmlns='{PRIVATE}'/>"));
    h.clear();
    h.engine.on_command(Command::JoinRoom {
        room: TEAM.parse().expect("jid"),
        nick: "alice".into(),
        password: None,
    });
    h.collect();
    assert!(
        bookmark_changes(&h).is_empty(),
        "not before the room let us in (a room being created refuses our other devices)"
    );
    h.receive(&format!(
        "<presence from='{TEAM}/alice' to='{OWN}/desk'>           <x xmlns='http://jabber.org/protocol/muc#user'>             <item affiliation='member' role='participant'/><status code='110'/></x></presence>"
    ));
    h.answer_to(
        TEAM,
        "urn:xmpp:mam:2",
        "<fin xmlns='urn:xmpp:mam:2' complete='true'/>",
    );
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, crate::event::Event::RoomJoined { .. })),
        "{:?}",
        h.events
    );
    h.engine.on_command(Command::LeaveRoom {
        room: TEAM.parse().expect("jid"),
        forget: false,
    });
    h.engine.on_command(Command::LeaveRoom {
        room: TEAM.parse().expect("jid"),
        forget: true,
    });
    h.collect();
    // One change at a time, each after the previous one's answer.
    let publish = |autojoin: &str| {
        (
            "publish".to_owned(),
            TEAM.to_owned(),
            Some(autojoin.to_owned()),
        )
    };
    assert_eq!(bookmark_changes(&h), [publish("true")]);
    h.answer(PUBSUB, "");
    assert_eq!(bookmark_changes(&h), [publish("true"), publish("false")]);
    h.answer(PUBSUB, "");
    assert_eq!(
        bookmark_changes(&h),
        [
            publish("true"),
            publish("false"),
            ("retract".into(), TEAM.into(), None),
        ]
    );
}

fn event(from: &str, inner: &str) -> String {
    format!(
        "<message from='{from}' to='{OWN}/desk' type='headline'>\
           <event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='urn:xmpp:bookmarks:1'>{inner}</items></event></message>"
    )
}

#[test]
fn our_other_devices_changes_join_and_leave_rooms_here() {
    let mut h = logged_in();
    h.answer(PUBSUB, &items(&[item(FAMILY, true, "al", "Family")]));
    h.clear();
    h.receive(&event(OWN, &item(TEAM, true, "alice", "Team")));
    assert_eq!(room_presences(&h), [(format!("{TEAM}/alice"), None)]);
    h.clear();
    h.receive(&event(OWN, &format!("<retract id='{FAMILY}'/>")));
    assert_eq!(
        room_presences(&h),
        [(format!("{FAMILY}/al"), Some("unavailable".into()))]
    );
    let family = kept(&h, FAMILY).expect("history kept");
    assert!(!family.autojoin && !family.bookmarked, "{family:?}");
    assert!(
        bookmark_changes(&h).is_empty(),
        "following another device writes nothing back"
    );
}

#[test]
fn a_forged_bookmark_notification_joins_nothing() {
    let mut h = logged_in();
    h.answer(PUBSUB, &items(&[item(FAMILY, true, "al", "Family")]));
    h.clear();
    for from in [
        "mallory@example.org",
        "alice@example.org/phone",
        FAMILY,
        "example.org",
    ] {
        h.receive(&event(
            from,
            &item("evil@conference.example.org", true, "x", "Evil"),
        ));
        h.receive(&event(from, &format!("<retract id='{FAMILY}'/>")));
    }
    assert!(room_presences(&h).is_empty(), "{:?}", h.sent_xml());
    assert!(kept(&h, "evil@conference.example.org").is_none());
    assert!(kept(&h, FAMILY).expect("family").autojoin);
}

/// What the bookmark IQs sent so far do, in order: `publish ROOM`,
/// `retract ROOM` or `configure`.
fn node_changes(h: &Harness) -> Vec<String> {
    h.sent_named("iq")
        .iter()
        .filter_map(|iq| {
            if iq.has_child("pubsub", "http://jabber.org/protocol/pubsub#owner") {
                return Some("configure".to_owned());
            }
            let pubsub = iq.get_child("pubsub", PUBSUB)?;
            let change = pubsub
                .children()
                .find(|c| c.name() == "publish" || c.name() == "retract")?;
            let item = change.get_child("item", PUBSUB)?;
            Some(format!("{} {}", change.name(), item.attr("id")?))
        })
        .collect()
}

#[test]
fn with_fewer_publish_options_each_change_waits_for_the_last_so_the_node_is_sized_first() {
    // ejabberd 23.01 refuses the full publish options and may handle a
    // stream's IQs in parallel: a publish handled before the configuration
    // that sizes the node would replace its only item.
    let mut h = logged_in();
    h.answer(PUBSUB, &items(&[]));
    h.answer(PRIVATE, &format!("<query xmlns='{PRIVATE}'/>"));
    h.clear();
    h.engine
        .bookmark_joined(FAMILY.parse().expect("jid"), "alice".into());
    h.engine
        .bookmark_joined(TEAM.parse().expect("jid"), "alice".into());
    h.collect();
    assert_eq!(node_changes(&h), [format!("publish {FAMILY}")]);
    let refused = h.request(PUBSUB).attr("id").expect("id").to_owned();
    h.receive(&format!(
        "<iq type='error' id='{refused}'><error type='modify'>\
           <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    let steps = [
        "configure".to_owned(),
        format!("publish {FAMILY}"),
        "configure".to_owned(),
        format!("publish {TEAM}"),
    ];
    for n in 1..=steps.len() {
        let sent = node_changes(&h);
        assert_eq!(sent[1..], steps[..n], "one at a time");
        let last = h
            .sent_named("iq")
            .last()
            .and_then(|iq| iq.attr("id"))
            .expect("id")
            .to_owned();
        h.receive(&format!("<iq type='result' id='{last}'/>"));
    }
    assert_eq!(node_changes(&h).len(), 1 + steps.len(), "nothing more");
    // Team's went out with the fewer options, after the node was sized.
    let team = h.sent_named("iq").last().map(String::from).expect("iq");
    assert!(!team.contains("pubsub#max_items"), "{team}");
}
