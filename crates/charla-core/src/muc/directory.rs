//! Finding rooms (XEP-0045 §6, over XEP-0030 service discovery): the
//! server's group chat service, the public rooms it lists, and what a room
//! says of itself before anyone joins it. Parsers only; every answer is
//! read leniently (a malformed item is skipped, not the whole list) and
//! within bounds.

use serde::Serialize;
use ts_rs::TS;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

use super::MAX_TEXT_BYTES;

/// Items read from one disco#items answer.
pub const MAX_ITEMS: usize = 1_000;

const ROOMINFO: &str = "http://jabber.org/protocol/muc#roominfo";
const MAM: &str = "urn:xmpp:mam:2";

/// A room a service lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PublicRoom {
    /// Its address.
    pub jid: String,
    /// Its name, if the service gives one.
    pub name: Option<String>,
}

/// What a room says of itself (its disco#info, XEP-0045 §6.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RoomInfo {
    /// Its name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Only members may join (`muc_membersonly`).
    pub members_only: bool,
    /// Everyone sees occupants' addresses (`muc_nonanonymous`).
    pub non_anonymous: bool,
    /// A password is needed (`muc_passwordprotected`).
    pub password_protected: bool,
    /// Listed in the service's directory (`muc_public`).
    pub public: bool,
    /// Kept when empty (`muc_persistent`).
    pub persistent: bool,
    /// Only those with voice may speak (`muc_moderated`).
    pub moderated: bool,
    /// Its lines are archived (XEP-0313).
    pub archived: bool,
    /// Occupants may change the subject, if the room says
    /// (`muc#roominfo_changesubject`); otherwise only moderators can.
    pub subject_changeable: bool,
    /// How many are in it, if the room says.
    pub occupants: Option<u32>,
    /// Its moderators may delete anyone's line (XEP-0425, in the version
    /// [`RoomInfo::moderation_current`] says).
    pub moderation: bool,
    /// The room advertises XEP-0425's current version
    /// (`urn:xmpp:message-moderate:1`), not only the one before.
    #[serde(skip)]
    #[ts(skip)]
    pub moderation_current: bool,
}

/// The items of a disco#items answer: valid bare JIDs (no resource, no
/// node), with their names, at most [`MAX_ITEMS`].
pub(crate) fn parse_items(answer: &Element) -> Vec<PublicRoom> {
    if !answer.is("query", ns::DISCO_ITEMS) {
        return Vec::new();
    }
    answer
        .children()
        .filter(|c| c.is("item", ns::DISCO_ITEMS) && c.attr("node").is_none())
        .filter_map(|item| {
            let jid = BareJid::new(item.attr("jid")?).ok()?;
            Some(PublicRoom {
                jid: jid.to_string(),
                name: item
                    .attr("name")
                    .map(|n| super::truncate(n.trim(), MAX_TEXT_BYTES))
                    .filter(|n| !n.is_empty()),
            })
        })
        .take(MAX_ITEMS)
        .collect()
}

/// Whether a disco#info answer is a group chat service's: identity
/// `conference/text` and the MUC feature.
pub(crate) fn is_room_service(answer: &Element) -> bool {
    answer.is("query", ns::DISCO_INFO)
        && answer.children().any(|c| {
            c.is("identity", ns::DISCO_INFO)
                && c.attr("category") == Some("conference")
                && c.attr("type") == Some("text")
        })
        && answer
            .children()
            .any(|c| c.is("feature", ns::DISCO_INFO) && c.attr("var") == Some(ns::MUC))
}

/// A room's disco#info answer read as [`RoomInfo`]; `None` if it is not a
/// room's (no `conference` identity or no MUC feature).
pub(crate) fn parse_info(answer: &Element) -> Option<RoomInfo> {
    if !answer.is("query", ns::DISCO_INFO) {
        return None;
    }
    let identity = answer
        .children()
        .find(|c| c.is("identity", ns::DISCO_INFO) && c.attr("category") == Some("conference"))?;
    let features: Vec<&str> = answer
        .children()
        .filter(|c| c.is("feature", ns::DISCO_INFO))
        .filter_map(|c| c.attr("var"))
        .collect();
    if !features.contains(&ns::MUC) {
        return None;
    }
    let has = |f: &str| features.contains(&f);
    let text = |t: &str| Some(super::truncate(t.trim(), MAX_TEXT_BYTES)).filter(|t| !t.is_empty());
    let mut info = RoomInfo {
        name: identity.attr("name").and_then(text),
        members_only: has("muc_membersonly"),
        non_anonymous: has("muc_nonanonymous"),
        password_protected: has("muc_passwordprotected"),
        public: has("muc_public"),
        persistent: has("muc_persistent"),
        moderated: has("muc_moderated"),
        archived: has(MAM),
        moderation: has(crate::retraction::MODERATE) || has(crate::retraction::MODERATE_0),
        moderation_current: has(crate::retraction::MODERATE),
        ..RoomInfo::default()
    };
    let form = answer.children().find(|c| {
        c.is("x", ns::DATA_FORMS)
            && c.children().any(|f| {
                f.is("field", ns::DATA_FORMS)
                    && f.attr("var") == Some("FORM_TYPE")
                    && f.get_child("value", ns::DATA_FORMS).map(Element::text)
                        == Some(ROOMINFO.to_owned())
            })
    });
    for field in form.iter().flat_map(|f| f.children()) {
        let value = field
            .get_child("value", ns::DATA_FORMS)
            .map(Element::text)
            .unwrap_or_default();
        match field.attr("var") {
            Some("muc#roominfo_description") => info.description = text(&value),
            Some("muc#roominfo_changesubject") => {
                info.subject_changeable = matches!(value.trim(), "1" | "true")
            }
            Some("muc#roominfo_occupants") => info.occupants = value.trim().parse().ok(),
            Some("muc#roomconfig_roomname") if info.name.is_none() => info.name = text(&value),
            _ => {}
        }
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().expect("xml")
    }

    #[test]
    fn a_services_listing_keeps_valid_rooms_with_their_names() {
        let answer = el("<query xmlns='http://jabber.org/protocol/disco#items'>\
              <item jid='family@conference.example.org' name=' Family '/>\
              <item jid='team@conference.example.org'/>\
              <item jid='x@conference.example.org/nick'/>\
              <item jid='@@bad'/>\
              <item jid='conference.example.org' node='some-node'/>\
            </query>");
        let rooms = parse_items(&answer);
        assert_eq!(
            rooms,
            [
                PublicRoom {
                    jid: "family@conference.example.org".into(),
                    name: Some("Family".into())
                },
                PublicRoom {
                    jid: "team@conference.example.org".into(),
                    name: None
                },
            ]
        );
        assert!(parse_items(&el("<query xmlns='jabber:iq:roster'/>")).is_empty());
    }

    #[test]
    fn a_listing_is_capped() {
        let mut xml = String::from("<query xmlns='http://jabber.org/protocol/disco#items'>");
        for i in 0..MAX_ITEMS + 10 {
            xml.push_str(&format!("<item jid='r{i}@conference.example.org'/>"));
        }
        xml.push_str("</query>");
        assert_eq!(parse_items(&el(&xml)).len(), MAX_ITEMS);
    }

    #[test]
    fn a_group_chat_service_is_told_by_identity_and_feature() {
        let service = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='conference' type='text' name='Chatrooms'/>\
              <feature var='http://jabber.org/protocol/muc'/></query>");
        assert!(is_room_service(&service));
        let upload = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='store' type='file'/>\
              <feature var='urn:xmpp:http:upload:0'/></query>");
        assert!(!is_room_service(&upload));
        let no_feature = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='conference' type='text'/></query>");
        assert!(!is_room_service(&no_feature));
    }

    #[test]
    fn a_rooms_info_is_read_from_its_features_and_form() {
        let answer = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='conference' type='text' name='Family'/>\
              <feature var='http://jabber.org/protocol/muc'/>\
              <feature var='muc_membersonly'/><feature var='muc_nonanonymous'/>\
              <feature var='muc_persistent'/><feature var='muc_hidden'/>\
              <feature var='urn:xmpp:mam:2'/>\
              <x xmlns='jabber:x:data' type='result'>\
                <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>\
                <field var='muc#roominfo_description'><value>Our family</value></field>\
                <field var='muc#roominfo_changesubject'><value>1</value></field>\
                <field var='muc#roominfo_occupants'><value>3</value></field>\
              </x></query>");
        let info = parse_info(&answer).expect("a room");
        assert_eq!(info.name.as_deref(), Some("Family"));
        assert_eq!(info.description.as_deref(), Some("Our family"));
        assert!(info.members_only && info.non_anonymous && info.persistent && info.archived);
        assert!(!info.public && !info.password_protected && !info.moderated);
        assert!(info.subject_changeable);
        assert_eq!(info.occupants, Some(3));
    }

    #[test]
    fn an_answer_that_is_no_rooms_is_not_read_as_one() {
        let user = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='account' type='registered'/></query>");
        assert!(parse_info(&user).is_none());
        // A form of another type does not speak for the room.
        let other_form = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
              <identity category='conference' type='text'/>\
              <feature var='http://jabber.org/protocol/muc'/>\
              <x xmlns='jabber:x:data' type='result'>\
                <field var='FORM_TYPE'><value>urn:example:other</value></field>\
                <field var='muc#roominfo_changesubject'><value>1</value></field>\
              </x></query>");
        assert!(!parse_info(&other_form).expect("a room").subject_changeable);
    }
}
