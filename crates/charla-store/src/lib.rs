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
    Account, AccountId, ConversationId, Direction, Gap, InsertOutcome, KeptAccount, MamPosition,
    Message, MessageId, MessageRequest, MessageState, NewMessage, NewRoomMessage, OwedReceipt,
    Room, RoomId, RoomInsertOutcome, RoomMessage, RoomMessageId, RosterEntry, Subscription,
};
pub use store::Store;

#[cfg(test)]
mod tests;
