//! Presence (RFC 6121 §4): our own, with entity capabilities (XEP-0115),
//! idle time (XEP-0319) and avatar hash (XEP-0153); and our contacts',
//! taken only from contacts.

use charla_store::AccountId;
use xmpp_parsers::caps::Caps;
use xmpp_parsers::presence::Presence;

use super::engine::{Action, Engine, Watch};
use crate::event::Event;
use crate::idle::AutoPresence;
use crate::presence::{self, PresenceMap, Show};
use crate::{avatar, disco, subscription};

/// Priority of the own presence (0 = a normal desktop client).
const PRIORITY: i8 = 0;

/// Our presence as chosen, and our contacts' as received.
pub(super) struct Presences {
    pub show: Show,
    pub status: Option<String>,
    /// The away presence sent instead of `show` while the user is idle.
    pub auto: Option<AutoPresence>,
    /// The initial presence of this stream went out (after carbons).
    pub sent: bool,
    pub caps: Caps,
    contacts: PresenceMap,
}

impl Presences {
    pub fn new(show: Show, status: Option<String>) -> Presences {
        Presences {
            show,
            status,
            auto: None,
            sent: false,
            caps: disco::caps(),
            contacts: PresenceMap::default(),
        }
    }

    /// Forgets all contacts' presence and tells the UI they are offline.
    pub fn went_offline(&mut self, account: AccountId, actions: &mut Vec<Action>) {
        for jid in self.contacts.clear() {
            actions.push(Action::Emit(Box::new(Event::PresenceChanged {
                account,
                jid: jid.to_string(),
                presence: None,
            })));
        }
    }
}

impl Engine {
    pub(super) fn send_presence(&mut self) {
        let own = &self.presence;
        let mut p = presence::own(own.show, own.status.as_deref(), PRIORITY, own.auto);
        p.add_payload(own.caps.clone());
        let own_avatar = self.avatars.own.as_ref().map(Option::as_deref);
        p.payloads.push(avatar::own_update(own_avatar));
        self.send(p, Watch::None);
    }

    /// Announces the presence we show (see [`Event::OwnPresence`]).
    pub(super) fn announce_presence(&mut self) {
        self.emit(Event::OwnPresence {
            account: self.account,
            show: self.presence.show,
            status: self.presence.status.clone(),
            auto: self.presence.auto.map(|a| a.show),
        });
    }

    /// The user chose a presence.
    pub(super) fn set_presence(&mut self, show: Show, status: Option<String>) {
        self.presence.show = show;
        self.presence.status = status;
        if self.presence.sent {
            self.send_presence();
        }
        self.announce_presence();
    }

    /// The user went idle (an away presence) or came back (`None`).
    pub(super) fn set_auto(&mut self, auto: Option<AutoPresence>) {
        let old = self.presence.auto;
        // Only a change of availability is news; the idle time it started
        // stays the first one seen (away to extended away: still idle
        // since the first).
        if old.map(|a| a.show) == auto.map(|a| a.show) {
            return;
        }
        self.presence.auto = auto.map(|new| AutoPresence {
            since: old.map_or(new.since, |old| old.since.min(new.since)),
            ..new
        });
        if self.presence.sent {
            self.send_presence();
        }
        self.announce_presence();
    }

    pub(super) fn on_presence(&mut self, p: Presence) {
        if self.is_room(p.from.as_ref()) {
            return self.on_room_presence(&p);
        }
        if let Some(jid) = subscription::request(&p, &self.own) {
            return self.on_subscription_request(jid);
        }
        let Some((jid, update)) = presence::parse(&p) else {
            return;
        };
        if let Some(advert) = avatar::vcard_update(&p) {
            self.on_avatar_advert(jid.clone(), advert, false);
        }
        // Presence is taken only from contacts: a stranger's directed
        // presence (or a flood of them) is neither shown nor kept.
        if jid == self.own || !self.is_contact(&jid) {
            return;
        }
        if let Some(best) = self.presence.contacts.apply(&jid, update) {
            self.emit(Event::PresenceChanged {
                account: self.account,
                jid: jid.to_string(),
                presence: best,
            });
        }
    }
}
