//! Presence subscriptions (RFC 6121 §3) and the roster changes that go with
//! them (§2.3–2.5): adding a contact asks to see their presence and
//! pre-approves theirs (§3.4), a request is answered with `subscribed` or
//! `unsubscribed`, and removing a contact cancels both directions.

use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Type};
use xmpp_parsers::roster::{Ask, Group, Item, Roster, Subscription};

/// The roster set that adds or changes `jid` with this name and groups.
pub(crate) fn item(jid: &BareJid, name: Option<&str>, groups: &[String]) -> Roster {
    Roster {
        ver: None,
        items: vec![Item {
            jid: jid.clone(),
            name: name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            subscription: Subscription::None,
            ask: Ask::None,
            approved: None,
            groups: groups
                .iter()
                .map(|g| g.trim())
                .filter(|g| !g.is_empty())
                .map(|g| Group(g.to_owned()))
                .collect(),
        }],
    }
}

/// The roster set that removes `jid`, which also cancels the subscriptions
/// both ways (RFC 6121 §2.5.2).
pub(crate) fn removal(jid: &BareJid) -> Roster {
    Roster {
        ver: None,
        items: vec![Item {
            jid: jid.clone(),
            name: None,
            subscription: Subscription::Remove,
            ask: Ask::None,
            approved: None,
            groups: vec![],
        }],
    }
}

/// A subscription presence (`subscribe`, `subscribed`, `unsubscribed`) to `to`.
pub(crate) fn presence(to: &BareJid, type_: Type) -> Presence {
    let mut p = Presence::new(type_);
    p.to = Some(Jid::from(to.clone()));
    p
}

/// Who asks to see our presence, if `p` is a subscription request from
/// someone else's account.
pub(crate) fn request(p: &Presence, own: &BareJid) -> Option<BareJid> {
    if p.type_ != Type::Subscribe {
        return None;
    }
    let from = p.from.as_ref()?.to_bare();
    (from != *own && from.node().is_some()).then_some(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).expect("jid")
    }

    #[test]
    fn an_added_contact_has_its_name_and_groups_trimmed() {
        let r = item(
            &jid("bob@x"),
            Some("  Bob "),
            &[" Family".into(), " ".into()],
        );
        let el: Element = r.into();
        let item = el
            .get_child("item", xmpp_parsers::ns::ROSTER)
            .expect("item");
        assert_eq!(item.attr("jid"), Some("bob@x"));
        assert_eq!(item.attr("name"), Some("Bob"));
        assert_eq!(item.attr("subscription"), None);
        let groups: Vec<String> = item.children().map(|g| g.text()).collect();
        assert_eq!(groups, ["Family"]);
        let gone: Element = removal(&jid("bob@x")).into();
        let item = gone
            .get_child("item", xmpp_parsers::ns::ROSTER)
            .expect("item");
        assert_eq!(item.attr("subscription"), Some("remove"));
    }

    #[test]
    fn only_a_subscribe_from_another_account_is_a_request() {
        let own = jid("alice@x");
        let from = |f: &str, t: Type| {
            let mut p = Presence::new(t);
            p.from = Some(Jid::new(f).expect("jid"));
            p
        };
        assert_eq!(
            request(&from("bob@x", Type::Subscribe), &own),
            Some(jid("bob@x"))
        );
        assert_eq!(
            request(&from("bob@x/r", Type::Subscribe), &own),
            Some(jid("bob@x"))
        );
        assert_eq!(request(&from("bob@x", Type::Subscribed), &own), None);
        assert_eq!(request(&from("alice@x/r", Type::Subscribe), &own), None);
        assert_eq!(request(&from("x", Type::Subscribe), &own), None);
        assert_eq!(request(&Presence::new(Type::Subscribe), &own), None);
    }

    #[test]
    fn subscription_presences_are_addressed() {
        let p = presence(&jid("bob@x"), Type::Subscribed);
        let el: Element = p.into();
        assert_eq!(el.attr("to"), Some("bob@x"));
        assert_eq!(el.attr("type"), Some("subscribed"));
    }
}
