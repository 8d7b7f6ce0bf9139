//! [`Device`]: one headless Charla instance (a [`Core`] on its own SQLite file) logging in to a
//! test server ([`XmppServer`]: a [`crate::TestServer`] or a [`crate::Server`]), with the waits the integration tests need.

use std::path::{Path, PathBuf};
use std::time::Duration;

use charla_core::{
    AccountId, ConnectOptions, ConnectionState, ContactPresence, Core, Event, Keepalive, Message,
    MessageId, MessageState, ServerAddress, Show, TlsTrust,
};
use tokio::sync::mpsc::Receiver;

use crate::XmppServer;

/// Login options for `server` (or `port` on its host, e.g. a [`crate::Proxy`]), trusting only
/// its test CA.
pub fn options<S: XmppServer + ?Sized>(
    server: &S,
    password: &str,
    port: Option<u16>,
) -> ConnectOptions {
    ConnectOptions {
        password: password.into(),
        server: Some(ServerAddress {
            host: server.host().into(),
            port: port.unwrap_or(server.c2s_port()),
            direct_tls: false,
        }),
        trust: TlsTrust::from_ca_pem(server.ca_cert_pem_bytes()).expect("test CA"),
        show: Show::Available,
        status: None,
        keepalive: Keepalive::default(),
    }
}

/// One Charla instance (one device of an account) with its own database file.
pub struct Device {
    /// The core.
    pub core: Core,
    /// Its events.
    pub events: Receiver<Event>,
    /// The account it runs.
    pub account: AccountId,
    db: PathBuf,
    wait: Duration,
    _dir: tempfile::TempDir,
}

impl Device {
    /// A device for the account the test calls `user` on `server`, with a fresh database; every wait gives up
    /// (panics) after `wait`.
    pub fn new<S: XmppServer + ?Sized>(server: &S, user: &str, wait: Duration) -> Device {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("charla.sqlite3");
        let (core, events) = Core::open(&db).expect("open store");
        let account = core.add_account(&server.jid(user)).expect("account");
        Device {
            core,
            events,
            account,
            db,
            wait,
            _dir: dir,
        }
    }

    /// A device for `user` on `server`, logged in (directly, with the password `{user}-pw`
    /// the tests give their accounts) and online.
    pub async fn online<S: XmppServer + ?Sized>(server: &S, user: &str, wait: Duration) -> Device {
        let mut d = Device::new(server, user, wait);
        d.login(options(server, &format!("{user}-pw"), None)).await;
        d
    }

    /// The database file.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Logs in with `options`, waits for the `Online` state and returns the bound full JID.
    pub async fn login(&mut self, options: ConnectOptions) -> String {
        self.core
            .connect(self.account, options)
            .await
            .expect("login");
        self.bound_jid().await
    }

    /// Waits for the `Online` state and returns the full JID the account bound.
    pub async fn bound_jid(&mut self) -> String {
        match self.wait_for("online", is_online).await {
            Event::Connection {
                state: ConnectionState::Online { jid },
                ..
            } => jid,
            _ => unreachable!(),
        }
    }

    /// Logs out and waits for the `Disconnected` state.
    pub async fn logout(&mut self) {
        self.core.disconnect(self.account).await;
        self.wait_for("disconnected", |e| {
            matches!(
                e,
                Event::Connection {
                    state: ConnectionState::Disconnected,
                    ..
                }
            )
        })
        .await;
    }

    /// Waits for the first event matching `pred`, skipping others.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if pred(&e) => return e,
                Ok(Some(e)) => {
                    if std::env::var_os("CHARLA_TRACE_EVENTS").is_some() {
                        eprintln!("skipped while waiting for {what}: {e:?}");
                    }
                }
                Ok(None) => panic!("event stream closed while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    /// Waits until `jid`'s presence as this device sees it satisfies `pred` (`None`: offline),
    /// and returns it.
    pub async fn presence_of(
        &mut self,
        jid: &str,
        pred: impl Fn(&Option<ContactPresence>) -> bool,
    ) -> Option<ContactPresence> {
        match self
            .wait_for(&format!("{jid}'s presence"), |e| {
                matches!(e, Event::PresenceChanged { jid: j, presence, .. } if j == jid && pred(presence))
            })
            .await
        {
            Event::PresenceChanged { presence, .. } => presence,
            _ => unreachable!(),
        }
    }

    /// The next `MessageAdded` row.
    pub async fn added(&mut self, what: &str) -> Message {
        self.added_where(what, |_| true).await
    }

    /// The next `MessageAdded` row matching `pred`, skipping other events.
    pub async fn added_where(&mut self, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        match self
            .wait_for(
                what,
                |e| matches!(e, Event::MessageAdded { message, .. } if pred(message)),
            )
            .await
        {
            Event::MessageAdded { message, .. } => message,
            _ => unreachable!(),
        }
    }

    /// The next `MessageUpdated` row matching `pred`, skipping other events.
    pub async fn updated_where(&mut self, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        match self
            .wait_for(
                what,
                |e| matches!(e, Event::MessageUpdated { message, .. } if pred(message)),
            )
            .await
        {
            Event::MessageUpdated { message, .. } => message,
            _ => unreachable!(),
        }
    }

    /// Waits until message `id` is announced in `state`.
    pub async fn updated_to(&mut self, what: &str, id: MessageId, state: MessageState) {
        self.updated_where(what, |m| m.id == id && m.state == state)
            .await;
    }

    /// Every event caused by what the server sent this device before now
    /// (see [`charla_core::Core::settle`]), and nothing that comes later:
    /// "nothing else arrived" is a settled fact, not a quiet window.
    pub async fn settled(&mut self) -> Vec<Event> {
        self.core
            .settle(self.account)
            .await
            .expect("the server answers the ping");
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }

    /// Bodies of the `MessageAdded` events among [`Device::settled`]'s.
    pub async fn settled_added(&mut self) -> Vec<String> {
        added_bodies(&self.settled().await)
    }

    /// Every event of a session that has ended, and nothing that comes later: only an
    /// account's session task emits its events, and [`Core::disconnect`] (which a failed
    /// [`Core::connect`] calls too) returns once that task has ended, so what is in the
    /// channel then is all there will be. Panics if the account still has a session.
    pub async fn ended(&mut self) -> Vec<Event> {
        let err = self
            .core
            .settle(self.account)
            .await
            .expect_err("the session has ended");
        assert_eq!(err.code, charla_core::ErrorCode::NotConnected, "{err:?}");
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }

    /// Waits for the archive catch-up (XEP-0313) of the stream that is coming up (or just
    /// came up) to finish, and returns every event up to and including its
    /// [`Event::CatchUpFinished`]: every message it brought, and every live one held back
    /// meanwhile, was announced before it. Panics if the catch-up stopped early.
    pub async fn caught_up(&mut self) -> Vec<Event> {
        let account = self.account;
        let mut started = false;
        let mut out = Vec::new();
        loop {
            let e = self.wait_for("the archive catch-up", |_| true).await;
            match &e {
                Event::CatchUpStarted { account: a } if *a == account => started = true,
                Event::CatchUpFinished {
                    account: a,
                    complete,
                    ..
                } if *a == account && started => {
                    assert!(*complete, "the catch-up stopped early: {out:?}");
                    out.push(e);
                    return out;
                }
                _ => {}
            }
            out.push(e);
        }
    }

    /// Bodies of the `MessageAdded` events among [`Device::caught_up`]'s.
    pub async fn caught_up_added(&mut self) -> Vec<String> {
        added_bodies(&self.caught_up().await)
    }

    /// The whole conversation with `peer`, oldest first (up to 500 rows).
    pub fn history(&self, peer: &str) -> Vec<Message> {
        let mut all = self
            .core
            .history(self.account, peer, None, 500)
            .expect("history");
        all.reverse();
        all
    }
}

/// Bodies of the `MessageAdded` events among `events`, in order.
pub fn added_bodies(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageAdded { message, .. } => Some(message.body.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `e` says an account is online.
pub fn is_online(e: &Event) -> bool {
    matches!(
        e,
        Event::Connection {
            state: ConnectionState::Online { .. },
            ..
        }
    )
}
