//! [`Ejabberd`]: a private ejabberd 23.01 on 127.0.0.1, started once per test binary and shared
//! by its tests (the Erlang VM takes seconds to start), each test with its own account names.
//!
//! The instance runs `erl … -s ejabberd` directly (as `ejabberdctl foreground` would, but
//! without its switch to the `ejabberd` system user) with everything under one temp directory:
//! `etc/ejabberd.yml`, `etc/ejabberdctl.cfg` (a unique `ERLANG_NODE`, `INET_DIST_INTERFACE` and
//! `ERL_EPMD_ADDRESS` on 127.0.0.1), `spool/` (Mnesia), `log/ejabberd.log` (debug level, never
//! rotated) and the test CA and leaf from [`crate::certs`]. It serves two virtual hosts:
//! `charla.test`, where in-band registration is closed, and `open.charla.test`, where it is
//! open. Accounts and roster items are made through ejabberd's own commands (`register`,
//! `add_rosteritem`, the ones `ejabberdctl` runs) over `mod_http_api` on a loopback port: 10-50
//! ms a call, where each `ejabberdctl` call starts a VM (about 0.5 s). For a look at a running
//! instance, `ejabberdctl --config-dir D/etc --ctl-config D/etc/ejabberdctl.cfg --spool D/spool
//! --logs D/log status` (or any other command) works, with `D` its directory
//! (`CHARLA_KEEP_TEST_DIRS` keeps it afterwards, stopped).
//!
//! The VM is killed when the test process exits (an `atexit` hook, and `SIGTERM` as its
//! parent-death signal if the process dies without running it, e.g. by `SIGKILL`), and its
//! directory is removed (after a `SIGKILL`, by the next start: each directory names its
//! owner's pid).
//! `epmd` (port 4369) may stay, as after `ejabberdctl stop`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OnceCell;

use crate::certs::{self, CertPaths};
use crate::process;
use crate::server::HOST;
use crate::HarnessError;

/// Environment variable: ejabberd's `loglevel` (default `debug`: every stanza, as XML and as
/// Erlang records, and "Accepted c2s SCRAM-SHA-256 authentication for …", which `info` has
/// too). `info` keeps the log small; a 2,000-message burst measured 28 s at `info` against
/// 33 s at `debug` here.
pub const LOGLEVEL_ENV: &str = "CHARLA_EJABBERD_LOGLEVEL";

/// The virtual host where in-band registration is closed.
pub const EJABBERD_DOMAIN: &str = "charla.test";
/// The virtual host where in-band registration is open.
pub const EJABBERD_OPEN_DOMAIN: &str = "open.charla.test";

const START_ATTEMPTS: usize = 3;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);
const LOG_TAIL_LINES: usize = 40;

/// The shared instance of this test binary.
static SHARED: OnceCell<Ejabberd> = OnceCell::const_new();
/// What the exit hook must kill and remove.
static RUNNING: Mutex<Option<(Child, PathBuf)>> = Mutex::new(None);

/// A running ejabberd (see the module docs). Get it with [`Ejabberd::shared`].
#[derive(Debug)]
pub struct Ejabberd {
    dir: PathBuf,
    ca_pem: Vec<u8>,
    c2s: u16,
    direct_tls: u16,
    http: u16,
    node: String,
    started_in: Duration,
}

impl Ejabberd {
    /// The instance of this test binary, started by the first caller.
    pub async fn shared() -> Result<&'static Ejabberd, HarnessError> {
        SHARED.get_or_try_init(Ejabberd::start).await
    }

    async fn start() -> Result<Ejabberd, HarnessError> {
        let began = Instant::now();
        remove_orphaned_dirs();
        let dir = make_temp_dir()?;
        std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string())
            .map_err(|e| HarnessError::io("writing the owner file", e))?;
        for sub in ["etc", "spool", "log"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| HarnessError::io(format!("creating {sub}/"), e))?;
        }
        let names: Vec<String> = [EJABBERD_DOMAIN, EJABBERD_OPEN_DOMAIN]
            .iter()
            .flat_map(|d| {
                [
                    (*d).to_owned(),
                    format!("conference.{d}"),
                    format!("pubsub.{d}"),
                    format!("upload.{d}"),
                ]
            })
            .collect();
        let certs = certs::generate(&dir.join("etc"), &names).await?;
        let ca_pem = std::fs::read(&certs.ca_cert)
            .map_err(|e| HarnessError::io("reading the CA certificate", e))?;
        let node = format!("charla-{}@localhost", process::unique_token());
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let mut server = Ejabberd {
                dir: dir.clone(),
                ca_pem: ca_pem.clone(),
                c2s: process::free_port()?,
                direct_tls: process::free_port()?,
                http: process::free_port()?,
                node: node.clone(),
                started_in: Duration::ZERO,
            };
            server.write_config(&certs)?;
            match server.launch().await {
                Ok(()) => {
                    server.started_in = began.elapsed();
                    if std::env::var_os("CHARLA_EJABBERD_TIMING").is_some() {
                        eprintln!("charla-tests: ejabberd ready in {:?}", server.started_in);
                    }
                    return Ok(server);
                }
                Err(e @ HarnessError::PortInUse { .. }) => {
                    // Start afresh: a failed start may have left Mnesia tables behind.
                    let _ = std::fs::remove_dir_all(dir.join("spool"));
                    let _ = std::fs::create_dir_all(dir.join("spool"));
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// How long the first caller waited for the instance (certificates, configuration, VM
    /// start, listeners up).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The client port with STARTTLS (required).
    pub fn c2s_port(&self) -> u16 {
        self.c2s
    }

    /// The client port with direct TLS (XEP-0368).
    pub fn direct_tls_port(&self) -> u16 {
        self.direct_tls
    }

    /// The loopback port of `mod_http_api`.
    pub fn http_port(&self) -> u16 {
        self.http
    }

    /// The test CA's certificate as PEM bytes.
    pub fn ca_cert_pem_bytes(&self) -> &[u8] {
        &self.ca_pem
    }

    /// The Erlang node name, e.g. `charla-…@localhost`.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The directory holding everything of this instance.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// ejabberd's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log/ejabberd.log")
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Creates the account `user@host` (the `register` command).
    pub async fn register(
        &self,
        user: &str,
        host: &str,
        password: &str,
    ) -> Result<(), HarnessError> {
        let answer = self
            .command(
                "register",
                &format!(
                    "{{\"user\":{},\"host\":{},\"password\":{}}}",
                    json(user),
                    json(host),
                    json(password)
                ),
            )
            .await;
        match answer {
            // ejabberd answers a taken name with an error status ("User … already
            // registered").
            Err(HarnessError::Protocol { detail, .. }) if detail.contains("already registered") => {
                Err(HarnessError::UserExists {
                    jid: format!("{user}@{host}"),
                })
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    /// Whether the account `user@host` exists (the `check_account` command answers `0`).
    pub async fn account_exists(&self, user: &str, host: &str) -> Result<bool, HarnessError> {
        let answer = self
            .command(
                "check_account",
                &format!("{{\"user\":{},\"host\":{}}}", json(user), json(host)),
            )
            .await?;
        Ok(answer.trim() == "0")
    }

    /// Puts `contact` in `owner`'s roster with `subscription` (`both`, `to`, `from`, `none`),
    /// in `group` (or none); the `add_rosteritem` command, which also pushes the item to
    /// `owner`'s online resources.
    pub async fn add_rosteritem(
        &self,
        owner: (&str, &str),
        contact: (&str, &str),
        group: Option<&str>,
        subscription: &str,
    ) -> Result<(), HarnessError> {
        let answer = self
            .command(
                "add_rosteritem",
                &format!(
                    "{{\"localuser\":{},\"localhost\":{},\"user\":{},\"host\":{},\"nick\":\"\",\"group\":{},\"subs\":{}}}",
                    json(owner.0),
                    json(owner.1),
                    json(contact.0),
                    json(contact.1),
                    json(group.unwrap_or("")),
                    json(subscription),
                ),
            )
            .await?;
        if answer.trim() != "0" {
            return Err(self.protocol(format!("add_rosteritem answered {answer}")));
        }
        Ok(())
    }

    /// Runs an ejabberd command through `mod_http_api` (`POST /api/<name>` with JSON
    /// arguments) and returns the body of a `200` answer.
    pub async fn command(&self, name: &str, args: &str) -> Result<String, HarnessError> {
        let addr = format!("{HOST}:{}", self.http);
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| HarnessError::io(format!("connecting to {addr}"), e))?;
        let request = format!(
            "POST /api/{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{args}",
            args.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| HarnessError::io(format!("writing to {addr}"), e))?;
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
            .await
            .map_err(|_| self.protocol(format!("no answer to {name} within 30 s")))?
            .map_err(|e| HarnessError::io(format!("reading from {addr}"), e))?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        if !head.starts_with("HTTP/1.1 200") {
            return Err(self.protocol(format!("{name}: {head} {body}")));
        }
        Ok(body.to_owned())
    }

    fn protocol(&self, detail: String) -> HarnessError {
        HarnessError::Protocol {
            addr: format!("{HOST}:{} (ejabberd {})", self.http, self.node),
            detail,
        }
    }

    /// The last lines of the log and of the VM's console output.
    pub fn log_tail(&self) -> String {
        let mut tail = tail_lines(&self.log_path(), LOG_TAIL_LINES);
        let console = tail_lines(&self.dir.join("log/console.log"), LOG_TAIL_LINES);
        if !console.trim().is_empty() {
            tail.push_str("\n--- console ---\n");
            tail.push_str(&console);
        }
        tail
    }

    fn write_config(&self, certs: &CertPaths) -> Result<(), HarnessError> {
        // ejabberd wants the leaf and its key in one file.
        let mut pem = std::fs::read(&certs.server_cert)
            .map_err(|e| HarnessError::io("reading the server certificate", e))?;
        pem.extend(
            std::fs::read(&certs.server_key)
                .map_err(|e| HarnessError::io("reading the server key", e))?,
        );
        let certfile = self.dir.join("etc/server-with-key.pem");
        std::fs::write(&certfile, pem)
            .map_err(|e| HarnessError::io("writing the certificate file", e))?;
        let yml = render(&ConfigParams {
            certfile: &certfile,
            loglevel: std::env::var(LOGLEVEL_ENV).unwrap_or_else(|_| "debug".into()),
            c2s: self.c2s,
            direct_tls: self.direct_tls,
            http: self.http,
        });
        std::fs::write(self.dir.join("etc/ejabberd.yml"), yml)
            .map_err(|e| HarnessError::io("writing ejabberd.yml", e))?;
        let ctl = format!(
            "# Written by charla-tests for a private test server.\n\
             ERLANG_NODE={node}\n\
             INET_DIST_INTERFACE=127.0.0.1\n\
             ERL_EPMD_ADDRESS=127.0.0.1\n\
             ERL_OPTIONS=\"-setcookie {cookie}\"\n\
             EJABBERD_PID_PATH={dir}/ejabberd.pid\n",
            node = self.node,
            cookie = self.cookie(),
            dir = self.dir.display(),
        );
        std::fs::write(self.dir.join("etc/ejabberdctl.cfg"), ctl)
            .map_err(|e| HarnessError::io("writing ejabberdctl.cfg", e))
    }

    fn cookie(&self) -> String {
        self.node.replace(['@', '-', '.'], "_")
    }

    /// Starts the VM the way `ejabberdctl foreground` does, with the same environment, and
    /// waits until every listener accepts and the client port answers a stream header.
    async fn launch(&mut self) -> Result<(), HarnessError> {
        let log = self.log_path();
        let _ = std::fs::remove_file(&log);
        let console = std::fs::File::create(self.dir.join("log/console.log"))
            .map_err(|e| HarnessError::io("opening the console log", e))?;
        let console_err = console
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating the console log handle", e))?;
        let spool = self.dir.join("spool");
        let mut command = Command::new("erl");
        command
            .args(["-sname", &self.node, "+K", "true", "+P", "250000"])
            .args(["-setcookie", &self.cookie()])
            .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
            .args(["-mnesia", "dir", &format!("\"{}\"", spool.display())])
            .args(["-ejabberd", "log_rotate_size", "infinity"])
            // The default burst limit (500 lines a second) drops lines at debug level.
            .args(["-ejabberd", "log_burst_limit_count", "1000000"])
            .args(["-s", "ejabberd", "-noinput"])
            .env("EJABBERD_CONFIG_PATH", self.dir.join("etc/ejabberd.yml"))
            .env("EJABBERD_LOG_PATH", &log)
            .env("EJABBERD_PID_PATH", self.dir.join("ejabberd.pid"))
            .env("ERL_EPMD_ADDRESS", HOST)
            .env("ERL_LIBS", "/usr/lib/x86_64-linux-gnu")
            .env("ERL_CRASH_DUMP_BYTES", "0")
            .env("ERL_MAX_PORTS", "32000")
            .env("ERL_MAX_ETS_TABLES", "1400")
            .env("CONTRIB_MODULES_PATH", self.dir.join("modules"))
            .current_dir(&spool)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err);
        let child = process::spawn_supervised(command)
            .map_err(|e| HarnessError::io("starting `erl` (is ejabberd installed?)", e))?;
        {
            let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
            *running = Some((child, self.dir.clone()));
        }
        register_exit_hook();
        match self.wait_ready().await {
            Ok(()) => Ok(()),
            Err(e) => {
                kill_running(false);
                Err(e)
            }
        }
    }

    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let listening: Vec<String> = [self.c2s, self.direct_tls, self.http]
            .iter()
            .map(|p| format!("connections at {HOST}:{p} for"))
            .collect();
        let mut up = false;
        loop {
            let exited = {
                let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
                match running.as_mut().map(|(child, _)| child.try_wait()) {
                    Some(Ok(Some(status))) => Some(status),
                    _ => None,
                }
            };
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            if log.contains("eaddrinuse") || log.contains("address already in use") {
                return Err(HarnessError::PortInUse {
                    log_tail: self.log_tail(),
                });
            }
            if let Some(status) = exited {
                return Err(HarnessError::Exited {
                    status,
                    log_tail: self.log_tail(),
                });
            }
            if log.contains("Failed to start ejabberd") {
                return Err(HarnessError::StartTimeout {
                    timeout: START_TIMEOUT,
                    log_tail: self.log_tail(),
                });
            }
            if !up {
                up = log.contains(" is started in the node ")
                    && listening.iter().all(|l| log.contains(l.as_str()));
            }
            if up
                && crate::server::probe_stream_features(self.c2s, EJABBERD_DOMAIN)
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::StartTimeout {
                    timeout: START_TIMEOUT,
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn register_exit_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn at_exit() {
        kill_running(true);
    }
    ONCE.call_once(|| {
        // SAFETY: registering a plain `extern "C"` function has no preconditions.
        unsafe {
            libc::atexit(at_exit);
        }
    });
}

/// Kills the VM (it holds nothing the tests need afterwards) and, when `remove`, deletes its
/// directory (unless `CHARLA_KEEP_TEST_DIRS` is set).
fn kill_running(remove: bool) {
    let taken = RUNNING.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some((mut child, dir)) = taken {
        let _ = child.kill();
        let _ = child.wait();
        if !remove {
            return;
        }
        if std::env::var_os(crate::KEEP_DIRS_ENV).is_some() {
            eprintln!("charla-tests: kept ejabberd directory {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

struct ConfigParams<'a> {
    certfile: &'a Path,
    loglevel: String,
    c2s: u16,
    direct_tls: u16,
    http: u16,
}

/// Renders `ejabberd.yml`: the modules equivalent to the Prosody configuration, two hosts
/// (registration closed on `charla.test`, open on `open.charla.test`), the client listeners
/// and the loopback-only command API.
fn render(p: &ConfigParams<'_>) -> String {
    let mut yml = String::from("# Written by charla-tests for a private test server.\n");
    let _ = write!(
        yml,
        "hosts:\n  - {EJABBERD_DOMAIN}\n  - {EJABBERD_OPEN_DOMAIN}\n\
         loglevel: {loglevel}\n\
         log_rotate_size: infinity\n\
         log_burst_limit_count: 1000000\n\
         certfiles:\n  - {certfile:?}\n\
         acme:\n  auto: false\n\
         s2s_access: none\n\
         auth_method: internal\n\
         auth_password_format: scram\n\
         registration_timeout: infinity\n\
         listen:\n\
         \x20 - port: {c2s}\n    ip: \"{HOST}\"\n    module: ejabberd_c2s\n    starttls: true\n    \
         starttls_required: true\n    max_stanza_size: 262144\n\
         \x20 - port: {direct_tls}\n    ip: \"{HOST}\"\n    module: ejabberd_c2s\n    tls: true\n    \
         max_stanza_size: 262144\n\
         \x20 - port: {http}\n    ip: \"{HOST}\"\n    module: ejabberd_http\n    \
         request_handlers:\n      /api: mod_http_api\n\
         api_permissions:\n  \"loopback commands\":\n    who:\n      ip: 127.0.0.1/8\n    \
         what:\n      - \"*\"\n\
         access_rules:\n  register:\n    deny: all\n\
         host_config:\n  {EJABBERD_OPEN_DOMAIN}:\n    access_rules:\n      register:\n        allow: all\n\
         modules:\n\
         \x20 mod_roster: {{versioning: true}}\n\
         \x20 mod_carboncopy: {{}}\n\
         \x20 mod_mam: {{default: always}}\n\
         \x20 mod_stream_mgmt: {{}}\n\
         \x20 mod_blocking: {{}}\n\
         \x20 mod_privacy: {{}}\n\
         \x20 mod_pubsub:\n    plugins: [flat, pep]\n\
         \x20 mod_vcard: {{}}\n\
         \x20 mod_vcard_xupdate: {{}}\n\
         \x20 mod_avatar: {{}}\n\
         \x20 mod_offline: {{}}\n\
         \x20 mod_ping: {{}}\n\
         \x20 mod_disco: {{}}\n\
         \x20 mod_caps: {{}}\n\
         \x20 mod_last: {{}}\n\
         \x20 mod_client_state: {{}}\n\
         \x20 mod_register:\n    access: register\n    ip_access: all\n\
         \x20 mod_muc: {{}}\n\
         \x20 mod_http_api: {{}}\n\
         \x20 mod_admin_extra: {{}}\n",
        loglevel = p.loglevel,
        certfile = p.certfile.display().to_string(),
        c2s = p.c2s,
        direct_tls = p.direct_tls,
        http = p.http,
    );
    yml
}

/// A JSON string literal.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file in an instance's directory that names the test process that made it.
const OWNER_FILE: &str = "owner.pid";

/// Removes the directories of instances whose test process died without its exit hook (killed
/// with `SIGKILL`: its VM got `SIGTERM` and is gone, its directory stayed). A directory whose
/// owner still runs, or that names none, is left alone.
fn remove_orphaned_dirs() {
    if std::env::var_os(crate::KEEP_DIRS_ENV).is_some() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_ours = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("charla-ejabberd-"));
        if !is_ours {
            continue;
        }
        let owner: Option<u32> = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.trim().parse().ok());
        if let Some(pid) = owner {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
}

fn make_temp_dir() -> Result<PathBuf, HarnessError> {
    let base = std::env::temp_dir();
    loop {
        let dir = base.join(format!("charla-ejabberd-{}", process::unique_token()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(HarnessError::io(format!("creating {}", dir.display()), e)),
        }
    }
}

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
    fn json_strings_are_escaped() {
        assert_eq!(json("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn config_names_the_modules_and_ports() {
        let yml = render(&ConfigParams {
            certfile: Path::new("/x/server.pem"),
            loglevel: "debug".into(),
            c2s: 1,
            direct_tls: 2,
            http: 3,
        });
        for needle in [
            "mod_carboncopy: {}",
            "mod_mam: {default: always}",
            "plugins: [flat, pep]",
            "starttls_required: true",
            "log_rotate_size: infinity",
            "loglevel: debug",
            "- port: 2\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n    tls: true",
        ] {
            assert!(yml.contains(needle), "{needle} in\n{yml}");
        }
    }
}
