//! Message retraction (XEP-0424) and, in rooms, moderation (XEP-0425).
//!
//! Read: `<retract id='…' xmlns='urn:xmpp:message-retract:1'/>` and the
//! older `<apply-to id='…' xmlns='urn:xmpp:fasten:0'><retract
//! xmlns='urn:xmpp:message-retract:0'/></apply-to>` that earlier clients
//! send. A moderation is the same retraction sent by the room itself (its
//! bare JID) with `<moderated/>` inside, in either version. Sent: both
//! forms, with the XEP's fallback body for clients that know neither.
//! Who may retract is the store's rule; a moderation is taken only from
//! the room (checked by the caller).

use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Lang, Message};
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_id::OriginId;

use crate::chat;

/// XEP-0424's namespace.
pub(crate) const NS: &str = "urn:xmpp:message-retract:1";
/// XEP-0424's namespace before version 0.4, inside a XEP-0422 fastening.
const NS_0: &str = "urn:xmpp:message-retract:0";
/// XEP-0422 (message fastening), as the older retraction used it.
const FASTEN: &str = "urn:xmpp:fasten:0";
/// XEP-0425's namespaces, current and older.
pub(crate) const MODERATE: &str = "urn:xmpp:message-moderate:1";
pub(crate) const MODERATE_0: &str = "urn:xmpp:message-moderate:0";
/// XEP-0428 (fallback indication).
pub(crate) const FALLBACK: &str = "urn:xmpp:fallback:0";
/// XEP-0334 (message processing hints).
pub(crate) const HINTS: &str = "urn:xmpp:hints";

/// What a client that knows no retraction shows.
const FALLBACK_BODY: &str =
    "This person attempted to retract a previous message, but it's unsupported by your client.";

/// A retraction's target and, for a moderation, who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retraction {
    /// The id of the retracted message.
    pub target: String,
    /// `Some` for a room's moderation (XEP-0425): the moderator, as the
    /// room names them (may be empty).
    pub moderated_by: Option<String>,
}

/// The retraction `msg` carries, if any.
pub(crate) fn parse(msg: &Message) -> Option<Retraction> {
    for p in &msg.payloads {
        if p.is("retract", NS) {
            let target = p.attr("id").filter(|id| chat::valid_id(id))?.to_owned();
            let moderated_by = p
                .children()
                .find(|c| c.is("moderated", MODERATE))
                .map(|m| m.attr("by").unwrap_or_default().to_owned());
            return Some(Retraction {
                target,
                moderated_by,
            });
        }
        if p.is("apply-to", FASTEN) {
            let target = p.attr("id").filter(|id| chat::valid_id(id))?.to_owned();
            if p.has_child("retract", NS_0) {
                return Some(Retraction {
                    target,
                    moderated_by: None,
                });
            }
            if let Some(m) = p.children().find(|c| c.is("moderated", MODERATE_0)) {
                if m.has_child("retract", NS_0) {
                    return Some(Retraction {
                        target,
                        moderated_by: Some(m.attr("by").unwrap_or_default().to_owned()),
                    });
                }
            }
        }
    }
    None
}

/// The message retracting our message `target` in a chat with `to` (or,
/// with `groupchat`, in the room `to`), sent with id `id`.
pub(crate) fn retract(to: Jid, groupchat: bool, target: &str, id: &str) -> Message {
    let mut msg = if groupchat {
        Message::groupchat(Some(to))
    } else {
        Message::chat(Some(to))
    };
    msg = msg
        .with_body(Lang::from(String::new()), FALLBACK_BODY.to_owned())
        .with_payload(OriginId { id: id.to_owned() });
    msg.id = Some(xmpp_parsers::message::Id(id.to_owned()));
    msg.payloads.push(
        Element::builder("retract", NS)
            .attr(xml_ncname!("id").to_owned(), target)
            .build(),
    );
    msg.payloads.push(
        Element::builder("apply-to", FASTEN)
            .attr(xml_ncname!("id").to_owned(), target)
            .append(Element::builder("retract", NS_0).build())
            .build(),
    );
    msg.payloads.push(
        Element::builder("fallback", FALLBACK)
            .attr(xml_ncname!("for").to_owned(), NS)
            .build(),
    );
    msg.payloads.push(Element::builder("store", HINTS).build());
    msg
}

/// The moderation request (XEP-0425) for line `stanza_id` of a room,
/// in the version the room advertises (`current`: `message-moderate:1`).
pub(crate) fn moderate(stanza_id: &str, reason: Option<&str>, current: bool) -> Element {
    let reason_el = reason.filter(|r| !r.is_empty()).map(|r| {
        Element::builder("reason", if current { MODERATE } else { MODERATE_0 })
            .append(r)
            .build()
    });
    if current {
        let mut b = Element::builder("moderate", MODERATE)
            .attr(xml_ncname!("id").to_owned(), stanza_id)
            .append(Element::builder("retract", NS).build());
        if let Some(r) = reason_el {
            b = b.append(r);
        }
        b.build()
    } else {
        let mut m = Element::builder("moderate", MODERATE_0)
            .append(Element::builder("retract", NS_0).build());
        if let Some(r) = reason_el {
            m = m.append(r);
        }
        Element::builder("apply-to", FASTEN)
            .attr(xml_ncname!("id").to_owned(), stanza_id)
            .append(m.build())
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().expect("xml")).expect("message")
    }

    #[test]
    fn the_current_form_names_the_target() {
        // XEP-0424 example 1 (version 0.4).
        let m = msg("<message type='chat' to='lord@capulet.example' id='retract-message-1' xmlns='jabber:client'>\
            <retract id='origin-id-1' xmlns='urn:xmpp:message-retract:1'/>\
            <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>\
            <body>This person attempted to retract a previous message, but it's unsupported by your client.</body>\
            <store xmlns='urn:xmpp:hints'/></message>");
        assert_eq!(
            parse(&m),
            Some(Retraction {
                target: "origin-id-1".into(),
                moderated_by: None
            })
        );
    }

    #[test]
    fn the_older_fastening_form_is_read_too() {
        let m = msg("<message type='chat' xmlns='jabber:client'>\
            <apply-to id='origin-id-1' xmlns='urn:xmpp:fasten:0'>\
            <retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>");
        assert_eq!(parse(&m).map(|r| r.target).as_deref(), Some("origin-id-1"));
        // A fastening of something else is no retraction.
        let other = msg("<message type='chat' xmlns='jabber:client'>\
            <apply-to id='x' xmlns='urn:xmpp:fasten:0'><external name='body'/></apply-to></message>");
        assert_eq!(parse(&other), None);
    }

    #[test]
    fn moderations_in_both_versions() {
        // XEP-0425 version 0.3.
        let m = msg("<message type='groupchat' from='room@muc.example' id='retraction-id-1' xmlns='jabber:client'>\
            <retract id='stanza-id-1' xmlns='urn:xmpp:message-retract:1'>\
            <moderated by='room@muc.example/macbeth' xmlns='urn:xmpp:message-moderate:1'>\
            <occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/>\
            </moderated><reason>Spam</reason></retract></message>");
        assert_eq!(
            parse(&m),
            Some(Retraction {
                target: "stanza-id-1".into(),
                moderated_by: Some("room@muc.example/macbeth".into())
            })
        );
        // Version 0.2, as Prosody's mod_muc_moderation sends it.
        let old = msg("<message type='groupchat' from='room@muc.example' xmlns='jabber:client'>\
            <apply-to id='stanza-id-1' xmlns='urn:xmpp:fasten:0'>\
            <moderated by='room@muc.example/macbeth' xmlns='urn:xmpp:message-moderate:0'>\
            <retract xmlns='urn:xmpp:message-retract:0'/><reason>Spam</reason></moderated></apply-to></message>");
        assert_eq!(
            parse(&old).and_then(|r| r.moderated_by).as_deref(),
            Some("room@muc.example/macbeth")
        );
    }

    #[test]
    fn a_retraction_without_an_id_is_nothing() {
        let m = msg("<message type='chat' xmlns='jabber:client'>\
            <retract xmlns='urn:xmpp:message-retract:1'/></message>");
        assert_eq!(parse(&m), None);
    }

    #[test]
    fn ours_carries_both_forms_a_fallback_and_a_store_hint() {
        let to = Jid::new("bob@x").expect("jid");
        let el: Element = retract(to, false, "o1", "r1").into();
        let back = Message::try_from(el.clone()).expect("message");
        assert_eq!(parse(&back).map(|r| r.target).as_deref(), Some("o1"));
        assert!(el
            .get_child("apply-to", FASTEN)
            .is_some_and(|a| a.has_child("retract", NS_0)));
        assert!(el.has_child("fallback", FALLBACK));
        assert!(el.has_child("store", HINTS));
        assert_eq!(el.attr("type"), Some("chat"));
        assert_eq!(chat::best_body(&back).as_deref(), Some(FALLBACK_BODY));
    }

    #[test]
    fn moderation_requests_in_the_advertised_version() {
        let now = moderate("s1", Some("spam"), true);
        assert_eq!(now.name(), "moderate");
        assert_eq!(now.attr("id"), Some("s1"));
        assert!(now.has_child("retract", NS));
        let old = moderate("s1", None, false);
        assert!(old.is("apply-to", FASTEN));
        assert!(old
            .get_child("moderate", MODERATE_0)
            .is_some_and(|m| m.has_child("retract", NS_0)));
    }
}
