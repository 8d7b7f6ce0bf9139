//! Room bookmarks (XEP-0402) against real servers, across three of alice's
//! devices: a room joined on one is joined on another that is online (PEP
//! notification from her own account) and on one that logs in later (the
//! list, read at login); leaving it for good there leaves it on the others.
//! A bookmark notification from anyone else joins nothing.
//!
//! Prosody 0.12 (`mod_bookmarks`, `pep`) takes every publish option
//! XEP-0402 asks for, notifies removals, and notifies a device that just
//! came online. ejabberd 23.01 (`mod_pubsub`
//! with `pep`) refuses `pubsub#max_items` and
//! `pubsub#send_last_published_item` as publish options: Charla publishes
//! with fewer and configures the node (else it would keep one bookmark);
//! it notifies new bookmarks but not removals, which the other devices
//! then apply at their next login, and a device that just came online may
//! miss a notification until the server has its features (then it reads
//! the list at its next login).

use std::time::Duration;

use charla_core::Event;
use charla_tests::{both_servers, Device, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

/// Waits until alice's bookmark list on the server holds every one of
/// `rooms`: asks for it (from a raw stream of her own) until it does.
async fn listed_on_server(server: &Server, rooms: &[&str]) {
    let mut raw = RawClient::login(server, "alice", "alice-pw", WAIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    for n in 0.. {
        let id = format!("listed-{n}");
        raw.send(&format!(
            "<iq type='get' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
               <items node='urn:xmpp:bookmarks:1'/></pubsub></iq>"
        ))
        .await;
        let answer = raw.read_until(&id).await;
        let answer = answer.replace('"', "'");
        if rooms.iter().all(|r| answer.contains(&format!("id='{r}'"))) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server's bookmarks never held {rooms:?}: {answer}"
        );
        // The next question goes after everything the server had for us.
        raw.settled().await;
    }
}

/// Waits until `device` is in `room`.
async fn in_room(device: &mut Device, room: &str) {
    device
        .wait_for(
            "the room joined",
            |e| matches!(e, Event::RoomJoined { room: r, .. } if r == room),
        )
        .await;
}

/// Waits until `device` is in every one of `rooms`, in any order.
async fn in_rooms(device: &mut Device, rooms: &[&str]) {
    let mut waiting: Vec<String> = rooms.iter().map(|r| (*r).to_owned()).collect();
    while !waiting.is_empty() {
        if let Event::RoomJoined { room, .. } = device
            .wait_for("the rooms joined", |e| {
                matches!(e, Event::RoomJoined { .. })
            })
            .await
        {
            waiting.retain(|w| *w != room);
        }
    }
}

fn kept(device: &Device, room: &str) -> Option<charla_core::Room> {
    device
        .core
        .rooms(device.account)
        .expect("rooms")
        .into_iter()
        .find(|r| r.jid == room)
}

async fn a_room_follows_alice_to_her_other_devices(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("mallory", "mallory-pw")
        .start()
        .await
        .expect("server");
    let room = format!(
        "{}@conference.{}",
        server.localpart("family"),
        server.domain()
    );
    let mut desk = Device::online(&server, "alice", WAIT).await;
    // On Prosody the phone is online while the desk joins, and hears of
    // each bookmark. ejabberd 23.01 learns which devices want notifications
    // from their answer to its feature query (XEP-0115), after their
    // presence, so a device that just came online may miss one: there the
    // phone logs in after the desk joined, and reads the list.
    let mut phone = match flavor {
        Flavor::Prosody => {
            let phone = Device::online(&server, "alice", WAIT).await;
            desk.settled().await;
            Some(phone)
        }
        Flavor::Ejabberd => None,
    };
    if let Some(phone) = phone.as_mut() {
        // It has read its (empty) list: what comes next is news.
        phone.settled().await;
    }
    let team = format!(
        "{}@conference.{}",
        server.localpart("team"),
        server.domain()
    );
    // Two rooms: the list holds both (ejabberd's node would keep only the
    // newest unless configured).
    let rooms: Vec<&String> = vec![&room, &team];
    for joined in rooms.iter().copied() {
        desk.core
            .join_room(desk.account, joined, "alice", None)
            .await
            .expect("join");
        in_room(&mut desk, joined).await;
        if let Some(phone) = phone.as_mut() {
            in_room(phone, joined).await;
        }
    }
    // The desk's bookmarks are published (on ejabberd the first publish is
    // refused for its options and made again with fewer): the server's own
    // list says when. A settle of the desk's stream is not enough there:
    // ejabberd may answer our ping before its pubsub has handled the
    // publishes sent before it.
    listed_on_server(&server, &[&room, &team]).await;
    let mut phone = match phone {
        Some(phone) => phone,
        None => {
            let mut phone = Device::online(&server, "alice", WAIT).await;
            in_rooms(&mut phone, &[&room, &team]).await;
            phone
        }
    };
    assert!(kept(&phone, &room).is_some_and(|r| r.bookmarked && r.autojoin));

    // A device that logs in later reads the list.
    let mut laptop = Device::online(&server, "alice", WAIT).await;
    let names: Vec<&str> = rooms.iter().map(|r| r.as_str()).collect();
    in_rooms(&mut laptop, &names).await;

    // mallory's "bookmark" joins nothing anywhere.
    let evil = format!(
        "{}@conference.{}",
        server.localpart("evil"),
        server.domain()
    );
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    // A headline to the bare JID reaches every device.
    let alice = server.jid("alice");
    mallory
        .send(&format!(
            "<message to='{alice}' type='headline'>\
               <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='urn:xmpp:bookmarks:1'>\
                   <item id='{evil}'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'>\
                     <nick>alice</nick></conference></item>\
                   <retract id='{room}'/>\
                 </items></event></message>"
        ))
        .await;
    mallory.settled().await;
    for device in [&mut desk, &mut phone, &mut laptop] {
        let events = device.settled().await;
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::RoomJoined { .. } | Event::RoomLeft { .. })),
            "{events:?}"
        );
        assert!(kept(device, &evil).is_none());
    }

    // Leaving for good on the laptop leaves on the others: at once on
    // Prosody, which notifies the retraction; ejabberd 23.01 does not (not
    // even with `pubsub#notify_retract` set on the node), so there the
    // phone leaves at its next login, when the list no longer has the room
    // it had bookmarked.
    laptop
        .core
        .leave_room(laptop.account, &room, true)
        .await
        .expect("leave");
    let left = |e: &Event| matches!(e, Event::RoomLeft { room: r, .. } if r == &room);
    match flavor {
        Flavor::Prosody => {
            for device in [&mut desk, &mut phone] {
                device.wait_for("the room left", left).await;
            }
        }
        Flavor::Ejabberd => {
            laptop.settled().await;
            phone.logout().await;
            phone
                .login(charla_tests::options(&server, "alice-pw", None))
                .await;
            phone.wait_for("the room left", left).await;
        }
    }
    assert!(kept(&phone, &room).is_some_and(|r| !r.autojoin && !r.bookmarked));
}

both_servers!(a_room_follows_alice_to_her_other_devices);

/// Read on the desk, read on the phone (XEP-0490): the phone is told the
/// room was read up to the line the desk read, on Prosody. On ejabberd
/// 23.01 live room lines have no stanza-id to name them by, so nothing is
/// shared.
async fn a_room_read_on_one_device_is_read_on_the_other(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .start()
        .await
        .expect("server");
    let room = format!(
        "{}@conference.{}",
        server.localpart("family"),
        server.domain()
    );
    let mut desk = Device::online(&server, "alice", WAIT).await;
    let mut phone = Device::online(&server, "alice", WAIT).await;
    // Both devices join (not through the bookmark: this is about what was
    // read; see the test above for bookmarks).
    for device in [&mut desk, &mut phone] {
        device
            .core
            .join_room(device.account, &room, "alice", None)
            .await
            .expect("join");
        in_room(device, &room).await;
    }
    let mut bob = Device::online(&server, "bob", WAIT).await;
    bob.core
        .join_room(bob.account, &room, "bob", None)
        .await
        .expect("join");
    in_room(&mut bob, &room).await;
    bob.core
        .send_room_message(bob.account, &room, "lunch at one?")
        .await
        .expect("say");
    let heard = |device: &Device| {
        device
            .core
            .room_history(device.account, &room, None, 10)
            .expect("history")
            .into_iter()
            .find(|l| l.body == "lunch at one?")
    };
    let line_on = |e: &Event| matches!(e, Event::RoomMessageAdded { message, .. } if message.body == "lunch at one?");
    desk.wait_for("bob's line", line_on).await;
    phone.wait_for("bob's line", line_on).await;
    let on_desk = heard(&desk).expect("on the desk");
    let on_phone = heard(&phone).expect("on the phone");
    desk.core
        .mark_room_read(desk.account, &room, on_desk.id)
        .await
        .expect("read");
    match flavor {
        Flavor::Prosody => match phone
            .wait_for("read elsewhere", |e| matches!(e, Event::RoomRead { .. }))
            .await
        {
            Event::RoomRead { room: r, up_to, .. } => {
                assert_eq!(r, room);
                assert_eq!(up_to, on_phone.id, "the phone's own row of that line");
            }
            _ => unreachable!(),
        },
        // ejabberd 23.01 stamps no stanza-id on live room lines, and
        // XEP-0490 names a line only by one: nothing can be shared.
        Flavor::Ejabberd => {
            assert_eq!(on_desk.stanza_id, None);
            desk.settled().await;
            let seen = phone.settled().await;
            assert!(
                !seen.iter().any(|e| matches!(e, Event::RoomRead { .. })),
                "{seen:?}"
            );
        }
    }
}

both_servers!(a_room_read_on_one_device_is_read_on_the_other);
