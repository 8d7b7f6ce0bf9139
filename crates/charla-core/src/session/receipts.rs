//! Delivery receipts we owe (XEP-0184), persisted until the server
//! acknowledges them, and the receipts and displayed markers (XEP-0333)
//! we receive for our own messages.

use std::collections::HashSet;

use charla_store::{Direction, MessageId};
use xmpp_parsers::jid::{BareJid, Jid};

use super::engine::{Engine, Fate, Watch};
use crate::chat::IncomingChat;
use crate::receipts::{self, Ack};

/// Most owed receipts sent again per login; the rest go on the next one.
const OWED_RECEIPTS_PER_LOGIN: u32 = 500;

/// Owed receipts sent on this stream whose server ack is awaited.
#[derive(Debug, Default)]
pub(super) struct Owed {
    in_flight: HashSet<MessageId>,
}

impl Owed {
    /// A fresh stream: what was on its way is sent again after the login.
    pub fn new_stream(&mut self) {
        self.in_flight.clear();
    }
}

impl Engine {
    /// Whether we owe `c`'s sender a delivery receipt: it asks for one,
    /// names an id, and comes from a contact. Strangers get none: a
    /// receipt tells the sender we are online.
    pub(super) fn owes_receipt(&mut self, c: &IncomingChat) -> bool {
        c.direction == Direction::In
            && c.wants_receipt
            && c.id.is_some()
            && self.is_contact(&c.peer)
    }

    /// Sends the receipt for a stored message. With `owed` (its row), the
    /// row stops owing it once the server acknowledges the receipt.
    pub(super) fn send_receipt(&mut self, owed: Option<MessageId>, c: &IncomingChat) {
        if let Some(id) = &c.id {
            self.send_receipt_to(owed, c.from.clone(), id);
        }
    }

    fn send_receipt_to(&mut self, owed: Option<MessageId>, to: Jid, id: &str) {
        let watch = match owed {
            Some(message) if self.receipts.in_flight.insert(message) => Watch::Receipt { message },
            _ => Watch::None,
        };
        self.send(receipts::receipt(to, id), watch);
    }

    /// Sends the receipts still owed from earlier streams or runs (lost with
    /// a stream the server could not resume, or with a crash).
    pub(super) fn send_owed_receipts(&mut self) {
        let owed = match self.store(|s| s.owed_receipts(self.account, OWED_RECEIPTS_PER_LOGIN)) {
            Ok(owed) => owed,
            Err(e) => return self.error(e),
        };
        for receipt in owed {
            if self.receipts.in_flight.contains(&receipt.message) {
                continue;
            }
            match Jid::new(&receipt.to) {
                Ok(to) => self.send_receipt_to(Some(receipt.message), to, &receipt.wire_id),
                Err(_) => {
                    let _ = self.store(|s| s.receipt_sent(receipt.message));
                }
            }
        }
    }

    /// Applies the stanza fates reported so far; the receipts among them
    /// stop being owed in one transaction.
    pub(crate) fn on_fates(&mut self, fates: Vec<Fate>) {
        let mut receipts_sent = Vec::new();
        for fate in fates {
            match fate {
                Fate::Message { id, generation, ok } => self.on_message_fate(id, generation, ok),
                Fate::RoomPrivate { id, generation, ok } => {
                    self.on_private_fate(id, generation, ok)
                }
                Fate::Act { id, generation, ok } => self.on_act_fate(id, generation, ok),
                Fate::Receipt { message, ok } => {
                    self.receipts.in_flight.remove(&message);
                    if ok {
                        receipts_sent.push(message);
                    }
                }
            }
        }
        if !receipts_sent.is_empty() {
            if let Err(e) = self.store(|s| s.receipts_sent(&receipts_sent)) {
                self.error(e);
            }
        }
    }

    /// Applies receipts and displayed markers from `peer`: each can only
    /// move our own messages in the conversation with `peer`, forward.
    pub(super) fn apply_acks(&mut self, peer: &BareJid, acks: &[Ack]) {
        let account = self.account;
        for ack in acks {
            let updated =
                self.store(
                    |s| match s.find_outgoing(account, peer.as_str(), &ack.id)? {
                        Some(m) => s.set_state(m.id, ack.kind.state(), None),
                        None => Ok(None),
                    },
                );
            self.announce_update(updated);
        }
    }
}
