//! The persisted outbox: rows the user wrote go out one at a time, each
//! after the server acknowledged the previous one (XEP-0198), and move to
//! `sent` on that ack.

use std::collections::HashMap;

use charla_store::{ActionKind, Message, MessageId, MessageState, PendingAction, ReplyRef};
use xmpp_parsers::jid::BareJid;

use super::engine::{Engine, Watch};
use crate::chat;
use crate::error::CoreError;
use crate::event::Event;

/// Outbox rows on their way, with the stream generation that sent them.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    in_flight: HashMap<MessageId, u64>,
    /// Our acts (corrections, retractions, reactions) on their way, with
    /// the stream generation that sent them.
    acts_in_flight: HashMap<i64, u64>,
    /// Counts fresh binds; an ack from an older stream must not release a
    /// row that this stream sent again.
    generation: u64,
}

impl Outbox {
    /// A fresh stream: whatever was on its way is sent again.
    pub fn new_stream(&mut self) {
        self.in_flight.clear();
        self.acts_in_flight.clear();
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
            let stanza = match &m.rich.reply {
                None => chat::outgoing(&to, &m.body, origin_id, delayed),
                Some(reply) => {
                    // Quoted as the message answered shows now.
                    let shown = self.store(|s| s.message(m.id)).ok().flatten();
                    let quote = shown.and_then(|s| s.rich.reply).and_then(|r| r.quote);
                    let (body, payloads) = crate::reply::build(
                        &ReplyRef {
                            id: reply.id.clone(),
                            to: reply.to.clone(),
                        },
                        quote.as_deref(),
                        &m.body,
                    );
                    let mut stanza = chat::outgoing(&to, &body, origin_id, delayed);
                    stanza.payloads.extend(payloads);
                    stanza
                }
            };
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

    /// Sends our pending acts (XEP-0308 corrections, XEP-0424 retractions,
    /// XEP-0444 reactions): a chat's at once, a room's once we are in it.
    /// Each stays pending until the server acknowledges it, so one lost
    /// with a stream goes again on the next.
    pub(super) fn flush_acts(&mut self) {
        if !self.link.usable() {
            return;
        }
        let pending = match self.store(|s| s.pending_actions(self.account)) {
            Ok(p) => p,
            Err(e) => return self.error(e),
        };
        for act in pending {
            if self.outbox.acts_in_flight.contains_key(&act.id) {
                continue;
            }
            let Ok(to) = BareJid::new(&act.to) else {
                continue;
            };
            if act.room && !self.is_joined(&to) {
                continue;
            }
            let Some(stanza) = act_stanza(&act, to) else {
                let _ = self.store(|s| s.action_sent(act.id));
                continue;
            };
            let generation = self.outbox.generation;
            self.outbox.acts_in_flight.insert(act.id, generation);
            self.send(
                stanza,
                Watch::Act {
                    id: act.id,
                    generation,
                },
            );
        }
    }

    /// The fate of our act `id`, sent on stream `generation`.
    pub(super) fn on_act_fate(&mut self, id: i64, generation: u64, acked: bool) {
        if self.outbox.acts_in_flight.get(&id) == Some(&generation) {
            self.outbox.acts_in_flight.remove(&id);
        }
        if acked {
            if let Err(e) = self.store(|s| s.action_sent(id)) {
                self.error(e);
            }
        }
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

/// The stanza that carries our act to `to` (a peer, or a room).
fn act_stanza(act: &PendingAction, to: BareJid) -> Option<xmpp_parsers::message::Message> {
    let id = act.action_id.as_str();
    Some(match act.kind {
        ActionKind::Correct => {
            let body = act.body.as_deref()?;
            let mut msg = if act.room {
                crate::muc::groupchat(&to, body, id)
            } else {
                chat::outgoing(&to, body, id, None)
            };
            msg.payloads.push(crate::correction::replace(&act.target));
            msg
        }
        ActionKind::Retract => crate::retraction::retract(to.into(), act.room, &act.target, id),
        ActionKind::React => {
            let emoji: Vec<String> = act
                .body
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            crate::reactions::react(to.into(), act.room, &act.target, &emoji, id)
        }
        ActionKind::Hide => return None,
    })
}
