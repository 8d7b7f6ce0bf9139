//! Moderating and administering a room (XEP-0045 §8 and §9): an occupant's
//! role (kick, voice) and a user's affiliation (member, admin, owner, ban),
//! changed and listed through the `muc#admin` namespace. Builders and the
//! list parser only; the room decides, and its presences tell the change.

use serde::Serialize;
use ts_rs::TS;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use super::{Affiliation, Role, MAX_NICK_BYTES, MAX_TEXT_BYTES};

/// XEP-0045's admin namespace.
pub(crate) const MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";

/// Entries read from one affiliation list; a room sending more loses the
/// rest.
pub const MAX_LIST: usize = 10_000;

/// Someone with an affiliation, as the room's list gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Affiliated {
    /// Their bare JID.
    pub jid: String,
    /// Their affiliation.
    pub affiliation: Affiliation,
    /// Their reserved nick, if the room tells.
    pub nick: Option<String>,
    /// Why (a ban's reason), if the room tells.
    pub reason: Option<String>,
}

fn query(item: Element) -> Element {
    Element::builder("query", MUC_ADMIN).append(item).build()
}

fn with_reason(
    item: xmpp_parsers::minidom::ElementBuilder,
    reason: Option<&str>,
) -> xmpp_parsers::minidom::ElementBuilder {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => item.append(
            Element::builder("reason", MUC_ADMIN).append(super::truncate(reason, MAX_TEXT_BYTES)),
        ),
        None => item,
    }
}

/// The query that gives `jid` the affiliation `affiliation` (§9.1 ban,
/// §9.3 member, §10.3 owner, §10.6 admin, and back to none).
pub(crate) fn set_affiliation(
    jid: &BareJid,
    affiliation: Affiliation,
    reason: Option<&str>,
) -> Element {
    let item = Element::builder("item", MUC_ADMIN)
        .attr(xml_ncname!("affiliation").to_owned(), affiliation.as_str())
        .attr(xml_ncname!("jid").to_owned(), jid.as_str());
    query(with_reason(item, reason).build())
}

/// The query that gives the occupant `nick` the role `role` (§8.2 kick:
/// none; §8.3 and §8.4 voice: participant or visitor; §9.6 moderator).
/// `None` for a nick no room could have.
pub(crate) fn set_role(nick: &str, role: Role, reason: Option<&str>) -> Option<Element> {
    if nick.is_empty() || nick.len() > MAX_NICK_BYTES {
        return None;
    }
    let item = Element::builder("item", MUC_ADMIN)
        .attr(xml_ncname!("nick").to_owned(), nick)
        .attr(xml_ncname!("role").to_owned(), role.as_str());
    Some(query(with_reason(item, reason).build()))
}

/// The query that asks for everyone with `affiliation` (§9.2 bans, §9.5
/// members, §10.5 owners, §10.8 admins).
pub(crate) fn list_request(affiliation: Affiliation) -> Element {
    query(
        Element::builder("item", MUC_ADMIN)
            .attr(xml_ncname!("affiliation").to_owned(), affiliation.as_str())
            .build(),
    )
}

/// The list in the room's answer to [`list_request`]: only entries with a
/// valid JID (taken bare) and the affiliation asked for, at most [`MAX_LIST`].
/// `None` if the answer is no such list.
pub(crate) fn parse_list(answer: &Element, affiliation: Affiliation) -> Option<Vec<Affiliated>> {
    if !answer.is("query", MUC_ADMIN) {
        return None;
    }
    let list = answer
        .children()
        .filter(|c| c.is("item", MUC_ADMIN))
        .filter(|c| c.attr("affiliation").map(Affiliation::parse) == Some(affiliation))
        .filter_map(|item| {
            let jid = Jid::new(item.attr("jid")?).ok()?.to_bare();
            Some(Affiliated {
                jid: jid.to_string(),
                affiliation,
                nick: item
                    .attr("nick")
                    .filter(|n| !n.is_empty() && n.len() <= MAX_NICK_BYTES)
                    .map(str::to_owned),
                reason: item
                    .get_child("reason", MUC_ADMIN)
                    .map(|r| super::truncate(&r.text(), MAX_TEXT_BYTES))
                    .filter(|r| !r.trim().is_empty()),
            })
        })
        .take(MAX_LIST)
        .collect();
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(el: &Element) -> String {
        String::from(el)
    }

    #[test]
    fn a_ban_names_the_jid_with_its_reason() {
        let jid = BareJid::new("mallory@example.org").expect("jid");
        assert_eq!(
            xml(&set_affiliation(&jid, Affiliation::Outcast, Some(" spam "))),
            "<query xmlns='http://jabber.org/protocol/muc#admin'>\
               <item affiliation='outcast' jid='mallory@example.org'><reason>spam</reason></item>\
             </query>"
                .replace("               ", "")
                .replace("             ", "")
        );
    }

    #[test]
    fn a_kick_is_the_role_none_by_nick_and_an_impossible_nick_is_refused() {
        assert_eq!(
            xml(&set_role("bob", Role::None, None).expect("query")),
            "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='bob' role='none'/></query>"
        );
        assert!(set_role("", Role::None, None).is_none());
        assert!(set_role(&"x".repeat(MAX_NICK_BYTES + 1), Role::Visitor, None).is_none());
        let voice = xml(&set_role("carol", Role::Participant, None).expect("query"));
        assert!(voice.contains("role='participant'"), "{voice}");
    }

    #[test]
    fn a_list_keeps_only_valid_entries_of_the_affiliation_asked() {
        let answer: Element = "<query xmlns='http://jabber.org/protocol/muc#admin'>\
              <item affiliation='member' jid='bob@example.org' nick='bob'/>\
              <item affiliation='member' jid='carol@example.org/phone'/>\
              <item affiliation='owner' jid='mallory@example.org'/>\
              <item affiliation='member' jid='not a jid@@'/>\
              <item affiliation='member'/>\
            </query>"
            .parse()
            .expect("xml");
        let list = parse_list(&answer, Affiliation::Member).expect("list");
        let jids: Vec<_> = list.iter().map(|a| a.jid.as_str()).collect();
        assert_eq!(jids, ["bob@example.org", "carol@example.org"]);
        assert_eq!(list[0].nick.as_deref(), Some("bob"));
        let other: Element = "<query xmlns='jabber:iq:roster'/>".parse().expect("xml");
        assert!(parse_list(&other, Affiliation::Member).is_none());
    }

    #[test]
    fn a_ban_list_carries_reasons_and_is_capped() {
        let mut xml = String::from("<query xmlns='http://jabber.org/protocol/muc#admin'>");
        for i in 0..MAX_LIST + 5 {
            xml.push_str(&format!(
                "<item affiliation='outcast' jid='u{i}@example.org'><reason>r{i}</reason></item>"
            ));
        }
        xml.push_str("</query>");
        let answer: Element = xml.parse().expect("xml");
        let list = parse_list(&answer, Affiliation::Outcast).expect("list");
        assert_eq!(list.len(), MAX_LIST);
        assert_eq!(list[3].reason.as_deref(), Some("r3"));
    }
}
