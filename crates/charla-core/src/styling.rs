//! Message styling (XEP-0393). The window styles text itself
//! (`ui/src/lib/util/styling.ts`); the core only reads a sender's
//! `<unstyled/>`, which asks that a message be shown exactly as written.

use xmpp_parsers::message::Message;

/// XEP-0393's namespace.
const NS: &str = "urn:xmpp:styling:0";

/// Whether the sender of `msg` asked that it be shown unstyled.
pub(crate) fn unstyled(msg: &Message) -> bool {
    msg.payloads.iter().any(|p| p.is("unstyled", NS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    fn msg(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().expect("xml")).expect("message")
    }

    #[test]
    fn the_xeps_hint_is_read() {
        // XEP-0393 §6: a message whose sender asks for no styling.
        let m = msg(
            "<message xmlns='jabber:client' to='romeo@montague.lit' type='chat'>\
            <body>Wow, *that* is cool</body><unstyled xmlns='urn:xmpp:styling:0'/></message>",
        );
        assert!(unstyled(&m));
        let plain = msg("<message xmlns='jabber:client' type='chat'><body>*x*</body></message>");
        assert!(!unstyled(&plain));
        let other = msg(
            "<message xmlns='jabber:client' type='chat'><body>*x*</body>\
            <unstyled xmlns='urn:example'/></message>",
        );
        assert!(!unstyled(&other));
    }
}
