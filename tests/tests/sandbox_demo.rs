//! The `charla-sandbox` binary, black-box: it starts, announces itself in `sandbox.json`, its
//! demo contacts are alive for a real client (Charla's core logged in as alice), and it stops
//! cleanly on SIGTERM, taking Prosody with it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use charla_core::{
    AccountId, ConnectOptions, ContactPresence, Core, Direction, Event, Keepalive, RosterEntry,
    ServerAddress, Show, TlsTrust,
};
use serde_json::Value;
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(20);
/// How long the sandbox may take to stop after SIGTERM (Prosody alone takes about 2 s).
const STOP_WAIT: Duration = Duration::from_secs(8);
const POLL: Duration = Duration::from_millis(20);
/// How many times to start the sandbox if another process takes one of its ports first.
const START_ATTEMPTS: usize = 3;

/// A running `charla-sandbox` process; killed if the test fails before stopping it.
struct Sandbox {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Prosody has SIGTERM as its parent-death signal, so it follows.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three distinct ports that were free a moment ago.
fn free_ports() -> [u16; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("probe socket"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().expect("probe port").port();
    [port(0), port(1), port(2)]
}

impl Sandbox {
    /// Starts the sandbox on free ports in `dir` and waits for its `sandbox.json`.
    fn start(dir: &Path) -> (Sandbox, Value) {
        std::fs::create_dir_all(dir).expect("sandbox directory");
        let mut last_output = String::new();
        for _ in 0..START_ATTEMPTS {
            let [port, tls_port, http_port] = free_ports();
            let output = dir.join("sandbox.out");
            let log = std::fs::File::create(&output).expect("output file");
            let child = Command::new(env!("CARGO_BIN_EXE_charla-sandbox"))
                .args(["--port", &port.to_string()])
                .args(["--tls-port", &tls_port.to_string()])
                .args(["--http-port", &http_port.to_string()])
                .arg("--dir")
                .arg(dir)
                .env_remove("CHARLA_SANDBOX_PORT")
                .env_remove("CHARLA_SANDBOX_DIR")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("output handle"))
                .stderr(log)
                .spawn()
                .expect("start charla-sandbox");
            let mut sandbox = Sandbox {
                child,
                dir: dir.to_owned(),
                port,
            };
            let deadline = Instant::now() + WAIT;
            while Instant::now() < deadline {
                if let Ok(text) = std::fs::read_to_string(dir.join("sandbox.json")) {
                    let info = serde_json::from_str(&text).expect("sandbox.json is JSON");
                    return (sandbox, info);
                }
                if sandbox.exited().is_some() {
                    break;
                }
                std::thread::sleep(POLL);
            }
            last_output = std::fs::read_to_string(&output).unwrap_or_default();
            if !last_output.contains("in use by another process") {
                break;
            }
        }
        panic!("the sandbox did not become ready:\n{last_output}");
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("sandbox status")
    }

    /// Sends SIGTERM and waits for the process to exit, returning how it exited and when.
    fn terminate(&mut self) -> (ExitStatus, Duration) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        let started = Instant::now();
        // SAFETY: kill(2) has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM");
        while started.elapsed() < STOP_WAIT {
            if let Some(status) = self.exited() {
                return (status, started.elapsed());
            }
            std::thread::sleep(POLL);
        }
        panic!("the sandbox was still running {STOP_WAIT:?} after SIGTERM");
    }
}

/// Whether a process with this id exists (a zombie counts as gone).
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits for the first event matching `pred`, skipping others.
async fn wait_for(
    events: &mut Receiver<Event>,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("event stream closed while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn contact<'a>(roster: &'a [RosterEntry], jid: &str) -> &'a RosterEntry {
    roster
        .iter()
        .find(|c| c.jid == jid)
        .unwrap_or_else(|| panic!("{jid} is not in alice's roster: {roster:?}"))
}

/// Checks the announced sandbox and returns alice's password and the CA file.
fn check_info(info: &Value, sandbox: &Sandbox) -> (String, PathBuf) {
    assert_eq!(info["domain"], "charla.test");
    assert_eq!(info["host"], "127.0.0.1");
    assert_eq!(info["port"], sandbox.port);
    assert!(info["direct_tls_port"].as_u64().is_some_and(|p| p > 0));
    let ca_file = PathBuf::from(info["ca_file"].as_str().expect("ca_file"));
    assert!(ca_file.is_absolute(), "{}", ca_file.display());
    assert!(ca_file.starts_with(std::path::absolute(&sandbox.dir).expect("absolute dir")));
    let accounts: Vec<(&str, &str)> = info["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["jid"].as_str().expect("jid"),
                a["password"].as_str().expect("password"),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        [
            ("alice@charla.test", "alice"),
            ("bob@charla.test", "bob"),
            ("carol@charla.test", "carol"),
            ("dave@charla.test", "dave"),
        ]
    );
    (accounts[0].1.to_owned(), ca_file)
}

/// Logs alice in from a fresh database, as the desktop app would from `sandbox.json`.
async fn alice(
    dir: &Path,
    info: &Value,
    password: String,
    ca_file: &Path,
) -> (Core, Receiver<Event>, AccountId) {
    let (core, events) = Core::open(&dir.join("alice.sqlite3")).expect("open store");
    let account = core.add_account("alice@charla.test").expect("account");
    let options = ConnectOptions {
        password,
        server: Some(ServerAddress {
            host: info["host"].as_str().expect("host").to_owned(),
            port: u16::try_from(info["port"].as_u64().expect("port")).expect("port"),
            direct_tls: false,
        }),
        trust: TlsTrust::from_ca_pem(&std::fs::read(ca_file).expect("read CA")).expect("CA"),
        show: Show::Available,
        status: None,
        keepalive: Keepalive::default(),
    };
    core.connect(account, options).await.expect("alice logs in");
    (core, events, account)
}

#[tokio::test]
async fn sandbox_has_live_demo_contacts_and_stops_cleanly() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("sandbox");
    let started = Instant::now();
    let (mut sandbox, info) = Sandbox::start(&dir);
    let ready_in = started.elapsed();
    let (password, ca_file) = check_info(&info, &sandbox);

    let (core, mut events, account) = alice(temp.path(), &info, password, &ca_file).await;

    // The roster: the demo contacts with their groups, and Echo.
    let roster = match wait_for(
        &mut events,
        "the roster",
        |e| matches!(e, Event::RosterLoaded { contacts, .. } if !contacts.is_empty()),
    )
    .await
    {
        Event::RosterLoaded { contacts, .. } => contacts,
        _ => unreachable!("wait_for returned a non-matching event"),
    };
    let jids: Vec<&str> = roster.iter().map(|c| c.jid.as_str()).collect();
    assert_eq!(
        jids,
        [
            "bob@charla.test",
            "carol@charla.test",
            "dave@charla.test",
            "echo@charla.test"
        ]
    );
    assert_eq!(contact(&roster, "bob@charla.test").groups, ["Family"]);
    assert_eq!(contact(&roster, "carol@charla.test").groups, ["Work"]);
    assert_eq!(contact(&roster, "dave@charla.test").groups, ["Work"]);
    let echo = contact(&roster, "echo@charla.test");
    assert_eq!(echo.name.as_deref(), Some("Echo"));
    assert_eq!(echo.groups, ["Charla"]);

    // Presence: echo and carol are online, bob and dave are not.
    let mut presences: HashMap<String, Option<ContactPresence>> = HashMap::new();
    let wanted = |p: &HashMap<String, Option<ContactPresence>>, jid: &str, show: Show, status| {
        p.get(jid)
            .and_then(Option::as_ref)
            .is_some_and(|p| p.show == show && p.status.as_deref() == Some(status))
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(wanted(
        &presences,
        "echo@charla.test",
        Show::Available,
        "I answer every message",
    ) && wanted(&presences, "carol@charla.test", Show::Away, "At the office"))
    {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Event::PresenceChanged { jid, presence, .. })) => {
                presences.insert(jid, presence);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("echo and carol did not come online: {presences:?}"),
        }
    }
    for offline in ["bob@charla.test", "dave@charla.test"] {
        assert!(
            presences.get(offline).is_none_or(Option::is_none),
            "{offline} should be offline: {presences:?}"
        );
    }

    // Echo answers, exactly once.
    let sent_at = Instant::now();
    core.send_message(account, "echo@charla.test", "hola")
        .await
        .expect("send");
    wait_for(&mut events, "echo's answer", |e| {
        matches!(e, Event::MessageAdded { message, .. }
            if message.direction == Direction::In && message.peer == "echo@charla.test")
    })
    .await;
    let answered_in = sent_at.elapsed();
    // Echo handles messages in order and sends its answers in order: a second answer to
    // "hola" would come before the answer to the next message. Then our own stream settles.
    core.send_message(account, "echo@charla.test", "adios")
        .await
        .expect("send");
    wait_for(&mut events, "echo's second answer", |e| {
        matches!(e, Event::MessageAdded { message, .. }
            if message.direction == Direction::In && message.body == "Echo: adios")
    })
    .await;
    core.settle(account).await.expect("settled");
    let history = core
        .history(account, "echo@charla.test", None, 10)
        .expect("history");
    let texts: Vec<(Direction, &str)> = history
        .iter()
        .rev()
        .map(|m| (m.direction, m.body.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (Direction::Out, "hola"),
            (Direction::In, "Echo: hola"),
            (Direction::Out, "adios"),
            (Direction::In, "Echo: adios")
        ]
    );
    core.disconnect(account).await;

    // SIGTERM: the sandbox stops Prosody, removes sandbox.json and exits successfully.
    let prosody: u32 = std::fs::read_to_string(dir.join("prosody.pid"))
        .expect("Prosody's pidfile")
        .trim()
        .parse()
        .expect("Prosody's pid");
    assert!(process_alive(prosody));
    let (status, stopped_in) = sandbox.terminate();
    assert!(status.success(), "the sandbox exited with {status}");
    let output = std::fs::read_to_string(dir.join("sandbox.out")).expect("sandbox output");
    assert!(output.contains("Stopped."), "no clean stop:\n{output}");
    assert!(!process_alive(prosody), "Prosody outlived the sandbox");
    assert!(!dir.join("sandbox.json").exists(), "sandbox.json was left");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, sandbox.port)).is_err(),
        "the client port still answers"
    );
    eprintln!(
        "sandbox ready in {ready_in:?}, echo answered in {answered_in:?}, \
         stopped in {stopped_in:?}"
    );
}
