//! Last message correction (XEP-0308): `<replace id='…'/>` names the
//! message a new text replaces. Who may correct what is the store's rule
//! (the same author only, see `charla_store::Rich`); this module reads and
//! writes the element.

use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use crate::chat;

/// XEP-0308's namespace.
pub(crate) const NS: &str = "urn:xmpp:message-correct:0";

/// The id of the message `msg` corrects, if it is a correction.
pub(crate) fn target(msg: &Message) -> Option<String> {
    msg.payloads
        .iter()
        .find(|p| p.is("replace", NS))
        .and_then(|p| p.attr("id"))
        .filter(|id| chat::valid_id(id))
        .map(str::to_owned)
}

/// The element that makes a message the correction of message `id`.
pub(crate) fn replace(id: &str) -> Element {
    Element::builder("replace", NS)
        .attr(xml_ncname!("id").to_owned(), id)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().expect("xml")).expect("message")
    }

    #[test]
    fn the_xeps_example_names_the_original() {
        // XEP-0308 example 2, as Conversations, Dino and Gajim send it.
        let m = msg("<message xmlns='jabber:client' to='juliet@capulet.net/balcony' id='good1' type='chat'>\
            <body>But soft, what light through yonder window breaks?</body>\
            <replace id='bad1' xmlns='urn:xmpp:message-correct:0'/></message>");
        assert_eq!(target(&m).as_deref(), Some("bad1"));
    }

    #[test]
    fn no_or_bad_id_is_no_correction() {
        let empty = msg("<message xmlns='jabber:client' type='chat'><body>x</body>\
            <replace id='' xmlns='urn:xmpp:message-correct:0'/></message>");
        assert_eq!(target(&empty), None);
        let long = format!(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
            <replace id='{}' xmlns='urn:xmpp:message-correct:0'/></message>",
            "a".repeat(300)
        );
        assert_eq!(target(&msg(&long)), None);
        let plain = msg("<message xmlns='jabber:client' type='chat'><body>x</body></message>");
        assert_eq!(target(&plain), None);
    }

    #[test]
    fn built_as_the_xep_writes_it() {
        let el = replace("m1");
        assert_eq!(
            String::from(&el),
            "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>"
        );
    }
}
