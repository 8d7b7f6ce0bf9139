//! Presence subscriptions (RFC 6121 §3) and the roster changes that go with
//! them (§2.3–2.5): adding a contact asks to see their presence and, when
//! the server supports it (the `urn:xmpp:features:pre-approval` stream
//! feature), pre-approves theirs (§3.4); without it, their request is
//! accepted when it comes while ours to them is pending or granted. A
//! request is answered with `subscribed` or `unsubscribed`, and removing a
//! contact cancels both directions.

use charla_store::{RosterEntry, Subscription as Sharing};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Type};
use xmpp_parsers::roster::{Ask, Group, Item, Roster, Subscription};
use xmpp_parsers::stream_features::StreamFeatures;

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

/// The namespace of the pre-approval stream feature (RFC 6121 §3.4).
pub(crate) const NS_PRE_APPROVAL: &str = "urn:xmpp:features:pre-approval";

/// Whether the server advertised subscription pre-approval
/// (`<sub xmlns='urn:xmpp:features:pre-approval'/>`) in these stream
/// features. Without it a `subscribed` sent before any request is ignored
/// (RFC 6121 §3.4: "the user's server MUST NOT" keep it).
pub(crate) fn pre_approval(features: &StreamFeatures) -> bool {
    features
        .others
        .iter()
        .any(|el| el.name() == "sub" && el.ns() == NS_PRE_APPROVAL)
}

/// The presences that follow the roster set when adding `jid`: a request
/// to see theirs, and our pre-approval of theirs if the server keeps
/// pre-approvals.
pub(crate) fn on_add(jid: &BareJid, pre_approval: bool) -> Vec<Presence> {
    let mut out = vec![presence(jid, Type::Subscribe)];
    if pre_approval {
        out.push(presence(jid, Type::Subscribed));
    }
    out
}

/// Whether a subscription request from a contact with this roster entry
/// is answered by itself: we added them (our request to them is pending,
/// or they granted it and we see them) but they do not see us. That is
/// what a pre-approval does on servers that support it; on the others
/// (ejabberd), their request after they accepted ours comes to us, and
/// asking the user again would leave the contact one-way.
pub(crate) fn accepted_by_adding(entry: Option<&RosterEntry>) -> bool {
    entry.is_some_and(|c| match c.subscription {
        Sharing::None => c.ask_pending,
        Sharing::To => true,
        Sharing::From | Sharing::Both | Sharing::Remove => false,
    })
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

    fn features(xml: &str) -> StreamFeatures {
        let el: Element = xml.parse().expect("xml");
        StreamFeatures::try_from(el).expect("features")
    }

    #[test]
    fn pre_approval_is_read_from_the_stream_features() {
        // Prosody 0.12, after authentication.
        let prosody = features(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>\
             <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
             <sub xmlns='urn:xmpp:features:pre-approval'/>\
             <sm xmlns='urn:xmpp:sm:3'/><csi xmlns='urn:xmpp:csi:0'/>\
             <ver xmlns='urn:xmpp:features:rosterver'/></stream:features>",
        );
        assert!(pre_approval(&prosody));
        // ejabberd 23.01, after authentication: no pre-approval.
        let ejabberd = features(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
             <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://www.process-one.net/en/ejabberd/' ver='x'/>\
             <sm xmlns='urn:xmpp:sm:2'/><sm xmlns='urn:xmpp:sm:3'/>\
             <ver xmlns='urn:xmpp:features:rosterver'/><csi xmlns='urn:xmpp:csi:0'/>\
             </stream:features>",
        );
        assert!(!pre_approval(&ejabberd));
        // A `sub` in another namespace is not it.
        let other = features(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <sub xmlns='urn:example:sub'/></stream:features>",
        );
        assert!(!pre_approval(&other));
    }

    #[test]
    fn adding_pre_approves_only_where_the_server_keeps_it() {
        let types = |v: Vec<Presence>| -> Vec<String> {
            v.into_iter()
                .map(|p| {
                    let el: Element = p.into();
                    assert_eq!(el.attr("to"), Some("bob@x"));
                    el.attr("type").unwrap_or("").to_owned()
                })
                .collect()
        };
        assert_eq!(
            types(on_add(&jid("bob@x"), true)),
            ["subscribe", "subscribed"]
        );
        assert_eq!(types(on_add(&jid("bob@x"), false)), ["subscribe"]);
    }

    #[test]
    fn a_request_from_someone_we_added_is_accepted_by_itself() {
        let entry = |subscription, ask_pending| RosterEntry {
            jid: "bob@x".into(),
            name: None,
            subscription,
            ask_pending,
            groups: vec![],
        };
        // Added, our request pending.
        assert!(accepted_by_adding(Some(&entry(Sharing::None, true))));
        // Added, and they accepted: we see them, they ask back.
        assert!(accepted_by_adding(Some(&entry(Sharing::To, false))));
        // Not asked by us, or they see us already: the user decides.
        assert!(!accepted_by_adding(None));
        assert!(!accepted_by_adding(Some(&entry(Sharing::None, false))));
        assert!(!accepted_by_adding(Some(&entry(Sharing::From, false))));
        assert!(!accepted_by_adding(Some(&entry(Sharing::Both, false))));
    }

    #[test]
    fn subscription_presences_are_addressed() {
        let p = presence(&jid("bob@x"), Type::Subscribed);
        let el: Element = p.into();
        assert_eq!(el.attr("to"), Some("bob@x"));
        assert_eq!(el.attr("type"), Some("subscribed"));
    }
}
