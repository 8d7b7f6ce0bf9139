//! Message Displayed Synchronization (XEP-0490): how far each chat was
//! read, kept on our own PEP node `urn:xmpp:mds:displayed:0` (one item per
//! chat, its id the chat's bare JID, holding the stanza-id of the newest
//! line read), so that what is read on one device is read on the others.
//! Charla uses it for rooms, whose lines carry the room's stanza-id.
//! A notification counts only from our own bare JID.

use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use crate::pubsub::{own_items, publish_private, Options};

/// The PEP node.
pub const NODE: &str = "urn:xmpp:mds:displayed:0";
/// Asks our server for notifications of the node (XEP-0163 `+notify`).
pub const NOTIFY: &str = "urn:xmpp:mds:displayed:0+notify";
/// At most this many chats are read from one notification.
const MAX_ITEMS: usize = 100;
/// A stanza-id longer than this is no stanza-id (XEP-0359 ids are short).
const MAX_ID: usize = 256;

const PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
const SID: &str = "urn:xmpp:sid:0";

/// A chat read up to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Displayed {
    /// The chat (a room's bare JID).
    pub chat: BareJid,
    /// The stanza-id of the newest line read.
    pub stanza_id: String,
    /// Who stamped that stanza-id (the room, for a room's line).
    pub by: BareJid,
}

/// The IQ that tells our devices that `chat` was read up to the line with
/// stanza-id `stanza_id`, stamped `by`.
pub fn publish(id: String, chat: &BareJid, stanza_id: &str, by: &BareJid, options: Options) -> Iq {
    let displayed = Element::builder("displayed", NODE).append(
        Element::builder("stanza-id", SID)
            .attr(xml_ncname!("id").to_owned(), stanza_id)
            .attr(xml_ncname!("by").to_owned(), by.as_str()),
    );
    publish_private(id, NODE, chat.as_str(), displayed.build(), options)
}

/// What a notification of the node says, if `message` is one from our own
/// account (`own`); `None` otherwise, forged ones included.
pub fn notification(message: &Message, own: &BareJid) -> Option<Vec<Displayed>> {
    let items = own_items(message, own, NODE)?;
    Some(
        items
            .children()
            .filter(|c| c.is("item", PUBSUB_EVENT))
            .filter_map(|item| {
                let chat = BareJid::new(item.attr("id")?).ok()?;
                let sid = item
                    .get_child("displayed", NODE)?
                    .get_child("stanza-id", SID)?;
                let stanza_id = sid
                    .attr("id")
                    .filter(|id| !id.is_empty() && id.len() <= MAX_ID)?;
                let by = BareJid::new(sid.attr("by")?).ok()?;
                Some(Displayed {
                    chat,
                    stanza_id: stanza_id.to_owned(),
                    by,
                })
            })
            .take(MAX_ITEMS)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    fn own() -> BareJid {
        BareJid::new("alice@example.org").expect("jid")
    }

    fn event(from: &str) -> String {
        format!(
            "<message xmlns='jabber:client' from='{from}' to='alice@example.org/desk'>\
               <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='urn:xmpp:mds:displayed:0'>\
                   <item id='family@conference.example.org'>\
                     <displayed xmlns='urn:xmpp:mds:displayed:0'>\
                       <stanza-id xmlns='urn:xmpp:sid:0' id='s-42' by='family@conference.example.org'/>\
                     </displayed></item>\
                   <item id='broken@conference.example.org'><displayed xmlns='urn:xmpp:mds:displayed:0'/></item>\
                 </items></event></message>"
        )
    }

    #[test]
    fn our_own_notification_says_how_far_a_room_was_read() {
        let room = BareJid::new("family@conference.example.org").expect("jid");
        assert_eq!(
            notification(&message(&event("alice@example.org")), &own()),
            Some(vec![Displayed {
                chat: room.clone(),
                stanza_id: "s-42".into(),
                by: room,
            }])
        );
    }

    #[test]
    fn anyone_elses_is_dropped() {
        for from in [
            "mallory@example.org",
            "alice@example.org/phone",
            "family@conference.example.org",
        ] {
            assert_eq!(notification(&message(&event(from)), &own()), None, "{from}");
        }
    }

    #[test]
    fn what_we_publish_is_private_and_names_the_line() {
        let room = BareJid::new("family@conference.example.org").expect("jid");
        let xml = String::from(&Element::from(publish(
            "m1".into(),
            &room,
            "s-42",
            &room,
            Options::Full,
        )));
        assert!(
            xml.contains("<item id='family@conference.example.org'>"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<stanza-id xmlns='urn:xmpp:sid:0' id='s-42' by='family@conference.example.org'/>"
            ) || xml.contains(
                "<stanza-id xmlns='urn:xmpp:sid:0' by='family@conference.example.org' id='s-42'/>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<value>whitelist</value>"), "{xml}");
    }
}
