//! `charla-bench-server`: the server side of the end-to-end benchmarks (`bench/run.mjs`).
//!
//! Starts a Prosody on free ports where alice has `--contacts` contacts (see
//! `charla_tests::bench`), writes `<dir>/sandbox.json` (the format `charla-sandbox`
//! documents, offering alice) so the app and `charla-cli` can log in, and then plays alice's
//! contacts on command. Commands arrive on standard input, one per line; everything it has to
//! say goes to standard output as one JSON object per line with an `event` field and Unix
//! millisecond timestamps (`*_ms`).
//!
//! - `watch`: bob logs in and sends presence; from then on every presence of alice's
//!   resources is reported as `{"event":"presence","type":"available"|…,"at_ms":…}`.
//! - `flood N TAG`: carol (online, available) sends N chat messages to alice at once (receipt requested,
//!   markable), ids `TAG-0`…; reports `flood_sent`, then `flood_done` with the number of
//!   receipts and displayed markers for them and when the last receipt arrived (gives up
//!   after 300 s).
//! - `raw-flood N TAG`: the same flood to alice logged in through a raw stream that answers
//!   each message with a receipt at once: how long the server itself takes (on a fresh server
//!   where alice's Charla is not online).
//! - `soak SECONDS`: carol sends alice a message every 0.5 s and changes her presence every
//!   2 s, for SECONDS; reports `soak_done`.
//! - `raw-presence`: alice logs in with a raw stream and sends her initial presence
//!   (`raw_presence_sent`), then goes unavailable a second later: how long the server itself
//!   takes to bring her presence to bob, with no Charla involved.
//! - `seed DB PEER N`: adds N messages with PEER to alice's conversation in the Charla
//!   database file DB (created if missing), as a long history to open; reports `seeded`.
//! - `room-setup NAME OCCUPANTS LINES`: erin creates the room `NAME@conference.<domain>`
//!   (persistent, archived), says LINES lines in it (500 per write, waiting for each write's
//!   last reflection: every line is archived), then OCCUPANTS − 1 more occupants enter it
//!   (played by one component, see `charla_tests::bench::Crowd`); reports `room_ready` with
//!   the room's address, `archive_ms` and `ms` (setup time, not a measurement).
//! - `room-flood NAME N TAG`: erin (in the room since its `room-setup`) says N lines in it at
//!   once (ids and origin-ids `TAG-0`…); reports `room_flood_sent`, then `room_flood_done`
//!   when the room reflected the last (`reflected_ms`: the server's share).
//! - `raw-room-join NAME`: alice through a raw stream (alice's Charla must be offline) enters
//!   the room (no history) and asks its archive for the last 50 lines, then leaves: the
//!   server's share of a join. Reports `raw_room_joined` with `start_ms` (join sent),
//!   `in_ms` (the room said she is in) and `caught_up_ms` (the archive's answer ended).
//! - `rooms-bookmarked N [LINES]`: erin creates N rooms `bm01`… with LINES lines each
//!   (default 10) and stays in them; then alice (a raw login, no presence) publishes her
//!   XEP-0402 bookmarks of them with autojoin (nick `alice`), so that her client joins them at
//!   launch; reports `rooms_bookmarked` with the rooms and `ms`.
//! - `quit` (or end of input, or SIGTERM): stops Prosody and deletes the directory.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use charla_core::{MessageState, Store};
use charla_tests::bench::{self, BenchServer, Crowd, Peer, FLOODER, ROOM_OWNER, USER, WATCHER};
use charla_tests::demo::{DemoAccount, SandboxInfo};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

const USAGE: &str = "usage: charla-bench-server --dir DIR [--contacts N]";
/// How long a flood may take before its report says it timed out.
const FLOOD_TIMEOUT: Duration = Duration::from_secs(300);

fn emit(value: serde_json::Value) {
    println!("{value}");
}

/// What carol (the flooder) is asked to do.
enum FloodCommand {
    Flood { count: usize, tag: String },
    Soak { seconds: u64 },
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut dir: Option<PathBuf> = None;
    let mut contacts = 50usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--dir", Some(v)) => dir = Some(PathBuf::from(v)),
            ("--contacts", Some(v)) => match v.parse() {
                Ok(n) if n >= 2 => contacts = n,
                _ => {
                    eprintln!("--contacts needs a number >= 2\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("charla-bench-server: creating {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let server = match BenchServer::start(&dir.join("server"), contacts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("charla-bench-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let s = server.server();
    let mut info = SandboxInfo::for_server(s);
    info.accounts = vec![DemoAccount {
        jid: s.jid(USER),
        password: USER.to_owned(),
    }];
    if let Err(e) = info.write(&dir) {
        eprintln!("charla-bench-server: writing sandbox.json: {e}");
        return ExitCode::FAILURE;
    }
    emit(json!({
        "event": "ready",
        "contacts": contacts,
        "port": s.c2s_port(),
        "ca_file": s.ca_cert_pem(),
        "setup_ms": started.elapsed().as_millis() as u64,
    }));

    let (flood_tx, flood_rx) = mpsc::channel(4);
    let mut flood_rx = Some(flood_rx);
    // The peers' tasks, stopped before Prosody so that none reports the closed streams.
    let mut tasks = Vec::new();
    // erin, who creates the rooms and speaks in them, and the rooms' crowd: made when first
    // needed.
    let mut owner: Option<Peer> = None;
    let mut crowd: Option<Crowd> = None;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        eprintln!("charla-bench-server: cannot handle SIGTERM");
        return ExitCode::FAILURE;
    };
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = term.recv() => break,
        };
        let Ok(Some(line)) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["watch"] => {
                let mut peer = Peer::login(s, WATCHER).await;
                peer.send("<presence/>").await;
                emit(json!({ "event": "watching", "at_ms": bench::now_ms() }));
                let prefix = format!("{}/", s.jid(USER));
                tasks.push(tokio::spawn(async move {
                    loop {
                        let (tags, at) = peer.next_tags().await;
                        for tag in tags.iter().filter(|t| t.starts_with("<presence")) {
                            if bench::attr(tag, "from").is_some_and(|f| f.starts_with(&prefix)) {
                                let kind = bench::attr(tag, "type").unwrap_or("available");
                                emit(json!({ "event": "presence", "type": kind, "at_ms": at }));
                            }
                        }
                    }
                }));
            }
            [kind @ ("flood" | "raw-flood"), count, tag] => {
                match (count.parse(), flood_rx.take()) {
                    (Ok(count), rx) => {
                        if *kind == "raw-flood" {
                            let mut alice = Peer::login(s, USER).await;
                            alice.send("<presence/>").await;
                            tasks.push(tokio::spawn(raw_receiver(alice, format!("{tag}-"))));
                        }
                        if let Some(rx) = rx {
                            tasks.push(tokio::spawn(flooder(
                                online_flooder(s).await,
                                s.jid(USER),
                                rx,
                            )));
                        }
                        let tag = (*tag).to_owned();
                        let _ = flood_tx.send(FloodCommand::Flood { count, tag }).await;
                    }
                    (Err(_), rx) => {
                        flood_rx = rx;
                        eprintln!("usage: {kind} N TAG");
                    }
                }
            }
            ["soak", seconds] => match (seconds.parse(), flood_rx.take()) {
                (Ok(seconds), rx) => {
                    if let Some(rx) = rx {
                        tasks.push(tokio::spawn(flooder(
                            online_flooder(s).await,
                            s.jid(USER),
                            rx,
                        )));
                    }
                    let _ = flood_tx.send(FloodCommand::Soak { seconds }).await;
                }
                (Err(_), rx) => {
                    flood_rx = rx;
                    eprintln!("usage: soak SECONDS");
                }
            },
            ["raw-presence", rest @ ..] if rest.is_empty() || rest == ["caps"] => {
                // alice through a raw stream: login, then her initial presence, timed until
                // bob sees it (the server's share of "launch to online"); with `caps`, the
                // presence carries Charla's own caps element.
                let mut peer = Peer::login(s, USER).await;
                let presence = if rest.is_empty() {
                    "<presence/>".to_owned()
                } else {
                    format!(
                        "<presence>{}</presence>",
                        String::from(&charla_core::caps_element())
                    )
                };
                let sent_ms = bench::now_ms();
                peer.send(&presence).await;
                emit(json!({ "event": "raw_presence_sent", "at_ms": sent_ms }));
                tokio::time::sleep(Duration::from_secs(1)).await;
                peer.send("<presence type='unavailable'/>").await;
            }
            ["seed", db, peer, count] => match count.parse() {
                Ok(count) => {
                    let started = Instant::now();
                    match seed(db, &s.jid(USER), peer, count) {
                        Ok(()) => emit(json!({
                            "event": "seeded",
                            "count": count,
                            "ms": started.elapsed().as_millis() as u64,
                        })),
                        Err(e) => emit(json!({ "event": "error", "error": e })),
                    }
                }
                Err(_) => eprintln!("usage: seed DB PEER N"),
            },
            ["room-setup", name, occupants, count] => {
                match (occupants.parse::<usize>(), count.parse::<usize>()) {
                    (Ok(occupants @ 1..), Ok(count)) => {
                        let started = Instant::now();
                        let room = bench::room_jid(s, name);
                        let erin = room_owner(&mut owner, s).await;
                        erin.create_room(&room, ROOM_OWNER).await;
                        if count > 0 {
                            erin.say_lines(&room, &format!("{name}-history"), count, 500)
                                .await;
                        }
                        let archive_ms = started.elapsed().as_millis() as u64;
                        if occupants > 1 {
                            if crowd.is_none() {
                                crowd = Some(server.crowd().await);
                            }
                            if let Some(crowd) = crowd.as_mut() {
                                crowd.enter(&room, occupants - 1).await;
                            }
                        }
                        emit(json!({
                            "event": "room_ready", "room": room, "occupants": occupants,
                            "lines": count, "archive_ms": archive_ms,
                            "ms": started.elapsed().as_millis() as u64,
                        }));
                    }
                    _ => eprintln!("usage: room-setup NAME OCCUPANTS(>=1) LINES"),
                }
            }
            ["room-flood", name, count, tag] => match count.parse::<usize>() {
                Ok(count @ 1..) => {
                    let room = bench::room_jid(s, name);
                    let erin = room_owner(&mut owner, s).await;
                    let stanzas = bench::room_lines(&room, tag, 0..count, count);
                    let start_ms = bench::now_ms();
                    erin.send(&stanzas).await;
                    emit(json!({
                        "event": "room_flood_sent", "tag": tag, "count": count,
                        "start_ms": start_ms, "end_ms": bench::now_ms(),
                    }));
                    let last = format!("{tag}-{}", count - 1);
                    let reflected_ms = erin
                        .wait_tag(|t| bench::attr(t, "id") == Some(last.as_str()))
                        .await;
                    emit(json!({
                        "event": "room_flood_done", "tag": tag, "reflected_ms": reflected_ms,
                    }));
                }
                _ => eprintln!("usage: room-flood NAME N TAG"),
            },
            ["raw-room-join", name] => {
                let room = bench::room_jid(s, name);
                let mut alice = Peer::login(s, USER).await;
                let start_ms = bench::now_ms();
                let in_ms = alice.enter_room(&room, USER).await;
                let caught_up_ms = alice.room_last_lines(&room, 50).await;
                alice
                    .send(&format!(
                        "<presence to='{room}/{USER}' type='unavailable'/>"
                    ))
                    .await;
                alice
                    .wait_tag(|t| {
                        t.starts_with("<presence") && bench::attr(t, "type") == Some("unavailable")
                    })
                    .await;
                emit(json!({
                    "event": "raw_room_joined", "room": room, "start_ms": start_ms,
                    "in_ms": in_ms, "caught_up_ms": caught_up_ms,
                }));
            }
            ["rooms-bookmarked", count, rest @ ..] if rest.len() <= 1 => {
                let lines = rest.first().map_or(Ok(10), |l| l.parse::<usize>());
                match (count.parse::<usize>(), lines) {
                    (Ok(count), Ok(lines)) => {
                        let started = Instant::now();
                        let erin = room_owner(&mut owner, s).await;
                        let rooms: Vec<String> = (1..=count)
                            .map(|i| bench::room_jid(s, &format!("bm{i:02}")))
                            .collect();
                        for room in &rooms {
                            erin.create_room(room, ROOM_OWNER).await;
                            if lines > 0 {
                                erin.say_lines(room, "history", lines, 0).await;
                            }
                        }
                        match publish_bookmarks(s, &rooms).await {
                            Ok(()) => emit(json!({
                                "event": "rooms_bookmarked", "rooms": rooms,
                                "ms": started.elapsed().as_millis() as u64,
                            })),
                            Err(e) => emit(json!({ "event": "error", "error": e })),
                        }
                    }
                    _ => eprintln!("usage: rooms-bookmarked N [LINES]"),
                }
            }
            ["quit"] => break,
            [] => {}
            _ => eprintln!("unknown command: {line}"),
        }
    }
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    drop(server);
    ExitCode::SUCCESS
}

/// Adds `count` sent messages from the account `own` to `peer` in the database `db`.
fn seed(db: &str, own: &str, peer: &str, count: usize) -> Result<(), String> {
    let mut store = Store::open(db).map_err(|e| e.to_string())?;
    let account = store.upsert_account(own).map_err(|e| e.to_string())?;
    for i in 0..count {
        let body = format!("Seeded message {i}: a line of an old conversation, to scroll back.");
        let message = store
            .insert_outgoing(account, peer, &body, &format!("seed-{i}"), None)
            .map_err(|e| e.to_string())?;
        store
            .set_state(message.id, MessageState::Sent, None)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// erin, logged in once (no presence: she is only in rooms).
async fn room_owner<'a>(
    slot: &'a mut Option<Peer>,
    server: &charla_tests::TestServer,
) -> &'a mut Peer {
    if slot.is_none() {
        *slot = Some(Peer::login(server, ROOM_OWNER).await);
    }
    slot.as_mut().expect("logged in")
}

/// alice (a raw login) publishes an autojoin bookmark of each room; returns once the server
/// took every one.
async fn publish_bookmarks(
    server: &charla_tests::TestServer,
    rooms: &[String],
) -> Result<(), String> {
    let mut alice = Peer::login(server, USER).await;
    let mut stanzas = String::new();
    for (i, room) in rooms.iter().enumerate() {
        let name = format!("Bookmarked room {}", i + 1);
        stanzas.push_str(&bench::bookmark_publish(
            &format!("bookmark-{i}"),
            room,
            &name,
            USER,
        ));
    }
    alice.send(&stanzas).await;
    let mut answered = 0;
    while answered < rooms.len() {
        let (tags, _) = alice.next_tags().await;
        for tag in tags.iter().filter(|t| t.starts_with("<iq")) {
            if !bench::attr(tag, "id").is_some_and(|id| id.starts_with("bookmark-")) {
                continue;
            }
            if bench::attr(tag, "type") != Some("result") {
                return Err(format!("a bookmark was refused: {tag}"));
            }
            answered += 1;
        }
    }
    Ok(())
}

/// Carol logged in and available (so alice's receipts and markers reach her at once).
async fn online_flooder(server: &charla_tests::TestServer) -> Peer {
    let mut peer = Peer::login(server, FLOODER).await;
    peer.send("<presence/>").await;
    peer
}

/// alice through a raw stream (logged in, available), answering each message whose id starts
/// with `prefix` with a receipt as soon as it arrives, one write per chunk read: the server's
/// share of a flood, with no Charla involved.
async fn raw_receiver(mut alice: Peer, prefix: String) {
    loop {
        let (tags, _) = alice.next_tags().await;
        let mut receipts = String::new();
        for tag in tags.iter().filter(|t| t.starts_with("<message")) {
            let (Some(id), Some(from)) = (bench::attr(tag, "id"), bench::attr(tag, "from")) else {
                continue;
            };
            if id.starts_with(&prefix) {
                receipts.push_str(&format!(
                    "<message to='{from}' id='r-{id}'><received xmlns='urn:xmpp:receipts' id='{id}'/></message>"
                ));
            }
        }
        if !receipts.is_empty() {
            alice.send(&receipts).await;
        }
    }
}

/// Carol: runs floods and soaks one after another.
async fn flooder(mut peer: Peer, to: String, mut commands: mpsc::Receiver<FloodCommand>) {
    while let Some(command) = commands.recv().await {
        match command {
            FloodCommand::Flood { count, tag } => flood(&mut peer, &to, count, &tag).await,
            FloodCommand::Soak { seconds } => soak(&mut peer, &to, seconds).await,
        }
    }
}

/// Sends `count` messages at once, then counts alice's receipts and markers for them.
async fn flood(peer: &mut Peer, to: &str, count: usize, tag: &str) {
    let stanzas = bench::flood_stanzas(to, tag, count);
    let start_ms = bench::now_ms();
    peer.send(&stanzas).await;
    emit(json!({
        "event": "flood_sent", "tag": tag, "count": count,
        "start_ms": start_ms, "end_ms": bench::now_ms(),
    }));
    let prefix = format!("{tag}-");
    let mut receipts = HashSet::new();
    let mut displayed = HashSet::new();
    let mut last_receipt_ms = None;
    let deadline = tokio::time::Instant::now() + FLOOD_TIMEOUT;
    let mut timed_out = false;
    while receipts.len() < count {
        let Ok((tags, at)) = tokio::time::timeout_at(deadline, peer.next_tags()).await else {
            timed_out = true;
            break;
        };
        for t in &tags {
            let Some(id) = bench::attr(t, "id").filter(|id| id.starts_with(&prefix)) else {
                continue;
            };
            if t.starts_with("<received") && receipts.insert(id.to_owned()) {
                last_receipt_ms = Some(at);
            } else if t.starts_with("<displayed") {
                displayed.insert(id.to_owned());
            }
        }
    }
    emit(json!({
        "event": "flood_done", "tag": tag, "receipts": receipts.len(),
        "displayed": displayed.len(), "last_receipt_ms": last_receipt_ms,
        "timed_out": timed_out,
    }));
}

/// A message every 0.5 s and a presence change every 2 s, for `seconds`.
async fn soak(peer: &mut Peer, to: &str, seconds: u64) {
    let end = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let (mut messages, mut presences) = (0usize, 0usize);
    while tokio::time::Instant::now() < end {
        tick.tick().await;
        peer.send(&bench::flood_stanzas(to, &format!("soak{messages}"), 1))
            .await;
        messages += 1;
        if messages % 4 == 0 {
            let show = ["away", "dnd", "xa", "chat"][presences % 4];
            peer.send(&format!(
                "<presence><show>{show}</show><status>Soak {presences}</status></presence>"
            ))
            .await;
            presences += 1;
        }
        // Take what arrived meanwhile (receipts) so nothing piles up.
        let _ = tokio::time::timeout(Duration::from_millis(1), peer.next_tags()).await;
    }
    emit(json!({ "event": "soak_done", "messages": messages, "presences": presences }));
}
