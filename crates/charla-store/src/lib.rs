//! `charla-store`: Charla's local SQLite database.
//!
//! It caches accounts (never their passwords), rosters, conversations and
//! messages. Open it with [`Store::open`]; the schema is migrated
//! automatically and a database from a newer Charla is refused with
//! [`StoreError::NewerSchema`].

#![warn(missing_docs)]

mod error;
mod migrate;
mod model;
pub mod profile;
mod store;

pub use error::StoreError;
pub use migrate::SCHEMA_VERSION;
pub use model::{
    Account, AccountId, ActionChat, ActionKind, ConversationId, Direction, Draft, Gap,
    InsertOutcome, KeptAccount, MamPosition, Message, MessageId, MessageRequest, MessageState,
    NewAction, NewMessage, NewRoomMessage, OwedReceipt, PendingAction, Reaction, Reply, ReplyRef,
    Rich, Room, RoomId, RoomInsertOutcome, RoomMessage, RoomMessageId, RosterEntry, Subscription,
};
pub use store::{Store, MAX_REACTIONS};

#[cfg(test)]
mod rich_tests;
#[cfg(test)]
mod tests;
