//! Unit tests of the session engine: no server, no stream, no clock but
//! tokio's paused one. Inputs are stanzas written in literal XML; outputs
//! are the actions the engine returns. The store is a real SQLite file.

mod archive;
mod avatars;
mod bookmarks;
mod iq;
mod link;
mod muc;
mod outbox;
mod pipeline;
mod presence;
mod rich;
mod roster;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use charla_store::{AccountId, RosterEntry, Store, Subscription};
use tokio::sync::{mpsc, oneshot};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza::Stanza;

use super::engine::{Action, Engine, Watch};
use super::Context;
use crate::c2s::{Keepalive, LoginConfig, TlsTrust};
use crate::error::CoreError;
use crate::event::Event;
use crate::presence::Show;

pub(super) const OWN: &str = "alice@example.org";
pub(super) const BOUND: &str = "alice@example.org/desk";
pub(super) const BOB: &str = "bob@example.net";

/// An engine for alice on a fresh store, with what it did so far.
pub(super) struct Harness {
    pub engine: Engine,
    pub store: Arc<Mutex<Store>>,
    pub account: AccountId,
    pub ready: oneshot::Receiver<Result<(), CoreError>>,
    /// Stanzas sent so far, as XML elements, with how each is watched.
    pub sent: Vec<(Element, Watch)>,
    /// Events emitted so far.
    pub events: Vec<Event>,
    /// Fresh streams asked for.
    pub restarts: usize,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("charla.db")).expect("store");
        let account = store.upsert_account(OWN).expect("account");
        let store = Arc::new(Mutex::new(store));
        let (ready_tx, ready) = oneshot::channel();
        let ctx = Context {
            account,
            login: LoginConfig {
                jid: OWN.parse().expect("jid"),
                password: "secret".into(),
                server: None,
                trust: TlsTrust::system().expect("trust"),
                keepalive: Keepalive::default(),
                sasl: Default::default(),
            },
            store: store.clone(),
            // The engine emits actions; this channel is the driver's.
            events: mpsc::channel(1).0,
            show: Show::Available,
            status: None,
            avatars: crate::avatar::Cache::new(Some(dir.path().join("avatars"))),
            ready: ready_tx,
            reporting: Arc::new(AtomicBool::new(false)),
        };
        let mut h = Harness {
            engine: Engine::new(ctx),
            store,
            account,
            ready,
            sent: Vec::new(),
            events: Vec::new(),
            restarts: 0,
            _dir: dir,
        };
        h.collect();
        h
    }

    /// A harness logged in: bound, roster and features answered, carbons
    /// on, the initial presence sent, and (if `archive` has a position)
    /// the catch-up asked for; what that produced is cleared.
    pub fn online() -> Harness {
        let mut h = Harness::new();
        h.bind();
        h.answer("jabber:iq:roster", "<query xmlns='jabber:iq:roster'/>");
        h.answer_to(
            OWN,
            "http://jabber.org/protocol/disco#info",
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
               <identity category='account' type='registered'/>\
               <feature var='urn:xmpp:sid:0'/><feature var='urn:xmpp:mam:2'/></query>",
        );
        h.answer("urn:xmpp:carbons:2", "");
        h.clear();
        h
    }

    /// Binds a fresh stream as [`BOUND`].
    pub fn bind(&mut self) {
        self.engine.on_bound(Jid::new(BOUND).expect("jid"), false);
        self.collect();
    }

    /// Moves the engine's actions into `sent`, `events` and `restarts`.
    pub fn collect(&mut self) {
        for action in self.engine.take_actions() {
            match action {
                Action::Send { stanza, watch } => self.sent.push((element(*stanza), watch)),
                Action::Emit(event) => self.events.push(*event),
                Action::Restart => self.restarts += 1,
                Action::End => panic!("the session ended"),
            }
        }
    }

    pub fn clear(&mut self) {
        self.collect();
        self.sent.clear();
        self.events.clear();
    }

    /// The engine reads `xml` (a stanza; `jabber:client` is added) as a
    /// burst of its own.
    pub fn receive(&mut self, xml: &str) {
        self.engine.on_stanza(stanza(xml));
        self.engine.end_burst();
        self.collect();
    }

    /// The engine reads these stanzas as one burst.
    pub fn receive_burst(&mut self, xmls: &[&str]) {
        for xml in xmls {
            self.engine.on_stanza(stanza(xml));
        }
        self.engine.end_burst();
        self.collect();
    }

    /// The last IQ sent whose payload is in `ns` (and, with `to`, sent to it).
    pub fn find_request(&self, ns: &str, to: Option<&str>) -> Element {
        self.sent
            .iter()
            .rev()
            .map(|(e, _)| e)
            .find(|e| {
                e.name() == "iq"
                    && to.is_none_or(|to| e.attr("to") == Some(to))
                    && e.children().any(|c| c.ns() == ns)
            })
            .unwrap_or_else(|| panic!("no request in {ns} to {to:?}: {:?}", self.sent_xml()))
            .clone()
    }

    /// The last IQ sent whose payload is in `ns`.
    pub fn request(&self, ns: &str) -> Element {
        self.find_request(ns, None)
    }

    /// Answers the last request in `ns` from our own account (no `from`).
    pub fn answer(&mut self, ns: &str, payload: &str) {
        let id = self.request(ns).attr("id").expect("id").to_owned();
        self.receive(&format!("<iq type='result' id='{id}'>{payload}</iq>"));
    }

    /// Answers the last request in `ns` sent to `from`, as `from`.
    pub fn answer_to(&mut self, from: &str, ns: &str, payload: &str) {
        let request = self.find_request(ns, Some(from));
        let id = request.attr("id").expect("id");
        self.receive(&format!(
            "<iq type='result' from='{from}' id='{id}'>{payload}</iq>"
        ));
    }

    pub fn sent_xml(&self) -> Vec<String> {
        self.sent.iter().map(|(e, _)| String::from(e)).collect()
    }

    /// Stanzas sent so far named `name` (message, presence, iq).
    pub fn sent_named(&self, name: &str) -> Vec<Element> {
        self.sent
            .iter()
            .filter(|(e, _)| e.name() == name)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// Bodies of the messages announced as added, in order.
    pub fn added(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::MessageAdded { message, .. } => Some(message.body.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn in_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.store.lock().expect("store"))
    }

    /// Makes `jid` a contact with a mutual subscription.
    pub fn contact(&self, jid: &str) {
        let entry = RosterEntry {
            jid: jid.into(),
            name: None,
            subscription: Subscription::Both,
            ask_pending: false,
            groups: vec![],
        };
        self.in_store(|s| s.upsert_contact(self.account, &entry))
            .expect("contact");
    }

    /// Bodies stored in the conversation with `peer`, oldest first.
    pub fn history(&self, peer: &str) -> Vec<String> {
        let mut page = self
            .in_store(|s| {
                let conversation = s.conversation(self.account, peer)?;
                s.history_page(conversation, None, 500)
            })
            .expect("history");
        page.sort_by_key(|m| m.id);
        page.into_iter().map(|m| m.body).collect()
    }
}

/// Parses a stanza written in literal XML (`jabber:client` is added).
pub(super) fn stanza(xml: &str) -> Stanza {
    let end = xml.find([' ', '>', '/']).expect("a tag");
    let xml = format!("{} xmlns='jabber:client'{}", &xml[..end], &xml[end..]);
    let el: Element = xml.parse().expect("well-formed XML");
    match el.name() {
        "message" => Message::try_from(el).expect("message").into(),
        "presence" => Presence::try_from(el).expect("presence").into(),
        "iq" => Iq::try_from(el).expect("iq").into(),
        other => panic!("not a stanza: {other}"),
    }
}

fn element(stanza: Stanza) -> Element {
    match stanza {
        Stanza::Message(m) => m.into(),
        Stanza::Presence(p) => p.into(),
        Stanza::Iq(iq) => iq.into(),
    }
}
