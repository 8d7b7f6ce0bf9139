//! Reading PubSub answers (XEP-0060) as servers really send them.

use xmpp_parsers::minidom::Element;
use xmpp_parsers::pubsub::PubSub;

/// XEP-0059 result set management.
const RSM: &str = "http://jabber.org/protocol/rsm";

/// Parses a `<pubsub/>` answer. ejabberd adds an RSM `<set/>` to an items
/// answer asked with `max_items` (XEP-0060 §6.5.7 allows it), which
/// xmpp-parsers 0.23 refuses as an unknown child: it is dropped first.
pub(crate) fn parse(mut payload: Element) -> Option<PubSub> {
    while payload.remove_child("set", RSM).is_some() {}
    PubSub::try_from(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ejabberd 23.01's answer to a vCard4 query with `max_items='1'`.
    #[test]
    fn an_items_answer_with_an_rsm_set_parses() {
        let xml = "<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='urn:xmpp:vcard4'><item id='current'>\
            <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Alice</text></fn></vcard>\
            </item></items>\
            <set xmlns='http://jabber.org/protocol/rsm'><first>current</first><last>current</last>\
            <count>1</count></set></pubsub>";
        let el: Element = xml.parse().expect("xml");
        assert!(
            PubSub::try_from(el.clone()).is_err(),
            "xmpp-parsers still refuses it"
        );
        let Some(PubSub::Items(items)) = parse(el) else {
            panic!("not parsed")
        };
        assert_eq!(items.items.len(), 1);
    }
}
