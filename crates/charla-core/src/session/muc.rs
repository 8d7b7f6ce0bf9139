//! Group chats in the session: joining, leaving and being in rooms
//! (XEP-0045), their occupants (with XEP-0421 occupant ids), their lines,
//! and each room's catch-up from its own archive (XEP-0313 on the room's
//! JID) on every join.
//!
//! A room goes through three phases:
//! 1. **joining**: our presence is sent; occupants' presences are taken in,
//!    lines are not (we are not in the room yet);
//! 2. **catching up**: the room sent our own presence (status 110); its
//!    archive is asked for everything after the newest line we have (from
//!    when the room was last caught up if we have none, its last
//!    [`LAST_LINES`] on a first join), and live lines are held;
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
//! resumption the stream kept us in them, and a self-ping (XEP-0410) asks
//! each room whether it kept us too; so does one every
//! [`selfping::SELF_PING_EVERY`] while we are in any (a room restarted or
//! a server that dropped us without a word). A room that kicked or banned
//! us is not joined again by itself.

use std::collections::HashMap;

use charla_store::{RoomId, RoomMessageId};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::StanzaError;

use super::engine::{Engine, Watch};
use super::iq::{new_id, PendingIq};
use crate::event::{Event, OccupantChange, RoomExit};
use crate::muc::{self, Occupant, Refusal, RoomLine, RoomPresence};
use crate::roomconfig::{self, RoomPreset};

mod catch_up;
mod lines;
pub(super) mod selfping;

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

    /// Who line `l` is by, as far as the room vouches: its occupant id
    /// (only from a room that stamps them), whether it is ours (a private
    /// message never is: the room reflects none), and the author's real
    /// JID (a live line's from the occupant's presence, an archived one's
    /// from the archive).
    fn author(&self, l: &RoomLine, origin: RoomOrigin) -> (Option<String>, bool, Option<String>) {
        let occupant_id = l.occupant_id.clone().filter(|_| self.stamps_ids);
        let ours = !l.private && self.is_ours(&l.nick, occupant_id.as_deref());
        let real_jid = match origin {
            RoomOrigin::Archive => l.real_jid.clone(),
            RoomOrigin::Live | RoomOrigin::Held => {
                self.occupants.get(&l.nick).and_then(|o| o.real_jid.clone())
            }
        };
        (occupant_id, ours, real_jid)
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
    /// Rooms we asked to create, with their settings, until the room says
    /// we created it (status 201) or let us into an existing one.
    presets: HashMap<BareJid, RoomPreset>,
    /// Our private messages on their way, with the stream generation
    /// that sent them.
    private_in_flight: HashMap<RoomMessageId, u64>,
    /// When the rooms we are in are next asked whether they kept us
    /// (XEP-0410), while we are in any.
    ping_at: Option<tokio::time::Instant>,
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
        self.rooms.private_in_flight.clear();
        self.rooms.ping_at = None;
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

    /// Creates `room` as `preset` says and joins it as `nick`; the settings
    /// are submitted when the room tells us we created it.
    pub(super) fn create_room(&mut self, room: BareJid, nick: String, preset: RoomPreset) {
        let account = self.account;
        let name = preset.name.trim().to_owned();
        self.rooms.presets.insert(room.clone(), preset);
        self.join_room(room.clone(), nick, None);
        if !name.is_empty() {
            let named = self.store(|s| match s.room(account, room.as_str())? {
                Some(kept) => s.set_room_name(kept.id, &name),
                None => Ok(()),
            });
            if let Err(e) = named {
                self.error(e);
            }
        }
    }

    /// Accepts the default configuration of the room we created (an
    /// instant room, XEP-0045 §10.1.2), which unlocks it for others.
    pub(super) fn accept_default_configuration(&mut self, room: BareJid) {
        let id = new_id();
        let iq = Iq::Set {
            from: None,
            to: Some(Jid::from(room.clone())),
            id: id.clone(),
            payload: muc::instant_room(),
        };
        self.request(id, iq, PendingIq::RoomConfig { room });
    }

    /// The configuration form of the room we created for `preset`: filled
    /// in and submitted, or, without a form, the defaults taken.
    pub(super) fn on_room_form(
        &mut self,
        room: BareJid,
        preset: &RoomPreset,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let id = new_id();
        let submitted = match result {
            Ok(Some(answer)) => roomconfig::submit(id.clone(), &room, &answer, preset),
            _ => None,
        };
        match submitted {
            Some(iq) => self.request(id, iq, PendingIq::RoomConfig { room }),
            None => self.accept_default_configuration(room),
        }
    }

    /// An invitation to a room: told, with whether a stranger sent it.
    pub(super) fn on_invite(&mut self, invite: crate::invite::Invite) {
        let account = self.account;
        let inviter = invite.inviter.to_string();
        // Someone known only by their nick in the room is nobody we know.
        let stranger = invite.inviter.resource().is_some()
            || self
                .store(|s| s.is_stranger(account, &inviter))
                .unwrap_or(true);
        log::info!("{} invites us to {}", invite.inviter, invite.room);
        self.emit(Event::RoomInvite {
            account,
            room: invite.room.to_string(),
            from: inviter,
            reason: invite.reason,
            password: invite.password,
            stranger,
        });
    }

    /// Whether we are in `room`, its catch-up done.
    pub(super) fn is_joined(&self, room: &BareJid) -> bool {
        self.rooms
            .rooms
            .get(room)
            .is_some_and(|r| r.phase == Phase::Joined)
    }

    /// Whether we are in `room` (or joining it).
    pub(super) fn in_room(&self, room: &BareJid) -> bool {
        self.rooms.rooms.contains_key(room)
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
        if !(self.link.usable() && self.presence.sent) {
            return;
        }
        match self.rooms.rooms.get(&room) {
            // In it already: a new nick is a nick change (XEP-0045 §7.6),
            // which keeps everything we know of the room.
            Some(in_room) if in_room.phase != Phase::Joining => {
                if in_room.nick != nick {
                    if let Ok(to) = room.with_resource_str(&nick) {
                        self.send(Presence::available().with_to(to), Watch::None);
                    }
                }
            }
            _ => self.send_join(room, kept.id, nick),
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
        let left = self.rooms.rooms.remove(&room);
        if let Some(left) = &left {
            if self.link.usable() {
                if let Some(p) = muc::leave(&room, &left.nick) {
                    self.send(p, Watch::None);
                }
            }
        }
        // Forgotten is told whether or not we were in it: the list follows.
        if forget || left.is_some() {
            self.emit(Event::RoomLeft {
                account,
                room: room.to_string(),
                reason: if forget {
                    RoomExit::Forgotten
                } else {
                    RoomExit::Left
                },
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
        if refusal == Refusal::NickTaken
            && self
                .rooms
                .rooms
                .get(&room)
                .is_some_and(|r| r.phase != Phase::Joining && r.nick != rp.nick)
        {
            // A nick change refused: we are still in the room, as we were.
            return self.emit(Event::RoomNickTaken {
                account,
                room: room.to_string(),
                nick: rp.nick.clone(),
                suggested: muc::suggest_nick(&rp.nick),
            });
        }
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
                // Shown, and not joined again by itself, here or on our
                // other devices.
                if let Err(e) = self.store(|s| s.set_room_autojoin(id, false)) {
                    self.error(e);
                }
                self.bookmark_left(room.clone(), false);
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
                let preset = self.rooms.presets.remove(&room);
                // A room we made is configured first: it is settled (and
                // open to those we invite) only after that.
                match (created, preset) {
                    // We made it as asked: its form, filled in for the preset.
                    (true, Some(preset)) => {
                        let id = new_id();
                        let iq = roomconfig::form_request(id.clone(), &room);
                        let pending = PendingIq::RoomConfigForm {
                            room: room.clone(),
                            preset: Box::new(preset),
                        };
                        self.request(id, iq, pending);
                    }
                    // We made it by joining: take the defaults, so others may join.
                    (true, None) => self.accept_default_configuration(room.clone()),
                    (false, _) => self.start_room_catch_up(room),
                }
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
        show: rp.show,
        status: rp.status.clone(),
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
