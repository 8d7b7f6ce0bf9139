//! Rich messages against real servers (each test runs on Prosody and on
//! ejabberd): corrections (XEP-0308), reactions (XEP-0444), replies
//! (XEP-0461) and retractions (XEP-0424) go both ways in a chat, reach our
//! other device through carbons (XEP-0280), and reach a device that was
//! away through the archive (XEP-0313); in a private group (non-anonymous,
//! so the room vouches for each author's real JID) they go through the
//! room and its archive too.

use std::time::Duration;

use charla_core::{Event, Message, MessageRef, RoomMessage};
use charla_tests::{both_servers, options, Device, Flavor, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

async fn server(flavor: Flavor) -> Server {
    Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server")
}

async fn online(server: &Server, user: &str) -> Device {
    let mut d = Device::new(server, user, WAIT);
    d.login(options(server, &format!("{user}-pw"), None)).await;
    d.wait_for("roster", |e| matches!(e, Event::RosterLoaded { .. }))
        .await;
    d
}

/// The first reaction's emoji and who made it.
fn reacted(m: &Message) -> Option<(String, Vec<String>, bool)> {
    m.rich
        .reactions
        .first()
        .map(|r| (r.emoji.clone(), r.by.clone(), r.ours))
}

async fn a_chat_carries_edits_reactions_replies_and_deletions(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_jid, bob_jid) = (server.jid("alice"), server.jid("bob"));
    let mut laptop = online(&server, "alice").await;
    let mut phone = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;

    // bob writes, then corrects himself.
    let sent = bob
        .core
        .send_message(bob.account, &alice_jid, "helo")
        .await
        .expect("send");
    let on_laptop = laptop
        .added_where("bob's message", |m| m.body == "helo")
        .await;
    phone
        .added_where("bob's message", |m| m.body == "helo")
        .await;
    bob.core
        .edit_message(bob.account, MessageRef::Chat(sent.id), "hello")
        .await
        .expect("edit");
    for device in [&mut laptop, &mut phone] {
        let m = device
            .updated_where("the correction", |m| m.body == "hello")
            .await;
        assert!(m.rich.edited);
    }
    assert_eq!(
        laptop
            .core
            .message_versions(laptop.account, MessageRef::Chat(on_laptop.id))
            .expect("versions"),
        ["helo"]
    );
    // alice may not edit bob's message.
    let refused = laptop
        .core
        .edit_message(laptop.account, MessageRef::Chat(on_laptop.id), "mine now")
        .await
        .expect_err("not ours");
    assert_eq!(refused.code, charla_core::ErrorCode::InvalidInput);

    // alice reacts on her laptop: bob sees it, and so does her phone, as hers.
    laptop
        .core
        .react(
            laptop.account,
            MessageRef::Chat(on_laptop.id),
            vec!["👍".into()],
        )
        .await
        .expect("react");
    let m = bob
        .updated_where("alice's reaction", |m| {
            m.id == sent.id && !m.rich.reactions.is_empty()
        })
        .await;
    assert_eq!(
        reacted(&m),
        Some(("👍".into(), vec![alice_jid.clone()], false))
    );
    let m = phone
        .updated_where("our reaction, from the laptop", |m| {
            !m.rich.reactions.is_empty()
        })
        .await;
    assert_eq!(
        reacted(&m),
        Some(("👍".into(), vec![alice_jid.clone()], true))
    );

    // alice answers bob's message: bob sees the reply without its quote,
    // pointing at his message.
    laptop
        .core
        .send_reply(laptop.account, &bob_jid, "yes", on_laptop.id)
        .await
        .expect("reply");
    let answer = bob.added_where("alice's reply", |m| m.body == "yes").await;
    let reply = answer.rich.reply.expect("a reply");
    assert_eq!(reply.target, Some(sent.id.0));
    assert_eq!(reply.quote.as_deref(), Some("hello"));
    let copy = phone
        .added_where("our reply, from the laptop", |m| m.body == "yes")
        .await;
    assert!(copy.rich.reply.is_some_and(|r| r.target.is_some()));

    // alice takes a message back: a tombstone on bob's side and her phone's.
    let oops = laptop
        .core
        .send_message(laptop.account, &bob_jid, "wrong chat, sorry")
        .await
        .expect("send");
    let bobs_copy = bob
        .added_where("the message taken back", |m| m.body == "wrong chat, sorry")
        .await;
    phone
        .added_where("the message taken back", |m| m.body == "wrong chat, sorry")
        .await;
    laptop
        .core
        .retract_message(laptop.account, MessageRef::Chat(oops.id))
        .await
        .expect("retract");
    let gone = bob
        .updated_where("the retraction", |m| {
            m.id == bobs_copy.id && m.rich.retracted
        })
        .await;
    assert_eq!(gone.body, "");
    phone
        .updated_where("the retraction, on our phone", |m| m.rich.retracted)
        .await;
}

both_servers!(a_chat_carries_edits_reactions_replies_and_deletions);

/// bob is away while alice edits and reacts; back, his catch-up from the
/// archive brings both, applied to the messages he has.
async fn acts_made_while_away_come_from_the_archive(flavor: Flavor) {
    let server = server(flavor).await;
    let (alice_jid, bob_jid) = (server.jid("alice"), server.jid("bob"));
    let mut alice = online(&server, "alice").await;
    let mut bob = online(&server, "bob").await;
    let mine = alice
        .core
        .send_message(alice.account, &bob_jid, "see you at 5")
        .await
        .expect("send");
    bob.added_where("alice's message", |m| m.body == "see you at 5")
        .await;
    let his = bob
        .core
        .send_message(bob.account, &alice_jid, "ok")
        .await
        .expect("send");
    let his_here = alice.added_where("bob's answer", |m| m.body == "ok").await;
    bob.settled().await;
    bob.logout().await;

    alice
        .core
        .edit_message(alice.account, MessageRef::Chat(mine.id), "see you at 6")
        .await
        .expect("edit");
    alice
        .core
        .react(
            alice.account,
            MessageRef::Chat(his_here.id),
            vec!["❤️".into()],
        )
        .await
        .expect("react");
    alice.settled().await;

    bob.login(options(&server, "bob-pw", None)).await;
    bob.caught_up().await;
    let history = bob.history(&alice_jid);
    let edited = history
        .iter()
        .find(|m| m.body == "see you at 6")
        .unwrap_or_else(|| panic!("the correction applied: {history:?}"));
    assert!(edited.rich.edited);
    assert_eq!(history.len(), 2, "acts are no messages: {history:?}");
    let ok = history
        .iter()
        .find(|m| m.id == his.id)
        .expect("his message");
    assert_eq!(
        reacted(ok),
        Some(("❤️".into(), vec![alice_jid.clone()], false))
    );
}

both_servers!(acts_made_while_away_come_from_the_archive);

/// Joins `room` as `nick`, waiting until the room is settled.
async fn join(device: &mut Device, room: &str, nick: &str) {
    device
        .core
        .join_room(device.account, room, nick, None)
        .await
        .expect("join");
    device
        .wait_for(
            "joined",
            |e| matches!(e, Event::RoomJoined { room: r, .. } if r == room),
        )
        .await;
}

async fn line_added(
    device: &mut Device,
    what: &str,
    pred: impl Fn(&RoomMessage) -> bool,
) -> RoomMessage {
    match device
        .wait_for(
            what,
            |e| matches!(e, Event::RoomMessageAdded { message, .. } if pred(message)),
        )
        .await
    {
        Event::RoomMessageAdded { message, .. } => *message,
        _ => unreachable!(),
    }
}

async fn line_updated(
    device: &mut Device,
    what: &str,
    pred: impl Fn(&RoomMessage) -> bool,
) -> RoomMessage {
    match device
        .wait_for(
            what,
            |e| matches!(e, Event::RoomMessageUpdated { message, .. } if pred(message)),
        )
        .await
    {
        Event::RoomMessageUpdated { message, .. } => *message,
        _ => unreachable!(),
    }
}

/// alice's new private group "Family" (she is its owner), with bob in it
/// through her invitation; answers its JID, alice and bob.
async fn family_with_bob(server: &Server) -> (String, Device, Device) {
    let family = format!(
        "{}@conference.{}",
        server.localpart("family"),
        server.domain()
    );
    let mut alice = online(server, "alice").await;
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
    alice
        .wait_for("created", |e| matches!(e, Event::RoomJoined { .. }))
        .await;
    // Settled once configured (members only): the invitation finds it ready.
    let mut bob = online(server, "bob").await;
    // An invitation to someone not yet available may not be kept for them
    // (ejabberd keeps none without a body): bob's presence first.
    alice.presence_of(&server.jid("bob"), |p| p.is_some()).await;
    alice
        .core
        .invite(alice.account, &family, &server.jid("bob"), None)
        .await
        .expect("invite");
    // The invitation, once it has reached him, made him a member.
    bob.wait_for("the invitation", |e| matches!(e, Event::RoomInvite { .. }))
        .await;
    join(&mut bob, &family, "bob").await;
    (family, alice, bob)
}

/// In a private group: bob corrects his line (the room vouches for his
/// real JID), alice reacts to it and answers it, and takes hers back; each
/// reaches the other through the room, and alice's phone (in the group
/// through her bookmarks) sees bob's correction and her own acts as hers.
async fn a_private_group_carries_edits_reactions_replies_and_deletions(flavor: Flavor) {
    let server = server(flavor).await;
    let (family, mut alice, mut bob) = family_with_bob(&server).await;
    // alice's phone: her bookmarks bring it into the group.
    let mut phone = online(&server, "alice").await;
    phone
        .wait_for(
            "the phone in the group",
            |e| matches!(e, Event::RoomJoined { room, .. } if *room == family),
        )
        .await;

    // bob's line, corrected.
    bob.core
        .send_room_message(bob.account, &family, "dinner at 8?")
        .await
        .expect("say");
    let at_alice = line_added(&mut alice, "bob's line", |m| m.body == "dinner at 8?").await;
    let his = line_updated(&mut bob, "bob's line reflected", |m| {
        m.body == "dinner at 8?"
    })
    .await;
    bob.core
        .edit_message(bob.account, MessageRef::Room(his.id), "dinner at 9?")
        .await
        .expect("edit");
    let m = line_updated(&mut alice, "the correction", |m| {
        m.id == at_alice.id && m.body == "dinner at 9?"
    })
    .await;
    assert!(m.rich.edited);
    let on_phone = line_updated(&mut phone, "the correction, on the phone", |m| {
        m.body == "dinner at 9?" && m.rich.edited
    })
    .await;
    alice
        .core
        .react(
            alice.account,
            MessageRef::Room(at_alice.id),
            vec!["🎉".into()],
        )
        .await
        .expect("react");
    let m = line_updated(&mut bob, "alice's reaction", |m| {
        m.id == his.id && !m.rich.reactions.is_empty()
    })
    .await;
    assert_eq!(m.rich.reactions[0].by, ["alice"]);
    let m = line_updated(&mut phone, "our reaction, on the phone", |m| {
        m.id == on_phone.id && !m.rich.reactions.is_empty()
    })
    .await;
    assert!(m.rich.reactions[0].ours);
    alice
        .core
        .send_room_reply(alice.account, &family, "yes!", at_alice.id)
        .await
        .expect("reply");
    let answer = line_added(&mut bob, "alice's reply", |m| m.body == "yes!").await;
    assert_eq!(answer.rich.reply.and_then(|r| r.target), Some(his.id.0));

    // alice takes a line back.
    let oops = alice
        .core
        .send_room_message(alice.account, &family, "oops")
        .await
        .expect("say");
    let bobs = line_added(&mut bob, "alice's line", |m| m.body == "oops").await;
    line_updated(&mut alice, "reflected", |m| {
        m.id == oops.id && m.state == charla_core::MessageState::Sent
    })
    .await;
    alice
        .core
        .retract_message(alice.account, MessageRef::Room(oops.id))
        .await
        .expect("retract");
    line_updated(&mut bob, "the retraction", |m| {
        m.id == bobs.id && m.rich.retracted
    })
    .await;
    line_updated(&mut phone, "the retraction, on the phone", |m| {
        m.rich.retracted
    })
    .await;
}

both_servers!(a_private_group_carries_edits_reactions_replies_and_deletions);

/// Acts that name someone else's message change nothing: bob (a contact,
/// from a raw client) "corrects", "retracts" and "moderates" alice's
/// message; mallory (a stranger) does the same and reacts to it. Each is
/// followed by a plain message from the same sender, which arrives after
/// it (a stream delivers in order): then alice's message is as she wrote it.
async fn forged_acts_change_nothing(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("mallory", "mallory-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("server");
    let alice_jid = server.jid("alice");
    let mut alice = online(&server, "alice").await;
    let mine = alice
        .core
        .send_message(alice.account, &server.jid("bob"), "my words")
        .await
        .expect("send");
    let id = mine.origin_id.clone().expect("origin-id");
    let mut bob = charla_tests::RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    let mut mallory = charla_tests::RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    for (raw, who) in [(&mut bob, "bob"), (&mut mallory, "mallory")] {
        // A contact may react to anything in the chat; a stranger's
        // reaction names nothing of alice's chat with bob.
        let reaction = if who == "mallory" {
            format!(
                "<message type='chat' to='{alice_jid}' id='{who}-4'>\
                 <reactions xmlns='urn:xmpp:reactions:0' id='{id}'><reaction>💩</reaction></reactions></message>"
            )
        } else {
            String::new()
        };
        raw.send(&format!(
            "<message type='chat' to='{alice_jid}' id='{who}-1'><body>not yours</body>\
             <replace xmlns='urn:xmpp:message-correct:0' id='{id}'/></message>\
             <message type='chat' to='{alice_jid}' id='{who}-2'>\
             <retract xmlns='urn:xmpp:message-retract:1' id='{id}'/></message>\
             <message type='chat' to='{alice_jid}' id='{who}-3'>\
             <retract xmlns='urn:xmpp:message-retract:1' id='{id}'>\
             <moderated xmlns='urn:xmpp:message-moderate:1' by='x'/></retract></message>\
             {reaction}<message type='chat' to='{alice_jid}' id='{who}-5'><body>{who} is done</body></message>"
        ))
        .await;
        alice
            .added_where("the message after the forgeries", |m| {
                m.body == format!("{who} is done")
            })
            .await;
    }
    let m = alice
        .core
        .history(alice.account, &server.jid("bob"), None, 10)
        .expect("history")
        .into_iter()
        .find(|m| m.id == mine.id)
        .expect("alice's message");
    assert_eq!(m.body, "my words");
    assert!(
        !m.rich.edited && !m.rich.retracted && m.rich.reactions.is_empty(),
        "{m:?}"
    );
}

both_servers!(forged_acts_change_nothing);

/// alice, owner (so moderator) of a private group, deletes bob's line for
/// everyone (XEP-0425), in the version the room advertises. Prosody, with
/// `mod_muc_moderation` (prosody-modules, version 0.2 of the XEP: a
/// fastening), retracts it for everyone, bob included, and bob, only a
/// participant, is refused. ejabberd 23.01 advertises no moderation: the
/// window offers none and the core says `unsupported`.
async fn a_moderator_deletes_a_line_for_everyone(flavor: Flavor) {
    let server = server(flavor).await;
    let (family, mut alice, mut bob) = family_with_bob(&server).await;
    bob.core
        .send_room_message(bob.account, &family, "buy cheap watches")
        .await
        .expect("say");
    let spam = line_added(&mut alice, "bob's line", |m| m.body == "buy cheap watches").await;
    let his = line_updated(&mut bob, "reflected", |m| m.body == "buy cheap watches").await;
    let info = alice
        .core
        .room_info(alice.account, &family)
        .await
        .expect("info");
    match flavor {
        Flavor::Prosody => {
            assert!(info.moderation, "{info:?}");
            // bob is no moderator.
            let refused = bob
                .core
                .moderate_line(bob.account, his.id, None)
                .await
                .expect_err("not a moderator");
            assert_eq!(
                refused.code,
                charla_core::ErrorCode::Forbidden,
                "{refused:?}"
            );
            alice
                .core
                .moderate_line(alice.account, spam.id, Some("spam"))
                .await
                .expect("moderate");
            let gone = line_updated(&mut bob, "the moderation", |m| {
                m.id == his.id && m.rich.retracted
            })
            .await;
            assert!(gone.rich.moderated);
            assert_eq!(gone.body, "");
            line_updated(&mut alice, "the moderation, here too", |m| {
                m.id == spam.id && m.rich.moderated
            })
            .await;
        }
        Flavor::Ejabberd => {
            assert!(!info.moderation, "{info:?}");
            let refused = alice
                .core
                .moderate_line(alice.account, spam.id, None)
                .await
                .expect_err("no moderation");
            assert_eq!(refused.code, charla_core::ErrorCode::Unsupported);
        }
    }
}

both_servers!(a_moderator_deletes_a_line_for_everyone);

/// bob is away from the private group while alice corrects her line and
/// reacts to his; back, the room's catch-up (XEP-0313 on the room) brings
/// both.
async fn a_rooms_archive_brings_acts_made_while_away(flavor: Flavor) {
    let server = server(flavor).await;
    let (family, mut alice, mut bob) = family_with_bob(&server).await;
    bob.core
        .send_room_message(bob.account, &family, "who brings the cake?")
        .await
        .expect("say");
    let his = line_added(&mut alice, "bob's line", |m| {
        m.body == "who brings the cake?"
    })
    .await;
    let mine = alice
        .core
        .send_room_message(alice.account, &family, "I do, at 5")
        .await
        .expect("say");
    line_added(&mut bob, "alice's line", |m| m.body == "I do, at 5").await;
    line_updated(&mut alice, "reflected", |m| {
        m.id == mine.id && m.state == charla_core::MessageState::Sent
    })
    .await;
    bob.settled().await;
    bob.logout().await;

    alice
        .core
        .edit_message(alice.account, MessageRef::Room(mine.id), "I do, at 6")
        .await
        .expect("edit");
    alice
        .core
        .react(alice.account, MessageRef::Room(his.id), vec!["🎂".into()])
        .await
        .expect("react");
    line_updated(&mut alice, "our reaction reflected", |m| {
        m.id == his.id && !m.rich.reactions.is_empty()
    })
    .await;
    alice.settled().await;

    bob.login(options(&server, "bob-pw", None)).await;
    bob.wait_for(
        "back in the group",
        |e| matches!(e, Event::RoomJoined { room, .. } if *room == family),
    )
    .await;
    let lines = bob
        .core
        .room_history(bob.account, &family, None, 50)
        .expect("history");
    let edited = lines
        .iter()
        .find(|m| m.body == "I do, at 6")
        .unwrap_or_else(|| panic!("the correction applied: {lines:?}"));
    assert!(edited.rich.edited);
    let cake = lines
        .iter()
        .find(|m| m.body == "who brings the cake?")
        .expect("his line");
    assert_eq!(
        cake.rich.reactions.first().map(|r| r.emoji.as_str()),
        Some("🎂"),
        "{cake:?}"
    );
}

both_servers!(a_rooms_archive_brings_acts_made_while_away);
