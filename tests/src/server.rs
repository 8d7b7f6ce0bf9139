//! [`TestServer`]: a private Prosody started as a child process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::certs::{self, CertPaths, CertificateFiles};
use crate::config::{self, ConfigParams, Layout, Ports, Roster};
use crate::process::{self, os_args};
use crate::HarnessError;

/// The address every test server listens on.
pub const HOST: &str = "127.0.0.1";
/// The default XMPP domain.
pub const DEFAULT_DOMAIN: &str = "charla.test";
/// Environment variable: when set, server directories are kept (and their path printed).
pub const KEEP_DIRS_ENV: &str = "CHARLA_KEEP_TEST_DIRS";
/// Environment variable: when set, Prosody logs at debug level.
pub const DEBUG_LOG_ENV: &str = "CHARLA_PROSODY_DEBUG";

const START_ATTEMPTS: usize = 5;
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);
const LOG_TAIL_LINES: usize = 40;
/// How many `prosodyctl` processes run at once when creating many users.
const REGISTER_PARALLELISM: usize = 4;

/// Chooses how a [`TestServer`] is set up. Made by [`TestServer::builder`].
#[derive(Debug, Clone)]
pub struct TestServerBuilder {
    domain: String,
    cert_names: Option<Vec<String>>,
    allow_registration: bool,
    extra_modules: Vec<String>,
    host_config: Vec<String>,
    global_config: Vec<String>,
    http_upload: bool,
    debug_log: bool,
    allow_plain: bool,
    users: Vec<(String, String)>,
    mutual: Vec<(String, String, Option<String>)>,
    roster_names: BTreeMap<String, String>,
    replace_rosters: bool,
    ports: Option<Ports>,
    dir: Option<PathBuf>,
    start_timeout: Duration,
    certificate: Option<CertificateFiles>,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        TestServerBuilder {
            domain: DEFAULT_DOMAIN.to_owned(),
            cert_names: None,
            allow_registration: false,
            extra_modules: Vec::new(),
            host_config: Vec::new(),
            global_config: Vec::new(),
            http_upload: false,
            debug_log: std::env::var_os(DEBUG_LOG_ENV).is_some(),
            allow_plain: false,
            users: Vec::new(),
            mutual: Vec::new(),
            roster_names: BTreeMap::new(),
            replace_rosters: false,
            ports: None,
            dir: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            certificate: None,
        }
    }
}

impl TestServerBuilder {
    /// The XMPP domain of the virtual host (default `charla.test`). Must be lower case. The MUC
    /// service is `conference.<domain>`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// The DNS names in the server certificate, replacing the default (the domain,
    /// `conference.<domain>` and `upload.<domain>`). Pass e.g. `["wrong.test"]` for a
    /// certificate that does not match the domain. The first name is also the subject's CN.
    pub fn cert_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cert_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Whether in-band registration (XEP-0077, `mod_register`) is allowed (default: no).
    pub fn allow_registration(mut self, allow: bool) -> Self {
        self.allow_registration = allow;
        self
    }

    /// Loads one more Prosody module on the virtual host (by its name without `mod_`).
    pub fn module(mut self, name: impl Into<String>) -> Self {
        self.extra_modules.push(name.into());
        self
    }

    /// Adds a raw line of Lua to the virtual host's section of the configuration, e.g.
    /// `smacks_hibernation_time = 5`.
    pub fn host_config(mut self, lua_line: impl Into<String>) -> Self {
        self.host_config.push(lua_line.into());
        self
    }

    /// Adds a raw line of Lua to the global section of the configuration, for options of
    /// global modules, e.g. `c2s_stanza_size_limit = 1024`.
    pub fn global_config(mut self, lua_line: impl Into<String>) -> Self {
        self.global_config.push(lua_line.into());
        self
    }

    /// Enables HTTP file upload (XEP-0363, `mod_http_file_share`) as component
    /// `upload.<domain>`, serving plain HTTP on `http://127.0.0.1:<http_port>/`.
    pub fn http_upload(mut self, enable: bool) -> Self {
        self.http_upload = enable;
        self
    }

    /// Logs at debug level instead of info (also switched on by `CHARLA_PROSODY_DEBUG`).
    pub fn debug_log(mut self, enable: bool) -> Self {
        self.debug_log = enable;
        self
    }

    /// Lets logins use SASL PLAIN. Without it, dropping the server fails the test if any login
    /// used anything but SCRAM (its log names each login's mechanism): Charla must never use
    /// PLAIN on a server that offers SCRAM, and the harness's raw clients use SCRAM too.
    pub fn allow_plain(mut self, allow: bool) -> Self {
        self.allow_plain = allow;
        self
    }

    /// Creates an account before the server starts. `user` is the localpart, in lower case.
    pub fn user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((user.into(), password.into()));
        self
    }

    /// Makes `a` and `b` contacts of each other with subscription `both` before the server
    /// starts, in `group` if given (calling it again for the same pair adds groups). The
    /// roster files are written directly into Prosody's storage; see the crate docs.
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

    /// Creates the accounts `a` and `b` with the passwords `<a>-pw` and `<b>-pw` (those
    /// [`crate::Device::online`] logs in with) and makes them contacts of each other, in no
    /// group: the two users most tests need.
    pub fn mutual_pair(self, a: &str, b: &str) -> Self {
        self.user(a, format!("{a}-pw"))
            .user(b, format!("{b}-pw"))
            .mutual(a, b, None)
    }

    /// Gives `user` the name `name` in every roster written for [`TestServerBuilder::mutual`]
    /// (the `name` of its roster items; others appear without a name).
    pub fn roster_name(mut self, user: impl Into<String>, name: impl Into<String>) -> Self {
        self.roster_names.insert(user.into(), name.into());
        self
    }

    /// With a [`TestServerBuilder::persistent_dir`] from an earlier run: rewrites the roster
    /// of every user named in [`TestServerBuilder::mutual`] even if it exists, dropping any
    /// change made to it since (default: existing rosters are kept).
    pub fn replace_rosters(mut self, replace: bool) -> Self {
        self.replace_rosters = replace;
        self
    }

    /// Uses fixed ports instead of free ones (no retry when they are taken). For the sandbox.
    pub fn fixed_ports(mut self, ports: Ports) -> Self {
        self.ports = Some(ports);
        self
    }

    /// Keeps everything in `dir` (created if missing) instead of a fresh temporary directory,
    /// and never deletes it. A directory from an earlier run keeps its certificates, accounts,
    /// rosters and archives: existing accounts and rosters are not overwritten.
    pub fn persistent_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// How long to wait for Prosody to become ready (default 20 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Serve this certificate and key instead of a leaf of the server's test CA (which is
    /// still made, so [`TestServer::ca_cert_pem`] exists but did not sign what is served).
    pub fn certificate(mut self, files: CertificateFiles) -> Self {
        self.certificate = Some(files);
        self
    }

    /// Prepares the directory, certificates, configuration, accounts and rosters, starts
    /// Prosody and waits until it answers XMPP on its client port.
    pub async fn start(self) -> Result<TestServer, HarnessError> {
        config::check_name(&self.domain)?;
        for (user, _) in &self.users {
            config::check_name(user)?;
        }
        for (a, b, _) in &self.mutual {
            config::check_name(a)?;
            config::check_name(b)?;
        }
        let (dir, persistent) = match &self.dir {
            Some(dir) => {
                if let Some(pid) = running_prosody(&Layout::in_dir(dir).pidfile) {
                    return Err(HarnessError::AlreadyRunning {
                        pid,
                        dir: dir.clone(),
                    });
                }
                std::fs::create_dir_all(dir)
                    .map_err(|e| HarnessError::io(format!("creating {}", dir.display()), e))?;
                let dir = std::path::absolute(dir)
                    .map_err(|e| HarnessError::io(format!("resolving {}", dir.display()), e))?;
                (dir, true)
            }
            None => (make_temp_dir()?, false),
        };
        // From here on, the server owns the directory and cleans it up when dropped.
        let layout = Layout::in_dir(&dir);
        let mut server = TestServer {
            certs: CertPaths::in_dir(&dir),
            ca_pem: Vec::new(),
            ports: self.ports.unwrap_or(Ports {
                c2s: 0,
                direct_tls: 0,
                http: 0,
            }),
            domain: self.domain.clone(),
            http_upload: self.http_upload,
            allow_plain: self.allow_plain,
            start_timeout: self.start_timeout,
            layout,
            child: None,
            dir,
            persistent,
        };
        std::fs::create_dir_all(&server.layout.data)
            .map_err(|e| HarnessError::io("creating the data directory", e))?;
        if !(persistent && server.certs.exist()) {
            let names = self.cert_names.clone().unwrap_or_else(|| {
                vec![
                    self.domain.clone(),
                    format!("conference.{}", self.domain),
                    format!("upload.{}", self.domain),
                ]
            });
            server.certs = certs::generate(&server.dir, &names).await?;
        }
        server.ca_pem = std::fs::read(&server.certs.ca_cert)
            .map_err(|e| HarnessError::io("reading the CA certificate", e))?;
        if let Some(files) = &self.certificate {
            server.set_certificate(files)?;
        }

        let mut attempt = 0;
        loop {
            attempt += 1;
            if self.ports.is_none() {
                server.ports = Ports {
                    c2s: process::free_port()?,
                    direct_tls: process::free_port()?,
                    http: process::free_port()?,
                };
            }
            server.write_config(&self)?;
            if attempt == 1 {
                server.create_initial_users(&self.users).await?;
                server.write_rosters(&self)?;
            }
            match server.launch().await {
                Err(HarnessError::PortInUse { .. })
                    if self.ports.is_none() && attempt < START_ATTEMPTS =>
                {
                    continue
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(server),
            }
        }
    }
}

/// A private Prosody server for one test, listening on 127.0.0.1.
///
/// Dropping it kills Prosody and deletes its directory (unless `CHARLA_KEEP_TEST_DIRS` is set
/// or it was built with [`TestServerBuilder::persistent_dir`]).
#[derive(Debug)]
pub struct TestServer {
    dir: PathBuf,
    persistent: bool,
    layout: Layout,
    certs: CertPaths,
    ca_pem: Vec<u8>,
    ports: Ports,
    domain: String,
    http_upload: bool,
    allow_plain: bool,
    start_timeout: Duration,
    child: Option<Child>,
}

impl TestServer {
    /// A builder for a server with non-default settings.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Starts a server with the default settings (domain `charla.test`, no accounts).
    pub async fn start() -> Result<TestServer, HarnessError> {
        TestServerBuilder::default().start().await
    }

    /// The IP address to connect to: always `127.0.0.1`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// The client port with STARTTLS.
    pub fn c2s_port(&self) -> u16 {
        self.ports.c2s
    }

    /// The client port with direct TLS (XEP-0368).
    pub fn direct_tls_port(&self) -> u16 {
        self.ports.direct_tls
    }

    /// The plain-HTTP port (serves uploads when [`TestServerBuilder::http_upload`] is on).
    pub fn http_port(&self) -> u16 {
        self.ports.http
    }

    /// All three ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The XMPP domain, e.g. `charla.test`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The MUC service's domain, `conference.<domain>`.
    pub fn muc_domain(&self) -> String {
        format!("conference.{}", self.domain)
    }

    /// The HTTP upload service's domain, `upload.<domain>` (only served with
    /// [`TestServerBuilder::http_upload`]).
    pub fn upload_domain(&self) -> String {
        format!("upload.{}", self.domain)
    }

    /// The bare JID of `user` on this server.
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{}", self.domain)
    }

    /// The test CA's certificate file (PEM). Clients must trust only this CA, through explicit
    /// configuration.
    pub fn ca_cert_pem(&self) -> &Path {
        &self.certs.ca_cert
    }

    /// The server's certificate file (PEM), signed by the test CA.
    pub fn server_cert_pem(&self) -> &Path {
        &self.certs.server_cert
    }

    /// The test CA's certificate as PEM bytes.
    pub fn ca_cert_pem_bytes(&self) -> &[u8] {
        &self.ca_pem
    }

    /// The directory holding everything of this server.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Prosody's `data_path` (its `internal` storage).
    pub fn data_dir(&self) -> &Path {
        &self.layout.data
    }

    /// The configuration file.
    pub fn config_path(&self) -> &Path {
        &self.layout.config
    }

    /// Prosody's log file.
    pub fn log_path(&self) -> &Path {
        &self.layout.log
    }

    /// The last lines of Prosody's log, followed by anything it printed to the console.
    pub fn log_tail(&self) -> String {
        let mut tail = tail_lines(&self.layout.log, LOG_TAIL_LINES);
        let console = tail_lines(&self.layout.console, LOG_TAIL_LINES);
        if !console.trim().is_empty() {
            tail.push_str("\n--- console ---\n");
            tail.push_str(&console);
        }
        tail
    }

    /// Prosody's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether Prosody is running (it may have exited on its own).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_)) | Err(_)) => {
                self.child = None;
                false
            }
            None => false,
        }
    }

    /// Creates an account with `prosodyctl register` (works while the server runs or is
    /// stopped). Fails with [`HarnessError::UserExists`] if the account exists (`prosodyctl`
    /// itself would silently reset its password).
    pub async fn register(&self, user: &str, password: &str) -> Result<(), HarnessError> {
        config::check_name(user)?;
        if self.account_exists(user) {
            return Err(HarnessError::UserExists {
                jid: self.jid(user),
            });
        }
        self.prosodyctl_register(user, password).await
    }

    /// Creates `count` accounts named `<prefix>1` … `<prefix><count>`, all with `password`,
    /// running several `prosodyctl` processes at once. Returns the user names.
    pub async fn register_many(
        &self,
        prefix: &str,
        count: usize,
        password: &str,
    ) -> Result<Vec<String>, HarnessError> {
        let users: Vec<(String, String)> = (1..=count)
            .map(|i| (format!("{prefix}{i}"), password.to_owned()))
            .collect();
        for (user, _) in &users {
            config::check_name(user)?;
            if self.account_exists(user) {
                return Err(HarnessError::UserExists {
                    jid: self.jid(user),
                });
            }
        }
        self.register_all(&users).await?;
        Ok(users.into_iter().map(|(user, _)| user).collect())
    }

    /// Whether the account `user` exists (its file is in Prosody's storage).
    pub fn account_exists(&self, user: &str) -> bool {
        config::store_file(&self.layout.data, &self.domain, "accounts", user).is_file()
    }

    /// Connects to the client port, opens a stream and returns the server's
    /// `<stream:features>` element as text.
    pub async fn stream_features(&self) -> Result<String, HarnessError> {
        probe_stream_features(self.ports.c2s, &self.domain).await
    }

    /// Stops Prosody: `SIGTERM`, then waits until it exits or its log says `Shutdown complete`
    /// (its data is saved then; it may idle up to a second more before exiting when clients
    /// were connected, so it is killed at that point). `SIGKILL` after 10 s in any case. Does
    /// nothing if it is not running.
    pub async fn stop(&mut self) -> Result<(), HarnessError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if child
            .try_wait()
            .map_err(|e| HarnessError::io("checking Prosody's status", e))?
            .is_some()
        {
            return Ok(());
        }
        let log_offset = std::fs::metadata(&self.layout.log).map_or(0, |m| m.len());
        // It may exit between the check and the signal; then ESRCH is harmless.
        let _ = process::terminate(child.id());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if child
                .try_wait()
                .map_err(|e| HarnessError::io("waiting for Prosody", e))?
                .is_some()
            {
                return Ok(());
            }
            if read_from(&self.layout.log, log_offset).contains("\tShutdown complete") {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        let _ = child.kill();
        child
            .wait()
            .map_err(|e| HarnessError::io("waiting for Prosody after SIGKILL", e))?;
        Ok(())
    }

    /// Serves this certificate and key from the next (re)start on: copies them over the
    /// server's `server.pem` and `server.key`.
    pub fn set_certificate(&mut self, files: &CertificateFiles) -> Result<(), HarnessError> {
        for (from, to) in [
            (&files.cert, &self.certs.server_cert),
            (&files.key, &self.certs.server_key),
        ] {
            std::fs::copy(from, to).map_err(|e| {
                HarnessError::io(format!("copying {} to {}", from.display(), to.display()), e)
            })?;
        }
        Ok(())
    }

    /// Stops Prosody (if running) and starts it again with the same ports, configuration and
    /// data.
    pub async fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop().await?;
        // The ports were ours a moment ago; if something grabbed one meanwhile, give it a
        // moment before failing.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.launch().await {
                Err(HarnessError::PortInUse { .. }) if attempt < START_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    fn write_config(&self, b: &TestServerBuilder) -> Result<(), HarnessError> {
        let text = config::render(&ConfigParams {
            dir: &self.dir,
            domain: &self.domain,
            ports: self.ports,
            certs: &self.certs,
            allow_registration: b.allow_registration,
            extra_modules: &b.extra_modules,
            http_upload: b.http_upload,
            debug_log: b.debug_log,
            host_config: &b.host_config,
            global_config: &b.global_config,
            as_root: process::running_as_root(),
        });
        for (file, source) in [
            ("mod_charla_auth_log.lua", config::AUTH_LOG_MODULE),
            ("mod_charla_swallow_iq.lua", config::SWALLOW_IQ_MODULE),
        ] {
            std::fs::write(self.dir.join(file), source)
                .map_err(|e| HarnessError::io("writing the harness's Prosody modules", e))?;
        }
        std::fs::write(&self.layout.config, text)
            .map_err(|e| HarnessError::io("writing the Prosody configuration", e))
    }

    /// Registers the builder's users that do not exist yet.
    async fn create_initial_users(&self, users: &[(String, String)]) -> Result<(), HarnessError> {
        let missing: Vec<(String, String)> = users
            .iter()
            .filter(|(user, _)| !self.account_exists(user))
            .cloned()
            .collect();
        self.register_all(&missing).await
    }

    async fn register_all(&self, users: &[(String, String)]) -> Result<(), HarnessError> {
        for chunk in users.chunks(REGISTER_PARALLELISM) {
            let mut set = tokio::task::JoinSet::new();
            for (user, password) in chunk {
                let args = self.register_args(user, password);
                set.spawn(process::run_command("prosodyctl", args));
            }
            while let Some(joined) = set.join_next().await {
                joined.map_err(|e| {
                    HarnessError::io("registering users", std::io::Error::other(e))
                })??;
            }
        }
        Ok(())
    }

    async fn prosodyctl_register(&self, user: &str, password: &str) -> Result<(), HarnessError> {
        process::run_command("prosodyctl", self.register_args(user, password)).await
    }

    fn register_args(&self, user: &str, password: &str) -> Vec<std::ffi::OsString> {
        os_args![
            "--config",
            &self.layout.config,
            "register",
            user,
            &self.domain,
            password
        ]
    }

    /// Writes the roster files for the builder's mutual subscriptions, for users who have no
    /// roster yet (or for all of them with [`TestServerBuilder::replace_rosters`]).
    fn write_rosters(&self, b: &TestServerBuilder) -> Result<(), HarnessError> {
        let mut rosters: BTreeMap<&str, Roster> = BTreeMap::new();
        for (first, second, group) in &b.mutual {
            for (owner, contact) in [(first, second), (second, first)] {
                let item = rosters
                    .entry(owner)
                    .or_default()
                    .entry(self.jid(contact))
                    .or_default();
                item.name = b.roster_names.get(contact).cloned();
                if let Some(group) = group {
                    if !item.groups.contains(group) {
                        item.groups.push(group.clone());
                    }
                }
            }
        }
        for (owner, roster) in rosters {
            let path = config::store_file(&self.layout.data, &self.domain, "roster", owner);
            // A replaced roster needs a version no client has cached, or a client that asks
            // with its cached version would be told nothing changed.
            let version = if path.exists() {
                if !b.replace_rosters {
                    continue;
                }
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(2, |d| d.as_secs())
            } else {
                1
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| HarnessError::io(format!("creating {}", parent.display()), e))?;
            }
            std::fs::write(&path, config::render_roster(&roster, version))
                .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
        }
        Ok(())
    }

    /// Spawns Prosody and waits until it is ready. On a port collision, kills it and returns
    /// [`HarnessError::PortInUse`].
    async fn launch(&mut self) -> Result<(), HarnessError> {
        // The log accumulates over restarts; readiness only looks at what this launch wrote.
        let log_offset = std::fs::metadata(&self.layout.log).map_or(0, |m| m.len());
        let console = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.layout.console)
            .map_err(|e| HarnessError::io("opening the console log", e))?;
        let console_err = console
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating the console log handle", e))?;
        let mut command = Command::new("prosody");
        command
            .arg("--config")
            .arg(&self.layout.config)
            .arg("-F")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err);
        let child = process::spawn_supervised(command)
            .map_err(|e| HarnessError::io("starting `prosody` (is Prosody installed?)", e))?;
        self.child = Some(child);
        match self.wait_ready(log_offset).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(mut child) = self.child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                Err(e)
            }
        }
    }

    /// Waits until Prosody has bound all its ports (read from its log, which is the only way to
    /// tell its own listener from another process's) and then answers a stream header.
    async fn wait_ready(&mut self, log_offset: u64) -> Result<(), HarnessError> {
        let deadline = Instant::now() + self.start_timeout;
        let mut expected = vec![self.ports.c2s, self.ports.direct_tls];
        if self.http_upload {
            expected.push(self.ports.http);
        }
        let mut ports_bound = false;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child
                    .try_wait()
                    .map_err(|e| HarnessError::io("checking Prosody's status", e))?
                {
                    self.child = None;
                    return Err(HarnessError::Exited {
                        status,
                        log_tail: self.log_tail(),
                    });
                }
            }
            if !ports_bound {
                let log = read_from(&self.layout.log, log_offset);
                if log.contains("Failed to open server port") {
                    return Err(HarnessError::PortInUse {
                        log_tail: self.log_tail(),
                    });
                }
                ports_bound = expected.iter().all(|&port| log_shows_bound(&log, port));
            }
            if ports_bound
                && probe_stream_features(self.ports.c2s, &self.domain)
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::StartTimeout {
                    timeout: self.start_timeout,
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl TestServer {
    /// The SASL mechanism of every successful login so far, as `(user, mechanism)`, from the
    /// harness's Prosody module.
    pub fn logins(&self) -> Vec<(String, String)> {
        let log = std::fs::read_to_string(&self.layout.log).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let rest = &line[line.find("charla-auth ")? + "charla-auth ".len()..];
                let (user, mechanism) = rest.split_once(' ')?;
                Some((user.to_owned(), mechanism.trim().to_owned()))
            })
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.persistent {
            return;
        }
        let weak: Vec<(String, String)> = self
            .logins()
            .into_iter()
            .filter(|(_, mechanism)| !mechanism.starts_with("SCRAM-"))
            .collect();
        let check = !self.allow_plain && !std::thread::panicking();
        if check && !weak.is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
            panic!("logins without SCRAM on a server that offers it: {weak:?}");
        }
        if std::env::var_os(KEEP_DIRS_ENV).is_some() {
            eprintln!(
                "charla-tests: kept test server directory {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Opens a stream to `127.0.0.1:port` for `domain` and reads up to `</stream:features>`.
pub(crate) async fn probe_stream_features(port: u16, domain: &str) -> Result<String, HarnessError> {
    let addr = format!("{HOST}:{port}");
    let probe = async {
        let mut stream = TcpStream::connect(&addr)
            .await
            .map_err(|e| HarnessError::io(format!("connecting to {addr}"), e))?;
        let header = format!(
            "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xml:lang='en' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            xml_escape(domain)
        );
        stream
            .write_all(header.as_bytes())
            .await
            .map_err(|e| HarnessError::io(format!("writing to {addr}"), e))?;
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| HarnessError::io(format!("reading from {addr}"), e))?;
            if n == 0 {
                return Err(HarnessError::Protocol {
                    addr: addr.clone(),
                    detail: format!(
                        "connection closed after {:?}",
                        String::from_utf8_lossy(&received)
                    ),
                });
            }
            received.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&received);
            if let Some(start) = text.find("<stream:features") {
                if let Some(end) = text[start..].find("</stream:features>") {
                    let features = text[start..start + end + "</stream:features>".len()].to_owned();
                    let _ = stream.write_all(b"</stream:stream>").await;
                    return Ok(features);
                }
            }
            if received.len() > 64 * 1024 {
                return Err(HarnessError::Protocol {
                    addr: addr.clone(),
                    detail: "no <stream:features> in the first 64 KiB".into(),
                });
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Ok(result) => result,
        Err(_) => Err(HarnessError::Protocol {
            addr,
            detail: "no <stream:features> within 5 s".into(),
        }),
    }
}

/// Whether Prosody's log has an `Activated service '…' on [127.0.0.1]:<port>` line for `port`.
fn log_shows_bound(log: &str, port: u16) -> bool {
    let needle = format!("[{HOST}]:{port}");
    log.match_indices(&needle).any(|(at, _)| {
        !log[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// Creates a fresh directory `charla-prosody-<token>` under the system's temp directory.
fn make_temp_dir() -> Result<PathBuf, HarnessError> {
    let base = std::env::temp_dir();
    loop {
        let dir = base.join(format!("charla-prosody-{}", process::unique_token()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(HarnessError::io(format!("creating {}", dir.display()), e)),
        }
    }
}

/// The process id in a Prosody pidfile, if that process is still a running Prosody.
fn running_prosody(pidfile: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    String::from_utf8_lossy(&cmdline)
        .contains("prosody")
        .then_some(pid)
}

/// The text of a file from byte `offset` on (empty if it cannot be read).
fn read_from(path: &Path, offset: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut text = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(offset))?;
        file.read_to_end(&mut text)
    });
    match read {
        Ok(_) => String::from_utf8_lossy(&text).into_owned(),
        Err(_) => String::new(),
    }
}

/// The last `n` lines of a text file, or a note why there are none.
fn tail_lines(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_port_must_match_exactly() {
        let log = "portmanager\tinfo\tActivated service 'c2s' on [127.0.0.1]:12345\n";
        assert!(log_shows_bound(log, 12345));
        assert!(!log_shows_bound(log, 1234));
    }
}
