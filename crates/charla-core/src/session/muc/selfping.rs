//! Whether the rooms kept us (XEP-0410 self-ping), asked after a
//! resumption and every [`SELF_PING_EVERY`] while we are in a room: a room
//! that lost us is joined again.

use std::time::Duration;

use tokio::time::Instant;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use super::Phase;
use crate::session::engine::Engine;
use crate::session::iq::PendingIq;

/// How often the rooms we are in are asked whether they kept us (XEP-0410
/// suggests pinging a room that has been quiet for some minutes; one IQ per
/// room every quarter of an hour costs next to nothing).
pub(in crate::session) const SELF_PING_EVERY: Duration = Duration::from_secs(15 * 60);

impl Engine {
    /// We are in a room: the periodic self-ping runs, if it did not yet.
    pub(in crate::session) fn schedule_self_ping(&mut self) {
        if self.rooms.ping_at.is_none() {
            self.rooms.ping_at = Some(Instant::now() + SELF_PING_EVERY);
        }
    }

    /// When the next periodic self-ping is due, while we are in a room.
    pub(in crate::session) fn self_ping_deadline(&self) -> Option<Instant> {
        self.rooms.ping_at
    }

    /// Time passed: if the periodic self-ping is due, the rooms are asked,
    /// and the next one is scheduled while we are still in any.
    pub(in crate::session) fn self_ping_due(&mut self, now: Instant) {
        if self.rooms.ping_at.is_none_or(|at| at > now) {
            return;
        }
        let in_any = self.rooms.rooms.values().any(|r| r.phase == Phase::Joined);
        self.rooms.ping_at = in_any.then(|| now + SELF_PING_EVERY);
        if self.link.usable() {
            self.ping_rooms();
        }
    }

    /// Asks each room we are in whether we still are (XEP-0410): after a
    /// resumption, the room (or its server) may have dropped us meanwhile.
    pub(in crate::session) fn ping_rooms(&mut self) {
        let joined: Vec<(BareJid, String)> = self
            .rooms
            .rooms
            .iter()
            .filter(|(_, r)| r.phase == Phase::Joined)
            .map(|(room, r)| (room.clone(), r.nick.clone()))
            .collect();
        for (room, nick) in joined {
            let Ok(to) = room.with_resource_str(&nick) else {
                continue;
            };
            let pending = PendingIq::SelfPing { room, nick };
            self.get(
                Some(Jid::from(to)),
                xmpp_parsers::ping::Ping.into(),
                pending,
            );
        }
    }

    /// The room's answer to our self-ping (XEP-0410 §3.2): a result, or an
    /// error saying only that our client does not answer pings, means we
    /// are in; an unreachable room is asked again at the next resumption;
    /// anything else means the room lost us: we join again, and its
    /// catch-up brings what we missed, once.
    pub(in crate::session) fn on_self_ping(
        &mut self,
        room: BareJid,
        nick: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let condition = match result {
            Ok(_) => return,
            Err(e) => e.defined_condition,
        };
        match condition {
            DefinedCondition::ServiceUnavailable
            | DefinedCondition::FeatureNotImplemented
            | DefinedCondition::ItemNotFound
            | DefinedCondition::RemoteServerNotFound
            | DefinedCondition::RemoteServerTimeout => return,
            _ => {}
        }
        let Some(in_room) = self
            .rooms
            .rooms
            .get(&room)
            .filter(|r| r.phase == Phase::Joined && r.nick == nick)
        else {
            return;
        };
        log::info!("{room}: the room lost us ({condition:?}); joining again");
        let (id, nick) = (in_room.id, in_room.nick.clone());
        self.rooms.rooms.remove(&room);
        self.send_join(room, id, nick);
    }
}
