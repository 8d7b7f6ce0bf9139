//! The persisted outbox: rows the user wrote go out one at a time, each
//! after the server acknowledged the previous one (XEP-0198), and move to
//! `sent` on that ack.

use std::collections::HashMap;

use charla_store::{Message, MessageId, MessageState};
use xmpp_parsers::jid::BareJid;

use super::engine::{Engine, Watch};
use crate::chat;
use crate::error::CoreError;
use crate::event::Event;

/// Outbox rows on their way, with the stream generation that sent them.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    in_flight: HashMap<MessageId, u64>,
    /// Counts fresh binds; an ack from an older stream must not release a
    /// row that this stream sent again.
    generation: u64,
}

impl Outbox {
    /// A fresh stream: whatever was on its way is sent again.
    pub fn new_stream(&mut self) {
        self.in_flight.clear();
        self.generation += 1;
    }
}

impl Engine {
    /// The stream generation (a fresh bind counts one more).
    pub(super) fn outbox_generation(&self) -> u64 {
        self.outbox.generation
    }

    /// Sends the oldest pending outbox row, unless one is on its way.
    ///
    /// One message at a time: the next goes to the stream once the server
    /// acknowledged the previous one (XEP-0198). If the server loses the
    /// stream, tokio-xmpp drops what was sent and not acknowledged but
    /// keeps what it had not written yet and sends that first on the new
    /// stream; with more than one message on its way, a later message
    /// could overtake an earlier one that the session sends again.
    pub(super) fn flush(&mut self) {
        if !self.link.usable() || !self.outbox.in_flight.is_empty() {
            return;
        }
        let pending = match self.store(|s| s.pending_outgoing(self.account)) {
            Ok(p) => p,
            Err(e) => return self.error(e),
        };
        for m in pending {
            let (Ok(to), Some(origin_id)) = (BareJid::new(&m.peer), m.origin_id.as_deref()) else {
                let updated = self
                    .store(|s| s.set_state(m.id, MessageState::Failed, Some("invalid recipient")));
                self.announce_update(updated);
                continue;
            };
            // Written before this stream: offline, or lost with a stream
            // the server could not resume (XEP-0198 <failed/>).
            let delayed = (m.local_time < self.link.bound_at).then_some((m.local_time, &self.own));
            let stanza = chat::outgoing(&to, &m.body, origin_id, delayed);
            let generation = self.outbox.generation;
            self.outbox.in_flight.insert(m.id, generation);
            self.send(
                stanza,
                Watch::Message {
                    id: m.id,
                    generation,
                },
            );
            break;
        }
    }

    /// The fate of outbox row `id`, sent on stream `generation`: `sent`
    /// when acknowledged; either way, the next row may go.
    pub(super) fn on_message_fate(&mut self, id: MessageId, generation: u64, acked: bool) {
        if self.outbox.in_flight.get(&id) == Some(&generation) {
            self.outbox.in_flight.remove(&id);
        }
        if acked {
            let updated = self.store(|s| s.set_state(id, MessageState::Sent, None));
            self.announce_update(updated);
        }
        self.flush();
    }

    /// Announces a stored message that changed.
    pub(super) fn announce_update(&mut self, updated: Result<Option<Message>, CoreError>) {
        match updated {
            Ok(Some(message)) => self.emit(Event::MessageUpdated {
                account: self.account,
                message,
            }),
            Ok(None) => {}
            Err(e) => self.error(e),
        }
    }
}
