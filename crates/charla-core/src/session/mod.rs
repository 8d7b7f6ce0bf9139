//! One account's live session, split the sans-IO way (as `h2` and
//! `quinn-proto` are): an [`engine::Engine`] that holds the protocol state
//! and turns inputs (stanzas, commands, stanza fates, timeouts) into
//! [`engine::Action`]s (send, emit, restart), and a thin
//! [`driver`] that owns the tokio-xmpp stream and the clock and carries
//! the actions out.
//!
//! The engine is split by concern, each module with its own state:
//! - [`pipeline`]: the one inbound path of chat messages (live, held,
//!   archive, older), stage by stage;
//! - [`archive`]: the catch-up and older history (XEP-0313);
//! - [`outbox`]: sending the persisted outbox, one message at a time;
//! - [`receipts`]: receipts we owe and acks we receive (XEP-0184/0333);
//! - [`roster`] and [`presence`]: the contact list, subscriptions and who
//!   is online (RFC 6121);
//! - [`avatars`]: contacts' and our own avatar (XEP-0084/0153);
//! - [`bookmarks`]: our room bookmarks, synced with our other devices
//!   (XEP-0402);
//! - [`muc`]: group chats, their occupants and their own archives
//!   (XEP-0045, XEP-0421, XEP-0313 on the room);
//! - [`mds`]: how far rooms were read, shared with our other devices
//!   (XEP-0490);
//! - [`iq`]: the IQs we send and answer, who may answer them, and
//!   their timeouts.
//!
//! Every store write happens in the engine, before the event that
//! announces it.

mod archive;
mod avatars;
mod bookmarks;
mod driver;
mod engine;
mod iq;
mod mds;
mod muc;
mod outbox;
mod pipeline;
mod presence;
mod receipts;
mod roster;
#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use charla_store::{AccountId, Store};
use tokio::sync::{mpsc, oneshot};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

use crate::avatar;
use crate::c2s::LoginConfig;
use crate::error::CoreError;
use crate::event::Event;
use crate::idle::AutoPresence;
use crate::presence::Show;

pub(crate) use driver::run;

/// Instructions from the [`crate::Core`] handle to a running session.
#[derive(Debug)]
pub(crate) enum Command {
    /// New rows are pending in the outbox (chats' or rooms').
    Flush,
    /// Change the own presence.
    SetPresence { show: Show, status: Option<String> },
    /// Show this presence instead of the chosen one while the user is idle
    /// (XEP-0319), or the chosen one again (`None`).
    SetAuto(Option<AutoPresence>),
    /// Ask when a contact was last online (XEP-0012).
    LastActivity {
        jid: BareJid,
        reply: oneshot::Sender<Result<Option<u64>, CoreError>>,
    },
    /// Send a displayed marker (XEP-0333) for message `id` to `to`.
    MarkDisplayed { to: BareJid, id: String },
    /// Fetch the page of `peer`'s history before what is stored, from the
    /// archive (XEP-0313), and report how it went.
    FetchOlder {
        peer: BareJid,
        reply: oneshot::Sender<Result<crate::OlderHistory, CoreError>>,
    },
    /// Change the contact list or answer a subscription request.
    Roster {
        op: RosterOp,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// Tell `to` our chat state (XEP-0085), if they are a contact.
    ChatState {
        to: BareJid,
        state: crate::chatstates::ChatState,
    },
    /// Block (`block`) or unblock `jid` (XEP-0191).
    Block {
        jid: BareJid,
        block: bool,
        /// Report them as spam with the block (XEP-0377), where the server
        /// takes reports.
        report: bool,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// Ask for the block list.
    Blocklist {
        reply: oneshot::Sender<Result<Vec<String>, CoreError>>,
    },
    /// Send an IQ set with `payload` to our own account (XEP-0077 account
    /// management) and hand the server's answer to `reply`.
    Account {
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, StanzaError>>,
    },
    /// Send an IQ get (or set, with `set`) to `to` (our own account if
    /// `None`) and pass back its answer, accepted only from `to`.
    Iq {
        to: Option<BareJid>,
        set: bool,
        payload: Element,
        reply: oneshot::Sender<Result<Option<Element>, CoreError>>,
    },
    /// Our avatar changed to `hash` (`None`: removed): remember it and
    /// tell contacts in our presence (XEP-0153).
    OwnAvatar { hash: Option<String> },
    /// Join the room `room` as `nick` (XEP-0045), with its password if
    /// it has one; it is then joined at every login.
    JoinRoom {
        room: BareJid,
        nick: String,
        password: Option<String>,
    },
    /// Create the room `room` as `preset` says (XEP-0045 §10.1.3) and join
    /// it as `nick`; a room that exists already is joined as it is.
    CreateRoom {
        room: BareJid,
        nick: String,
        preset: crate::roomconfig::RoomPreset,
    },
    /// Invite `to` to the room `room` (XEP-0045 mediated: through the room,
    /// which in a members-only room also makes them a member).
    Invite {
        room: BareJid,
        to: BareJid,
        reason: Option<String>,
    },
    /// Set the subject of the room `room` (XEP-0045 §8.1); the room tells
    /// everyone, us included, if it allows us.
    RoomSubject { room: BareJid, subject: String },
    /// Tell our other devices that `room` was read up to its line stamped
    /// `stanza_id` (XEP-0490).
    RoomDisplayed { room: BareJid, stanza_id: String },
    /// Leave the room `room`; `forget`: and remove its bookmark. It is not
    /// joined at login any more; its history stays.
    LeaveRoom { room: BareJid, forget: bool },
    /// While waiting to reconnect, try now.
    ReconnectNow,
    /// Send unavailable presence and close the stream.
    Disconnect,
}

/// A change to the contact list or its subscriptions (RFC 6121).
#[derive(Debug)]
pub(crate) enum RosterOp {
    /// Add a contact, ask to see their presence, pre-approve theirs.
    Add {
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    },
    /// Rename a contact and set their groups.
    Edit {
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    },
    /// Remove a contact (cancels both subscriptions).
    Remove { jid: BareJid },
    /// Answer a subscription request.
    Answer { jid: BareJid, accept: bool },
}

/// Shared pieces a session needs.
pub(crate) struct Context {
    pub account: AccountId,
    pub login: LoginConfig,
    pub store: Arc<Mutex<Store>>,
    pub events: mpsc::Sender<Event>,
    pub show: Show,
    pub status: Option<String>,
    /// Where avatar images are cached.
    pub avatars: avatar::Cache,
    /// Resolved once: `Ok` when first online, `Err` when the first login fails.
    pub ready: oneshot::Sender<Result<(), CoreError>>,
    /// Whether the account's server takes spam reports (XEP-0377), as its
    /// disco#info said at the last bind.
    pub reporting: Arc<AtomicBool>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
