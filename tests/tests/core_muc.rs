//! Group chats (XEP-0045) against real servers: a taken nick is answered
//! with a suggestion; a room is joined and settled only after its own
//! archive (XEP-0313 on the room) is caught up;
//! our line's reflection marks our outbox row sent; and lines said while
//! an occupant was away reach it exactly once and in order when it comes
//! back, from the room's archive. A kick is told and not undone by a
//! rejoin, and lines or subjects from anyone but the room are dropped.
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

use charla_core::{Event, MessageState, OccupantChange, RoomExit, RoomMessage};
use charla_tests::{both_servers, options, Device, Flavor, RawClient, Server, XmppServer};

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
            e @ (Event::RoomNickTaken { .. }
            | Event::RoomPasswordRequired { .. }
            | Event::RoomLeft { .. }) => panic!("not joined: {e:?}"),
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
    // alice's nick is taken: a suggestion, not an error.
    bob.core
        .join_room(bob.account, &room, "alice", None)
        .await
        .expect("join");
    match bob
        .wait_for("the nick taken", |e| {
            matches!(e, Event::RoomNickTaken { .. } | Event::RoomJoined { .. })
        })
        .await
    {
        Event::RoomNickTaken {
            nick, suggested, ..
        } => assert_eq!((nick.as_str(), suggested.as_str()), ("alice", "alice_")),
        other => panic!("{other:?}"),
    }
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

/// carol (a raw client) creates `room` and takes its default configuration.
async fn create_room(carol: &mut RawClient, room: &str) {
    carol
        .send(&format!(
            "<presence to='{room}/carol'><x xmlns='http://jabber.org/protocol/muc'>\
               <history maxstanzas='0'/></x></presence>"
        ))
        .await;
    carol.read_until("code='110'").await;
    carol
        .send(&format!(
            "<iq type='set' to='{room}' id='config1'>\
               <query xmlns='http://jabber.org/protocol/muc#owner'>\
               <x xmlns='jabber:x:data' type='submit'/></query></iq>"
        ))
        .await;
    carol.read_until("config1").await;
}

async fn a_kick_is_told_and_not_undone_and_forgeries_are_dropped(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("bob", "bob-pw")
        .user("carol", "carol-pw")
        .user("mallory", "mallory-pw")
        .start()
        .await
        .expect("server");
    let room = format!(
        "{}@conference.{}",
        server.localpart("team"),
        server.domain()
    );
    let mut carol = RawClient::login(&server, "carol", "carol-pw", WAIT).await;
    create_room(&mut carol, &room).await;
    let mut bob = Device::new(&server, "bob", WAIT);
    let bob_full = bob.login(options(&server, "bob-pw", None)).await;
    let (_, occupants) = join(&mut bob, &room, "bob").await;
    assert_eq!(occupants, ["bob", "carol"]);

    // Someone who is not the room: a "groupchat" line and a subject from
    // their own address reach bob's device (servers deliver groupchat to a
    // full JID only), and are dropped.
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    mallory
        .send(&format!(
            "<message type='groupchat' to='{bob_full}'><body>I am the room</body></message>\
             <message type='groupchat' to='{bob_full}'><subject>forged</subject></message>"
        ))
        .await;
    mallory.settled().await;
    let seen = bob.settled().await;
    assert!(
        !seen.iter().any(|e| matches!(
            e,
            Event::RoomMessageAdded { .. } | Event::RoomSubject { .. } | Event::MessageAdded { .. }
        )),
        "{seen:?}"
    );

    carol
        .send(&format!(
            "<iq type='set' to='{room}' id='kick1'>\
               <query xmlns='http://jabber.org/protocol/muc#admin'>\
               <item nick='bob' role='none'><reason>enough</reason></item></query></iq>"
        ))
        .await;
    carol.read_until("kick1").await;
    match bob
        .wait_for("kicked", |e| matches!(e, Event::RoomLeft { .. }))
        .await
    {
        Event::RoomLeft {
            reason: RoomExit::Kicked { reason },
            ..
        } => assert_eq!(reason.as_deref(), Some("enough")),
        other => panic!("{other:?}"),
    }
    // Not joined again by itself, not even at the next login.
    bob.logout().await;
    bob.login(options(&server, "bob-pw", None)).await;
    let seen = bob.settled().await;
    assert!(
        !seen.iter().any(|e| matches!(e, Event::RoomJoined { .. })),
        "{seen:?}"
    );
    let kept = bob.core.rooms(bob.account).expect("rooms");
    assert!(kept.iter().all(|r| !r.autojoin), "{kept:?}");
}

both_servers!(a_kick_is_told_and_not_undone_and_forgeries_are_dropped);

/// The features a room announces (disco#info to the room, as `user` asks).
async fn room_features(server: &Server, user: &str, room: &str) -> String {
    let mut raw = RawClient::login(server, user, &format!("{user}-pw"), WAIT).await;
    raw.send(&format!(
        "<iq type='get' to='{room}' id='features'>\
           <query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    ))
    .await;
    raw.read_until("id='features'").await
}

async fn a_private_group_is_members_only_and_a_channel_is_open(flavor: Flavor) {
    let server = pair(flavor).await;
    let room = |name: &str| format!("{}@conference.{}", server.localpart(name), server.domain());
    let (family, football) = (room("family"), room("football"));
    let mut alice = Device::online(&server, "alice", WAIT).await;
    let preset = |kind, name: &str| charla_core::RoomPreset {
        kind,
        name: name.into(),
        description: Some("for tests".into()),
    };
    for (jid, kind, name) in [
        (&family, charla_core::RoomKind::PrivateGroup, "Family"),
        (
            &football,
            charla_core::RoomKind::PublicChannel,
            "Friday football",
        ),
    ] {
        alice
            .core
            .create_room(alice.account, jid, "alice", preset(kind, name))
            .await
            .expect("create");
        settled_in(&mut alice, jid).await;
    }
    // Configured before anyone else came: alice's settle waits for the
    // answers to what she sent before it.
    alice.settled().await;
    let private = room_features(&server, "bob", &family).await;
    for feature in ["muc_membersonly", "muc_nonanonymous", "muc_persistent"] {
        assert!(private.contains(feature), "{feature}: {private}");
    }
    let open = room_features(&server, "bob", &football).await;
    for feature in [
        "muc_open",
        "muc_semianonymous",
        "muc_persistent",
        "muc_public",
    ] {
        assert!(open.contains(feature), "{feature}: {open}");
    }
    // A stranger cannot walk into the family group; anyone may join the channel.
    let mut bob = Device::online(&server, "bob", WAIT).await;
    bob.core
        .join_room(bob.account, &family, "bob", None)
        .await
        .expect("join");
    match bob
        .wait_for("refused", |e| {
            matches!(e, Event::RoomLeft { .. } | Event::RoomJoined { .. })
        })
        .await
    {
        Event::RoomLeft {
            reason: RoomExit::Refused { .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    join(&mut bob, &football, "bob").await;
    assert_eq!(
        alice
            .core
            .rooms(alice.account)
            .expect("rooms")
            .iter()
            .map(|r| r.name.as_deref())
            .collect::<Vec<_>>(),
        [Some("Family"), Some("Friday football")]
    );
}

both_servers!(a_private_group_is_members_only_and_a_channel_is_open);

/// alice creates the family group and invites bob through the room: bob,
/// her contact, gets an offer (nothing joined by itself), and accepting it
/// gets him into the members-only room; mallory, a stranger, is told apart.
async fn an_invitation_lets_a_contact_into_the_private_group(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("mallory", "mallory-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server");
    let family = format!(
        "{}@conference.{}",
        server.localpart("family"),
        server.domain()
    );
    let mut alice = Device::online(&server, "alice", WAIT).await;
    alice
        .core
        .create_room(
            alice.account,
            &family,
            "alice",
            charla_core::RoomPreset {
                kind: charla_core::RoomKind::PrivateGroup,
                name: "Family".into(),
                description: None,
            },
        )
        .await
        .expect("create");
    settled_in(&mut alice, &family).await;
    let mut bob = Device::online(&server, "bob", WAIT).await;
    // An invitation to someone not yet available may not be kept for them
    // (ejabberd keeps none without a body): bob's presence first.
    alice.presence_of(&server.jid("bob"), |p| p.is_some()).await;
    alice
        .core
        .invite(
            alice.account,
            &family,
            &server.jid("bob"),
            Some("Sunday lunch"),
        )
        .await
        .expect("invite");
    match bob
        .wait_for("the invitation", |e| matches!(e, Event::RoomInvite { .. }))
        .await
    {
        Event::RoomInvite {
            room,
            from,
            reason,
            stranger,
            ..
        } => {
            assert_eq!(room, family);
            assert_eq!(from, server.jid("alice"));
            assert_eq!(reason.as_deref(), Some("Sunday lunch"));
            assert!(!stranger);
        }
        _ => unreachable!(),
    }
    let seen = bob.settled().await;
    assert!(
        !seen.iter().any(|e| matches!(e, Event::RoomJoined { .. })),
        "never joined by itself: {seen:?}"
    );
    // Accepting: the invitation made him a member.
    join(&mut bob, &family, "bob").await;

    // A stranger's invitation is told as one.
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let bob_jid = server.jid("bob");
    mallory
        .send(&format!(
            "<message to='{bob_jid}'><x xmlns='jabber:x:conference' jid='{}'/></message>",
            format_args!("trap@conference.{}", server.domain())
        ))
        .await;
    match bob
        .wait_for("the stranger's invitation", |e| {
            matches!(e, Event::RoomInvite { .. })
        })
        .await
    {
        Event::RoomInvite { stranger, .. } => assert!(stranger),
        _ => unreachable!(),
    }
}

both_servers!(an_invitation_lets_a_contact_into_the_private_group);

/// The group chat service is found by disco and lists the public channel;
/// the room tells what it is; private messages go both ways through the
/// room, marked private; its owner sets the subject, renames it, gives
/// and takes voice, makes bob a member, kicks him and bans him. bob, only a
/// participant, is refused each owner action with `forbidden`.
async fn an_owner_runs_the_room_and_others_are_refused(flavor: Flavor) {
    use charla_core::{Affiliation, ErrorCode, Role, RoomKind, RoomPreset, RoomSettings};
    let server = pair(flavor).await;
    let service = format!("conference.{}", server.domain());
    let football = format!("{}@{service}", server.localpart("football"));
    let mut alice = Device::online(&server, "alice", WAIT).await;
    let preset = RoomPreset {
        kind: RoomKind::PublicChannel,
        name: "Friday football".into(),
        description: Some("Five-a-side".into()),
    };
    alice
        .core
        .create_room(alice.account, &football, "alice", preset)
        .await
        .expect("create");
    settled_in(&mut alice, &football).await;
    alice.settled().await;

    let services = alice
        .core
        .room_services(alice.account)
        .await
        .expect("services");
    assert_eq!(services, std::slice::from_ref(&service));
    let listed = alice
        .core
        .public_rooms(alice.account, &service)
        .await
        .expect("public rooms");
    let entry = listed
        .iter()
        .find(|r| r.jid == football)
        .unwrap_or_else(|| panic!("{football} listed: {listed:?}"));
    // ejabberd adds the occupant count to the name: "Friday football (1)".
    assert!(
        entry
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("Friday football")),
        "{entry:?}"
    );
    let info = alice
        .core
        .room_info(alice.account, &football)
        .await
        .expect("info");
    assert_eq!(info.name.as_deref(), Some("Friday football"));
    assert!(
        info.public && info.persistent && !info.members_only,
        "{info:?}"
    );
    let not_a_room = alice
        .core
        .room_info(alice.account, &format!("nobody-made-this@{service}"))
        .await
        .expect_err("no such room");
    assert_eq!(not_a_room.code, ErrorCode::NotFound, "{not_a_room:?}");

    let mut bob = Device::online(&server, "bob", WAIT).await;
    join(&mut bob, &football, "bob").await;
    // A private message each way, through the room: kept with the room and
    // marked private on both sides, ours sent once the server has it.
    let ours = alice
        .core
        .send_room_private(alice.account, &football, "bob", "just between us")
        .await
        .expect("private");
    assert_eq!(ours.private_with.as_deref(), Some("bob"));
    alice
        .wait_for("our private message sent", |e| {
            matches!(e, Event::RoomMessageUpdated { message, .. }
                if message.id == ours.id && message.state == MessageState::Sent)
        })
        .await;
    match bob
        .wait_for("alice's private message", |e| {
            matches!(e, Event::RoomMessageAdded { message, .. } if message.body == "just between us")
        })
        .await
    {
        Event::RoomMessageAdded { message, .. } => {
            assert_eq!(message.private_with.as_deref(), Some("alice"));
            assert_eq!(message.room, football);
        }
        _ => unreachable!(),
    }
    bob.core
        .send_room_private(bob.account, &football, "alice", "ok")
        .await
        .expect("reply");
    alice
        .wait_for("bob's private reply", |e| {
            matches!(e, Event::RoomMessageAdded { message, .. }
                if message.body == "ok" && message.private_with.as_deref() == Some("bob"))
        })
        .await;
    // The subject, set by the owner, reaches bob.
    alice
        .core
        .set_room_subject(alice.account, &football, "Kick-off at 7")
        .await
        .expect("subject");
    bob.wait_for(
        "the new subject",
        |e| matches!(e, Event::RoomSubject { subject: Some(s), .. } if s == "Kick-off at 7"),
    )
    .await;

    // bob is only a participant: every owner action is refused.
    let refused = bob
        .core
        .room_settings(bob.account, &football)
        .await
        .expect_err("not an owner");
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused:?}");
    let refused = bob
        .core
        .set_occupant_role(bob.account, &football, "alice", Role::None, None)
        .await
        .expect_err("not a moderator");
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused:?}");
    let refused = bob
        .core
        .set_affiliation(
            bob.account,
            &football,
            &server.jid("bob"),
            Affiliation::Owner,
            None,
        )
        .await
        .expect_err("not an owner");
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused:?}");

    // The owner renames it and describes it; the room says so.
    let settings = alice
        .core
        .room_settings(alice.account, &football)
        .await
        .expect("settings");
    assert_eq!(settings.name, "Friday football");
    assert!(!settings.members_only);
    alice
        .core
        .set_room_settings(
            alice.account,
            &football,
            &RoomSettings {
                name: "Football".into(),
                description: "Fridays at 7".into(),
                members_only: false,
            },
        )
        .await
        .expect("configured");
    let info = alice
        .core
        .room_info(alice.account, &football)
        .await
        .expect("info");
    assert_eq!(info.name.as_deref(), Some("Football"), "{info:?}");
    let kept = alice.core.rooms(alice.account).expect("rooms");
    assert_eq!(
        kept[0].name.as_deref(),
        Some("Football"),
        "the kept name follows"
    );
    assert_eq!(
        alice
            .core
            .room_settings(alice.account, &football)
            .await
            .expect("settings")
            .description,
        "Fridays at 7"
    );

    // Voice taken and given back: bob sees his own role change.
    let own_role = |role: Role| {
        move |e: &Event| {
            matches!(e, Event::OccupantChanged {
                change: OccupantChange::Changed { occupant, .. }, ..
            } if occupant.nick == "bob" && occupant.role == role)
        }
    };
    alice
        .core
        .set_occupant_role(alice.account, &football, "bob", Role::Visitor, None)
        .await
        .expect("voice taken");
    bob.wait_for("muted", own_role(Role::Visitor)).await;
    alice
        .core
        .set_occupant_role(alice.account, &football, "bob", Role::Participant, None)
        .await
        .expect("voice given");
    bob.wait_for("voiced", own_role(Role::Participant)).await;

    // A member, listed as one.
    alice
        .core
        .set_affiliation(
            alice.account,
            &football,
            &server.jid("bob"),
            Affiliation::Member,
            None,
        )
        .await
        .expect("member");
    let members = alice
        .core
        .affiliations(alice.account, &football, Affiliation::Member)
        .await
        .expect("members");
    assert_eq!(
        members.iter().map(|m| m.jid.as_str()).collect::<Vec<_>>(),
        [server.jid("bob")]
    );

    // Kicked: told to bob with the reason, and to alice as a system line.
    alice
        .core
        .set_occupant_role(
            alice.account,
            &football,
            "bob",
            Role::None,
            Some("time out"),
        )
        .await
        .expect("kicked");
    match bob
        .wait_for("kicked", |e| matches!(e, Event::RoomLeft { .. }))
        .await
    {
        Event::RoomLeft {
            reason: RoomExit::Kicked { reason },
            ..
        } => assert_eq!(reason.as_deref(), Some("time out")),
        other => panic!("{other:?}"),
    }
    alice
        .wait_for("bob's kick", |e| {
            matches!(e, Event::OccupantChanged {
                change: OccupantChange::Left { nick, reason: Some(RoomExit::Kicked { .. }) }, ..
            } if nick == "bob")
        })
        .await;

    // Banned, with the reason on the list.
    alice
        .core
        .set_affiliation(
            alice.account,
            &football,
            &server.jid("bob"),
            Affiliation::Outcast,
            Some("rough play"),
        )
        .await
        .expect("banned");
    let banned = alice
        .core
        .affiliations(alice.account, &football, Affiliation::Outcast)
        .await
        .expect("bans");
    assert_eq!(banned.len(), 1, "{banned:?}");
    assert_eq!(banned[0].jid, server.jid("bob"));
}

both_servers!(an_owner_runs_the_room_and_others_are_refused);
