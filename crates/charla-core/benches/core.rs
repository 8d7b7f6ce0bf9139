//! Headless core benchmarks (issue 6): ingest, history paging and roster/presence load, on a
//! file-backed WAL database. Run with `cargo bench -p charla-core --bench core -- [--runs N]`.
//!
//! Each benchmark runs `--runs` times (default 5) on fresh data and prints min / median / max,
//! then one `BENCH {json}` line per figure that `bench/run.mjs` collects into the table. These
//! are measurements, never pass/fail tests.
//!
//! The session's own message classifier (`chat::classify`) and presence reducer
//! (`presence::PresenceMap`) are crate-private, so the ingest and presence benchmarks read
//! their stanzas through tokio-xmpp's XML stream, as the session's connection does, reduce them
//! with the same `xmpp-parsers` calls the session makes and then use the public store API
//! (`Store::insert_incoming_batch`, `Store::insert_incoming`, `Store::insert_archive_page`, `Core::history`,
//! `Store::replace_roster`, `Store::contacts`) exactly as the session and shell do.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use charla_core::{Bounded, Core, Direction, MessageId, RosterEntry, Show, Store, Subscription};
use charla_store::{AccountId, InsertOutcome, NewMessage};
use futures::StreamExt;
use tokio_xmpp::xmlstream::{initiate_stream, StreamHeader, Timeouts, XmppStreamElement};
use tokio_xmpp::Stanza;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Type as PresenceType;

const OWN: &str = "alice@charla.test";
/// Messages per ingest run.
const INGEST_MESSAGES: usize = 20_000;
/// Messages per ingest burst: what the session reads ready from the stream and commits in one
/// transaction during a flood.
const BURST: usize = 100;
/// Every n-th ingested stanza repeats an earlier one (same stanza-id): a duplicate.
const DUPLICATE_EVERY: usize = 10;
/// Messages in the conversation the history benchmark pages through.
const HISTORY_MESSAGES: usize = 100_000;
/// The page size the UI asks for.
const PAGE: u32 = 50;
const ROSTER_CONTACTS: usize = 5_000;
const PRESENCE_UPDATES: usize = 20_000;

/// Min, median and max of a set of runs.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (sorted[0], median, sorted[n - 1])
}

/// Prints one figure for humans and as a `BENCH` JSON line for `bench/run.mjs`.
fn report(name: &str, unit: &str, values: &[f64]) {
    let (min, median, max) = spread(values);
    println!(
        "{name:<48} {median:>12.3} {unit:<6} (min {min:.3}, max {max:.3}, {} runs)",
        values.len()
    );
    let runs: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
    println!(
        "BENCH {{\"name\":\"{name}\",\"unit\":\"{unit}\",\"runs\":[{}]}}",
        runs.join(",")
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A fresh file-backed store (WAL) in its own temporary directory.
fn fresh_store() -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sqlite3");
    let store = Store::open(&path).expect("open store");
    (dir, path, store)
}

/// A stream from our server as the session's connection reads it after negotiation: the stream
/// header, then `stanzas` (which inherit its default namespace, `jabber:client`).
fn stream_bytes(stanzas: &[String]) -> Vec<u8> {
    let mut bytes = format!(
        "<?xml version='1.0'?><stream:stream xmlns='{}' xmlns:stream='{}' \
         from='charla.test' id='bench' version='1.0'>",
        ns::JABBER_CLIENT,
        ns::STREAM
    )
    .into_bytes();
    for stanza in stanzas {
        bytes.extend_from_slice(stanza.as_bytes());
    }
    bytes
}

/// Whether the bytes pass Charla's bounds on depth, attributes and size first, as on every
/// connection (`Off` only to measure what the bounds cost).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bounds {
    On,
    Off,
}

/// Reads `stream` (from [`stream_bytes`]) with tokio-xmpp's XML stream, the parser and stanza
/// types the session's connection uses (one parser for the whole stream, each stanza built
/// straight from its events), and hands each stanza to `each`; returns how many there were.
fn read_stream(
    runtime: &tokio::runtime::Runtime,
    stream: &[u8],
    bounds: Bounds,
    mut each: impl FnMut(Stanza),
) -> usize {
    runtime.block_on(async {
        let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match bounds {
            Bounds::On => Box::new(Bounded::new(stream)),
            Bounds::Off => Box::new(stream),
        };
        let io = tokio::io::join(tokio::io::BufReader::new(reader), tokio::io::sink());
        let mut stanzas = initiate_stream(
            io,
            ns::JABBER_CLIENT,
            StreamHeader::default(),
            Timeouts::default(),
        )
        .await
        .expect("stream header")
        .skip_features::<XmppStreamElement>();
        let mut read = 0;
        while let Some(element) = stanzas.next().await {
            match element {
                Ok(XmppStreamElement::Stanza(stanza)) => {
                    each(stanza);
                    read += 1;
                }
                // The end of the bytes ends the stream without its closing tag.
                _ => break,
            }
        }
        read
    })
}

/// The runtime [`read_stream`] runs on: one thread, as the benchmarks are single-threaded.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

/// The stanza a peer's client sends and our server delivers: body, origin-id, receipt request,
/// markable, chat state, and the server's stanza-id stamped with our bare JID.
fn chat_stanza(i: usize, peer: &str) -> String {
    format!(
        "<message from='{peer}/phone' to='{OWN}/charla' type='chat' \
         id='m{i}' xml:lang='en'><body>Message number {i}: the quick brown fox jumps over the \
         lazy dog.</body><origin-id xmlns='urn:xmpp:sid:0' id='o-{i}'/>\
         <request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>\
         <active xmlns='http://jabber.org/protocol/chatstates'/>\
         <stanza-id xmlns='urn:xmpp:sid:0' by='{OWN}' id='s-{i}'/></message>"
    )
}

/// Reduces one delivered message to the row the store keeps, with the same xmpp-parsers calls
/// as the session's classifier (sender, body, origin-id and our server's stanza-id read from
/// the payloads' attributes, receipt request, markable).
fn reduce(msg: Message, own: &BareJid, account: AccountId) -> Option<NewMessage> {
    let from = msg.from.clone()?;
    let body = msg
        .bodies
        .get("")
        .or_else(|| msg.bodies.values().next())?
        .clone();
    let own_text = own.as_str();
    let mut new = NewMessage {
        reply: None,
        unstyled: false,
        account,
        peer: from.to_bare().to_string(),
        direction: Direction::In,
        sender: from.to_string(),
        body,
        server_time: None,
        origin_id: None,
        stanza_id: None,
        stanza_id_by: None,
        wire_id: msg.id.map(|id| id.0),
        markable: false,
        receipt_owed: false,
    };
    for payload in &msg.payloads {
        if payload.is("origin-id", ns::SID) {
            new.origin_id = payload.attr("id").map(str::to_owned);
        } else if payload.is("stanza-id", ns::SID) && payload.attr("by") == Some(own_text) {
            new.stanza_id = payload.attr("id").map(str::to_owned);
            new.stanza_id_by = Some(own_text.to_owned());
        } else if payload.is("markable", ns::DISPLAYED_MARKERS) {
            new.markable = true;
        } else if payload.is("request", ns::RECEIPTS) {
            new.receipt_owed = true;
        }
    }
    Some(new)
}

/// The row of a chat message read from the stream.
fn row(stanza: Stanza, own: &BareJid, account: AccountId) -> NewMessage {
    match stanza {
        Stanza::Message(msg) => reduce(msg, own, account).expect("chat message"),
        other => panic!("not a message: {other:?}"),
    }
}

/// Stanzas for one ingest run: 10 peers, every tenth stanza a duplicate of the one before.
fn ingest_input() -> Vec<String> {
    (0..INGEST_MESSAGES)
        .map(|i| {
            let n = if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 {
                i - 1
            } else {
                i
            };
            chat_stanza(n, &format!("peer{}@charla.test", n % 10))
        })
        .collect()
}

/// Ingest: read + deduplicate + commit in bursts of [`BURST`] messages, one transaction each
/// (the live session commits what the stream has ready together), then one transaction per
/// message (messages arriving one at a time), then the parts alone.
fn bench_ingest(runs: usize) {
    let own = BareJid::new(OWN).expect("jid");
    let runtime = runtime();
    let stream = stream_bytes(&ingest_input());
    let mut batched = Vec::new();
    let mut per_message = Vec::new();
    let mut parse_only = Vec::new();
    let mut parse_unbounded = Vec::new();
    let mut commit_batched = Vec::new();
    let mut commit_only = Vec::new();
    for _ in 0..runs {
        let (_dir, _path, mut store) = fresh_store();
        let account = store.upsert_account(OWN).expect("account");
        let started = Instant::now();
        let mut inserted = 0usize;
        let mut burst = Vec::with_capacity(BURST);
        let mut commit = |burst: &mut Vec<NewMessage>| {
            let outcomes = store.insert_incoming_batch(burst).expect("insert burst");
            inserted += outcomes
                .iter()
                .filter(|o| matches!(o, InsertOutcome::Inserted(_)))
                .count();
            burst.clear();
        };
        let read = read_stream(&runtime, &stream, Bounds::On, |stanza| {
            burst.push(row(stanza, &own, account));
            if burst.len() == BURST {
                commit(&mut burst);
            }
        });
        commit(&mut burst);
        let elapsed = started.elapsed();
        assert_eq!(read, INGEST_MESSAGES);
        assert_eq!(
            inserted,
            INGEST_MESSAGES - INGEST_MESSAGES / DUPLICATE_EVERY
        );
        batched.push(read as f64 / elapsed.as_secs_f64());

        let (_dir, _path, mut store) = fresh_store();
        let account = store.upsert_account(OWN).expect("account");
        let started = Instant::now();
        let read = read_stream(&runtime, &stream, Bounds::On, |stanza| {
            black_box(
                store
                    .insert_incoming(&row(stanza, &own, account))
                    .expect("insert"),
            );
        });
        assert_eq!(read, INGEST_MESSAGES);
        per_message.push(read as f64 / started.elapsed().as_secs_f64());

        let started = Instant::now();
        let read = read_stream(&runtime, &stream, Bounds::On, |stanza| {
            black_box(row(stanza, &own, AccountId(1)));
        });
        assert_eq!(read, INGEST_MESSAGES);
        parse_only.push(read as f64 / started.elapsed().as_secs_f64());

        let started = Instant::now();
        let read = read_stream(&runtime, &stream, Bounds::Off, |stanza| {
            black_box(row(stanza, &own, AccountId(1)));
        });
        assert_eq!(read, INGEST_MESSAGES);
        parse_unbounded.push(read as f64 / started.elapsed().as_secs_f64());

        let (_dir, _path, mut store) = fresh_store();
        let account = store.upsert_account(OWN).expect("account");
        let mut rows = Vec::with_capacity(INGEST_MESSAGES);
        let read = read_stream(&runtime, &stream, Bounds::On, |stanza| {
            rows.push(row(stanza, &own, account))
        });
        assert_eq!(read, INGEST_MESSAGES);
        let started = Instant::now();
        for chunk in rows.chunks(BURST) {
            black_box(store.insert_incoming_batch(chunk).expect("insert burst"));
        }
        commit_batched.push(rows.len() as f64 / started.elapsed().as_secs_f64());

        let (_dir, _path, mut store) = fresh_store();
        store.upsert_account(OWN).expect("account");
        let started = Instant::now();
        for row in &rows {
            black_box(store.insert_incoming(row).expect("insert"));
        }
        commit_only.push(rows.len() as f64 / started.elapsed().as_secs_f64());
    }
    report(
        "ingest: parse+dedup+commit, 1 tx/burst of 100",
        "msg/s",
        &batched,
    );
    report(
        "ingest: parse+dedup+commit, 1 tx/message",
        "msg/s",
        &per_message,
    );
    report(
        "ingest: read only (bounds, tokio-xmpp's stream)",
        "msg/s",
        &parse_only,
    );
    report(
        "ingest: read only, without the bounds",
        "msg/s",
        &parse_unbounded,
    );
    report(
        "ingest: dedup+commit only, 1 tx/burst of 100",
        "msg/s",
        &commit_batched,
    );
    report(
        "ingest: dedup+commit only, 1 tx/message",
        "msg/s",
        &commit_only,
    );
}

/// History: a 100,000-message conversation; the newest page on a freshly opened store (what a
/// chat view does on open) and warm, then paging back through all of it with `Core::history`.
fn bench_history(runs: usize) {
    let peer = "bob@charla.test";
    let (_dir, path, mut store) = fresh_store();
    let account = store.upsert_account(OWN).expect("account");
    let rows: Vec<NewMessage> = (0..HISTORY_MESSAGES)
        .map(|i| NewMessage {
            reply: None,
            unstyled: false,
            account,
            peer: peer.to_owned(),
            direction: if i % 2 == 0 {
                Direction::In
            } else {
                Direction::Out
            },
            sender: if i % 2 == 0 {
                format!("{peer}/phone")
            } else {
                OWN.to_owned()
            },
            body: format!("History message {i}, long enough to look like a real line of chat."),
            server_time: Some(1_700_000_000_000 + i as i64 * 1000),
            origin_id: Some(format!("o-{i}")),
            stanza_id: Some(format!("s-{i}")),
            stanza_id_by: Some(OWN.to_owned()),
            wire_id: Some(format!("m{i}")),
            markable: false,
            receipt_owed: false,
        })
        .collect();
    for (page, chunk) in rows.chunks(1000).enumerate() {
        store
            .insert_archive_page(account, chunk, &format!("page-{page}"), None)
            .expect("fill");
    }
    drop(store);

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut page_back = Vec::new();
    let mut all_pages = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let store = Store::open(&path).expect("reopen");
        let (core, _events) = Core::from_store(store);
        let first = core.history(account, peer, None, PAGE).expect("page");
        cold.push(ms(started.elapsed()));
        assert_eq!(first.len(), PAGE as usize);

        let started = Instant::now();
        let first = core.history(account, peer, None, PAGE).expect("page");
        warm.push(ms(started.elapsed()));

        let mut before: Option<MessageId> = first.last().map(|m| m.id);
        let mut pages = 1usize;
        let started = Instant::now();
        while let Some(id) = before {
            let page = core.history(account, peer, Some(id), PAGE).expect("page");
            before = page.last().map(|m| m.id);
            if !page.is_empty() {
                pages += 1;
            }
        }
        let elapsed = started.elapsed();
        assert_eq!(pages, HISTORY_MESSAGES / PAGE as usize);
        all_pages.push(ms(elapsed));
        page_back.push(ms(elapsed) / (pages - 1) as f64);
    }
    report("history: first page, store just opened", "ms", &cold);
    report("history: first page, warm", "ms", &warm);
    report("history: one page back (mean over 2,000)", "ms", &page_back);
    report(
        "history: page back through 100,000 messages",
        "ms",
        &all_pages,
    );
}

/// A presence stanza from contact `c`'s resource `r`.
fn presence_stanza(i: usize, contacts: usize) -> String {
    let c = i % contacts;
    let r = i % 3;
    match i % 7 {
        6 => {
            format!("<presence from='c{c}@charla.test/r{r}' to='{OWN}/charla' type='unavailable'/>")
        }
        k => format!(
            "<presence from='c{c}@charla.test/r{r}' to='{OWN}/charla'>\
             <show>{}</show><status>Status {i}</status><priority>{r}</priority>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org' \
             ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
            ["away", "xa", "dnd", "chat", "away", "dnd"][k]
        ),
    }
}

/// Roster: store and load a 5,000-contact roster; then a 20,000-update presence flood read
/// from tokio-xmpp's stream and reduced to each contact's best resource (priority, then show).
fn bench_roster(runs: usize) {
    let entries: Vec<RosterEntry> = (0..ROSTER_CONTACTS)
        .map(|i| RosterEntry {
            jid: format!("c{i}@charla.test"),
            name: Some(format!("Contact {i}")),
            subscription: Subscription::Both,
            ask_pending: false,
            groups: vec![format!("Group {}", i % 20)],
        })
        .collect();
    let presences: Vec<String> = (0..PRESENCE_UPDATES)
        .map(|i| presence_stanza(i, ROSTER_CONTACTS))
        .collect();
    let stream = stream_bytes(&presences);
    let runtime = runtime();
    let mut store_ms = Vec::new();
    let mut load_ms = Vec::new();
    let mut flood_ms = Vec::new();
    for _ in 0..runs {
        let (_dir, path, mut store) = fresh_store();
        let account = store.upsert_account(OWN).expect("account");
        let started = Instant::now();
        store
            .replace_roster(account, &entries, Some("v1"))
            .expect("roster");
        store_ms.push(ms(started.elapsed()));
        drop(store);

        let started = Instant::now();
        let store = Store::open(&path).expect("reopen");
        let (core, _events) = Core::from_store(store);
        let loaded = core.contacts(account).expect("contacts");
        load_ms.push(ms(started.elapsed()));
        assert_eq!(loaded.len(), ROSTER_CONTACTS);

        let started = Instant::now();
        let mut resources: HashMap<BareJid, HashMap<String, (i8, Show)>> = HashMap::new();
        let mut changed = 0usize;
        let read = read_stream(&runtime, &stream, Bounds::On, |stanza| {
            let Stanza::Presence(p) = stanza else {
                panic!("not a presence: {stanza:?}");
            };
            let Some(Ok(from)) = p.from.map(Jid::try_into_full) else {
                return;
            };
            let bare = from.to_bare();
            let contact = resources.entry(bare).or_default();
            let before = best(contact);
            if p.type_ == PresenceType::Unavailable {
                contact.remove(from.resource().as_str());
            } else {
                let show = match p.show {
                    None => Show::Available,
                    Some(xmpp_parsers::presence::Show::Chat) => Show::Chat,
                    Some(xmpp_parsers::presence::Show::Away) => Show::Away,
                    Some(xmpp_parsers::presence::Show::Xa) => Show::Xa,
                    Some(xmpp_parsers::presence::Show::Dnd) => Show::Dnd,
                };
                contact.insert(from.resource().as_str().to_owned(), (p.priority.0, show));
            }
            if best(contact) != before {
                changed += 1;
            }
        });
        assert_eq!(read, PRESENCE_UPDATES);
        flood_ms.push(ms(started.elapsed()));
        black_box(changed);
    }
    report("roster: store 5,000 contacts", "ms", &store_ms);
    report("roster: open store + load 5,000 contacts", "ms", &load_ms);
    report("presence: 20,000 updates parsed + reduced", "ms", &flood_ms);
}

/// The best resource of one contact: highest priority, then most available show.
fn best(resources: &HashMap<String, (i8, Show)>) -> Option<(i8, Show)> {
    let rank = |s: Show| match s {
        Show::Chat => 0,
        Show::Available => 1,
        Show::Away => 2,
        Show::Xa => 3,
        Show::Dnd => 4,
        Show::Offline => 5,
    };
    resources
        .values()
        .copied()
        .max_by_key(|(priority, show)| (*priority, std::cmp::Reverse(rank(*show))))
}

fn main() {
    let mut runs = 5usize;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--only" => only = args.next(),
            // `cargo bench` passes --bench; libtest's other flags mean nothing here.
            _ => {}
        }
    }
    let runs = runs.max(1);
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    println!("core benchmarks, {runs} runs each (median, min, max)");
    if wanted("ingest") {
        bench_ingest(runs);
    }
    if wanted("history") {
        bench_history(runs);
    }
    if wanted("roster") {
        bench_roster(runs);
    }
    println!(
        "{:<48} {:>12}",
        "search: FTS5 over 1,000,000 messages", "n/a (no search yet)"
    );
    println!("BENCH {{\"name\":\"search: FTS5 over 1,000,000 messages\",\"unit\":\"ms\",\"runs\":[],\"note\":\"n/a (no search yet)\"}}");
}
