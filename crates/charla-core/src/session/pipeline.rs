//! The one inbound path of chat messages, whatever their origin (live,
//! held during a catch-up, an archive page, older history). Its stages, in
//! order:
//!
//! 1. **classify**: what a `<message/>` is (a chat message, acks, a chat
//!    state, a bounce...): [`crate::chat::classify`], behind the carbons
//!    (XEP-0280) and archive (XEP-0313) checks of who may wrap what;
//! 2. **authorize**: contacts and our own copies pass; a stranger may leave
//!    [`STRANGER_MESSAGES`] until the user answers ([`Engine::authorize`]);
//! 3. **dedupe and store**: one transaction per batch, which drops what is
//!    already stored (by stanza-id or origin-id) and, for an archive page,
//!    moves the archive position with the rows;
//! 4. **side effects**: receipts owed are sent (XEP-0184), the archive
//!    position follows live messages;
//! 5. **emit**: [`Event::MessageAdded`] for each new row: saved first,
//!    then told;
//! 6. **acks**: the receipts and markers the batch carries move our own
//!    messages' states.
//!
//! Older history stops after stage 3: it is history, not news (no
//! receipts, no events; whoever asked reads it from the store).

use std::collections::HashMap;

use charla_store::{
    ActionChat, ActionKind, Direction, InsertOutcome, MessageState, NewAction, NewMessage,
};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::{Message, MessageType};

use super::engine::Engine;
use super::now_ms;
use crate::carbons::{self, Carbon};
use crate::chat::{self, Act, Incoming, IncomingChat};
use crate::error::CoreError;
use crate::event::Event;
use crate::{avatar, mam};

/// Messages a stranger may leave before the user answers or adds them;
/// the rest of a flood is not stored.
pub(super) const STRANGER_MESSAGES: u32 = 20;

/// Where a batch comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin<'a> {
    /// Read from the stream just now (with carbon copies, XEP-0280).
    Live,
    /// Live, but held during a catch-up and committed after it: the
    /// catch-up already moved the archive position past them.
    Held,
    /// A catch-up page, with the archive position it ends at.
    Archive {
        last_id: &'a str,
        last_time: Option<i64>,
    },
    /// A page of older history that the user asked for.
    Older,
}

/// Live chat messages not committed yet.
#[derive(Debug, Default)]
pub(super) struct Inbound {
    /// Live messages that arrived during a catch-up with our archive's
    /// stanza-id: committed after the catch-up, so that rows follow the
    /// archive's order (they are in the archive, and most come again in it).
    held: Vec<IncomingChat>,
    /// Live chat messages of the burst being read, committed together
    /// before anything else is handled (see [`Engine::end_burst`]).
    burst: Vec<IncomingChat>,
}

impl Inbound {
    /// A fresh stream: held messages are not committed, so the archive
    /// position is still before them and the catch-up brings them.
    pub fn new_stream(&mut self) {
        self.held.clear();
    }
}

impl Engine {
    /// Stage 1 for a `<message/>`: PEP events, archive results, carbons
    /// and everything else each go their way; chat messages join the burst.
    pub(super) fn on_message(&mut self, msg: Message) {
        if avatar::is_event(&msg) {
            // PEP notifications (XEP-0163) are never chat messages.
            if let Some(changes) = crate::bookmarks::notification(&msg, &self.own) {
                return self.on_bookmark_changes(changes);
            }
            if let Some(displayed) = crate::mds::notification(&msg, &self.own) {
                return self.on_displayed(displayed);
            }
            if let Some((from, advert)) = avatar::metadata_event(&msg) {
                self.on_avatar_advert(from, advert, true);
            }
            return;
        }
        if let Some(invite) = crate::invite::parse(&msg) {
            // An offer to join, never a chat line (nor joined by itself).
            return self.on_invite(invite);
        }
        if mam::is_result(&msg) && self.is_room_result(&msg) {
            self.end_burst();
            return self.on_room_archived(&msg);
        }
        if msg.type_ == MessageType::Groupchat
            || (msg.type_ == MessageType::Error && self.is_room(msg.from.as_ref()))
        {
            // A room's: never a chat message, even from a room we left.
            return self.on_room_message(&msg);
        }
        if matches!(msg.type_, MessageType::Chat | MessageType::Normal)
            && self.is_room(msg.from.as_ref())
            && msg.from.as_ref().is_some_and(|f| f.resource().is_some())
        {
            // An occupant's private message through a room we are in:
            // kept with the room, never as a chat with a stranger.
            self.end_burst();
            return self.on_room_private(&msg);
        }
        if mam::is_result(&msg) {
            // Never read as a plain message, whatever its checks say.
            self.end_burst();
            return self.on_archived(&msg);
        }
        let incoming = match carbons::unwrap(&msg, &self.own) {
            Carbon::No => chat::classify(&msg, &self.own),
            Carbon::Refused(why) => return log::debug!("dropped carbon: {why}"),
            Carbon::Copy(incoming) => incoming,
        };
        if !matches!(incoming, Incoming::Chat(_)) {
            self.end_burst();
        }
        match incoming {
            Incoming::Ignored(why) => log::debug!("ignored message: {why}"),
            Incoming::Bounce { peer, id, text } => {
                let account = self.account;
                let updated =
                    self.store(|s| match s.find_outgoing(account, peer.as_str(), &id)? {
                        Some(m) => s.set_state(m.id, MessageState::Failed, Some(&text)),
                        None => Ok(None),
                    });
                self.announce_update(updated);
            }
            Incoming::Acks { peer, acks } => self.apply_acks(&peer, &acks),
            Incoming::ChatState { peer, state } => self.emit(Event::ChatState {
                account: self.account,
                peer: peer.to_string(),
                state,
            }),
            Incoming::ReadElsewhere { peer, id } => {
                let account = self.account;
                match self.store(|s| s.find_incoming(account, peer.as_str(), &id)) {
                    Ok(Some(up_to)) => self.emit(Event::ChatRead {
                        account,
                        peer: peer.to_string(),
                        up_to,
                    }),
                    Ok(None) => log::debug!("read elsewhere: no such message here"),
                    Err(e) => self.error(e),
                }
            }
            Incoming::Chat(c) => self.on_chat(c),
        }
    }

    /// A chat message (or a carbon copy of one of ours): held during a
    /// catch-up if the archive brings it too, else added to the burst.
    fn on_chat(&mut self, mut c: IncomingChat) {
        if self.catching_up() && self.link.sid_trusted && c.stanza_id.is_some() {
            self.end_burst();
            // Its acks apply now, once: the held message goes without them.
            let acks = std::mem::take(&mut c.acks);
            self.apply_acks(&c.peer, &acks);
            self.inbound.held.push(c);
        } else {
            self.inbound.burst.push(c);
        }
    }

    /// Commits the live chat messages of the burst read so far.
    pub(crate) fn end_burst(&mut self) {
        let burst = std::mem::take(&mut self.inbound.burst);
        self.ingest_live(burst, Origin::Live);
        self.end_room_burst();
    }

    /// Commits the live messages held during a catch-up that just ended.
    pub(super) fn release_held(&mut self) {
        let held = std::mem::take(&mut self.inbound.held);
        self.ingest_live(held, Origin::Held);
    }

    fn ingest_live(&mut self, chats: Vec<IncomingChat>, origin: Origin) {
        if chats.is_empty() {
            return;
        }
        let batch = chats.into_iter().map(Incoming::Chat).collect();
        if let Err(e) = self.ingest(batch, origin) {
            // The server may already count these messages as delivered
            // (stream management acks on reading). They are in the
            // archive: keep the catch-up position before them, so the
            // next catch-up brings them.
            self.archive.caught_up = false;
            self.error(e);
        }
    }

    /// Runs a batch through stages 2 to 6 and returns how many new rows it
    /// stored. Only chat messages and acks are taken from `batch`. On a
    /// store error nothing of the batch is stored or announced; the acks
    /// of a live batch still apply.
    pub(super) fn ingest(
        &mut self,
        batch: Vec<Incoming>,
        origin: Origin,
    ) -> Result<usize, CoreError> {
        let mut chats = Vec::new();
        let mut acks = Vec::new();
        for incoming in batch {
            match incoming {
                Incoming::Chat(c) => chats.push(c),
                Incoming::Acks { peer, acks: list } => acks.push((peer, list)),
                Incoming::Bounce { .. }
                | Incoming::ReadElsewhere { .. }
                | Incoming::ChatState { .. }
                | Incoming::Ignored(_) => {}
            }
        }
        // 2. authorize
        let verdicts = match origin {
            Origin::Older => vec![Some(false); chats.len()],
            _ => self.authorize(&chats),
        };
        let mut admitted = Vec::with_capacity(chats.len());
        let news = origin != Origin::Older;
        for (mut c, verdict) in chats.into_iter().zip(verdicts) {
            // A dropped message changes nothing, not even by its acks.
            if let Some(stranger) = verdict {
                if news {
                    // Taken, not copied: the row and the receipt need none of them.
                    acks.push((c.peer.clone(), std::mem::take(&mut c.acks)));
                }
                admitted.push((c, stranger));
            }
        }
        // Acts (corrections, retractions, reactions) are their own rows,
        // stored first (a copy seen again is stored once): a stranger's
        // change nothing.
        let (acts, admitted): (Vec<_>, Vec<_>) =
            admitted.into_iter().partition(|(c, _)| c.act.is_some());
        let mut changed = Vec::new();
        for (c, stranger) in &acts {
            if *stranger {
                log::debug!("dropped an act from a stranger");
                continue;
            }
            let Some(new) = self.new_action(c) else {
                continue;
            };
            match self.store(|s| s.insert_action(&new)) {
                Ok(Some(_)) => changed.push((c.peer.clone(), new.target)),
                Ok(None) => log::debug!("an act seen again"),
                Err(e) => {
                    if matches!(origin, Origin::Live | Origin::Held) {
                        self.apply_all_acks(acks);
                    }
                    return Err(e);
                }
            }
        }
        let live = matches!(origin, Origin::Live | Origin::Held);
        if live && admitted.is_empty() {
            self.announce_acts(changed, news);
            self.apply_all_acks(acks);
            return Ok(0);
        }
        let sid_trusted = match origin {
            Origin::Live | Origin::Held => self.link.sid_trusted,
            Origin::Archive { .. } | Origin::Older => true,
        };
        let rows: Vec<NewMessage> = admitted
            .iter()
            .map(|(c, _)| {
                let owed = news && self.owes_receipt(c);
                self.new_message(c, sid_trusted, owed)
            })
            .collect();
        // 3. dedupe and store, in one transaction
        let account = self.account;
        let stored = match origin {
            Origin::Live | Origin::Held => self.store(|s| s.insert_incoming_batch(&rows)),
            Origin::Archive { last_id, last_time } => {
                self.store(|s| s.insert_archive_page(account, &rows, last_id, last_time))
            }
            Origin::Older => self.store(|s| s.insert_older_page(&rows)),
        };
        let outcomes = match stored {
            Ok(outcomes) => outcomes,
            Err(e) => {
                if live {
                    self.apply_all_acks(acks);
                }
                return Err(e);
            }
        };
        // 4. side effects
        if origin == Origin::Live {
            if let Some(last) = rows.iter().rev().find(|r| r.stanza_id.is_some()) {
                self.live_position(last);
            }
        }
        let mut added = Vec::new();
        for (((c, stranger), row), outcome) in admitted.iter().zip(&rows).zip(outcomes) {
            match outcome {
                InsertOutcome::Inserted(message) => {
                    if row.receipt_owed {
                        self.send_receipt(Some(message.id), c);
                    }
                    added.push((message, *stranger));
                }
                InsertOutcome::Duplicate(id) => {
                    log::debug!("duplicate of message {id:?}");
                    // The sender may have missed our first receipt.
                    if live && row.receipt_owed {
                        self.send_receipt(None, c);
                    }
                }
            }
        }
        let count = added.len();
        // 5. emit
        if news {
            for (message, stranger) in added {
                self.emit(Event::MessageAdded {
                    account,
                    message,
                    stranger,
                });
            }
        }
        self.announce_acts(changed, news);
        // 6. acks
        self.apply_all_acks(acks);
        Ok(count)
    }

    /// Emits the messages that stored acts changed (naming `target` in the
    /// chat with the peer), when they are news.
    fn announce_acts(&mut self, changed: Vec<(BareJid, String)>, news: bool) {
        if !news {
            return;
        }
        let account = self.account;
        for (peer, target) in changed {
            match self.store(|s| s.messages_named(account, peer.as_str(), &target)) {
                Ok(messages) => {
                    for message in messages {
                        self.emit(Event::MessageUpdated { account, message });
                    }
                }
                Err(e) => self.error(e),
            }
        }
    }

    /// The row for a classified act of ours or of the peer's.
    fn new_action(&self, c: &IncomingChat) -> Option<NewAction> {
        let (kind, target, body) = match c.act.as_deref()? {
            Act::Correct { target } => (ActionKind::Correct, target, Some(c.body.clone())),
            Act::Retract { target } => (ActionKind::Retract, target, None),
            Act::React(r) => (ActionKind::React, &r.target, Some(r.emoji.join("\n"))),
        };
        let author = match c.direction {
            Direction::In => c.peer.to_string(),
            Direction::Out => self.own.to_string(),
        };
        Some(NewAction {
            chat: ActionChat::Chat {
                account: self.account,
                peer: c.peer.to_string(),
            },
            kind,
            target: target.clone(),
            direction: c.direction,
            author_name: author.clone(),
            author,
            body,
            action_id: c
                .origin_id
                .clone()
                .or_else(|| c.id.clone())
                .or_else(|| c.stanza_id.clone()),
            moderated: false,
            server_time: Some(c.delay_ms.unwrap_or_else(now_ms)),
            pending: false,
        })
    }

    fn apply_all_acks(&mut self, acks: Vec<(BareJid, Vec<crate::receipts::Ack>)>) {
        for (peer, list) in acks {
            self.apply_acks(&peer, &list);
        }
    }

    /// Stage 2: a stranger (not in the roster, never written to) may leave
    /// at most [`STRANGER_MESSAGES`] messages until the user answers or
    /// adds them; the rest are dropped, not stored. Our own copies and
    /// contacts' messages all pass; nothing with a room of ours does (its
    /// private messages take the room's path).
    /// Returns, for each message in order, whether it is stored (`Some`)
    /// and then whether it comes from a stranger (a message request).
    fn authorize(&mut self, chats: &[IncomingChat]) -> Vec<Option<bool>> {
        // Per sender: `None` for a contact or someone the user wrote to (no
        // limit), else how many more messages the stranger may leave.
        let mut left: HashMap<&BareJid, Option<u32>> = HashMap::new();
        let mut verdicts = Vec::with_capacity(chats.len());
        // Whether each peer is a room of ours: nothing from or to a room
        // (its bare JID, or an occupant's private message copied by our
        // server or archive) is a one-to-one chat.
        let mut rooms: HashMap<&BareJid, bool> = HashMap::new();
        for c in chats {
            let is_room = match rooms.get(&c.peer) {
                Some(known) => *known,
                None => {
                    let known = self.in_room(&c.peer)
                        || self
                            .store(|s| s.room(self.account, c.peer.as_str()))
                            .is_ok_and(|r| r.is_some());
                    rooms.insert(&c.peer, known);
                    known
                }
            };
            if is_room {
                log::debug!("dropped a chat message with the room {}", c.peer);
                verdicts.push(None);
                continue;
            }
            if c.direction != Direction::In {
                verdicts.push(Some(false));
                continue;
            }
            let room = match left.get_mut(&c.peer) {
                Some(room) => room,
                None => {
                    let known = self.store(|s| {
                        if s.is_contact(self.account, c.peer.as_str())? {
                            return Ok(None);
                        }
                        s.unanswered(self.account, c.peer.as_str(), STRANGER_MESSAGES)
                    });
                    let room = match known {
                        Ok(None) => None,
                        Ok(Some(stored)) => Some(STRANGER_MESSAGES.saturating_sub(stored)),
                        Err(e) => {
                            self.error(e);
                            None
                        }
                    };
                    left.entry(&c.peer).or_insert(room)
                }
            };
            let verdict = take_room(room);
            if verdict.is_none() {
                log::info!("dropped a message from {}: stranger over the limit", c.peer);
            }
            verdicts.push(verdict);
        }
        verdicts
    }

    /// The row to store for a classified chat message. Its stanza-id is
    /// kept only if `sid_trusted` (our server stamps them, or it is an
    /// archive id from our own archive).
    fn new_message(&self, c: &IncomingChat, sid_trusted: bool, receipt_owed: bool) -> NewMessage {
        NewMessage {
            unstyled: c.unstyled,
            account: self.account,
            peer: c.peer.to_string(),
            direction: c.direction,
            sender: c.from.to_string(),
            body: c.body.clone(),
            server_time: Some(c.delay_ms.unwrap_or_else(now_ms)),
            origin_id: c.origin_id.clone(),
            stanza_id: c.stanza_id.clone().filter(|_| sid_trusted),
            stanza_id_by: sid_trusted.then(|| self.own.to_string()),
            wire_id: c.id.clone(),
            markable: c.markable && c.direction == Direction::In,
            receipt_owed,
            reply: c.reply.as_deref().cloned(),
        }
    }

    /// Once caught up (and with carbons, so that our other devices' messages
    /// reach us too), a stored live message with our server's stanza-id is
    /// the newest archive item we have: the next catch-up starts after it.
    fn live_position(&self, new: &NewMessage) {
        if !(self.archive.caught_up && self.link.carbons_on && !self.catching_up()) {
            return;
        }
        if let Some(sid) = new.stanza_id.as_deref() {
            if let Err(e) =
                self.store(|s| s.set_mam_position(self.account, Some(sid), new.server_time))
            {
                log::warn!("archive position not saved: {e:?}");
            }
        }
    }
}

/// One more message from a sender with `room` left (see
/// [`Engine::authorize`]): `None` if it is dropped (a stranger over the
/// limit), else whether it is a stranger's; a stranger's room shrinks by one.
fn take_room(room: &mut Option<u32>) -> Option<bool> {
    match room {
        None => Some(false),
        Some(0) => None,
        Some(n) => {
            *n -= 1;
            Some(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::take_room;

    #[test]
    fn a_contacts_burst_is_never_a_strangers() {
        // Before: a contact's room was u32::MAX and "not MAX" meant stranger,
        // so every message after the first of a burst was taken for a stranger's.
        let mut room = None;
        for _ in 0..30 {
            assert_eq!(take_room(&mut room), Some(false));
        }
        assert_eq!(room, None);
    }

    #[test]
    fn a_stranger_leaves_what_room_is_left_then_nothing() {
        let mut room = Some(2);
        assert_eq!(take_room(&mut room), Some(true));
        assert_eq!(take_room(&mut room), Some(true));
        assert_eq!(take_room(&mut room), None);
        assert_eq!(take_room(&mut room), None);
        assert_eq!(room, Some(0));
    }
}
