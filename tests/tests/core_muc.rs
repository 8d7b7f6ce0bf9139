//! Group chats (XEP-0045) against real servers: a room is joined and
//! settled only after its own archive (XEP-0313 on the room) is caught up;
//! our line's reflection marks our outbox row sent; and lines said while
//! an occupant was away reach it exactly once and in order when it comes
//! back, from the room's archive.
//!
//! Prosody runs the MUC service `conference.<domain>` with `muc_mam`: rooms
//! are archived by default, and the room stamps its stanza-id on live lines
//! too, so bob's catch-up asks for what came after the newest line he has.
//! ejabberd 23.01 (`mod_muc`, `mod_mam`) archives the room as well but
//! stamps no stanza-id on live lines: bob has none, so his catch-up asks for
//! the room's last 50 lines, and those he already has are recognised by
//! nick and origin-id (and take the archive's stanza-id). Lines without an
//! origin-id would come twice there.

use std::time::Duration;

use charla_core::{Event, MessageState, OccupantChange, RoomMessage};
use charla_tests::{both_servers, options, Device, Flavor, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

async fn pair(flavor: Flavor) -> Server {
    Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .start()
        .await
        .expect("server")
}

/// Joins `room` as `nick` and returns the lines added before it was
/// settled, and the occupants' nicks then.
async fn join(device: &mut Device, room: &str, nick: &str) -> (Vec<String>, Vec<String>) {
    device
        .core
        .join_room(device.account, room, nick, None)
        .await
        .expect("join");
    settled_in(device, room).await
}

/// Waits until `room` is announced as joined; returns the lines added
/// before that, and the occupants' nicks.
async fn settled_in(device: &mut Device, room: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    loop {
        match device.wait_for("the room joined", |_| true).await {
            Event::RoomMessageAdded { message, .. } if message.room == room => {
                lines.push(message.body.clone())
            }
            Event::RoomJoined {
                room: r, occupants, ..
            } if r == room => {
                return (lines, occupants.into_iter().map(|o| o.nick).collect());
            }
            Event::RoomNickTaken { .. }
            | Event::RoomPasswordRequired { .. }
            | Event::RoomLeft { .. } => panic!("not joined"),
            _ => {}
        }
    }
}

/// Says `body` in `room` and waits for the room's reflection to mark it sent.
async fn say(device: &mut Device, room: &str, body: &str) -> RoomMessage {
    let pending = device
        .core
        .send_room_message(device.account, room, body)
        .await
        .expect("send");
    assert_eq!(pending.state, MessageState::Pending);
    match device
        .wait_for("our line reflected", |e| {
            matches!(e, Event::RoomMessageUpdated { message, .. }
                if message.id == pending.id && message.state == MessageState::Sent)
        })
        .await
    {
        Event::RoomMessageUpdated { message, .. } => *message,
        _ => unreachable!(),
    }
}

async fn heard(device: &mut Device, room: &str, body: &str) {
    device
        .wait_for(body, |e| {
            matches!(e, Event::RoomMessageAdded { message, .. }
                if message.room == room && message.body == body)
        })
        .await;
}

fn room_lines(device: &Device, room: &str) -> Vec<String> {
    let mut lines = device
        .core
        .room_history(device.account, room, None, 500)
        .expect("history");
    lines.reverse();
    lines.into_iter().map(|m| m.body).collect()
}

async fn lines_said_while_away_come_once_in_order(flavor: Flavor) {
    let server = pair(flavor).await;
    let room = format!(
        "{}@conference.{}",
        server.localpart("family"),
        server.domain()
    );
    let mut alice = Device::online(&server, "alice", WAIT).await;
    let (before, occupants) = join(&mut alice, &room, "alice").await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(occupants, ["alice"]);
    let mut bob = Device::online(&server, "bob", WAIT).await;
    let (_, occupants) = join(&mut bob, &room, "bob").await;
    assert_eq!(occupants, ["alice", "bob"]);
    alice
        .wait_for("bob joined", |e| {
            matches!(e, Event::OccupantChanged { change: OccupantChange::Joined { occupant }, .. }
                if occupant.nick == "bob")
        })
        .await;

    let sent = say(&mut alice, &room, "hello bob").await;
    // A room with an archive stamps its stanza-id on the reflection.
    let archived = flavor == Flavor::Prosody;
    assert_eq!(sent.stanza_id.is_some(), archived, "{sent:?}");
    heard(&mut bob, &room, "hello bob").await;
    say(&mut bob, &room, "hi alice").await;
    heard(&mut alice, &room, "hi alice").await;

    bob.logout().await;
    alice
        .wait_for("bob left", |e| {
            matches!(e, Event::OccupantChanged { change: OccupantChange::Left { nick, .. }, .. }
                if nick == "bob")
        })
        .await;
    for i in 1..=3 {
        say(&mut alice, &room, &format!("while away {i}")).await;
    }

    // A fresh login joins the room again and catches up from its archive.
    bob.login(options(&server, "bob-pw", None)).await;
    let (caught_up, occupants) = settled_in(&mut bob, &room).await;
    assert_eq!(occupants, ["alice", "bob"]);
    let after = bob.settled().await;
    let later: Vec<_> = after
        .iter()
        .filter(|e| matches!(e, Event::RoomMessageAdded { .. }))
        .collect();
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(caught_up, ["while away 1", "while away 2", "while away 3"]);
    assert_eq!(
        room_lines(&bob, &room),
        [
            "hello bob",
            "hi alice",
            "while away 1",
            "while away 2",
            "while away 3"
        ]
    );
    // Alice's lines, each once, all sent.
    let mine: Vec<_> = alice
        .core
        .room_history(alice.account, &room, None, 500)
        .expect("history")
        .into_iter()
        .filter(|m| m.direction == charla_core::Direction::Out)
        .collect();
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert!(mine.iter().all(|m| m.state == MessageState::Sent));
}

both_servers!(lines_said_while_away_come_once_in_order);
