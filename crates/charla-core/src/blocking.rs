//! Blocking (XEP-0191): the server drops everything from a blocked JID and
//! tells it nothing about us. The list lives on the server; Charla asks for
//! it, adds and removes entries, and acknowledges the server's pushes.

use xmpp_parsers::blocking::{Block, BlocklistRequest, BlocklistResult, Unblock};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

/// The IQ that blocks (`block`) or unblocks `jid`.
pub(crate) fn change(id: String, jid: &BareJid, block: bool) -> Iq {
    let items = vec![Jid::from(jid.clone())];
    if block {
        Iq::from_set(id, Block { items })
    } else {
        Iq::from_set(id, Unblock { items })
    }
}

/// XEP-0377 spam reporting, advertised on the server's disco#info.
pub(crate) const NS_REPORTING: &str = "urn:xmpp:reporting:1";
/// The reason of a report: spam.
const REASON_SPAM: &str = "urn:xmpp:reporting:spam";

/// The IQ that blocks `jid` and reports them as spam (XEP-0377): the
/// `<report/>` goes inside the block's `<item/>`.
pub(crate) fn block_and_report(id: String, jid: &BareJid) -> Iq {
    use xmpp_parsers::minidom::rxml::xml_ncname;
    let report = Element::builder("report", NS_REPORTING)
        .attr(xml_ncname!("reason").to_owned(), REASON_SPAM)
        .build();
    let item = Element::builder("item", ns::BLOCKING)
        .attr(xml_ncname!("jid").to_owned(), jid.as_str())
        .append(report)
        .build();
    let block = Element::builder("block", ns::BLOCKING).append(item).build();
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: block,
    }
}

/// Whether the server's disco#info answer lists XEP-0377 reporting.
pub(crate) fn reporting(info: &xmpp_parsers::disco::DiscoInfoResult) -> bool {
    info.features.iter().any(|f| f == NS_REPORTING)
}

/// The IQ that asks for the block list.
pub(crate) fn request(id: String) -> Iq {
    Iq::from_get(id, BlocklistRequest)
}

/// The blocked JIDs in a block-list answer, sorted.
pub(crate) fn parse_list(payload: Option<Element>) -> Option<Vec<String>> {
    let list = BlocklistResult::try_from(payload?).ok()?;
    let mut jids: Vec<String> = list.items.iter().map(|j| j.to_string()).collect();
    jids.sort();
    jids.dedup();
    Some(jids)
}

/// Whether an IQ set payload is the server's block-list push.
pub(crate) fn is_push(payload: &Element) -> bool {
    payload.is("block", ns::BLOCKING) || payload.is("unblock", ns::BLOCKING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_unblock_name_the_jid() {
        let jid = BareJid::new("spam@x").expect("jid");
        let el: Element = change("1".into(), &jid, true).into();
        let block = el.get_child("block", ns::BLOCKING).expect("block");
        assert_eq!(
            block.children().next().and_then(|i| i.attr("jid")),
            Some("spam@x")
        );
        let el: Element = change("2".into(), &jid, false).into();
        assert!(el.has_child("unblock", ns::BLOCKING));
        assert!(is_push(
            el.get_child("unblock", ns::BLOCKING).expect("unblock")
        ));
    }

    #[test]
    fn block_and_report_puts_the_report_inside_the_item() {
        let jid = BareJid::new("spam@x").expect("jid");
        let el: Element = block_and_report("7".into(), &jid).into();
        let expected: Element = "<iq xmlns='jabber:client' type='set' id='7'>\
             <block xmlns='urn:xmpp:blocking'><item jid='spam@x'>\
             <report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'/>\
             </item></block></iq>"
            .parse()
            .expect("xml");
        assert_eq!(el, expected);
        // It is still a block the server's push parser reads.
        let block = el.get_child("block", ns::BLOCKING).expect("block");
        assert!(is_push(block));
        assert!(Block::try_from(block.clone()).is_ok());
    }

    #[test]
    fn reporting_is_read_from_the_servers_disco() {
        let info = |xml: &str| {
            xmpp_parsers::disco::DiscoInfoResult::try_from(xml.parse::<Element>().expect("xml"))
                .expect("disco")
        };
        let with = info(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='server' type='im'/>\
             <feature var='urn:xmpp:blocking'/><feature var='urn:xmpp:reporting:1'/></query>",
        );
        assert!(reporting(&with));
        // Prosody 0.12 in Debian: blocking, no reporting.
        let without = info(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='server' type='im'/>\
             <feature var='urn:xmpp:blocking'/></query>",
        );
        assert!(!reporting(&without));
    }

    #[test]
    fn the_list_is_read_sorted_and_bad_answers_are_none() {
        let el: Element =
            "<blocklist xmlns='urn:xmpp:blocking'><item jid='z@x'/><item jid='a@x'/></blocklist>"
                .parse()
                .expect("xml");
        assert_eq!(parse_list(Some(el)), Some(vec!["a@x".into(), "z@x".into()]));
        assert_eq!(parse_list(None), None);
        let wrong: Element = "<query xmlns='jabber:iq:roster'/>".parse().expect("xml");
        assert_eq!(parse_list(Some(wrong)), None);
    }
}
