//! A room's lines in the session: live ones read, held during the
//! room's catch-up, and stored through the pipeline's stages
//! ([`Engine::ingest_room`]); our own pending lines sent, one at a time.

use charla_store::{
    ActionChat, ActionKind, Direction, MessageState, NewAction, NewRoomMessage, RoomId,
    RoomInsertOutcome,
};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;

use super::{Phase, RoomOrigin, MAX_HELD};

/// Pending private messages looked at per flush (more go at the next).
const MAX_PRIVATE_FLUSH: u32 = 100;
use crate::chat::Act;
use crate::event::Event;
use crate::muc::{self, RoomIncoming, RoomLine};
use crate::session::engine::{Engine, Watch};
use crate::session::now_ms;

impl Engine {
    /// A `groupchat` message, or an error from a room we are in.
    pub(in crate::session) fn on_room_message(&mut self, msg: &Message) {
        match muc::classify(msg) {
            RoomIncoming::Line(line) => self.take_room_line(line),
            RoomIncoming::Subject { room, subject } => self.on_subject(room, subject),
            RoomIncoming::Notice { room, .. } => {
                log::debug!("{room}: a notice from the room itself, not an occupant's line")
            }
            RoomIncoming::Bounce { room, id, text } => self.on_room_bounce(room, &id, &text),
            RoomIncoming::Moderated { room, target, by } => self.on_moderated(room, target, by),
            RoomIncoming::Ignored(why) => log::debug!("ignored room message: {why}"),
        }
    }

    /// A `chat` or `normal` message from an occupant of a room we are in:
    /// a private message (XEP-0045 §7.5), kept with the room's lines and
    /// marked private; anything without a body is dropped.
    pub(in crate::session) fn on_room_private(&mut self, msg: &Message) {
        match muc::private_line(msg) {
            Some(line) => self.take_room_line(line),
            None => log::debug!("ignored an occupant's message without a body"),
        }
    }

    /// A line read live: joins the burst once we are in the room, is held
    /// during its catch-up, and is dropped before we are in.
    fn take_room_line(&mut self, line: RoomLine) {
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

    /// A subject from the room (its bare JID or an occupant's full JID),
    /// taken only while we are in it.
    pub(in crate::session) fn on_subject(&mut self, room: BareJid, subject: Option<String>) {
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

    /// The room's moderators retracted line `target` (XEP-0425): kept
    /// only from a room we are in.
    fn on_moderated(&mut self, room: BareJid, target: String, by: String) {
        self.end_burst();
        let Some(in_room) = self.rooms.rooms.get(&room) else {
            return log::debug!("dropped a moderation from a room we are not in");
        };
        if in_room.phase == Phase::Joining {
            return;
        }
        let by_nick = by.rsplit_once('/').map(|(_, n)| n.to_owned()).unwrap_or(by);
        let new = NewAction {
            chat: ActionChat::Room(in_room.id),
            kind: ActionKind::Retract,
            target: target.clone(),
            direction: Direction::In,
            author: "room".to_owned(),
            author_name: muc::display_nick(&by_nick).0,
            body: None,
            action_id: None,
            moderated: true,
            server_time: Some(now_ms()),
            pending: false,
        };
        match self.store(|s| s.insert_action(&new)) {
            Ok(_) => self.announce_room_acts(&room, vec![target]),
            Err(e) => self.error(e),
        }
    }

    /// Emits the lines of `room` that stored acts naming `targets` changed.
    fn announce_room_acts(&mut self, room: &BareJid, targets: Vec<String>) {
        let Some(id) = self.rooms.rooms.get(room).map(|r| r.id) else {
            return;
        };
        let account = self.account;
        for target in targets {
            match self.store(|s| s.room_lines_named(id, &target)) {
                Ok(lines) => {
                    for message in lines {
                        self.emit(Event::RoomMessageUpdated {
                            account,
                            message: Box::new(message),
                        });
                    }
                }
                Err(e) => self.error(e),
            }
        }
    }

    /// The room refused our line `id`: it failed, and the next may go.
    pub(in crate::session) fn on_room_bounce(&mut self, room: BareJid, id: &str, text: &str) {
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
    pub(in crate::session) fn end_room_burst(&mut self) {
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
    pub(in crate::session) fn ingest_room(
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
        let own_occupant = format!("{room}/{}", in_room.nick);
        let (acts, lines): (Vec<RoomLine>, Vec<RoomLine>) = lines
            .into_iter()
            .filter(|l| l.room == *room)
            .partition(|l| l.act.is_some());
        let actions: Vec<NewAction> = acts
            .iter()
            .filter_map(|l| {
                let (occupant_id, ours, real_jid) = in_room.author(l, origin);
                room_action(in_room.id, l, ours, occupant_id, real_jid)
            })
            .collect();
        let mut changed = Vec::new();
        for new in &actions {
            match self.store(|s| s.insert_action(new)) {
                Ok(Some(_)) => changed.push(new.target.clone()),
                Ok(None) => log::debug!("a room act seen again"),
                Err(e) => {
                    self.error(e);
                    return 0;
                }
            }
        }
        self.announce_room_acts(room, changed);
        let Some(in_room) = self.rooms.rooms.get(room) else {
            return 0;
        };
        let rows: Vec<NewRoomMessage> = lines
            .iter()
            .map(|l| {
                let (occupant_id, ours, real_jid) = in_room.author(l, origin);
                NewRoomMessage {
                    unstyled: l.unstyled,
                    room: in_room.id,
                    direction: if ours { Direction::Out } else { Direction::In },
                    nick: l.nick.clone(),
                    occupant_id,
                    real_jid,
                    body: l.body.clone(),
                    server_time: Some(l.delay_ms.unwrap_or_else(now_ms)),
                    origin_id: l.origin_id.clone(),
                    stanza_id: l.stanza_id.clone(),
                    private_with: l.private.then(|| l.nick.clone()),
                    mentions_us: !ours
                        && l.mentioned
                            .iter()
                            .any(|jid| *jid == own_occupant || jid.as_str() == self.own.as_str()),
                    reply: l.reply.as_deref().cloned(),
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
    /// on its way there (sent, not yet reflected), and our pending private
    /// messages. Each room's next line is looked up alone, so a backlog of
    /// thousands costs one indexed lookup per room, not a read of them all.
    pub(in crate::session) fn flush_rooms(&mut self) {
        if !self.link.usable() || self.rooms.rooms.is_empty() {
            return;
        }
        let ready: Vec<(BareJid, charla_store::RoomId)> = self
            .rooms
            .rooms
            .iter()
            .filter(|(_, r)| r.phase == Phase::Joined && r.in_flight.is_none())
            .map(|(room, r)| (room.clone(), r.id))
            .collect();
        for (room, id) in ready {
            let next = match self.store(|s| s.next_room_outgoing(id)) {
                Ok(next) => next,
                Err(e) => return self.error(e),
            };
            let Some(m) = next else { continue };
            let Some(origin_id) = m.origin_id.as_deref() else {
                continue;
            };
            if let Some(in_room) = self.rooms.rooms.get_mut(&room) {
                in_room.in_flight = Some(m.id);
            }
            let stanza = match &m.rich.reply {
                None => muc::groupchat(&room, &m.body, origin_id),
                Some(reply) => {
                    let shown = self.store(|s| s.room_message(m.id)).ok().flatten();
                    let quote = shown.and_then(|s| s.rich.reply).and_then(|r| r.quote);
                    let (body, payloads) = crate::reply::build(
                        &charla_store::ReplyRef {
                            id: reply.id.clone(),
                            to: reply.to.clone(),
                        },
                        quote.as_deref(),
                        &m.body,
                    );
                    let mut stanza = muc::groupchat(&room, &body, origin_id);
                    stanza.payloads.extend(payloads);
                    stanza
                }
            };
            self.send(stanza, Watch::None);
        }
        self.flush_private();
    }

    /// Sends our pending private messages to occupants of rooms we are in,
    /// each once per stream; the server's ack marks them sent.
    fn flush_private(&mut self) {
        let pending = match self.store(|s| s.pending_room_private(self.account, MAX_PRIVATE_FLUSH))
        {
            Ok(p) => p,
            Err(e) => return self.error(e),
        };
        for m in pending {
            let (Ok(room), Some(nick), Some(origin_id)) = (
                BareJid::new(&m.room),
                m.private_with.as_deref(),
                m.origin_id.as_deref(),
            ) else {
                continue;
            };
            if !self.is_joined(&room) || self.rooms.private_in_flight.contains_key(&m.id) {
                continue;
            }
            let Some(stanza) = muc::private(&room, nick, &m.body, origin_id) else {
                continue;
            };
            let generation = self.outbox_generation();
            self.rooms.private_in_flight.insert(m.id, generation);
            self.send(
                stanza,
                Watch::RoomPrivate {
                    id: m.id,
                    generation,
                },
            );
        }
    }
}

impl Engine {
    /// The fate of our private message `id`, sent on stream `generation`:
    /// `sent` once the server has it; lost with its stream, it goes again
    /// once we are back in the room.
    pub(in crate::session) fn on_private_fate(
        &mut self,
        id: charla_store::RoomMessageId,
        generation: u64,
        acked: bool,
    ) {
        if self.rooms.private_in_flight.get(&id) == Some(&generation) {
            self.rooms.private_in_flight.remove(&id);
        }
        if acked {
            match self.store(|s| s.set_room_message_state(id, MessageState::Sent, None)) {
                Ok(Some(message)) => self.emit(Event::RoomMessageUpdated {
                    account: self.account,
                    message: Box::new(message),
                }),
                Ok(None) => {}
                Err(e) => self.error(e),
            }
            self.flush_private();
        }
    }
}

/// The row for an occupant's act in room `room`. Its author is who the
/// room vouches for: ours (`self`), else the occupant id (XEP-0421), else
/// the real JID, else only the nick (which may act on nobody's line but
/// may react).
fn room_action(
    room: RoomId,
    l: &RoomLine,
    ours: bool,
    occupant_id: Option<String>,
    real_jid: Option<String>,
) -> Option<NewAction> {
    let (kind, target, body) = match l.act.as_deref()? {
        Act::Correct { target } => (ActionKind::Correct, target, Some(l.body.clone())),
        Act::Retract { target } => (ActionKind::Retract, target, None),
        Act::React(r) => (ActionKind::React, &r.target, Some(r.emoji.join("\n"))),
    };
    let author = if ours {
        "self".to_owned()
    } else if let Some(id) = occupant_id {
        format!("oid:{id}")
    } else if let Some(jid) = real_jid {
        format!("jid:{}", jid.split('/').next().unwrap_or_default())
    } else {
        format!("nick:{}", l.nick)
    };
    Some(NewAction {
        chat: ActionChat::Room(room),
        kind,
        target: target.clone(),
        direction: if ours { Direction::Out } else { Direction::In },
        author,
        author_name: muc::display_nick(&l.nick).0,
        body,
        action_id: l.origin_id.clone().or_else(|| l.stanza_id.clone()),
        moderated: false,
        server_time: Some(l.delay_ms.unwrap_or_else(now_ms)),
        pending: false,
    })
}
