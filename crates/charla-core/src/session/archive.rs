//! The message archive (XEP-0313): the catch-up of each fresh stream
//! (everything after the last archive id we have, page by page, with a
//! time fallback when that id expired), and older history on request.
//! Pages go through the inbound [`super::pipeline`].

use tokio::sync::oneshot;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use super::engine::Engine;
use super::iq::{new_id, PendingIq};
use super::pipeline::Origin;
use crate::error::{CoreError, ErrorCode};
use crate::event::Event;
use crate::mam::{self, Archived, Purpose};

/// The catch-up query in progress (one at a time).
#[derive(Debug)]
struct CatchUp {
    queryid: String,
    purpose: Purpose,
    /// Accepted results of the current page, in arrival (archive) order.
    page: Vec<Archived>,
    /// When this catch-up started.
    started: std::time::Instant,
    /// This catch-up already fell back to time once (no second time).
    fell_back: bool,
}

/// A query for older history of one conversation (one at a time).
struct Older {
    queryid: String,
    page: Vec<Archived>,
    reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
}

/// The archive queries of a stream.
#[derive(Default)]
pub(super) struct Archive {
    query: Option<CatchUp>,
    older: Option<Older>,
    /// The catch-up of this stream is complete: from now on, live
    /// messages with our server's stanza-id move the archive position.
    pub caught_up: bool,
    /// New rows the current catch-up stored so far.
    added: usize,
}

fn count(added: usize) -> u32 {
    u32::try_from(added).unwrap_or(u32::MAX)
}

impl Engine {
    /// Whether a catch-up is in progress.
    pub(super) fn catching_up(&self) -> bool {
        self.archive.query.is_some()
    }

    /// A fresh stream: queries of the old one are void. A catch-up cut
    /// short is announced as finished (incomplete); the new stream starts
    /// another.
    pub(super) fn archive_new_stream(&mut self) {
        if let Some(q) = self.archive.older.take() {
            let _ = q.reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the connection was reset; try again",
            )));
        }
        if self.archive.query.take().is_some() {
            self.finished(false);
        }
        self.archive.caught_up = false;
    }

    fn finished(&mut self, complete: bool) {
        self.emit(Event::CatchUpFinished {
            account: self.account,
            added: count(self.archive.added),
            complete,
        });
    }

    /// Starts the archive catch-up of a fresh stream: a baseline on the
    /// first login, else everything after the last archive id we have.
    pub(super) fn start_catch_up(&mut self) {
        let purpose = match self.store(|s| s.mam_position(self.account)) {
            Ok(None) => Purpose::Baseline,
            Ok(Some(p)) => Purpose::CatchUp {
                after: p.last_id,
                start: None,
            },
            Err(e) => return self.error(e),
        };
        self.archive.added = 0;
        self.emit(Event::CatchUpStarted {
            account: self.account,
        });
        self.open_query(purpose, std::time::Instant::now(), false);
    }

    fn open_query(&mut self, purpose: Purpose, started: std::time::Instant, fell_back: bool) {
        let queryid = new_id();
        let iq_id = new_id();
        let iq = mam::query(iq_id.clone(), &queryid, &purpose);
        self.archive.query = Some(CatchUp {
            queryid: queryid.clone(),
            purpose,
            page: Vec::new(),
            started,
            fell_back,
        });
        self.request(iq_id, iq, PendingIq::Mam { queryid });
    }

    /// An archive result: kept for its page if it passes every check.
    pub(super) fn on_archived(&mut self, msg: &Message) {
        if let Some(q) = &mut self.archive.older {
            if let Ok(archived) = mam::accept(msg, &self.own, Some(&q.queryid)) {
                q.page.push(archived);
                return;
            }
        }
        let open = self.archive.query.as_ref().map(|q| q.queryid.as_str());
        match mam::accept(msg, &self.own, open) {
            Ok(archived) => {
                if let Some(q) = &mut self.archive.query {
                    q.page.push(archived);
                }
            }
            Err(why) => log::debug!("dropped archive result: {why}"),
        }
    }

    /// Asks the archive for the page of `peer`'s history before the oldest
    /// message stored with an archive id.
    pub(super) fn fetch_older(
        &mut self,
        peer: BareJid,
        reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
    ) {
        if !self.link.usable() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            )));
            return;
        }
        if self.archive.older.is_some() {
            let _ = reply.send(Err(CoreError::new(
                ErrorCode::InvalidInput,
                "older history is already being fetched",
            )));
            return;
        }
        let account = self.account;
        let before = match self.store(|s| s.oldest_archive_id(account, peer.as_str())) {
            Ok(before) => before.unwrap_or_default(),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let queryid = new_id();
        let iq_id = new_id();
        let iq: Iq = mam::older_query(iq_id.clone(), &queryid, &peer, &before);
        self.archive.older = Some(Older {
            queryid: queryid.clone(),
            page: Vec::new(),
            reply,
        });
        self.request(iq_id, iq, PendingIq::Older { queryid });
    }

    /// The page of older history arrived: stored before everything else.
    pub(super) fn on_older_page(
        &mut self,
        queryid: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let Some(query) = self.archive.older.take_if(|q| q.queryid == queryid) else {
            return;
        };
        let end = match result {
            Ok(payload) => mam::fin(payload)
                .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "malformed archive answer")),
            Err(e) => Err(CoreError::new(
                ErrorCode::Protocol,
                format!("the archive refused: {:?}", e.defined_condition),
            )),
        };
        let end = match end {
            Ok(end) => end,
            Err(e) => {
                let _ = query.reply.send(Err(e));
                return;
            }
        };
        let empty = query.page.is_empty();
        let batch = query.page.into_iter().map(|a| a.incoming).collect();
        let answer = self
            .ingest(batch, Origin::Older)
            .map(|added| crate::OlderHistory {
                added: count(added),
                complete: end.complete || empty,
            });
        let _ = query.reply.send(answer);
    }

    /// The end of a catch-up page. When it ends the catch-up, the live
    /// messages held meanwhile are committed after the archive's rows, and
    /// then the catch-up is announced as finished.
    pub(super) fn on_mam_page(
        &mut self,
        queryid: &str,
        result: Result<Option<Element>, StanzaError>,
    ) {
        let Some(query) = self.archive.query.take_if(|q| q.queryid == queryid) else {
            return;
        };
        self.catch_up_page(query, result);
        if self.archive.query.is_none() {
            self.release_held();
            self.finished(self.archive.caught_up);
        }
    }

    /// Commits a catch-up page's rows together with the new position, and
    /// asks for the next page.
    fn catch_up_page(&mut self, query: CatchUp, result: Result<Option<Element>, StanzaError>) {
        let end = match result {
            Ok(payload) => match mam::fin(payload) {
                Some(end) => end,
                None => return log::warn!("archive query: malformed answer; catch-up stopped"),
            },
            Err(e) => return self.on_mam_error(query, e),
        };
        let last = query.page.last();
        let last_id = end.last.clone().or_else(|| last.map(|a| a.id.clone()));
        let last_time = last.map(|a| a.time_ms);
        let account = self.account;
        let start = match &query.purpose {
            Purpose::Baseline => {
                // The newest archive id becomes the starting point; older
                // history is not pulled.
                let saved =
                    self.store(|s| s.set_mam_position(account, last_id.as_deref(), last_time));
                if let Err(e) = saved {
                    return self.error(e);
                }
                self.archive.caught_up = true;
                return log::info!("archive baseline: {last_id:?}");
            }
            Purpose::CatchUp { start, .. } => *start,
        };
        if let Some(last_id) = &last_id {
            let empty = query.page.is_empty();
            let batch = query.page.into_iter().map(|a| a.incoming).collect();
            let origin = Origin::Archive { last_id, last_time };
            match self.ingest(batch, origin) {
                Ok(added) => self.archive.added += added,
                // Stop here; the next login resumes from the last
                // committed page.
                Err(e) => return self.error(e),
            }
            if !end.complete && !empty {
                let next = Purpose::CatchUp {
                    after: Some(last_id.clone()),
                    start,
                };
                return self.open_query(next, query.started, query.fell_back);
            }
        }
        self.archive.caught_up = true;
        log::info!(
            "archive catch-up done: {} new messages in {:?}",
            self.archive.added,
            query.started.elapsed()
        );
    }

    /// An archive query failed. If our position expired from the archive,
    /// record a gap and continue by time from the last known message.
    fn on_mam_error(&mut self, query: CatchUp, error: StanzaError) {
        let expired = error.defined_condition == DefinedCondition::ItemNotFound
            && !query.fell_back
            && matches!(&query.purpose, Purpose::CatchUp { after: Some(_), .. });
        if !expired {
            return log::warn!(
                "archive query failed: {:?}; catch-up stopped",
                error.defined_condition
            );
        }
        let account = self.account;
        let since = self.store(|s| {
            let known = s.mam_position(account)?.and_then(|p| p.last_time);
            let since = match known {
                Some(t) => Some(t),
                None => s.newest_server_time(account)?,
            };
            s.add_gap(account, since)?;
            Ok(since)
        });
        match since {
            Ok(start) => {
                log::warn!("archive position expired; catching up from {start:?}, gap recorded");
                let next = Purpose::CatchUp { after: None, start };
                self.open_query(next, query.started, true);
            }
            Err(e) => self.error(e),
        }
    }
}
