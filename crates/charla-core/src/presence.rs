//! Presence (RFC 6121 §4): a live map of every contact's resources, reduced
//! to the one "best" resource the UI shows, and the own presence we send.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::presence::{self, Presence};

/// Availability, as shown in the UI. `Offline` exists only for the own
/// presence selector; contacts that are offline have no presence at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Show {
    /// Free for chat.
    Chat,
    /// Plain available.
    Available,
    /// Away.
    Away,
    /// Extended away.
    Xa,
    /// Do not disturb.
    Dnd,
    /// Offline (own presence only).
    Offline,
}

impl Show {
    /// Rank used to pick between resources of equal priority: lower is
    /// "more available".
    fn rank(self) -> u8 {
        match self {
            Show::Chat => 0,
            Show::Available => 1,
            Show::Away => 2,
            Show::Xa => 3,
            Show::Dnd => 4,
            Show::Offline => 5,
        }
    }

    pub(crate) fn from_xmpp(show: Option<&presence::Show>) -> Self {
        match show {
            None => Show::Available,
            Some(presence::Show::Chat) => Show::Chat,
            Some(presence::Show::Away) => Show::Away,
            Some(presence::Show::Xa) => Show::Xa,
            Some(presence::Show::Dnd) => Show::Dnd,
        }
    }

    /// The `<show/>` value to send, `None` for plain available.
    pub(crate) fn to_xmpp(self) -> Option<presence::Show> {
        match self {
            Show::Chat => Some(presence::Show::Chat),
            Show::Away => Some(presence::Show::Away),
            Show::Xa => Some(presence::Show::Xa),
            Show::Dnd => Some(presence::Show::Dnd),
            Show::Available | Show::Offline => None,
        }
    }
}

/// The presence of one contact as the UI shows it: its best resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ContactPresence {
    /// Availability of the best resource.
    pub show: Show,
    /// Its status text, if any.
    pub status: Option<String>,
    /// The resource it comes from.
    pub resource: String,
    /// Its priority.
    pub priority: i8,
    /// Since when (unix ms) its user has not touched their device
    /// (XEP-0319), if they say.
    pub idle_since: Option<i64>,
}

/// What one `<presence/>` stanza says about one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PresenceUpdate {
    /// The resource is available.
    Available(ContactPresence),
    /// The resource went offline.
    Unavailable { resource: String },
    /// The contact's presence errored: treat every resource as offline.
    Error,
}

/// Maps an incoming presence stanza to an update of the map; `None` for
/// presences this module does not handle (subscriptions, probes) or that
/// lack a sender.
pub(crate) fn parse(p: &Presence) -> Option<(BareJid, PresenceUpdate)> {
    let from = p.from.as_ref()?;
    let bare = from.to_bare();
    let resource = from
        .resource()
        .map(|r| r.as_str().to_owned())
        .unwrap_or_default();
    let update = match p.type_ {
        presence::Type::None => PresenceUpdate::Available(ContactPresence {
            show: Show::from_xmpp(p.show.as_ref()),
            status: best_status(p),
            resource,
            priority: p.priority.0,
            idle_since: crate::idle::parse(p, crate::session::now_ms()),
        }),
        presence::Type::Unavailable => PresenceUpdate::Unavailable { resource },
        presence::Type::Error => PresenceUpdate::Error,
        _ => return None,
    };
    Some((bare, update))
}

pub(crate) fn best_status(p: &Presence) -> Option<String> {
    // Prefer the language-less status, then any.
    p.statuses
        .get("")
        .or_else(|| p.statuses.values().next())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Most resources kept per contact; more are ignored until some go offline.
pub(crate) const MAX_RESOURCES: usize = 32;

/// Every known resource of every contact.
#[derive(Debug, Default)]
pub(crate) struct PresenceMap {
    contacts: HashMap<BareJid, HashMap<String, ContactPresence>>,
}

impl PresenceMap {
    /// Applies an update and returns the contact's new best presence if it
    /// changed (`Some(None)` = went offline), or `None` if nothing visible
    /// changed.
    pub(crate) fn apply(
        &mut self,
        jid: &BareJid,
        update: PresenceUpdate,
    ) -> Option<Option<ContactPresence>> {
        let before = self.best(jid);
        match update {
            PresenceUpdate::Available(p) => {
                let resources = self.contacts.entry(jid.clone()).or_default();
                // A contact's server could announce endless resources.
                if resources.len() < MAX_RESOURCES || resources.contains_key(&p.resource) {
                    resources.insert(p.resource.clone(), p);
                }
            }
            PresenceUpdate::Unavailable { resource } => {
                if let Some(resources) = self.contacts.get_mut(jid) {
                    resources.remove(&resource);
                    if resources.is_empty() {
                        self.contacts.remove(jid);
                    }
                }
            }
            PresenceUpdate::Error => {
                self.contacts.remove(jid);
            }
        }
        let after = self.best(jid);
        (before != after).then_some(after)
    }

    /// The best resource of a contact: highest priority, then most
    /// available show, then resource name for a stable choice.
    pub(crate) fn best(&self, jid: &BareJid) -> Option<ContactPresence> {
        self.contacts
            .get(jid)?
            .values()
            .min_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then(a.show.rank().cmp(&b.show.rank()))
                    .then(a.resource.cmp(&b.resource))
            })
            .cloned()
    }

    /// Forgets everything (the session ended) and returns who was online.
    pub(crate) fn clear(&mut self) -> Vec<BareJid> {
        self.contacts.drain().map(|(jid, _)| jid).collect()
    }
}

/// Builds the own presence stanza for `show`/`status` (never `Offline`:
/// going offline ends the session instead), or for the away presence that
/// stands in for it while the user is idle (XEP-0319).
pub(crate) fn own(
    show: Show,
    status: Option<&str>,
    priority: i8,
    auto: Option<crate::idle::AutoPresence>,
) -> Presence {
    let mut p = Presence::available().with_priority(priority);
    p.show = auto.map_or(show, |a| a.show).to_xmpp();
    if let Some(status) = status.filter(|s| !s.is_empty()) {
        p.set_status("", status);
    }
    if let Some(auto) = auto {
        crate::idle::stamp(&mut p, auto.since);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    fn presence(xml: &str) -> Presence {
        let el: Element = xml.parse().expect("xml");
        Presence::try_from(el).expect("presence")
    }

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).expect("jid")
    }

    #[test]
    fn available_with_status_and_show() {
        let p = presence(
            "<presence xmlns='jabber:client' from='bob@x/phone'><show>away</show><status>Lunch</status><priority>5</priority></presence>",
        );
        let (jid, update) = parse(&p).expect("parsed");
        assert_eq!(jid, bare("bob@x"));
        assert_eq!(
            update,
            PresenceUpdate::Available(ContactPresence {
                show: Show::Away,
                status: Some("Lunch".into()),
                resource: "phone".into(),
                priority: 5,
                idle_since: None,
            })
        );
    }

    #[test]
    fn subscription_requests_and_missing_from_are_not_presence_updates() {
        assert!(parse(&presence(
            "<presence xmlns='jabber:client' from='bob@x' type='subscribe'/>"
        ))
        .is_none());
        assert!(parse(&presence("<presence xmlns='jabber:client'/>")).is_none());
    }

    /// 100,000 presences from 10 contacts with 10,000 resources each keep
    /// at most 32 resources per contact.
    #[test]
    fn resources_per_contact_are_capped() {
        let mut map = PresenceMap::default();
        for n in 0..100_000u32 {
            let p = presence(&format!(
                "<presence xmlns='jabber:client' from='c{}@x/r{}'/>",
                n % 10,
                n / 10
            ));
            let (jid, update) = parse(&p).expect("parsed");
            map.apply(&jid, update);
        }
        assert_eq!(map.contacts.len(), 10);
        assert!(map.contacts.values().all(|r| r.len() == MAX_RESOURCES));
        // A known resource still updates, and one going offline makes room.
        let (jid, update) = parse(&presence(
            "<presence xmlns='jabber:client' from='c0@x/r0' type='unavailable'/>",
        ))
        .expect("parsed");
        map.apply(&jid, update);
        let (jid, update) = parse(&presence(
            "<presence xmlns='jabber:client' from='c0@x/new'/>",
        ))
        .expect("parsed");
        map.apply(&jid, update);
        assert!(map.contacts[&bare("c0@x")].contains_key("new"));
    }

    #[test]
    fn best_resource_prefers_priority_then_show() {
        let mut map = PresenceMap::default();
        let bob = bare("bob@x");
        let p = |res: &str, show, prio| {
            PresenceUpdate::Available(ContactPresence {
                show,
                status: None,
                resource: res.into(),
                priority: prio,
                idle_since: None,
            })
        };
        assert_eq!(
            map.apply(&bob, p("a", Show::Away, 0))
                .expect("changed")
                .expect("online")
                .resource,
            "a"
        );
        // Same priority, more available: wins.
        assert_eq!(
            map.apply(&bob, p("b", Show::Available, 0))
                .expect("changed")
                .expect("online")
                .resource,
            "b"
        );
        // Higher priority beats availability.
        assert_eq!(
            map.apply(&bob, p("c", Show::Dnd, 10))
                .expect("changed")
                .expect("online")
                .resource,
            "c"
        );
        // A change to a non-best resource is invisible.
        assert_eq!(map.apply(&bob, p("a", Show::Xa, 0)), None);
        // Best goes away: next best shows.
        assert_eq!(
            map.apply(
                &bob,
                PresenceUpdate::Unavailable {
                    resource: "c".into()
                }
            )
            .expect("changed")
            .expect("online")
            .resource,
            "b"
        );
        map.apply(
            &bob,
            PresenceUpdate::Unavailable {
                resource: "b".into(),
            },
        );
        assert_eq!(
            map.apply(
                &bob,
                PresenceUpdate::Unavailable {
                    resource: "a".into()
                }
            ),
            Some(None)
        );
        assert_eq!(map.best(&bob), None);
    }

    #[test]
    fn error_presence_clears_contact() {
        let mut map = PresenceMap::default();
        let bob = bare("bob@x");
        let (_, up) = parse(&presence(
            "<presence xmlns='jabber:client' from='bob@x/r'/>",
        ))
        .expect("parsed");
        map.apply(&bob, up);
        let (_, up) = parse(&presence(
            "<presence xmlns='jabber:client' from='bob@x' type='error'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
        ))
        .expect("parsed");
        assert_eq!(map.apply(&bob, up), Some(None));
        assert_eq!(map.clear(), Vec::<BareJid>::new());
    }

    #[test]
    fn own_presence_carries_show_status_priority() {
        let p = own(Show::Dnd, Some("Busy"), 3, None);
        assert_eq!(p.show, Some(presence::Show::Dnd));
        assert_eq!(p.priority.0, 3);
        assert_eq!(p.statuses.get("").map(String::as_str), Some("Busy"));
        assert!(p.payloads.is_empty());
        assert_eq!(own(Show::Available, Some(""), 0, None).statuses.len(), 0);
    }

    #[test]
    fn idle_presence_is_away_with_the_chosen_status_and_an_idle_stamp() {
        let auto = crate::idle::AutoPresence {
            show: Show::Xa,
            since: 1_700_000_000_000,
        };
        let p = own(Show::Available, Some("Working"), 0, Some(auto));
        assert_eq!(p.show, Some(presence::Show::Xa));
        assert_eq!(p.statuses.get("").map(String::as_str), Some("Working"));
        let (_, update) = parse(&Presence {
            from: Some("bob@x/r".parse().expect("jid")),
            ..p
        })
        .expect("parsed");
        let PresenceUpdate::Available(seen) = update else {
            panic!("not available: {update:?}");
        };
        assert_eq!(seen.idle_since, Some(1_700_000_000_000));
    }
}
