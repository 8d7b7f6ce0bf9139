//! The chaos test: alice and bob, each a separate Charla process (this binary run again as a
//! child, with the headless core on its own SQLite file), send each other 1,000 numbered
//! messages through loopback proxies in front of a real Prosody, while the test, at random
//! moments, resets their connections, stalls a link past the keepalive, restarts Prosody
//! and SIGKILLs a client and starts it again on the same database (checking
//! `PRAGMA integrity_check` first). At the end both databases must hold every message exactly
//! once, in each sender's order, with every outgoing message delivered; the counts of lost,
//! duplicated, misordered and undelivered messages are printed and must all be 0.
//!
//! A room (XEP-0045, with its archive) runs through the same faults: alice, bob and a third
//! occupant, carol (a third process behind a third proxy), each say numbered lines in it once
//! all three were in it. At the end every database holds every occupant's lines exactly once,
//! in each author's order, and every own line was reflected by the room (`sent`); those counts
//! must be 0 too.
//!
//! The schedule comes from a seed, printed at the start; run it again with
//! `CHARLA_CHAOS_SEED=<seed> cargo test -p charla-tests --test chaos`. `CHARLA_CHAOS_MESSAGES`
//! changes the number of messages per direction (default 1,000); each occupant says a quarter
//! of that in the room.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use charla_core::{Core, Event, Keepalive};
use charla_tests::{Proxy, TestServer};

const CHILD_FLAG: &str = "--chaos-child";
const DEFAULT_MESSAGES: usize = 1_000;
/// Time between two messages of one sender.
const PACE: Duration = Duration::from_millis(12);
/// How long everything may take to settle after the last fault.
const SETTLE: Duration = Duration::from_secs(90);
const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// The room all three are in.
const ROOM: &str = "chaos@conference.charla.test";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        // The test runner asks what is in here: one test.
        println!("chaos: test");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if args.get(1).map(String::as_str) == Some(CHILD_FLAG) {
        runtime.block_on(child(ChildArgs::parse(&args[2..])));
    } else {
        runtime.block_on(chaos());
    }
}

// ---- the client process ---------------------------------------------------------------------

/// What a client process is told on its command line.
struct ChildArgs {
    user: String,
    peer: String,
    db: PathBuf,
    host: String,
    port: u16,
    ca: PathBuf,
    /// One-to-one messages to send to `peer`.
    messages: usize,
    /// Lines to say in [`ROOM`].
    lines: usize,
}

impl ChildArgs {
    fn to_args(&self) -> Vec<String> {
        vec![
            CHILD_FLAG.into(),
            self.user.clone(),
            self.peer.clone(),
            self.db.display().to_string(),
            self.host.clone(),
            self.port.to_string(),
            self.ca.display().to_string(),
            self.messages.to_string(),
            self.lines.to_string(),
        ]
    }

    fn parse(a: &[String]) -> ChildArgs {
        ChildArgs {
            user: a[0].clone(),
            peer: a[1].clone(),
            db: PathBuf::from(&a[2]),
            host: a[3].clone(),
            port: a[4].parse().expect("port"),
            ca: PathBuf::from(&a[5]),
            messages: a[6].parse().expect("count"),
            lines: a[7].parse().expect("lines"),
        }
    }
}

fn body(user: &str, i: usize) -> String {
    format!("{user} {i:04}")
}

fn line(user: &str, i: usize) -> String {
    format!("{user} r{i:04}")
}

/// A client: logs in (retrying while the server is away), sends every numbered message its
/// database does not hold yet, one per [`PACE`], and keeps running until its stdin closes.
async fn child(a: ChildArgs) {
    let (core, mut events) = Core::open(&a.db).expect("open store");
    let jid = format!("{}@charla.test", a.user);
    let account = core.add_account(&jid).expect("account");
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Debug));
    let joined_mark = joined_mark(&a.db, &a.user);
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            match e {
                Event::Error { error, .. } => {
                    log::warn!("event: {:?}: {}", error.code, error.message)
                }
                Event::Connection { state, .. } => log::info!("event: {state:?}"),
                Event::RoomJoined { .. } => {
                    // Once in the room, for good: the others may start.
                    let _ = std::fs::write(&joined_mark, b"");
                }
                _ => {}
            }
        }
    });
    let ca = std::fs::read(&a.ca).expect("ca");
    let mut opts = options_for(&a, &ca);
    opts.keepalive = Keepalive {
        idle: Duration::from_secs(1),
        answer: Duration::from_secs(1),
    };
    let login = {
        let core = core.clone();
        tokio::spawn(async move {
            while let Err(e) = core.connect(account, opts.clone()).await {
                log::warn!("login: {}", e.message);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let room = tokio::spawn(say_in_room(
        core.clone(),
        account,
        a.user.clone(),
        a.lines,
        a.db.clone(),
    ));
    let peer = format!("{}@charla.test", a.peer);
    let mut mine = HashSet::new();
    let mut before = None;
    loop {
        let page = core.history(account, &peer, before, 500).expect("history");
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        mine.extend(page.into_iter().map(|m| m.body));
    }
    for i in 0..a.messages {
        let text = body(&a.user, i);
        if !mine.contains(&text) {
            core.send_message(account, &peer, &text)
                .await
                .expect("queued");
            tokio::time::sleep(PACE).await;
        }
    }
    // Run until the test closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {
            line.clear();
        }
    })
    .await
    .expect("stdin");
    login.abort();
    room.abort();
    core.disconnect(account).await;
}

/// The file a client writes once it was first in [`ROOM`], beside its database.
fn joined_mark(db: &Path, user: &str) -> PathBuf {
    db.with_file_name(format!("{user}.joined"))
}

/// Joins [`ROOM`] as `user` (retrying until the session takes it; the core then joins it again
/// at every login) and, once all three occupants were in it (the lines of a room before one
/// first joined are its history, of which a first join brings only the last ones), says every
/// numbered line the database does not hold yet, one per [`PACE`].
async fn say_in_room(
    core: Core,
    account: charla_core::AccountId,
    user: String,
    lines: usize,
    db: PathBuf,
) {
    while core.join_room(account, ROOM, &user, None).await.is_err() {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The session keeps the room when it handles the join.
    while !core
        .rooms(account)
        .expect("rooms")
        .iter()
        .any(|r| r.jid == ROOM)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while !USERS.iter().all(|u| joined_mark(&db, u).exists()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut said = HashSet::new();
    let mut before = None;
    loop {
        let page = core
            .room_history(account, ROOM, before, 500)
            .expect("room history");
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        said.extend(page.into_iter().map(|m| m.body));
    }
    for i in 0..lines {
        let text = line(&user, i);
        if !said.contains(&text) {
            core.send_room_message(account, ROOM, &text)
                .await
                .expect("room line queued");
            tokio::time::sleep(PACE).await;
        }
    }
}

/// Writes the client's log lines, with the time, to stderr (the client's log file).
struct Logger;

static LOGGER: Logger = Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target().starts_with("charla")
            || m.target().starts_with("tokio_xmpp")
            || m.level() <= log::Level::Info
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            eprintln!(
                "{}.{:03} {} {} {}: {}",
                t.as_secs() % 1000,
                t.subsec_millis(),
                who(),
                r.level(),
                r.target(),
                r.args()
            );
        }
    }

    fn flush(&self) {}
}

/// The user this client process plays.
fn who() -> String {
    std::env::args().nth(2).unwrap_or_default()
}

fn options_for(a: &ChildArgs, ca: &[u8]) -> charla_core::ConnectOptions {
    charla_core::ConnectOptions {
        password: format!("{}-pw", a.user),
        server: Some(charla_core::ServerAddress {
            host: a.host.clone(),
            port: a.port,
            direct_tls: false,
        }),
        trust: charla_core::TlsTrust::from_ca_pem(ca).expect("ca"),
        show: charla_core::Show::Available,
        status: None,
        keepalive: Keepalive::default(),
    }
}

// ---- the test -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Reset the connections of one client (0, 1, 2) or of all ([`ALL`]).
    Reset(usize),
    /// Stall every link for this long (past the keepalive's 2 s).
    Stall(Duration),
    /// Restart Prosody: every session is lost.
    RestartServer,
    /// SIGKILL a client and start it again on its database.
    Kill(usize),
}

/// [`Fault::Reset`] of every client.
const ALL: usize = USERS.len();

struct Client {
    args: ChildArgs,
    process: Child,
    log: PathBuf,
}

impl Client {
    fn spawn(args: ChildArgs, log: PathBuf) -> Client {
        let process = spawn_child(&args, &log);
        Client { args, process, log }
    }

    fn kill_and_restart(&mut self, rng: &mut fastrand::Rng) {
        self.process.kill().expect("SIGKILL");
        self.process.wait().expect("reap");
        let check = integrity_check(&self.args.db);
        assert_eq!(check, "ok", "{}'s database after SIGKILL", self.args.user);
        std::thread::sleep(Duration::from_millis(rng.u64(100..800)));
        self.process = spawn_child(&self.args, &self.log);
    }
}

fn spawn_child(args: &ChildArgs, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("child log");
    Command::new(std::env::current_exe().expect("own path"))
        .args(args.to_args())
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn client")
}

/// Waits for `process` to exit; kills it after `limit` and returns `false`.
fn wait_at_most(process: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = process.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = process.kill();
    let _ = process.wait();
    false
}

fn integrity_check(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open for the check");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

/// One direction's figures, from the receiver's and the sender's databases.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Figures {
    lost: usize,
    duplicated: usize,
    misordered: usize,
    undelivered: usize,
}

impl Figures {
    fn add(self, o: Figures) -> Figures {
        Figures {
            lost: self.lost + o.lost,
            duplicated: self.duplicated + o.duplicated,
            misordered: self.misordered + o.misordered,
            undelivered: self.undelivered + o.undelivered,
        }
    }

    fn clean(&self) -> bool {
        *self == Figures::default()
    }
}

/// Reads `sender`'s messages as stored by the receiver (`received`, in row order) and by the
/// sender (`sent`) and counts what is wrong.
fn figures(sender: &str, sender_db: &Path, receiver_db: &Path, n: usize) -> Figures {
    let numbers = |db: &Path, direction: &str| -> Vec<(usize, String)> {
        let conn = rusqlite::Connection::open(db).expect("open");
        let mut stmt = conn
            .prepare("SELECT body, state FROM messages WHERE direction = ?1 ORDER BY id")
            .expect("query");
        let rows = stmt
            .query_map([direction], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .expect("rows");
        rows.filter_map(Result::ok)
            .filter_map(|(body, state)| {
                let (who, i) = body.split_once(' ')?;
                let i = i.parse().ok()?;
                (who == sender).then_some((i, state))
            })
            .collect()
    };
    let received = numbers(receiver_db, "in");
    let sent = numbers(sender_db, "out");
    let mut seen = vec![0usize; n];
    let mut misordered = 0;
    let mut highest = None;
    for (i, _) in &received {
        if *i < n {
            seen[*i] += 1;
        }
        if highest.is_some_and(|h| *i < h) {
            misordered += 1;
        }
        highest = highest.max(Some(*i));
    }
    let mut sent_count = vec![0usize; n];
    for (i, _) in &sent {
        if *i < n {
            sent_count[*i] += 1;
        }
    }
    Figures {
        lost: seen.iter().filter(|&&c| c == 0).count(),
        duplicated: seen.iter().map(|&c| c.saturating_sub(1)).sum::<usize>()
            + sent_count
                .iter()
                .map(|&c| c.saturating_sub(1))
                .sum::<usize>(),
        misordered,
        undelivered: n.saturating_sub(
            sent.iter()
                .filter(|(_, s)| s == "delivered" || s == "displayed")
                .count(),
        ),
    }
}

/// The room's figures: in each client's database (`(user, database)`), every occupant's lines
/// (lost, duplicated or out of their author's order there), and the client's own lines the room
/// has not reflected (undelivered).
fn room_figures(clients: &[(&str, &Path)], n: usize) -> Figures {
    let mut total = Figures::default();
    for (user, db) in clients {
        let conn = rusqlite::Connection::open(db).expect("open");
        let mut stmt = conn
            .prepare("SELECT body, direction, state FROM room_messages ORDER BY id")
            .expect("query");
        let rows: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .filter_map(Result::ok)
            .collect();
        for author in USERS {
            let mut seen = vec![0usize; n];
            let mut highest = None;
            let mut figures = Figures::default();
            for (body, direction, state) in &rows {
                let Some((who, i)) = body.split_once(" r") else {
                    continue;
                };
                let Ok(i) = i.parse::<usize>() else { continue };
                if who != author {
                    continue;
                }
                if i < n {
                    seen[i] += 1;
                }
                if highest.is_some_and(|h| i < h) {
                    figures.misordered += 1;
                }
                highest = highest.max(Some(i));
                if author == *user && (direction != "out" || state != "sent") {
                    figures.undelivered += 1;
                }
            }
            figures.lost = seen.iter().filter(|&&c| c == 0).count();
            figures.duplicated = seen.iter().map(|&c| c.saturating_sub(1)).sum();
            total = total.add(figures);
        }
    }
    total
}

async fn chaos() {
    let seed: u64 = std::env::var("CHARLA_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let n: usize = std::env::var("CHARLA_CHAOS_MESSAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MESSAGES);
    println!("chaos: seed {seed} (replay with CHARLA_CHAOS_SEED={seed}), {n} messages each way");
    let mut rng = fastrand::Rng::with_seed(seed);

    let lines = n / 4;
    let mut server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("carol", "carol-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("prosody");
    let target = format!("{}:{}", server.host(), server.c2s_port())
        .parse()
        .expect("address");
    let proxies = [
        Proxy::start(target).await.expect("proxy"),
        Proxy::start(target).await.expect("proxy"),
        Proxy::start(target).await.expect("proxy"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_cert_pem_bytes()).expect("ca");
    // alice and bob write to each other and in the room; carol only in the room.
    let mut clients: Vec<Client> = (0..USERS.len())
        .map(|k| {
            let args = ChildArgs {
                user: USERS[k].into(),
                peer: USERS[if k == 0 { 1 } else { 0 }].into(),
                db: dir.path().join(format!("{}.sqlite3", USERS[k])),
                host: server.host().into(),
                port: proxies[k].port(),
                ca: ca.clone(),
                messages: if k < 2 { n } else { 0 },
                lines,
            };
            Client::spawn(args, dir.path().join(format!("{}.log", USERS[k])))
        })
        .collect();

    // Every kind of fault at least once, in a seeded order, at seeded moments.
    let mut faults = vec![
        Fault::Reset(ALL),
        Fault::Reset(0),
        Fault::Reset(1),
        Fault::Reset(2),
        Fault::Stall(Duration::from_millis(rng.u64(3_000..4_500))),
        Fault::Stall(Duration::from_millis(rng.u64(3_000..4_500))),
        Fault::RestartServer,
        Fault::Kill(0),
        Fault::Kill(1),
        Fault::Kill(2),
    ];
    rng.shuffle(&mut faults);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(rng.u64(300..1_000))).await;
    for fault in &faults {
        println!(
            "chaos: {:>6.1} s  {fault:?}",
            started.elapsed().as_secs_f64()
        );
        match *fault {
            Fault::Reset(ALL) => {
                for proxy in &proxies {
                    proxy.kill();
                }
            }
            Fault::Reset(k) => {
                proxies[k].kill();
            }
            Fault::Stall(span) => {
                proxies.iter().for_each(Proxy::pause);
                tokio::time::sleep(span).await;
                proxies.iter().for_each(Proxy::resume);
            }
            Fault::RestartServer => server.restart().await.expect("restart prosody"),
            Fault::Kill(k) => clients[k].kill_and_restart(&mut rng),
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(300..1_500))).await;
    }
    let faults_done = started.elapsed();

    // Let everything settle: every message stored on both sides and delivered.
    let deadline = Instant::now() + SETTLE;
    let (total, room) = loop {
        let a_to_b = figures("alice", &clients[0].args.db, &clients[1].args.db, n);
        let b_to_a = figures("bob", &clients[1].args.db, &clients[0].args.db, n);
        let dbs: Vec<(&str, &Path)> = clients
            .iter()
            .map(|c| (c.args.user.as_str(), c.args.db.as_path()))
            .collect();
        let room = room_figures(&dbs, lines);
        let total = a_to_b.add(b_to_a);
        if (total.clean() && room.clean()) || Instant::now() > deadline {
            break (total, room);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let settled = started.elapsed();
    for c in &mut clients {
        drop(c.process.stdin.take());
    }
    for c in &mut clients {
        let exited = wait_at_most(&mut c.process, Duration::from_secs(30));
        assert!(exited, "{} did not go offline and exit", c.args.user);
        assert_eq!(integrity_check(&c.args.db), "ok");
    }
    let count = |f: fn(&Fault) -> bool| faults.iter().filter(|x| f(x)).count();
    println!(
        "chaos: {} messages ({n} each way); faults: {} connection resets, {} stalls, \
         {} server restarts, {} client SIGKILLs; faults over at {:.1} s, settled at {:.1} s",
        2 * n,
        count(|f| matches!(f, Fault::Reset(_))),
        count(|f| matches!(f, Fault::Stall(_))),
        count(|f| matches!(f, Fault::RestartServer)),
        count(|f| matches!(f, Fault::Kill(_))),
        faults_done.as_secs_f64(),
        settled.as_secs_f64(),
    );
    println!(
        "chaos: lost {}, duplicated {}, misordered {}, not delivered {} (seed {seed})",
        total.lost, total.duplicated, total.misordered, total.undelivered
    );
    println!(
        "chaos: room {ROOM}, {lines} lines from each of {} occupants: lost {}, duplicated {}, \
         misordered {}, not reflected {} (seed {seed})",
        USERS.len(),
        room.lost,
        room.duplicated,
        room.misordered,
        room.undelivered
    );
    if !total.clean() || !room.clean() {
        for c in &clients {
            let log = std::fs::read_to_string(&c.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("--- {} log (last lines, newest first) ---", c.args.user);
            for line in tail {
                eprintln!("{line}");
            }
        }
        let _ = std::io::stderr().flush();
        let keep = dir.keep();
        panic!(
            "chaos test failed with seed {seed}; databases and logs kept in {}",
            keep.display()
        );
    }
}
