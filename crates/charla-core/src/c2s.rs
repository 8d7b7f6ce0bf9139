//! The client-to-server stream (RFC 6120): finding the server (SRV records,
//! XEP-0368 direct TLS, or a manual host and port), TLS with certificate
//! verification against the XMPP domain, SASL authentication (SCRAM
//! preferred), and reconnection with backoff and jitter.
//!
//! tokio-xmpp's own connector retries failed logins forever and only logs
//! why; this module drives its [`StanzaStream`] with a reconnector of our
//! own so that every failure reaches the session with a code, and fatal
//! ones (bad password, untrusted certificate) stop instead of retrying.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ::sasl::common::Credentials;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use tokio::io::BufStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::error::AuthError;
use tokio_xmpp::stanzastream::{Connection, StanzaStream};
use tokio_xmpp::xmlstream::{
    initiate_stream, PendingFeaturesRecv, StreamHeader, Timeouts, XmppStream,
};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::ns;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::error::{CoreError, ErrorCode};
use crate::sasl::{self, Offer};

/// How long one login attempt (resolve, connect, TLS, SASL) may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one TCP connect may take.
const TCP_TIMEOUT: Duration = Duration::from_secs(8);
/// First reconnect delay; doubles per failure up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Longest reconnect delay.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests;
mod tls;

use tls::secure;
pub use tls::TlsTrust;
pub(crate) use tls::{Exporter, Io};

#[derive(Debug, Clone)]
pub struct ServerAddress {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `true` for direct TLS (XEP-0368), `false` for STARTTLS.
    pub direct_tls: bool,
}

/// Everything needed to open an authenticated stream for one account.
#[derive(Clone)]
pub(crate) struct LoginConfig {
    pub jid: BareJid,
    pub password: String,
    /// `None`: look the server up through DNS SRV records.
    pub server: Option<ServerAddress>,
    pub trust: TlsTrust,
    pub keepalive: Keepalive,
    /// The account's SASL record: the floor to hold, the mechanism used.
    pub sasl: sasl::Shared,
}

/// Everything but the password.
impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("jid", &self.jid)
            .field("password", &"<hidden>")
            .field("server", &self.server)
            .field("trust", &self.trust)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

/// A failed login attempt, already classified for the UI.
#[derive(Debug, Clone)]
pub(crate) struct LoginFailure {
    pub error: CoreError,
    /// Retrying cannot help (credentials, certificate, protocol).
    pub fatal: bool,
    /// The server answered (TLS and a stream were set up) before it failed:
    /// it is up again, so the next attempt should not wait long.
    pub answered: bool,
}

impl LoginFailure {
    fn fatal(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: CoreError::new(code, message),
            fatal: true,
            answered: false,
        }
    }

    fn transient(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: CoreError::new(code, message),
            fatal: false,
            answered: false,
        }
    }
}

/// Candidate endpoints for a domain: SRV records for direct TLS and
/// STARTTLS merged by priority then weight, or the domain on port 5222.
async fn endpoints(domain: &str) -> Vec<ServerAddress> {
    let fallback = vec![ServerAddress {
        host: domain.to_owned(),
        port: 5222,
        direct_tls: false,
    }];
    let Ok(resolver) = TokioResolver::builder_tokio().map(|b| b.build()) else {
        return fallback;
    };
    let Ok(resolver) = resolver else {
        return fallback;
    };
    let mut found = Vec::new();
    for (service, direct_tls) in [("_xmpps-client._tcp", true), ("_xmpp-client._tcp", false)] {
        let name = format!("{service}.{domain}.");
        let Ok(lookup) = resolver.srv_lookup(name).await else {
            continue;
        };
        for record in lookup.answers() {
            if let RData::SRV(srv) = &record.data {
                found.push(SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    target: srv.target.to_ascii(),
                    port: srv.port,
                    direct_tls,
                });
            }
        }
    }
    let ordered = order_srv(found);
    if ordered.is_empty() {
        fallback
    } else {
        ordered
    }
}

/// One SRV answer, for either the direct TLS or the STARTTLS service.
#[derive(Debug, Clone)]
struct SrvRecord {
    priority: u16,
    weight: u16,
    target: String,
    port: u16,
    direct_tls: bool,
}

/// Orders SRV answers of both services (RFC 2782, XEP-0368): lowest
/// priority first, then highest weight, direct TLS before STARTTLS on a
/// tie. A target of "." means the service is decidedly not offered.
fn order_srv(mut records: Vec<SrvRecord>) -> Vec<ServerAddress> {
    records.retain(|r| !r.target.trim_end_matches('.').is_empty());
    records.sort_by_key(|r| (r.priority, u16::MAX - r.weight, !r.direct_tls));
    records
        .into_iter()
        .map(|r| ServerAddress {
            host: r.target.trim_end_matches('.').to_owned(),
            port: r.port,
            direct_tls: r.direct_tls,
        })
        .collect()
}

/// Opens one authenticated stream, trying each endpoint in turn.
pub(crate) async fn login(cfg: &LoginConfig) -> Result<Connection, LoginFailure> {
    match tokio::time::timeout(LOGIN_TIMEOUT, login_inner(cfg)).await {
        Ok(result) => result,
        Err(_) => Err(LoginFailure::transient(
            ErrorCode::Timeout,
            format!("the server did not complete the login within {LOGIN_TIMEOUT:?}"),
        )),
    }
}

async fn login_inner(cfg: &LoginConfig) -> Result<Connection, LoginFailure> {
    authenticate(cfg, reach(cfg).await?)
        .await
        .map_err(|failure| LoginFailure {
            answered: true,
            ..failure
        })
}

/// The number of the next reconnect attempt (which sets its backoff): one
/// more after a failure, but back to the first when the server answers
/// after failing to (it is coming back up), so it is tried again within a
/// second instead of after a backoff grown while it was down. A server that
/// keeps answering and failing backs off as usual.
pub(crate) fn next_attempt(attempt: u32, failure: &LoginFailure, answered_before: bool) -> u32 {
    if failure.answered && !answered_before {
        1
    } else {
        attempt + 1
    }
}

/// Reaches the server of `cfg.jid`, trying each endpoint in turn, and
/// secures the stream with TLS; nothing is authenticated yet (in-band
/// registration, XEP-0077, starts here).
pub(crate) async fn reach(
    cfg: &LoginConfig,
) -> Result<(PendingFeaturesRecv<Io>, Exporter), LoginFailure> {
    let domain = cfg.jid.domain().as_str();
    let candidates = match &cfg.server {
        Some(addr) => vec![addr.clone()],
        None => endpoints(domain).await,
    };
    let mut last = LoginFailure::transient(ErrorCode::Unreachable, "no server address");
    for addr in candidates {
        let tcp = match tokio::time::timeout(
            TCP_TIMEOUT,
            DnsConfig::no_srv(&addr.host, addr.port).resolve(),
        )
        .await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                last = LoginFailure::transient(
                    ErrorCode::Unreachable,
                    format!("cannot reach {}:{}: {e}", addr.host, addr.port),
                );
                continue;
            }
            Err(_) => {
                last = LoginFailure::transient(
                    ErrorCode::Unreachable,
                    format!("no answer from {}:{}", addr.host, addr.port),
                );
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        return secure(cfg, tcp, addr.direct_tls).await;
    }
    Err(last)
}

fn header(domain: &str) -> StreamHeader<'_> {
    StreamHeader {
        to: Some(Cow::Borrowed(domain)),
        from: None,
        id: None,
    }
}

fn io_failure(e: io::Error) -> LoginFailure {
    LoginFailure::transient(ErrorCode::Unreachable, format!("connection lost: {e}"))
}

async fn authenticate(
    cfg: &LoginConfig,
    (pending, exporter): (PendingFeaturesRecv<Io>, Exporter),
) -> Result<Connection, LoginFailure> {
    let domain = cfg.jid.domain().as_str();
    let (features, stream): (StreamFeatures, XmppStream<Io>) =
        pending.recv_features().await.map_err(|e| {
            LoginFailure::transient(ErrorCode::Protocol, format!("no stream features: {e:?}"))
        })?;
    let floor = cfg.sasl.lock().ok().and_then(|r| r.floor);
    let choice = sasl::choose(Offer {
        features: &features,
        exporter,
        pinned: cfg.trust.pin.is_some(),
        floor,
    })
    .map_err(|error| LoginFailure {
        error,
        fatal: true,
        answered: false,
    })?;
    let user = cfg.jid.node().map(|n| n.as_str()).unwrap_or_default();
    let creds = Credentials::default()
        .with_username(user)
        .with_password(cfg.password.clone())
        .with_channel_binding(choice.binding);
    // tokio-xmpp tries its mechanisms against this set: only the one chosen.
    let only = BTreeSet::from([choice.mechanism.to_owned()]);
    let stream = tokio_xmpp::client_login(stream, only, creds)
        .await
        .map_err(auth_failure)?;
    if let Ok(mut record) = cfg.sasl.lock() {
        record.used(choice.mechanism);
    }
    let pending = stream
        .send_header(header(domain))
        .await
        .map_err(io_failure)?;
    let (features, stream): (StreamFeatures, XmppStream<Io>) =
        pending.recv_features().await.map_err(|e| {
            LoginFailure::transient(ErrorCode::Protocol, format!("no stream features: {e:?}"))
        })?;
    Ok(Connection {
        stream: stream.box_stream(),
        features,
        identity: Jid::from(cfg.jid.clone()),
    })
}

fn auth_failure(e: tokio_xmpp::Error) -> LoginFailure {
    match e {
        tokio_xmpp::Error::Auth(AuthError::Fail(condition)) => LoginFailure::fatal(
            ErrorCode::AuthFailed,
            format!("the server rejected the login: {condition:?}"),
        ),
        tokio_xmpp::Error::Auth(other) => {
            LoginFailure::fatal(ErrorCode::AuthMechanism, other.to_string())
        }
        tokio_xmpp::Error::Io(e) => io_failure(e),
        other => LoginFailure::transient(ErrorCode::Protocol, other.to_string()),
    }
}

/// How a live stream notices that its link died: after `idle` of silence
/// the library asks the server for an ack (XEP-0198) or pings it
/// (XEP-0199); after `answer` more without a reply the link counts as dead
/// and is reopened (resumed if the server still holds the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence before the server is asked for a sign of life.
    pub idle: Duration,
    /// Time the server has to answer before the link counts as dead.
    pub answer: Duration,
}

impl Default for Keepalive {
    /// 60 s of silence, then 30 s to answer: cheap on mobile links and
    /// laptops, and a dead link is found within 90 s.
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60),
            answer: Duration::from_secs(30),
        }
    }
}

impl Keepalive {
    fn timeouts(self) -> Timeouts {
        Timeouts {
            read_timeout: self.idle,
            response_timeout: self.answer,
        }
    }
}

/// Delay before reconnect attempt `attempt` (1-based): exponential with
/// "equal jitter", so that many clients dropped together do not return
/// together.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exp = BASE_BACKOFF.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(MAX_BACKOFF);
    let half = capped / 2;
    half + half.mul_f64(fastrand::f64())
}

/// A report from the reconnector to the session.
#[derive(Debug)]
pub(crate) enum Report {
    /// An attempt failed; `retry_in` is `None` when it gives up (the
    /// session must then drop the stream and cancel).
    Failed {
        failure: LoginFailure,
        attempt: u32,
        retry_in: Option<Duration>,
    },
}

/// Starts tokio-xmpp's stanza stream (which binds, negotiates XEP-0198 and
/// resumes on its own) with our reconnector. Before the first success
/// (`online_once` false) any failure gives up, so a login screen gets its
/// answer at once; afterwards transient failures are retried with backoff.
///
/// To stop, the session drops the [`StanzaStream`] and then sends `true`
/// on `cancel`; the reconnector then ends the stream's worker (see
/// [`inert_connection`]). `nudge` cuts a wait between attempts short (the
/// user asked to reconnect now).
pub(crate) fn open(
    cfg: LoginConfig,
    online_once: Arc<AtomicBool>,
    reports: mpsc::UnboundedSender<Report>,
    cancel: watch::Receiver<bool>,
    nudge: Arc<tokio::sync::Notify>,
) -> StanzaStream {
    let cfg = Arc::new(cfg);
    let reconnector = move |_location: Option<String>, slot: oneshot::Sender<Connection>| {
        let cfg = cfg.clone();
        let online_once = online_once.clone();
        let reports = reports.clone();
        let mut cancel = cancel.clone();
        let nudge = nudge.clone();
        tokio::spawn(async move {
            let mut attempt = 0u32;
            let mut answered_before = false;
            loop {
                let result = tokio::select! {
                    r = login(&cfg) => r,
                    _ = cancel.wait_for(|c| *c) => break,
                };
                match result {
                    Ok(conn) => {
                        // If the stream is gone the fresh connection just drops.
                        let _ = slot.send(conn);
                        return;
                    }
                    Err(failure) => {
                        attempt = next_attempt(attempt, &failure, answered_before);
                        answered_before = failure.answered;
                        let give_up = failure.fatal || !online_once.load(Ordering::SeqCst);
                        let retry_in = (!give_up).then(|| backoff(attempt));
                        let _ = reports.send(Report::Failed {
                            failure,
                            attempt,
                            retry_in,
                        });
                        let delay = retry_in.unwrap_or(Duration::MAX);
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = nudge.notified(), if retry_in.is_some() => {}
                            _ = cancel.wait_for(|c| *c) => break,
                        }
                    }
                }
            }
            if let Some(conn) = inert_connection(cfg.jid.clone()).await {
                let _ = slot.send(conn);
            }
        });
    };
    StanzaStream::new(Box::new(reconnector), 64)
}

/// A connection that is already over, handed to the stream's worker when
/// the session stops while it waits for a reconnect. tokio-xmpp 6 panics
/// its worker if the reconnector drops its slot instead; with this, the
/// worker fails to bind on it, finds that its owner is gone, and ends
/// cleanly.
async fn inert_connection(identity: BareJid) -> Option<Connection> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ours, mut theirs) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        let mut header = [0u8; 512];
        let _ = theirs.read(&mut header).await;
        let _ = theirs
            .write_all(
                b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                  xmlns:stream='http://etherx.jabber.org/streams' version='1.0' id='inert'>\
                  <stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
            )
            .await;
        // Dropping our end closes the stream.
    });
    let domain = identity.domain().as_str().to_owned();
    let pending = initiate_stream(
        BufStream::new(ours),
        ns::JABBER_CLIENT,
        header(&domain),
        Keepalive::default().timeouts(),
    )
    .await
    .ok()?;
    let (features, stream): (
        StreamFeatures,
        XmppStream<BufStream<tokio::io::DuplexStream>>,
    ) = pending.recv_features().await.ok()?;
    Some(Connection {
        stream: stream.box_stream(),
        features,
        identity: Jid::from(identity),
    })
}
