//! Charla's headless core: XMPP sessions (tokio-xmpp), the message pipeline
//! and the SQLite store behind one handle, [`Core`]. Commands go in as
//! async method calls; one typed [`Event`] stream comes out. Nothing here
//! knows about Tauri or any UI.
//!
//! Incoming messages are deduplicated and committed to the store before
//! their event is emitted; outgoing messages are committed as `pending`
//! before they are sent, and their state is updated as the server acks.
//! See `ARCHITECTURE.md` at the repository root.

pub mod avatar;
mod blocking;
mod bounds;
pub mod c2s;
mod carbons;
pub mod certificate;
mod chat;
pub mod chatstates;
pub mod credentials;
mod disco;
pub mod error;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod idle;
mod last;
mod mam;
pub mod presence;
mod pubsub;
mod receipts;
pub mod register;
pub mod requests;
mod roster;
mod sasl;
mod session;
mod subscription;
pub mod uri;
pub mod vcard;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use xmpp_parsers::jid::BareJid;

pub use bounds::Bounded;
pub use c2s::{Keepalive, ServerAddress, TlsTrust};
pub use certificate::{CertificateProblem, CertificateReason, Fingerprint};
pub use charla_store::profile;
pub use charla_store::{
    AccountId, Direction, Message, MessageId, MessageRequest, MessageState, RosterEntry, Store,
    Subscription,
};
pub use chatstates::ChatState;
pub use credentials::Credentials;
pub use disco::caps_element;
pub use error::{CoreError, ErrorCode};
pub use event::{ConnectionState, Event};
pub use presence::{ContactPresence, Show};
pub use register::{FieldKind, FieldOption, RegisterOptions, RegistrationField, RegistrationForm};
pub use requests::{attention, Attention};
pub use uri::{LinkAction, XmppLink};
pub use vcard::Profile;

use session::{Command, RosterOp};

/// How many events may wait for the consumer before sessions pause.
const EVENT_QUEUE: usize = 1024;
/// Largest page of history one call returns.
const MAX_PAGE: u32 = 500;

/// What [`Core::fetch_older`] got from the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OlderHistory {
    /// New rows stored (some may already have been here).
    pub added: u32,
    /// The archive has nothing older.
    pub complete: bool,
}

/// How to connect an account.
#[derive(Clone)]
pub struct ConnectOptions {
    /// The account's password. Kept in memory only, never stored.
    pub password: String,
    /// Manual server address; `None` looks it up through DNS SRV.
    pub server: Option<ServerAddress>,
    /// Which certificates to trust.
    pub trust: TlsTrust,
    /// Initial availability (not `Offline`).
    pub show: Show,
    /// Initial status text.
    pub status: Option<String>,
    /// How fast a dead link is noticed ([`Keepalive::default`] normally).
    pub keepalive: Keepalive,
}

/// Everything but the password.
impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("password", &"<hidden>")
            .field("server", &self.server)
            .field("trust", &self.trust)
            .field("show", &self.show)
            .field("status", &self.status)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

struct SessionHandle {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

/// The core: a store plus one session per connected account. Cheap to
/// clone; all clones share state.
#[derive(Clone)]
pub struct Core {
    store: Arc<Mutex<Store>>,
    events: mpsc::Sender<Event>,
    sessions: Arc<Mutex<HashMap<AccountId, SessionHandle>>>,
    /// The options of each account's last successful login, in memory only,
    /// so that going online again after choosing "offline" needs no password.
    logins: Arc<Mutex<HashMap<AccountId, ConnectOptions>>>,
    /// The last certificate each account's logins rejected (also on a
    /// reconnect): the only one [`Core::pin_certificate`] accepts.
    rejected: Arc<Mutex<HashMap<AccountId, certificate::Rejected>>>,
    /// Each connected account's SASL record (the mechanism it logged in with).
    sasl: Arc<Mutex<HashMap<AccountId, sasl::Shared>>>,
    /// Avatar images on disk, by hash.
    avatars: avatar::Cache,
    /// Whether each connected account's server takes spam reports (XEP-0377).
    reporting: Arc<Mutex<HashMap<AccountId, Arc<AtomicBool>>>>,
}

/// Parses a bare account or contact JID (`user@domain`), rejecting
/// anything else before any network I/O.
pub fn parse_bare_jid(input: &str) -> Result<BareJid, CoreError> {
    let trimmed = input.trim();
    let jid = BareJid::new(trimmed)?;
    if jid.node().is_none() {
        return Err(CoreError::new(
            ErrorCode::InvalidJid,
            format!("'{trimmed}' has no user part (expected user@domain)"),
        ));
    }
    Ok(jid)
}

/// Runs CPU-bound work (decoding an image) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::new(ErrorCode::InvalidInput, e.to_string()))?
}

/// Runs `f` on the shared store, mapping its errors to [`CoreError`]s.
/// Store calls are short, synchronous SQLite work and are made inline.
pub(crate) fn with_store<T>(
    store: &Mutex<Store>,
    f: impl FnOnce(&mut Store) -> Result<T, charla_store::StoreError>,
) -> Result<T, CoreError> {
    let mut guard = store
        .lock()
        .map_err(|_| CoreError::new(ErrorCode::Store, "the store lock is poisoned"))?;
    f(&mut guard).map_err(CoreError::from)
}

impl Core {
    /// Opens (or creates) the database at `path` and returns the core and
    /// its event stream.
    /// Avatar images are cached in an `avatars` directory beside it.
    pub fn open(path: &Path) -> Result<(Core, mpsc::Receiver<Event>), CoreError> {
        let (mut core, events) = Self::with_store(Store::open(path)?);
        let dir = path.parent().unwrap_or(Path::new(".")).join("avatars");
        core.avatars = avatar::Cache::new(Some(dir));
        Ok((core, events))
    }

    /// Wraps an already opened store. Without a directory to cache them,
    /// contacts' avatars are not fetched.
    pub fn with_store(store: Store) -> (Core, mpsc::Receiver<Event>) {
        let (events, rx) = mpsc::channel(EVENT_QUEUE);
        let core = Core {
            store: Arc::new(Mutex::new(store)),
            events,
            sessions: Arc::new(Mutex::new(HashMap::new())),
            logins: Arc::new(Mutex::new(HashMap::new())),
            rejected: Arc::new(Mutex::new(HashMap::new())),
            sasl: Arc::new(Mutex::new(HashMap::new())),
            avatars: avatar::Cache::new(None),
            reporting: Arc::new(Mutex::new(HashMap::new())),
        };
        (core, rx)
    }

    fn store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, charla_store::StoreError>,
    ) -> Result<T, CoreError> {
        with_store(&self.store, f)
    }

    /// Adds an account (idempotent) after validating its JID.
    pub fn add_account(&self, jid: &str) -> Result<AccountId, CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.store(|s| s.upsert_account(jid.as_str()))
    }

    /// Connects an account and resolves once it is online, or with the
    /// reason the first login failed (wrong password, unreachable server,
    /// untrusted certificate...). After that the session stays up,
    /// reconnecting with backoff, until [`Core::disconnect`].
    pub async fn connect(
        &self,
        account: AccountId,
        options: ConnectOptions,
    ) -> Result<(), CoreError> {
        let jid = self.account_jid(account)?;
        if options.show == Show::Offline {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "cannot connect as offline",
            ));
        }
        self.disconnect(account).await;
        let pin = self.store(|s| s.certificate_pin(account))?.map(Fingerprint);
        let rejected = self
            .rejected
            .lock()
            .map_err(|_| CoreError::new(ErrorCode::Store, "the certificate table is poisoned"))?
            .entry(account)
            .or_default()
            .clone();
        let stored = self.store(|s| s.sasl_mechanism(account))?;
        let sasl = Arc::new(Mutex::new(sasl::Record::remembering(stored.as_deref())));
        if let Ok(mut records) = self.sasl.lock() {
            records.insert(account, sasl.clone());
        }
        let (ready_tx, ready_rx) = oneshot::channel();
        let (commands, commands_rx) = mpsc::channel(64);
        let reporting = Arc::new(AtomicBool::new(false));
        if let Ok(mut all) = self.reporting.lock() {
            all.insert(account, reporting.clone());
        }
        let remembered = options.clone();
        let ctx = session::Context {
            account,
            login: c2s::LoginConfig {
                jid,
                password: options.password,
                server: options.server,
                trust: options.trust.pinned(pin, rejected),
                keepalive: options.keepalive,
                sasl,
            },
            store: self.store.clone(),
            events: self.events.clone(),
            show: options.show,
            status: options.status,
            avatars: self.avatars.clone(),
            ready: ready_tx,
            reporting,
        };
        let task = tokio::spawn(session::run(ctx, commands_rx));
        self.sessions
            .lock()
            .map_err(|_| CoreError::new(ErrorCode::Store, "session table poisoned"))?
            .insert(account, SessionHandle { commands, task });
        let result = ready_rx
            .await
            .unwrap_or_else(|_| Err(CoreError::new(ErrorCode::NotConnected, "the session ended")));
        match &result {
            Ok(()) => {
                if let Ok(mut logins) = self.logins.lock() {
                    logins.insert(account, remembered);
                }
            }
            Err(_) => self.disconnect(account).await,
        }
        result
    }

    /// The SASL mechanism of the account's last successful login in this
    /// run (for example `SCRAM-SHA-256-PLUS`), if it logged in.
    pub fn login_mechanism(&self, account: AccountId) -> Option<String> {
        let records = self.sasl.lock().ok()?;
        let record = records.get(&account)?.lock().ok()?;
        record.last.map(str::to_owned)
    }

    /// Pins the server certificate that the last login (or reconnect) of
    /// `account` rejected (the user chose "trust this certificate"): from now on a
    /// server presenting exactly this certificate is accepted for this
    /// account. `fingerprint` must be that certificate's, as shown in the
    /// error (`CoreError::certificate`); any other is refused, so nothing
    /// the user has not seen can be pinned. Connect again afterwards.
    pub fn pin_certificate(&self, account: AccountId, fingerprint: &str) -> Result<(), CoreError> {
        let fingerprint = Fingerprint::parse(fingerprint)?;
        let seen = self
            .rejected
            .lock()
            .map_err(|_| CoreError::new(ErrorCode::Store, "the certificate table is poisoned"))?
            .get(&account)
            .and_then(|slot| slot.lock().ok().and_then(|s| *s));
        if seen != Some(fingerprint) {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "this is not the certificate the server presented at the last login",
            ));
        }
        self.store(|s| s.set_certificate_pin(account, &fingerprint.0))
    }

    /// While the account waits to reconnect (after a lost connection), tries
    /// at once instead of at the end of the wait. Does nothing otherwise.
    pub async fn reconnect_now(&self, account: AccountId) {
        self.send_command(account, Command::ReconnectNow).await;
    }

    /// Goes offline (unavailable presence, clean stream close) and waits
    /// until the session has ended. Does nothing if not connected.
    pub async fn disconnect(&self, account: AccountId) {
        let handle = self
            .sessions
            .lock()
            .ok()
            .and_then(|mut s| s.remove(&account));
        if let Some(handle) = handle {
            let _ = handle.commands.send(Command::Disconnect).await;
            let _ = handle.task.await;
        }
    }

    fn session_sender(&self, account: AccountId) -> Option<mpsc::Sender<Command>> {
        let sessions = self.sessions.lock().ok()?;
        sessions.get(&account).map(|h| h.commands.clone())
    }

    async fn send_command(&self, account: AccountId, command: Command) -> bool {
        match self.session_sender(account) {
            Some(tx) => tx.send(command).await.is_ok(),
            None => false,
        }
    }

    /// Queues a chat message: it is committed as `pending` and announced
    /// before anything goes on the wire, and sent as soon as the account
    /// is online (now, or after the next connect).
    pub async fn send_message(
        &self,
        account: AccountId,
        to: &str,
        body: &str,
    ) -> Result<Message, CoreError> {
        let to = parse_bare_jid(to)?;
        if body.trim().is_empty() {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "the message is empty",
            ));
        }
        if body.len() > chat::MAX_BODY_BYTES {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "the message is too long",
            ));
        }
        self.account_jid(account)?;
        let origin_id = uuid::Uuid::new_v4().to_string();
        let message = self.store(|s| s.insert_outgoing(account, to.as_str(), body, &origin_id))?;
        let _ = self
            .events
            .send(Event::MessageAdded {
                account,
                message: message.clone(),
                stranger: false,
            })
            .await;
        self.send_command(account, Command::Flush).await;
        Ok(message)
    }

    /// Sends a message that failed again (the user's retry): it goes back
    /// to `pending` in the outbox, is announced, and is sent when the
    /// account is online. Fails with `InvalidInput` if `message_id` is not
    /// a failed outgoing message of `account`.
    pub async fn retry(
        &self,
        account: AccountId,
        message_id: MessageId,
    ) -> Result<Message, CoreError> {
        let message = self
            .store(|s| match s.message(message_id)? {
                Some(m) if m.account_id == account => s.retry_outgoing(message_id),
                _ => Ok(None),
            })?
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::InvalidInput,
                    "no failed message of ours to retry",
                )
            })?;
        let _ = self
            .events
            .send(Event::MessageUpdated {
                account,
                message: message.clone(),
            })
            .await;
        self.send_command(account, Command::Flush).await;
        Ok(message)
    }

    /// Tells `peer` that the user has seen their message `message_id` (and,
    /// by XEP-0333's meaning, everything before it): sends a displayed
    /// marker naming the message's `id` attribute, if the sender marked it
    /// `<markable/>` (otherwise nothing is sent). The shell calls this when
    /// a chat view shows the newest incoming message while the window has
    /// focus.
    ///
    /// Nothing is stored and nothing is queued: a marker is only worth
    /// sending while connected, so this fails with `NotConnected` offline.
    /// The message must be an incoming one of this account's conversation
    /// with `peer`, else `InvalidInput`.
    pub async fn mark_displayed(
        &self,
        account: AccountId,
        peer: &str,
        message_id: MessageId,
    ) -> Result<(), CoreError> {
        let peer = parse_bare_jid(peer)?;
        let message = self
            .store(|s| s.message(message_id))?
            .filter(|m| {
                m.account_id == account && m.peer == peer.as_str() && m.direction == Direction::In
            })
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::InvalidInput,
                    "no such incoming message in this conversation",
                )
            })?;
        // Only messages the sender marked markable get a marker, naming the
        // id the sender gave it.
        let Some(id) = self.store(|s| s.marker_id(message.id))? else {
            return Ok(());
        };
        if self
            .send_command(account, Command::MarkDisplayed { to: peer, id })
            .await
        {
            Ok(())
        } else {
            Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ))
        }
    }

    /// Changes the own presence. `Show::Offline` disconnects; any other
    /// show on a disconnected account logs it in again with the options of
    /// its last successful login (kept in memory only).
    pub async fn set_presence(
        &self,
        account: AccountId,
        show: Show,
        status: Option<String>,
    ) -> Result<(), CoreError> {
        if show == Show::Offline {
            self.disconnect(account).await;
            return Ok(());
        }
        let command = Command::SetPresence {
            show,
            status: status.clone(),
        };
        if self.send_command(account, command).await {
            // A later login again (after a password change) keeps it.
            if let Ok(mut logins) = self.logins.lock() {
                if let Some(options) = logins.get_mut(&account) {
                    options.show = show;
                    options.status = status;
                }
            }
            return Ok(());
        }
        let last = self
            .logins
            .lock()
            .ok()
            .and_then(|logins| logins.get(&account).cloned());
        match last {
            Some(options) => {
                let options = ConnectOptions {
                    show,
                    status,
                    ..options
                };
                self.connect(account, options).await
            }
            None => Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )),
        }
    }

    /// One page of a conversation's history, newest first, older than
    /// `before` (or the newest page if `None`).
    pub fn history(
        &self,
        account: AccountId,
        peer: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| {
            let conversation = s.conversation(account, peer.as_str())?;
            s.history_page(conversation, before, limit.min(MAX_PAGE))
        })
    }

    /// Fetches the page of the chat with `peer` before everything stored,
    /// from the server's archive (XEP-0313), when scrolling up past local
    /// history. The rows are stored before all others (history is ordered
    /// by row id) and not announced as new messages: read them with
    /// [`Core::history`]. Fails with `NotConnected` offline.
    pub async fn fetch_older(
        &self,
        account: AccountId,
        peer: &str,
    ) -> Result<OlderHistory, CoreError> {
        let peer = parse_bare_jid(peer)?;
        let (reply, answer) = oneshot::channel();
        self.ask(account, Command::FetchOlder { peer, reply }, answer)
            .await
    }

    /// Adds `jid` to the contact list (with an optional name and group),
    /// asks to see their presence and pre-approves their request to see
    /// ours (RFC 6121 §3.4). Resolves once the server accepted the roster
    /// change; the contact then arrives as `ContactChanged`.
    pub async fn add_contact(
        &self,
        account: AccountId,
        jid: &str,
        name: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let op = RosterOp::Add {
            jid,
            name: name.map(str::to_owned),
            groups: group.map(|g| vec![g.to_owned()]).unwrap_or_default(),
        };
        self.roster_op(account, op).await
    }

    /// Renames a contact and sets their groups.
    pub async fn edit_contact(
        &self,
        account: AccountId,
        jid: &str,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let op = RosterOp::Edit {
            jid,
            name: name.map(str::to_owned),
            groups: groups.to_vec(),
        };
        self.roster_op(account, op).await
    }

    /// Removes a contact, which cancels the subscriptions both ways.
    pub async fn remove_contact(&self, account: AccountId, jid: &str) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.roster_op(account, RosterOp::Remove { jid }).await
    }

    /// Answers `jid`'s request to see our presence (`SubscriptionRequest`):
    /// accepting also asks to see theirs, unless we already do.
    pub async fn answer_subscription(
        &self,
        account: AccountId,
        jid: &str,
        accept: bool,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.roster_op(account, RosterOp::Answer { jid, accept })
            .await
    }

    /// Tells `peer` our chat state (XEP-0085), e.g. that we are typing.
    /// Only contacts learn it (it shows that we are online), and only while
    /// connected; otherwise nothing is sent.
    pub async fn send_chat_state(
        &self,
        account: AccountId,
        peer: &str,
        state: ChatState,
    ) -> Result<(), CoreError> {
        let to = parse_bare_jid(peer)?;
        self.send_command(account, Command::ChatState { to, state })
            .await;
        Ok(())
    }

    /// Blocks (`block`) or unblocks `jid` (XEP-0191): the server then drops
    /// everything from them and tells them nothing about us.
    pub async fn block(&self, account: AccountId, jid: &str, block: bool) -> Result<(), CoreError> {
        self.block_with(account, jid, block, false).await
    }

    /// Blocks `jid` and reports them as spam with the block (XEP-0377),
    /// where the server takes reports ([`Core::can_report`]); elsewhere it
    /// only blocks.
    pub async fn block_and_report(&self, account: AccountId, jid: &str) -> Result<(), CoreError> {
        self.block_with(account, jid, true, true).await
    }

    async fn block_with(
        &self,
        account: AccountId,
        jid: &str,
        block: bool,
        report: bool,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let (reply, answer) = oneshot::channel();
        let command = Command::Block {
            jid,
            block,
            report,
            reply,
        };
        self.ask(account, command, answer).await
    }

    /// Whether the account's server advertises spam reporting (XEP-0377,
    /// `urn:xmpp:reporting:1` on its disco#info) since its last bind:
    /// only then is "Block and report" offered.
    pub fn can_report(&self, account: AccountId) -> bool {
        self.reporting
            .lock()
            .ok()
            .and_then(|all| all.get(&account).map(|r| r.load(Ordering::SeqCst)))
            .unwrap_or(false)
    }

    /// Whether `jid` is a stranger to the account: not in its roster and
    /// never written to. Their messages are message requests.
    pub fn is_stranger(&self, account: AccountId, jid: &str) -> Result<bool, CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.store(|s| s.is_stranger(account, jid.as_str()))
    }

    /// The account's message requests (conversations with strangers),
    /// newest first. Answering one or adding its sender makes it an
    /// ordinary chat.
    pub fn message_requests(&self, account: AccountId) -> Result<Vec<MessageRequest>, CoreError> {
        self.store(|s| s.message_requests(account))
    }

    /// Deletes the account's conversation with `peer` and every message of
    /// it stored here, in one transaction (not the server's archive).
    /// Returns how many messages went.
    pub fn delete_conversation(&self, account: AccountId, peer: &str) -> Result<u32, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| s.delete_conversation(account, peer.as_str()))
    }

    /// The blocked JIDs, from the server, sorted.
    pub async fn blocked(&self, account: AccountId) -> Result<Vec<String>, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(account, Command::Blocklist { reply }, answer)
            .await
    }

    /// Shows `auto` instead of the chosen presence while the user is away
    /// from the desktop (XEP-0319 idle), or the chosen one again (`None`).
    /// A change of `since` alone sends nothing. Ignored while offline.
    pub async fn set_auto_presence(&self, account: AccountId, auto: Option<idle::AutoPresence>) {
        self.send_command(account, Command::SetAuto(auto)).await;
    }

    /// How many seconds ago `jid` was last online, as their server answers
    /// (XEP-0012); `None` if it does not know or tell.
    pub async fn last_activity(
        &self,
        account: AccountId,
        jid: &str,
    ) -> Result<Option<u64>, CoreError> {
        let jid = parse_bare_jid(jid)?;
        let (reply, answer) = oneshot::channel();
        let asked = self.ask(account, Command::LastActivity { jid, reply }, answer);
        tokio::time::timeout(std::time::Duration::from_secs(15), asked)
            .await
            .unwrap_or_else(|_| {
                Err(CoreError::new(
                    ErrorCode::Timeout,
                    "no answer about last activity",
                ))
            })
    }

    /// Waits until everything the server sent to the account before now is
    /// handled: stored, answered and announced on the event channel. A ping
    /// (XEP-0199) to the account's server is answered after what the server
    /// already queued for us, and the session handles stanzas in order. A
    /// settled fact for tests and tools: "nothing more came" is then a
    /// check of the event channel, not a wait.
    pub async fn settle(&self, account: AccountId) -> Result<(), CoreError> {
        let own = self.account_jid(account)?;
        let server = BareJid::from_parts(None, own.domain());
        let (reply, answer) = oneshot::channel();
        let ping = Command::Iq {
            to: Some(server),
            set: false,
            payload: xmpp_parsers::ping::Ping.into(),
            reply,
        };
        self.ask(account, ping, answer).await.map(|_| ())
    }

    /// Sends `command` to the account's session and waits for its answer.
    async fn ask<T>(
        &self,
        account: AccountId,
        command: Command,
        answer: oneshot::Receiver<Result<T, CoreError>>,
    ) -> Result<T, CoreError> {
        if !self.send_command(account, command).await {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(CoreError::new(ErrorCode::NotConnected, "the session ended")))
    }

    async fn roster_op(&self, account: AccountId, op: RosterOp) -> Result<(), CoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(account, Command::Roster { op, reply }, answer)
            .await
    }

    /// How many incoming messages in the chat with `peer` are newer than
    /// `after` (what is still unread after a [`Event::ChatRead`]).
    pub fn incoming_after(
        &self,
        account: AccountId,
        peer: &str,
        after: MessageId,
    ) -> Result<u32, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| s.incoming_after(account, peer.as_str(), after))
    }

    /// The recorded avatar hash of each contact (and of the account itself),
    /// by bare JID: they show offline and after a restart without a fetch.
    pub fn avatars(&self, account: AccountId) -> Result<HashMap<String, String>, CoreError> {
        Ok(self.store(|s| s.avatars(account))?.into_iter().collect())
    }

    /// The cached image of avatar `hash`, with its type (`image/png`...).
    pub fn avatar_image(&self, hash: &str) -> Option<(&'static str, Vec<u8>)> {
        self.avatars.read(hash)
    }

    /// The file of the cached avatar `hash`, e.g. for a notification.
    pub fn avatar_file(&self, hash: &str) -> Option<std::path::PathBuf> {
        self.avatars.path(hash)
    }

    /// The file of `jid`'s current avatar, if they have one and it is cached.
    pub fn avatar_file_of(&self, account: AccountId, jid: &str) -> Option<std::path::PathBuf> {
        let hash = self.store(|s| s.avatar(account, jid)).ok()??;
        self.avatars.path(&hash)
    }

    /// Sets our avatar from an image file (PNG or JPEG; `None` removes it):
    /// scaled to at most 192 px, encoded as PNG and published both ways,
    /// as PEP data then metadata (XEP-0084) and as the vcard-temp photo,
    /// whose hash then goes into our presence (XEP-0153). Fails only if
    /// neither could be published. Returns the new hash.
    pub async fn set_avatar(
        &self,
        account: AccountId,
        file: Option<&Path>,
    ) -> Result<Option<String>, CoreError> {
        let avatar = match file {
            Some(path) => {
                let path = path.to_owned();
                Some(blocking(move || avatar::from_file(&path)).await?)
            }
            None => None,
        };
        self.publish_avatar(account, avatar).await
    }

    /// Like [`Core::set_avatar`], from the image file's bytes.
    pub async fn set_avatar_image(
        &self,
        account: AccountId,
        image: Option<Vec<u8>>,
    ) -> Result<Option<String>, CoreError> {
        let avatar = match image {
            Some(bytes) => Some(blocking(move || avatar::scale(&bytes)).await?),
            None => None,
        };
        self.publish_avatar(account, avatar).await
    }

    async fn publish_avatar(
        &self,
        account: AccountId,
        avatar: Option<avatar::OwnAvatar>,
    ) -> Result<Option<String>, CoreError> {
        self.account_jid(account)?;
        if let Some(a) = &avatar {
            // Cached first: our own metadata event then finds it.
            self.avatars.put(&a.hash, &a.png)?;
        }
        let pep = async {
            if let Some(a) = &avatar {
                self.iq(account, None, true, avatar::publish_data(a).into())
                    .await?;
            }
            self.iq(
                account,
                None,
                true,
                avatar::publish_metadata(avatar.as_ref()).into(),
            )
            .await
        }
        .await;
        let vcard = async {
            let current = self.own_vcard_temp(account).await?;
            let edited = avatar::with_photo(current, avatar.as_ref());
            self.iq(account, None, true, edited.into()).await
        }
        .await;
        if let (Err(e), Err(v)) = (&pep, &vcard) {
            log::warn!("avatar not published: PEP {e:?}, vCard {v:?}");
            return Err(e.clone());
        }
        let hash = avatar.map(|a| a.hash);
        self.send_command(account, Command::OwnAvatar { hash: hash.clone() })
            .await;
        Ok(hash)
    }

    /// `jid`'s profile: their vCard4 (XEP-0292), else their vcard-temp
    /// (XEP-0054). Our own account's JID gives our own.
    pub async fn profile(&self, account: AccountId, jid: &str) -> Result<Profile, CoreError> {
        let jid = parse_bare_jid(jid)?;
        let own = self.account_jid(account)?;
        let to = (jid != own).then_some(jid);
        if let Ok(answer) = self
            .iq(account, to.clone(), false, vcard::vcard4_request().into())
            .await
        {
            if let Some(profile) = vcard::parse_vcard4_items(answer) {
                return Ok(profile);
            }
        }
        let answer = self
            .iq(account, to, false, xmpp_parsers::vcard::VCardQuery.into())
            .await;
        match answer {
            Ok(payload) => Ok(vcard::parse_vcard_temp(payload).unwrap_or_default()),
            // No vCard at all is an empty profile.
            Err(e) if e.code == ErrorCode::Protocol => Ok(Profile::default()),
            Err(e) => Err(e),
        }
    }

    /// Sets our full name and nickname: published as vCard4 (XEP-0292),
    /// in our vcard-temp (other fields kept) and, the nickname, as
    /// XEP-0172. Fails only if neither vCard could be published.
    pub async fn set_profile(
        &self,
        account: AccountId,
        full_name: Option<&str>,
        nickname: Option<&str>,
    ) -> Result<(), CoreError> {
        let full_name = vcard::field(full_name)?;
        let nickname = vcard::field(nickname)?;
        let (fn_, nick) = (full_name.as_deref(), nickname.as_deref());
        let temp = async {
            let current = self.own_vcard_temp(account).await?;
            let edited = vcard::edit_vcard_temp(current, fn_, nick);
            self.iq(account, None, true, edited.into()).await
        }
        .await;
        let v4 = async {
            // What else the published vCard4 holds (e-mail, phone...) stays.
            let current = self
                .iq(account, None, false, vcard::vcard4_request().into())
                .await
                .ok()
                .and_then(vcard::vcard4_of_items);
            let edited = vcard::vcard4(current, fn_, nick);
            self.iq(
                account,
                None,
                true,
                avatar::publish(vcard::VCARD4_NODE, "current", edited).into(),
            )
            .await
        }
        .await;
        if let Some(nick) = nick {
            let published = self
                .iq(
                    account,
                    None,
                    true,
                    avatar::publish(xmpp_parsers::ns::NICK, "current", vcard::nick(nick)).into(),
                )
                .await;
            if let Err(e) = published {
                log::info!("nickname not published (XEP-0172): {e:?}");
            }
        }
        match (temp, v4) {
            (Err(e), Err(_)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Our vcard-temp as the server has it (empty if we have none).
    async fn own_vcard_temp(
        &self,
        account: AccountId,
    ) -> Result<xmpp_parsers::vcard::VCard, CoreError> {
        let empty = || xmpp_parsers::vcard::VCard {
            photo: None,
            payloads: vec![],
        };
        match self
            .iq(account, None, false, xmpp_parsers::vcard::VCardQuery.into())
            .await
        {
            Ok(Some(el)) => {
                Ok(xmpp_parsers::vcard::VCard::try_from(el).unwrap_or_else(|_| empty()))
            }
            Ok(None) => Ok(empty()),
            Err(e) if e.code == ErrorCode::Protocol => Ok(empty()),
            Err(e) => Err(e),
        }
    }

    /// Sends an IQ through the account's session and waits for its answer.
    async fn iq(
        &self,
        account: AccountId,
        to: Option<BareJid>,
        set: bool,
        payload: xmpp_parsers::minidom::Element,
    ) -> Result<Option<xmpp_parsers::minidom::Element>, CoreError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Iq {
            to,
            set,
            payload,
            reply,
        };
        self.ask(account, command, answer).await
    }

    /// The cached roster of an account.
    pub fn contacts(&self, account: AccountId) -> Result<Vec<RosterEntry>, CoreError> {
        self.store(|s| s.contacts(account))
    }

    /// The bare JID of an account.
    pub fn account_jid(&self, account: AccountId) -> Result<BareJid, CoreError> {
        let account = self
            .store(|s| s.account(account))?
            .ok_or_else(|| CoreError::new(ErrorCode::UnknownAccount, "no such account"))?;
        parse_bare_jid(&account.jid)
    }
}
