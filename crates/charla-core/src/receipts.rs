//! Delivery receipts (XEP-0184) and displayed markers (XEP-0333).
//!
//! We ask for both on every chat message we send (`<request/>`,
//! `<markable/>`), answer receipt requests once an incoming message is
//! committed, and turn the peer's `<received id>` / `<displayed id>` into
//! the `delivered` / `displayed` state of our stored message. The id in
//! both is the referenced message's `id` attribute, which for our messages
//! is their origin-id (see [`crate::chat::outgoing`]).
//!
//! Who may acknowledge what is decided by the caller: an acknowledgement
//! only ever touches our messages in the conversation with its sender's
//! bare JID, so a third party cannot change the state of anything it was
//! not sent.

use xmpp_parsers::displayed_markers::{Displayed, Markable};
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Id, Message};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::receipts::{Received, Request};

use charla_store::MessageState;

/// Longest referenced id we look up (ours are 36-character UUIDs).
const MAX_ID_LEN: usize = 256;

/// What an acknowledgement says about one of our messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckKind {
    /// XEP-0184 `<received/>`: the peer's client has the message.
    Delivered,
    /// XEP-0333 `<displayed/>`: the peer has seen the message.
    Displayed,
}

impl AckKind {
    /// The state our message moves to.
    pub(crate) fn state(self) -> MessageState {
        match self {
            AckKind::Delivered => MessageState::Delivered,
            AckKind::Displayed => MessageState::Displayed,
        }
    }
}

/// One acknowledgement of one of our messages, referenced by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ack {
    /// What happened to the message.
    pub kind: AckKind,
    /// The referenced message's `id` attribute (our origin-id).
    pub id: String,
}

/// The receipts and displayed markers a message carries. Malformed ones
/// (no id, empty or oversized id) are skipped.
pub(crate) fn acks(msg: &Message) -> Vec<Ack> {
    let mut out = Vec::new();
    for payload in &msg.payloads {
        let ack = if payload.is("received", ns::RECEIPTS) {
            Received::try_from(payload.clone()).ok().map(|r| Ack {
                kind: AckKind::Delivered,
                id: r.id,
            })
        } else if payload.is("displayed", ns::DISPLAYED_MARKERS) {
            Displayed::try_from(payload.clone()).ok().map(|d| Ack {
                kind: AckKind::Displayed,
                id: d.id.0,
            })
        } else {
            None
        };
        if let Some(ack) = ack.filter(|a| !a.id.is_empty() && a.id.len() <= MAX_ID_LEN) {
            out.push(ack);
        }
    }
    out
}

/// Whether the sender asks for a delivery receipt (XEP-0184 `<request/>`).
pub(crate) fn wants_receipt(msg: &Message) -> bool {
    msg.payloads.iter().any(|p| p.is("request", ns::RECEIPTS))
}

/// Whether the sender asks for displayed markers (XEP-0333 `<markable/>`).
pub(crate) fn markable(msg: &Message) -> bool {
    msg.payloads
        .iter()
        .any(|p| p.is("markable", ns::DISPLAYED_MARKERS))
}

/// The request payloads every outgoing chat message carries.
pub(crate) fn request_payloads() -> [Element; 2] {
    [Request.into(), Markable.into()]
}

/// The receipt for an incoming message with id `id` from `to` (the
/// sender's full JID, so it reaches the client that asked).
pub(crate) fn receipt(to: Jid, id: &str) -> Message {
    Message::chat(Some(to)).with_payload(Received { id: id.to_owned() })
}

/// The displayed marker for a peer's message with id `id`.
pub(crate) fn displayed(to: Jid, id: &str) -> Message {
    Message::chat(Some(to)).with_payload(Displayed {
        id: Id(id.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    #[test]
    fn receipt_and_marker_are_parsed() {
        let m = msg("<message xmlns='jabber:client' from='bob@x/r' type='chat'>\
            <received xmlns='urn:xmpp:receipts' id='o1'/>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='o2'/></message>");
        assert_eq!(
            acks(&m),
            vec![
                Ack {
                    kind: AckKind::Delivered,
                    id: "o1".into()
                },
                Ack {
                    kind: AckKind::Displayed,
                    id: "o2".into()
                },
            ]
        );
        assert!(!wants_receipt(&m));
    }

    #[test]
    fn malformed_acks_are_skipped() {
        let long = "a".repeat(MAX_ID_LEN + 1);
        let m = msg(&format!(
            "<message xmlns='jabber:client' from='bob@x/r' type='chat'>\
            <received xmlns='urn:xmpp:receipts'/>\
            <received xmlns='urn:xmpp:receipts' id=''/>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='{long}'/>\
            <received xmlns='urn:x:other' id='o1'/>\
            <acknowledged xmlns='urn:xmpp:chat-markers:0' id='o3'/></message>"
        ));
        assert_eq!(acks(&m), vec![]);
    }

    #[test]
    fn request_is_detected() {
        let m = msg(
            "<message xmlns='jabber:client' from='bob@x/r' type='chat' id='m1'>\
            <body>hi</body><request xmlns='urn:xmpp:receipts'/></message>",
        );
        assert!(wants_receipt(&m));
    }

    #[test]
    fn answers_reference_the_id() {
        let to = Jid::new("bob@x/r").expect("jid");
        let el: Element = receipt(to.clone(), "m1").into();
        assert_eq!(el.attr("to"), Some("bob@x/r"));
        assert_eq!(el.attr("type"), Some("chat"));
        let r = el.get_child("received", ns::RECEIPTS).expect("received");
        assert_eq!(r.attr("id"), Some("m1"));
        assert!(el.get_child("body", ns::DEFAULT_NS).is_none());

        let el: Element = displayed(to, "m2").into();
        let d = el
            .get_child("displayed", ns::DISPLAYED_MARKERS)
            .expect("displayed");
        assert_eq!(d.attr("id"), Some("m2"));
        // Our own answers parse back as acknowledgements.
        let back = Message::try_from(el).expect("message");
        assert_eq!(acks(&back)[0].kind, AckKind::Displayed);
    }
}
