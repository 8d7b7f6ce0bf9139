//! Rich messages through the engine: corrections (XEP-0308), retractions
//! (XEP-0424) and moderation (XEP-0425), reactions (XEP-0444) and replies
//! (XEP-0461), as Conversations, Dino and Gajim send them, with who may do
//! what; and our own acts going out through the outbox.

use charla_store::{ActionChat, ActionKind, Message, NewAction};

use super::muc::{in_room, line, occupant, room_lines, ROOM};
use super::{Harness, BOB, BOUND, OWN};
use crate::event::Event;
use crate::session::engine::Fate;
use crate::session::Command;

const CAROL: &str = "carol@example.net";

fn chat(from: &str, id: &str, body: &str) -> String {
    format!(
        "<message type='chat' from='{from}/phone' to='{BOUND}' id='{id}'>\
           <body>{body}</body><origin-id xmlns='urn:xmpp:sid:0' id='{id}'/></message>"
    )
}

/// A correction as Conversations and Dino send it: a new id, the new text
/// and `<replace/>` naming the original's id.
fn correction(from: &str, id: &str, of: &str, body: &str) -> String {
    format!(
        "<message type='chat' from='{from}/phone' to='{BOUND}' id='{id}'>\
           <body>{body}</body><replace xmlns='urn:xmpp:message-correct:0' id='{of}'/>\
           <origin-id xmlns='urn:xmpp:sid:0' id='{id}'/></message>"
    )
}

fn reaction(from: &str, id: &str, of: &str, emoji: &[&str]) -> String {
    let r: String = emoji
        .iter()
        .map(|e| format!("<reaction>{e}</reaction>"))
        .collect();
    format!(
        "<message type='chat' from='{from}/phone' to='{BOUND}' id='{id}'>\
           <reactions xmlns='urn:xmpp:reactions:0' id='{of}'>{r}</reactions>\
           <store xmlns='urn:xmpp:hints'/></message>"
    )
}

/// The conversation's messages as they show, oldest first.
fn shown(h: &Harness, peer: &str) -> Vec<Message> {
    let mut page = h
        .in_store(|s| {
            let conversation = s.conversation(h.account, peer)?;
            s.history_page(conversation, None, 500)
        })
        .expect("history");
    page.reverse();
    page
}

fn ours(h: &Harness, body: &str, id: &str) -> Message {
    h.in_store(|s| s.insert_outgoing(h.account, BOB, body, id, None))
        .expect("outgoing")
}

fn updated(h: &Harness) -> Vec<String> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::MessageUpdated { message, .. } => Some(message.body.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_correction_replaces_the_text_keeps_the_first_and_is_announced() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&chat(BOB, "m1", "helo"));
    h.receive(&correction(BOB, "m2", "m1", "hello"));
    h.receive(&correction(BOB, "m3", "m1", "hello!"));
    let m = &shown(&h, BOB)[0];
    assert_eq!(
        shown(&h, BOB).len(),
        1,
        "a correction is no message of its own"
    );
    assert_eq!(m.body, "hello!");
    assert!(m.rich.edited);
    assert_eq!(updated(&h), ["hello", "hello!"]);
    let versions = h.in_store(|s| s.message_versions(m.id)).expect("versions");
    assert_eq!(versions, ["helo", "hello"]);
    // The same correction again (a carbon, the archive) changes nothing.
    h.clear();
    h.receive(&correction(BOB, "m3", "m1", "hello!"));
    assert!(updated(&h).is_empty());
}

#[test]
fn only_the_author_corrects_or_retracts_and_a_stranger_changes_nothing() {
    let mut h = Harness::online();
    h.contact(BOB);
    let mine = ours(&h, "mine", "o1");
    // Bob names our message: neither his correction nor his retraction counts.
    h.receive(&correction(BOB, "b1", "o1", "yours now"));
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='b2'>\
           <retract xmlns='urn:xmpp:message-retract:1' id='o1'/></message>"
    ));
    let m = h
        .in_store(|s| s.message(mine.id))
        .expect("read")
        .expect("row");
    assert_eq!(m.body, "mine");
    assert!(!m.rich.edited && !m.rich.retracted);
    // A stranger's act on its own message request is dropped, too.
    h.receive(&chat("spam@evil.example", "s1", "buy"));
    h.receive(&reaction("spam@evil.example", "s2", "s1", &["👍"]));
    assert!(shown(&h, "spam@evil.example")[0].rich.reactions.is_empty());
}

#[test]
fn a_correction_before_its_original_applies_when_the_original_arrives() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&correction(BOB, "m2", "m1", "fixed"));
    assert!(shown(&h, BOB).is_empty());
    h.receive(&chat(BOB, "m1", "broken"));
    let m = &shown(&h, BOB)[0];
    assert_eq!((m.body.as_str(), m.rich.edited), ("fixed", true));
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, Event::MessageAdded { message, .. } if message.body == "fixed")),
        "announced as it shows: {:?}",
        h.events
    );
}

#[test]
fn a_retraction_in_either_form_leaves_a_tombstone() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&chat(BOB, "m1", "oops"));
    h.receive(&chat(BOB, "m2", "also oops"));
    // Gajim and Conversations now: retract:1 with the XEP's fallback body.
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='r1'>\
           <retract xmlns='urn:xmpp:message-retract:1' id='m1'/>\
           <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>\
           <body>This person attempted to retract a previous message, but it's unsupported by your client.</body>\
           <store xmlns='urn:xmpp:hints'/></message>"
    ));
    // Earlier clients: a XEP-0422 fastening.
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='r2'>\
           <apply-to xmlns='urn:xmpp:fasten:0' id='m2'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>\
           <body>/me retracted a message</body></message>"
    ));
    let rows = shown(&h, BOB);
    assert_eq!(rows.len(), 2, "the fallback bodies are no messages");
    for m in rows {
        assert!(m.rich.retracted, "{m:?}");
        assert_eq!(m.body, "");
    }
}

#[test]
fn reactions_replace_the_senders_earlier_ones_and_only_emoji_count() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.contact(CAROL);
    let mine = ours(&h, "dinner?", "o1");
    h.receive(&reaction(BOB, "x1", "o1", &["👍", "😀"]));
    h.receive(&reaction(BOB, "x2", "o1", &["❤️", "lol", "&lt;b&gt;"]));
    let m = h
        .in_store(|s| s.message(mine.id))
        .expect("read")
        .expect("row");
    assert_eq!(m.rich.reactions.len(), 1, "{:?}", m.rich.reactions);
    assert_eq!(m.rich.reactions[0].emoji, "❤️");
    assert_eq!(m.rich.reactions[0].by, [BOB]);
    assert!(!m.rich.reactions[0].ours);
    // 500 emoji: at most the cap is kept.
    let many: Vec<String> = (0..500)
        .map(|i| char::from_u32(0x1F300 + i).unwrap_or('😀').to_string())
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    h.receive(&reaction(BOB, "x3", "o1", &many));
    let m = h
        .in_store(|s| s.message(mine.id))
        .expect("read")
        .expect("row");
    let total: usize = m.rich.reactions.iter().map(|r| r.by.len()).sum();
    assert!(total <= crate::reactions::MAX_PER_SENDER, "{total}");
    // An empty set takes them back.
    h.receive(&reaction(BOB, "x4", "o1", &[]));
    let m = h
        .in_store(|s| s.message(mine.id))
        .expect("read")
        .expect("row");
    assert!(m.rich.reactions.is_empty());
    // Carol's reaction names a message of another chat: nothing here.
    h.receive(&reaction(CAROL, "c1", "o1", &["👎"]));
    let m = h
        .in_store(|s| s.message(mine.id))
        .expect("read")
        .expect("row");
    assert!(m.rich.reactions.is_empty());
}

#[test]
fn a_reply_shows_without_its_fallback_and_quotes_only_this_chat() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.contact(CAROL);
    let mine = ours(&h, "¿vienes mañana?", "o1");
    h.receive(&chat(CAROL, "c1", "secret"));
    // Conversations' shape: the quote, then the answer, the quote marked.
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='m1'>\
           <body>&gt; ¿vienes mañana?\nsí</body>\
           <reply xmlns='urn:xmpp:reply:0' to='{OWN}/desk' id='o1'/>\
           <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='18'/></fallback>\
           <origin-id xmlns='urn:xmpp:sid:0' id='m1'/></message>"
    ));
    // A reply naming carol's message, in bob's chat.
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='m2'>\
           <body>what did she say?</body><reply xmlns='urn:xmpp:reply:0' id='c1'/></message>"
    ));
    let rows = shown(&h, BOB);
    let answer = &rows[1];
    assert_eq!(answer.body, "sí");
    let reply = answer.rich.reply.as_ref().expect("a reply");
    assert_eq!(reply.target, Some(mine.id.0));
    assert_eq!(reply.quote.as_deref(), Some("¿vienes mañana?"));
    let elsewhere = rows[2].rich.reply.as_ref().expect("a reply");
    assert_eq!((elsewhere.target, elsewhere.quote.as_deref()), (None, None));
}

#[test]
fn our_acts_go_out_once_online_and_stop_when_acknowledged() {
    let mut h = Harness::online();
    h.contact(BOB);
    ours(&h, "helo", "o1");
    h.engine.on_command(Command::Flush);
    h.collect();
    h.clear();
    let act = |kind, body: Option<&str>, id: &str| NewAction {
        chat: ActionChat::Chat {
            account: h.account,
            peer: BOB.into(),
        },
        kind,
        target: "o1".into(),
        direction: charla_store::Direction::Out,
        author: OWN.into(),
        author_name: OWN.into(),
        body: body.map(str::to_owned),
        action_id: Some(id.into()),
        moderated: false,
        server_time: None,
        pending: true,
    };
    h.in_store(|s| {
        s.insert_action(&act(ActionKind::Correct, Some("hello"), "a1"))?;
        s.insert_action(&act(ActionKind::React, Some("👍"), "a2"))?;
        s.insert_action(&act(ActionKind::Retract, None, "a3"))
    })
    .expect("acts");
    h.engine.on_command(Command::Flush);
    h.collect();
    let sent: Vec<String> = h.sent_named("message").iter().map(String::from).collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent[0].contains("urn:xmpp:message-correct:0") && sent[0].contains("hello"));
    assert!(sent[1].contains("urn:xmpp:reactions:0") && sent[1].contains("👍"));
    assert!(
        sent[2].contains("urn:xmpp:message-retract:1") && sent[2].contains("urn:xmpp:fasten:0")
    );
    // Not sent twice while on their way.
    h.clear();
    h.engine.on_command(Command::Flush);
    h.collect();
    assert!(h.sent_named("message").is_empty());
    // Acknowledged: done.
    let generation = h.engine.outbox_generation();
    let pending = h
        .in_store(|s| s.pending_actions(h.account))
        .expect("pending");
    let fates = pending
        .iter()
        .map(|a| Fate::Act {
            id: a.id,
            generation,
            ok: true,
        })
        .collect();
    h.engine.on_fates(fates);
    assert!(h
        .in_store(|s| s.pending_actions(h.account))
        .expect("pending")
        .is_empty());
}

/// A line of `nick` in the room doing something to line `of`.
fn room_act(nick: &str, id: &str, payload: &str, body: &str) -> String {
    let body = if body.is_empty() {
        String::new()
    } else {
        format!("<body>{body}</body>")
    };
    format!(
        "<message type='groupchat' from='{ROOM}/{nick}' to='{BOUND}' id='{id}'>{body}{payload}\
           <origin-id xmlns='urn:xmpp:sid:0' id='{id}'/>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='sid-{id}'/></message>"
    )
}

fn room_updates(h: &Harness) -> usize {
    h.events
        .iter()
        .filter(|e| matches!(e, Event::RoomMessageUpdated { .. }))
        .count()
}

#[test]
fn in_a_room_a_nick_alone_proves_nothing_but_the_same_real_jid_does() {
    let mut h = in_room();
    h.receive(&line("bob", "s1", "helo"));
    // A semi-anonymous room: the room vouches for no identity behind bob.
    h.receive(&room_act(
        "bob",
        "c1",
        "<replace xmlns='urn:xmpp:message-correct:0' id='w-s1'/>",
        "hello",
    ));
    h.receive(&room_act(
        "bob",
        "c2",
        "<retract xmlns='urn:xmpp:message-retract:1' id='s1'/>",
        "",
    ));
    let lines = room_lines(&h);
    assert_eq!(lines.len(), 1, "acts are no lines");
    assert_eq!(lines[0].body, "helo");
    assert!(!lines[0].rich.edited && !lines[0].rich.retracted);
    // carol joins where the room shows real JIDs; she corrects her own line
    // by its origin-id and reacts to bob's by the room's stanza-id.
    h.receive(&occupant("carol", "", "").replace(
        "<item affiliation='member' role='participant'/>",
        "<item affiliation='member' role='participant' jid='carol@example.net/laptop'/>",
    ));
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}/carol' to='{BOUND}' id='o-c'>\
           <body>tyop</body><origin-id xmlns='urn:xmpp:sid:0' id='o-c'/>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='s2'/></message>"
    ));
    h.clear();
    h.receive(&room_act(
        "carol",
        "c3",
        "<replace xmlns='urn:xmpp:message-correct:0' id='o-c'/>",
        "typo",
    ));
    h.receive(&room_act(
        "carol",
        "c4",
        "<reactions xmlns='urn:xmpp:reactions:0' id='s1'><reaction>🎉</reaction></reactions>",
        "",
    ));
    let lines = room_lines(&h);
    assert_eq!(lines[1].body, "typo");
    assert!(lines[1].rich.edited);
    assert_eq!(lines[0].rich.reactions[0].emoji, "🎉");
    assert_eq!(lines[0].rich.reactions[0].by, ["carol"]);
    assert_eq!(room_updates(&h), 2);
    // bob, who is not carol, cannot correct her line.
    h.receive(&room_act(
        "bob",
        "c5",
        "<replace xmlns='urn:xmpp:message-correct:0' id='o-c'/>",
        "bob was here",
    ));
    assert_eq!(room_lines(&h)[1].body, "typo");
}

#[test]
fn only_the_room_itself_moderates() {
    let mut h = in_room();
    h.receive(&line("bob", "s1", "spam"));
    h.receive(&line("bob", "s2", "more spam"));
    // An occupant posing as a moderator: not a moderation.
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}/bob' to='{BOUND}' id='f1'>\
           <retract id='s2' xmlns='urn:xmpp:message-retract:1'>\
           <moderated by='{ROOM}/owner' xmlns='urn:xmpp:message-moderate:1'/></retract></message>"
    ));
    // The room, in XEP-0425's current form.
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}' to='{BOUND}' id='m1'>\
           <retract id='s1' xmlns='urn:xmpp:message-retract:1'>\
           <moderated by='{ROOM}/owner' xmlns='urn:xmpp:message-moderate:1'/>\
           <reason>Spam</reason></retract></message>"
    ));
    let lines = room_lines(&h);
    assert!(
        lines[0].rich.retracted && lines[0].rich.moderated,
        "{:?}",
        lines[0]
    );
    assert_eq!(lines[0].body, "");
    assert!(!lines[1].rich.retracted, "{:?}", lines[1]);
    // A room we are not in moderates nothing here.
    h.receive(&format!(
        "<message type='groupchat' from='other@conference.example.org' to='{BOUND}' id='m2'>\
           <retract id='s2' xmlns='urn:xmpp:message-retract:1'>\
           <moderated by='x' xmlns='urn:xmpp:message-moderate:1'/></retract></message>"
    ));
    assert!(!room_lines(&h)[1].rich.retracted);
}

#[test]
fn a_message_sent_unstyled_is_kept_so() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&format!(
        "<message type='chat' from='{BOB}/phone' to='{BOUND}' id='m1'>\
           <body>*not bold*</body><unstyled xmlns='urn:xmpp:styling:0'/></message>"
    ));
    h.receive(&chat(BOB, "m2", "*bold*"));
    let rows = shown(&h, BOB);
    assert!(rows[0].rich.unstyled);
    assert!(!rows[1].rich.unstyled);
    let mut h = in_room();
    h.receive(&format!(
        "<message type='groupchat' from='{ROOM}/bob' to='{BOUND}' id='x'>\
           <body>_as is_</body><unstyled xmlns='urn:xmpp:styling:0'/>\
           <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='s9'/></message>"
    ));
    assert!(room_lines(&h)[0].rich.unstyled);
}
