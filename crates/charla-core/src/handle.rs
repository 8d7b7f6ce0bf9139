//! The parts of [`crate::Core`]'s API, by what they are about; each adds
//! its methods to the one handle.

mod contacts;
mod messages;
mod profile;
mod rich;
mod room_directory;
mod room_owner;
mod rooms;

pub use rich::MessageRef;
