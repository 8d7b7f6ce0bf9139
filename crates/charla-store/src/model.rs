//! Typed ids, enums and records exchanged with the store.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::StoreError;

/// Id of a row in `accounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct AccountId(pub i64);

/// Id of a row in `conversations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct ConversationId(pub i64);

/// Id of a row in `messages`; grows with insertion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct MessageId(pub i64);

/// Defines a fieldless enum stored as text, with `as_str`, `FromStr` and serde
/// all using the same strings.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The text stored in the database and used in serialized form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            /// Parses the text produced by `as_str`.
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(StoreError::InvalidData(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        other
                    ))),
                }
            }
        }
    };
}

text_enum! {
    /// Whether a message was received from the peer or written by us.
    Direction {
        /// Written by the peer.
        In => "in",
        /// Written by us (from this client or, via carbons/MAM, another one).
        Out => "out",
    }
}

text_enum! {
    /// Delivery state of a message.
    MessageState {
        /// An incoming message.
        Received => "received",
        /// Outgoing, stored but not yet acknowledged by the server.
        Pending => "pending",
        /// Acknowledged by our server.
        Sent => "sent",
        /// The peer's client confirmed receipt.
        Delivered => "delivered",
        /// The peer's client reported it as displayed.
        Displayed => "displayed",
        /// Sending failed (see the message's `error`).
        Failed => "failed",
    }
}

text_enum! {
    /// Roster subscription state (RFC 6121).
    Subscription {
        /// No presence subscription either way.
        None => "none",
        /// We see the contact's presence.
        To => "to",
        /// The contact sees our presence.
        From => "from",
        /// Mutual subscription.
        Both => "both",
        /// The item is being removed (roster push); never returned by the store.
        Remove => "remove",
    }
}

impl MessageState {
    /// Whether a message in this state may move to `next`.
    ///
    /// States only move forward (`pending` → `sent` → `delivered` →
    /// `displayed`). `failed` can be reached from `pending` or `sent`; a failed
    /// message can go back to `pending` (retry) or forward to `delivered` /
    /// `displayed` when the peer acknowledges it after all. `received` never
    /// changes, and a state never "moves" to itself.
    pub fn can_transition_to(self, next: MessageState) -> bool {
        matches!(
            (self, next),
            (
                Self::Pending,
                Self::Sent | Self::Delivered | Self::Displayed | Self::Failed
            ) | (Self::Sent, Self::Delivered | Self::Displayed | Self::Failed)
                | (Self::Delivered, Self::Displayed)
                | (
                    Self::Failed,
                    Self::Pending | Self::Delivered | Self::Displayed
                )
        )
    }
}

/// A configured XMPP account (never includes the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Row id.
    pub id: AccountId,
    /// Bare JID of the account.
    pub jid: String,
    /// Server host override, if the user set one.
    pub host: Option<String>,
    /// Server port override, if the user set one.
    pub port: Option<u16>,
    /// Whether the account should be connected.
    pub enabled: bool,
    /// Roster version of the cached roster, if any.
    pub roster_ver: Option<String>,
    /// Creation time, unix milliseconds.
    pub created_at: i64,
}

/// An account Charla keeps between starts (see [`crate::Store::kept_accounts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptAccount {
    /// Row id.
    pub id: AccountId,
    /// Bare JID of the account.
    pub jid: String,
    /// Server host override, if the user set one.
    pub host: Option<String>,
    /// Server port override, if the user set one.
    pub port: Option<u16>,
    /// Whether it is connected at start and kept online.
    pub enabled: bool,
    /// The color the user chose for it (`#rrggbb`), if any.
    pub color: Option<String>,
}

/// One cached roster item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RosterEntry {
    /// Bare JID of the contact.
    pub jid: String,
    /// Name the user gave the contact.
    pub name: Option<String>,
    /// Subscription state.
    pub subscription: Subscription,
    /// Whether our subscription request is pending (`ask="subscribe"`).
    pub ask_pending: bool,
    /// Roster groups; returned sorted.
    pub groups: Vec<String>,
}

/// A message to store with [`Store::insert_incoming`](crate::Store::insert_incoming):
/// an incoming message or a copy of one of our own (carbons, MAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Account that received it.
    pub account: AccountId,
    /// Bare JID of the other party; selects the conversation.
    pub peer: String,
    /// Who wrote it.
    pub direction: Direction,
    /// JID (full or bare) of the author.
    pub sender: String,
    /// Message text.
    pub body: String,
    /// Server or delay timestamp, unix milliseconds.
    pub server_time: Option<i64>,
    /// XEP-0359 origin-id.
    pub origin_id: Option<String>,
    /// XEP-0359 stanza-id; set only if the caller trusts its `by`.
    pub stanza_id: Option<String>,
    /// JID that assigned `stanza_id`.
    pub stanza_id_by: Option<String>,
    /// The stanza's `id` attribute, which receipts and markers name.
    pub wire_id: Option<String>,
    /// The sender asked for displayed markers (XEP-0333).
    pub markable: bool,
    /// A delivery receipt (XEP-0184) is owed to `sender` for `wire_id`.
    pub receipt_owed: bool,
}

/// A delivery receipt (XEP-0184) still owed for a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedReceipt {
    /// The stored message.
    pub message: MessageId,
    /// Where the receipt goes: the message's sender (full JID).
    pub to: String,
    /// The message's `id` attribute, which the receipt names.
    pub wire_id: String,
}

/// A conversation with a stranger: someone not in the roster who wrote
/// and was never written to (a message request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessageRequest {
    /// Account of the conversation.
    pub account_id: AccountId,
    /// The stranger's bare JID.
    pub peer: String,
    /// How many messages they left.
    pub count: u32,
    /// Their newest message.
    pub last: Message,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Message {
    /// Row id.
    pub id: MessageId,
    /// Conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Account of that conversation.
    pub account_id: AccountId,
    /// Bare JID of the other party.
    pub peer: String,
    /// Who wrote it.
    pub direction: Direction,
    /// JID (full or bare) of the author.
    pub sender: String,
    /// Message text.
    pub body: String,
    /// Server or delay timestamp, unix milliseconds.
    pub server_time: Option<i64>,
    /// When it was stored, unix milliseconds.
    pub local_time: i64,
    /// XEP-0359 origin-id.
    pub origin_id: Option<String>,
    /// XEP-0359 stanza-id assigned by a trusted server.
    pub stanza_id: Option<String>,
    /// Delivery state.
    pub state: MessageState,
    /// Error text when `state` is `failed`.
    pub error: Option<String>,
}

/// Result of [`Store::insert_incoming`](crate::Store::insert_incoming).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The message was new and has been stored.
    Inserted(Message),
    /// A message with the same stanza-id or origin-id already exists; it was left unchanged.
    Duplicate(MessageId),
}

/// Where an account's catch-up from its server archive (XEP-0313) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MamPosition {
    /// The archive id of the newest archived message we have seen; `None`
    /// when the archive was empty at the baseline (start at its beginning).
    pub last_id: Option<String>,
    /// When that message was archived (unix ms), if known.
    pub last_time: Option<i64>,
}

/// A span of history that may be missing (the archive had expired the
/// position we wanted to continue from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Row id.
    pub id: i64,
    /// The account.
    pub account: AccountId,
    /// Messages after this time (unix ms) were fetched again; anything
    /// between it and the oldest message still archived may be lost.
    pub after_time: Option<i64>,
    /// When the gap was found (unix ms).
    pub detected_at: i64,
}

/// Id of a row in `rooms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct RoomId(pub i64);

/// Id of a row in `room_messages`; grows with insertion order within the
/// lines of live and catch-up traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct RoomMessageId(pub i64);

/// A group chat (XEP-0045) kept for an account. Whether we are in it now
/// is the session's live state, not stored; nor is a room's password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Room {
    /// Row id.
    pub id: RoomId,
    /// The account.
    pub account_id: AccountId,
    /// The room's bare JID.
    pub jid: String,
    /// Our nick in the room.
    pub nick: String,
    /// The room's name, if known.
    pub name: Option<String>,
    /// The room's subject, as the room last set it.
    pub subject: Option<String>,
    /// Joined again at every login.
    pub autojoin: bool,
    /// Kept in the user's bookmarks (XEP-0402).
    pub bookmarked: bool,
}

/// A room line to store with
/// [`Store::insert_room_lines`](crate::Store::insert_room_lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoomMessage {
    /// The room it was said in.
    pub room: RoomId,
    /// `Out` for our own lines (their reflection, or a copy from the
    /// room's archive), `In` for everyone else's.
    pub direction: Direction,
    /// The author's nick in the room.
    pub nick: String,
    /// The author's occupant id (XEP-0421), as the room stamped it.
    pub occupant_id: Option<String>,
    /// The author's real JID, where the room shows it.
    pub real_jid: Option<String>,
    /// The text.
    pub body: String,
    /// The room's or the delay stamp's time, unix milliseconds.
    pub server_time: Option<i64>,
    /// XEP-0359 origin-id.
    pub origin_id: Option<String>,
    /// XEP-0359 stanza-id; set only if the room itself stamped it.
    pub stanza_id: Option<String>,
    /// A private message (XEP-0045 §7.5) from this occupant to us (or, for
    /// `Out`, from us to them), not a line said to the room.
    pub private_with: Option<String>,
    /// It names us in a mention reference (XEP-0372).
    pub mentions_us: bool,
}

/// A stored room line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoomMessage {
    /// Row id.
    pub id: RoomMessageId,
    /// The room it belongs to.
    pub room_id: RoomId,
    /// The account.
    pub account_id: AccountId,
    /// The room's bare JID.
    pub room: String,
    /// Ours (`out`) or someone else's (`in`).
    pub direction: Direction,
    /// The author's nick, exactly as sent: render it as text only.
    pub nick: String,
    /// The author's occupant id (XEP-0421), if the room gives them.
    pub occupant_id: Option<String>,
    /// The author's real JID, if the room shows it.
    pub real_jid: Option<String>,
    /// The text.
    pub body: String,
    /// The room's or delay timestamp, unix milliseconds.
    pub server_time: Option<i64>,
    /// When it was stored, unix milliseconds.
    pub local_time: i64,
    /// XEP-0359 origin-id.
    pub origin_id: Option<String>,
    /// XEP-0359 stanza-id assigned by the room.
    pub stanza_id: Option<String>,
    /// `received`, or for our own lines `pending`, `sent` (the room
    /// reflected it) or `failed`. Rooms send no receipts.
    pub state: MessageState,
    /// Error text when `state` is `failed`.
    pub error: Option<String>,
    /// A private message with this occupant (XEP-0045 §7.5), not a line
    /// said to the room: show it as such.
    pub private_with: Option<String>,
    /// It mentions us by reference (XEP-0372), whatever its text says.
    pub mentions_us: bool,
}

/// Result of storing one room line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomInsertOutcome {
    /// The line was new and has been stored.
    Inserted(RoomMessage),
    /// The line is stored already (same stanza-id, or same origin-id from
    /// the same author); nothing changed.
    Duplicate(RoomMessageId),
    /// The room reflected one of our own lines: the stored row, now `sent`
    /// and with the room's stanza-id.
    Reflected(RoomMessage),
}
