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
    /// The message it answers (XEP-0461), if it is a reply.
    pub reply: Option<ReplyRef>,
    /// Its sender asked that it be shown without styling (XEP-0393).
    pub unstyled: bool,
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
    /// What was done to it since (edited, deleted, reactions) and what it
    /// answers, derived from the stored actions: `body` is already the
    /// newest text allowed to replace it.
    pub rich: Rich,
}

/// Result of [`Store::insert_incoming`](crate::Store::insert_incoming).
#[derive(Debug, Clone, PartialEq, Eq)]
// `Inserted` is the common outcome: boxing it would cost an allocation per
// stored row to shrink the rare `Duplicate`.
#[allow(clippy::large_enum_variant)]
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
    /// The line it answers (XEP-0461), if it is a reply.
    pub reply: Option<ReplyRef>,
    /// Its sender asked that it be shown without styling (XEP-0393).
    pub unstyled: bool,
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
    /// What was done to it since and what it answers, as for [`Message::rich`].
    pub rich: Rich,
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

text_enum! {
    /// What an action does to the message it names.
    ActionKind {
        /// A correction (XEP-0308): its body replaces the text.
        Correct => "correct",
        /// A retraction (XEP-0424), or a room's moderation (XEP-0425).
        Retract => "retract",
        /// The author's reactions (XEP-0444), replacing their earlier ones.
        React => "react",
        /// Our own "delete for me": hidden here, nothing sent.
        Hide => "hide",
    }
}

/// The chat an action was done in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionChat {
    /// A one-to-one chat of `account` with `peer` (bare JID).
    Chat {
        /// The account.
        account: AccountId,
        /// The other party's bare JID.
        peer: String,
    },
    /// A room's lines.
    Room(RoomId),
}

/// An action to store with [`Store::insert_action`](crate::Store::insert_action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    /// Where it was done.
    pub chat: ActionChat,
    /// What it does.
    pub kind: ActionKind,
    /// The id it names its target by (origin-id or id in a chat, the
    /// room's stanza-id or the author's origin-id in a room).
    pub target: String,
    /// Ours (`out`) or someone else's (`in`).
    pub direction: Direction,
    /// Who did it: a bare JID in a chat; in a room `oid:` and the occupant
    /// id (XEP-0421), else `jid:` and the real bare JID, else `nick:` and
    /// the nick. Authority is checked against the target's author with it.
    pub author: String,
    /// How the author is shown (a bare JID, or a nick in a room).
    pub author_name: String,
    /// A correction's text, or the reactions, one per line.
    pub body: Option<String>,
    /// The action stanza's own id, so a copy of it is stored once.
    pub action_id: Option<String>,
    /// A retraction by the room's moderators (XEP-0425), checked to come
    /// from the room itself.
    pub moderated: bool,
    /// When it was done, unix milliseconds.
    pub server_time: Option<i64>,
    /// Ours, to be sent (see [`Store::pending_actions`](crate::Store::pending_actions)).
    pub pending: bool,
}

/// One of our actions still to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAction {
    /// Its row.
    pub id: i64,
    /// The account.
    pub account: AccountId,
    /// The peer's or the room's bare JID.
    pub to: String,
    /// Whether `to` is a room.
    pub room: bool,
    /// What it does.
    pub kind: ActionKind,
    /// The id of its target.
    pub target: String,
    /// A correction's text, or the reactions, one per line.
    pub body: Option<String>,
    /// The id it is sent with.
    pub action_id: String,
}

/// What a reply names (XEP-0461): its target's id and author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRef {
    /// The target's id as the XEP names it.
    pub id: String,
    /// The target's author (a JID, or a room occupant's JID), if given.
    pub to: Option<String>,
}

/// A reply's target as this chat has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Reply {
    /// The target's id as the reply names it.
    pub id: String,
    /// Its author as the reply names them, if given.
    pub to: Option<String>,
    /// The row of the target in this same chat, if it is stored here.
    pub target: Option<i64>,
    /// The start of the target's text (what it shows now), if it is stored.
    pub quote: Option<String>,
    /// How the target's author is shown (bare JID or nick), if it is stored.
    pub author: Option<String>,
}

/// One emoji's reactions to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
    /// Who reacted with it (bare JIDs, or nicks in a room), in order.
    pub by: Vec<String>,
    /// Whether we are among them.
    pub ours: bool,
}

/// What a message shows beyond its first text, derived from its actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Rich {
    /// Its author corrected it: the body is the newest version.
    pub edited: bool,
    /// Deleted for everyone by its author (or a room's moderator): the body
    /// is empty and only a tombstone is shown.
    pub retracted: bool,
    /// The deletion was a room moderator's.
    pub moderated: bool,
    /// Deleted here only ("delete for me").
    pub hidden: bool,
    /// Reactions, per emoji, in the order they first came.
    pub reactions: Vec<Reaction>,
    /// The message it answers, if it is a reply.
    pub reply: Option<Box<Reply>>,
    /// Its sender asked that it be shown as sent, without styling (XEP-0393
    /// `<unstyled/>`).
    pub unstyled: bool,
}

/// A chat's unsent text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Draft {
    /// The account.
    pub account_id: AccountId,
    /// The peer's or the room's bare JID.
    pub chat: String,
    /// The text.
    pub body: String,
}
