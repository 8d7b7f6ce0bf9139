//! The session driver: owns the tokio-xmpp stream, the reconnector and
//! the clock, feeds the [`Engine`] and carries out its actions. It holds
//! no protocol state of its own, only what the stream needs: the stanzas
//! waiting for room in its queue and the acks being watched.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, watch, Notify};
use tokio_xmpp::stanzastream::{
    Event as StreamEvent, StanzaStage, StanzaState, StanzaStream, StanzaToken, StreamEvent as Link,
};
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza::Stanza;

use super::engine::{Action, Engine, Fate, Watch};
use super::{Command, Context};
use crate::c2s::{self, LoginConfig, Report};
use crate::event::Event;
use crate::subscription;

/// How long a disconnect waits for the stream to close cleanly.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How often a backlog waiting for room in the stream's queue is retried.
const BACKLOG_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Most stanzas read in one go from what the stream already has ready:
/// the live chat messages among them are stored in one transaction.
const MAX_BURST: usize = 256;

/// The stream and what it takes to open a fresh one.
struct Driver {
    stream: StanzaStream,
    cancel: watch::Sender<bool>,
    login: LoginConfig,
    online_once: Arc<AtomicBool>,
    reports: mpsc::UnboundedSender<Report>,
    nudge: Arc<Notify>,
    events: mpsc::Sender<Event>,
    /// Stanzas waiting for room in the stream's queue, in order.
    backlog: VecDeque<(Box<Stanza>, Watch)>,
    /// The stream acks stanzas (XEP-0198).
    sm_enabled: bool,
    fates: mpsc::UnboundedSender<Fate>,
    /// An event read ahead while collecting a burst, handled next.
    peeked: Option<Option<StreamEvent>>,
}

/// Runs a session until it is disconnected or its login fails for good.
pub(crate) async fn run(ctx: Context, mut commands: mpsc::Receiver<Command>) {
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (fates_tx, mut fates) = mpsc::unbounded_channel();
    let (cancel, cancelled) = watch::channel(false);
    let online_once = Arc::new(AtomicBool::new(false));
    let nudge = Arc::new(Notify::new());
    let login = ctx.login.clone();
    let events = ctx.events.clone();
    let mut engine = Engine::new(ctx);
    let stream = c2s::open(
        login.clone(),
        online_once.clone(),
        reports_tx.clone(),
        cancelled,
        nudge.clone(),
    );
    let mut driver = Driver {
        stream,
        cancel,
        login,
        online_once,
        reports: reports_tx,
        nudge,
        events,
        backlog: VecDeque::new(),
        sm_enabled: false,
        fates: fates_tx,
        peeked: None,
    };
    let mut close = false;
    'session: loop {
        if driver.carry_out(&mut engine).await {
            break;
        }
        let deadline = engine.next_deadline();
        tokio::select! {
            event = driver.next_event() => match event {
                None => break,
                Some(StreamEvent::Stream(Link::Reset { bound_jid, features })) => {
                    driver.online_once.store(true, Ordering::SeqCst);
                    driver.sm_enabled = features.stream_management.is_some();
                    // Written for the old stream; the engine sends what
                    // still matters again.
                    driver.backlog.clear();
                    engine.on_bound(bound_jid, subscription::pre_approval(&features));
                }
                Some(StreamEvent::Stream(Link::Suspended)) => engine.on_link_lost(),
                Some(StreamEvent::Stream(Link::Resumed)) => engine.on_resumed(),
                Some(StreamEvent::Stanza(stanza)) => {
                    engine.on_stanza(stanza);
                    // The rest of a burst the stream already has: its chat
                    // messages are committed together, then announced.
                    for _ in 1..MAX_BURST {
                        match driver.stream.next().now_or_never() {
                            Some(Some(StreamEvent::Stanza(stanza))) => engine.on_stanza(stanza),
                            Some(other) => {
                                driver.peeked = Some(other);
                                break;
                            }
                            None => break,
                        }
                    }
                    engine.end_burst();
                }
            },
            Some(Report::Failed { failure, attempt, retry_in }) = reports.recv() => {
                engine.on_login_failed(failure, attempt, retry_in);
            }
            Some(fate) = fates.recv() => {
                let mut all = vec![fate];
                while let Ok(more) = fates.try_recv() {
                    all.push(more);
                }
                engine.on_fates(all);
            }
            _ = tokio::time::sleep_until(
                deadline.unwrap_or_else(tokio::time::Instant::now)
            ), if deadline.is_some() => {
                engine.on_timeout(tokio::time::Instant::now());
            }
            _ = tokio::time::sleep(BACKLOG_RETRY), if !driver.backlog.is_empty() => {
                driver.drain();
            }
            command = commands.recv() => match command {
                None | Some(Command::Disconnect) => {
                    close = true;
                    break 'session;
                }
                Some(Command::ReconnectNow) => driver.nudge.notify_waiters(),
                Some(command) => engine.on_command(command),
            },
        }
    }
    let events = driver.events.clone();
    if close && engine.link_up() {
        engine.send_queued_bookmark_changes();
        driver.carry_out(&mut engine).await;
    }
    driver.close(close && engine.link_up()).await;
    engine.on_closed();
    // The stream is gone: only the last events are left to tell.
    for action in engine.take_actions() {
        if let Action::Emit(event) = action {
            let _ = events.send(*event).await;
        }
    }
}

impl Driver {
    /// Carries out the engine's actions in order; `true` if the session
    /// must end.
    async fn carry_out(&mut self, engine: &mut Engine) -> bool {
        let mut end = false;
        for action in engine.take_actions() {
            match action {
                Action::Send { stanza, watch } => {
                    self.backlog.push_back((stanza, watch));
                    self.drain();
                }
                Action::Emit(event) => {
                    // A dropped receiver means nobody listens any more.
                    let _ = self.events.send(*event).await;
                }
                Action::Restart => self.restart(),
                Action::End => end = true,
            }
        }
        end
    }

    /// The event read ahead while collecting a burst, else the stream's next.
    async fn next_event(&mut self) -> Option<StreamEvent> {
        match self.peeked.take() {
            Some(event) => event,
            None => self.stream.next().await,
        }
    }

    /// Passes backlogged stanzas to the stream while its queue has room,
    /// never waiting: the session loop must not block on sending, since
    /// the stream's worker blocks in turn while its events are not read.
    fn drain(&mut self) {
        while let Some((stanza, watch)) = self.backlog.pop_front() {
            // A copy, so that nothing is lost if the queue is full.
            match self.stream.send(Box::new(copy(&stanza))).now_or_never() {
                Some(token) => self.watch(token, watch),
                None => {
                    self.backlog.push_front((stanza, watch));
                    return;
                }
            }
        }
    }

    /// Reports, through the session loop, when the server acknowledged a
    /// stanza (XEP-0198), or that it went out if the stream has no
    /// acknowledgements; `false` if it was lost with its stream.
    fn watch(&self, mut token: StanzaToken, watch: Watch) {
        if watch == Watch::None {
            return;
        }
        let stage = if self.sm_enabled {
            StanzaStage::Acked
        } else {
            StanzaStage::Sent
        };
        let fates = self.fates.clone();
        tokio::spawn(async move {
            let ok = matches!(
                token.wait_for(stage).await,
                Some(StanzaState::Acked { .. }) | Some(StanzaState::Sent { .. })
            );
            if let Some(fate) = watch.fate(ok) {
                let _ = fates.send(fate);
            }
        });
    }

    /// Drops the stream and opens a fresh one: a new login and bind, no
    /// resumption. The outbox and owed receipts are persisted and go out
    /// after the new bind.
    fn restart(&mut self) {
        let (new_cancel, cancelled) = watch::channel(false);
        let fresh = c2s::open(
            self.login.clone(),
            self.online_once.clone(),
            self.reports.clone(),
            cancelled,
            self.nudge.clone(),
        );
        drop(std::mem::replace(&mut self.stream, fresh));
        let _ = std::mem::replace(&mut self.cancel, new_cancel).send(true);
    }

    /// Ends the stream: politely (`polite`: unavailable presence, then a
    /// clean close) when the link is up, else at once.
    async fn close(self, polite: bool) {
        if polite {
            // Only if it fits in the stream's queue now: a full queue must
            // not hold up the disconnect.
            let bye = Box::new(Presence::unavailable().into());
            let _ = self.stream.send(bye).now_or_never();
            // The link may have died a moment ago (the server closed it,
            // say after deleting the account) and the stream's worker may
            // be waiting for the reconnector, which gives up a fatal login
            // and then waits to be cancelled: cancel it first, or `close`
            // waits forever. And never wait long for a dying link.
            let _ = self.cancel.send(true);
            if tokio::time::timeout(CLOSE_TIMEOUT, self.stream.close())
                .await
                .is_err()
            {
                log::warn!("the stream did not close within {CLOSE_TIMEOUT:?}");
            }
        } else {
            // Not connected (failed, or waiting to reconnect): drop the
            // stream first, then stop the reconnector, which lets the
            // worker end.
            drop(self.stream);
            let _ = self.cancel.send(true);
        }
    }
}

/// A copy of a stanza (`Stanza` itself is not `Clone`).
fn copy(stanza: &Stanza) -> Stanza {
    match stanza {
        Stanza::Iq(iq) => Stanza::Iq(iq.clone()),
        Stanza::Message(m) => Stanza::Message(m.clone()),
        Stanza::Presence(p) => Stanza::Presence(p.clone()),
    }
}
