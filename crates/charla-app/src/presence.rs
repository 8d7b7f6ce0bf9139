//! The last known presence of every online contact, per account, for
//! windows that open after the presence events went by (pop-outs).

use std::collections::HashMap;

use charla_core::{AccountId, ConnectionState, ContactPresence, Event};

use crate::types::PresenceEntry;

/// Presences as the core's events told them.
#[derive(Debug, Default)]
pub struct Presences {
    known: HashMap<AccountId, HashMap<String, ContactPresence>>,
}

impl Presences {
    /// Follows `event`: a presence changed, or an account went offline
    /// (its contacts' presences are then unknown).
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::PresenceChanged {
                account,
                jid,
                presence,
            } => {
                let known = self.known.entry(*account).or_default();
                match presence {
                    Some(p) => known.insert(jid.clone(), p.clone()),
                    None => known.remove(jid),
                };
            }
            Event::Connection {
                account,
                state: ConnectionState::Disconnected,
            } => {
                self.known.remove(account);
            }
            _ => {}
        }
    }

    /// The presence of every online contact of `account`, by address.
    pub fn snapshot(&self, account: AccountId) -> Vec<PresenceEntry> {
        let mut entries: Vec<PresenceEntry> = self
            .known
            .get(&account)
            .map(|known| {
                known
                    .iter()
                    .map(|(jid, presence)| PresenceEntry {
                        jid: jid.clone(),
                        presence: presence.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        entries.sort_by(|a, b| a.jid.cmp(&b.jid));
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(show: charla_core::Show, status: Option<&str>) -> ContactPresence {
        ContactPresence {
            show,
            status: status.map(str::to_owned),
            resource: "phone".into(),
            priority: 0,
            idle_since: None,
        }
    }

    #[test]
    fn the_snapshot_follows_the_events_and_forgets_an_account_that_went_offline() {
        let (one, two) = (AccountId(1), AccountId(2));
        let mut presences = Presences::default();
        let away = presence(charla_core::Show::Away, Some("lunch"));
        let online = presence(charla_core::Show::Available, None);
        for (account, jid, p) in [
            (one, "carol@x", Some(away.clone())),
            (one, "bob@x", Some(online.clone())),
            (two, "bob@x", Some(online.clone())),
            (one, "dave@x", Some(online.clone())),
            (one, "dave@x", None),
        ] {
            presences.observe(&Event::PresenceChanged {
                account,
                jid: jid.into(),
                presence: p,
            });
        }
        let jids: Vec<_> = presences.snapshot(one).into_iter().map(|e| e.jid).collect();
        assert_eq!(jids, ["bob@x", "carol@x"]);
        assert_eq!(presences.snapshot(one)[1].presence, away);
        presences.observe(&Event::Connection {
            account: one,
            state: ConnectionState::Disconnected,
        });
        assert!(presences.snapshot(one).is_empty());
        assert_eq!(presences.snapshot(two).len(), 1);
    }
}
