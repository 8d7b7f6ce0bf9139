//! Service discovery (XEP-0030) of our own client, advertised through
//! entity capabilities (XEP-0115), and the answers to pings (XEP-0199),
//! software version (XEP-0092) and entity time (XEP-0202).

use xmpp_parsers::caps::{self, Caps};
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult, Identity};
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::ns;
use xmpp_parsers::time::TimeResult;
use xmpp_parsers::version::VersionResult;

/// The caps node that identifies Charla.
pub(crate) const CAPS_NODE: &str = "https://charla.im";

/// Features this client implements and therefore advertises, each with
/// the module that handles it; nothing else. Peers such as Conversations,
/// Gajim and Dino send receipts, markers and typing only to clients that
/// advertise them. `+notify` asks for contacts' avatar metadata over PEP
/// (XEP-0084).
const FEATURES: &[&str] = &[
    ns::DISCO_INFO,                 // disco (this module)
    ns::CAPS,                       // disco
    ns::PING,                       // disco, answered in the session
    ns::VERSION,                    // disco::version
    ns::TIME,                       // disco::time
    ns::SID,                        // chat
    ns::DELAY,                      // chat, mam
    ns::CARBONS,                    // carbons
    ns::RECEIPTS,                   // receipts
    ns::DISPLAYED_MARKERS,          // receipts (displayed markers)
    ns::CHATSTATES,                 // chatstates
    ns::MUC,                        // muc (XEP-0045 §6.1: we join rooms)
    crate::avatar::METADATA_NOTIFY, // avatar
    crate::bookmarks::NOTIFY,       // bookmarks (our other devices' changes)
    crate::mds::NOTIFY,             // mds (what our other devices read)
];

/// Our XEP-0092 answer: the name and version, never the operating system.
pub(crate) fn version() -> VersionResult {
    VersionResult {
        name: "Charla".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        os: None,
    }
}

/// Our XEP-0202 answer at `now`, in UTC: the local time zone would tell
/// anyone who asks where the user is.
pub(crate) fn time(now: chrono::DateTime<chrono::Utc>) -> TimeResult {
    TimeResult {
        tz_offset: chrono::FixedOffset::east_opt(0).expect("zero offset"),
        utc: now,
    }
}

/// Our disco#info, identical for the plain query and the caps node query.
pub(crate) fn info(node: Option<String>) -> DiscoInfoResult {
    DiscoInfoResult {
        node,
        identities: vec![Identity::new("client", "pc", "en", "Charla")],
        features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
        extensions: vec![],
    }
}

/// Our XEP-0115 `<c/>` element, computed once from [`info`].
pub(crate) fn caps() -> Caps {
    let hash = caps::hash_caps(&caps::compute_disco(&info(None)), Algo::Sha_1)
        .expect("sha-1 is a supported caps algorithm");
    Caps::new(CAPS_NODE, hash)
}

/// Answers a disco#info query addressed to us, or `None` if it asks for a
/// node we do not know (the caller replies with item-not-found).
pub(crate) fn answer(query: &DiscoInfoQuery, caps: &Caps) -> Option<DiscoInfoResult> {
    match &query.node {
        None => Some(info(None)),
        Some(node) if *node == caps_node_ver(caps) => Some(info(Some(node.clone()))),
        Some(_) => None,
    }
}

/// Our `<c/>` element as every available presence of ours carries it. Public
/// so that the benchmarks can measure the server's share of Charla's own
/// initial presence (a server does per-contact work for its `+notify`).
pub fn caps_element() -> xmpp_parsers::minidom::Element {
    caps().into()
}

fn caps_node_ver(caps: &Caps) -> String {
    use base64::Engine;
    let ver = base64::engine::general_purpose::STANDARD.encode(&caps.ver);
    format!("{}#{}", caps.node, ver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    #[test]
    fn caps_verify_against_our_own_disco() {
        let c = caps();
        assert_eq!(c.node, CAPS_NODE);
        let again = caps::hash_caps(&caps::compute_disco(&info(None)), Algo::Sha_1).expect("hash");
        assert_eq!(c.ver, again.hash);
        assert_eq!(c.ver.len(), 20);
    }

    /// Exactly what the session handles: a feature added or dropped here
    /// must change this list (and its handler) too.
    #[test]
    fn advertises_exactly_what_charla_implements() {
        let features = info(None).features;
        let mut expected = vec![
            "http://jabber.org/protocol/caps",
            "http://jabber.org/protocol/chatstates",
            "http://jabber.org/protocol/disco#info",
            "http://jabber.org/protocol/muc",
            "jabber:iq:version",
            "urn:xmpp:avatar:metadata+notify",
            "urn:xmpp:bookmarks:1+notify",
            "urn:xmpp:carbons:2",
            "urn:xmpp:chat-markers:0",
            "urn:xmpp:delay",
            "urn:xmpp:mds:displayed:0+notify",
            "urn:xmpp:ping",
            "urn:xmpp:receipts",
            "urn:xmpp:sid:0",
            "urn:xmpp:time",
        ];
        expected.sort_unstable();
        let mut got: Vec<&str> = features.iter().map(String::as_str).collect();
        got.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn version_and_time_tell_nothing_about_the_machine() {
        let v = Element::from(version());
        let xml = String::from(&v);
        assert!(xml.contains("<name>Charla</name>"), "{xml}");
        assert!(!xml.contains("<os"), "{xml}");
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let xml = String::from(&Element::from(time(now)));
        assert!(xml.contains("<tzo>+00:00</tzo>"), "{xml}");
        assert!(xml.contains("<utc>2023-11-14T22:13:20Z</utc>"), "{xml}");
    }

    #[test]
    fn answers_plain_and_caps_node_only() {
        let c = caps();
        let plain = answer(&DiscoInfoQuery { node: None }, &c).expect("answer");
        assert!(plain.features.contains(ns::PING));
        assert!(plain
            .features
            .iter()
            .any(|f| f == "urn:xmpp:avatar:metadata+notify"));
        let node = caps_node_ver(&c);
        let with_node = answer(
            &DiscoInfoQuery {
                node: Some(node.clone()),
            },
            &c,
        )
        .expect("answer");
        assert_eq!(with_node.node, Some(node));
        assert!(answer(
            &DiscoInfoQuery {
                node: Some("other".into())
            },
            &c
        )
        .is_none());
    }
}
