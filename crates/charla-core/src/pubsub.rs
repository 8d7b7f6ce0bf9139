//! PubSub (XEP-0060): reading answers as servers really send them, and
//! our private PEP nodes (bookmarks, read state): publishing with the
//! options they need (XEP-0223), configuring them where a server does not
//! take those options, and reading only our own account's notifications.

use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
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

const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const PUBSUB_OWNER: &str = "http://jabber.org/protocol/pubsub#owner";
const PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
const DATA_FORMS: &str = "jabber:x:data";

/// The publish options sent with an item of a private node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Options {
    /// All that XEP-0402 §3.3 asks for (Prosody takes them).
    Full,
    /// Only persistence and privacy: ejabberd 23.01 refuses a publish
    /// with `pubsub#max_items` or `pubsub#send_last_published_item`
    /// (resource-constraint); the node's size is then set by [`configure`].
    Minimal,
}

/// The publish options of a private node that keeps every item (XEP-0223,
/// as XEP-0402 §3.3 and XEP-0490 ask), or [`Options::Minimal`]'s fewer.
pub(crate) fn publish_options(options: Options) -> Element {
    let form = Element::builder("x", DATA_FORMS)
        .attr(xml_ncname!("type").to_owned(), "submit")
        .append(
            Element::builder("field", DATA_FORMS)
                .attr(xml_ncname!("var").to_owned(), "FORM_TYPE")
                .attr(xml_ncname!("type").to_owned(), "hidden")
                .append(
                    Element::builder("value", DATA_FORMS)
                        .append("http://jabber.org/protocol/pubsub#publish-options"),
                ),
        )
        .append(field("pubsub#persist_items", "true"))
        .append(field("pubsub#access_model", "whitelist"));
    let form = match options {
        Options::Full => form
            .append(field("pubsub#max_items", "max"))
            .append(field("pubsub#send_last_published_item", "never")),
        Options::Minimal => form,
    };
    form.build()
}

/// A data form field with one value.
fn field(var: &str, value: &str) -> Element {
    Element::builder("field", DATA_FORMS)
        .attr(xml_ncname!("var").to_owned(), var)
        .append(Element::builder("value", DATA_FORMS).append(value))
        .build()
}

/// The IQ that configures our private `node` as XEP-0402 and XEP-0490
/// need it, for servers that do not take these as publish options. ejabberd 23.01's defaults would
/// keep one item (each bookmark replacing the last), not tell our other
/// devices of a removed item, and resend the last one at each presence.
pub(crate) fn configure(id: String, node: &str) -> Iq {
    let form = Element::builder("x", DATA_FORMS)
        .attr(xml_ncname!("type").to_owned(), "submit")
        .append(
            Element::builder("field", DATA_FORMS)
                .attr(xml_ncname!("var").to_owned(), "FORM_TYPE")
                .attr(xml_ncname!("type").to_owned(), "hidden")
                .append(
                    Element::builder("value", DATA_FORMS)
                        .append("http://jabber.org/protocol/pubsub#node_config"),
                ),
        )
        .append(field("pubsub#max_items", "max"))
        .append(field("pubsub#notify_retract", "true"))
        .append(field("pubsub#send_last_published_item", "never"));
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: Element::builder("pubsub", PUBSUB_OWNER)
            .append(
                Element::builder("configure", PUBSUB_OWNER)
                    .attr(xml_ncname!("node").to_owned(), node)
                    .append(form),
            )
            .build(),
    }
}

/// The IQ that publishes `payload` as item `item` of our private `node`.
pub(crate) fn publish_private(
    id: String,
    node: &str,
    item: &str,
    payload: Element,
    options: Options,
) -> Iq {
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: Element::builder("pubsub", PUBSUB)
            .append(
                Element::builder("publish", PUBSUB)
                    .attr(xml_ncname!("node").to_owned(), node)
                    .append(
                        Element::builder("item", PUBSUB)
                            .attr(xml_ncname!("id").to_owned(), item)
                            .append(payload),
                    ),
            )
            .append(Element::builder("publish-options", PUBSUB).append(publish_options(options)))
            .build(),
    }
}

/// The `<items/>` of `node` in a PEP notification from our own account
/// (`own`, or no `from`: our server on its behalf), if `message` is one;
/// `None` otherwise, forged ones included.
pub(crate) fn own_items<'a>(
    message: &'a Message,
    own: &BareJid,
    node: &str,
) -> Option<&'a Element> {
    match &message.from {
        None => {}
        Some(from) if from.resource().is_none() && from.to_bare() == *own => {}
        Some(_) => return None,
    }
    message
        .payloads
        .iter()
        .find(|p| p.is("event", PUBSUB_EVENT))?
        .children()
        .find(|c| c.is("items", PUBSUB_EVENT) && c.attr("node") == Some(node))
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
