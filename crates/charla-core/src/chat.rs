//! One-to-one `chat` messages (RFC 6121 §5) with unique ids (XEP-0359:
//! origin-id on what we send, stanza-id from our server on what we get) and
//! delayed-delivery stamps (XEP-0203) for offline messages.

use xmpp_parsers::delay::Delay;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_id::OriginId;

use charla_store::Direction;

use crate::receipts::{self, Ack};

/// Largest body Charla stores (bytes). Prosody's default stanza limit is
/// 256 KiB, so this only bites on hostile or broken peers.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A body the user typed, checked before it is stored: not empty, and at
/// most [`MAX_BODY_BYTES`] (a chat message or a room line alike).
pub(crate) fn check_body(body: &str) -> Result<(), crate::error::CoreError> {
    use crate::error::{CoreError, ErrorCode};
    if body.trim().is_empty() {
        return Err(CoreError::new(
            ErrorCode::InvalidInput,
            "the message is empty",
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidInput,
            "the message is too long",
        ));
    }
    Ok(())
}

/// Longest id (message id, origin-id, stanza-id) Charla keeps.
const MAX_ID_LEN: usize = 256;

/// An incoming chat message (or a carbon copy of one of ours), validated and
/// reduced to what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IncomingChat {
    /// `In` for the peer's messages, `Out` for copies of our own (carbons).
    pub direction: Direction,
    /// The author's JID as given (ours, bare, for our own messages).
    pub from: Jid,
    /// The conversation peer (the other party's bare JID).
    pub peer: BareJid,
    /// The text.
    pub body: String,
    /// The sender's origin-id, if any.
    pub origin_id: Option<String>,
    /// Our server's stanza-id, only if it is stamped by our own account.
    pub stanza_id: Option<String>,
    /// When the server says the message was sent (XEP-0203), in ms.
    pub delay_ms: Option<i64>,
    /// The stanza's `id` attribute, which receipts and markers reference.
    pub id: Option<String>,
    /// The sender asked for a delivery receipt (XEP-0184) and should get
    /// one once the message is stored. Never set on carbons.
    pub wants_receipt: bool,
    /// The sender asks for displayed markers (XEP-0333 `<markable/>`).
    pub markable: bool,
    /// Receipts and markers for our messages riding on this one.
    pub acks: Vec<Ack>,
    /// What it does to an earlier message instead of being one (its body,
    /// for a correction, is the new text).
    pub act: Option<Box<Act>>,
    /// The message it answers (XEP-0461); its body is then without the
    /// fallback quote.
    pub reply: Option<Box<charla_store::ReplyRef>>,
    /// The sender asked that it be shown unstyled (XEP-0393).
    pub unstyled: bool,
}

/// What a message does to an earlier one, instead of being a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Act {
    /// Its body replaces the text of message `target` (XEP-0308).
    Correct { target: String },
    /// It takes message `target` back (XEP-0424).
    Retract { target: String },
    /// The sender's reactions to a message (XEP-0444).
    React(crate::reactions::Reactions),
}

/// The act `msg` carries, if any: reactions, else a retraction by its
/// sender (a moderation is only a room's, see `muc`), else a correction.
pub(crate) fn act_of(msg: &Message) -> Option<Act> {
    if let Some(r) = crate::reactions::parse(msg) {
        return Some(Act::React(r));
    }
    if let Some(r) = crate::retraction::parse(msg) {
        return r
            .moderated_by
            .is_none()
            .then_some(Act::Retract { target: r.target });
    }
    crate::correction::target(msg).map(|target| Act::Correct { target })
}

/// What an incoming `<message/>` means to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A chat message to store.
    Chat(IncomingChat),
    /// Receipts or displayed markers (no body) from `peer` for our messages.
    Acks { peer: BareJid, acks: Vec<Ack> },
    /// `peer`'s chat state (XEP-0085) alone, without a body.
    ChatState {
        peer: BareJid,
        state: crate::chatstates::ChatState,
    },
    /// Our other device told `peer` it displayed their message `id`
    /// (a carbon of our XEP-0333 marker): read there, so read here.
    ReadElsewhere { peer: BareJid, id: String },
    /// A bounce of one of our messages to `peer`: `id` is its stanza id.
    Bounce {
        peer: BareJid,
        id: String,
        text: String,
    },
    /// Nothing for the core (headline, groupchat, chat states only,
    /// or junk; archive results are handled by `mam` before this).
    Ignored(&'static str),
}

/// Classifies an incoming message stanza. `own` is the account's bare JID.
pub(crate) fn classify(msg: &Message, own: &BareJid) -> Incoming {
    let Some(from) = msg.from.clone() else {
        return Incoming::Ignored("no sender");
    };
    if msg.type_ == MessageType::Error {
        return match &msg.id {
            Some(id) => Incoming::Bounce {
                peer: from.to_bare(),
                id: id.0.clone(),
                text: error_text(msg),
            },
            None => Incoming::Ignored("error without id"),
        };
    }
    if !matches!(msg.type_, MessageType::Chat | MessageType::Normal) {
        return Incoming::Ignored("not a chat message");
    }
    let peer = from.to_bare();
    if peer == *own {
        // Our own resources talking to us, or carbons: later issue.
        return Incoming::Ignored("from own account");
    }
    if peer.node().is_none() {
        return Incoming::Ignored("from a server or service");
    }
    content(msg, Direction::In, from, peer, own)
}

/// Classifies the message inside a carbon of one we sent from another
/// client (XEP-0280 `<sent/>`): it must be from our account and to someone
/// else. Only its text and ids count; acknowledgements we sent are not ours
/// to apply, and nobody gets a receipt for it.
pub(crate) fn classify_sent(msg: &Message, own: &BareJid) -> Incoming {
    if !matches!(msg.type_, MessageType::Chat | MessageType::Normal) {
        return Incoming::Ignored("not a chat message");
    }
    if msg.from.as_ref().is_some_and(|f| f.to_bare() != *own) {
        return Incoming::Ignored("sent carbon not from our account");
    }
    let Some(to) = &msg.to else {
        return Incoming::Ignored("sent carbon without recipient");
    };
    let peer = to.to_bare();
    if peer == *own {
        return Incoming::Ignored("to own account");
    }
    if peer.node().is_none() {
        return Incoming::Ignored("to a server or service");
    }
    match content(msg, Direction::Out, Jid::from(own.clone()), peer, own) {
        Incoming::Chat(mut c) => {
            c.wants_receipt = false;
            c.acks.clear();
            Incoming::Chat(c)
        }
        // Our own receipts are not ours to apply; our displayed marker
        // means the chat was read on that device.
        Incoming::Acks { peer, acks } => match acks
            .into_iter()
            .rev()
            .find(|a| a.kind == receipts::AckKind::Displayed)
        {
            Some(marker) => Incoming::ReadElsewhere {
                peer,
                id: marker.id,
            },
            None => Incoming::Ignored("no body"),
        },
        Incoming::ChatState { .. } => Incoming::Ignored("our own chat state"),
        other => other,
    }
}

/// The body, ids and acknowledgements of a message whose addressing is
/// already checked.
fn content(
    msg: &Message,
    direction: Direction,
    from: Jid,
    peer: BareJid,
    own: &BareJid,
) -> Incoming {
    let acks = receipts::acks(msg);
    let act = act_of(msg);
    let body = match (&act, best_body(msg)) {
        // A correction needs its new text; the other acts need no body.
        (Some(Act::Correct { .. }), body) => body,
        (Some(_), body) => Some(body.unwrap_or_default()),
        (None, body) => body,
    };
    let Some(body) = body else {
        return match (acks.is_empty(), crate::chatstates::of(msg)) {
            (false, _) => Incoming::Acks { peer, acks },
            (true, Some(state)) => Incoming::ChatState { peer, state },
            (true, None) => Incoming::Ignored("no body"),
        };
    };
    if body.len() > MAX_BODY_BYTES {
        return Incoming::Ignored("body too large");
    }
    let mut origin_id = None;
    let mut stanza_id = None;
    let mut delay_ms = None;
    // The ids are read straight from the attributes: converting a clone of
    // each payload costs more than the rest of the classification.
    for payload in &msg.payloads {
        if payload.is("origin-id", ns::SID) {
            if let Some(id) = payload.attr("id").filter(|id| valid_id(id)) {
                origin_id = Some(id.to_owned());
            }
        } else if payload.is("stanza-id", ns::SID) {
            // Only our own server's stamp means anything; a peer can add
            // any stanza-id it likes. If several claim to be ours, the
            // server appends its own last.
            if let (Some(id), Some(by)) = (payload.attr("id"), payload.attr("by")) {
                if valid_id(id) && is_own_bare(by, own) {
                    stanza_id = Some(id.to_owned());
                }
            }
        } else if payload.is("delay", ns::DELAY) {
            if let Ok(d) = Delay::try_from(payload.clone()) {
                delay_ms = plausible_time(d.stamp.0.timestamp_millis());
            }
        }
    }
    let (reply, body) = match act {
        Some(_) => (None, body),
        None => match crate::reply::parse(msg, &body) {
            Some((reply, text)) => (Some(reply), text),
            None => (None, body),
        },
    };
    Incoming::Chat(IncomingChat {
        direction,
        from,
        peer,
        body,
        origin_id,
        stanza_id,
        delay_ms,
        id: msg
            .id
            .as_ref()
            .map(|i| i.0.clone())
            .filter(|id| valid_id(id)),
        wants_receipt: receipts::wants_receipt(msg),
        markable: receipts::markable(msg),
        acks,
        act: act.map(Box::new),
        reply: reply.map(Box::new),
        unstyled: crate::styling::unstyled(msg),
    })
}

/// Whether `jid` is `own`, bare (not one of its resources), in any spelling
/// that normalizes to it.
fn is_own_bare(jid: &str, own: &BareJid) -> bool {
    jid == own.as_str() || BareJid::new(jid).is_ok_and(|j| j == *own)
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN
}

pub(crate) fn best_body(msg: &Message) -> Option<String> {
    msg.bodies
        .get("")
        .or_else(|| msg.bodies.values().next())
        .filter(|b| !b.trim().is_empty())
        .cloned()
}

pub(crate) fn error_text(msg: &Message) -> String {
    let error = msg.payloads.iter().find(|p| p.is("error", ns::DEFAULT_NS));
    match error {
        Some(e) => {
            let text = e
                .children()
                .find(|c| c.name() == "text")
                .map(Element::text)
                .filter(|t| !t.is_empty());
            let condition = e
                .children()
                .find(|c| c.name() != "text")
                .map(|c| c.name().to_owned());
            text.or(condition)
                .unwrap_or_else(|| "the server refused the message".into())
        }
        None => "the server refused the message".into(),
    }
}

/// Builds the stanza for an outgoing chat message. The origin-id doubles as
/// the stanza id so that bounces, receipts (XEP-0184, requested) and
/// displayed markers (XEP-0333, markable) can be matched to the stored row.
///
/// A message that waited before going out (written offline, or resent
/// after the server lost our stream) carries `delayed`: when it was
/// written and by whom (XEP-0203), so the peer shows its real time.
pub(crate) fn outgoing(
    to: &BareJid,
    body: &str,
    origin_id: &str,
    delayed: Option<(i64, &BareJid)>,
) -> Message {
    let mut msg = Message::chat(Some(Jid::from(to.clone())))
        .with_body(Lang::from(String::new()), body.to_owned())
        .with_payload(OriginId {
            id: origin_id.to_owned(),
        });
    msg.payloads.extend(receipts::request_payloads());
    // Sending a message means we are in the chat (XEP-0085 §5.1).
    msg.payloads
        .push(crate::chatstates::ChatState::Active.to_xep().into());
    if let Some(stamp) = delayed.and_then(|(ms, from)| delay(ms, from)) {
        msg.payloads.push(stamp.into());
    }
    msg.id = Some(xmpp_parsers::message::Id(origin_id.to_owned()));
    msg
}

/// A delay stamp (XEP-0203) for a message written at `ms` by `from`.
fn delay(ms: i64, from: &BareJid) -> Option<Delay> {
    let stamp = chrono::DateTime::from_timestamp_millis(ms)?;
    Some(Delay {
        from: Some(Jid::from(from.clone())),
        stamp: xmpp_parsers::date::DateTime(stamp.fixed_offset()),
        data: None,
    })
}

/// A peer's or server's timestamp, unless it is absurd: before 2000 or
/// more than a day in the future (a wrong clock or a forgery). Such stamps
/// are dropped and the arrival time is used instead.
pub(crate) fn plausible_time(ms: i64) -> Option<i64> {
    const Y2000_MS: i64 = 946_684_800_000;
    const DAY_MS: i64 = 86_400_000;
    (Y2000_MS..=crate::session::now_ms().saturating_add(DAY_MS))
        .contains(&ms)
        .then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    fn own() -> BareJid {
        BareJid::new("alice@x").expect("jid")
    }

    #[test]
    fn chat_with_ids_and_delay() {
        let m = msg(
            "<message xmlns='jabber:client' from='bob@x/r' to='alice@x' type='chat' id='1'>\
            <body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>\
            <stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='alice@x'/>\
            <stanza-id xmlns='urn:xmpp:sid:0' id='other' by='bob@x'/>\
            <stanza-id xmlns='urn:xmpp:sid:0' id='s1' by='alice@x'/>\
            <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/></message>",
        );
        let Incoming::Chat(c) = classify(&m, &own()) else {
            panic!("not chat")
        };
        assert_eq!(c.peer, BareJid::new("bob@x").expect("jid"));
        assert_eq!(c.body, "hi");
        assert_eq!(c.origin_id.as_deref(), Some("o1"));
        assert_eq!(c.stanza_id.as_deref(), Some("s1"));
        assert_eq!(c.delay_ms, Some(1_767_323_045_000));
    }

    #[test]
    fn stanza_id_counts_only_from_our_bare_account_in_any_spelling() {
        let with_sid = |by: &str| {
            msg(&format!(
                "<message xmlns='jabber:client' from='bob@x/r' type='chat'><body>hi</body>\
                <stanza-id xmlns='urn:xmpp:sid:0' id='s1' by='{by}'/></message>"
            ))
        };
        let sid = |by: &str| match classify(&with_sid(by), &own()) {
            Incoming::Chat(c) => c.stanza_id,
            other => panic!("not chat: {other:?}"),
        };
        assert_eq!(sid("alice@x").as_deref(), Some("s1"));
        assert_eq!(sid("Alice@X").as_deref(), Some("s1"));
        assert_eq!(sid("alice@x/phone"), None);
        assert_eq!(sid("x"), None);
        assert_eq!(sid("not a jid@"), None);
    }

    #[test]
    fn language_tagged_body_is_found() {
        let m = msg("<message xmlns='jabber:client' from='bob@x/r' type='chat' xml:lang='en'><body xml:lang='en'>hola</body></message>");
        assert!(matches!(classify(&m, &own()), Incoming::Chat(c) if c.body == "hola"));
    }

    #[test]
    fn a_chat_state_alone_is_a_chat_state() {
        let m = msg("<message xmlns='jabber:client' from='bob@x/r' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>");
        assert_eq!(
            classify(&m, &own()),
            Incoming::ChatState {
                peer: BareJid::new("bob@x").expect("jid"),
                state: crate::chatstates::ChatState::Active
            }
        );
    }

    #[test]
    fn ignored_kinds() {
        let cases = [
            ("<message xmlns='jabber:client' type='chat'><body>x</body></message>", "no sender"),
            ("<message xmlns='jabber:client' from='bob@x/r' type='headline'><body>x</body></message>", "not a chat message"),
            ("<message xmlns='jabber:client' from='bob@x/r' type='groupchat'><body>x</body></message>", "not a chat message"),
            ("<message xmlns='jabber:client' from='bob@x/r' type='chat'><thread>t</thread></message>", "no body"),
            ("<message xmlns='jabber:client' from='bob@x/r' type='chat'><body>   </body></message>", "no body"),
            ("<message xmlns='jabber:client' from='alice@x/other' type='chat'><body>x</body></message>", "from own account"),
            ("<message xmlns='jabber:client' from='x' type='chat'><body>x</body></message>", "from a server or service"),
        ];
        for (xml, why) in cases {
            assert_eq!(classify(&msg(xml), &own()), Incoming::Ignored(why), "{xml}");
        }
    }

    #[test]
    fn bad_delay_and_oversized_ids_are_dropped_not_fatal() {
        let long = "a".repeat(300);
        let m = msg(&format!(
            "<message xmlns='jabber:client' from='bob@x/r' type='chat'><body>x</body>\
            <origin-id xmlns='urn:xmpp:sid:0' id='{long}'/>\
            <delay xmlns='urn:xmpp:delay' stamp='yesterday'/></message>"
        ));
        let Incoming::Chat(c) = classify(&m, &own()) else {
            panic!("not chat")
        };
        assert_eq!(c.origin_id, None);
        assert_eq!(c.delay_ms, None);
    }

    #[test]
    fn receipt_request_and_bodiless_acks() {
        let m = msg(
            "<message xmlns='jabber:client' from='bob@x/r' type='chat' id='m1'>\
            <body>hi</body><request xmlns='urn:xmpp:receipts'/></message>",
        );
        let Incoming::Chat(c) = classify(&m, &own()) else {
            panic!("not chat")
        };
        assert_eq!(c.direction, Direction::In);
        assert_eq!(c.id.as_deref(), Some("m1"));
        assert!(c.wants_receipt);
        let m = msg("<message xmlns='jabber:client' from='bob@x/r' type='chat'>\
            <received xmlns='urn:xmpp:receipts' id='o1'/></message>");
        assert!(matches!(
            classify(&m, &own()),
            Incoming::Acks { peer, acks } if peer.as_str() == "bob@x" && acks.len() == 1
        ));
        // A stranger's service or our own other client cannot ack either.
        for from in ["x", "alice@x/other"] {
            let m = msg(&format!(
                "<message xmlns='jabber:client' from='{from}' type='chat'>\
                <received xmlns='urn:xmpp:receipts' id='o1'/></message>"
            ));
            assert!(
                matches!(classify(&m, &own()), Incoming::Ignored(_)),
                "{from}"
            );
        }
    }

    #[test]
    fn bounce_is_matched_by_id() {
        let m = msg("<message xmlns='jabber:client' from='nobody@x' type='error' id='o9'>\
            <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
        assert_eq!(
            classify(&m, &own()),
            Incoming::Bounce {
                peer: BareJid::new("nobody@x").expect("jid"),
                id: "o9".into(),
                text: "service-unavailable".into()
            }
        );
    }

    #[test]
    fn outgoing_has_origin_id_and_matching_id() {
        let to = BareJid::new("bob@x").expect("jid");
        let el: Element = outgoing(&to, "hello", "abc", None).into();
        assert!(!el.has_child("delay", ns::DELAY));
        assert_eq!(el.attr("id"), Some("abc"));
        assert_eq!(el.attr("type"), Some("chat"));
        assert!(el.has_child("origin-id", ns::SID));
        assert!(el.has_child("request", ns::RECEIPTS));
        assert!(el.has_child("markable", ns::DISPLAYED_MARKERS));
        assert!(el.has_child("active", ns::CHATSTATES));
        let back = Message::try_from(el).expect("roundtrip");
        assert_eq!(best_body(&back).as_deref(), Some("hello"));
    }

    #[test]
    fn a_resent_message_carries_when_it_was_written() {
        let to = BareJid::new("bob@x").expect("jid");
        let el: Element = outgoing(&to, "late", "abc", Some((1_767_323_045_123, &own()))).into();
        let delay = el.get_child("delay", ns::DELAY).expect("delay");
        assert_eq!(delay.attr("from"), Some("alice@x"));
        // Read back the way a peer reads it.
        let back = Message::try_from(el.clone()).expect("roundtrip");
        let mut as_peer = back;
        as_peer.from = Some(Jid::new("alice@x/r").expect("jid"));
        let Incoming::Chat(c) = classify(&as_peer, &to) else {
            panic!("not chat")
        };
        assert_eq!(c.delay_ms, Some(1_767_323_045_123));
    }

    #[test]
    fn absurd_delay_stamps_are_ignored() {
        for stamp in [
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1999-12-31T23:59:59Z",
        ] {
            let m = msg(&format!(
                "<message xmlns='jabber:client' from='bob@x/r' to='alice@x' type='chat'>\
                 <body>hi</body><delay xmlns='urn:xmpp:delay' stamp='{stamp}'/></message>"
            ));
            let Incoming::Chat(c) = classify(&m, &own()) else {
                panic!("not chat")
            };
            assert_eq!(c.delay_ms, None, "{stamp}");
        }
    }
}
