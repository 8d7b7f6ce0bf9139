//! The sandbox's demo world, used by `charla-sandbox`: the demo accounts and who knows whom,
//! the bots that keep some contacts alive (driven by Charla's own headless core), and the
//! `sandbox.json` file that tells the desktop app how to reach the sandbox.
//!
//! - `alice`, `bob`, `carol` and `dave` are the demo accounts people log in with; each
//!   password is the user name. alice is the user, bob is free for a second window, dave
//!   stays offline.
//! - carol is online, away, with the status "At the office" (a bot logged in as her).
//! - `echo` (named "Echo", in group "Charla" in everyone's roster) is always online and answers
//!   every chat message with its text prefixed by `Echo: `. Its password is random and kept in
//!   the sandbox directory; nobody needs it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use charla_core::{
    AccountId, ConnectOptions, Core, CoreError, Direction, ErrorCode, Event, Keepalive,
    ServerAddress, Show, TlsTrust,
};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{TestServer, TestServerBuilder};

/// The demo accounts people log in with; each password is the user name.
pub const DEMO_USERS: &[&str] = &["alice", "bob", "carol", "dave"];
/// Mutual contacts among the demo accounts, with the group both sides file each other under.
pub const DEMO_CONTACTS: &[(&str, &str, &str)] = &[
    ("alice", "bob", "Family"),
    ("alice", "carol", "Work"),
    ("alice", "dave", "Work"),
    ("bob", "carol", "Friends"),
];
/// The echo bot's user name.
pub const ECHO_USER: &str = "echo";
/// The echo bot's name in every roster.
pub const ECHO_NAME: &str = "Echo";
/// The group every demo account files the echo bot under (and it files them under).
pub const ECHO_GROUP: &str = "Charla";
/// The echo bot's status text.
pub const ECHO_STATUS: &str = "I answer every message";
/// What the echo bot puts before the text it sends back.
pub const ECHO_PREFIX: &str = "Echo: ";
/// carol's status text (she is away).
pub const CAROL_STATUS: &str = "At the office";
/// The file, in the sandbox directory, that describes a ready sandbox.
pub const SANDBOX_FILE: &str = "sandbox.json";

/// Bump when the demo rosters change: a sandbox directory written by an older version then
/// gets its demo rosters rewritten once.
const DEMO_VERSION: &str = "2";
/// The file in the sandbox directory holding the [`DEMO_VERSION`] it was set up with.
const DEMO_VERSION_FILE: &str = "demo-version";
/// The file in the sandbox directory holding the echo bot's password.
const BOT_SECRET_FILE: &str = "bots.secret";
/// The bots' own Charla database, in the sandbox directory.
const BOT_DATABASE: &str = "bots.sqlite3";
/// How long a bot may take to log in.
const BOT_LOGIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a bot may take to go offline when the sandbox stops.
const BOT_LOGOUT_TIMEOUT: Duration = Duration::from_secs(3);
/// Replies the echo bot may have queued; beyond that, messages go unanswered (a flood).
const ECHO_QUEUE: usize = 256;

/// Adds the demo accounts, the echo bot's account (with `bot_password`) and every roster to a
/// server builder. Rosters are rewritten if `dir` was set up by an older demo version; call
/// [`mark_demo_version`] once the server has started.
pub fn populate(
    mut builder: TestServerBuilder,
    dir: &Path,
    bot_password: &str,
) -> TestServerBuilder {
    for user in DEMO_USERS {
        builder = builder.user(*user, *user);
    }
    builder = builder.user(ECHO_USER, bot_password);
    for (a, b, group) in DEMO_CONTACTS {
        builder = builder.mutual(*a, *b, Some(group));
    }
    for user in DEMO_USERS {
        builder = builder.mutual(*user, ECHO_USER, Some(ECHO_GROUP));
    }
    let current = std::fs::read_to_string(dir.join(DEMO_VERSION_FILE))
        .is_ok_and(|version| version.trim() == DEMO_VERSION);
    builder
        .roster_name(ECHO_USER, ECHO_NAME)
        .replace_rosters(!current)
}

/// Records that `dir` holds the current demo version (see [`populate`]).
pub fn mark_demo_version(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(DEMO_VERSION_FILE), format!("{DEMO_VERSION}\n"))
}

/// The echo bot's password: read from the sandbox directory, or made up (16 random bytes, in
/// hex) and saved there, readable by the owner only, on first use.
pub fn bot_password(dir: &Path) -> std::io::Result<String> {
    let path = dir.join(BOT_SECRET_FILE);
    if let Ok(password) = std::fs::read_to_string(&path) {
        let password = password.trim();
        if !password.is_empty() {
            return Ok(password.to_owned());
        }
    }
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(dir)?;
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?
    };
    writeln!(file, "{password}")?;
    Ok(password)
}

/// The demo's bots, online: echo and carol, two accounts of one headless [`Core`].
pub struct Bots {
    core: Core,
    accounts: Vec<AccountId>,
    echo_task: JoinHandle<()>,
}

impl Bots {
    /// Logs the bots in to `server` (trusting only its CA, at its address) with their own
    /// database in `dir`, and starts answering messages to echo. Resolves once both are online.
    pub async fn start(
        server: &TestServer,
        dir: &Path,
        bot_password: &str,
    ) -> Result<Bots, CoreError> {
        let (core, events) = Core::open(&dir.join(BOT_DATABASE))?;
        let echo_jid = server.jid(ECHO_USER);
        let echo = core.add_account(&echo_jid)?;
        let carol = core.add_account(&server.jid("carol"))?;
        let trust = TlsTrust::from_ca_pem(server.ca_cert_pem_bytes())?;
        let options = |password: &str, show: Show, status: &str| ConnectOptions {
            password: password.to_owned(),
            server: Some(ServerAddress {
                host: server.host().to_owned(),
                port: server.c2s_port(),
                direct_tls: false,
            }),
            trust: trust.clone(),
            show,
            status: Some(status.to_owned()),
            keepalive: Keepalive::default(),
        };
        // Answer from the start: a message may arrive right after echo's login.
        let echo_task = tokio::spawn(serve_echo(core.clone(), events, echo, echo_jid));
        let bots = Bots {
            core: core.clone(),
            accounts: vec![echo, carol],
            echo_task,
        };
        let logins = async {
            tokio::try_join!(
                login(
                    &core,
                    echo,
                    options(bot_password, Show::Available, ECHO_STATUS)
                ),
                login(&core, carol, options("carol", Show::Away, CAROL_STATUS)),
            )
        };
        match logins.await {
            Ok(_) => Ok(bots),
            Err(e) => {
                bots.stop().await;
                Err(e)
            }
        }
    }

    /// Takes the bots offline (each with a clean logout, if it is quick) and stops answering.
    pub async fn stop(self) {
        for account in &self.accounts {
            let _ = tokio::time::timeout(BOT_LOGOUT_TIMEOUT, self.core.disconnect(*account)).await;
        }
        self.echo_task.abort();
    }
}

/// Connects one bot account, giving up after [`BOT_LOGIN_TIMEOUT`].
async fn login(core: &Core, account: AccountId, options: ConnectOptions) -> Result<(), CoreError> {
    tokio::time::timeout(BOT_LOGIN_TIMEOUT, core.connect(account, options))
        .await
        .unwrap_or_else(|_| {
            Err(CoreError::new(
                ErrorCode::Timeout,
                "a demo bot could not log in in time",
            ))
        })
}

/// Drains the core's events and answers every new incoming message to `echo`. Replies go
/// through a bounded queue to a separate task, so sending (which itself emits events) never
/// waits on this loop.
async fn serve_echo(
    core: Core,
    mut events: mpsc::Receiver<Event>,
    echo: AccountId,
    echo_jid: String,
) {
    let (replies, mut queue) = mpsc::channel::<(String, String)>(ECHO_QUEUE);
    let sender = tokio::spawn(async move {
        while let Some((to, body)) = queue.recv().await {
            if let Err(e) = core.send_message(echo, &to, &body).await {
                eprintln!("charla-sandbox: echo could not answer {to}: {e}");
            }
        }
    });
    while let Some(event) = events.recv().await {
        match event {
            // The core stores each message once (deduplicated by its ids) and announces only
            // new rows, so a message resent or delivered twice is answered once.
            Event::MessageAdded {
                account, message, ..
            } if account == echo => {
                let Some(reply) =
                    echo_reply(&echo_jid, message.direction, &message.peer, &message.body)
                else {
                    continue;
                };
                if replies.try_send((message.peer, reply)).is_err() {
                    eprintln!("charla-sandbox: echo is flooded; a message goes unanswered");
                }
            }
            Event::Error { error, .. } => eprintln!("charla-sandbox: demo bot: {error}"),
            _ => {}
        }
    }
    drop(replies);
    let _ = sender.await;
}

/// What echo answers to a stored message, if anything: only messages others sent it, and
/// never a text that already starts with [`ECHO_PREFIX`], so two echoing parties cannot keep
/// each other busy.
fn echo_reply(own_jid: &str, direction: Direction, peer: &str, body: &str) -> Option<String> {
    let answer = direction == Direction::In
        && peer != own_jid
        && !body.trim().is_empty()
        && !body.starts_with(ECHO_PREFIX);
    answer.then(|| format!("{ECHO_PREFIX}{body}"))
}

/// The contents of `sandbox.json`: where a ready sandbox listens and which demo accounts it
/// offers. The format is documented on the `charla-sandbox` binary.
#[derive(Debug, Serialize)]
pub struct SandboxInfo {
    /// The XMPP domain.
    pub domain: String,
    /// The address to connect to (the domain does not resolve).
    pub host: String,
    /// The client port with STARTTLS.
    pub port: u16,
    /// The client port with direct TLS (XEP-0368).
    pub direct_tls_port: u16,
    /// Absolute path of the CA certificate (PEM) to trust, and nothing else.
    pub ca_file: PathBuf,
    /// The demo accounts, in [`DEMO_USERS`] order.
    pub accounts: Vec<DemoAccount>,
}

/// One demo account in [`SandboxInfo`].
#[derive(Debug, Serialize)]
pub struct DemoAccount {
    /// Its bare JID.
    pub jid: String,
    /// Its password.
    pub password: String,
}

impl SandboxInfo {
    /// Describes a running sandbox server.
    pub fn for_server(server: &TestServer) -> SandboxInfo {
        SandboxInfo {
            domain: server.domain().to_owned(),
            host: server.host().to_owned(),
            port: server.c2s_port(),
            direct_tls_port: server.direct_tls_port(),
            ca_file: server.ca_cert_pem().to_owned(),
            accounts: DEMO_USERS
                .iter()
                .map(|user| DemoAccount {
                    jid: server.jid(user),
                    password: (*user).to_owned(),
                })
                .collect(),
        }
    }

    /// Writes `<dir>/sandbox.json` atomically: a temporary file in the same directory, synced,
    /// then renamed over it, so a reader sees either no file or a complete one.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join(SANDBOX_FILE);
        let temp = dir.join(format!(".{SANDBOX_FILE}.{}.tmp", std::process::id()));
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        let written = std::fs::File::create(&temp).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        });
        match written.and_then(|()| std::fs::rename(&temp, &path)) {
            Ok(()) => Ok(path),
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Removes `<dir>/sandbox.json` (the sandbox is stopping, or not ready yet).
    pub fn remove(dir: &Path) {
        let _ = std::fs::remove_file(dir.join(SANDBOX_FILE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: &str = "echo@charla.test";

    #[test]
    fn echo_answers_others_with_the_prefix() {
        assert_eq!(
            echo_reply(ECHO, Direction::In, "alice@charla.test", "hola"),
            Some("Echo: hola".to_owned())
        );
    }

    #[test]
    fn echo_never_answers_itself_or_an_echo() {
        assert_eq!(
            echo_reply(ECHO, Direction::Out, "alice@charla.test", "hola"),
            None
        );
        assert_eq!(echo_reply(ECHO, Direction::In, ECHO, "hola"), None);
        assert_eq!(
            echo_reply(ECHO, Direction::In, "bob@charla.test", "Echo: hola"),
            None
        );
        assert_eq!(
            echo_reply(ECHO, Direction::In, "bob@charla.test", "  "),
            None
        );
    }

    #[test]
    fn sandbox_file_is_written_atomically_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let info = SandboxInfo {
            domain: "charla.test".into(),
            host: "127.0.0.1".into(),
            port: 15222,
            direct_tls_port: 15223,
            ca_file: dir.path().join("ca.pem"),
            accounts: vec![DemoAccount {
                jid: "alice@charla.test".into(),
                password: "alice".into(),
            }],
        };
        let path = info.write(dir.path()).expect("write");
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(value["port"], 15222);
        assert_eq!(value["accounts"][0]["password"], "alice");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [SANDBOX_FILE], "no temporary file is left");
        SandboxInfo::remove(dir.path());
        assert!(!path.exists());
    }

    #[test]
    fn bot_password_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let first = bot_password(dir.path()).expect("new");
        assert_eq!(first.len(), 32);
        assert_eq!(bot_password(dir.path()).expect("again"), first);
        let mode = std::fs::metadata(dir.path().join(BOT_SECRET_FILE))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
}
