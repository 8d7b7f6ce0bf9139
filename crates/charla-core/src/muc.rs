//! Group chats: XEP-0045 (Multi-User Chat) presences and messages, with
//! XEP-0421 occupant ids and XEP-0359 ids stamped by the room. Parsers and
//! builders only; the session keeps the rooms' state (`session::muc`).
//!
//! Trust: a room speaks for itself from its bare JID and for an occupant
//! from `room/nick`; nothing else is a room's. A stanza-id counts only when
//! its `by` is the room's bare JID, an occupant-id only from a room that
//! stamped one on our own presence (so it rewrites them), and a nick is
//! never rendered as anything but text: [`display_nick`] strips the
//! invisible and bidirectional controls that let one nick pose as another.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::Result_;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::muc::muc::{History, Muc};
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_id::OriginId;

use crate::chat;

pub mod admin;
pub mod directory;

/// XEP-0421's namespace.
pub(crate) const OCCUPANT_ID: &str = "urn:xmpp:occupant-id:0";

/// Longest nick kept (bytes; a resourcepart may not be longer, RFC 7622).
pub const MAX_NICK_BYTES: usize = 1023;

/// Longest reason, subject or actor text kept from a room (bytes).
pub(crate) const MAX_TEXT_BYTES: usize = 4096;

/// Status codes read from one presence; more are ignored.
const MAX_STATUSES: usize = 16;

/// An occupant's role in the room (XEP-0045 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    /// May moderate.
    Moderator,
    /// May speak.
    Participant,
    /// May only listen (a moderated room).
    Visitor,
    /// Not in the room.
    None,
}

/// An occupant's long-lived affiliation with the room (XEP-0045 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Affiliation {
    /// Owns the room.
    Owner,
    /// Administers it.
    Admin,
    /// A member.
    Member,
    /// Banned.
    Outcast,
    /// None of these.
    None,
}

impl Role {
    /// Its name in XEP-0045.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Participant => "participant",
            Role::Visitor => "visitor",
            Role::None => "none",
        }
    }

    /// The role named `name`; anything unknown is none.
    pub(crate) fn parse(name: &str) -> Role {
        match name {
            "moderator" => Role::Moderator,
            "participant" => Role::Participant,
            "visitor" => Role::Visitor,
            _ => Role::None,
        }
    }
}

impl Affiliation {
    /// Its name in XEP-0045.
    pub fn as_str(self) -> &'static str {
        match self {
            Affiliation::Owner => "owner",
            Affiliation::Admin => "admin",
            Affiliation::Member => "member",
            Affiliation::Outcast => "outcast",
            Affiliation::None => "none",
        }
    }

    /// The affiliation named `name`; anything unknown is none.
    pub(crate) fn parse(name: &str) -> Affiliation {
        match name {
            "owner" => Affiliation::Owner,
            "admin" => Affiliation::Admin,
            "member" => Affiliation::Member,
            "outcast" => Affiliation::Outcast,
            _ => Affiliation::None,
        }
    }
}

/// Someone in a room, as the room presents them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Occupant {
    /// The nick exactly as the room sent it: the key of the occupant, and
    /// only ever rendered as text.
    pub nick: String,
    /// The nick to show: without bidirectional controls and invisible
    /// characters ([`display_nick`]).
    pub display: String,
    /// The nick had such characters: two occupants may then look alike;
    /// show that this one is not what it seems.
    pub disguised: bool,
    /// Their role.
    pub role: Role,
    /// Their affiliation.
    pub affiliation: Affiliation,
    /// Their real bare JID, where the room shows it (non-anonymous rooms,
    /// or to moderators).
    pub real_jid: Option<String>,
    /// Their occupant id (XEP-0421), stable across nick changes, if the
    /// room gives them.
    pub occupant_id: Option<String>,
    /// How available they are.
    pub show: crate::presence::Show,
    /// Their status text, if any (at most 4 KiB).
    pub status: Option<String>,
}

/// The nick to show for `nick`, and whether anything was taken out of it:
/// bidirectional embeddings, overrides, isolates and marks, zero-width and
/// other invisible format characters, and control characters. A nick
/// made only of them shows as U+FFFD.
pub fn display_nick(nick: &str) -> (String, bool) {
    let shown: String = nick.chars().filter(|c| !hidden(*c)).collect();
    let disguised = shown.len() != nick.len();
    if shown.trim().is_empty() {
        return ("\u{FFFD}".into(), true);
    }
    (shown, disguised)
}

/// Characters that change how a nick reads without being seen.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}'   // embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}'   // isolates, deprecated format chars
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                // BOM / zero-width no-break space
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

/// The presence that joins `room` as `nick` (XEP-0045 §7.2): no history
/// from the room itself (`maxstanzas='0'`; it comes from the room's archive,
/// XEP-0313, deduplicated), and the password if any.
pub(crate) fn join(room: &BareJid, nick: &str, password: Option<&str>) -> Option<Presence> {
    let to = room.with_resource_str(nick).ok()?;
    let mut muc = Muc::new().with_history(History::new().with_maxstanzas(0));
    if let Some(password) = password {
        muc = muc.with_password(password.to_owned());
    }
    Some(
        Presence::available()
            .with_to(to)
            .with_payloads(vec![muc.into()]),
    )
}

/// Accepts the default configuration of the room we just created (an
/// instant room, XEP-0045 §10.1.2), which unlocks it for others.
pub(crate) fn instant_room() -> Element {
    use xmpp_parsers::minidom::rxml::xml_ncname;
    Element::builder("query", MUC_OWNER)
        .append(
            Element::builder("x", ns::DATA_FORMS)
                .attr(xml_ncname!("type").to_owned(), "submit")
                .build(),
        )
        .build()
}

/// XEP-0045's owner namespace.
pub(crate) const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";

/// The presence that leaves `room` (XEP-0045 §7.14).
pub(crate) fn leave(room: &BareJid, nick: &str) -> Option<Presence> {
    let to = room.with_resource_str(nick).ok()?;
    Some(Presence::new(PresenceType::Unavailable).with_to(to))
}

/// A line we say in `room`: its id is its origin-id (XEP-0359), by which
/// the room's reflection and its archive copy are matched to our row.
pub(crate) fn groupchat(room: &BareJid, body: &str, origin_id: &str) -> Message {
    let mut msg = Message::groupchat(Some(Jid::from(room.clone())))
        .with_body(Lang::from(String::new()), body.to_owned())
        .with_payload(OriginId {
            id: origin_id.to_owned(),
        });
    msg.id = Some(xmpp_parsers::message::Id(origin_id.to_owned()));
    msg
}

/// A private message to us from an occupant (XEP-0045 §7.5): a `chat` or
/// `normal` message from `room/nick` with a body. `None` for anything
/// else (chat states, receipts, a message from the room's bare JID). It
/// carries no stanza-id: the room stamps none on private messages, and
/// one the sender added proves nothing.
pub(crate) fn private_line(msg: &Message) -> Option<RoomLine> {
    if !matches!(msg.type_, MessageType::Chat | MessageType::Normal) {
        return None;
    }
    let from = msg.from.as_ref()?;
    let nick = from.resource()?.as_str();
    if nick.len() > MAX_NICK_BYTES {
        return None;
    }
    let act = chat::act_of(msg);
    let body = match &act {
        Some(chat::Act::Correct { .. }) | None => chat::best_body(msg)?,
        Some(_) => chat::best_body(msg).unwrap_or_default(),
    };
    if body.len() > chat::MAX_BODY_BYTES {
        return None;
    }
    let (reply, body) = split_reply(msg, &act, body);
    let field = |name: &str, namespace: &str| {
        msg.payloads
            .iter()
            .find(|p| p.is(name, namespace))
            .and_then(|p| p.attr("id"))
            .filter(|id| chat::valid_id(id))
            .map(str::to_owned)
    };
    Some(RoomLine {
        room: from.to_bare(),
        nick: nick.to_owned(),
        body,
        origin_id: field("origin-id", ns::SID),
        stanza_id: None,
        occupant_id: field("occupant-id", OCCUPANT_ID),
        delay_ms: None,
        private: true,
        mentioned: Vec::new(),
        act: act.map(Box::new),
        reply: reply.map(Box::new),
        unstyled: crate::styling::unstyled(msg),
        real_jid: None,
    })
}

/// A line's reply (XEP-0461) and its body without the fallback quote; an
/// act is never a reply.
fn split_reply(
    msg: &Message,
    act: &Option<chat::Act>,
    body: String,
) -> (Option<charla_store::ReplyRef>, String) {
    if act.is_some() {
        return (None, body);
    }
    match crate::reply::parse(msg, &body) {
        Some((reply, text)) => (Some(reply), text),
        None => (None, body),
    }
}

/// A private message from us to the occupant `nick` of `room` (XEP-0045
/// §7.5): `chat`, marked with `<x xmlns='…muc#user'/>` so that servers
/// do not copy it to our other devices as a one-to-one message.
pub(crate) fn private(room: &BareJid, nick: &str, body: &str, origin_id: &str) -> Option<Message> {
    let to = room.with_resource_str(nick).ok()?;
    let mut msg = Message::chat(Some(Jid::from(to)))
        .with_body(Lang::from(String::new()), body.to_owned())
        .with_payload(OriginId {
            id: origin_id.to_owned(),
        });
    msg.payloads
        .push(Element::builder("x", ns::MUC_USER).build());
    msg.id = Some(xmpp_parsers::message::Id(origin_id.to_owned()));
    Some(msg)
}

/// The message that sets `room`'s subject (XEP-0045 §8.1); an empty
/// subject clears it.
pub(crate) fn subject(room: &BareJid, subject: &str) -> Message {
    let mut msg = Message::groupchat(Some(Jid::from(room.clone())));
    msg.subjects.insert(
        Lang::from(String::new()),
        truncate(subject.trim(), MAX_TEXT_BYTES),
    );
    msg
}

/// Why a room refused our presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The nick is taken (`conflict`).
    NickTaken,
    /// A password is needed, or the one given is wrong (`not-authorized`).
    Password,
    /// We are banned (`forbidden`).
    Banned,
    /// Members only (`registration-required`).
    MembersOnly,
    /// Anything else: the condition's name.
    Other(String),
}

/// A presence from `room/nick`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomPresence {
    /// The nick it is from.
    pub nick: String,
    /// The room refused us (a presence of type error).
    pub refused: Option<Refusal>,
    /// `unavailable`: the occupant left (or changed nick, or was removed).
    pub gone: bool,
    /// Status codes (XEP-0045 §15.6), at most [`MAX_STATUSES`].
    pub statuses: Vec<u16>,
    pub role: Role,
    pub affiliation: Affiliation,
    pub real_jid: Option<BareJid>,
    /// The new nick of a nick change (status 303).
    pub new_nick: Option<String>,
    /// The occupant id (XEP-0421), not yet checked against the room.
    pub occupant_id: Option<String>,
    /// The reason of a kick or ban, if given.
    pub reason: Option<String>,
    /// How available the occupant is.
    pub show: crate::presence::Show,
    /// Their status text.
    pub status: Option<String>,
}

impl RoomPresence {
    /// Whether it carries status `code`.
    pub fn has(&self, code: u16) -> bool {
        self.statuses.contains(&code)
    }
}

/// Reads a presence from an occupant of a room: `None` if it is not from
/// `room/nick`, or the nick is too long.
pub(crate) fn parse_presence(p: &Presence) -> Option<(BareJid, RoomPresence)> {
    let from = p.from.as_ref()?;
    let nick = from.resource()?.as_str();
    if nick.len() > MAX_NICK_BYTES {
        return None;
    }
    let mut presence = RoomPresence {
        nick: nick.to_owned(),
        refused: None,
        gone: p.type_ == PresenceType::Unavailable,
        statuses: Vec::new(),
        role: Role::None,
        affiliation: Affiliation::None,
        real_jid: None,
        new_nick: None,
        occupant_id: None,
        reason: None,
        show: crate::presence::Show::from_xmpp(p.show.as_ref()),
        status: crate::presence::best_status(p).map(|s| truncate(&s, MAX_TEXT_BYTES)),
    };
    if p.type_ == PresenceType::Error {
        presence.refused = Some(refusal(&p.payloads));
    }
    for payload in &p.payloads {
        if payload.is("x", ns::MUC_USER) {
            read_muc_user(payload, &mut presence);
        } else if payload.is("occupant-id", OCCUPANT_ID) {
            presence.occupant_id = payload
                .attr("id")
                .filter(|id| chat::valid_id(id))
                .map(str::to_owned);
        }
    }
    Some((from.to_bare(), presence))
}

fn read_muc_user(x: &Element, presence: &mut RoomPresence) {
    for child in x.children() {
        if child.is("status", ns::MUC_USER) && presence.statuses.len() < MAX_STATUSES {
            if let Some(code) = child.attr("code").and_then(|c| c.parse().ok()) {
                presence.statuses.push(code);
            }
        } else if child.is("item", ns::MUC_USER) {
            presence.role = Role::parse(child.attr("role").unwrap_or_default());
            presence.affiliation =
                Affiliation::parse(child.attr("affiliation").unwrap_or_default());
            presence.real_jid = child
                .attr("jid")
                .and_then(|j| Jid::new(j).ok())
                .map(|j| j.to_bare());
            presence.new_nick = child
                .attr("nick")
                .filter(|n| !n.is_empty() && n.len() <= MAX_NICK_BYTES)
                .map(str::to_owned);
            presence.reason = child
                .get_child("reason", ns::MUC_USER)
                .map(Element::text)
                .filter(|r| !r.is_empty() && r.len() <= MAX_TEXT_BYTES);
        }
    }
}

/// The condition of a presence error.
fn refusal(payloads: &[Element]) -> Refusal {
    let condition = payloads
        .iter()
        .find(|p| p.name() == "error")
        .and_then(|e| {
            e.children()
                .find(|c| c.ns() == ns::XMPP_STANZAS && c.name() != "text")
        })
        .map(|c| c.name().to_owned())
        .unwrap_or_default();
    match condition.as_str() {
        "conflict" => Refusal::NickTaken,
        "not-authorized" => Refusal::Password,
        "forbidden" => Refusal::Banned,
        "registration-required" => Refusal::MembersOnly,
        "" => Refusal::Other("undefined-condition".into()),
        _ => Refusal::Other(condition),
    }
}

/// A line said in a room, checked: from `room/nick`, with a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomLine {
    pub room: BareJid,
    pub nick: String,
    pub body: String,
    pub origin_id: Option<String>,
    /// The room's stanza-id: only one whose `by` is the room's bare JID.
    pub stanza_id: Option<String>,
    /// The occupant id the message carries (XEP-0421), not yet checked
    /// against the room.
    pub occupant_id: Option<String>,
    /// The room's delay stamp (XEP-0203), in ms.
    pub delay_ms: Option<i64>,
    /// A private message to us from this occupant (XEP-0045 §7.5), not a
    /// line said to the room.
    pub private: bool,
    /// The JIDs its mention references name (XEP-0372), decoded from
    /// their `xmpp:` URIs; at most [`MAX_REFERENCES`].
    pub mentioned: Vec<String>,
    /// What it does to an earlier line instead of being one.
    pub act: Option<Box<chat::Act>>,
    /// The line it answers (XEP-0461); the body is then without the
    /// fallback quote.
    pub reply: Option<Box<charla_store::ReplyRef>>,
    /// The author's real JID as the room's archive records it (archived
    /// lines only; live ones take it from the occupant's presence).
    pub real_jid: Option<String>,
    /// The sender asked that it be shown unstyled (XEP-0393).
    pub unstyled: bool,
}

/// XEP-0372's namespace.
const REFERENCE: &str = "urn:xmpp:reference:0";

/// Mention references read from one line; more are ignored.
pub(crate) const MAX_REFERENCES: usize = 16;

/// The JIDs a message's mention references name (XEP-0372): each
/// `<reference type='mention' uri='xmpp:…'/>`, percent-decoded, at most
/// [`MAX_REFERENCES`]; anything that is not an `xmpp:` URI is skipped.
fn mentioned(msg: &Message) -> Vec<String> {
    msg.payloads
        .iter()
        .filter(|p| p.is("reference", REFERENCE) && p.attr("type") == Some("mention"))
        .filter_map(|p| p.attr("uri"))
        .filter(|uri| uri.len() <= 3 * MAX_NICK_BYTES + 1024)
        .filter_map(|uri| {
            let path = uri.strip_prefix("xmpp:")?;
            let path = path.split(['?', '#']).next().unwrap_or_default();
            crate::uri::decode(path).ok()
        })
        .take(MAX_REFERENCES)
        .collect()
}

/// What a `groupchat` message (or a room's error) means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoomIncoming {
    /// An occupant's line.
    Line(RoomLine),
    /// The subject, set (or cleared: `None`) by the room or an occupant.
    Subject {
        room: BareJid,
        subject: Option<String>,
    },
    /// A message from the room itself (its bare JID) with a body: the
    /// room's notice, never an occupant's line.
    Notice { room: BareJid, body: String },
    /// The room refused our line `id`.
    Bounce {
        room: BareJid,
        id: String,
        text: String,
    },
    /// The room's moderators retracted line `target` (XEP-0425): only
    /// ever from the room's bare JID; `by` is the moderator as named.
    Moderated {
        room: BareJid,
        target: String,
        by: String,
    },
    /// Nothing to keep.
    Ignored(&'static str),
}

/// Classifies a message that is a room's: `groupchat`, or an error from a
/// room's bare JID or an occupant's full JID.
pub(crate) fn classify(msg: &Message) -> RoomIncoming {
    let Some(from) = &msg.from else {
        return RoomIncoming::Ignored("no sender");
    };
    let room = from.to_bare();
    if room.node().is_none() {
        return RoomIncoming::Ignored("not from a room");
    }
    if msg.type_ == MessageType::Error {
        return match &msg.id {
            Some(id) => RoomIncoming::Bounce {
                room,
                id: id.0.clone(),
                text: chat::error_text(msg),
            },
            None => RoomIncoming::Ignored("error without id"),
        };
    }
    if msg.type_ != MessageType::Groupchat {
        return RoomIncoming::Ignored("not a groupchat message");
    }
    if from.resource().is_none() {
        if let Some(r) = crate::retraction::parse(msg) {
            if let Some(by) = r.moderated_by {
                // Only the room itself moderates (XEP-0425).
                return RoomIncoming::Moderated {
                    room,
                    target: r.target,
                    by: truncate(&by, MAX_TEXT_BYTES),
                };
            }
        }
    }
    let act = chat::act_of(msg);
    let body = match (&act, chat::best_body(msg)) {
        (Some(chat::Act::Correct { .. }) | None, body) => body,
        (Some(_), body) => Some(body.unwrap_or_default()),
    };
    if body.is_none() && !msg.subjects.is_empty() {
        let subject = msg
            .subjects
            .get("")
            .or_else(|| msg.subjects.values().next())
            .filter(|s| !s.trim().is_empty())
            .map(|s| truncate(s, MAX_TEXT_BYTES));
        return RoomIncoming::Subject { room, subject };
    }
    let Some(body) = body else {
        return RoomIncoming::Ignored("no body");
    };
    if body.len() > chat::MAX_BODY_BYTES {
        return RoomIncoming::Ignored("body too large");
    }
    let Some(nick) = from.resource().map(|r| r.as_str().to_owned()) else {
        return RoomIncoming::Notice { room, body };
    };
    if nick.len() > MAX_NICK_BYTES {
        return RoomIncoming::Ignored("nick too long");
    }
    let (reply, body) = split_reply(msg, &act, body);
    let mut line = RoomLine {
        room,
        nick,
        body,
        origin_id: None,
        stanza_id: None,
        occupant_id: None,
        delay_ms: None,
        private: false,
        mentioned: mentioned(msg),
        act: act.map(Box::new),
        reply: reply.map(Box::new),
        unstyled: crate::styling::unstyled(msg),
        real_jid: None,
    };
    for payload in &msg.payloads {
        if payload.is("origin-id", ns::SID) {
            line.origin_id = payload
                .attr("id")
                .filter(|id| chat::valid_id(id))
                .map(str::to_owned);
        } else if payload.is("stanza-id", ns::SID) {
            // Only the room's own stamp; an occupant can add any it likes.
            if let (Some(id), Some(by)) = (payload.attr("id"), payload.attr("by")) {
                if chat::valid_id(id) && BareJid::new(by).is_ok_and(|by| by == line.room) {
                    line.stanza_id = Some(id.to_owned());
                }
            }
        } else if payload.is("occupant-id", OCCUPANT_ID) {
            line.occupant_id = payload
                .attr("id")
                .filter(|id| chat::valid_id(id))
                .map(str::to_owned);
        } else if payload.is("delay", ns::DELAY) {
            if let Ok(d) = xmpp_parsers::delay::Delay::try_from(payload.clone()) {
                line.delay_ms = chat::plausible_time(d.stamp.0.timestamp_millis());
            }
        }
    }
    RoomIncoming::Line(line)
}

/// The real bare JID a room's archive gives a line's author
/// (`<x xmlns='…muc#user'><item jid='…'/></x>` in the archived message, as
/// non-anonymous rooms keep it): trusted because the result itself comes
/// from the room. An author may have put such an element in the line
/// itself; a server that keeps it beside its own leaves two, and then
/// neither is believed.
fn archived_real_jid(inner: &Message) -> Option<String> {
    let mut xs = inner.payloads.iter().filter(|p| p.is("x", ns::MUC_USER));
    let x = xs.next()?;
    if xs.next().is_some() {
        return None;
    }
    let mut items = x.children().filter(|c| c.is("item", ns::MUC_USER));
    let item = items.next()?;
    if items.next().is_some() {
        return None;
    }
    let jid = Jid::new(item.attr("jid")?).ok()?;
    Some(jid.to_bare().to_string())
}

/// Checks a result of a room's archive: from the room's bare JID, one
/// result with an id and a time, wrapping an occupant's line of that room.
/// Returns the room, the queryid, the archive id and the line (whose
/// stanza-id is the archive id and time the archive's).
pub(crate) fn accept_archived(
    msg: &Message,
) -> Result<(BareJid, String, String, RoomLine), &'static str> {
    let from = msg.from.as_ref().ok_or("no sender")?;
    if from.resource().is_some() {
        return Err("not from the room itself");
    }
    let room = from.to_bare();
    let mut results = msg.payloads.iter().filter(|p| p.is("result", ns::MAM));
    let el = results.next().ok_or("no archive result")?;
    if results.next().is_some() {
        return Err("more than one archive result");
    }
    let result = Result_::try_from(el.clone()).map_err(|_| "malformed archive result")?;
    let queryid = result.queryid.map(|q| q.0).ok_or("no queryid")?;
    if !chat::valid_id(&result.id) {
        return Err("bad archive id");
    }
    let delay = result.forwarded.delay.as_ref().ok_or("no time")?;
    let inner = &result.forwarded.message;
    if inner.type_ != MessageType::Groupchat
        || inner.from.as_ref().map(Jid::to_bare).as_ref() != Some(&room)
    {
        return Err("not a line of this room");
    }
    match classify(inner) {
        RoomIncoming::Line(mut line) => {
            line.stanza_id = Some(result.id.clone());
            line.delay_ms = Some(delay.stamp.0.timestamp_millis());
            // The room's own record of who said it, where it shows real JIDs.
            line.real_jid = archived_real_jid(inner);
            Ok((room, queryid, result.id, line))
        }
        _ => Err("not an occupant's line"),
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A nick to suggest when `nick` is taken: `nick_`, or a shorter nick
/// with `_` if that would be too long.
pub(crate) fn suggest_nick(nick: &str) -> String {
    format!("{}_", truncate(nick, MAX_NICK_BYTES - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(xml: &str) -> Presence {
        let el: Element = xml.parse().expect("xml");
        Presence::try_from(el).expect("presence")
    }

    fn message(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    #[test]
    fn an_archived_line_keeps_the_real_jid_the_room_recorded() {
        // A non-anonymous room's archive (ejabberd's shape): the author's
        // real JID inside the archived message.
        let result = |x: &str| {
            message(&format!(
                "<message xmlns='jabber:client' from='family@muc.x' to='alice@x/desk'>\
                 <result xmlns='urn:xmpp:mam:2' queryid='q1' id='s1'>\
                 <forwarded xmlns='urn:xmpp:forward:0'>\
                 <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>\
                 <message xmlns='jabber:client' from='family@muc.x/bob' type='groupchat'>\
                 <body>hi</body>{x}</message></forwarded></result></message>"
            ))
        };
        let (_, _, _, line) = accept_archived(&result(
            "<x xmlns='http://jabber.org/protocol/muc#user'><item jid='bob@x/phone'/></x>",
        ))
        .expect("accepted");
        assert_eq!(line.real_jid.as_deref(), Some("bob@x"));
        let (_, _, _, line) = accept_archived(&result("")).expect("accepted");
        assert_eq!(line.real_jid, None);
        // The author's own claim beside the room's: neither is believed.
        let (_, _, _, line) = accept_archived(&result(
            "<x xmlns='http://jabber.org/protocol/muc#user'><item jid='alice@x'/></x>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item jid='bob@x/phone'/></x>",
        ))
        .expect("accepted");
        assert_eq!(line.real_jid, None);
        // A live line never says it: only the occupant's presence does.
        let live = message(
            "<message xmlns='jabber:client' from='family@muc.x/bob' type='groupchat'><body>hi</body>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item jid='mallory@x'/></x></message>",
        );
        let RoomIncoming::Line(line) = classify(&live) else {
            panic!("a line")
        };
        assert_eq!(line.real_jid, None);
    }

    #[test]
    fn a_join_asks_for_no_history_and_carries_the_password() {
        let room = BareJid::new("family@muc.x").expect("jid");
        let el: Element = join(&room, "alice", Some("s3cret")).expect("join").into();
        let xml = String::from(&el);
        assert_eq!(el.attr("to"), Some("family@muc.x/alice"));
        let x = el.get_child("x", ns::MUC).expect("muc");
        assert_eq!(
            x.get_child("history", ns::MUC)
                .and_then(|h| h.attr("maxstanzas")),
            Some("0"),
            "{xml}"
        );
        assert_eq!(
            x.get_child("password", ns::MUC).map(Element::text),
            Some("s3cret".into())
        );
    }

    #[test]
    fn an_occupant_presence_is_read_with_role_affiliation_jid_and_id() {
        let (room, p) = parse_presence(&presence(
            "<presence xmlns='jabber:client' from='family@muc.x/bob'>\
               <x xmlns='http://jabber.org/protocol/muc#user'>\
               <item affiliation='member' role='participant' jid='bob@x/phone'/>\
               <status code='110'/></x>\
               <occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-b'/></presence>",
        ))
        .expect("room presence");
        assert_eq!(room.as_str(), "family@muc.x");
        assert_eq!(p.nick, "bob");
        assert_eq!(
            (p.role, p.affiliation),
            (Role::Participant, Affiliation::Member)
        );
        assert_eq!(
            p.real_jid.as_ref().map(|j| j.to_string()).as_deref(),
            Some("bob@x")
        );
        assert_eq!(p.occupant_id.as_deref(), Some("occ-b"));
        assert!(p.has(110) && !p.gone);
    }

    #[test]
    fn refusals_are_told_apart() {
        for (condition, refusal) in [
            ("conflict", Refusal::NickTaken),
            ("not-authorized", Refusal::Password),
            ("forbidden", Refusal::Banned),
            ("registration-required", Refusal::MembersOnly),
            ("item-not-found", Refusal::Other("item-not-found".into())),
        ] {
            let (_, p) = parse_presence(&presence(&format!(
                "<presence xmlns='jabber:client' type='error' from='r@muc.x/alice'>\
                   <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                   </error></presence>"
            )))
            .expect("room presence");
            assert_eq!(p.refused, Some(refusal));
        }
    }

    #[test]
    fn a_stanza_id_counts_only_by_the_room() {
        let line = |by: &str| {
            classify(&message(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob'>\
                   <body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='{by}' id='S1'/></message>"
            )))
        };
        let RoomIncoming::Line(ok) = line("r@muc.x") else {
            panic!("not a line")
        };
        assert_eq!(ok.stanza_id.as_deref(), Some("S1"));
        for by in ["alice@x", "r@muc.x/bob", "muc.x", "evil@muc.x"] {
            let RoomIncoming::Line(l) = line(by) else {
                panic!("not a line")
            };
            assert_eq!(l.stanza_id, None, "{by}");
        }
    }

    #[test]
    fn the_rooms_own_jid_speaks_notices_and_subjects_not_lines() {
        let notice = classify(&message(
            "<message xmlns='jabber:client' type='groupchat' from='r@muc.x'><body>hi</body></message>",
        ));
        assert!(matches!(notice, RoomIncoming::Notice { .. }));
        let subject = classify(&message(
            "<message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob'>\
               <subject>Lunch</subject></message>",
        ));
        assert!(matches!(subject, RoomIncoming::Subject { subject: Some(s), .. } if s == "Lunch"));
    }

    #[test]
    fn invisible_and_bidi_characters_are_stripped_for_display_and_flagged() {
        assert_eq!(display_nick("bob"), ("bob".into(), false));
        assert_eq!(display_nick("b\u{200B}ob"), ("bob".into(), true));
        assert_eq!(display_nick("\u{202E}bob"), ("bob".into(), true));
        assert_eq!(display_nick("\u{2067}x\u{2069}"), ("x".into(), true));
        assert_eq!(display_nick("\u{200D}\u{FEFF}"), ("\u{FFFD}".into(), true));
        assert_eq!(display_nick("Zoë"), ("Zoë".into(), false));
    }

    #[test]
    fn a_nick_with_bidi_controls_cannot_even_be_an_address() {
        // RFC 7622 resourceprep refuses them: such a presence or line does
        // not parse, and never reaches the session. A nick change's new nick
        // is an attribute, though, and goes through display_nick.
        for nick in ["\u{202E}bob", "bob\u{2066}", "\u{200F}bob"] {
            assert!(Jid::new(&format!("r@muc.x/{nick}")).is_err(), "{nick:?}");
        }
    }

    #[test]
    fn a_suggested_nick_is_never_too_long() {
        assert_eq!(suggest_nick("alice"), "alice_");
        let long = "é".repeat(600);
        assert!(suggest_nick(&long).len() <= MAX_NICK_BYTES);
    }
}
