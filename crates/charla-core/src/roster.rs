//! The roster (RFC 6121 §2): fetching it with versioning, applying pushes
//! that come from our own account only, and mapping items to store rows.

use charla_store::{RosterEntry, Subscription};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::roster::{self, Ask, Item, Roster};

/// Converts a roster item to the store's row type.
pub(crate) fn entry(item: &Item) -> RosterEntry {
    let mut groups: Vec<String> = item
        .groups
        .iter()
        .map(|g| g.0.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    groups.sort();
    groups.dedup();
    RosterEntry {
        jid: item.jid.to_string(),
        name: item
            .name
            .as_ref()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        subscription: match item.subscription {
            roster::Subscription::None => Subscription::None,
            roster::Subscription::From => Subscription::From,
            roster::Subscription::To => Subscription::To,
            roster::Subscription::Both => Subscription::Both,
            roster::Subscription::Remove => Subscription::Remove,
        },
        ask_pending: item.ask == Ask::Subscribe,
        groups,
    }
}

/// The roster request, carrying our cached version if we have one.
pub(crate) fn request(ver: Option<String>) -> Roster {
    Roster {
        ver: Some(ver.unwrap_or_default()),
        items: vec![],
    }
}

/// A roster push is only legitimate from our own account (no `from`, or
/// our bare JID). Anything else is a spoofing attempt (CVE-2019-16236).
pub(crate) fn push_allowed(from: Option<&Jid>, own: &BareJid) -> bool {
    match from {
        None => true,
        Some(f) => f.resource().is_none() && f.to_bare() == *own,
    }
}

/// What a verified roster push does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Push {
    /// Add or change this contact.
    Upsert(RosterEntry),
    /// Remove this contact.
    Remove(String),
}

/// Interprets a roster push; RFC 6121 requires exactly one item.
pub(crate) fn parse_push(roster: &Roster) -> Option<Push> {
    let [item] = roster.items.as_slice() else {
        return None;
    };
    let push = if item.subscription == roster::Subscription::Remove {
        Push::Remove(item.jid.to_string())
    } else {
        Push::Upsert(entry(item))
    };
    Some(push)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    fn roster(xml: &str) -> Roster {
        let el: Element = xml.parse().expect("xml");
        Roster::try_from(el).expect("roster")
    }

    #[test]
    fn item_to_entry() {
        let r = roster("<query xmlns='jabber:iq:roster' ver='3'><item jid='bob@x' name=' Bob ' subscription='both'><group>Work</group><group>Family</group><group>Work</group></item><item jid='carol@x' ask='subscribe'/></query>");
        let bob = entry(&r.items[0]);
        assert_eq!(bob.jid, "bob@x");
        assert_eq!(bob.name.as_deref(), Some("Bob"));
        assert_eq!(bob.subscription, Subscription::Both);
        assert_eq!(bob.groups, vec!["Family".to_owned(), "Work".to_owned()]);
        let carol = entry(&r.items[1]);
        assert_eq!(carol.subscription, Subscription::None);
        assert!(carol.ask_pending);
        assert_eq!(carol.name, None);
    }

    #[test]
    fn pushes_only_from_own_account() {
        let own = BareJid::new("alice@x").expect("jid");
        assert!(push_allowed(None, &own));
        assert!(push_allowed(Some(&Jid::new("alice@x").expect("jid")), &own));
        assert!(!push_allowed(
            Some(&Jid::new("alice@x/evil").expect("jid")),
            &own
        ));
        assert!(!push_allowed(
            Some(&Jid::new("mallory@x").expect("jid")),
            &own
        ));
        assert!(!push_allowed(Some(&Jid::new("x").expect("jid")), &own));
    }

    #[test]
    fn push_parsing() {
        let r = roster("<query xmlns='jabber:iq:roster' ver='4'><item jid='bob@x' subscription='remove'/></query>");
        assert_eq!(parse_push(&r), Some(Push::Remove("bob@x".into())));
        let two =
            roster("<query xmlns='jabber:iq:roster'><item jid='a@x'/><item jid='b@x'/></query>");
        assert_eq!(parse_push(&two), None);
        let none = roster("<query xmlns='jabber:iq:roster'/>");
        assert_eq!(parse_push(&none), None);
    }
}
