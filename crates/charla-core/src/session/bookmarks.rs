//! Room bookmarks in the session (XEP-0402, the XEP-0048 list migrated;
//! the stanzas are [`crate::bookmarks`]'s):
//! - at each fresh login the list is read: its autojoin rooms are joined,
//!   the others kept but not joined; an empty list is filled from the
//!   legacy one, once; a room bookmarked here that the list lost was
//!   removed on another device and is left here too, and one never
//!   bookmarked is added to the list;
//! - a room we got into is bookmarked with autojoin, leaving it clears
//!   autojoin, leaving it for good removes the bookmark;
//! - our other devices' changes come as PEP notifications from our own
//!   account, and join or leave rooms here; anyone else's are dropped.

use std::collections::{HashMap, VecDeque};

use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use super::engine::Engine;
use super::iq::{new_id, PendingIq};
use crate::bookmarks::{self, Bookmark, Change};

/// The bookmarks as the server has them.
#[derive(Debug, Default)]
pub(super) struct Bookmarks {
    /// The list as last read or told, by room.
    known: HashMap<BareJid, Bookmark>,
    /// The legacy list was asked for already (once per session).
    legacy_asked: bool,
    /// The list was read on this session: until then, what is joined is
    /// compared with it once it comes ([`Engine::on_bookmarks`]).
    read: bool,
    /// The server refused the full publish options (ejabberd 23.01): publish
    /// with [`crate::pubsub::Options::Minimal`], the node sized by configuration.
    minimal: bool,
    /// Changes to the node waiting to go, one at a time: a server may handle
    /// a stream's IQs in parallel (ejabberd), and a publish handled before
    /// the configuration that sizes the node replaces the only item it holds.
    queue: VecDeque<NodeChange>,
    /// A change is on its way.
    busy: bool,
}

impl Bookmarks {
    /// A fresh stream: nothing is on its way; the reading of the list at
    /// login catches up with what was not sent.
    pub fn new_stream(&mut self) {
        self.queue.clear();
        self.busy = false;
    }
}

/// One change we make to our bookmarks node.
#[derive(Debug)]
enum NodeChange {
    /// Publish this bookmark.
    Publish(Bookmark),
    /// Remove the bookmark of this room.
    Retract(BareJid),
    /// Size the node (fewer publish options: the server keeps one item
    /// otherwise).
    Configure(BareJid),
}

impl Engine {
    /// After the initial presence of a fresh stream: reads the list.
    pub(super) fn read_bookmarks(&mut self) {
        let id = new_id();
        self.request(id.clone(), bookmarks::request(id), PendingIq::Bookmarks);
    }

    /// The answer to [`Engine::read_bookmarks`].
    pub(super) fn on_bookmarks(&mut self, result: Result<Option<Element>, StanzaError>) {
        let list = match result {
            Ok(payload) => payload
                .as_ref()
                .map(bookmarks::parse_items)
                .unwrap_or_default(),
            // No node yet: nobody bookmarked anything with XEP-0402.
            Err(e) if e.defined_condition == DefinedCondition::ItemNotFound => Vec::new(),
            Err(e) => {
                return log::warn!("bookmarks not read: {:?}", e.defined_condition);
            }
        };
        if list.is_empty() && !self.bookmarks.legacy_asked {
            self.bookmarks.legacy_asked = true;
            let id = new_id();
            self.request(
                id.clone(),
                bookmarks::legacy_request(id),
                PendingIq::LegacyBookmarks,
            );
        }
        self.bookmarks.known = list.iter().map(|b| (b.room.clone(), b.clone())).collect();
        self.bookmarks.read = true;
        for bookmark in list {
            self.follow_bookmark(bookmark);
        }
        // Rooms kept here that the list does not have: one bookmarked
        // before was removed on another device meanwhile, and is left here
        // too; one never bookmarked that we are in (joined while the list
        // could not be written) is bookmarked now, for our other devices
        // (one we are still joining is, once we are in).
        let account = self.account;
        let kept = match self.store(|s| s.rooms(account)) {
            Ok(kept) => kept,
            Err(e) => return self.error(e),
        };
        for room in kept {
            let Ok(jid) = BareJid::new(&room.jid) else {
                continue;
            };
            if self.bookmarks.known.contains_key(&jid) {
                continue;
            }
            if room.bookmarked {
                self.leave_room(jid, true);
            } else if room.autojoin && self.is_joined(&jid) {
                self.publish_bookmark(Bookmark::autojoin(jid, Some(room.nick)));
            }
        }
    }

    /// The answer to the legacy request: its rooms move to XEP-0402.
    pub(super) fn on_legacy_bookmarks(&mut self, result: Result<Option<Element>, StanzaError>) {
        let Ok(Some(payload)) = result else { return };
        for bookmark in bookmarks::parse_legacy(&payload) {
            if self.bookmarks.known.contains_key(&bookmark.room) {
                continue;
            }
            log::info!("{}: bookmark migrated from private storage", bookmark.room);
            self.publish_bookmark(bookmark.clone());
            self.follow_bookmark(bookmark);
        }
    }

    /// A PEP notification about our bookmarks (from our own account:
    /// [`bookmarks::notification`] checked it).
    pub(super) fn on_bookmark_changes(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Set(bookmark) => {
                    self.bookmarks
                        .known
                        .insert(bookmark.room.clone(), bookmark.clone());
                    self.follow_bookmark(bookmark);
                }
                Change::Removed(room) => {
                    self.bookmarks.known.remove(&room);
                    self.leave_room(room, true);
                }
            }
        }
    }

    /// Does here what `bookmark` says: its room kept, and joined (as its
    /// nick, else our address's local part) or not.
    fn follow_bookmark(&mut self, bookmark: Bookmark) {
        let nick = bookmark
            .nick
            .clone()
            .unwrap_or_else(|| self.own.node().map_or("me", |n| n.as_str()).to_owned());
        let account = self.account;
        let room = bookmark.room.clone();
        if bookmark.autojoin {
            if !self.in_room(&room) {
                self.join_room(room.clone(), nick, bookmark.password.clone());
            }
        } else if self.in_room(&room) {
            // Left on another device.
            self.leave_room(room.clone(), false);
        } else {
            let kept = self.store(|s| {
                let kept = s.upsert_room(account, room.as_str(), &nick)?;
                s.set_room_autojoin(kept.id, false)?;
                Ok(())
            });
            if let Err(e) = kept {
                return self.error(e);
            }
        }
        let name = bookmark.name.as_deref();
        let marked = self.store(|s| match s.room(account, room.as_str())? {
            Some(kept) => s.set_room_bookmark(kept.id, name),
            None => Ok(()),
        });
        if let Err(e) = marked {
            self.error(e);
        }
    }

    /// We are in `room` as `nick`: bookmarked with autojoin if it is not
    /// (what other clients added to its bookmark is kept).
    pub(super) fn bookmark_joined(&mut self, room: BareJid, nick: String) {
        if !self.bookmarks.read {
            return;
        }
        let bookmark = match self.bookmarks.known.get(&room) {
            Some(known) if known.autojoin && known.nick.as_deref() == Some(nick.as_str()) => return,
            Some(known) => Bookmark {
                autojoin: true,
                nick: Some(nick),
                ..known.clone()
            },
            None => Bookmark::autojoin(room, Some(nick)),
        };
        self.publish_bookmark(bookmark);
    }

    /// The user left `room`: its bookmark no longer joins it, or (`forget`)
    /// is removed.
    pub(super) fn bookmark_left(&mut self, room: BareJid, forget: bool) {
        if forget {
            if self.bookmarks.known.remove(&room).is_some() && self.link.usable() {
                self.bookmarks.queue.push_back(NodeChange::Retract(room));
                self.next_bookmark_change();
            }
            return;
        }
        if let Some(known) = self.bookmarks.known.get(&room).filter(|b| b.autojoin) {
            let bookmark = Bookmark {
                autojoin: false,
                ..known.clone()
            };
            self.publish_bookmark(bookmark);
        }
    }

    /// The publish options this server takes for our private nodes.
    pub(super) fn pep_options(&self) -> crate::pubsub::Options {
        match self.bookmarks.minimal {
            true => crate::pubsub::Options::Minimal,
            false => crate::pubsub::Options::Full,
        }
    }

    /// The server refused the full publish options (ejabberd 23.01): from
    /// now on, fewer, for every private node.
    pub(super) fn bookmarks_take_fewer_options(&mut self) {
        if !self.bookmarks.minimal {
            log::info!("the server takes fewer publish options");
        }
        self.bookmarks.minimal = true;
    }

    fn publish_bookmark(&mut self, bookmark: Bookmark) {
        if !self.link.usable() {
            // The next login's reading of the list catches up.
            return;
        }
        self.bookmarks
            .known
            .insert(bookmark.room.clone(), bookmark.clone());
        self.bookmarks
            .queue
            .push_back(NodeChange::Publish(bookmark));
        self.next_bookmark_change();
    }

    /// The user goes offline: what is still queued goes now, without
    /// waiting for answers (a kick's "do not join again", say, must not
    /// be lost with the stream).
    pub(crate) fn send_queued_bookmark_changes(&mut self) {
        while !self.bookmarks.queue.is_empty() && self.link.usable() {
            self.bookmarks.busy = false;
            self.next_bookmark_change();
        }
    }

    /// Sends the next queued change, unless one is on its way.
    fn next_bookmark_change(&mut self) {
        if self.bookmarks.busy || !self.link.usable() {
            return;
        }
        let Some(change) = self.bookmarks.queue.pop_front() else {
            return;
        };
        let id = new_id();
        let (iq, room, fallback) = match change {
            NodeChange::Publish(bookmark) => {
                let options = self.pep_options();
                let iq = bookmarks::publish(id.clone(), &bookmark, options);
                let fallback =
                    (options == crate::pubsub::Options::Full).then(|| Box::new(bookmark.clone()));
                (iq, bookmark.room, fallback)
            }
            NodeChange::Retract(room) => (bookmarks::retract(id.clone(), &room), room, None),
            NodeChange::Configure(room) => (
                crate::pubsub::configure(id.clone(), bookmarks::NODE),
                room,
                None,
            ),
        };
        self.bookmarks.busy = true;
        self.request(id, iq, PendingIq::BookmarkChange { room, fallback });
    }

    /// The answer to a change of our bookmarks node: the next may go; a
    /// publish refused for its options goes again with fewer.
    pub(super) fn on_bookmark_change(
        &mut self,
        room: BareJid,
        result: Result<Option<Element>, StanzaError>,
        fallback: Option<Box<Bookmark>>,
    ) {
        self.bookmarks.busy = false;
        match (result, fallback) {
            (Ok(_), _) => {}
            (Err(_), Some(bookmark)) => self.publish_with_fewer_options(*bookmark),
            (Err(e), None) => {
                log::warn!("{room}: bookmark not changed: {:?}", e.defined_condition)
            }
        }
        self.next_bookmark_change();
    }

    /// The server refused the full publish options: from now on, fewer,
    /// with the node sized by configuration before and after (the node may
    /// exist already, holding one item, or be created by this publish),
    /// each step after the previous one's answer.
    fn publish_with_fewer_options(&mut self, bookmark: Bookmark) {
        self.bookmarks_take_fewer_options();
        let room = bookmark.room.clone();
        let steps = [
            NodeChange::Configure(room.clone()),
            NodeChange::Publish(bookmark),
            NodeChange::Configure(room),
        ];
        for step in steps.into_iter().rev() {
            self.bookmarks.queue.push_front(step);
        }
    }
}
