//! Room bookmarks: PEP Native Bookmarks (XEP-0402, node
//! `urn:xmpp:bookmarks:1`, one item per room, the item id being the room's
//! address), and the legacy list in private XML storage (XEP-0048 over
//! XEP-0049, `storage:bookmarks`), read once to migrate it.
//!
//! Bookmarks are ours: a notification counts only when it comes from our
//! own bare JID (or has no `from`, i.e. from our server on its behalf); a
//! forged one from anyone else is ignored. Every list is bounded
//! ([`MAX_BOOKMARKS`]) and every text field is capped, and an entry that
//! does not parse is skipped, not the whole list.

use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use crate::pubsub::{own_items, publish_private, Options};

/// The PEP node of XEP-0402.
pub const NODE: &str = "urn:xmpp:bookmarks:1";
/// Asks our server for notifications of the node (XEP-0163 `+notify`).
pub const NOTIFY: &str = "urn:xmpp:bookmarks:1+notify";
/// The legacy private-storage namespace (XEP-0048).
pub const LEGACY: &str = "storage:bookmarks";
/// At most this many bookmarks are taken from one list.
pub const MAX_BOOKMARKS: usize = 1_000;
/// A room's name, nick or password longer than this (in bytes) is cut.
const MAX_TEXT: usize = 1_024;

const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
const PRIVATE: &str = "jabber:iq:private";

/// One bookmarked room.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    /// The room's address.
    pub room: BareJid,
    /// The name the user gave it.
    pub name: Option<String>,
    /// The nick to join with.
    pub nick: Option<String>,
    /// The room's password.
    pub password: Option<String>,
    /// Whether to join it at login.
    pub autojoin: bool,
    /// Other clients' extensions, kept so that publishing the bookmark
    /// again does not drop them (XEP-0402 §4.1).
    pub extensions: Option<Element>,
}

impl Bookmark {
    /// A bookmark to join `room` with `nick` at every login.
    pub fn autojoin(room: BareJid, nick: Option<String>) -> Bookmark {
        Bookmark {
            room,
            name: None,
            nick,
            password: None,
            autojoin: true,
            extensions: None,
        }
    }
}

/// What a bookmarks notification says.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The room was bookmarked, or its bookmark changed.
    Set(Bookmark),
    /// The room's bookmark was removed.
    Removed(BareJid),
}

/// `text` cut to [`MAX_TEXT`] bytes at a character boundary.
fn capped(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A `<conference/>` of either version, for `room`.
fn conference(room: BareJid, el: &Element) -> Bookmark {
    let text = |name: &str| {
        el.children()
            .find(|c| c.name() == name && c.ns() == el.ns())
            .map(|c| capped(&c.text()))
            .filter(|t| !t.is_empty())
    };
    Bookmark {
        room,
        name: el.attr("name").map(capped).filter(|n| !n.is_empty()),
        nick: text("nick"),
        password: text("password"),
        autojoin: matches!(el.attr("autojoin"), Some("true" | "1")),
        extensions: el.children().find(|c| c.is("extensions", NODE)).cloned(),
    }
}

/// A room address as bookmarks hold it: a bare JID with a local part.
fn room(id: &str) -> Option<BareJid> {
    let jid = BareJid::new(id).ok()?;
    jid.node().is_some().then_some(jid)
}

/// One PEP item: its id is the room, its payload the conference.
fn item(item: &Element) -> Option<Bookmark> {
    let room = room(item.attr("id")?)?;
    let el = item.children().find(|c| c.is("conference", NODE))?;
    Some(conference(room, el))
}

/// The IQ that asks our PEP service for every bookmark.
pub fn request(id: String) -> Iq {
    Iq::Get {
        from: None,
        to: None,
        id,
        payload: Element::builder("pubsub", PUBSUB)
            .append(Element::builder("items", PUBSUB).attr(xml_ncname!("node").to_owned(), NODE))
            .build(),
    }
}

/// The bookmarks in the answer to [`request`].
pub fn parse_items(payload: &Element) -> Vec<Bookmark> {
    payload
        .children()
        .filter(|c| c.is("items", PUBSUB) && c.attr("node") == Some(NODE))
        .flat_map(|items| items.children().filter(|c| c.is("item", PUBSUB)))
        .filter_map(item)
        .take(MAX_BOOKMARKS)
        .collect()
}

/// The bookmark changes in a PEP notification, if `message` is one about
/// our bookmarks from our own account (`own`); `None` otherwise, forged
/// ones included.
pub fn notification(message: &Message, own: &BareJid) -> Option<Vec<Change>> {
    let items = own_items(message, own, NODE)?;
    let changes = items
        .children()
        .filter_map(|c| {
            if c.is("item", PUBSUB_EVENT) {
                let room = room(c.attr("id")?)?;
                let el = c.children().find(|e| e.is("conference", NODE))?;
                Some(Change::Set(conference(room, el)))
            } else if c.is("retract", PUBSUB_EVENT) {
                Some(Change::Removed(room(c.attr("id")?)?))
            } else {
                None
            }
        })
        .take(MAX_BOOKMARKS)
        .collect();
    Some(changes)
}

/// The IQ that publishes `bookmark`, private to us.
pub fn publish(id: String, bookmark: &Bookmark, options: Options) -> Iq {
    let mut conference = Element::builder("conference", NODE).attr(
        xml_ncname!("autojoin").to_owned(),
        if bookmark.autojoin { "true" } else { "false" },
    );
    if let Some(name) = &bookmark.name {
        conference = conference.attr(xml_ncname!("name").to_owned(), name.as_str());
    }
    if let Some(nick) = &bookmark.nick {
        conference = conference.append(Element::builder("nick", NODE).append(nick.as_str()));
    }
    if let Some(password) = &bookmark.password {
        conference =
            conference.append(Element::builder("password", NODE).append(password.as_str()));
    }
    if let Some(extensions) = &bookmark.extensions {
        conference = conference.append(extensions.clone());
    }
    publish_private(
        id,
        NODE,
        bookmark.room.as_str(),
        conference.build(),
        options,
    )
}

/// The IQ that removes the bookmark of `room`, telling our other devices.
pub fn retract(id: String, room: &BareJid) -> Iq {
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: Element::builder("pubsub", PUBSUB)
            .append(
                Element::builder("retract", PUBSUB)
                    .attr(xml_ncname!("node").to_owned(), NODE)
                    .attr(xml_ncname!("notify").to_owned(), "true")
                    .append(
                        Element::builder("item", PUBSUB)
                            .attr(xml_ncname!("id").to_owned(), room.as_str()),
                    ),
            )
            .build(),
    }
}

/// The IQ that reads the legacy bookmarks from private XML storage.
pub fn legacy_request(id: String) -> Iq {
    Iq::Get {
        from: None,
        to: None,
        id,
        payload: Element::builder("query", PRIVATE)
            .append(Element::builder("storage", LEGACY))
            .build(),
    }
}

/// The room bookmarks in the answer to [`legacy_request`] (their URL
/// bookmarks are not rooms and are left alone).
pub fn parse_legacy(payload: &Element) -> Vec<Bookmark> {
    if !payload.is("query", PRIVATE) {
        return Vec::new();
    }
    payload
        .children()
        .filter(|c| c.is("storage", LEGACY))
        .flat_map(|storage| storage.children().filter(|c| c.is("conference", LEGACY)))
        .filter_map(|c| Some(conference(room(c.attr("jid")?)?, c)))
        .take(MAX_BOOKMARKS)
        .map(|mut b| {
            // Legacy extensions are another namespace's; they stay there.
            b.extensions = None;
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubsub::configure;

    const OWN: &str = "alice@example.org";

    fn el(xml: &str) -> Element {
        xml.parse().expect("xml")
    }

    fn message(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message")
    }

    fn own() -> BareJid {
        BareJid::new(OWN).expect("jid")
    }

    fn family() -> BareJid {
        BareJid::new("family@conference.example.org").expect("jid")
    }

    #[test]
    fn every_bookmark_of_an_items_answer_is_read_and_bad_entries_are_skipped() {
        let answer = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='urn:xmpp:bookmarks:1'>\
              <item id='family@conference.example.org'>\
                <conference xmlns='urn:xmpp:bookmarks:1' name='Family' autojoin='true'>\
                  <nick>alice</nick><password>s3cret</password>\
                  <extensions><state xmlns='urn:example:other'/></extensions>\
                </conference></item>\
              <item id='team@conference.example.org'>\
                <conference xmlns='urn:xmpp:bookmarks:1' autojoin='1'/></item>\
              <item id='conference.example.org'>\
                <conference xmlns='urn:xmpp:bookmarks:1'/></item>\
              <item id='x@y'><conference xmlns='urn:example:wrong'/></item>\
            </items></pubsub>");
        let got = parse_items(&answer);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].room, family());
        assert_eq!(got[0].name.as_deref(), Some("Family"));
        assert_eq!(got[0].nick.as_deref(), Some("alice"));
        assert_eq!(got[0].password.as_deref(), Some("s3cret"));
        assert!(got[0].autojoin && got[1].autojoin);
        let kept = got[0].extensions.as_ref().expect("extensions kept");
        assert!(kept.has_child("state", "urn:example:other"));
    }

    #[test]
    fn a_notification_from_our_own_account_counts() {
        let m = message(
            "<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/desk'>\
              <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                <items node='urn:xmpp:bookmarks:1'>\
                  <item id='family@conference.example.org'>\
                    <conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'><nick>al</nick></conference>\
                  </item>\
                  <retract id='old@conference.example.org'/>\
                </items></event></message>",
        );
        let changes = notification(&m, &own()).expect("ours");
        assert_eq!(
            changes,
            [
                Change::Set(Bookmark::autojoin(family(), Some("al".into()))),
                Change::Removed(BareJid::new("old@conference.example.org").expect("jid")),
            ]
        );
    }

    #[test]
    fn a_forged_notification_changes_nothing() {
        for from in [
            "mallory@example.org",
            "alice@example.org/phone",
            "example.org",
            "family@conference.example.org",
        ] {
            let m = message(&format!(
                "<message xmlns='jabber:client' from='{from}' to='alice@example.org/desk'>\
                  <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                    <items node='urn:xmpp:bookmarks:1'>\
                      <item id='evil@conference.example.org'>\
                        <conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/>\
                      </item></items></event></message>"
            ));
            assert_eq!(notification(&m, &own()), None, "from {from}");
        }
    }

    #[test]
    fn another_node_is_not_about_bookmarks() {
        let m = message(
            "<message xmlns='jabber:client' from='alice@example.org'>\
              <event xmlns='http://jabber.org/protocol/pubsub#event'>\
                <items node='urn:xmpp:avatar:metadata'><item id='x'/></items></event></message>",
        );
        assert_eq!(notification(&m, &own()), None);
    }

    #[test]
    fn publishing_is_private_and_keeps_what_others_added() {
        let mut bookmark = Bookmark::autojoin(family(), Some("alice".into()));
        bookmark.name = Some("Family".into());
        bookmark.extensions = Some(el(
            "<extensions xmlns='urn:xmpp:bookmarks:1'><state xmlns='urn:example:other'/></extensions>",
        ));
        let iq = Element::from(publish("p1".into(), &bookmark, Options::Full));
        let xml = String::from(&iq);
        assert!(xml.contains("<value>whitelist</value>"), "{xml}");
        assert!(xml.contains("pubsub#access_model"), "{xml}");
        // What we publish reads back as the same bookmark, extensions included.
        let pubsub = iq.get_child("pubsub", PUBSUB).expect("pubsub");
        let published = pubsub
            .get_child("publish", PUBSUB)
            .and_then(|p| p.get_child("item", PUBSUB))
            .expect("item");
        assert_eq!(item(published), Some(bookmark));
    }

    #[test]
    fn the_fallback_for_ejabberd_asks_less_and_sizes_the_node() {
        let bookmark = Bookmark::autojoin(family(), None);
        let minimal = String::from(&Element::from(publish(
            "p2".into(),
            &bookmark,
            Options::Minimal,
        )));
        assert!(!minimal.contains("pubsub#max_items"), "{minimal}");
        assert!(!minimal.contains("send_last_published_item"), "{minimal}");
        assert!(minimal.contains("pubsub#access_model"), "{minimal}");
        let configure = String::from(&Element::from(configure("c1".into(), NODE)));
        assert!(
            configure.contains("<configure node='urn:xmpp:bookmarks:1'>"),
            "{configure}"
        );
        assert!(configure.contains("pubsub#node_config"), "{configure}");
        assert!(configure.contains("<value>max</value>"), "{configure}");
        assert!(configure.contains("pubsub#notify_retract"), "{configure}");
    }

    #[test]
    fn retracting_notifies_our_other_devices() {
        let xml = String::from(&Element::from(retract("r1".into(), &family())));
        assert!(
            xml.contains("<retract node='urn:xmpp:bookmarks:1' notify='true'>"),
            "{xml}"
        );
        assert!(
            xml.contains("<item id='family@conference.example.org'/>"),
            "{xml}"
        );
    }

    #[test]
    fn the_legacy_list_is_read_for_migration() {
        let answer = el("<query xmlns='jabber:iq:private'>\
            <storage xmlns='storage:bookmarks'>\
              <conference name='Council of Oberon' autojoin='true' jid='council@conference.example.org'>\
                <nick>Puck</nick></conference>\
              <conference jid='not a jid'/>\
              <url name='Complete Works' url='http://example.org/works.html'/>\
            </storage></query>");
        let got = parse_legacy(&answer);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].room.as_str(), "council@conference.example.org");
        assert_eq!(got[0].name.as_deref(), Some("Council of Oberon"));
        assert_eq!(got[0].nick.as_deref(), Some("Puck"));
        assert!(got[0].autojoin);
        let xml = String::from(&Element::from(legacy_request("l1".into())));
        assert!(
            xml.contains("<storage xmlns='storage:bookmarks'/>"),
            "{xml}"
        );
    }

    #[test]
    fn lists_and_fields_are_bounded() {
        let mut xml = String::from(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'>",
        );
        let long = "n".repeat(5_000);
        for i in 0..(MAX_BOOKMARKS + 50) {
            xml.push_str(&format!(
                "<item id='r{i}@conference.example.org'>\
                   <conference xmlns='urn:xmpp:bookmarks:1' name='{long}'/></item>"
            ));
        }
        xml.push_str("</items></pubsub>");
        let got = parse_items(&el(&xml));
        assert_eq!(got.len(), MAX_BOOKMARKS);
        assert_eq!(got[0].name.as_ref().map(String::len), Some(MAX_TEXT));
    }
}
