//! Message Carbons (XEP-0280): copies of the messages our other clients
//! send and receive, so every device has the whole conversation.
//!
//! A carbon is only believed when our own server wraps it: the outer
//! `from` must be exactly our bare JID (no resource). Anyone else can send
//! a `<sent/>` or `<received/>` wrapper with whatever inside, and Prosody
//! passes it through unchanged (CVE-2017-5589, Dino CVE-2019-16235); such a
//! stanza is dropped whole, never read as a plain message either.

use xmpp_parsers::carbons::{Enable, Received, Sent};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::ns;

use crate::chat::{self, Incoming};

/// What a message means with respect to carbons.
#[derive(Debug, Clone, PartialEq, Eq)]
// Classified and consumed at once, never kept in bulk: not worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Carbon {
    /// Not a carbon: classify it as a normal message.
    No,
    /// A carbon wrapper we don't believe, or a broken one: drop it.
    Refused(&'static str),
    /// A verified copy, classified (`In` for a message another client of
    /// ours received, `Out` for one it sent). Never asks for a receipt.
    Copy(Incoming),
}

/// The IQ that turns carbons on for this session (sent to our server).
pub(crate) fn enable(id: String) -> Iq {
    Iq::from_set(id, Enable)
}

/// Unwraps and checks a possible carbon. `own` is the account's bare JID.
pub(crate) fn unwrap(msg: &Message, own: &BareJid) -> Carbon {
    let mut wrappers = msg
        .payloads
        .iter()
        .filter(|p| p.ns() == ns::CARBONS && matches!(p.name(), "sent" | "received"));
    let Some(wrapper) = wrappers.next() else {
        return Carbon::No;
    };
    if wrappers.next().is_some() {
        return Carbon::Refused("more than one carbon");
    }
    let from_own_server = msg
        .from
        .as_ref()
        .is_some_and(|f| f.resource().is_none() && f.to_bare() == *own);
    if !from_own_server {
        return Carbon::Refused("carbon not from our own account");
    }
    let (sent, forwarded) = if wrapper.name() == "sent" {
        match Sent::try_from(wrapper.clone()) {
            Ok(s) => (true, s.forwarded),
            Err(_) => return Carbon::Refused("malformed sent carbon"),
        }
    } else {
        match Received::try_from(wrapper.clone()) {
            Ok(r) => (false, r.forwarded),
            Err(_) => return Carbon::Refused("malformed received carbon"),
        }
    };
    let inner = &forwarded.message;
    let mut incoming = if sent {
        chat::classify_sent(inner, own)
    } else {
        if inner.to.as_ref().is_some_and(|t| t.to_bare() != *own) {
            return Carbon::Refused("received carbon addressed to someone else");
        }
        chat::classify(inner, own)
    };
    if let Incoming::Chat(c) = &mut incoming {
        // The client it was addressed to answers the receipt request.
        c.wants_receipt = false;
        if c.delay_ms.is_none() {
            c.delay_ms = forwarded.delay.map(|d| d.stamp.0.timestamp_millis());
        }
    }
    Carbon::Copy(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::{Ack, AckKind};
    use charla_store::Direction;
    use xmpp_parsers::minidom::Element;

    fn msg(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    fn own() -> BareJid {
        BareJid::new("alice@x").expect("jid")
    }

    fn wrap(outer_from: &str, kind: &str, inner: &str) -> Message {
        msg(&format!(
            "<message xmlns='jabber:client' from='{outer_from}' to='alice@x/dev2' type='chat'>\
            <{kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}\
            </forwarded></{kind}></message>"
        ))
    }

    const SENT: &str =
        "<message xmlns='jabber:client' from='alice@x/dev1' to='bob@x' type='chat' id='o1'>\
        <body>hi bob</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>\
        <request xmlns='urn:xmpp:receipts'/></message>";
    const RECEIVED: &str =
        "<message xmlns='jabber:client' from='bob@x/phone' to='alice@x/dev1' type='chat' id='b1'>\
        <body>hi alice</body><origin-id xmlns='urn:xmpp:sid:0' id='b1'/>\
        <request xmlns='urn:xmpp:receipts'/></message>";

    #[test]
    fn our_displayed_marker_from_another_device_means_read_there() {
        let marker =
            "<message xmlns='jabber:client' from='alice@x/dev1' to='bob@x/phone' type='chat'>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>";
        assert_eq!(
            unwrap(&wrap("alice@x", "sent", marker), &own()),
            Carbon::Copy(Incoming::ReadElsewhere {
                peer: BareJid::new("bob@x").expect("jid"),
                id: "b1".into()
            })
        );
        // Our receipt is nothing to act on; someone else's forged "sent" carbon is refused.
        let receipt =
            "<message xmlns='jabber:client' from='alice@x/dev1' to='bob@x/phone' type='chat'>\
            <received xmlns='urn:xmpp:receipts' id='b1'/></message>";
        assert!(matches!(
            unwrap(&wrap("alice@x", "sent", receipt), &own()),
            Carbon::Copy(Incoming::Ignored(_))
        ));
        assert!(matches!(
            unwrap(&wrap("mallory@x", "sent", marker), &own()),
            Carbon::Refused(_)
        ));
    }

    #[test]
    fn sent_carbon_from_our_server_is_an_outgoing_copy() {
        let Carbon::Copy(Incoming::Chat(c)) = unwrap(&wrap("alice@x", "sent", SENT), &own()) else {
            panic!("not a copy")
        };
        assert_eq!(c.direction, Direction::Out);
        assert_eq!(c.peer.as_str(), "bob@x");
        assert_eq!(c.body, "hi bob");
        assert_eq!(c.origin_id.as_deref(), Some("o1"));
        assert!(!c.wants_receipt);
    }

    #[test]
    fn received_carbon_from_our_server_is_an_incoming_copy() {
        let m = wrap("alice@x", "received", RECEIVED);
        let Carbon::Copy(Incoming::Chat(c)) = unwrap(&m, &own()) else {
            panic!("not a copy")
        };
        assert_eq!(c.direction, Direction::In);
        assert_eq!(c.peer.as_str(), "bob@x");
        assert_eq!(c.from.to_string(), "bob@x/phone");
        assert!(!c.wants_receipt, "the addressed client answers, not us");
    }

    #[test]
    fn carbons_from_anyone_else_are_refused() {
        for outer in ["bob@x", "bob@x/r", "alice@x/dev1", "x", "alice@y"] {
            for (kind, inner) in [("sent", SENT), ("received", RECEIVED)] {
                assert!(
                    matches!(
                        unwrap(&wrap(outer, kind, inner), &own()),
                        Carbon::Refused(_)
                    ),
                    "{outer} {kind}"
                );
            }
        }
        let no_from = msg("<message xmlns='jabber:client' type='chat'><sent xmlns='urn:xmpp:carbons:2'>\
            <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@x' type='chat'>\
            <body>x</body></message></forwarded></sent></message>");
        assert!(matches!(unwrap(&no_from, &own()), Carbon::Refused(_)));
    }

    #[test]
    fn inner_addressing_is_checked() {
        // A "sent" copy of a message someone else wrote.
        let forged_author = "<message xmlns='jabber:client' from='mallory@x/r' to='bob@x' type='chat'><body>x</body></message>";
        assert!(matches!(
            unwrap(&wrap("alice@x", "sent", forged_author), &own()),
            Carbon::Copy(Incoming::Ignored(_))
        ));
        // A "received" copy of a message for someone else.
        let not_ours = "<message xmlns='jabber:client' from='bob@x/r' to='carol@x' type='chat'><body>x</body></message>";
        assert!(matches!(
            unwrap(&wrap("alice@x", "received", not_ours), &own()),
            Carbon::Refused(_)
        ));
        // A "received" copy claiming to be from ourselves.
        let self_sent = "<message xmlns='jabber:client' from='alice@x/dev1' to='alice@x' type='chat'><body>x</body></message>";
        assert!(matches!(
            unwrap(&wrap("alice@x", "received", self_sent), &own()),
            Carbon::Copy(Incoming::Ignored(_))
        ));
    }

    #[test]
    fn two_wrappers_or_a_broken_one_are_refused() {
        let two = msg(&format!(
            "<message xmlns='jabber:client' from='alice@x' type='chat'>\
            <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{SENT}</forwarded></sent>\
            <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{RECEIVED}</forwarded></received>\
            </message>"
        ));
        assert_eq!(
            unwrap(&two, &own()),
            Carbon::Refused("more than one carbon")
        );
        let empty = msg("<message xmlns='jabber:client' from='alice@x' type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>");
        assert!(matches!(unwrap(&empty, &own()), Carbon::Refused(_)));
    }

    #[test]
    fn plain_message_is_not_a_carbon() {
        let m = msg(RECEIVED);
        assert_eq!(unwrap(&m, &own()), Carbon::No);
    }

    #[test]
    fn receipt_in_a_received_carbon_is_kept_and_our_marker_is_a_read_elsewhere() {
        let receipt =
            "<message xmlns='jabber:client' from='bob@x/phone' to='alice@x/dev1' type='chat'>\
            <received xmlns='urn:xmpp:receipts' id='o1'/></message>";
        assert_eq!(
            unwrap(&wrap("alice@x", "received", receipt), &own()),
            Carbon::Copy(Incoming::Acks {
                peer: BareJid::new("bob@x").expect("jid"),
                acks: vec![Ack {
                    kind: AckKind::Delivered,
                    id: "o1".into()
                }]
            })
        );
        let our_marker =
            "<message xmlns='jabber:client' from='alice@x/dev1' to='bob@x' type='chat'>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>";
        // Not applied to our own messages: it says we read bob's.
        assert!(matches!(
            unwrap(&wrap("alice@x", "sent", our_marker), &own()),
            Carbon::Copy(Incoming::ReadElsewhere { .. })
        ));
    }

    #[test]
    fn forwarded_delay_is_the_server_time() {
        let m = msg(&format!(
            "<message xmlns='jabber:client' from='alice@x' type='chat'>\
            <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
            <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>{SENT}</forwarded></sent></message>"
        ));
        let Carbon::Copy(Incoming::Chat(c)) = unwrap(&m, &own()) else {
            panic!("not a copy")
        };
        assert_eq!(c.delay_ms, Some(1_767_323_045_000));
    }

    #[test]
    fn enable_iq_is_a_set() {
        let el: Element = enable("c1".into()).into();
        assert_eq!(el.attr("type"), Some("set"));
        assert!(el.has_child("enable", ns::CARBONS));
    }
}
