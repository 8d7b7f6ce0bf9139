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
mod bookmarks;
mod bounds;
pub mod c2s;
mod carbons;
pub mod certificate;
mod chat;
pub mod chatstates;
mod correction;
pub mod credentials;
mod disco;
pub mod error;
pub mod event;
#[cfg(test)]
mod fuzz;
mod handle;
pub mod idle;
mod invite;
mod last;
mod mam;
mod mds;
pub mod muc;
pub mod presence;
mod pubsub;
mod reactions;
mod receipts;
pub mod register;
mod reply;
pub mod requests;
mod retraction;
pub mod roomconfig;
mod roster;
mod sasl;
mod session;
mod styling;
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
    AccountId, Direction, Draft, Message, MessageId, MessageRequest, MessageState, Reaction, Reply,
    Rich, Room, RoomId, RoomMessage, RoomMessageId, RosterEntry, Store, Subscription,
};
pub use chatstates::ChatState;
pub use credentials::Credentials;
pub use disco::caps_element;
pub use error::{CoreError, ErrorCode};
pub use event::{ConnectionState, Event, OccupantChange, RoomExit};
pub use handle::MessageRef;
pub use muc::admin::Affiliated;
pub use muc::directory::{PublicRoom, RoomInfo};
pub use muc::{Affiliation, Role};
pub use presence::{ContactPresence, Show};
pub use register::{FieldKind, FieldOption, RegisterOptions, RegistrationField, RegistrationForm};
pub use requests::{attention, Attention};
pub use roomconfig::{RoomKind, RoomPreset, RoomSettings};
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
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::new(ErrorCode::InvalidInput, e.to_string()))?
}

/// Runs `f` on the shared store, mapping its errors to [`CoreError`]s.
/// Store calls are short, synchronous SQLite work and are made inline.
pub(crate) fn locked<T>(
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
        let (mut core, events) = Self::from_store(Store::open(path)?);
        let dir = path.parent().unwrap_or(Path::new(".")).join("avatars");
        core.avatars = avatar::Cache::new(Some(dir));
        Ok((core, events))
    }

    /// Wraps an already opened store. Without a directory to cache them,
    /// contacts' avatars are not fetched.
    pub fn from_store(store: Store) -> (Core, mpsc::Receiver<Event>) {
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
        locked(&self.store, f)
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

    /// Shows `auto` instead of the chosen presence while the user is away
    /// from the desktop (XEP-0319 idle), or the chosen one again (`None`).
    /// A change of `since` alone sends nothing. Ignored while offline.
    pub async fn set_auto_presence(&self, account: AccountId, auto: Option<idle::AutoPresence>) {
        self.send_command(account, Command::SetAuto(auto)).await;
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
        self.iq(
            account,
            Some(server),
            false,
            xmpp_parsers::ping::Ping.into(),
        )
        .await
        .map(|_| ())
    }

    /// Sends `command` to the account's session and waits for its answer.
    async fn round_trip<T>(
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
        self.round_trip(account, command, answer).await
    }

    /// The bare JID of an account.
    pub fn account_jid(&self, account: AccountId) -> Result<BareJid, CoreError> {
        let account = self
            .store(|s| s.account(account))?
            .ok_or_else(|| CoreError::new(ErrorCode::UnknownAccount, "no such account"))?;
        parse_bare_jid(&account.jid)
    }
}
