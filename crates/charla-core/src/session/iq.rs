//! The IQs of a session (RFC 6120 §8.2.3): the requests we send, who may
//! answer each, their timeouts ([`tracker`]) and the not-connected error; and our
//! answers to the requests others send us (disco#info XEP-0030, ping
//! XEP-0199, version XEP-0092, time XEP-0202, roster and block list
//! pushes).

use std::sync::atomic::Ordering;

use tokio::sync::oneshot;
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::roster::Roster;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

mod tracker;

pub(super) use tracker::Tracker;
use tracker::IQ_TIMEOUT;

use super::engine::{Engine, Watch};
use super::now_ms;
use crate::error::{CoreError, ErrorCode};
use crate::{blocking, disco, last, roster};

/// An IQ we sent and whose answer we await, with who may answer it.
#[derive(Debug)]
pub(super) enum PendingIq {
    Roster,
    OwnDisco,
    /// The server's disco#info (XEP-0377 reporting).
    ServerDisco,
    /// Enabling carbons; the initial presence waits for its answer.
    Carbons,
    /// A page of an archive query (XEP-0313) with this queryid.
    Mam {
        queryid: String,
    },
    /// The page of older history with this queryid.
    Older {
        queryid: String,
    },
    /// A page of a room's archive (XEP-0313 on the room's JID), answered
    /// by the room.
    RoomMam {
        room: BareJid,
        queryid: String,
    },
    /// A self-ping (XEP-0410) to our own occupant JID `room/nick`: are we
    /// still in the room? Answered by the room.
    SelfPing {
        room: BareJid,
        nick: String,
    },
    /// Accepting a new room's default configuration (an instant room,
    /// XEP-0045 §10.1.2) or submitting ours, answered by the room.
    RoomConfig {
        room: BareJid,
    },
    /// The configuration form of a room we created, to fill in as
    /// `preset` says (XEP-0045 §10.1.3), answered by the room.
    RoomConfigForm {
        room: BareJid,
        preset: Box<crate::roomconfig::RoomPreset>,
    },
    /// Our room bookmarks (XEP-0402), from our own PEP service.
    Bookmarks,
    /// Our legacy room bookmarks in private storage (XEP-0048), to migrate.
    LegacyBookmarks,
    /// Publishing or removing the bookmark of `room`; `fallback`: the
    /// bookmark, published with every option, to publish again with fewer
    /// if the server refuses them.
    BookmarkChange {
        room: BareJid,
        fallback: Option<Box<crate::bookmarks::Bookmark>>,
    },
    /// Publishing how far `room` was read (XEP-0490); `fallback`: with
    /// every option, to publish again with fewer if refused.
    DisplayedChange {
        room: BareJid,
        stanza_id: String,
        fallback: bool,
    },
    /// The block list (XEP-0191), for whoever asked.
    Blocklist {
        reply: oneshot::Sender<Result<Vec<String>, CoreError>>,
    },
    /// How long ago a contact was last online (XEP-0012), answered for
    /// them by their server: the answer must come from `jid`.
    LastActivity {
        jid: BareJid,
        reply: oneshot::Sender<Result<Option<u64>, CoreError>>,
    },
    /// A change the user asked for (roster, block list), and who waits
    /// for the server's answer.
    Change {
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// An account management request (XEP-0077); the caller reads the
    /// answer itself.
    Account {
        reply: oneshot::Sender<Result<Option<Element>, StanzaError>>,
    },
    /// Any request the core made (profiles, publishing), answered by
    /// `peer` (our own account if `None`).
    Ask {
        peer: Option<BareJid>,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    },
    /// `peer`'s avatar data `hash` from their PEP (XEP-0084).
    AvatarData {
        peer: BareJid,
        hash: String,
    },
    /// `peer`'s vcard-temp, for the photo `hash` (XEP-0153).
    AvatarVcard {
        peer: BareJid,
        hash: String,
    },
}

impl PendingIq {
    /// Who must answer, if not our own account or server.
    fn peer(&self) -> Option<&BareJid> {
        match self {
            PendingIq::Ask { peer, .. } => peer.as_ref(),
            PendingIq::AvatarData { peer, .. } | PendingIq::AvatarVcard { peer, .. } => Some(peer),
            PendingIq::LastActivity { jid, .. } => Some(jid),
            PendingIq::RoomMam { room, .. }
            | PendingIq::RoomConfig { room }
            | PendingIq::RoomConfigForm { room, .. }
            | PendingIq::SelfPing { room, .. } => Some(room),
            _ => None,
        }
    }
}

/// A fresh id for a request or query.
pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A refused request as the UI is told it: the conditions a user can act
/// on get their own code, the rest are `protocol`.
pub(crate) fn refused(e: &StanzaError) -> CoreError {
    use xmpp_parsers::stanza_error::DefinedCondition as C;
    let code = match e.defined_condition {
        C::Forbidden | C::NotAllowed | C::NotAuthorized => ErrorCode::Forbidden,
        C::Conflict => ErrorCode::Conflict,
        C::ItemNotFound | C::RecipientUnavailable | C::RemoteServerNotFound => ErrorCode::NotFound,
        C::FeatureNotImplemented | C::ServiceUnavailable => ErrorCode::Unsupported,
        C::NotAcceptable | C::BadRequest => ErrorCode::NotAcceptable,
        _ => ErrorCode::Protocol,
    };
    let text = e
        .texts
        .values()
        .next()
        .map(|t| format!(": {}", crate::muc::truncate(t, 256)))
        .unwrap_or_default();
    CoreError::new(
        code,
        format!("the request was refused: {:?}{text}", e.defined_condition),
    )
}

fn not_connected() -> CoreError {
    CoreError::new(ErrorCode::NotConnected, "the account is not connected")
}

impl Engine {
    /// Sends `iq` and awaits its answer as `pending`.
    pub(super) fn request(&mut self, id: String, iq: Iq, pending: PendingIq) {
        self.requests.insert(id, pending);
        self.send(iq, Watch::None);
    }

    /// Sends an IQ get with `payload` to `to` (our own server if `None`).
    pub(super) fn get(&mut self, to: Option<Jid>, payload: Element, pending: PendingIq) {
        let id = new_id();
        let iq = Iq::Get {
            from: None,
            to,
            id: id.clone(),
            payload,
        };
        self.request(id, iq, pending);
    }

    /// Asks, at each fresh bind, for the roster (from the cached version),
    /// our own account's features and the server's.
    pub(super) fn request_login_state(&mut self) {
        let ver = self
            .store(|s| s.roster_version(self.account))
            .unwrap_or(None);
        self.get(None, roster::request(ver).into(), PendingIq::Roster);
        let own = Jid::from(self.own.clone());
        let disco = || DiscoInfoQuery { node: None }.into();
        self.get(Some(own), disco(), PendingIq::OwnDisco);
        if let Ok(server) = Jid::new(self.own.domain().as_str()) {
            self.get(Some(server), disco(), PendingIq::ServerDisco);
        }
    }

    /// Sends a request of the core's own (see [`super::Command::Iq`]).
    pub(super) fn send_core_iq(
        &mut self,
        to: Option<BareJid>,
        set: bool,
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    ) {
        if !self.link.usable() {
            let _ = reply.send(Err(not_connected()));
            return;
        }
        let id = new_id();
        let to_jid = to.clone().map(Jid::from);
        let iq = if set {
            Iq::Set {
                from: None,
                to: to_jid,
                id: id.clone(),
                payload,
            }
        } else {
            Iq::Get {
                from: None,
                to: to_jid,
                id: id.clone(),
                payload,
            }
        };
        self.request(id, iq, PendingIq::Ask { peer: to, reply });
    }

    /// Asks `jid`'s server when they were last online (XEP-0012).
    pub(super) fn last_activity(
        &mut self,
        jid: BareJid,
        reply: oneshot::Sender<Result<Option<u64>, CoreError>>,
    ) {
        let id = new_id();
        let query = last::request(id.clone(), &jid);
        self.request(id, query, PendingIq::LastActivity { jid, reply });
    }

    /// Blocks or unblocks `jid` (XEP-0191); a report (XEP-0377) goes only
    /// to a server that said it takes them.
    pub(super) fn block(
        &mut self,
        jid: BareJid,
        block: bool,
        report: bool,
        reply: oneshot::Sender<Result<(), CoreError>>,
    ) {
        let id = new_id();
        let iq = if block && report && self.reporting.load(Ordering::SeqCst) {
            blocking::block_and_report(id.clone(), &jid)
        } else {
            blocking::change(id.clone(), &jid, block)
        };
        self.request(id, iq, PendingIq::Change { reply });
    }

    /// Asks for the block list (XEP-0191).
    pub(super) fn blocklist(&mut self, reply: oneshot::Sender<Result<Vec<String>, CoreError>>) {
        let id = new_id();
        let iq = blocking::request(id.clone());
        self.request(id, iq, PendingIq::Blocklist { reply });
    }

    /// An account management request (XEP-0077) to our own account.
    pub(super) fn account_request(
        &mut self,
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, StanzaError>>,
    ) {
        let id = new_id();
        let iq = Iq::Set {
            from: None,
            to: None,
            id: id.clone(),
            payload,
        };
        self.request(id, iq, PendingIq::Account { reply });
    }

    pub(super) fn on_iq(&mut self, iq: Iq) {
        match iq {
            Iq::Get {
                from, id, payload, ..
            } => {
                let answer = self.answer_get(payload);
                self.send(response(from, id, answer), Watch::None);
            }
            Iq::Set {
                from, id, payload, ..
            } => {
                let answer = self.answer_set(from.as_ref(), payload);
                self.send(response(from, id, answer), Watch::None);
            }
            Iq::Result {
                from, id, payload, ..
            } => {
                if let Some(pending) = self.take_pending(&id, from.as_ref()) {
                    self.on_iq_result(pending, Ok(payload));
                }
            }
            Iq::Error {
                from, id, error, ..
            } => {
                if let Some(pending) = self.take_pending(&id, from.as_ref()) {
                    self.on_iq_result(pending, Err(error));
                }
            }
        }
    }

    /// What we answer to a get: our features, a pong, our version and time.
    fn answer_get(&self, payload: Element) -> Result<Option<Element>, DefinedCondition> {
        if payload.is("query", ns::DISCO_INFO) {
            DiscoInfoQuery::try_from(payload)
                .ok()
                .and_then(|q| disco::answer(&q, &self.presence.caps))
                .map(|r| Ok(Some(Element::from(r))))
                .unwrap_or(Err(DefinedCondition::ItemNotFound))
        } else if payload.is("ping", ns::PING) {
            Ok(None)
        } else if payload.is("query", ns::VERSION) {
            Ok(Some(disco::version().into()))
        } else if payload.is("time", ns::TIME) {
            Ok(
                chrono::DateTime::from_timestamp_millis(now_ms())
                    .map(|now| disco::time(now).into()),
            )
        } else {
            Err(DefinedCondition::ServiceUnavailable)
        }
    }

    /// What we answer to a set: roster and block list pushes, and only
    /// from our own account.
    fn answer_set(
        &mut self,
        from: Option<&Jid>,
        payload: Element,
    ) -> Result<Option<Element>, DefinedCondition> {
        if !roster::push_allowed(from, &self.own) {
            return Err(DefinedCondition::ServiceUnavailable);
        }
        if payload.is("query", ns::ROSTER) {
            let push = Roster::try_from(payload)
                .ok()
                .and_then(|r| roster::parse_push(&r))
                .ok_or(DefinedCondition::BadRequest)?;
            self.on_roster_push(push);
            Ok(None)
        } else if blocking::is_push(&payload) {
            // The list changed (here or on another device); it is read
            // from the server when shown.
            Ok(None)
        } else {
            Err(DefinedCondition::ServiceUnavailable)
        }
    }

    /// Matches an IQ answer to our request. Only our own server/account may
    /// answer the requests we make of it (Pidgin CVE-2013-6483); a forged
    /// answer is dropped and the real one still awaited.
    /// A request to a contact is answered only by that contact's bare JID.
    fn take_pending(&mut self, id: &str, from: Option<&Jid>) -> Option<PendingIq> {
        let ours = match from {
            None => true,
            Some(f) => f.to_bare() == self.own || self.link.bound.as_ref().is_some_and(|b| f == b),
        };
        let pending = self.requests.get(id)?;
        let allowed = match pending.peer() {
            // The room answers for our occupant JID (`room/nick`), and no
            // one but the room can send from its JIDs.
            Some(room) if matches!(pending, PendingIq::SelfPing { .. }) => {
                from.is_some_and(|f| f.to_bare() == *room)
            }
            Some(peer) if *peer != self.own => {
                from.is_some_and(|f| f.resource().is_none() && f.to_bare() == *peer)
            }
            _ => ours,
        };
        if allowed {
            self.requests.remove(id)
        } else {
            None
        }
    }

    /// A request got no answer within [`IQ_TIMEOUT`]: whoever waits
    /// for it gets a `timeout` error, and the core's own requests go on as
    /// if refused.
    pub(super) fn on_iq_timeout(&mut self, pending: PendingIq) {
        log::warn!("no answer to an IQ request: {pending:?}");
        let timeout = || {
            CoreError::new(
                ErrorCode::Timeout,
                format!("no answer to the request within {} s", IQ_TIMEOUT.as_secs()),
            )
        };
        match pending {
            PendingIq::Blocklist { reply } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::LastActivity { reply, .. } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::Change { reply } => {
                let _ = reply.send(Err(timeout()));
            }
            PendingIq::Ask { reply, .. } => {
                let _ = reply.send(Err(timeout()));
            }
            other => {
                let error = StanzaError::new(
                    ErrorType::Wait,
                    DefinedCondition::RemoteServerTimeout,
                    "en",
                    "no answer",
                );
                self.on_iq_result(other, Err(error));
            }
        }
    }

    /// Hands the answer to a request to whoever made it.
    fn on_iq_result(&mut self, pending: PendingIq, result: Result<Option<Element>, StanzaError>) {
        match pending {
            PendingIq::Roster => self.on_roster(result),
            PendingIq::ServerDisco => {
                let reporting = match result {
                    Ok(Some(el)) => DiscoInfoResult::try_from(el)
                        .map(|r| blocking::reporting(&r))
                        .unwrap_or(false),
                    _ => false,
                };
                self.reporting.store(reporting, Ordering::SeqCst);
            }
            PendingIq::OwnDisco => {
                self.link.sid_trusted = match result {
                    Ok(Some(el)) => DiscoInfoResult::try_from(el)
                        .map(|r| r.features.contains(ns::SID))
                        .unwrap_or(false),
                    _ => false,
                };
            }
            PendingIq::Carbons => {
                match result {
                    Ok(_) => self.link.carbons_on = true,
                    Err(e) => log::info!("carbons not enabled: {:?}", e.defined_condition),
                }
                self.finish_login();
            }
            PendingIq::Mam { queryid } => self.on_mam_page(&queryid, result),
            PendingIq::Older { queryid } => self.on_older_page(&queryid, result),
            PendingIq::RoomMam { room, queryid } => self.on_room_mam_page(&room, &queryid, result),
            PendingIq::SelfPing { room, nick } => self.on_self_ping(room, &nick, result),
            PendingIq::RoomConfigForm { room, preset } => self.on_room_form(room, &preset, result),
            PendingIq::RoomConfig { room } => {
                match result {
                    Ok(_) => log::info!("{room}: configured"),
                    Err(e) => log::warn!("{room}: not configured: {:?}", e.defined_condition),
                }
                // Configured (or as it is): now it settles.
                self.start_room_catch_up(room);
            }
            PendingIq::Bookmarks => self.on_bookmarks(result),
            PendingIq::LegacyBookmarks => self.on_legacy_bookmarks(result),
            PendingIq::BookmarkChange { room, fallback } => {
                self.on_bookmark_change(room, result, fallback)
            }
            PendingIq::DisplayedChange {
                room,
                stanza_id,
                fallback,
            } => match result {
                Ok(_) => {}
                Err(_) if fallback => self.room_displayed_with_fewer_options(room, stanza_id),
                Err(e) => log::warn!("{room}: read state not shared: {:?}", e.defined_condition),
            },
            PendingIq::Blocklist { reply } => {
                let _ = reply.send(match result {
                    Ok(payload) => blocking::parse_list(payload)
                        .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "malformed block list")),
                    Err(e) => Err(CoreError::new(
                        ErrorCode::Protocol,
                        format!("no block list: {:?}", e.defined_condition),
                    )),
                });
            }
            PendingIq::Account { reply } => {
                let _ = reply.send(result);
            }
            PendingIq::Ask { reply, .. } => {
                let _ = reply.send(result.map_err(|e| refused(&e)));
            }
            PendingIq::AvatarData { peer, hash } => self.on_avatar_data(peer, hash, result),
            PendingIq::AvatarVcard { peer, hash } => self.on_avatar_vcard(peer, hash, result),
            PendingIq::LastActivity { reply, .. } => {
                let _ = reply.send(last::parse(result));
            }
            PendingIq::Change { reply } => {
                let _ = reply.send(result.map(|_| ()).map_err(|e| {
                    CoreError::new(
                        ErrorCode::Protocol,
                        format!("the server refused the change: {:?}", e.defined_condition),
                    )
                }));
            }
        }
    }
}

/// Builds the answer to an IQ get/set.
fn response(to: Option<Jid>, id: String, answer: Result<Option<Element>, DefinedCondition>) -> Iq {
    match answer {
        Ok(payload) => Iq::Result {
            from: None,
            to,
            id,
            payload,
        },
        Err(condition) => Iq::Error {
            from: None,
            to,
            id,
            error: StanzaError::new(ErrorType::Cancel, condition, "en", ""),
            payload: None,
        },
    }
}
