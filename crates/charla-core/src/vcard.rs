//! Profiles: vCard4 over PEP (XEP-0292), with vcard-temp (XEP-0054) as the
//! fallback, and the user nickname (XEP-0172). Only the fields Charla shows
//! and edits are read; publishing vcard-temp keeps every other field.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::pubsub::{pubsub::Items, PubSub};
use xmpp_parsers::vcard::VCard;

/// The PEP node of vCard4 (XEP-0292).
pub(crate) const VCARD4_NODE: &str = "urn:xmpp:vcard4";
const VCARD4: &str = "urn:ietf:params:xml:ns:vcard-4.0";
/// Longest text field accepted when editing our own profile.
pub const MAX_FIELD: usize = 200;

/// What a contact (or we) tell about themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Profile {
    /// Full name (`FN`).
    pub full_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Telephone numbers.
    pub phones: Vec<String>,
    /// A web address.
    pub url: Option<String>,
    /// Birthday, as written (usually `YYYY-MM-DD`).
    pub birthday: Option<String>,
    /// Free text about them.
    pub note: Option<String>,
}

impl Profile {
    /// Whether it says nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Profile::default()
    }
}

/// The PubSub request for someone's vCard4 item.
pub(crate) fn vcard4_request() -> PubSub {
    let mut items = Items::new(VCARD4_NODE);
    items.max_items = Some(1);
    PubSub::Items(items)
}

/// The `<vcard/>` in a vCard4 PEP answer (`None` if there is none).
pub(crate) fn vcard4_of_items(payload: Option<Element>) -> Option<Element> {
    let PubSub::Items(items) = crate::pubsub::parse(payload?)? else {
        return None;
    };
    let vcard = items.items.into_iter().last()?.payload?;
    vcard.is("vcard", VCARD4).then_some(vcard)
}

/// The profile in a vCard4 PEP answer (`None` if there is none).
pub(crate) fn parse_vcard4_items(payload: Option<Element>) -> Option<Profile> {
    vcard4_of_items(payload).map(|vcard| parse_vcard4(&vcard))
}

fn clean(s: String) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(4 * MAX_FIELD).collect())
}

/// Reads a vCard4 `<vcard/>`.
pub(crate) fn parse_vcard4(vcard: &Element) -> Profile {
    // Each property holds its value in a typed child (<text/>, <uri/>, <date/>...).
    let values = |name: &str| -> Vec<String> {
        vcard
            .children()
            .filter(|c| c.is(name, VCARD4))
            .filter_map(|c| {
                c.children()
                    .find(|v| !v.is("parameters", VCARD4))
                    .and_then(|v| clean(v.text()))
            })
            .collect()
    };
    let first = |name: &str| values(name).into_iter().next();
    Profile {
        full_name: first("fn"),
        nickname: first("nickname"),
        emails: values("email"),
        phones: values("tel")
            .into_iter()
            .map(|t| t.strip_prefix("tel:").map(str::to_owned).unwrap_or(t))
            .collect(),
        url: first("url"),
        birthday: first("bday"),
        note: first("note"),
    }
}

/// Reads a vcard-temp.
pub(crate) fn parse_vcard_temp(payload: Option<Element>) -> Option<Profile> {
    let vcard = VCard::try_from(payload?).ok()?;
    let named = |name: &'static str| vcard.payloads.iter().filter(move |e| e.name() == name);
    let text = |name: &'static str| named(name).find_map(|e| clean(e.text()));
    let inner = |name: &'static str, child: &str| -> Vec<String> {
        named(name)
            .filter_map(|e| {
                e.children()
                    .find(|c| c.name() == child)
                    .and_then(|c| clean(c.text()))
                    .or_else(|| clean(e.text()))
            })
            .collect()
    };
    Some(Profile {
        full_name: text("FN"),
        nickname: text("NICKNAME"),
        emails: inner("EMAIL", "USERID"),
        phones: inner("TEL", "NUMBER"),
        url: text("URL"),
        birthday: text("BDAY"),
        note: text("DESC"),
    })
}

fn leaf(name: &str, ns: &str, text: &str) -> Element {
    let mut e = Element::builder(name, ns).build();
    e.append_text(text);
    e
}

/// Our vCard4 (XEP-0292 §3): `current` (as published, if any) with
/// `full_name` and `nickname` set and every other property kept.
pub(crate) fn vcard4(
    current: Option<Element>,
    full_name: Option<&str>,
    nickname: Option<&str>,
) -> Element {
    let mut vcard = Element::builder("vcard", VCARD4).build();
    for kept in current
        .iter()
        .flat_map(|c| c.children())
        .filter(|c| !c.is("fn", VCARD4) && !c.is("nickname", VCARD4))
    {
        vcard.append_child(kept.clone());
    }
    for (prop, value) in [("fn", full_name), ("nickname", nickname)] {
        if let Some(value) = value {
            let mut p = Element::builder(prop, VCARD4).build();
            p.append_child(leaf("text", VCARD4, value));
            vcard.append_child(p);
        }
    }
    vcard
}

/// Our vcard-temp with `full_name` and `nickname` set, every other field
/// (and the photo) kept as it was.
pub(crate) fn edit_vcard_temp(
    mut vcard: VCard,
    full_name: Option<&str>,
    nickname: Option<&str>,
) -> VCard {
    vcard
        .payloads
        .retain(|e| e.name() != "FN" && e.name() != "NICKNAME");
    for (name, value) in [("FN", full_name), ("NICKNAME", nickname)] {
        if let Some(value) = value {
            vcard.payloads.push(leaf(name, ns::VCARD, value));
        }
    }
    vcard
}

/// Our nickname as XEP-0172 `<nick/>`.
pub(crate) fn nick(nickname: &str) -> Element {
    leaf("nick", ns::NICK, nickname)
}

/// Trims a field the user typed: `None` if empty; too long is an error.
pub(crate) fn field(value: Option<&str>) -> Result<Option<String>, crate::CoreError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > MAX_FIELD => Err(crate::CoreError::new(
            crate::ErrorCode::InvalidInput,
            "the text is too long",
        )),
        v => Ok(v.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vcard4_items() {
        let xml = "<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='urn:xmpp:vcard4'><item id='current'>\
            <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
            <fn><text>Alice Liddell</text></fn><nickname><text>ali</text></nickname>\
            <email><text>a@example.org</text></email>\
            <tel><parameters/><uri>tel:+34-600</uri></tel>\
            <bday><date>1852-05-04</date></bday>\
            </vcard></item></items></pubsub>";
        let p = parse_vcard4_items(Some(xml.parse().expect("xml"))).expect("profile");
        assert_eq!(p.full_name.as_deref(), Some("Alice Liddell"));
        assert_eq!(p.nickname.as_deref(), Some("ali"));
        assert_eq!(p.emails, ["a@example.org"]);
        assert_eq!(p.phones, ["+34-600"]);
        assert_eq!(p.birthday.as_deref(), Some("1852-05-04"));
        let ours = parse_vcard4(&vcard4(None, Some("A L"), None));
        assert_eq!(ours.full_name.as_deref(), Some("A L"));
        assert_eq!(ours.nickname, None);
    }

    #[test]
    fn editing_the_vcard4_keeps_the_other_properties() {
        let xml = "<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='urn:xmpp:vcard4'><item id='current'>\
            <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
            <fn><text>Old</text></fn><nickname><text>o</text></nickname>\
            <email><text>a@example.org</text></email><note><text>hi</text></note>\
            </vcard></item></items></pubsub>";
        let current = vcard4_of_items(Some(xml.parse().expect("xml")));
        let edited = parse_vcard4(&vcard4(current, Some("New Name"), None));
        assert_eq!(edited.full_name.as_deref(), Some("New Name"));
        assert_eq!(edited.nickname, None);
        assert_eq!(edited.emails, ["a@example.org"]);
        assert_eq!(edited.note.as_deref(), Some("hi"));
    }

    #[test]
    fn reads_and_edits_vcard_temp_keeping_other_fields() {
        let xml = "<vCard xmlns='vcard-temp'><FN>Old</FN><NICKNAME>o</NICKNAME>\
            <EMAIL><INTERNET/><USERID>a@x</USERID></EMAIL><DESC>hi</DESC></vCard>";
        let vcard = VCard::try_from(xml.parse::<Element>().expect("xml")).expect("vcard");
        let edited = edit_vcard_temp(vcard, Some("New Name"), None);
        let p = parse_vcard_temp(Some(edited.into())).expect("profile");
        assert_eq!(p.full_name.as_deref(), Some("New Name"));
        assert_eq!(p.nickname, None);
        assert_eq!(p.emails, ["a@x"]);
        assert_eq!(p.note.as_deref(), Some("hi"));
    }

    #[test]
    fn typed_fields_are_trimmed_and_bounded() {
        assert_eq!(field(Some("  ")).expect("empty"), None);
        assert_eq!(field(Some(" Al ")).expect("ok").as_deref(), Some("Al"));
        assert!(field(Some(&"x".repeat(MAX_FIELD + 1))).is_err());
    }
}
