//! Fuzzing every parser of remote input (issue 14). cargo-fuzz needs a
//! nightly toolchain, so the targets run on the pinned stable one through
//! proptest: each case takes a seed from the committed corpus
//! (`fuzz/corpus/<target>/`) and applies random byte-level and structural
//! mutations (flips, cuts, splices, repeats, nesting), then feeds the result
//! to the same code the session runs on a stanza. A panic anywhere is a
//! failure that proptest shrinks to a small input and prints.
//!
//! `make test` runs every target for [`cases`] cases (`CHARLA_FUZZ_CASES`,
//! default 2,000 each); a longer hunt: `CHARLA_FUZZ_CASES=200000 cargo
//! test -p charla-core --lib fuzz -- --nocapture` (it prints the cases run).

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::roster::Roster;

use crate::bounds::Bounded;

/// Cases per target.
fn cases() -> u32 {
    std::env::var("CHARLA_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// The committed seeds of `target`.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("seed"))
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// One mutation of an input.
#[derive(Debug, Clone)]
enum Mutation {
    /// Sets the byte at this fraction of the length.
    Set(f64, u8),
    /// Inserts bytes there.
    Insert(f64, Vec<u8>),
    /// Removes this many bytes there.
    Cut(f64, usize),
    /// Copies a span of the input to another place.
    Splice(f64, f64, usize),
    /// Repeats a span many times (deep nesting, long lists).
    Repeat(f64, usize, usize),
    /// Inserts an XML token that parsers handle specially.
    Token(f64, usize),
}

/// Tokens worth trying anywhere: stanza parts, escapes, odd JIDs.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "'",
    "\"",
    "&amp;",
    "&#0;",
    "&#x10FFFF;",
    "&unknown;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "<?x?>",
    "xmlns='jabber:client'",
    "xmlns='urn:xmpp:mam:2'",
    "from='alice@example.org'",
    "from='example.org'",
    "from='@/'",
    "id=''",
    "type='error'",
    "type='groupchat'",
    "<body>",
    "</body>",
    "<forwarded xmlns='urn:xmpp:forward:0'>",
    "<message xmlns='jabber:client'>",
    "\u{202e}",
    "\u{0}",
    "%00",
    "%",
    "?",
    ";",
    "=",
    "\u{FFFF}",
    "ａｌｉｃｅ",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Mutation::Set(a, b)),
        (at.clone(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        (at.clone(), 1..64usize).prop_map(|(a, n)| Mutation::Cut(a, n)),
        (at.clone(), at.clone(), 1..256usize).prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
        (at.clone(), 1..32usize, 2..2_000usize).prop_map(|(a, n, k)| Mutation::Repeat(a, n, k)),
        (at, 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Token(a, t)),
    ]
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let pos = |data: &Vec<u8>, f: f64| ((data.len() as f64) * f) as usize;
    for m in mutations {
        match m {
            Mutation::Set(f, b) => {
                let i = pos(&data, *f);
                if i < data.len() {
                    data[i] = *b;
                }
            }
            Mutation::Insert(f, bytes) => {
                let i = pos(&data, *f);
                data.splice(i..i, bytes.iter().copied());
            }
            Mutation::Cut(f, n) => {
                let i = pos(&data, *f);
                let end = (i + n).min(data.len());
                data.drain(i..end);
            }
            Mutation::Splice(from, to, n) => {
                let i = pos(&data, *from);
                let span: Vec<u8> = data[i..(i + n).min(data.len())].to_vec();
                let j = pos(&data, *to);
                data.splice(j..j, span);
            }
            Mutation::Repeat(f, n, times) => {
                let i = pos(&data, *f);
                let span: Vec<u8> = data[i..(i + n).min(data.len())].to_vec();
                if !span.is_empty() && data.len() + span.len() * times < 4 << 20 {
                    let copies: Vec<u8> = span.repeat(*times);
                    data.splice(i..i, copies);
                }
            }
            Mutation::Token(f, t) => {
                let i = pos(&data, *f);
                data.splice(i..i, TOKENS[*t].bytes());
            }
        }
    }
    data
}

/// Runs `target` on mutated seeds of `corpus`; returns the cases run.
fn fuzz(name: &str, corpus_name: &str, target: impl Fn(&[u8])) -> u32 {
    let seeds = corpus(corpus_name);
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 0..6));
    // Every seed as it is, first.
    for seed in &seeds {
        target(seed);
    }
    runner
        .run(&strategy, |(seed, mutations)| {
            target(&apply(seeds[seed].clone(), &mutations));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("fuzz target {name}: {e}"));
    eprintln!("fuzz target {name}: {cases} cases, no crash");
    cases
}

/// The bytes as the session's stream would read them: through the bounds
/// ([`Bounded`]), then parsed into an element (a stanza over the bounds is
/// replaced there, as in the session; this parses what comes out).
fn element(data: &[u8]) -> Option<Element> {
    let header =
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    let mut bounded = Bounded::new(());
    bounded.feed(header).ok()?;
    bounded.feed(data).ok()?;
    let passed = bounded.passed();
    let stanza = passed.get(header.len()..)?;
    let wrapped = [b"<w xmlns='jabber:client'>", stanza, b"</w>"].concat();
    let outer = Element::from_reader(wrapped.as_slice()).ok()?;
    outer.children().next().cloned()
}

fn own() -> BareJid {
    BareJid::new("alice@example.org").expect("jid")
}

/// Every classifier the session runs on a `<message/>`.
fn message_target(data: &[u8]) {
    let Some(el) = element(data) else { return };
    let Ok(msg) = Message::try_from(el) else {
        return;
    };
    let own = own();
    let _ = crate::chat::classify(&msg, &own);
    let _ = crate::chat::classify_sent(&msg, &own);
    let _ = crate::carbons::unwrap(&msg, &own);
    if crate::mam::is_result(&msg) {
        let _ = crate::mam::accept(&msg, &own, Some("q1"));
    }
    let _ = crate::receipts::acks(&msg);
    let _ = crate::receipts::wants_receipt(&msg);
    let _ = crate::receipts::markable(&msg);
    let _ = crate::chatstates::of(&msg);
    let _ = crate::avatar::metadata_event(&msg);
    let _ = crate::muc::classify(&msg);
    let _ = crate::muc::accept_archived(&msg);
    let _ = crate::muc::private_line(&msg);
    let _ = crate::bookmarks::notification(&msg, &own);
    let _ = crate::invite::parse(&msg);
    let _ = crate::mds::notification(&msg, &own);
    let _ = crate::chat::act_of(&msg);
    let _ = crate::retraction::parse(&msg);
    let _ = crate::reply::parse(&msg, &crate::chat::best_body(&msg).unwrap_or_default());
}

/// Every classifier the session runs on a `<presence/>`.
fn presence_target(data: &[u8]) {
    let Some(el) = element(data) else { return };
    let Ok(p) = Presence::try_from(el) else {
        return;
    };
    let own = own();
    let _ = crate::presence::parse(&p);
    let _ = crate::idle::parse(&p, 1_700_000_000_000);
    let _ = crate::subscription::request(&p, &own);
    let _ = crate::avatar::vcard_update(&p);
    if let Some((_, occupant)) = crate::muc::parse_presence(&p) {
        let _ = crate::muc::display_nick(&occupant.nick);
        let _ = occupant.new_nick.as_deref().map(crate::muc::display_nick);
    }
}

/// Every parser of an IQ's payload: roster pushes, archive ends, profiles,
/// avatars, block lists, last activity and registration forms.
fn iq_target(data: &[u8]) {
    let Some(el) = element(data) else { return };
    let Ok(iq) = Iq::try_from(el) else { return };
    let (from, payload) = match iq {
        Iq::Set { from, payload, .. } | Iq::Get { from, payload, .. } => (from, Some(payload)),
        Iq::Result { from, payload, .. } => (from, payload),
        Iq::Error { from, .. } => (from, None),
    };
    let own = own();
    if let Some(p) = &payload {
        let _ = crate::roster::push_allowed(from.as_ref(), &own);
        if let Ok(roster) = Roster::try_from(p.clone()) {
            let _ = crate::roster::parse_push(&roster);
        }
        let _ = crate::blocking::is_push(p);
        let _ = crate::vcard::parse_vcard4(p);
        let _ = crate::bookmarks::parse_items(p);
        let _ = crate::bookmarks::parse_legacy(p);
        for affiliation in [
            crate::muc::Affiliation::Member,
            crate::muc::Affiliation::Outcast,
        ] {
            let _ = crate::muc::admin::parse_list(p, affiliation);
        }
        let _ = crate::muc::directory::parse_items(p);
        let _ = crate::muc::directory::is_room_service(p);
        let _ = crate::muc::directory::parse_info(p);
        let _ = crate::roomconfig::read_settings(p);
    }
    let hash = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f";
    let _ = crate::mam::fin(payload.clone());
    let _ = crate::vcard::parse_vcard4_items(payload.clone());
    let _ = crate::vcard::parse_vcard_temp(payload.clone());
    let _ = crate::avatar::parse_data(payload.clone(), hash);
    let _ = crate::avatar::parse_vcard_photo(payload.clone(), hash);
    let _ = crate::blocking::parse_list(payload.clone());
    let _ = crate::last::parse(Ok(payload.clone()));
    if let Ok(offer) = crate::register::Offer::parse(payload) {
        let _ = offer.form();
    }
}

/// `xmpp:` links, from a message or the desktop.
fn link_target(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::uri::is_xmpp_link(&text);
    let _ = crate::uri::parse(&text);
}

/// Image headers of contacts' avatars.
fn image_target(data: &[u8]) {
    let _ = crate::avatar::header::read(data);
    let _ = crate::avatar::header::acceptable(data);
    let _ = crate::avatar::image_type(data);
}

/// The byte stream itself, split at random points.
fn stream_target(data: &[u8]) {
    let mut bounded = Bounded::new(());
    let split = data.len() / 3;
    for part in [&data[..split], &data[split..]] {
        if bounded.feed(part).is_err() {
            return;
        }
    }
}

#[test]
fn fuzz_message_classification() {
    fuzz("message", "message", message_target);
}

#[test]
fn fuzz_presence_classification() {
    fuzz("presence", "presence", presence_target);
}

#[test]
fn fuzz_iq_payloads() {
    fuzz("iq", "iq", iq_target);
}

#[test]
fn fuzz_xmpp_links() {
    fuzz("link", "link", link_target);
}

#[test]
fn fuzz_avatar_image_headers() {
    fuzz("image", "image", image_target);
}

#[test]
fn fuzz_stream_bounds() {
    fuzz("stream", "stream", stream_target);
}

/// The corpus seeds themselves parse as what they are meant to be: a
/// target whose seeds all fail early would fuzz nothing.
#[test]
fn the_seeds_reach_the_classifiers() {
    for seed in corpus("message") {
        let el = element(&seed).expect("message seed parses");
        Message::try_from(el).expect("a message");
    }
    for seed in corpus("presence") {
        Presence::try_from(element(&seed).expect("presence seed")).expect("a presence");
    }
    for seed in corpus("iq") {
        Iq::try_from(element(&seed).expect("iq seed")).expect("an iq");
    }
}
