//! The contact list (RFC 6121 §2) and subscriptions (§3): the roster
//! fetched at each bind (from the cached version), verified pushes, the
//! user's changes, and subscription requests.

use charla_store::{RosterEntry, Subscription};
use tokio::sync::oneshot;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Type;
use xmpp_parsers::roster::Roster;
use xmpp_parsers::stanza_error::StanzaError;

use super::engine::{Engine, Watch};
use super::iq::{new_id, PendingIq};
use super::RosterOp;
use crate::error::{CoreError, ErrorCode};
use crate::event::Event;
use crate::roster::{self, Push};
use crate::subscription;

impl Engine {
    fn contact(&self, jid: &BareJid) -> Option<RosterEntry> {
        self.store(|s| s.contacts(self.account))
            .ok()
            .and_then(|all| all.into_iter().find(|c| c.jid == jid.as_str()))
    }

    /// The answer to the roster request of this stream: stored, then
    /// announced (after the `Online` state, if the login is not done).
    pub(super) fn on_roster(&mut self, result: Result<Option<Element>, StanzaError>) {
        let fetched = match result {
            Ok(Some(el)) => match Roster::try_from(el) {
                Ok(r) => {
                    let entries: Vec<_> = r.items.iter().map(roster::entry).collect();
                    let ver = r.ver.clone();
                    self.store(|s| s.replace_roster(self.account, &entries, ver.as_deref()))
                }
                Err(e) => Err(CoreError::new(
                    ErrorCode::Protocol,
                    format!("bad roster: {e}"),
                )),
            },
            // Empty result: our cached version is current (RFC 6121 §2.6).
            Ok(None) => Ok(()),
            Err(e) => Err(CoreError::new(
                ErrorCode::Protocol,
                format!("roster request failed: {:?}", e.defined_condition),
            )),
        };
        if let Err(e) = fetched {
            self.error(e);
        }
        match self.store(|s| s.contacts(self.account)) {
            Ok(contacts) => {
                let event = Event::RosterLoaded {
                    account: self.account,
                    contacts,
                };
                if self.presence.sent {
                    self.emit(event);
                } else {
                    // Announce "online" first, as before carbons.
                    self.held_roster = Some(event);
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// Applies a verified roster push. Its version is not recorded: the
    /// next login sends the version of the last full fetch, and the server
    /// replays later pushes from there (RFC 6121 §2.6.3).
    pub(super) fn on_roster_push(&mut self, push: Push) {
        let account = self.account;
        let result = match &push {
            Push::Upsert(entry) => self.store(|s| s.upsert_contact(account, entry)),
            Push::Remove(jid) => self.store(|s| s.remove_contact(account, jid).map(|_| ())),
        };
        match result {
            Err(e) => self.error(e),
            Ok(()) => self.emit(match push {
                Push::Upsert(contact) => Event::ContactChanged { account, contact },
                Push::Remove(jid) => Event::ContactRemoved { account, jid },
            }),
        }
    }

    /// Someone asks to see our presence. If we added them, this is the
    /// pre-approval the server could not keep: approved at once; else the
    /// user is asked.
    pub(super) fn on_subscription_request(&mut self, jid: BareJid) {
        let entry = self.contact(&jid);
        if subscription::accepted_by_adding(entry.as_ref()) {
            self.send(subscription::presence(&jid, Type::Subscribed), Watch::None);
            return;
        }
        self.emit(Event::SubscriptionRequest {
            account: self.account,
            jid: jid.to_string(),
        });
    }

    /// Carries out a roster change: roster sets are answered when the
    /// server replies, subscription answers at once.
    pub(super) fn roster_op(
        &mut self,
        op: RosterOp,
        reply: oneshot::Sender<Result<(), CoreError>>,
    ) {
        if self.link.bound.is_none() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )));
            return;
        }
        // The roster set goes first, so that the contact has its name
        // and groups before the subscription changes it.
        let (set, then) = match op {
            RosterOp::Add { jid, name, groups } => (
                subscription::item(&jid, name.as_deref(), &groups),
                subscription::on_add(&jid, self.link.pre_approval),
            ),
            RosterOp::Edit { jid, name, groups } => {
                (subscription::item(&jid, name.as_deref(), &groups), vec![])
            }
            RosterOp::Remove { jid } => (subscription::removal(&jid), vec![]),
            RosterOp::Answer { jid, accept } => {
                self.answer_subscription(&jid, accept);
                let _ = reply.send(Ok(()));
                return;
            }
        };
        let id = new_id();
        self.request(
            id.clone(),
            Iq::from_set(id, set),
            PendingIq::Change { reply },
        );
        for p in then {
            self.send(p, Watch::None);
        }
    }

    /// Approves or denies `jid`'s subscription request; an approval is
    /// mutual, unless we already see them or asked to.
    fn answer_subscription(&mut self, jid: &BareJid, accept: bool) {
        if !accept {
            self.send(subscription::presence(jid, Type::Unsubscribed), Watch::None);
            return;
        }
        self.send(subscription::presence(jid, Type::Subscribed), Watch::None);
        let sees = self.contact(jid).is_some_and(|c| {
            c.ask_pending || matches!(c.subscription, Subscription::To | Subscription::Both)
        });
        if !sees {
            self.send(subscription::presence(jid, Type::Subscribe), Watch::None);
        }
    }
}
