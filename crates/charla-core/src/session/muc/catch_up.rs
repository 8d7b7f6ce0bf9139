//! Each room's catch-up from its own archive (XEP-0313 on the room's
//! JID), which settles the join ([`Event::RoomJoined`]).

use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::{Query, QueryId};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::rsm::SetQuery;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use super::{CatchUp, Phase, RoomOrigin, LAST_LINES, MAX_PAGE, PAGE_SIZE};
use crate::event::Event;
use crate::muc::{self, Occupant};
use crate::session::engine::Engine;
use crate::session::iq::{new_id, PendingIq};
use crate::session::now_ms;

/// How far before the last moment we were caught up a catch-up by time
/// starts: the server's clock and ours may differ (lines fetched twice are
/// dropped by their stanza-id).
const CLOCK_MARGIN_MS: i64 = 5 * 60 * 1000;

impl Engine {
    /// Asks the room's archive for what we missed: after the newest line
    /// stored with the room's stanza-id, or the last [`LAST_LINES`].
    pub(in crate::session) fn start_room_catch_up(&mut self, room: BareJid) {
        let Some(in_room) = self.rooms.rooms.get(&room) else {
            return;
        };
        let id = in_room.id;
        let position =
            self.store(|s| Ok((s.newest_room_stanza_id(id)?, s.room_last_activity(id)?)));
        match position {
            Ok((Some(after), _)) => self.open_room_query(room, Some(after)),
            // No line to go on, but we were in the room up to then: from
            // then (a margin for the server's and our clocks), not only
            // its last lines.
            Ok((None, Some(at))) => {
                self.open_room_query_from(room, at.saturating_sub(CLOCK_MARGIN_MS))
            }
            Ok((None, None)) => self.open_room_query(room, None),
            Err(e) => {
                self.error(e);
                self.finish_room_catch_up(&room);
            }
        }
    }

    pub(in crate::session) fn open_room_query(&mut self, room: BareJid, after: Option<String>) {
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
        self.send_room_query(room, set, None, last_only);
    }

    /// Asks the room's archive for everything from `start` (unix ms), page
    /// by page.
    fn open_room_query_from(&mut self, room: BareJid, start: i64) {
        let set = SetQuery {
            max: Some(PAGE_SIZE),
            after: None,
            before: None,
            index: None,
        };
        self.send_room_query(room, set, crate::mam::start_form(start), false);
    }

    fn send_room_query(
        &mut self,
        room: BareJid,
        set: SetQuery,
        form: Option<xmpp_parsers::data_forms::DataForm>,
        last_only: bool,
    ) {
        let queryid = new_id();
        let iq_id = new_id();
        let query = Query {
            queryid: Some(QueryId(queryid.clone())),
            node: None,
            form,
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
    pub(in crate::session) fn is_room_result(&self, msg: &Message) -> bool {
        msg.from
            .as_ref()
            .and_then(|f| self.rooms.rooms.get(&f.to_bare()))
            .is_some_and(|r| r.catch_up.is_some())
    }

    /// A result of a room's archive: kept for its page if it is from the
    /// room itself, for our open query, and an occupant's line.
    pub(in crate::session) fn on_room_archived(&mut self, msg: &Message) {
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
    pub(in crate::session) fn on_room_mam_page(
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
    pub(in crate::session) fn finish_room_catch_up(&mut self, room: &BareJid) {
        let Some(in_room) = self.rooms.rooms.get_mut(room) else {
            return;
        };
        in_room.catch_up = None;
        let id = in_room.id;
        // Everything up to now is here: a later catch-up with no line to
        // go on starts from now.
        if let Err(e) = self.store(|s| s.set_room_caught_up(id, now_ms())) {
            self.error(e);
        }
        let Some(in_room) = self.rooms.rooms.get_mut(room) else {
            return;
        };
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
        let nick = in_room.nick.clone();
        let event = Event::RoomJoined {
            account,
            room: room.to_string(),
            nick: nick.clone(),
            occupants,
            subject: in_room.subject.clone(),
            added: u32::try_from(in_room.added).unwrap_or(u32::MAX),
        };
        self.emit(event);
        self.flush_rooms();
        self.flush_acts();
        self.schedule_self_ping();
        // Only a room we got into is bookmarked (a room being created
        // refuses our other devices until then).
        self.bookmark_joined(room.clone(), nick);
    }
}
