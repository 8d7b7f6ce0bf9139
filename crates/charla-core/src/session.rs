//! One account's live session: owns the stanza stream, turns stanzas into
//! stored rows and typed events, answers the server, and drains the
//! persisted outbox. Every store write happens here, before the event that
//! announces it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use charla_store::{
    AccountId, Direction, InsertOutcome, Message, MessageId, MessageState, NewMessage, Store,
    Subscription,
};
use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_xmpp::stanzastream::{
    Event as StreamEvent, StanzaStage, StanzaState, StanzaStream, StreamEvent as Link,
};
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, FullJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::roster::Roster;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::avatar::{self, Advert};
use crate::blocking;
use crate::c2s::{self, LoginConfig, Report};
use crate::carbons::{self, Carbon};
use crate::chat::{self, Incoming, IncomingChat};
use crate::chatstates;
use crate::disco;
use crate::error::{CoreError, ErrorCode};
use crate::event::{ConnectionState, Event};
use crate::idle::AutoPresence;
use crate::iq;
use crate::last;
use crate::mam::{self, Archived, Purpose};
use crate::presence::{self, PresenceMap, Show};
use crate::receipts::{self, Ack};
use crate::roster::{self, Push};
use crate::subscription;

/// Instructions from the [`crate::Core`] handle to a running session.
#[derive(Debug)]
pub(crate) enum Command {
    /// New rows are pending in the outbox.
    Flush,
    /// Change the own presence.
    SetPresence { show: Show, status: Option<String> },
    /// Show this presence instead of the chosen one while the user is idle
    /// (XEP-0319), or the chosen one again (`None`).
    SetAuto(Option<AutoPresence>),
    /// Ask when a contact was last online (XEP-0012).
    LastActivity {
        jid: BareJid,
        reply: oneshot::Sender<Result<Option<u64>, CoreError>>,
    },
    /// Send a displayed marker (XEP-0333) for message `id` to `to`.
    MarkDisplayed { to: BareJid, id: String },
    /// Fetch the page of `peer`'s history before what is stored, from the
    /// archive (XEP-0313), and report how it went.
    FetchOlder {
        peer: BareJid,
        reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
    },
    /// Change the contact list or answer a subscription request.
    Roster {
        op: RosterOp,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// Tell `to` our chat state (XEP-0085), if they are a contact.
    ChatState {
        to: BareJid,
        state: crate::chatstates::ChatState,
    },
    /// Block (`block`) or unblock `jid` (XEP-0191).
    Block {
        jid: BareJid,
        block: bool,
        /// Report them as spam with the block (XEP-0377), where the server
        /// takes reports.
        report: bool,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// Ask for the block list.
    Blocklist {
        reply: oneshot::Sender<Result<Vec<String>, CoreError>>,
    },
    /// Send an IQ set with `payload` to our own account (XEP-0077 account
    /// management) and hand the server's answer to `reply`.
    Account {
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, StanzaError>>,
    },
    /// Send an IQ get (or set, with `set`) to `to` (our own account if
    /// `None`) and pass back its answer, accepted only from `to`.
    Iq {
        to: Option<BareJid>,
        set: bool,
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    },
    /// Our avatar changed to `hash` (`None`: removed): remember it and
    /// tell contacts in our presence (XEP-0153).
    OwnAvatar { hash: Option<String> },
    /// While waiting to reconnect, try now.
    ReconnectNow,
    /// Send unavailable presence and close the stream.
    Disconnect,
}

/// A change to the contact list or its subscriptions (RFC 6121).
#[derive(Debug)]
pub(crate) enum RosterOp {
    /// Add a contact, ask to see their presence, pre-approve theirs.
    Add {
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    },
    /// Rename a contact and set their groups.
    Edit {
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    },
    /// Remove a contact (cancels both subscriptions).
    Remove { jid: BareJid },
    /// Answer a subscription request.
    Answer { jid: BareJid, accept: bool },
}

/// Shared pieces a session needs.
pub(crate) struct Context {
    pub account: AccountId,
    pub login: LoginConfig,
    pub store: Arc<Mutex<Store>>,
    pub events: mpsc::Sender<Event>,
    pub show: Show,
    pub status: Option<String>,
    /// Where avatar images are cached.
    pub avatars: avatar::Cache,
    /// Resolved once: `Ok` when first online, `Err` when the first login fails.
    pub ready: oneshot::Sender<Result<(), CoreError>>,
    /// Whether the account's server takes spam reports (XEP-0377), as its
    /// disco#info said at the last bind.
    pub reporting: Arc<AtomicBool>,
}

/// An IQ we sent and whose answer we await, with who may answer it.
#[derive(Debug)]
enum PendingIq {
    Roster,
    OwnDisco,
    /// The server's disco#info (XEP-0377 reporting).
    ServerDisco,
    /// Enabling carbons; the initial presence waits for its answer.
    Carbons,
    /// A page of an archive query (XEP-0313) with this queryid.
    Mam {
        queryid: String,
    },
    /// The page of older history with this queryid.
    Older {
        queryid: String,
    },
    /// The block list (XEP-0191), for whoever asked.
    Blocklist {
        reply: oneshot::Sender<Result<Vec<String>, CoreError>>,
    },
    /// How long ago a contact was last online (XEP-0012), answered for
    /// them by their server: the answer must come from `jid`.
    LastActivity {
        jid: BareJid,
        reply: oneshot::Sender<Result<Option<u64>, CoreError>>,
    },
    /// A change the user asked for (roster, block list), and who waits
    /// for the server's answer.
    Change {
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// An account management request (XEP-0077); the caller reads the
    /// answer itself.
    Account {
        reply: oneshot::Sender<Result<Option<Element>, StanzaError>>,
    },
    /// Any request the core made (profiles, publishing), answered by
    /// `peer` (our own account if `None`).
    Ask {
        peer: Option<BareJid>,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    },
    /// `peer`'s avatar data `hash` from their PEP (XEP-0084).
    AvatarData {
        peer: BareJid,
        hash: String,
    },
    /// `peer`'s vcard-temp, for the photo `hash` (XEP-0153).
    AvatarVcard {
        peer: BareJid,
        hash: String,
    },
}

impl PendingIq {
    /// Who must answer, if not our own account or server.
    fn peer(&self) -> Option<&BareJid> {
        match self {
            PendingIq::Ask { peer, .. } => peer.as_ref(),
            PendingIq::AvatarData { peer, .. } | PendingIq::AvatarVcard { peer, .. } => Some(peer),
            PendingIq::LastActivity { jid, .. } => Some(jid),
            _ => None,
        }
    }
}

/// The archive query in progress (one at a time).
#[derive(Debug)]
struct MamQuery {
    queryid: String,
    purpose: Purpose,
    /// Accepted results of the current page, in arrival (archive) order.
    page: Vec<Archived>,
    /// When this catch-up started and how many rows it added.
    started: std::time::Instant,
    added: usize,
    /// This catch-up already fell back to time once (no second time).
    fell_back: bool,
}

/// A query for older history of one conversation (one at a time).
struct OlderQuery {
    queryid: String,
    page: Vec<Archived>,
    reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
}

/// How long the initial presence waits for the server to answer the
/// carbons request before going online without it.
/// How long a disconnect waits for the stream to close cleanly.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Messages a stranger may leave before the user answers or adds them;
/// the rest of a flood is not stored.
const STRANGER_MESSAGES: u32 = 20;

const CARBONS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What to follow up on once a stanza is handed to the stream.
#[derive(Debug, Clone, Copy)]
enum Track {
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
}

/// Lost links in a row, without a resumption or a bind in between, after
/// which the session gives up on resuming and opens a fresh stream.
const LOST_WITHOUT_RESUMING: u32 = 3;

/// How often a backlog waiting for room in the stream's queue is retried.
const BACKLOG_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Most owed receipts sent again per login; the rest go on the next one.
const OWED_RECEIPTS_PER_LOGIN: u32 = 500;

/// Most stanzas read in one go from what the stream already has ready:
/// the live chat messages among them are stored in one transaction.
const MAX_BURST: usize = 256;

/// A stanza whose fate (acknowledged by the server, or lost with its
/// stream) the session waits for.
#[derive(Debug)]
enum Tracked {
    /// An outbox row, sent on stream `generation`.
    Message {
        id: MessageId,
        generation: u64,
        ok: bool,
    },
    /// The receipt owed for a stored message.
    Receipt { message: MessageId, ok: bool },
}

/// Priority of the own presence (0 = a normal desktop client).
const PRIORITY: i8 = 0;

struct Session {
    account: AccountId,
    own: BareJid,
    /// The account's SASL record, shared with the reconnector.
    login_sasl: crate::sasl::Shared,
    /// The server takes spam reports (XEP-0377); shared with the core.
    reporting: Arc<AtomicBool>,
    bound: Option<FullJid>,
    /// When the current stream was bound (unix ms): outbox rows written
    /// before it waited, and go out with a delay stamp.
    bound_at: i64,
    store: Arc<Mutex<Store>>,
    events: mpsc::Sender<Event>,
    show: Show,
    status: Option<String>,
    /// The away presence sent instead of `show` while the user is idle.
    auto: Option<AutoPresence>,
    ready: Option<oneshot::Sender<Result<(), CoreError>>>,
    presences: PresenceMap,
    pending_iqs: iq::Tracker<PendingIq>,
    /// Outbox rows on their way, with the stream generation that sent them.
    in_flight: HashMap<MessageId, u64>,
    /// Counts fresh binds; an ack from an older stream must not release a
    /// row that this stream sent again.
    generation: u64,
    acks: mpsc::UnboundedSender<Tracked>,
    /// Owed receipts sent on this stream whose server ack is awaited.
    receipts_in_flight: std::collections::HashSet<MessageId>,
    /// Live messages that arrived during a catch-up with our archive's
    /// stanza-id: committed after the catch-up, so that rows follow the
    /// archive's order (they are in the archive, and most come again in it).
    held: Vec<IncomingChat>,
    /// Live chat messages of the burst being read, committed together
    /// before anything else is handled (see [`Session::commit_burst`]).
    burst: Vec<IncomingChat>,
    /// The stream is usable: bound or resumed, and not suspended since.
    /// Outbox rows wait while it is not: handed to a suspended stream, a
    /// new message could go out before older ones that the stream loses
    /// if it cannot resume and the session sends again after the new bind.
    link_up: bool,
    /// The older-history query in progress, if any.
    older: Option<OlderQuery>,
    /// Stanzas waiting for room in the stream's queue (see [`Session::out`]).
    backlog: std::collections::VecDeque<(Stanza, Track)>,
    sm_enabled: bool,
    /// The server keeps subscription pre-approvals (RFC 6121 §3.4).
    pre_approval: bool,
    caps: xmpp_parsers::caps::Caps,
    /// The server stamps stanza-ids (`urn:xmpp:sid:0` on our account).
    sid_trusted: bool,
    /// The initial presence of this stream went out (after carbons).
    presence_sent: bool,
    /// While waiting for the carbons answer: when to give up waiting.
    carbons_deadline: Option<tokio::time::Instant>,
    /// A roster that loaded before the login finished, emitted right
    /// after the `Online` state.
    held_roster: Option<Event>,
    /// The server accepted our carbons request on this stream.
    carbons_on: bool,
    /// The archive query in progress, if any.
    mam: Option<MamQuery>,
    /// The archive catch-up of this stream is complete: from now on, live
    /// messages with our server's stanza-id move the archive position.
    mam_caught_up: bool,
    /// New rows the current catch-up stored so far.
    catch_up_added: usize,
    /// The avatar image cache.
    avatars: avatar::Cache,
    /// Our own avatar hash as we advertise it (XEP-0153): `None` while
    /// unknown, `Some(None)` for no avatar.
    own_avatar: Option<Option<String>>,
    /// Avatar images being fetched, by hash, with the contacts that
    /// advertised each (one fetch per hash).
    avatar_fetches: HashMap<String, Vec<BareJid>>,
    /// Contacts whose PEP avatar metadata (XEP-0084) we received on this
    /// stream: their XEP-0153 presence hashes are then ignored.
    pep_avatars: std::collections::HashSet<BareJid>,
}

/// One more message from a sender with `room` left (see `Session::admit`):
/// `None` if it is dropped (a stranger over the limit), else whether it is
/// a stranger's; a stranger's room shrinks by one.
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

/// Runs a session until it is disconnected or its login fails for good.
pub(crate) async fn run(ctx: Context, mut commands: mpsc::Receiver<Command>) {
    let online_once = Arc::new(AtomicBool::new(false));
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (acks_tx, mut acks) = mpsc::unbounded_channel();
    let mut session = Session {
        account: ctx.account,
        own: ctx.login.jid.clone(),
        login_sasl: ctx.login.sasl.clone(),
        reporting: ctx.reporting,
        bound: None,
        bound_at: 0,
        store: ctx.store,
        events: ctx.events,
        show: ctx.show,
        status: ctx.status,
        auto: None,
        ready: Some(ctx.ready),
        presences: PresenceMap::default(),
        pending_iqs: iq::Tracker::default(),
        in_flight: HashMap::new(),
        generation: 0,
        acks: acks_tx,
        receipts_in_flight: Default::default(),
        held: Vec::new(),
        burst: Vec::new(),
        link_up: false,
        backlog: Default::default(),
        older: None,
        sm_enabled: false,
        pre_approval: false,
        caps: disco::caps(),
        sid_trusted: false,
        presence_sent: false,
        carbons_deadline: None,
        held_roster: None,
        carbons_on: false,
        mam: None,
        mam_caught_up: false,
        catch_up_added: 0,
        avatars: ctx.avatars,
        own_avatar: None,
        avatar_fetches: HashMap::new(),
        pep_avatars: Default::default(),
    };
    session.own_avatar = session
        .store(|s| s.avatar(session.account, session.own.as_str()))
        .ok()
        .flatten()
        .map(Some);
    session.state(ConnectionState::Connecting).await;
    let login = ctx.login;
    let (mut cancel, cancelled) = watch::channel(false);
    let nudge = Arc::new(tokio::sync::Notify::new());
    let mut stream = c2s::open(
        login.clone(),
        online_once.clone(),
        reports_tx.clone(),
        cancelled,
        nudge.clone(),
    );
    // Links lost since the stream was last bound or resumed.
    let mut lost_in_a_row = 0u32;
    let mut close = false;
    // An event read ahead while collecting a burst, handled next.
    let mut peeked: Option<Option<StreamEvent>> = None;
    loop {
        // When the next request times out (none pending: no timer).
        let iq_deadline = session.pending_iqs.next_deadline();
        tokio::select! {
            event = next_event(&mut stream, &mut peeked) => match event {
                None => break,
                Some(StreamEvent::Stream(Link::Reset { bound_jid, features })) => {
                    online_once.store(true, Ordering::SeqCst);
                    session.sm_enabled = features.stream_management.is_some();
                    session.pre_approval = subscription::pre_approval(&features);
                    session.link_up = true;
                    lost_in_a_row = 0;
                    session.on_bound(&stream, bound_jid).await;
                }
                Some(StreamEvent::Stream(Link::Suspended)) => {
                    session.link_up = false;
                    lost_in_a_row += 1;
                    if lost_in_a_row >= LOST_WITHOUT_RESUMING {
                        // Every reconnect is lost again before it resumes or
                        // binds: tokio-xmpp 6 retries a resumption that the
                        // server refused (it rejects Prosody's <failed/>
                        // without `h`) at once, forever. Start over with a
                        // fresh stream; the outbox and owed receipts are
                        // persisted and go out after the new bind.
                        log::warn!("{lost_in_a_row} links lost without resuming; opening a fresh stream");
                        lost_in_a_row = 0;
                        restart(&mut stream, &mut cancel, &login, &online_once, &reports_tx, &nudge);
                    }
                    session.state(ConnectionState::Reconnecting { attempt: 0, retry_in_ms: 0 }).await;
                }
                Some(StreamEvent::Stream(Link::Resumed)) => {
                    session.link_up = true;
                    lost_in_a_row = 0;
                    session.online_state().await;
                    // After what the stream resends itself, in order.
                    session.flush(&stream).await;
                }
                Some(StreamEvent::Stanza(stanza)) => {
                    session.on_stanza_guarded(&stream, stanza).await;
                    // The rest of a burst the stream already has: its chat
                    // messages are committed together, then announced.
                    for _ in 1..MAX_BURST {
                        match stream.next().now_or_never() {
                            Some(Some(StreamEvent::Stanza(stanza))) => {
                                session.on_stanza_guarded(&stream, stanza).await
                            }
                            Some(other) => {
                                peeked = Some(other);
                                break;
                            }
                            None => break,
                        }
                    }
                    session.commit_burst(&stream).await;
                }
            },
            Some(Report::Failed { failure, attempt, retry_in }) = reports.recv() => {
                session.error(failure.error.clone()).await;
                match retry_in {
                    Some(delay) => {
                        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                        session.state(ConnectionState::Reconnecting { attempt, retry_in_ms }).await;
                    }
                    None => {
                        if let Some(ready) = session.ready.take() {
                            let _ = ready.send(Err(failure.error));
                        }
                        break;
                    }
                }
            }
            Some(tracked) = acks.recv() => {
                let mut all = vec![tracked];
                while let Ok(more) = acks.try_recv() {
                    all.push(more);
                }
                session.on_tracked(&stream, all).await;
            }
            _ = tokio::time::sleep_until(
                iq_deadline.unwrap_or_else(tokio::time::Instant::now)
            ), if iq_deadline.is_some() => {
                for pending in session.pending_iqs.expired(tokio::time::Instant::now()) {
                    session.on_iq_timeout(&stream, pending).await;
                }
            }
            _ = tokio::time::sleep(BACKLOG_RETRY), if !session.backlog.is_empty() => {
                session.drain(&stream);
            }
            _ = tokio::time::sleep_until(
                session.carbons_deadline.unwrap_or_else(tokio::time::Instant::now)
            ), if session.carbons_deadline.is_some() => {
                // A live server answers at once, if only with an error: the
                // link died between the bind and the answer (a server shutting
                // down accepts a bind and then nothing). Never "online" on it.
                log::warn!("no answer to the carbons request: the link is dead; opening a fresh stream");
                session.pending_iqs.retain(|p| !matches!(p, PendingIq::Carbons));
                session.carbons_deadline = None;
                session.link_up = false;
                restart(&mut stream, &mut cancel, &login, &online_once, &reports_tx, &nudge);
                session.state(ConnectionState::Reconnecting { attempt: 0, retry_in_ms: 0 }).await;
            }
            command = commands.recv() => match command {
                None | Some(Command::Disconnect) => { close = true; break; }
                Some(Command::ReconnectNow) => nudge.notify_waiters(),
                Some(Command::Flush) => session.flush(&stream).await,
                Some(Command::SetPresence { show, status }) => {
                    session.show = show;
                    session.status = status;
                    if session.presence_sent {
                        session.send_presence(&stream).await;
                    }
                }
                Some(Command::SetAuto(auto)) => {
                    // Only a change of availability is news; the idle time
                    // it started stays the first one seen.
                    if session.auto.map(|a| a.show) != auto.map(|a| a.show) {
                        // Away to extended away: still idle since the first.
                        session.auto = auto.map(|new| AutoPresence {
                            since: session.auto.map_or(new.since, |old| old.since.min(new.since)),
                            ..new
                        });
                        if session.presence_sent {
                            session.send_presence(&stream).await;
                        }
                    }
                }
                Some(Command::LastActivity { jid, reply }) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    let query = last::request(id.clone(), &jid);
                    session.pending_iqs.insert(id, PendingIq::LastActivity { jid, reply });
                    session.out(&stream, query.into(), Track::None);
                }
                Some(Command::Roster { op, reply }) => session.roster_op(&stream, op, reply).await,
                Some(Command::Block { jid, block, report, reply }) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    session.pending_iqs.insert(id.clone(), PendingIq::Change { reply });
                    // A report goes only to a server that said it takes them.
                    let iq = if block && report && session.reporting.load(Ordering::SeqCst) {
                        blocking::block_and_report(id, &jid)
                    } else {
                        blocking::change(id, &jid, block)
                    };
                    session.out(&stream, iq.into(), Track::None);
                }
                Some(Command::ChatState { to, state }) => {
                    let contact = session
                        .store(|s| s.is_contact(session.account, to.as_str()))
                        .unwrap_or(false);
                    if contact && session.link_up && session.bound.is_some() {
                        let msg = chatstates::standalone(&to, state);
                        session.out(&stream, msg.into(), Track::None);
                    }
                }
                Some(Command::Blocklist { reply }) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    session.pending_iqs.insert(id.clone(), PendingIq::Blocklist { reply });
                    session.out(&stream, blocking::request(id).into(), Track::None);
                }
                Some(Command::FetchOlder { peer, reply }) => {
                    session.fetch_older(&stream, peer, reply).await;
                }
                Some(Command::Account { payload, reply }) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    session.pending_iqs.insert(id.clone(), PendingIq::Account { reply });
                    let iq = Iq::Set { from: None, to: None, id, payload };
                    session.out(&stream, iq.into(), Track::None);
                }
                Some(Command::Iq { to, set, payload, reply }) => {
                    session.ask(&stream, to, set, payload, reply);
                }
                Some(Command::OwnAvatar { hash }) => {
                    let own = session.own.clone();
                    session.set_avatar(&stream, &own, hash).await;
                }
                Some(Command::MarkDisplayed { to, id }) => {
                    if session.bound.is_some() {
                        let marker = receipts::displayed(Jid::from(to), &id);
                        session.out(&stream, marker.into(), Track::None);
                    }
                }
            },
        }
    }
    if close && session.link_up {
        // Only if it fits in the stream's queue now: a full queue must not
        // hold up the disconnect.
        let bye = Box::new(Presence::unavailable().into());
        let _ = stream.send(bye).now_or_never();
        // The link may have died a moment ago (the server closed it, say
        // after deleting the account) and the stream's worker may be
        // waiting for the reconnector, which gives up a fatal login and
        // then waits to be cancelled: cancel it first, or `close` waits
        // forever. And never wait long for a dying link.
        let _ = cancel.send(true);
        if tokio::time::timeout(CLOSE_TIMEOUT, stream.close())
            .await
            .is_err()
        {
            log::warn!("the stream did not close within {CLOSE_TIMEOUT:?}");
        }
    } else {
        // Not connected (failed, or waiting to reconnect): drop the stream
        // first, then stop the reconnector, which lets the worker end.
        drop(stream);
        let _ = cancel.send(true);
    }
    session.went_offline().await;
    if let Some(ready) = session.ready.take() {
        let _ = ready.send(Err(CoreError::new(
            ErrorCode::NotConnected,
            "disconnected before the login finished",
        )));
    }
    session.state(ConnectionState::Disconnected).await;
}

/// Drops `stream` and opens a fresh one: a new login and bind, no
/// resumption. The outbox and owed receipts are persisted and go out after
/// the new bind.
fn restart(
    stream: &mut StanzaStream,
    cancel: &mut watch::Sender<bool>,
    login: &LoginConfig,
    online_once: &Arc<AtomicBool>,
    reports: &mpsc::UnboundedSender<Report>,
    nudge: &Arc<tokio::sync::Notify>,
) {
    let (new_cancel, cancelled) = watch::channel(false);
    let fresh = c2s::open(
        login.clone(),
        online_once.clone(),
        reports.clone(),
        cancelled,
        nudge.clone(),
    );
    drop(std::mem::replace(stream, fresh));
    let _ = std::mem::replace(cancel, new_cancel).send(true);
}

impl Session {
    async fn emit(&self, event: Event) {
        // A dropped receiver means nobody listens any more; that is fine.
        let _ = self.events.send(event).await;
    }

    async fn state(&self, state: ConnectionState) {
        self.emit(Event::Connection {
            account: self.account,
            state,
        })
        .await;
    }

    async fn online_state(&self) {
        if let Some(jid) = &self.bound {
            self.state(ConnectionState::Online {
                jid: jid.to_string(),
            })
            .await;
        }
    }

    async fn error(&self, error: CoreError) {
        self.emit(Event::Error {
            account: Some(self.account),
            error,
        })
        .await;
    }

    fn store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, charla_store::StoreError>,
    ) -> Result<T, CoreError> {
        crate::with_store(&self.store, f)
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
    /// resume): everything volatile starts over.
    async fn on_bound(&mut self, stream: &StanzaStream, jid: Jid) {
        self.went_offline().await;
        self.remember_login_mechanism();
        self.bound = jid.try_into_full().ok();
        self.bound_at = now_ms();
        self.pending_iqs.clear();
        self.in_flight.clear();
        self.generation += 1;
        self.receipts_in_flight.clear();
        // Not committed, so the archive position is still before them.
        self.held.clear();
        if let Some(q) = self.older.take() {
            let _ = q.reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the connection was reset; try again",
            )));
        }
        // Written for the old stream: its IQs are void, its outbox rows and
        // owed receipts are sent again below, the rest is stale.
        self.backlog.clear();
        self.presence_sent = false;
        self.held_roster = None;
        self.carbons_on = false;
        if self.mam.take().is_some() {
            self.emit(Event::CatchUpFinished {
                account: self.account,
                added: u32::try_from(self.catch_up_added).unwrap_or(u32::MAX),
                complete: false,
            })
            .await;
        }
        self.mam_caught_up = false;
        self.avatar_fetches.clear();
        self.pep_avatars.clear();

        let ver = self
            .store(|s| s.roster_version(self.account))
            .unwrap_or(None);
        self.send_iq(
            stream,
            None,
            IqKind::Get(roster::request(ver).into()),
            PendingIq::Roster,
        )
        .await;
        let own = Jid::from(self.own.clone());
        self.send_iq(
            stream,
            Some(own),
            IqKind::Get(DiscoInfoQuery { node: None }.into()),
            PendingIq::OwnDisco,
        )
        .await;
        self.reporting.store(false, Ordering::SeqCst);
        if let Ok(server) = Jid::new(self.own.domain().as_str()) {
            self.send_iq(
                stream,
                Some(server),
                IqKind::Get(DiscoInfoQuery { node: None }.into()),
                PendingIq::ServerDisco,
            )
            .await;
        }
        // Carbons before the initial presence (XEP-0280 §4.3), so that no
        // message sent to another of our clients in between is missed.
        let id = uuid::Uuid::new_v4().to_string();
        self.pending_iqs.insert(id.clone(), PendingIq::Carbons);
        self.carbons_deadline = Some(tokio::time::Instant::now() + CARBONS_TIMEOUT);
        self.out(stream, carbons::enable(id).into(), Track::None);
    }

    /// Carbons are on (or refused, or unanswered): send the initial
    /// presence, announce that we are online and drain the outbox.
    async fn finish_login(&mut self, stream: &StanzaStream) {
        self.carbons_deadline = None;
        self.send_presence(stream).await;
        self.presence_sent = true;
        self.online_state().await;
        if let Some(roster) = self.held_roster.take() {
            self.emit(roster).await;
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
        self.flush(stream).await;
        self.send_owed_receipts(stream).await;
        // After the initial presence: whatever is archived from here on
        // also arrives live, and duplicates are dropped by stanza-id.
        self.start_catch_up(stream).await;
    }

    /// Forgets all contacts' presence and tells the UI they are offline.
    async fn went_offline(&mut self) {
        for jid in self.presences.clear() {
            self.emit(Event::PresenceChanged {
                account: self.account,
                jid: jid.to_string(),
                presence: None,
            })
            .await;
        }
    }

    async fn send_presence(&mut self, stream: &StanzaStream) {
        let mut p = presence::own(self.show, self.status.as_deref(), PRIORITY, self.auto);
        p.add_payload(self.caps.clone());
        let own_avatar = self.own_avatar.as_ref().map(Option::as_deref);
        p.payloads.push(avatar::own_update(own_avatar));
        self.out(stream, p.into(), Track::None);
    }

    async fn send_iq(
        &mut self,
        stream: &StanzaStream,
        to: Option<Jid>,
        kind: IqKind,
        pending: PendingIq,
    ) {
        let id = uuid::Uuid::new_v4().to_string();
        let iq = match kind {
            IqKind::Get(payload) => Iq::Get {
                from: None,
                to,
                id: id.clone(),
                payload,
            },
        };
        self.pending_iqs.insert(id, pending);
        self.out(stream, iq.into(), Track::None);
    }

    async fn reply(&mut self, stream: &StanzaStream, iq: Iq) {
        self.out(stream, iq.into(), Track::None);
    }

    /// Handles one stanza of a burst. Live chat messages wait in
    /// [`Session::burst`]; anything else first commits the ones before it,
    /// so stanzas take effect in order.
    async fn on_stanza(&mut self, stream: &StanzaStream, stanza: Stanza) {
        match stanza {
            Stanza::Iq(iq) => {
                self.commit_burst(stream).await;
                self.on_iq(stream, iq).await
            }
            Stanza::Message(msg) => self.on_message(stream, msg).await,
            Stanza::Presence(p) => {
                self.commit_burst(stream).await;
                self.on_presence(stream, p).await
            }
        }
    }

    /// [`Session::on_stanza`], where a panic in a parser (ours or a
    /// library's) drops that stanza instead of ending the session: remote
    /// input must never take an account down.
    async fn on_stanza_guarded(&mut self, stream: &StanzaStream, stanza: Stanza) {
        let handled = std::panic::AssertUnwindSafe(self.on_stanza(stream, stanza))
            .catch_unwind()
            .await;
        if handled.is_err() {
            log::error!("a stanza made a parser panic; it was dropped");
        }
    }

    async fn on_iq(&mut self, stream: &StanzaStream, iq: Iq) {
        match iq {
            Iq::Get {
                from, id, payload, ..
            } => {
                let answer = if payload.is("query", ns::DISCO_INFO) {
                    DiscoInfoQuery::try_from(payload)
                        .ok()
                        .and_then(|q| disco::answer(&q, &self.caps))
                        .map(|r| Ok(Some(Element::from(r))))
                        .unwrap_or(Err(DefinedCondition::ItemNotFound))
                } else if payload.is("ping", ns::PING) {
                    Ok(None)
                } else if payload.is("query", ns::VERSION) {
                    Ok(Some(disco::version().into()))
                } else if payload.is("time", ns::TIME) {
                    Ok(chrono::DateTime::from_timestamp_millis(now_ms())
                        .map(|now| disco::time(now).into()))
                } else {
                    Err(DefinedCondition::ServiceUnavailable)
                };
                self.reply(stream, response(from, id, answer)).await;
            }
            Iq::Set {
                from, id, payload, ..
            } => {
                let answer = if payload.is("query", ns::ROSTER)
                    && roster::push_allowed(from.as_ref(), &self.own)
                {
                    match Roster::try_from(payload) {
                        Ok(r) => match roster::parse_push(&r) {
                            Some(push) => {
                                self.on_roster_push(push).await;
                                Ok(None)
                            }
                            None => Err(DefinedCondition::BadRequest),
                        },
                        Err(_) => Err(DefinedCondition::BadRequest),
                    }
                } else if blocking::is_push(&payload)
                    && roster::push_allowed(from.as_ref(), &self.own)
                {
                    // The list changed (here or on another device); it is
                    // read from the server when shown.
                    Ok(None)
                } else {
                    Err(DefinedCondition::ServiceUnavailable)
                };
                self.reply(stream, response(from, id, answer)).await;
            }
            Iq::Result {
                from, id, payload, ..
            } => {
                if let Some(pending) = self.take_pending(&id, from.as_ref()) {
                    self.on_iq_result(stream, pending, Ok(payload)).await;
                }
            }
            Iq::Error {
                from, id, error, ..
            } => {
                if let Some(pending) = self.take_pending(&id, from.as_ref()) {
                    self.on_iq_result(stream, pending, Err(error)).await;
                }
            }
        }
    }

    /// Matches an IQ answer to our request. Only our own server/account may
    /// answer the requests we make of it (Pidgin CVE-2013-6483); a forged
    /// answer is dropped and the real one still awaited.
    /// A request to a contact is answered only by that contact's bare JID.
    fn take_pending(&mut self, id: &str, from: Option<&Jid>) -> Option<PendingIq> {
        let ours = match from {
            None => true,
            Some(f) => f.to_bare() == self.own || self.bound.as_ref().is_some_and(|b| f == b),
        };
        let allowed = match self.pending_iqs.get(id)?.peer() {
            Some(peer) if *peer != self.own => {
                from.is_some_and(|f| f.resource().is_none() && f.to_bare() == *peer)
            }
            _ => ours,
        };
        if allowed {
            self.pending_iqs.remove(id)
        } else {
            None
        }
    }

    /// A request got no answer within [`iq::IQ_TIMEOUT`]: whoever waits
    /// for it gets a `timeout` error, and the core's own requests go on as
    /// if refused.
    async fn on_iq_timeout(&mut self, stream: &StanzaStream, pending: PendingIq) {
        log::warn!("no answer to an IQ request: {pending:?}");
        let timeout = || {
            CoreError::new(
                ErrorCode::Timeout,
                format!(
                    "no answer to the request within {} s",
                    iq::IQ_TIMEOUT.as_secs()
                ),
            )
        };
        match pending {
            PendingIq::Blocklist { reply } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::LastActivity { reply, .. } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::Change { reply } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::Ask { reply, .. } => {
                let _ = reply.send(Err(timeout()));
            }
            other => {
                let error = StanzaError::new(
                    ErrorType::Wait,
                    DefinedCondition::RemoteServerTimeout,
                    "en",
                    "no answer",
                );
                self.on_iq_result(stream, other, Err(error)).await;
            }
        }
    }

    async fn on_iq_result(
        &mut self,
        stream: &StanzaStream,
        pending: PendingIq,
        result: Result<Option<Element>, StanzaError>,
    ) {
        match pending {
            PendingIq::Roster => {
                let fetched = match result {
                    Ok(Some(el)) => match Roster::try_from(el) {
                        Ok(r) => {
                            let entries: Vec<_> = r.items.iter().map(roster::entry).collect();
                            let ver = r.ver.clone();
                            self.store(|s| s.replace_roster(self.account, &entries, ver.as_deref()))
                        }
                        Err(e) => Err(CoreError::new(
                            ErrorCode::Protocol,
                            format!("bad roster: {e}"),
                        )),
                    },
                    // Empty result: our cached version is current (RFC 6121 §2.6).
                    Ok(None) => Ok(()),
                    Err(e) => Err(CoreError::new(
                        ErrorCode::Protocol,
                        format!("roster request failed: {:?}", e.defined_condition),
                    )),
                };
                if let Err(e) = fetched {
                    self.error(e).await;
                }
                match self.store(|s| s.contacts(self.account)) {
                    Ok(contacts) => {
                        let event = Event::RosterLoaded {
                            account: self.account,
                            contacts,
                        };
                        if self.presence_sent {
                            self.emit(event).await;
                        } else {
                            // Announce "online" first, as before carbons.
                            self.held_roster = Some(event);
                        }
                    }
                    Err(e) => self.error(e).await,
                }
            }
            PendingIq::ServerDisco => {
                let reporting = match result {
                    Ok(Some(el)) => DiscoInfoResult::try_from(el)
                        .map(|r| blocking::reporting(&r))
                        .unwrap_or(false),
                    _ => false,
                };
                self.reporting.store(reporting, Ordering::SeqCst);
            }
            PendingIq::OwnDisco => {
                self.sid_trusted = match result {
                    Ok(Some(el)) => DiscoInfoResult::try_from(el)
                        .map(|r| r.features.contains(ns::SID))
                        .unwrap_or(false),
                    _ => false,
                };
            }
            PendingIq::Carbons => {
                match result {
                    Ok(_) => self.carbons_on = true,
                    Err(e) => log::info!("carbons not enabled: {:?}", e.defined_condition),
                }
                self.finish_login(stream).await;
            }
            PendingIq::Mam { queryid } => self.on_mam_page(stream, &queryid, result).await,
            PendingIq::Older { queryid } => self.on_older_page(&queryid, result).await,
            PendingIq::Blocklist { reply } => {
                let _ = reply.send(match result {
                    Ok(payload) => blocking::parse_list(payload)
                        .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "malformed block list")),
                    Err(e) => Err(CoreError::new(
                        ErrorCode::Protocol,
                        format!("no block list: {:?}", e.defined_condition),
                    )),
                });
            }
            PendingIq::Account { reply } => {
                let _ = reply.send(result);
            }
            PendingIq::Ask { reply, .. } => {
                let _ = reply.send(result.map_err(|e| {
                    CoreError::new(
                        ErrorCode::Protocol,
                        format!("the request was refused: {:?}", e.defined_condition),
                    )
                }));
            }
            PendingIq::AvatarData { peer, hash } => {
                match result.ok().and_then(|p| avatar::parse_data(p, &hash)) {
                    Some(data) => self.avatar_fetched(stream, &hash, &data).await,
                    // No such item, or data that does not match: try their
                    // vCard (XEP-0153) before giving up.
                    None => self.fetch_avatar(stream, peer, hash, false),
                }
            }
            PendingIq::AvatarVcard { peer, hash } => {
                match result
                    .ok()
                    .and_then(|p| avatar::parse_vcard_photo(p, &hash))
                {
                    Some(data) => self.avatar_fetched(stream, &hash, &data).await,
                    None => {
                        log::info!("no usable avatar {hash} from {peer}");
                        self.avatar_fetches.remove(&hash);
                    }
                }
            }
            PendingIq::LastActivity { reply, .. } => {
                let _ = reply.send(last::parse(result));
            }
            PendingIq::Change { reply } => {
                let _ = reply.send(result.map(|_| ()).map_err(|e| {
                    CoreError::new(
                        ErrorCode::Protocol,
                        format!("the server refused the change: {:?}", e.defined_condition),
                    )
                }));
            }
        }
    }

    /// Applies a verified roster push. Its version is not recorded: the
    /// next login sends the version of the last full fetch, and the server
    /// replays later pushes from there (RFC 6121 §2.6.3).
    async fn on_roster_push(&mut self, push: Push) {
        let account = self.account;
        let result = match &push {
            Push::Upsert(entry) => self.store(|s| s.upsert_contact(account, entry)),
            Push::Remove(jid) => self.store(|s| s.remove_contact(account, jid).map(|_| ())),
        };
        match result {
            Err(e) => self.error(e).await,
            Ok(()) => {
                let event = match push {
                    Push::Upsert(contact) => Event::ContactChanged { account, contact },
                    Push::Remove(jid) => Event::ContactRemoved { account, jid },
                };
                self.emit(event).await;
            }
        }
    }

    async fn on_message(&mut self, stream: &StanzaStream, msg: xmpp_parsers::message::Message) {
        if avatar::is_event(&msg) {
            // PEP notifications (XEP-0163) are never chat messages.
            if let Some((from, advert)) = avatar::metadata_event(&msg) {
                self.on_avatar_advert(stream, from, advert, true).await;
            }
            return;
        }
        if mam::is_result(&msg) {
            // Never read as a plain message, whatever its checks say.
            self.commit_burst(stream).await;
            return self.on_archived(&msg);
        }
        let incoming = match carbons::unwrap(&msg, &self.own) {
            Carbon::No => chat::classify(&msg, &self.own),
            Carbon::Refused(why) => return log::debug!("dropped carbon: {why}"),
            Carbon::Copy(incoming) => incoming,
        };
        if !matches!(incoming, Incoming::Chat(_)) {
            self.commit_burst(stream).await;
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
                self.announce_update(updated).await;
            }
            Incoming::Acks { peer, acks } => self.apply_acks(&peer, &acks).await,
            Incoming::ChatState { peer, state } => {
                self.emit(Event::ChatState {
                    account: self.account,
                    peer: peer.to_string(),
                    state,
                })
                .await
            }
            Incoming::ReadElsewhere { peer, id } => {
                let account = self.account;
                match self.store(|s| s.find_incoming(account, peer.as_str(), &id)) {
                    Ok(Some(up_to)) => {
                        self.emit(Event::ChatRead {
                            account,
                            peer: peer.to_string(),
                            up_to,
                        })
                        .await
                    }
                    Ok(None) => log::debug!("read elsewhere: no such message here"),
                    Err(e) => self.error(e).await,
                }
            }
            Incoming::Chat(c) => self.on_chat(stream, c).await,
        }
    }

    /// A chat message (or a carbon copy of one of ours): held during a
    /// catch-up if the archive brings it too, else added to the burst.
    async fn on_chat(&mut self, stream: &StanzaStream, c: IncomingChat) {
        let catching_up = matches!(
            &self.mam,
            Some(MamQuery {
                purpose: Purpose::CatchUp { .. },
                ..
            })
        );
        if catching_up && self.sid_trusted && c.stanza_id.is_some() {
            self.commit_burst(stream).await;
            self.apply_acks(&c.peer, &c.acks).await;
            self.held.push(c);
        } else {
            self.burst.push(c);
        }
    }

    /// Commits the live chat messages of the burst read so far.
    async fn commit_burst(&mut self, stream: &StanzaStream) {
        let burst = std::mem::take(&mut self.burst);
        self.commit_live(stream, &burst, true).await;
    }

    /// Commits live chat messages (or carbon copies of ours) in one
    /// transaction, announces the new ones, then answers their receipt
    /// requests and applies the acks they carry: saved first, then told.
    /// `move_position`: a stored message may become the archive position
    /// (not for held messages, which the catch-up already passed).
    async fn commit_live(
        &mut self,
        stream: &StanzaStream,
        chats: &[IncomingChat],
        move_position: bool,
    ) {
        let verdicts = self.admit(chats.iter()).await;
        let (admitted, strangers): (Vec<IncomingChat>, Vec<bool>) = chats
            .iter()
            .zip(verdicts)
            .filter_map(|(c, v)| v.map(|stranger| (c.clone(), stranger)))
            .unzip();
        let chats = admitted.as_slice();
        if chats.is_empty() {
            return;
        }
        let mut rows = Vec::with_capacity(chats.len());
        for c in chats {
            let owed = self.owes_receipt(c).await;
            rows.push(self.new_message(c, self.sid_trusted, owed));
        }
        match self.store(|s| s.insert_incoming_batch(&rows)) {
            Ok(outcomes) => {
                if move_position {
                    if let Some(last) = rows.iter().rev().find(|r| r.stanza_id.is_some()) {
                        self.live_position(last);
                    }
                }
                for (((c, row), outcome), stranger) in
                    chats.iter().zip(&rows).zip(outcomes).zip(strangers)
                {
                    match outcome {
                        InsertOutcome::Inserted(message) => {
                            let id = message.id;
                            self.emit(Event::MessageAdded {
                                account: self.account,
                                message,
                                stranger,
                            })
                            .await;
                            if row.receipt_owed {
                                self.send_receipt(stream, Some(id), c).await;
                            }
                        }
                        InsertOutcome::Duplicate(id) => {
                            log::debug!("duplicate of message {id:?}");
                            // The sender may have missed our first receipt.
                            if row.receipt_owed {
                                self.send_receipt(stream, None, c).await;
                            }
                        }
                    }
                }
            }
            Err(e) => {
                // The server may already count these messages as delivered
                // (stream management acks on reading). They are in the
                // archive: keep the catch-up position before them, so the
                // next catch-up brings them.
                self.mam_caught_up = false;
                self.error(e).await;
            }
        }
        for c in chats {
            self.apply_acks(&c.peer, &c.acks).await;
        }
    }

    /// The authorize stage: a stranger (not in the roster, never written
    /// to) may leave at most [`STRANGER_MESSAGES`] messages until the user
    /// answers or adds them; the rest are dropped, not stored. Our own
    /// copies and contacts' messages all pass.
    /// Returns, for each message in order, whether it is stored (`Some`)
    /// and then whether it comes from a stranger (a message request).
    async fn admit<'c>(&self, chats: impl Iterator<Item = &'c IncomingChat>) -> Vec<Option<bool>> {
        // Per sender: `None` for a contact or someone the user wrote to (no
        // limit), else how many more messages the stranger may leave.
        let mut left: HashMap<&BareJid, Option<u32>> = HashMap::new();
        let mut admitted = Vec::new();
        for c in chats {
            if c.direction != Direction::In {
                admitted.push(Some(false));
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
                            self.error(e).await;
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
            admitted.push(verdict);
        }
        admitted
    }

    /// Commits the live messages held during a catch-up that just ended.
    async fn release_held(&mut self, stream: &StanzaStream) {
        let held = std::mem::take(&mut self.held);
        self.commit_live(stream, &held, false).await;
    }

    /// The row to store for a classified chat message. Its stanza-id is
    /// kept only if `sid_trusted` (our server stamps them, or it is an
    /// archive id from our own archive).
    fn new_message(&self, c: &IncomingChat, sid_trusted: bool, receipt_owed: bool) -> NewMessage {
        NewMessage {
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
        }
    }

    /// Once caught up (and with carbons, so that our other devices' messages
    /// reach us too), a stored live message with our server's stanza-id is
    /// the newest archive item we have: the next catch-up starts after it.
    fn live_position(&self, new: &NewMessage) {
        if !(self.mam_caught_up && self.carbons_on && self.mam.is_none()) {
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

    /// Starts the archive catch-up of a fresh stream: a baseline on the
    /// first login, else everything after the last archive id we have.
    async fn start_catch_up(&mut self, stream: &StanzaStream) {
        let purpose = match self.store(|s| s.mam_position(self.account)) {
            Ok(None) => Purpose::Baseline,
            Ok(Some(p)) => Purpose::CatchUp {
                after: p.last_id,
                start: None,
            },
            Err(e) => return self.error(e).await,
        };
        self.catch_up_added = 0;
        self.emit(Event::CatchUpStarted {
            account: self.account,
        })
        .await;
        self.open_mam(stream, purpose, std::time::Instant::now(), 0, false)
            .await;
    }

    async fn open_mam(
        &mut self,
        stream: &StanzaStream,
        purpose: Purpose,
        started: std::time::Instant,
        added: usize,
        fell_back: bool,
    ) {
        let queryid = uuid::Uuid::new_v4().to_string();
        let iq_id = uuid::Uuid::new_v4().to_string();
        let iq = mam::query(iq_id.clone(), &queryid, &purpose);
        self.pending_iqs.insert(
            iq_id,
            PendingIq::Mam {
                queryid: queryid.clone(),
            },
        );
        self.mam = Some(MamQuery {
            queryid,
            purpose,
            page: Vec::new(),
            started,
            added,
            fell_back,
        });
        self.out(stream, iq.into(), Track::None);
    }

    /// An archive result: kept for its page if it passes every check.
    fn on_archived(&mut self, msg: &xmpp_parsers::message::Message) {
        if let Some(q) = &mut self.older {
            if let Ok(archived) = mam::accept(msg, &self.own, Some(&q.queryid)) {
                q.page.push(archived);
                return;
            }
        }
        let open = self.mam.as_ref().map(|q| q.queryid.as_str());
        match mam::accept(msg, &self.own, open) {
            Ok(archived) => {
                if let Some(q) = &mut self.mam {
                    q.page.push(archived);
                }
            }
            Err(why) => log::debug!("dropped archive result: {why}"),
        }
    }

    /// Asks the archive for the page of `peer`'s history before the oldest
    /// message stored with an archive id.
    async fn fetch_older(
        &mut self,
        stream: &StanzaStream,
        peer: BareJid,
        reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
    ) {
        if self.bound.is_none() || !self.link_up {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )));
            return;
        }
        if self.older.is_some() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::InvalidInput,
                "older history is already being fetched",
            )));
            return;
        }
        let account = self.account;
        let before = match self.store(|s| s.oldest_archive_id(account, peer.as_str())) {
            Ok(before) => before.unwrap_or_default(),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let queryid = uuid::Uuid::new_v4().to_string();
        let iq_id = uuid::Uuid::new_v4().to_string();
        let iq = mam::older_query(iq_id.clone(), &queryid, &peer, &before);
        self.pending_iqs.insert(
            iq_id,
            PendingIq::Older {
                queryid: queryid.clone(),
            },
        );
        self.older = Some(OlderQuery {
            queryid,
            page: Vec::new(),
            reply,
        });
        self.out(stream, iq.into(), Track::None);
    }

    /// The page of older history arrived: stored before everything else.
    /// Not announced (it is history, not news: no unread count, no
    /// notification, no receipt); whoever asked reads it from the store.
    async fn on_older_page(&mut self, queryid: &str, result: Result<Option<Element>, StanzaError>) {
        let Some(query) = self.older.take_if(|q| q.queryid == queryid) else {
            return;
        };
        let end = match result {
            Ok(payload) => mam::fin(payload),
            Err(e) => {
                let _ = query.reply.send(Err(CoreError::new(
                    ErrorCode::Protocol,
                    format!("the archive refused: {:?}", e.defined_condition),
                )));
                return;
            }
        };
        let Some(end) = end else {
            let _ = query.reply.send(Err(CoreError::new(
                ErrorCode::Protocol,
                "malformed archive answer",
            )));
            return;
        };
        let rows: Vec<NewMessage> = query
            .page
            .iter()
            .filter_map(|a| match &a.incoming {
                Incoming::Chat(c) => Some(self.new_message(c, true, false)),
                _ => None,
            })
            .collect();
        let outcomes = match self.store(|s| s.insert_older_page(&rows)) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let _ = query.reply.send(Err(e));
                return;
            }
        };
        let added = outcomes
            .iter()
            .filter(|o| matches!(o, InsertOutcome::Inserted(_)))
            .count();
        let added = u32::try_from(added).unwrap_or(u32::MAX);
        let complete = end.complete || query.page.is_empty();
        let _ = query
            .reply
            .send(Ok(crate::OlderHistory { added, complete }));
    }

    /// The end of an archive page. When it ends the catch-up, the live
    /// messages held meanwhile are committed after the archive's rows.
    async fn on_mam_page(
        &mut self,
        stream: &StanzaStream,
        queryid: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let ours = self.mam.as_ref().is_some_and(|q| q.queryid == queryid);
        self.mam_page(stream, queryid, result).await;
        if self.mam.is_none() {
            self.release_held(stream).await;
            if ours {
                self.emit(Event::CatchUpFinished {
                    account: self.account,
                    added: u32::try_from(self.catch_up_added).unwrap_or(u32::MAX),
                    complete: self.mam_caught_up,
                })
                .await;
            }
        }
    }

    /// Commits an archive page's rows together with the new position,
    /// announces the new ones, answers their receipt requests, and asks for
    /// the next page.
    async fn mam_page(
        &mut self,
        stream: &StanzaStream,
        queryid: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let Some(query) = self.mam.take_if(|q| q.queryid == queryid) else {
            return;
        };
        let end = match result {
            Ok(payload) => match mam::fin(payload) {
                Some(end) => end,
                None => return log::warn!("archive query: malformed answer; catch-up stopped"),
            },
            Err(e) => return self.on_mam_error(stream, query, e).await,
        };
        let last = query.page.last();
        let last_id = end.last.clone().or_else(|| last.map(|a| a.id.clone()));
        let last_time = last.map(|a| a.time_ms);
        let account = self.account;
        match &query.purpose {
            Purpose::Baseline => {
                // The newest archive id becomes the starting point; older
                // history is not pulled.
                let saved =
                    self.store(|s| s.set_mam_position(account, last_id.as_deref(), last_time));
                if let Err(e) = saved {
                    return self.error(e).await;
                }
                self.mam_caught_up = true;
                log::info!("archive baseline: {last_id:?}");
            }
            Purpose::CatchUp { start, .. } => {
                let start = *start;
                let mut added = query.added;
                if let Some(last_id) = &last_id {
                    let mut rows = Vec::new();
                    let mut chats = Vec::new();
                    let mut acks = Vec::new();
                    let page_chats = query.page.iter().filter_map(|a| match &a.incoming {
                        Incoming::Chat(c) => Some(c),
                        _ => None,
                    });
                    let mut admitted = self.admit(page_chats).await.into_iter();
                    for a in &query.page {
                        match &a.incoming {
                            Incoming::Chat(c) => {
                                let Some(stranger) = admitted.next().flatten() else {
                                    continue;
                                };
                                let owed = self.owes_receipt(c).await;
                                rows.push(self.new_message(c, true, owed));
                                chats.push((c, owed, stranger));
                                acks.push((c.peer.clone(), c.acks.clone()));
                            }
                            Incoming::Acks { peer, acks: a } => {
                                acks.push((peer.clone(), a.clone()))
                            }
                            Incoming::Bounce { .. }
                            | Incoming::ReadElsewhere { .. }
                            | Incoming::ChatState { .. }
                            | Incoming::Ignored(_) => {}
                        }
                    }
                    let committed =
                        self.store(|s| s.insert_archive_page(account, &rows, last_id, last_time));
                    match committed {
                        Ok(outcomes) => {
                            for (outcome, (c, owed, stranger)) in outcomes.into_iter().zip(chats) {
                                if let InsertOutcome::Inserted(message) = outcome {
                                    added += 1;
                                    self.catch_up_added = added;
                                    let id = message.id;
                                    self.emit(Event::MessageAdded {
                                        account,
                                        message,
                                        stranger,
                                    })
                                    .await;
                                    if owed {
                                        self.send_receipt(stream, Some(id), c).await;
                                    }
                                }
                            }
                        }
                        // Stop here; the next login resumes from the last
                        // committed page.
                        Err(e) => return self.error(e).await,
                    }
                    for (peer, list) in acks {
                        self.apply_acks(&peer, &list).await;
                    }
                    if !end.complete && !query.page.is_empty() {
                        let next = Purpose::CatchUp {
                            after: Some(last_id.clone()),
                            start,
                        };
                        return self
                            .open_mam(stream, next, query.started, added, query.fell_back)
                            .await;
                    }
                }
                self.mam_caught_up = true;
                log::info!(
                    "archive catch-up done: {added} new messages in {:?}",
                    query.started.elapsed()
                );
            }
        }
    }

    /// An archive query failed. If our position expired from the archive,
    /// record a gap and continue by time from the last known message.
    async fn on_mam_error(&mut self, stream: &StanzaStream, query: MamQuery, error: StanzaError) {
        let expired = error.defined_condition == DefinedCondition::ItemNotFound
            && !query.fell_back
            && matches!(&query.purpose, Purpose::CatchUp { after: Some(_), .. });
        if !expired {
            return log::warn!(
                "archive query failed: {:?}; catch-up stopped",
                error.defined_condition
            );
        }
        let account = self.account;
        let since = self.store(|s| {
            let known = s.mam_position(account)?.and_then(|p| p.last_time);
            let since = match known {
                Some(t) => Some(t),
                None => s.newest_server_time(account)?,
            };
            s.add_gap(account, since)?;
            Ok(since)
        });
        match since {
            Ok(start) => {
                log::warn!("archive position expired; catching up from {start:?}, gap recorded");
                let next = Purpose::CatchUp { after: None, start };
                self.open_mam(stream, next, query.started, query.added, true)
                    .await;
            }
            Err(e) => self.error(e).await,
        }
    }

    /// Whether we owe `c`'s sender a delivery receipt (XEP-0184): it asks
    /// for one, names an id, and comes from a contact. Strangers get none:
    /// a receipt tells the sender we are online.
    async fn owes_receipt(&self, c: &IncomingChat) -> bool {
        if c.direction != Direction::In || !c.wants_receipt || c.id.is_none() {
            return false;
        }
        match self.store(|s| s.is_contact(self.account, c.peer.as_str())) {
            Ok(contact) => contact,
            Err(e) => {
                self.error(e).await;
                false
            }
        }
    }

    /// Sends the receipt for a stored message. With `owed` (its row), the
    /// row stops owing it once the server acknowledges the receipt.
    async fn send_receipt(
        &mut self,
        stream: &StanzaStream,
        owed: Option<MessageId>,
        c: &IncomingChat,
    ) {
        let Some(id) = &c.id else { return };
        self.send_receipt_to(stream, owed, c.from.clone(), id).await;
    }

    async fn send_receipt_to(
        &mut self,
        stream: &StanzaStream,
        owed: Option<MessageId>,
        to: Jid,
        id: &str,
    ) {
        let track = match owed {
            Some(message) if self.receipts_in_flight.insert(message) => Track::Receipt { message },
            _ => Track::None,
        };
        self.out(stream, receipts::receipt(to, id).into(), track);
    }

    /// Sends the receipts still owed from earlier streams or runs (lost with
    /// a stream the server could not resume, or with a crash).
    async fn send_owed_receipts(&mut self, stream: &StanzaStream) {
        let owed = match self.store(|s| s.owed_receipts(self.account, OWED_RECEIPTS_PER_LOGIN)) {
            Ok(owed) => owed,
            Err(e) => return self.error(e).await,
        };
        for receipt in owed {
            if self.receipts_in_flight.contains(&receipt.message) {
                continue;
            }
            match Jid::new(&receipt.to) {
                Ok(to) => {
                    self.send_receipt_to(stream, Some(receipt.message), to, &receipt.wire_id)
                        .await
                }
                Err(_) => {
                    let _ = self.store(|s| s.receipt_sent(receipt.message));
                }
            }
        }
    }

    /// Hands `stanza` to the stream without ever waiting: if the stream's
    /// queue is full (it is not connected, or the server is slow), it waits
    /// in the backlog, in order, and [`Session::drain`] passes it on later.
    /// The session loop must not block on sending: the stream's worker
    /// blocks in turn while its events are not read.
    fn out(&mut self, stream: &StanzaStream, stanza: Stanza, track: Track) {
        self.backlog.push_back((stanza, track));
        self.drain(stream);
    }

    /// Passes backlogged stanzas to the stream while its queue has room.
    fn drain(&mut self, stream: &StanzaStream) {
        while let Some((stanza, track)) = self.backlog.pop_front() {
            // A copy, so that nothing is lost if the queue is full.
            match stream.send(Box::new(copy(&stanza))).now_or_never() {
                Some(token) => self.track(token, track),
                None => {
                    self.backlog.push_front((stanza, track));
                    return;
                }
            }
        }
    }

    /// Reports, through the session loop, when the server acknowledged a
    /// stanza (XEP-0198), or that it went out if the stream has no
    /// acknowledgements; `false` if it was lost with its stream.
    fn track(&self, mut token: tokio_xmpp::stanzastream::StanzaToken, track: Track) {
        let report = match track {
            Track::None => return,
            Track::Message { id, generation } => {
                Box::new(move |ok| Tracked::Message { id, generation, ok })
                    as Box<dyn FnOnce(bool) -> Tracked + Send>
            }
            Track::Receipt { message } => Box::new(move |ok| Tracked::Receipt { message, ok }),
        };
        let stage = if self.sm_enabled {
            StanzaStage::Acked
        } else {
            StanzaStage::Sent
        };
        let acks = self.acks.clone();
        tokio::spawn(async move {
            let ok = matches!(
                token.wait_for(stage).await,
                Some(StanzaState::Acked { .. }) | Some(StanzaState::Sent { .. })
            );
            let _ = acks.send(report(ok));
        });
    }

    /// Applies receipts and displayed markers from `peer`: each can only
    /// move our own messages in the conversation with `peer`, forward.
    async fn apply_acks(&self, peer: &BareJid, acks: &[Ack]) {
        let account = self.account;
        for ack in acks {
            let updated =
                self.store(
                    |s| match s.find_outgoing(account, peer.as_str(), &ack.id)? {
                        Some(m) => s.set_state(m.id, ack.kind.state(), None),
                        None => Ok(None),
                    },
                );
            self.announce_update(updated).await;
        }
    }

    /// Carries out a roster change: roster sets are answered when the
    /// server replies, subscription answers at once.
    async fn roster_op(
        &mut self,
        stream: &StanzaStream,
        op: RosterOp,
        reply: oneshot::Sender<Result<(), CoreError>>,
    ) {
        use xmpp_parsers::presence::Type;
        if self.bound.is_none() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )));
            return;
        }
        // The roster set goes first, so that the contact has its name
        // and groups before the subscription changes it.
        let (set, then) = match op {
            RosterOp::Add { jid, name, groups } => (
                subscription::item(&jid, name.as_deref(), &groups),
                subscription::on_add(&jid, self.pre_approval),
            ),
            RosterOp::Edit { jid, name, groups } => {
                (subscription::item(&jid, name.as_deref(), &groups), vec![])
            }
            RosterOp::Remove { jid } => (subscription::removal(&jid), vec![]),
            RosterOp::Answer { jid, accept } => {
                if accept {
                    self.out(
                        stream,
                        subscription::presence(&jid, Type::Subscribed).into(),
                        Track::None,
                    );
                    // Mutual, unless we already see them or asked to.
                    let sees = self
                        .store(|s| s.contacts(self.account))
                        .ok()
                        .and_then(|all| all.into_iter().find(|c| c.jid == jid.as_str()))
                        .is_some_and(|c| {
                            c.ask_pending
                                || matches!(c.subscription, Subscription::To | Subscription::Both)
                        });
                    if !sees {
                        self.out(
                            stream,
                            subscription::presence(&jid, Type::Subscribe).into(),
                            Track::None,
                        );
                    }
                } else {
                    self.out(
                        stream,
                        subscription::presence(&jid, Type::Unsubscribed).into(),
                        Track::None,
                    );
                }
                let _ = reply.send(Ok(()));
                return;
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        self.pending_iqs
            .insert(id.clone(), PendingIq::Change { reply });
        self.out(stream, Iq::from_set(id, set).into(), Track::None);
        for p in then {
            self.out(stream, p.into(), Track::None);
        }
    }

    async fn on_presence(&mut self, stream: &StanzaStream, p: Presence) {
        if let Some(jid) = subscription::request(&p, &self.own) {
            let entry = self
                .store(|s| s.contacts(self.account))
                .ok()
                .and_then(|all| all.into_iter().find(|c| c.jid == jid.as_str()));
            if subscription::accepted_by_adding(entry.as_ref()) {
                // We added them: the answer is the pre-approval the server
                // could not keep.
                self.out(
                    stream,
                    subscription::presence(&jid, xmpp_parsers::presence::Type::Subscribed).into(),
                    Track::None,
                );
                return;
            }
            return self
                .emit(Event::SubscriptionRequest {
                    account: self.account,
                    jid: jid.to_string(),
                })
                .await;
        }
        let Some((jid, update)) = presence::parse(&p) else {
            return;
        };
        if let Some(advert) = avatar::vcard_update(&p) {
            self.on_avatar_advert(stream, jid.clone(), advert, false)
                .await;
        }
        if jid == self.own {
            return;
        }
        // Presence is taken only from contacts: a stranger's directed
        // presence (or a flood of them) is neither shown nor kept.
        match self.store(|s| s.is_contact(self.account, jid.as_str())) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return self.error(e).await,
        }
        if let Some(best) = self.presences.apply(&jid, update) {
            self.emit(Event::PresenceChanged {
                account: self.account,
                jid: jid.to_string(),
                presence: best,
            })
            .await;
        }
    }

    /// Sends the oldest pending outbox row, unless one is on its way.
    ///
    /// One message at a time: the next goes to the stream once the server
    /// acknowledged the previous one (XEP-0198). If the server loses the
    /// stream, tokio-xmpp drops what was sent and not acknowledged but
    /// keeps what it had not written yet and sends that first on the new
    /// stream; with more than one message on its way, a later message
    /// could overtake an earlier one that the session sends again.
    async fn flush(&mut self, stream: &StanzaStream) {
        if self.bound.is_none() || !self.link_up || !self.in_flight.is_empty() {
            return;
        }
        let pending = match self.store(|s| s.pending_outgoing(self.account)) {
            Ok(p) => p,
            Err(e) => return self.error(e).await,
        };
        for m in pending {
            let (Ok(to), Some(origin_id)) = (BareJid::new(&m.peer), m.origin_id.as_deref()) else {
                let updated = self
                    .store(|s| s.set_state(m.id, MessageState::Failed, Some("invalid recipient")));
                self.announce_update(updated).await;
                continue;
            };
            // Written before this stream: offline, or lost with a stream
            // the server could not resume (XEP-0198 <failed/>).
            let delayed = (m.local_time < self.bound_at).then_some((m.local_time, &self.own));
            let stanza = chat::outgoing(&to, &m.body, origin_id, delayed);
            let track = Track::Message {
                id: m.id,
                generation: self.generation,
            };
            self.in_flight.insert(m.id, self.generation);
            self.out(stream, stanza.into(), track);
            break;
        }
    }

    /// Applies the stanza fates reported so far; the receipts among them
    /// stop being owed in one transaction.
    async fn on_tracked(&mut self, stream: &StanzaStream, tracked: Vec<Tracked>) {
        let mut receipts_sent = Vec::new();
        for tracked in tracked {
            match tracked {
                Tracked::Message { id, generation, ok } => {
                    self.on_ack(stream, id, generation, ok).await
                }
                Tracked::Receipt { message, ok } => {
                    self.receipts_in_flight.remove(&message);
                    if ok {
                        receipts_sent.push(message);
                    }
                }
            }
        }
        if !receipts_sent.is_empty() {
            if let Err(e) = self.store(|s| s.receipts_sent(&receipts_sent)) {
                self.error(e).await;
            }
        }
    }

    async fn on_ack(&mut self, stream: &StanzaStream, id: MessageId, generation: u64, acked: bool) {
        if self.in_flight.get(&id) == Some(&generation) {
            self.in_flight.remove(&id);
        }
        if acked {
            let updated = self.store(|s| s.set_state(id, MessageState::Sent, None));
            self.announce_update(updated).await;
        }
        self.flush(stream).await;
    }

    async fn announce_update(&self, updated: Result<Option<Message>, CoreError>) {
        match updated {
            Ok(Some(message)) => {
                self.emit(Event::MessageUpdated {
                    account: self.account,
                    message,
                })
                .await
            }
            Ok(None) => {}
            Err(e) => self.error(e).await,
        }
    }
}

impl Session {
    /// Sends a request of the core's own (see [`Command::Iq`]).
    fn ask(
        &mut self,
        stream: &StanzaStream,
        to: Option<BareJid>,
        set: bool,
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    ) {
        if self.bound.is_none() || !self.link_up {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )));
            return;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let to_jid = to.clone().map(Jid::from);
        let iq = if set {
            Iq::Set {
                from: None,
                to: to_jid,
                id: id.clone(),
                payload,
            }
        } else {
            Iq::Get {
                from: None,
                to: to_jid,
                id: id.clone(),
                payload,
            }
        };
        self.pending_iqs
            .insert(id, PendingIq::Ask { peer: to, reply });
        self.out(stream, iq.into(), Track::None);
    }

    /// What `jid` says about their avatar: PEP metadata (`pep`, XEP-0084)
    /// or a presence photo hash (XEP-0153). Only a contact or our own
    /// account is heard; a PEP avatar wins over the presence hash.
    async fn on_avatar_advert(
        &mut self,
        stream: &StanzaStream,
        jid: BareJid,
        advert: Advert,
        pep: bool,
    ) {
        if jid != self.own {
            match self.store(|s| s.is_contact(self.account, jid.as_str())) {
                Ok(true) => {}
                Ok(false) => return log::debug!("avatar of a stranger ignored: {jid}"),
                Err(e) => return self.error(e).await,
            }
        }
        if pep {
            self.pep_avatars.insert(jid.clone());
        } else if self.pep_avatars.contains(&jid) {
            return;
        }
        let (hash, bytes) = match advert {
            Advert::None => return self.set_avatar(stream, &jid, None).await,
            Advert::Hash { hash, bytes } => (hash, bytes),
        };
        if self.avatars.path(&hash).is_some() {
            // Never fetched twice.
            return self.set_avatar(stream, &jid, Some(hash)).await;
        }
        let too_big =
            bytes.is_some_and(|b| usize::try_from(b).map_or(true, |b| b > avatar::MAX_BYTES));
        if !self.avatars.enabled() || too_big || !avatar::is_hash(&hash) {
            return log::info!("avatar {hash} of {jid} not fetched");
        }
        if let Some(waiting) = self.avatar_fetches.get_mut(&hash) {
            if !waiting.contains(&jid) {
                waiting.push(jid);
            }
            return;
        }
        self.avatar_fetches.insert(hash.clone(), vec![jid.clone()]);
        self.fetch_avatar(stream, jid, hash, pep);
    }

    /// Asks `peer` for the image `hash`: from their PEP, or their vCard.
    fn fetch_avatar(&mut self, stream: &StanzaStream, peer: BareJid, hash: String, pep: bool) {
        let id = uuid::Uuid::new_v4().to_string();
        let (iq, pending) = if pep {
            let iq = avatar::data_request(id.clone(), &peer, &hash);
            (iq, PendingIq::AvatarData { peer, hash })
        } else {
            let iq = avatar::vcard_request(id.clone(), &peer);
            (iq, PendingIq::AvatarVcard { peer, hash })
        };
        self.pending_iqs.insert(id, pending);
        self.out(stream, iq.into(), Track::None);
    }

    /// A verified image arrived: cached, then it is the avatar of everyone
    /// who advertised it.
    async fn avatar_fetched(&mut self, stream: &StanzaStream, hash: &str, data: &[u8]) {
        let waiting = self.avatar_fetches.remove(hash).unwrap_or_default();
        if let Err(e) = self.avatars.put(hash, data) {
            return self.error(e).await;
        }
        for jid in waiting {
            self.set_avatar(stream, &jid, Some(hash.to_owned())).await;
        }
    }

    /// Records `jid`'s avatar and announces it if it changed. Our own goes
    /// into our presence too.
    async fn set_avatar(&mut self, stream: &StanzaStream, jid: &BareJid, hash: Option<String>) {
        let account = self.account;
        match self.store(|s| s.set_avatar(account, jid.as_str(), hash.as_deref())) {
            Ok(changed) => {
                if *jid == self.own && self.own_avatar.as_ref() != Some(&hash) {
                    self.own_avatar = Some(hash.clone());
                    if self.presence_sent {
                        self.send_presence(stream).await;
                    }
                }
                if changed {
                    self.emit(Event::AvatarChanged {
                        account,
                        jid: jid.to_string(),
                        hash,
                    })
                    .await;
                }
            }
            Err(e) => self.error(e).await,
        }
    }
}

enum IqKind {
    Get(Element),
}

/// The event read ahead while collecting a burst, else the stream's next.
async fn next_event(
    stream: &mut StanzaStream,
    peeked: &mut Option<Option<StreamEvent>>,
) -> Option<StreamEvent> {
    match peeked.take() {
        Some(event) => event,
        None => stream.next().await,
    }
}

/// A copy of a stanza (`Stanza` itself is not `Clone`).
fn copy(stanza: &Stanza) -> Stanza {
    match stanza {
        Stanza::Iq(iq) => Stanza::Iq(iq.clone()),
        Stanza::Message(m) => Stanza::Message(m.clone()),
        Stanza::Presence(p) => Stanza::Presence(p.clone()),
    }
}

/// Builds the answer to an IQ get/set.
fn response(to: Option<Jid>, id: String, answer: Result<Option<Element>, DefinedCondition>) -> Iq {
    match answer {
        Ok(payload) => Iq::Result {
            from: None,
            to,
            id,
            payload,
        },
        Err(condition) => Iq::Error {
            from: None,
            to,
            id,
            error: StanzaError::new(ErrorType::Cancel, condition, "en", ""),
            payload: None,
        },
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
