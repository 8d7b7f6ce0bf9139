//! Creating a room as a family group or a public channel: the room's
//! configuration form (XEP-0045 §10.1.3, a XEP-0004 form) filled with the
//! settings each needs. Only fields the room's own form offers are sent,
//! so Prosody's and ejabberd's different field sets both work (archiving is
//! `muc#roomconfig_enablearchiving` on Prosody, `mam` on ejabberd).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use crate::muc::MUC_OWNER;

const DATA_FORMS: &str = "jabber:x:data";
const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";
/// Longest room name or description sent (bytes).
const MAX_TEXT: usize = 1_024;

/// What kind of room to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RoomKind {
    /// A family or team group: members only, everyone sees who is who
    /// (non-anonymous), kept when empty, not listed, members may invite.
    PrivateGroup,
    /// A public channel: anyone may join, only moderators see addresses,
    /// kept when empty, listed in the service's directory.
    PublicChannel,
}

/// A room to create: its kind, name and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoomPreset {
    /// What kind of room.
    pub kind: RoomKind,
    /// Its name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
}

/// What an owner changes of a room here: its name, its description, and
/// whether only members may join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoomSettings {
    /// Its name (empty: none).
    pub name: String,
    /// Its description (empty: none).
    pub description: String,
    /// Only members may join.
    pub members_only: bool,
}

impl RoomSettings {
    fn value(&self, var: &str) -> Option<&str> {
        Some(match var {
            "muc#roomconfig_roomname" => capped(self.name.trim()),
            "muc#roomconfig_roomdesc" => capped(self.description.trim()),
            "muc#roomconfig_membersonly" => {
                if self.members_only {
                    "1"
                } else {
                    "0"
                }
            }
            _ => return None,
        })
    }
}

/// `text` cut to [`MAX_TEXT`] bytes at a character boundary.
fn capped(text: &str) -> &str {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl RoomPreset {
    /// The value this preset gives the field `var`, if it sets it.
    fn value(&self, var: &str) -> Option<&str> {
        let private = self.kind == RoomKind::PrivateGroup;
        let flag = |on: bool| if on { "1" } else { "0" };
        Some(match var {
            "muc#roomconfig_roomname" => capped(self.name.trim()),
            "muc#roomconfig_roomdesc" => capped(self.description.as_deref()?.trim()),
            "muc#roomconfig_persistentroom" => "1",
            "muc#roomconfig_membersonly" => flag(private),
            "muc#roomconfig_whois" => {
                if private {
                    "anyone"
                } else {
                    "moderators"
                }
            }
            "muc#roomconfig_publicroom" => flag(!private),
            "muc#roomconfig_allowinvites" => "1",
            "muc#roomconfig_changesubject" => flag(private),
            "muc#roomconfig_moderatedroom" => "0",
            "muc#roomconfig_passwordprotectedroom" => "0",
            // Archiving, under each server's name for it.
            "muc#roomconfig_enablearchiving" | "mam" => "1",
            _ => return None,
        })
    }
}

/// The IQ that asks the room we just created for its configuration form.
pub(crate) fn form_request(id: String, room: &BareJid) -> Iq {
    Iq::Get {
        from: None,
        to: Some(Jid::from(room.clone())),
        id,
        payload: form_query(),
    }
}

/// The query that asks a room for its configuration form (owners only).
pub(crate) fn form_query() -> Element {
    Element::builder("query", MUC_OWNER).build()
}

/// The form in a room's answer to [`form_query`].
fn form(answer: &Element) -> Option<&Element> {
    if !answer.is("query", MUC_OWNER) {
        return None;
    }
    answer
        .children()
        .find(|c| c.is("x", DATA_FORMS) && c.attr("type") == Some("form"))
}

/// The current settings in a room's configuration form; `None` if the
/// answer holds no form. Fields the room does not offer read as empty or
/// off.
pub(crate) fn read_settings(answer: &Element) -> Option<RoomSettings> {
    let form = form(answer)?;
    let value = |var: &str| {
        form.children()
            .find(|f| f.is("field", DATA_FORMS) && f.attr("var") == Some(var))
            .and_then(|f| f.get_child("value", DATA_FORMS))
            .map(|v| capped(v.text().trim()).to_owned())
            .unwrap_or_default()
    };
    Some(RoomSettings {
        name: value("muc#roomconfig_roomname"),
        description: value("muc#roomconfig_roomdesc"),
        members_only: matches!(value("muc#roomconfig_membersonly").as_str(), "1" | "true"),
    })
}

/// The room's form filled in with `settings`: the query that submits it
/// (only the fields the form offers), or `None` without a form.
pub(crate) fn submit_settings(answer: &Element, settings: &RoomSettings) -> Option<Element> {
    fill(answer, |var| settings.value(var))
}

/// The form in `answer` with the fields `value_of` sets, as a submit
/// query; `None` without a form.
fn fill<'a>(answer: &Element, value_of: impl Fn(&str) -> Option<&'a str>) -> Option<Element> {
    let form = form(answer)?;
    let mut filled =
        Element::builder("x", DATA_FORMS).attr(xml_ncname!("type").to_owned(), "submit");
    filled = filled.append(field("FORM_TYPE", ROOMCONFIG));
    for offered in form.children().filter(|c| c.is("field", DATA_FORMS)) {
        let Some(var) = offered.attr("var") else {
            continue;
        };
        if let Some(value) = value_of(var) {
            filled = filled.append(field(var, value));
        }
    }
    Some(Element::builder("query", MUC_OWNER).append(filled).build())
}

/// The room's form filled in for `preset`: the IQ that submits it, or
/// `None` if the answer holds no form (the caller then takes the
/// defaults). Only the fields the form offers are sent, and only those the
/// preset sets, with the form's `FORM_TYPE`.
pub(crate) fn submit(
    id: String,
    room: &BareJid,
    answer: &Element,
    preset: &RoomPreset,
) -> Option<Iq> {
    Some(Iq::Set {
        from: None,
        to: Some(Jid::from(room.clone())),
        id,
        payload: fill(answer, |var| preset.value(var))?,
    })
}

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", DATA_FORMS)
        .attr(xml_ncname!("var").to_owned(), var)
        .append(Element::builder("value", DATA_FORMS).append(value))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> BareJid {
        BareJid::new("family@conference.example.org").expect("jid")
    }

    /// The fields of a submitted form, as (var, value).
    fn submitted(iq: Iq) -> Vec<(String, String)> {
        let el = Element::from(iq);
        let x = el
            .get_child("query", MUC_OWNER)
            .and_then(|q| q.get_child("x", DATA_FORMS))
            .expect("form");
        assert_eq!(x.attr("type"), Some("submit"));
        x.children()
            .map(|f| {
                (
                    f.attr("var").unwrap_or_default().to_owned(),
                    f.get_child("value", DATA_FORMS)
                        .map(Element::text)
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Prosody 0.12's form (abridged: the fields that matter, and one we
    /// leave as it is).
    const PROSODY: &str = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
        <x xmlns='jabber:x:data' type='form'>\
          <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
          <field var='muc#roomconfig_roomname' type='text-single'/>\
          <field var='muc#roomconfig_roomdesc' type='text-single'/>\
          <field var='muc#roomconfig_persistentroom' type='boolean'/>\
          <field var='muc#roomconfig_publicroom' type='boolean'><value>1</value></field>\
          <field var='muc#roomconfig_membersonly' type='boolean'/>\
          <field var='muc#roomconfig_whois' type='list-single'><value>moderators</value>\
            <option><value>moderators</value></option><option><value>anyone</value></option></field>\
          <field var='muc#roomconfig_allowinvites' type='boolean'/>\
          <field var='muc#roomconfig_changesubject' type='boolean'/>\
          <field var='muc#roomconfig_enablearchiving' type='boolean'/>\
          <field var='muc#roomconfig_historylength' type='text-single'><value>20</value></field>\
        </x></query>";

    #[test]
    fn a_private_group_is_members_only_non_anonymous_kept_unlisted_and_archived() {
        let preset = RoomPreset {
            kind: RoomKind::PrivateGroup,
            name: " Family ".into(),
            description: Some("Sunday lunches".into()),
        };
        let answer: Element = PROSODY.parse().expect("xml");
        let fields = submitted(submit("c1".into(), &room(), &answer, &preset).expect("form"));
        let get = |var: &str| {
            fields
                .iter()
                .find(|(v, _)| v == var)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(get("FORM_TYPE"), Some(ROOMCONFIG));
        assert_eq!(get("muc#roomconfig_roomname"), Some("Family"));
        assert_eq!(get("muc#roomconfig_roomdesc"), Some("Sunday lunches"));
        assert_eq!(get("muc#roomconfig_membersonly"), Some("1"));
        assert_eq!(get("muc#roomconfig_whois"), Some("anyone"));
        assert_eq!(get("muc#roomconfig_persistentroom"), Some("1"));
        assert_eq!(get("muc#roomconfig_publicroom"), Some("0"));
        assert_eq!(get("muc#roomconfig_enablearchiving"), Some("1"));
        assert_eq!(get("muc#roomconfig_historylength"), None, "left as it is");
        assert_eq!(get("mam"), None, "not offered here");
    }

    #[test]
    fn a_public_channel_is_open_semi_anonymous_and_listed_with_ejabberds_fields() {
        let preset = RoomPreset {
            kind: RoomKind::PublicChannel,
            name: "Friday football".into(),
            description: None,
        };
        let answer: Element = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
            <x xmlns='jabber:x:data' type='form'>\
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
              <field var='muc#roomconfig_roomname' type='text-single'/>\
              <field var='muc#roomconfig_roomdesc' type='text-single'/>\
              <field var='muc#roomconfig_membersonly' type='boolean'/>\
              <field var='muc#roomconfig_whois' type='list-single'/>\
              <field var='muc#roomconfig_publicroom' type='boolean'/>\
              <field var='mam' type='boolean'/>\
            </x></query>"
            .parse()
            .expect("xml");
        let fields = submitted(submit("c1".into(), &room(), &answer, &preset).expect("form"));
        let vars: Vec<&str> = fields.iter().map(|(v, _)| v.as_str()).collect();
        assert!(
            !vars.contains(&"muc#roomconfig_roomdesc"),
            "no description given"
        );
        assert!(fields.contains(&("muc#roomconfig_membersonly".into(), "0".into())));
        assert!(fields.contains(&("muc#roomconfig_whois".into(), "moderators".into())));
        assert!(fields.contains(&("muc#roomconfig_publicroom".into(), "1".into())));
        assert!(fields.contains(&("mam".into(), "1".into())));
    }

    #[test]
    fn an_owners_settings_are_read_from_the_form_and_only_offered_fields_sent() {
        let answer: Element = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
            <x xmlns='jabber:x:data' type='form'>\
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
              <field var='muc#roomconfig_roomname' type='text-single'><value>Family</value></field>\
              <field var='muc#roomconfig_membersonly' type='boolean'><value>1</value></field>\
              <field var='muc#roomconfig_whois' type='list-single'><value>anyone</value></field>\
            </x></query>"
            .parse()
            .expect("xml");
        let read = read_settings(&answer).expect("settings");
        assert_eq!(
            read,
            RoomSettings {
                name: "Family".into(),
                description: String::new(),
                members_only: true
            }
        );
        let changed = RoomSettings {
            name: "Family Garcia".into(),
            description: "Sunday lunches".into(),
            members_only: false,
        };
        let query = submit_settings(&answer, &changed).expect("form");
        let fields = submitted(Iq::Set {
            from: None,
            to: None,
            id: "x".into(),
            payload: query,
        });
        assert_eq!(
            fields,
            [
                ("FORM_TYPE".into(), ROOMCONFIG.into()),
                ("muc#roomconfig_roomname".into(), "Family Garcia".into()),
                ("muc#roomconfig_membersonly".into(), "0".into()),
            ],
            "no description field offered, none sent; whois left alone"
        );
        let roster: Element = "<query xmlns='jabber:iq:roster'/>".parse().expect("xml");
        assert!(read_settings(&roster).is_none());
    }

    #[test]
    fn an_answer_without_a_form_takes_the_defaults() {
        let preset = RoomPreset {
            kind: RoomKind::PrivateGroup,
            name: "x".into(),
            description: None,
        };
        let empty: Element = "<query xmlns='http://jabber.org/protocol/muc#owner'/>"
            .parse()
            .expect("xml");
        assert!(submit("c1".into(), &room(), &empty, &preset).is_none());
    }
}
