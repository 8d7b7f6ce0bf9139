//! Group chats in the session: joining, leaving and being in rooms
//! (XEP-0045), their occupants (with XEP-0421 occupant ids), their lines,
//! and each room's catch-up from its own archive (XEP-0313 on the room's
//! JID) on every join.
//!
//! A room goes through three phases:
//! 1. **joining**: our presence is sent; occupants' presences are taken in,
//!    lines are not (we are not in the room yet);
//! 2. **catching up**: the room sent our own presence (status 110); its
//!    archive is asked for everything after the newest line we have (the
//!    last [`LAST_LINES`] if none), and live lines are held;
//! 3. **joined**: the archive's lines, then the held ones, are stored and
//!    announced, then [`Event::RoomJoined`] says so with the occupants; our
//!    own pending lines go out.
//!
//! Room lines take their own path through the pipeline's stages
//! ([`Engine::ingest_room`]): authorize (only a room we are in, only an
//! occupant's line), dedupe and store (the room's stanza-id; our own line's
//! reflection by origin-id marks our row `sent`), then emit. Rooms get no
//! receipts and send none.
//!
//! After a fresh bind the rooms to join at login are joined again; after a
//! resumption the stream kept us in them. A room that kicked or banned us
//! is not joined again by itself.

use std::collections::HashMap;

use charla_store::{
    Direction, MessageState, NewRoomMessage, RoomId, RoomInsertOutcome, RoomMessageId,
};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::{Query, QueryId};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::rsm::SetQuery;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use super::engine::{Engine, Watch};
use super::iq::{new_id, PendingIq};
use super::now_ms;
use crate::event::{Event, OccupantChange, RoomExit};
use crate::muc::{self, Occupant, Refusal, RoomIncoming, RoomLine, RoomPresence};

/// Occupants kept per room; presences of more are not kept (a room of
/// thousands, or a join flood).
pub(super) const MAX_OCCUPANTS: usize = 2_000;

/// Lines asked of a room's archive on the first join (nothing stored yet).
pub(super) const LAST_LINES: usize = 50;

/// Live lines held per room during its catch-up; a flood beyond them is
/// dropped (a catch-up ends within seconds, or its request times out).
pub(super) const MAX_HELD: usize = 10_000;

/// Lines asked per page of a room's archive.
const PAGE_SIZE: usize = 100;

/// Archive results kept per page; a room sending more than asked for
/// loses the rest (the next page asks after the last kept).
const MAX_PAGE: usize = 2 * PAGE_SIZE;

/// Where a room is in joining it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Joining,
    CatchingUp,
    Joined,
}

/// A page of the room's archive being received.
#[derive(Debug)]
struct CatchUp {
    queryid: String,
    /// The first join: only the last lines, one page.
    last_only: bool,
    page: Vec<(String, RoomLine)>,
}

/// A room we are in or joining.
#[derive(Debug)]
struct InRoom {
    id: RoomId,
    nick: String,
    phase: Phase,
    occupants: HashMap<String, Occupant>,
    /// The room stamps occupant ids (XEP-0421): it stamped our own
    /// presence, so it replaces whatever an occupant puts there.
    stamps_ids: bool,
    own_occupant_id: Option<String>,
    subject: Option<String>,
    catch_up: Option<CatchUp>,
    /// Live lines read during the catch-up, stored after it.
    held: Vec<RoomLine>,
    /// New lines the catch-up stored.
    added: usize,
    /// Our line sent and not yet reflected by the room: the next waits.
    in_flight: Option<RoomMessageId>,
}

impl InRoom {
    fn new(id: RoomId, nick: String) -> InRoom {
        InRoom {
            id,
            nick,
            phase: Phase::Joining,
            occupants: HashMap::new(),
            stamps_ids: false,
            own_occupant_id: None,
            subject: None,
            catch_up: None,
            held: Vec::new(),
            added: 0,
            in_flight: None,
        }
    }

    /// Whether a line from `nick` with `occupant_id` is ours.
    fn is_ours(&self, nick: &str, occupant_id: Option<&str>) -> bool {
        match (&self.own_occupant_id, occupant_id) {
            (Some(own), Some(id)) if self.stamps_ids => own == id,
            _ => nick == self.nick,
        }
    }
}

/// The rooms of a session.
#[derive(Debug, Default)]
pub(super) struct Rooms {
    rooms: HashMap<BareJid, InRoom>,
    /// Passwords given for rooms, for joining again after a fresh bind
    /// (never stored).
    passwords: HashMap<BareJid, String>,
    /// Live room lines of the burst being read.
    burst: Vec<RoomLine>,
}

/// Where a batch of room lines comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoomOrigin {
    /// Read just now.
    Live,
    /// Live during the room's catch-up, stored after it.
    Held,
    /// A page of the room's archive.
    Archive,
}

impl Engine {
    /// A fresh stream: we are in no room until we join again.
    pub(super) fn rooms_new_stream(&mut self) {
        self.rooms.rooms.clear();
        self.rooms.burst.clear();
    }

    /// After the initial presence of a fresh stream: joins every room kept
    /// to join at login.
    pub(super) fn rejoin_rooms(&mut self) {
        let account = self.account;
        let rooms = match self.store(|s| s.rooms(account)) {
            Ok(rooms) => rooms,
            Err(e) => return self.error(e),
        };
        for room in rooms.into_iter().filter(|r| r.autojoin) {
            if let Ok(jid) = BareJid::new(&room.jid) {
                self.send_join(jid, room.id, room.nick);
            }
        }
    }

    /// Joins `room` as `nick` (the user asked): kept to join at login.
    pub(super) fn join_room(&mut self, room: BareJid, nick: String, password: Option<String>) {
        if nick.trim().is_empty() || nick.len() > muc::MAX_NICK_BYTES {
            return self.error(crate::error::CoreError::new(
                crate::error::ErrorCode::InvalidInput,
                "that nick cannot be used",
            ));
        }
        let account = self.account;
        let kept = match self.store(|s| s.upsert_room(account, room.as_str(), &nick)) {
            Ok(kept) => kept,
            Err(e) => return self.error(e),
        };
        match password {
            Some(p) => self.rooms.passwords.insert(room.clone(), p),
            None => self.rooms.passwords.remove(&room),
        };
        if self.link.usable() && self.presence.sent {
            self.send_join(room, kept.id, nick);
        }
    }

    fn send_join(&mut self, room: BareJid, id: RoomId, nick: String) {
        let password = self.rooms.passwords.get(&room).map(String::as_str);
        let Some(presence) = muc::join(&room, &nick, password) else {
            return log::warn!("cannot join {room} as {nick:?}");
        };
        self.send(presence, Watch::None);
        self.rooms.rooms.insert(room, InRoom::new(id, nick));
    }

    /// Leaves `room`; `forget`: and removes it from the bookmarks. Either
    /// way it is not joined at login any more; its history stays.
    pub(super) fn leave_room(&mut self, room: BareJid, forget: bool) {
        let account = self.account;
        let kept = self.store(|s| {
            let Some(kept) = s.room(account, room.as_str())? else {
                return Ok(None);
            };
            if forget {
                s.forget_room(kept.id)?;
            } else {
                s.set_room_autojoin(kept.id, false)?;
            }
            Ok(Some(kept))
        });
        if let Err(e) = kept {
            self.error(e);
        }
        self.rooms.passwords.remove(&room);
        if let Some(left) = self.rooms.rooms.remove(&room) {
            if self.link.usable() {
                if let Some(p) = muc::leave(&room, &left.nick) {
                    self.send(p, Watch::None);
                }
            }
            self.emit(Event::RoomLeft {
                account,
                room: room.to_string(),
                reason: RoomExit::Left,
            });
        }
    }

    /// Whether `from` is a room we are in or joining.
    pub(super) fn is_room(&self, from: Option<&Jid>) -> bool {
        from.is_some_and(|f| self.rooms.rooms.contains_key(&f.to_bare()))
    }

    /// A presence from a room we are in or joining.
    pub(super) fn on_room_presence(&mut self, p: &Presence) {
        let Some((room, rp)) = muc::parse_presence(p) else {
            return log::debug!("ignored a room presence");
        };
        if let Some(refusal) = rp.refused.clone() {
            return self.on_refused(room, &rp, refusal);
        }
        if rp.has(110) {
            return self.on_own_presence(room, rp);
        }
        let account = self.account;
        let Some(in_room) = self.rooms.rooms.get_mut(&room) else {
            return;
        };
        let announce = in_room.phase == Phase::Joined;
        let change = if rp.gone {
            let Some(old) = in_room.occupants.remove(&rp.nick) else {
                return;
            };
            match rp.new_nick.clone().filter(|_| rp.has(303)) {
                Some(new_nick) => {
                    let occupant = renamed(old, new_nick);
                    in_room
                        .occupants
                        .insert(occupant.nick.clone(), occupant.clone());
                    OccupantChange::Changed {
                        old_nick: Some(rp.nick.clone()),
                        occupant,
                    }
                }
                None => OccupantChange::Left {
                    nick: rp.nick.clone(),
                    reason: exit(&rp),
                },
            }
        } else {
            let known = in_room.occupants.contains_key(&rp.nick);
            if !known && in_room.occupants.len() >= MAX_OCCUPANTS {
                return log::debug!("{room}: occupant cap reached; presence not kept");
            }
            let occupant = occupant(&rp, in_room.stamps_ids || in_room.phase == Phase::Joining);
            in_room
                .occupants
                .insert(occupant.nick.clone(), occupant.clone());
            if known {
                OccupantChange::Changed {
                    old_nick: None,
                    occupant,
                }
            } else {
                OccupantChange::Joined { occupant }
            }
        };
        if announce {
            self.emit(Event::OccupantChanged {
                account,
                room: room.to_string(),
                change,
            });
        }
    }

    /// The room refused our presence.
    fn on_refused(&mut self, room: BareJid, rp: &RoomPresence, refusal: Refusal) {
        let account = self.account;
        let Some(in_room) = self.rooms.rooms.remove(&room) else {
            return;
        };
        let event = match refusal {
            Refusal::NickTaken => Event::RoomNickTaken {
                account,
                room: room.to_string(),
                nick: rp.nick.clone(),
                suggested: muc::suggest_nick(&rp.nick),
            },
            Refusal::Password => {
                self.rooms.passwords.remove(&room);
                Event::RoomPasswordRequired {
                    account,
                    room: room.to_string(),
                }
            }
            Refusal::Banned | Refusal::MembersOnly => {
                // Not for us now, nor at the next login.
                if let Err(e) = self.store(|s| s.set_room_autojoin(in_room.id, false)) {
                    self.error(e);
                }
                let condition = match refusal {
                    Refusal::Banned => "forbidden",
                    _ => "registration-required",
                };
                Event::RoomLeft {
                    account,
                    room: room.to_string(),
                    reason: RoomExit::Refused {
                        condition: condition.into(),
                    },
                }
            }
            Refusal::Other(condition) => Event::RoomLeft {
                account,
                room: room.to_string(),
                reason: RoomExit::Refused { condition },
            },
        };
        self.emit(event);
    }

    /// Our own presence in the room (status 110): in it, out of it, or
    /// renamed.
    fn on_own_presence(&mut self, room: BareJid, rp: RoomPresence) {
        let account = self.account;
        let Some(in_room) = self.rooms.rooms.get_mut(&room) else {
            return;
        };
        if rp.gone {
            if let Some(new_nick) = rp.new_nick.clone().filter(|_| rp.has(303)) {
                // Our nick changed; the next presence is us under it.
                let announce = in_room.phase == Phase::Joined;
                let renamed = in_room.occupants.remove(&rp.nick).map(|old| {
                    let occupant = renamed(old, new_nick.clone());
                    in_room.occupants.insert(new_nick.clone(), occupant.clone());
                    occupant
                });
                in_room.nick = new_nick.clone();
                if let Err(e) = self.store(|s| s.upsert_room(account, room.as_str(), &new_nick)) {
                    self.error(e);
                }
                if let (true, Some(occupant)) = (announce, renamed) {
                    self.emit(Event::OccupantChanged {
                        account,
                        room: room.to_string(),
                        change: OccupantChange::Changed {
                            old_nick: Some(rp.nick.clone()),
                            occupant,
                        },
                    });
                }
                return;
            }
            let reason = exit(&rp).unwrap_or(RoomExit::Left);
            let id = in_room.id;
            self.rooms.rooms.remove(&room);
            if matches!(reason, RoomExit::Kicked { .. } | RoomExit::Banned { .. }) {
                // Shown, and not joined again by itself.
                if let Err(e) = self.store(|s| s.set_room_autojoin(id, false)) {
                    self.error(e);
                }
            }
            return self.emit(Event::RoomLeft {
                account,
                room: room.to_string(),
                reason,
            });
        }
        // The room may have changed our nick (status 210).
        in_room.nick = rp.nick.clone();
        in_room.stamps_ids = rp.occupant_id.is_some();
        in_room.own_occupant_id = rp.occupant_id.clone();
        if !in_room.stamps_ids {
            // Ids that a room does not stamp are anyone's to claim.
            for o in in_room.occupants.values_mut() {
                o.occupant_id = None;
            }
        }
        let me = occupant(&rp, in_room.stamps_ids);
        in_room.occupants.insert(me.nick.clone(), me.clone());
        let created = rp.has(201) && in_room.phase == Phase::Joining;
        match in_room.phase {
            Phase::Joining => {
                in_room.phase = Phase::CatchingUp;
                if created {
                    // We made it: take the defaults, so others may join.
                    let id = new_id();
                    let iq = Iq::Set {
                        from: None,
                        to: Some(Jid::from(room.clone())),
                        id: id.clone(),
                        payload: muc::instant_room(),
                    };
                    self.request(id, iq, PendingIq::RoomConfig { room: room.clone() });
                }
                self.start_room_catch_up(room);
            }
            Phase::CatchingUp => {}
            Phase::Joined => self.emit(Event::OccupantChanged {
                account,
                room: room.to_string(),
                change: OccupantChange::Changed {
                    old_nick: None,
                    occupant: me,
                },
            }),
        }
    }

    /// A `groupchat` message, or an error from a room we are in.
    pub(super) fn on_room_message(&mut self, msg: &Message) {
        match muc::classify(msg) {
            RoomIncoming::Line(line) => {
                let phase = self.rooms.rooms.get(&line.room).map(|r| r.phase);
                match phase {
                    Some(Phase::Joined) => self.rooms.burst.push(line),
                    Some(Phase::CatchingUp) => {
                        if let Some(r) = self.rooms.rooms.get_mut(&line.room) {
                            if r.held.len() < MAX_HELD {
                                r.held.push(line);
                            } else {
                                log::warn!("{}: too many lines during the catch-up", line.room);
                            }
                        }
                    }
                    Some(Phase::Joining) | None => {
                        log::debug!("dropped a line from a room we are not in")
                    }
                }
            }
            RoomIncoming::Subject { room, subject } => self.on_subject(room, subject),
            RoomIncoming::Notice { room, .. } => {
                log::debug!("{room}: a notice from the room itself, not an occupant's line")
            }
            RoomIncoming::Bounce { room, id, text } => self.on_room_bounce(room, &id, &text),
            RoomIncoming::Ignored(why) => log::debug!("ignored room message: {why}"),
        }
    }

    /// A subject from the room (its bare JID or an occupant's full JID),
    /// taken only while we are in it.
    fn on_subject(&mut self, room: BareJid, subject: Option<String>) {
        self.end_burst();
        let account = self.account;
        let Some(in_room) = self.rooms.rooms.get_mut(&room) else {
            return log::debug!("dropped a subject from a room we are not in");
        };
        if in_room.phase == Phase::Joining {
            return log::debug!("dropped a subject before we are in the room");
        }
        in_room.subject = subject.clone();
        let (id, announce) = (in_room.id, in_room.phase == Phase::Joined);
        if let Err(e) = self.store(|s| s.set_room_subject(id, subject.as_deref())) {
            self.error(e);
        }
        if announce {
            self.emit(Event::RoomSubject {
                account,
                room: room.to_string(),
                subject,
            });
        }
    }

    /// The room refused our line `id`: it failed, and the next may go.
    fn on_room_bounce(&mut self, room: BareJid, id: &str, text: &str) {
        let Some(in_room) = self.rooms.rooms.get_mut(&room) else {
            return;
        };
        let room_id = in_room.id;
        let updated = self.store(|s| match s.find_room_outgoing(room_id, id)? {
            Some(m) => s.set_room_message_state(m.id, MessageState::Failed, Some(text)),
            None => Ok(None),
        });
        match updated {
            Ok(Some(message)) => {
                if let Some(r) = self.rooms.rooms.get_mut(&room) {
                    if r.in_flight == Some(message.id) {
                        r.in_flight = None;
                    }
                }
                self.emit(Event::RoomMessageUpdated {
                    account: self.account,
                    message: Box::new(message),
                });
                self.flush_rooms();
            }
            Ok(None) => {}
            Err(e) => self.error(e),
        }
    }

    /// Commits the live room lines of the burst read so far, room by room.
    pub(super) fn end_room_burst(&mut self) {
        let burst = std::mem::take(&mut self.rooms.burst);
        if burst.is_empty() {
            return;
        }
        let mut by_room: Vec<(BareJid, Vec<RoomLine>)> = Vec::new();
        for line in burst {
            match by_room.iter_mut().find(|(r, _)| *r == line.room) {
                Some((_, lines)) => lines.push(line),
                None => by_room.push((line.room.clone(), vec![line])),
            }
        }
        for (room, lines) in by_room {
            self.ingest_room(&room, lines, RoomOrigin::Live);
        }
    }

    /// Runs room lines through the pipeline's stages: authorize (a room we
    /// are in), dedupe and store (one transaction), side effects (a
    /// reflected line of ours releases the next), emit. Returns how many
    /// new rows it stored.
    pub(super) fn ingest_room(
        &mut self,
        room: &BareJid,
        lines: Vec<RoomLine>,
        origin: RoomOrigin,
    ) -> usize {
        // 2. authorize
        let Some(in_room) = self.rooms.rooms.get(room) else {
            log::debug!("dropped {} lines of a room we left", lines.len());
            return 0;
        };
        if in_room.phase == Phase::Joining {
            return 0;
        }
        let rows: Vec<NewRoomMessage> = lines
            .iter()
            .filter(|l| l.room == *room)
            .map(|l| {
                let occupant_id = l.occupant_id.clone().filter(|_| in_room.stamps_ids);
                let ours = in_room.is_ours(&l.nick, occupant_id.as_deref());
                let real_jid = match origin {
                    RoomOrigin::Archive => None,
                    RoomOrigin::Live | RoomOrigin::Held => in_room
                        .occupants
                        .get(&l.nick)
                        .and_then(|o| o.real_jid.clone()),
                };
                NewRoomMessage {
                    room: in_room.id,
                    direction: if ours { Direction::Out } else { Direction::In },
                    nick: l.nick.clone(),
                    occupant_id,
                    real_jid,
                    body: l.body.clone(),
                    server_time: Some(l.delay_ms.unwrap_or_else(now_ms)),
                    origin_id: l.origin_id.clone(),
                    stanza_id: l.stanza_id.clone(),
                }
            })
            .collect();
        if rows.is_empty() {
            return 0;
        }
        // 3. dedupe and store
        let outcomes = match self.store(|s| s.insert_room_lines(&rows)) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                self.error(e);
                return 0;
            }
        };
        // 4. side effects and 5. emit
        let account = self.account;
        let mut added = 0;
        let mut released = false;
        for outcome in outcomes {
            match outcome {
                RoomInsertOutcome::Inserted(message) => {
                    added += 1;
                    self.emit(Event::RoomMessageAdded {
                        account,
                        message: Box::new(message),
                    });
                }
                RoomInsertOutcome::Reflected(message) => {
                    if let Some(r) = self.rooms.rooms.get_mut(room) {
                        if r.in_flight == Some(message.id) {
                            r.in_flight = None;
                            released = true;
                        }
                    }
                    self.emit(Event::RoomMessageUpdated {
                        account,
                        message: Box::new(message),
                    });
                }
                RoomInsertOutcome::Duplicate(id) => log::debug!("duplicate room line {id:?}"),
            }
        }
        if released {
            self.flush_rooms();
        }
        added
    }

    /// Sends our oldest pending line of each room we are in, unless one is
    /// on its way there (sent, not yet reflected).
    pub(super) fn flush_rooms(&mut self) {
        if !self.link.usable() || self.rooms.rooms.is_empty() {
            return;
        }
        let pending = match self.store(|s| s.pending_room_outgoing(self.account)) {
            Ok(p) => p,
            Err(e) => return self.error(e),
        };
        for m in pending {
            let Ok(room) = BareJid::new(&m.room) else {
                continue;
            };
            let Some(in_room) = self.rooms.rooms.get_mut(&room) else {
                continue;
            };
            if in_room.phase != Phase::Joined || in_room.in_flight.is_some() {
                continue;
            }
            let Some(origin_id) = m.origin_id.as_deref() else {
                continue;
            };
            in_room.in_flight = Some(m.id);
            let stanza = muc::groupchat(&room, &m.body, origin_id);
            self.send(stanza, Watch::None);
        }
    }

    /// Asks the room's archive for what we missed: after the newest line
    /// stored with the room's stanza-id, or the last [`LAST_LINES`].
    fn start_room_catch_up(&mut self, room: BareJid) {
        let Some(in_room) = self.rooms.rooms.get(&room) else {
            return;
        };
        let id = in_room.id;
        match self.store(|s| s.newest_room_stanza_id(id)) {
            Ok(after) => self.open_room_query(room, after),
            Err(e) => {
                self.error(e);
                self.finish_room_catch_up(&room);
            }
        }
    }

    fn open_room_query(&mut self, room: BareJid, after: Option<String>) {
        let last_only = after.is_none();
        let set = match after {
            Some(after) => SetQuery {
                max: Some(PAGE_SIZE),
                after: Some(after),
                before: None,
                index: None,
            },
            None => SetQuery {
                max: Some(LAST_LINES),
                after: None,
                before: Some(String::new()),
                index: None,
            },
        };
        let queryid = new_id();
        let iq_id = new_id();
        let query = Query {
            queryid: Some(QueryId(queryid.clone())),
            node: None,
            form: None,
            set: Some(set),
            flip_page: false,
        };
        let iq = Iq::from_set(iq_id.clone(), query).with_to(Jid::from(room.clone()));
        if let Some(r) = self.rooms.rooms.get_mut(&room) {
            r.catch_up = Some(CatchUp {
                queryid: queryid.clone(),
                last_only,
                page: Vec::new(),
            });
        }
        self.request(iq_id, iq, PendingIq::RoomMam { room, queryid });
    }

    /// Whether `msg` is an archive result for a room's catch-up.
    pub(super) fn is_room_result(&self, msg: &Message) -> bool {
        msg.from
            .as_ref()
            .and_then(|f| self.rooms.rooms.get(&f.to_bare()))
            .is_some_and(|r| r.catch_up.is_some())
    }

    /// A result of a room's archive: kept for its page if it is from the
    /// room itself, for our open query, and an occupant's line.
    pub(super) fn on_room_archived(&mut self, msg: &Message) {
        match muc::accept_archived(msg) {
            Ok((room, queryid, id, line)) => {
                let Some(q) = self
                    .rooms
                    .rooms
                    .get_mut(&room)
                    .and_then(|r| r.catch_up.as_mut())
                else {
                    return;
                };
                if q.queryid == queryid && q.page.len() < MAX_PAGE {
                    q.page.push((id, line));
                } else {
                    log::debug!("dropped a room archive result for no query of ours");
                }
            }
            Err(why) => log::debug!("dropped a room archive result: {why}"),
        }
    }

    /// The end of a page of a room's archive: its lines are stored; the
    /// next page is asked for, or the catch-up ends.
    pub(super) fn on_room_mam_page(
        &mut self,
        room: &BareJid,
        queryid: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let Some(query) = self
            .rooms
            .rooms
            .get_mut(room)
            .and_then(|r| r.catch_up.take_if(|q| q.queryid == queryid))
        else {
            return;
        };
        let end = match result {
            Ok(payload) => crate::mam::fin(payload),
            Err(e) if e.defined_condition == DefinedCondition::ItemNotFound && !query.last_only => {
                // The room's archive no longer has our newest line: its
                // last lines, then (a gap before them may remain).
                log::warn!("{room}: archive position expired; catching up its last lines");
                return self.open_room_query(room.clone(), None);
            }
            Err(e) => {
                log::info!(
                    "{room}: no archive ({:?}); joined without catch-up",
                    e.defined_condition
                );
                None
            }
        };
        let last = query.page.last().map(|(id, _)| id.clone());
        let empty = query.page.is_empty();
        let lines = query.page.into_iter().map(|(_, line)| line).collect();
        let added = self.ingest_room(room, lines, RoomOrigin::Archive);
        if let Some(r) = self.rooms.rooms.get_mut(room) {
            r.added += added;
        }
        if let Some(end) = end {
            let next = end.last.or(last);
            if !end.complete && !empty && !query.last_only {
                if let Some(after) = next {
                    return self.open_room_query(room.clone(), Some(after));
                }
            }
        }
        self.finish_room_catch_up(room);
    }

    /// The room's catch-up is over: the held lines are stored after the
    /// archive's, then the room is announced as joined, and our pending
    /// lines go out.
    fn finish_room_catch_up(&mut self, room: &BareJid) {
        let Some(in_room) = self.rooms.rooms.get_mut(room) else {
            return;
        };
        in_room.catch_up = None;
        let held = std::mem::take(&mut in_room.held);
        let added = self.ingest_room(room, held, RoomOrigin::Held);
        let account = self.account;
        let Some(in_room) = self.rooms.rooms.get_mut(room) else {
            return;
        };
        in_room.phase = Phase::Joined;
        in_room.added += added;
        let mut occupants: Vec<Occupant> = in_room.occupants.values().cloned().collect();
        occupants.sort_by(|a, b| a.nick.cmp(&b.nick));
        let event = Event::RoomJoined {
            account,
            room: room.to_string(),
            nick: in_room.nick.clone(),
            occupants,
            subject: in_room.subject.clone(),
            added: u32::try_from(in_room.added).unwrap_or(u32::MAX),
        };
        self.emit(event);
        self.flush_rooms();
    }
}

/// The occupant a presence describes; its occupant id only if `ids` (the
/// room stamps them, or we do not know yet).
fn occupant(rp: &RoomPresence, ids: bool) -> Occupant {
    let (display, disguised) = muc::display_nick(&rp.nick);
    Occupant {
        nick: rp.nick.clone(),
        display,
        disguised,
        role: rp.role,
        affiliation: rp.affiliation,
        real_jid: rp.real_jid.as_ref().map(ToString::to_string),
        occupant_id: rp.occupant_id.clone().filter(|_| ids),
    }
}

/// `old` under its new nick.
fn renamed(old: Occupant, nick: String) -> Occupant {
    let (display, disguised) = muc::display_nick(&nick);
    Occupant {
        nick,
        display,
        disguised,
        ..old
    }
}

/// Why an unavailable presence took someone out of the room, if it says.
fn exit(rp: &RoomPresence) -> Option<RoomExit> {
    if rp.has(301) {
        Some(RoomExit::Banned {
            reason: rp.reason.clone(),
        })
    } else if rp.has(307) {
        Some(RoomExit::Kicked {
            reason: rp.reason.clone(),
        })
    } else if rp.has(321) || rp.has(322) || rp.has(332) {
        Some(RoomExit::Removed)
    } else {
        None
    }
}
