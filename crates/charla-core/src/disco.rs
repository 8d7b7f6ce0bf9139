//! Service discovery (XEP-0030) of our own client, advertised through
//! entity capabilities (XEP-0115), and the answer to pings (XEP-0199).

use xmpp_parsers::caps::{self, Caps};
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult, Identity};
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::ns;

/// The caps node that identifies Charla.
pub(crate) const CAPS_NODE: &str = "https://charla.im";

/// Features this client implements and therefore advertises.
/// `+notify` asks for contacts' avatar metadata over PEP (XEP-0084).
const FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::CAPS,
    ns::PING,
    ns::SID,
    ns::DELAY,
    crate::avatar::METADATA_NOTIFY,
];

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

    #[test]
    fn caps_verify_against_our_own_disco() {
        let c = caps();
        assert_eq!(c.node, CAPS_NODE);
        let again = caps::hash_caps(&caps::compute_disco(&info(None)), Algo::Sha_1).expect("hash");
        assert_eq!(c.ver, again.hash);
        assert_eq!(c.ver.len(), 20);
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
