//! The session engine: protocol state without I/O. The driver feeds it
//! inputs (a bound or lost link, stanzas, commands, stanza fates,
//! timeouts) and carries out the [`Action`]s it returns, in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use charla_store::{AccountId, MessageId, Store};
use tokio::sync::oneshot;
use tokio::time::Instant;
use xmpp_parsers::jid::{BareJid, FullJid, Jid};
use xmpp_parsers::stanza::Stanza;

use super::{archive, avatars, bookmarks, iq, muc, now_ms, outbox, pipeline, presence, receipts};
use super::{Command, Context};
use crate::c2s::LoginFailure;
use crate::chatstates;
use crate::error::{CoreError, ErrorCode};
use crate::event::{ConnectionState, Event};
use crate::receipts as markers;

/// What the driver does for the engine.
#[derive(Debug)]
pub(crate) enum Action {
    /// Hand a stanza to the stream, and report its fate if `watch` asks.
    Send { stanza: Box<Stanza>, watch: Watch },
    /// Tell the outside world.
    Emit(Box<Event>),
    /// Drop the stream and open a fresh one: a new login and bind, no
    /// resumption.
    Restart,
    /// The login failed for good: the session ends.
    End,
}

/// What to follow up on once a stanza is handed to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    None,
    /// An outbox row, sent on stream `generation`.
    Message {
        id: MessageId,
        generation: u64,
    },
    /// The receipt owed for a stored message.
    Receipt {
        message: MessageId,
    },
    /// Our private message to a room's occupant, sent on stream
    /// `generation`.
    RoomPrivate {
        id: charla_store::RoomMessageId,
        generation: u64,
    },
    /// One of our acts (correction, retraction, reactions), sent on
    /// stream `generation`.
    Act {
        id: i64,
        generation: u64,
    },
}

/// A watched stanza's fate: acknowledged by the server (`ok`), or lost
/// with its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// An outbox row, sent on stream `generation`.
    Message {
        id: MessageId,
        generation: u64,
        ok: bool,
    },
    /// The receipt owed for a stored message.
    Receipt { message: MessageId, ok: bool },
    /// Our private message to a room's occupant, sent on stream `generation`.
    RoomPrivate {
        id: charla_store::RoomMessageId,
        generation: u64,
        ok: bool,
    },
    /// One of our acts, sent on stream `generation`.
    Act { id: i64, generation: u64, ok: bool },
}

impl Watch {
    /// The fate of a stanza watched this way, `None` if it is not watched.
    pub(crate) fn fate(self, ok: bool) -> Option<Fate> {
        match self {
            Watch::None => None,
            Watch::Message { id, generation } => Some(Fate::Message { id, generation, ok }),
            Watch::Receipt { message } => Some(Fate::Receipt { message, ok }),
            Watch::RoomPrivate { id, generation } => Some(Fate::RoomPrivate { id, generation, ok }),
            Watch::Act { id, generation } => Some(Fate::Act { id, generation, ok }),
        }
    }
}

/// How long the initial presence waits for the server to answer the
/// carbons request: a live server answers at once, if only with an error.
pub(super) const CARBONS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Lost links in a row, without a resumption or a bind in between, after
/// which the session gives up on resuming and opens a fresh stream.
const LOST_WITHOUT_RESUMING: u32 = 3;

/// What we know about the stream the session runs on.
#[derive(Debug, Default)]
pub(super) struct Link {
    pub bound: Option<FullJid>,
    /// When the current stream was bound (unix ms): outbox rows written
    /// before it waited, and go out with a delay stamp.
    pub bound_at: i64,
    /// The stream is usable: bound or resumed, and not suspended since.
    /// Outbox rows wait while it is not: handed to a suspended stream, a
    /// new message could go out before older ones that the stream loses
    /// if it cannot resume and the session sends again after the new bind.
    pub up: bool,
    /// Links lost since the stream was last bound or resumed.
    pub lost_in_a_row: u32,
    /// The server keeps subscription pre-approvals (RFC 6121 §3.4).
    pub pre_approval: bool,
    /// The server stamps stanza-ids (`urn:xmpp:sid:0` on our account).
    pub sid_trusted: bool,
    /// The server accepted our carbons request on this stream.
    pub carbons_on: bool,
    /// While waiting for the carbons answer: when to give up waiting.
    pub carbons_deadline: Option<Instant>,
}

impl Link {
    /// Bound and usable: requests and outbox rows may go out.
    pub fn usable(&self) -> bool {
        self.bound.is_some() && self.up
    }
}

/// One account's protocol state. Each concern keeps its own part; the
/// modules of [`super`] each add the methods of theirs.
pub(crate) struct Engine {
    pub(super) account: AccountId,
    pub(super) own: BareJid,
    /// The account's SASL record, shared with the reconnector.
    login_sasl: crate::sasl::Shared,
    /// The server takes spam reports (XEP-0377); shared with the core.
    pub(super) reporting: Arc<AtomicBool>,
    pub(super) store: Arc<Mutex<Store>>,
    /// Resolved once: `Ok` when first online, `Err` when the first login fails.
    ready: Option<oneshot::Sender<Result<(), CoreError>>>,
    pub(super) link: Link,
    pub(super) requests: iq::Tracker<iq::PendingIq>,
    pub(super) outbox: outbox::Outbox,
    pub(super) receipts: receipts::Owed,
    pub(super) inbound: pipeline::Inbound,
    pub(super) archive: archive::Archive,
    pub(super) presence: presence::Presences,
    /// A roster that loaded before the login finished, emitted right
    /// after the `Online` state.
    pub(super) held_roster: Option<Event>,
    pub(super) avatars: avatars::Avatars,
    pub(super) rooms: muc::Rooms,
    pub(super) bookmarks: bookmarks::Bookmarks,
    actions: Vec<Action>,
}

impl Engine {
    pub(crate) fn new(ctx: Context) -> Engine {
        let mut engine = Engine {
            account: ctx.account,
            own: ctx.login.jid.clone(),
            login_sasl: ctx.login.sasl.clone(),
            reporting: ctx.reporting,
            store: ctx.store,
            ready: Some(ctx.ready),
            link: Link::default(),
            requests: iq::Tracker::default(),
            outbox: outbox::Outbox::default(),
            receipts: receipts::Owed::default(),
            inbound: pipeline::Inbound::default(),
            archive: archive::Archive::default(),
            presence: presence::Presences::new(ctx.show, ctx.status),
            held_roster: None,
            avatars: avatars::Avatars::new(ctx.avatars),
            rooms: muc::Rooms::default(),
            bookmarks: bookmarks::Bookmarks::default(),
            actions: Vec::new(),
        };
        engine.avatars.own = engine
            .store(|s| s.avatar(engine.account, engine.own.as_str()))
            .ok()
            .flatten()
            .map(Some);
        engine.state(ConnectionState::Connecting);
        engine
    }

    /// The actions produced so far, in order.
    pub(crate) fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    pub(super) fn emit(&mut self, event: Event) {
        self.actions.push(Action::Emit(Box::new(event)));
    }

    pub(super) fn state(&mut self, state: ConnectionState) {
        self.emit(Event::Connection {
            account: self.account,
            state,
        });
    }

    pub(super) fn online_state(&mut self) {
        if let Some(jid) = &self.link.bound {
            let jid = jid.to_string();
            self.state(ConnectionState::Online { jid });
        }
    }

    pub(super) fn error(&mut self, error: CoreError) {
        self.emit(Event::Error {
            account: Some(self.account),
            error,
        });
    }

    pub(super) fn store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, charla_store::StoreError>,
    ) -> Result<T, CoreError> {
        crate::locked(&self.store, f)
    }

    /// Whether `jid` is in the roster; a store failure is reported and
    /// counts as "no".
    pub(super) fn is_contact(&mut self, jid: &BareJid) -> bool {
        match self.store(|s| s.is_contact(self.account, jid.as_str())) {
            Ok(contact) => contact,
            Err(e) => {
                self.error(e);
                false
            }
        }
    }

    /// Hands `stanza` to the driver to send.
    pub(super) fn send(&mut self, stanza: impl Into<Stanza>, watch: Watch) {
        self.actions.push(Action::Send {
            stanza: Box::new(stanza.into()),
            watch,
        });
    }

    /// Stores the login mechanism if it is the strongest that has worked
    /// for this account, so that no later login goes below it.
    fn remember_login_mechanism(&self) {
        let raised = self
            .login_sasl
            .lock()
            .ok()
            .and_then(|mut record| record.raised.take());
        if let Some(mechanism) = raised {
            if let Err(e) = self.store(|s| s.set_sasl_mechanism(self.account, mechanism)) {
                log::warn!("could not store the login mechanism: {e}");
            }
        }
    }

    /// A new stream is bound (first login, or a reconnect that could not
    /// resume): everything volatile starts over. `sm`: the stream acks
    /// stanzas (XEP-0198); `pre_approval`: the server keeps pre-approvals.
    pub(crate) fn on_bound(&mut self, jid: Jid, pre_approval: bool) {
        self.presence.went_offline(self.account, &mut self.actions);
        self.remember_login_mechanism();
        self.link = Link {
            bound: jid.try_into_full().ok(),
            bound_at: now_ms(),
            up: true,
            pre_approval,
            ..Link::default()
        };
        // Written for the old stream: its IQs are void, its outbox rows and
        // owed receipts are sent again after the login, the rest is stale.
        self.requests.clear();
        self.outbox.new_stream();
        self.receipts.new_stream();
        self.inbound.new_stream();
        self.held_roster = None;
        self.avatars.new_stream();
        self.bookmarks.new_stream();
        self.presence.sent = false;
        self.archive_new_stream();
        self.rooms_new_stream();
        self.request_login_state();
        self.reporting.store(false, Ordering::SeqCst);
        // Carbons before the initial presence (XEP-0280 §4.3), so that no
        // message sent to another of our clients in between is missed.
        let id = iq::new_id();
        self.requests.insert(id.clone(), iq::PendingIq::Carbons);
        self.link.carbons_deadline = Some(Instant::now() + CARBONS_TIMEOUT);
        self.send(crate::carbons::enable(id), Watch::None);
    }

    /// Carbons are on (or refused): send the initial presence, announce
    /// that we are online and drain the outbox.
    pub(super) fn finish_login(&mut self) {
        self.link.carbons_deadline = None;
        self.send_presence();
        self.presence.sent = true;
        self.online_state();
        self.announce_presence();
        if let Some(roster) = self.held_roster.take() {
            self.emit(roster);
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
        self.flush();
        self.flush_acts();
        self.send_owed_receipts();
        // After the initial presence: whatever is archived from here on
        // also arrives live, and duplicates are dropped by stanza-id.
        self.start_catch_up();
        // A fresh stream is in no room (a resumed one stays in them).
        self.rejoin_rooms();
        // Our other devices may have joined or left rooms meanwhile.
        self.read_bookmarks();
    }

    /// The link was lost; the stream tries to resume. After
    /// [`LOST_WITHOUT_RESUMING`] losses in a row, a fresh stream instead:
    /// tokio-xmpp 6 retries a resumption that the server refused (it
    /// rejects Prosody's `<failed/>` without `h`) at once, forever. The
    /// outbox and owed receipts are persisted and go out after the new bind.
    pub(crate) fn on_link_lost(&mut self) {
        self.link.up = false;
        self.link.lost_in_a_row += 1;
        if self.link.lost_in_a_row >= LOST_WITHOUT_RESUMING {
            log::warn!(
                "{} links lost without resuming; opening a fresh stream",
                self.link.lost_in_a_row
            );
            self.link.lost_in_a_row = 0;
            self.actions.push(Action::Restart);
        }
        self.state(ConnectionState::Reconnecting {
            attempt: 0,
            retry_in_ms: 0,
        });
    }

    /// The stream resumed (XEP-0198): nothing was lost.
    pub(crate) fn on_resumed(&mut self) {
        self.link.up = true;
        self.link.lost_in_a_row = 0;
        self.online_state();
        // After what the stream resends itself, in order.
        self.flush();
        self.flush_acts();
        // The stream kept us in our rooms; the rooms may not have (XEP-0410).
        self.ping_rooms();
    }

    /// A login attempt failed; `retry_in`: when the next one is (`None`:
    /// never, the session ends).
    pub(crate) fn on_login_failed(
        &mut self,
        failure: LoginFailure,
        attempt: u32,
        retry_in: Option<std::time::Duration>,
    ) {
        self.error(failure.error.clone());
        match retry_in {
            Some(delay) => {
                let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                self.state(ConnectionState::Reconnecting {
                    attempt,
                    retry_in_ms,
                });
            }
            None => {
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(Err(failure.error));
                }
                self.actions.push(Action::End);
            }
        }
    }

    /// The session is over: contacts go offline, a caller still waiting
    /// for the login learns it will not come.
    pub(crate) fn on_closed(&mut self) {
        self.presence.went_offline(self.account, &mut self.actions);
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "disconnected before the login finished",
            )));
        }
        self.state(ConnectionState::Disconnected);
    }

    /// Handles one stanza of a burst. A panic in a parser (ours or a
    /// library's) drops that stanza instead of ending the session: remote
    /// input must never take an account down.
    pub(crate) fn on_stanza(&mut self, stanza: Stanza) {
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match stanza {
            Stanza::Iq(iq) => {
                self.end_burst();
                self.on_iq(iq)
            }
            Stanza::Message(msg) => self.on_message(msg),
            Stanza::Presence(p) => {
                self.end_burst();
                self.on_presence(p)
            }
        }));
        if handled.is_err() {
            log::error!("a stanza made a parser panic; it was dropped");
        }
    }

    /// When the engine next needs [`Engine::on_timeout`].
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.requests.next_deadline(),
            self.link.carbons_deadline,
            self.self_ping_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Time passed: requests that got no answer give up, a carbons
    /// request left unanswered means the link is dead, and the rooms are
    /// asked whether they kept us when that is due.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        for pending in self.requests.expired(now) {
            self.on_iq_timeout(pending);
        }
        self.self_ping_due(now);
        if self.link.carbons_deadline.is_some_and(|at| at <= now) {
            // A server shutting down accepts a bind and then nothing:
            // never "online" on such a link.
            log::warn!(
                "no answer to the carbons request: the link is dead; opening a fresh stream"
            );
            self.requests
                .retain(|p| !matches!(p, iq::PendingIq::Carbons));
            self.link.carbons_deadline = None;
            self.link.up = false;
            self.actions.push(Action::Restart);
            self.state(ConnectionState::Reconnecting {
                attempt: 0,
                retry_in_ms: 0,
            });
        }
    }

    /// Whether a stream is bound and usable now.
    pub(crate) fn link_up(&self) -> bool {
        self.link.up
    }

    /// Carries out a command from the core (all but the driver's own:
    /// disconnect and reconnect-now).
    pub(crate) fn on_command(&mut self, command: Command) {
        match command {
            Command::Flush => {
                self.flush();
                self.flush_rooms();
                self.flush_acts();
            }
            Command::JoinRoom {
                room,
                nick,
                password,
            } => self.join_room(room, nick, password),
            Command::CreateRoom { room, nick, preset } => self.create_room(room, nick, preset),
            Command::RoomDisplayed { room, stanza_id } => self.room_displayed(room, stanza_id),
            Command::RoomSubject { room, subject } => {
                if self.in_room(&room) && self.link.usable() {
                    self.send(crate::muc::subject(&room, &subject), Watch::None);
                }
            }
            Command::Invite { room, to, reason } => self.send(
                crate::invite::mediated(&room, &to, reason.as_deref()),
                Watch::None,
            ),
            Command::LeaveRoom { room, forget } => {
                self.leave_room(room.clone(), forget);
                self.bookmark_left(room, forget);
            }
            Command::SetPresence { show, status } => self.set_presence(show, status),
            Command::SetAuto(auto) => self.set_auto(auto),
            Command::LastActivity { jid, reply } => self.last_activity(jid, reply),
            Command::Roster { op, reply } => self.roster_op(op, reply),
            Command::Block {
                jid,
                block,
                report,
                reply,
            } => self.block(jid, block, report, reply),
            Command::ChatState { to, state } => {
                if self.link.usable() && self.is_contact(&to) {
                    self.send(chatstates::standalone(&to, state), Watch::None);
                }
            }
            Command::Blocklist { reply } => self.blocklist(reply),
            Command::FetchOlder { peer, reply } => self.fetch_older(peer, reply),
            Command::Account { payload, reply } => self.account_request(payload, reply),
            Command::Iq {
                to,
                set,
                payload,
                reply,
            } => self.send_core_iq(to, set, payload, reply),
            Command::OwnAvatar { hash } => {
                let own = self.own.clone();
                self.set_avatar(&own, hash);
            }
            Command::MarkDisplayed { to, id } => {
                if self.link.bound.is_some() {
                    self.send(markers::displayed(Jid::from(to), &id), Watch::None);
                }
            }
            Command::ReconnectNow | Command::Disconnect => {
                log::debug!("the driver handles {command:?}")
            }
        }
    }
}
