//! The one typed event stream out of the core. The UI never sees stanzas:
//! every variant is already validated, stored where relevant, and carries
//! database row ids.

use charla_store::{AccountId, Message, MessageId, RoomMessage, RosterEntry};
use serde::Serialize;
use ts_rs::TS;

use crate::error::CoreError;
use crate::muc::Occupant;
use crate::presence::{ContactPresence, Show};

/// State of one account's connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionState {
    /// Not connected, and not trying to.
    Disconnected,
    /// First connection attempt in progress.
    Connecting,
    /// Logged in and bound; `jid` is the full JID the server bound.
    Online {
        /// The bound full JID.
        jid: String,
    },
    /// The link dropped; trying again.
    Reconnecting {
        /// Number of failed attempts so far in this outage.
        attempt: u32,
        /// Milliseconds until the next attempt (0 while the stream library
        /// is resuming on its own).
        retry_in_ms: u64,
    },
}

/// Everything the core tells the outside world.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Event {
    /// An account's connection state changed.
    Connection {
        /// The account.
        account: AccountId,
        /// Its new state.
        state: ConnectionState,
    },
    /// The full roster is known (from the server or the roster cache).
    RosterLoaded {
        /// The account.
        account: AccountId,
        /// Every contact, sorted by JID.
        contacts: Vec<RosterEntry>,
    },
    /// One contact was added or changed by a roster push.
    ContactChanged {
        /// The account.
        account: AccountId,
        /// The contact as it is now.
        contact: RosterEntry,
    },
    /// One contact was removed by a roster push.
    ContactRemoved {
        /// The account.
        account: AccountId,
        /// The removed contact's bare JID.
        jid: String,
    },
    /// A contact's chat state changed (XEP-0085), e.g. they started or
    /// stopped typing. A message from them also means `active`.
    ChatState {
        /// The account.
        account: AccountId,
        /// The contact's bare JID.
        peer: String,
        /// Their new state.
        state: crate::chatstates::ChatState,
    },
    /// Someone asks to see our presence (RFC 6121 §3.1); answer with
    /// `Core::answer_subscription`. Servers repeat pending requests at
    /// every login.
    SubscriptionRequest {
        /// The account.
        account: AccountId,
        /// Who asks (bare JID).
        jid: String,
    },
    /// A contact's best presence changed; `presence: None` means offline.
    PresenceChanged {
        /// The account.
        account: AccountId,
        /// The contact's bare JID.
        jid: String,
        /// The best available resource's presence, or `None` if offline.
        presence: Option<ContactPresence>,
    },
    /// The presence we show on an account: sent at each login, and again
    /// whenever the user or the idle rules change it. The engine is its one
    /// source; the app and the UI follow this event. (Offline is the
    /// account's `Connection` state, not a presence.)
    OwnPresence {
        /// The account.
        account: AccountId,
        /// The availability the user chose.
        show: Show,
        /// The status message the user chose.
        status: Option<String>,
        /// The away availability shown instead while the desktop is idle.
        auto: Option<Show>,
    },
    /// A message was committed to the store (incoming or outgoing).
    MessageAdded {
        /// The account.
        account: AccountId,
        /// The stored row.
        message: Message,
        /// It came from a stranger (not in the roster, never written to):
        /// a message request, which is not counted as unread and is not
        /// notified unless the user asked for that.
        stranger: bool,
    },
    /// A stored message changed (for example its send state).
    MessageUpdated {
        /// The account.
        account: AccountId,
        /// The row as it is now.
        message: Message,
    },
    /// The user read the chat with `peer` up to `up_to` (an incoming row) on
    /// another of their devices (XEP-0333 marker, seen as a XEP-0280 carbon).
    ChatRead {
        /// The account.
        account: AccountId,
        /// The contact's bare JID.
        peer: String,
        /// The newest incoming message read there.
        up_to: MessageId,
    },
    /// A contact's avatar (or our own) changed (XEP-0084, XEP-0153): its
    /// image is cached under `hash` (read it with `Core::avatar_image`), or
    /// `None` when they have none.
    AvatarChanged {
        /// The account.
        account: AccountId,
        /// The contact's (or our own) bare JID.
        jid: String,
        /// The SHA-1 of the image, lowercase hex.
        hash: Option<String>,
    },
    /// The archive catch-up of a fresh stream began (XEP-0313): messages
    /// that arrived while the account was offline are being fetched.
    CatchUpStarted {
        /// The account.
        account: AccountId,
    },
    /// The catch-up that [`Event::CatchUpStarted`] announced is over: every
    /// message it brought (and every live one held back meanwhile) is
    /// stored and was announced before this event.
    CatchUpFinished {
        /// The account.
        account: AccountId,
        /// New messages it stored.
        added: u32,
        /// `false` if it stopped early (an error, or the stream was reset);
        /// the next login continues from what was stored.
        complete: bool,
    },
    /// We are in the room (XEP-0045), and it is settled: the room's
    /// archive was caught up (XEP-0313) and every line it brought, and every
    /// live line held meanwhile, was announced before this event.
    RoomJoined {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// Our nick there (the room may have changed the one asked for).
        nick: String,
        /// Everyone in the room now, us included; later changes come as
        /// [`Event::OccupantChanged`].
        occupants: Vec<Occupant>,
        /// The room's subject.
        subject: Option<String>,
        /// New lines the catch-up stored.
        added: u32,
    },
    /// Someone joined or left a room we are in, or changed.
    OccupantChanged {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// What happened.
        change: OccupantChange,
    },
    /// The nick we asked for is taken in the room: join again with
    /// another, such as `suggested`.
    RoomNickTaken {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// The nick that is taken.
        nick: String,
        /// A free-looking one to offer instead.
        suggested: String,
    },
    /// The room needs a password, or the one given was wrong: join again
    /// with one.
    RoomPasswordRequired {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
    },
    /// We are not in the room (any more): we left, were kicked or banned,
    /// or the room refused us. A room we were kicked or banned from is not
    /// joined again by itself.
    RoomLeft {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// Why.
        reason: RoomExit,
    },
    /// The room's subject changed (by the room or one of its occupants).
    RoomSubject {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// The new subject, `None` when cleared.
        subject: Option<String>,
    },
    /// Someone invites us to a room (XEP-0249 directly, or XEP-0045
    /// through the room). It is only an offer: nothing is joined until
    /// the user accepts. From a stranger (`stranger`), it belongs with the
    /// message requests.
    RoomInvite {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// Who invites (bare JID).
        from: String,
        /// Why, in their words.
        reason: Option<String>,
        /// The room's password, if the invitation carries it.
        password: Option<String>,
        /// The inviter is not in the roster and was never written to.
        stranger: bool,
    },
    /// A room was read up to `up_to` on another of our devices (XEP-0490):
    /// what is older is read here too.
    RoomRead {
        /// The account.
        account: AccountId,
        /// The room's bare JID.
        room: String,
        /// The newest line read.
        up_to: charla_store::RoomMessageId,
    },
    /// A room line was committed to the store (someone's, or ours).
    RoomMessageAdded {
        /// The account.
        account: AccountId,
        /// The stored line.
        message: Box<RoomMessage>,
    },
    /// A stored room line changed (ours, reflected by the room: `sent`).
    RoomMessageUpdated {
        /// The account.
        account: AccountId,
        /// The line as it is now.
        message: Box<RoomMessage>,
    },
    /// Something failed; `account` is `None` for errors not tied to one.
    Error {
        /// The account concerned, if any.
        account: Option<AccountId>,
        /// The error, with a stable code.
        error: CoreError,
    },
}

/// A change among a room's occupants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum OccupantChange {
    /// Someone entered the room.
    Joined {
        /// Who.
        occupant: Occupant,
    },
    /// Someone left (or was removed; `reason` says so).
    Left {
        /// Their nick.
        nick: String,
        /// Why, if they did not just leave.
        reason: Option<RoomExit>,
    },
    /// Someone changed: their role, affiliation or presence, or their nick
    /// (then `old_nick` is the one they had).
    Changed {
        /// The nick they had, for a nick change.
        old_nick: Option<String>,
        /// Who they are now.
        occupant: Occupant,
    },
}

/// Why someone is not in a room (any more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum RoomExit {
    /// Left of their own accord (for us: we asked to).
    Left,
    /// For us: the room was removed from our bookmarks, here or on another
    /// device; it goes from the list (its history stays in the store).
    Forgotten,
    /// Kicked (status 307), with the reason given.
    Kicked {
        /// The reason, if any.
        reason: Option<String>,
    },
    /// Banned (status 301), with the reason given.
    Banned {
        /// The reason, if any.
        reason: Option<String>,
    },
    /// Removed because the room changed (affiliation, members-only) or
    /// shut down (statuses 321, 322, 332).
    Removed,
    /// The room refused us: its error condition (`forbidden`,
    /// `registration-required`, `item-not-found`...).
    Refused {
        /// The condition's name.
        condition: String,
    },
}
