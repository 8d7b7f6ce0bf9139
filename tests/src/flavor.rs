//! One test, two servers: [`Server`] is either a private Prosody ([`TestServer`], one per test)
//! or a share of this binary's ejabberd ([`Ejabberd`], one per test binary, with account names
//! made unique per test), behind the surface the tests use ([`XmppServer`]: host, ports, CA,
//! JIDs). [`both_servers!`](crate::both_servers) turns one test body into a test per server.
//!
//! A test names its users as usual (`"alice"`); [`XmppServer::localpart`] maps that to the
//! account on the server (`alice` on Prosody, `alice-<n>` on ejabberd), and
//! [`XmppServer::jid`] gives its bare JID. Tests must therefore build JIDs with `jid()`, never
//! from constants.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ejabberd::{Ejabberd, EJABBERD_DOMAIN, EJABBERD_OPEN_DOMAIN};
use crate::server::HOST;
use crate::{HarnessError, TestServer};

/// Which server software a [`Server`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Prosody 0.12, a private instance per test.
    Prosody,
    /// ejabberd 23.01, one instance per test binary.
    Ejabberd,
}

/// What a test needs to reach a server and name its accounts.
pub trait XmppServer {
    /// Which server this is.
    fn flavor(&self) -> Flavor;
    /// The IP address to connect to.
    fn host(&self) -> &str;
    /// The client port with STARTTLS.
    fn c2s_port(&self) -> u16;
    /// The client port with direct TLS (XEP-0368).
    fn direct_tls_port(&self) -> u16;
    /// The XMPP domain of the test's accounts.
    fn domain(&self) -> &str;
    /// The test CA's certificate as PEM bytes (the only CA clients must trust).
    fn ca_cert_pem_bytes(&self) -> &[u8];
    /// The localpart of the account a test calls `user`.
    fn localpart(&self, user: &str) -> String {
        user.to_owned()
    }
    /// The bare JID of the account a test calls `user`.
    fn jid(&self, user: &str) -> String {
        format!("{}@{}", self.localpart(user), self.domain())
    }
}

impl XmppServer for TestServer {
    fn flavor(&self) -> Flavor {
        Flavor::Prosody
    }
    fn host(&self) -> &str {
        TestServer::host(self)
    }
    fn c2s_port(&self) -> u16 {
        TestServer::c2s_port(self)
    }
    fn direct_tls_port(&self) -> u16 {
        TestServer::direct_tls_port(self)
    }
    fn domain(&self) -> &str {
        TestServer::domain(self)
    }
    fn ca_cert_pem_bytes(&self) -> &[u8] {
        TestServer::ca_cert_pem_bytes(self)
    }
    fn jid(&self, user: &str) -> String {
        TestServer::jid(self, user)
    }
}

/// How a [`Server`] is set up: the subset of [`crate::TestServerBuilder`] both flavors
/// support. Made by [`Server::builder`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    flavor: Flavor,
    allow_registration: bool,
    users: Vec<(String, String)>,
    mutual: Vec<(String, String, Option<String>)>,
}

impl ServerBuilder {
    /// Whether in-band registration is open (on ejabberd: the test's accounts are on the host
    /// `open.charla.test` instead of `charla.test`).
    pub fn allow_registration(mut self, allow: bool) -> Self {
        self.allow_registration = allow;
        self
    }

    /// Creates the account the test calls `user` with `password`.
    pub fn user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((user.into(), password.into()));
        self
    }

    /// Makes `a` and `b` contacts of each other with subscription `both`, in `group` if given.
    pub fn mutual(
        mut self,
        a: impl Into<String>,
        b: impl Into<String>,
        group: Option<&str>,
    ) -> Self {
        self.mutual
            .push((a.into(), b.into(), group.map(str::to_owned)));
        self
    }

    /// Creates `a` and `b` with the passwords `<a>-pw` and `<b>-pw` and makes them mutual
    /// contacts, in no group.
    pub fn mutual_pair(self, a: &str, b: &str) -> Self {
        self.user(a, format!("{a}-pw"))
            .user(b, format!("{b}-pw"))
            .mutual(a, b, None)
    }

    /// Starts the server (Prosody) or joins the shared one (ejabberd) and creates the
    /// accounts and rosters.
    pub async fn start(self) -> Result<Server, HarnessError> {
        match self.flavor {
            Flavor::Prosody => {
                let mut b = TestServer::builder().allow_registration(self.allow_registration);
                for (user, password) in &self.users {
                    b = b.user(user, password);
                }
                for (a, c, group) in &self.mutual {
                    b = b.mutual(a, c, group.as_deref());
                }
                Ok(Server {
                    inner: Inner::Prosody(Box::new(b.start().await?)),
                })
            }
            Flavor::Ejabberd => {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                let ejabberd = Ejabberd::shared().await?;
                let share = EjabberdShare {
                    server: ejabberd,
                    domain: if self.allow_registration {
                        EJABBERD_OPEN_DOMAIN
                    } else {
                        EJABBERD_DOMAIN
                    },
                    suffix: format!("-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
                };
                for (user, password) in &self.users {
                    crate::config::check_name(user)?;
                    ejabberd
                        .register(&share.localpart(user), share.domain, password)
                        .await?;
                }
                for (a, c, group) in &self.mutual {
                    let (a, c) = (share.localpart(a), share.localpart(c));
                    for (owner, contact) in [(&a, &c), (&c, &a)] {
                        ejabberd
                            .add_rosteritem(
                                (owner, share.domain),
                                (contact, share.domain),
                                group.as_deref(),
                                "both",
                            )
                            .await?;
                    }
                }
                Ok(Server {
                    inner: Inner::Ejabberd(share),
                })
            }
        }
    }
}

/// A test's server: its own Prosody, or its share of the binary's ejabberd.
#[derive(Debug)]
pub struct Server {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Prosody(Box<TestServer>),
    Ejabberd(EjabberdShare),
}

#[derive(Debug)]
struct EjabberdShare {
    server: &'static Ejabberd,
    domain: &'static str,
    suffix: String,
}

impl EjabberdShare {
    fn localpart(&self, user: &str) -> String {
        format!("{user}{}", self.suffix)
    }
}

impl Server {
    /// A builder for a server of `flavor`.
    pub fn builder(flavor: Flavor) -> ServerBuilder {
        ServerBuilder {
            flavor,
            allow_registration: false,
            users: Vec::new(),
            mutual: Vec::new(),
        }
    }

    /// Wraps a Prosody set up with [`TestServer::builder`] (for settings only Prosody has).
    pub fn from_prosody(server: TestServer) -> Server {
        Server {
            inner: Inner::Prosody(Box::new(server)),
        }
    }

    /// The Prosody, if this is one (for what only Prosody's harness can do, e.g. restarts).
    pub fn prosody(&self) -> Option<&TestServer> {
        match &self.inner {
            Inner::Prosody(s) => Some(s),
            Inner::Ejabberd(_) => None,
        }
    }

    /// The shared ejabberd, if this is a share of it.
    pub fn ejabberd(&self) -> Option<&'static Ejabberd> {
        match &self.inner {
            Inner::Prosody(_) => None,
            Inner::Ejabberd(s) => Some(s.server),
        }
    }

    /// Creates the account the test calls `user`.
    pub async fn register(&self, user: &str, password: &str) -> Result<(), HarnessError> {
        match &self.inner {
            Inner::Prosody(s) => s.register(user, password).await,
            Inner::Ejabberd(s) => {
                crate::config::check_name(user)?;
                s.server
                    .register(&s.localpart(user), s.domain, password)
                    .await
            }
        }
    }

    /// Whether the account the test calls `user` exists.
    pub async fn account_exists(&self, user: &str) -> Result<bool, HarnessError> {
        match &self.inner {
            Inner::Prosody(s) => Ok(s.account_exists(user)),
            Inner::Ejabberd(s) => s.server.account_exists(&s.localpart(user), s.domain).await,
        }
    }

    /// The server's log so far (Prosody's at its configured level, ejabberd's at debug level
    /// and shared with the binary's other tests).
    pub fn log_text(&self) -> String {
        match &self.inner {
            Inner::Prosody(s) => std::fs::read_to_string(s.log_path()).unwrap_or_default(),
            Inner::Ejabberd(s) => s.server.log_text(),
        }
    }

    /// Connects to the client port, opens a stream and returns the `<stream:features>`.
    pub async fn stream_features(&self) -> Result<String, HarnessError> {
        crate::server::probe_stream_features(self.c2s_port(), self.domain()).await
    }
}

impl XmppServer for Server {
    fn flavor(&self) -> Flavor {
        match &self.inner {
            Inner::Prosody(_) => Flavor::Prosody,
            Inner::Ejabberd(_) => Flavor::Ejabberd,
        }
    }
    fn host(&self) -> &str {
        HOST
    }
    fn c2s_port(&self) -> u16 {
        match &self.inner {
            Inner::Prosody(s) => s.c2s_port(),
            Inner::Ejabberd(s) => s.server.c2s_port(),
        }
    }
    fn direct_tls_port(&self) -> u16 {
        match &self.inner {
            Inner::Prosody(s) => s.direct_tls_port(),
            Inner::Ejabberd(s) => s.server.direct_tls_port(),
        }
    }
    fn domain(&self) -> &str {
        match &self.inner {
            Inner::Prosody(s) => s.domain(),
            Inner::Ejabberd(s) => s.domain,
        }
    }
    fn ca_cert_pem_bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Prosody(s) => s.ca_cert_pem_bytes(),
            Inner::Ejabberd(s) => s.server.ca_cert_pem_bytes(),
        }
    }
    fn localpart(&self, user: &str) -> String {
        match &self.inner {
            Inner::Prosody(_) => user.to_owned(),
            Inner::Ejabberd(s) => s.localpart(user),
        }
    }
}

/// Turns `async fn name(flavor: Flavor)` bodies into one `#[tokio::test]` per server:
/// `name::prosody` and `name::ejabberd`.
///
/// ```ignore
/// async fn logs_in(flavor: Flavor) { /* Server::builder(flavor)… */ }
/// both_servers!(logs_in);
/// ```
#[macro_export]
macro_rules! both_servers {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn prosody() {
                    super::$name($crate::Flavor::Prosody).await
                }
                #[tokio::test]
                async fn ejabberd() {
                    super::$name($crate::Flavor::Ejabberd).await
                }
            }
        )+
    };
}
