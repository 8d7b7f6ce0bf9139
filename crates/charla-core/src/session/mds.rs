//! Read state across our devices (XEP-0490, the stanzas are
//! [`crate::mds`]'s): reading a room here publishes how far it was read;
//! our other devices' notifications (from our own account only) mark the
//! room read here up to that line, as [`Event::RoomRead`].

use xmpp_parsers::jid::BareJid;

use super::engine::Engine;
use super::iq::{new_id, PendingIq};
use crate::event::Event;
use crate::mds::{self, Displayed};
use crate::pubsub::Options;

impl Engine {
    /// The user read `room` up to its line stamped `stanza_id`.
    pub(super) fn room_displayed(&mut self, room: BareJid, stanza_id: String) {
        if !self.link.usable() {
            return;
        }
        let options = self.pep_options();
        let id = new_id();
        let iq = mds::publish(id.clone(), &room, &stanza_id, &room, options);
        let fallback = options == Options::Full;
        self.request(
            id,
            iq,
            PendingIq::DisplayedChange {
                room,
                stanza_id,
                fallback,
            },
        );
    }

    /// The server refused the full publish options: fewer, the node sized
    /// by configuration before and after (as for bookmarks).
    pub(super) fn room_displayed_with_fewer_options(&mut self, room: BareJid, stanza_id: String) {
        self.bookmarks_take_fewer_options();
        for step in 0..3 {
            let id = new_id();
            let iq = match step {
                1 => mds::publish(id.clone(), &room, &stanza_id, &room, Options::Minimal),
                _ => crate::pubsub::configure(id.clone(), mds::NODE),
            };
            let pending = PendingIq::DisplayedChange {
                room: room.clone(),
                stanza_id: stanza_id.clone(),
                fallback: false,
            };
            self.request(id, iq, pending);
        }
    }

    /// Our other devices read these chats: a room read up to a line we
    /// have is announced read here.
    pub(super) fn on_displayed(&mut self, list: Vec<Displayed>) {
        let account = self.account;
        for displayed in list {
            // A room's line is named by the room's own stanza-id.
            if displayed.by != displayed.chat {
                continue;
            }
            let found = self.store(|s| {
                let Some(room) = s.room(account, displayed.chat.as_str())? else {
                    return Ok(None);
                };
                s.room_message_by_stanza_id(room.id, &displayed.stanza_id)
            });
            match found {
                Ok(Some(line)) => self.emit(Event::RoomRead {
                    account,
                    room: displayed.chat.to_string(),
                    up_to: line.id,
                }),
                Ok(None) => {}
                Err(e) => self.error(e),
            }
        }
    }
}
