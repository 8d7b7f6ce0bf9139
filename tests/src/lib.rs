//! Real-server test harness for Charla: private [Prosody](https://prosody.im) 0.12 servers on
//! 127.0.0.1, one per test, for the XMPP core's integration tests and the `charla-sandbox`
//! binary (whose demo accounts and bots are in [`demo`]); and a private
//! [ejabberd](https://www.ejabberd.im) 23.01, one per test binary, so that the same tests run
//! against a second server (see [Two servers](#two-servers)).
//!
//! ```no_run
//! # async fn demo() -> Result<(), charla_tests::HarnessError> {
//! use charla_tests::TestServer;
//!
//! let server = TestServer::builder()
//!     .user("alice", "pw")
//!     .user("bob", "pw")
//!     .mutual("alice", "bob", Some("Friends"))
//!     .start()
//!     .await?;
//! // Connect to server.host():server.c2s_port() as server.jid("alice"), trusting only
//! // server.ca_cert_pem().
//! server.register("carol", "pw").await?;
//! # Ok(()) }
//! ```
//!
//! # What a server is
//!
//! Each server is a `prosody --config <dir>/prosody.cfg.lua -F` child process with everything
//! under one fresh directory (`$TMPDIR/charla-prosody-<token>`): configuration, pidfile,
//! `data/` (Prosody's `internal` file storage), a fresh test CA and server certificate
//! (`ca.pem`, `server.pem`, `server.key`) and the log (`prosody.log`, plus
//! `prosody.console.log` for anything printed). It listens on 127.0.0.1 only, on free ports:
//! client STARTTLS, client direct TLS (XEP-0368) and plain HTTP (used when HTTP upload is on).
//! s2s, component and admin sockets are off. Clients must encrypt
//! (`c2s_require_encryption`); authentication is `internal_hashed` (SCRAM-SHA-1, and PLAIN over
//! TLS). Modules: roster, saslauth, tls, disco, carbons, mam, smacks, pep, vcard4,
//! vcard_legacy, blocklist, ping, offline, bookmarks, csi_simple, register (password changes and
//! account removal; in-band registration itself only when allowed); MUC at
//! `conference.<domain>` with muc_mam.
//!
//! Ports are found by binding port 0; because another process may take a port before Prosody
//! binds it, start-up reads Prosody's log (a failed bind is only logged, Prosody keeps running)
//! and retries with new ports. A server is ready when its log shows every port bound and the
//! client port answers a stream header with `<stream:features>`.
//!
//! Prosody runs in its own process group (a terminal's Ctrl-C does not reach it) and gets
//! `SIGTERM` when the test process dies, so no server outlives its tests.
//!
//! # Accounts and rosters
//!
//! Accounts are created with `prosodyctl register` (before start for
//! [`TestServerBuilder::user`], at any time for [`TestServer::register`]).
//!
//! Mutual subscriptions ([`TestServerBuilder::mutual`]) are written before Prosody starts,
//! directly as Prosody 0.12 `internal` storage files: `data/<host>/roster/<user>.dat`, where
//! host and user are encoded like `util.datamanager` does (every byte that is not an ASCII
//! letter or digit becomes `%xx`, so `charla.test` is `charla%2etest`). The file is a Lua chunk
//! returning the same table `core.rostermanager` saves: metadata under `[false]`
//! (`version`, `pending`) and one item per contact JID with `subscription = "both"`, its
//! `groups` and, if given ([`TestServerBuilder::roster_name`]), its `name`. Prosody reads it
//! when the user first logs in. Names must therefore be given in canonical (nodeprepped,
//! lower-case) form. Writing these files while the server runs is not
//! supported (Prosody caches loaded rosters); change rosters over XMPP instead.
//!
//! # Two servers
//!
//! [`Server`] is a test's server of either [`Flavor`]: its own Prosody, or a share of the
//! binary's ejabberd ([`Ejabberd::shared`], started by the first test that asks, in about
//! 2-3 s, and killed when the test process exits). Tests written against [`XmppServer`] (host,
//! ports, CA, [`XmppServer::jid`]) run on both; [`both_servers!`] makes `name::prosody` and
//! `name::ejabberd` tests from one `async fn name(flavor: Flavor)`. On ejabberd each test's
//! accounts get a suffix (`alice` is `alice-3@charla.test`), so a test must build JIDs with
//! `jid()`; accounts and roster items are made with ejabberd's own commands (`register`,
//! `add_rosteritem`, `check_account`) over `mod_http_api` on a loopback port. Registration is
//! closed on `charla.test` and open on `open.charla.test`
//! ([`ServerBuilder::allow_registration`]). Tests that stop, restart or reconfigure the
//! server stay on Prosody.
//!
//! # Environment
//!
//! - `CHARLA_KEEP_TEST_DIRS`: keep each server's directory after the test (path printed).
//! - `CHARLA_PROSODY_DEBUG`: Prosody logs at debug level.
//! - `CHARLA_EJABBERD_LOGLEVEL`: ejabberd's log level (default `debug`).
//! - `CHARLA_TRACE_EVENTS`: a [`Device`] prints the core events it skips while waiting.

pub mod bench;
mod certs;
mod component;
mod config;
pub mod demo;
mod device;
pub mod ejabberd;
mod error;
mod flavor;
pub mod keyring;
mod process;
mod proxy;
mod raw;
mod server;

pub use certs::{self_signed, CertificateFiles};
pub use component::RawComponent;
pub use config::Ports;
pub use device::{added_bodies, is_online, options, Device};
pub use ejabberd::Ejabberd;
pub use error::HarnessError;
pub use flavor::{Flavor, Server, ServerBuilder, XmppServer};
pub use process::free_port;
pub use proxy::Proxy;
pub use raw::{scram_sha1, RawClient};
pub use server::{
    TestServer, TestServerBuilder, DEBUG_LOG_ENV, DEFAULT_DOMAIN, HOST, KEEP_DIRS_ENV,
};
