//! Types exchanged with the UI that belong to the shell, not the core or
//! the app (`charla_app::types` has those).
//! TypeScript bindings are generated from them (ts-rs) into `ui/src/lib/bindings`.

use charla_core::{AccountId, Message, MessageId, RoomMessage, Show};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use charla_app::types::{ChatRef, PresenceEntry, Resume, Settings};

/// What the "Create an account" form submits. Its `Debug` hides the password.
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct RegisterRequest {
    /// The new account, `user@domain`.
    pub jid: String,
    /// Its password (kept in memory only; empty when only asking for the form).
    pub password: String,
    /// Manual server host ("Advanced"); `None` uses DNS.
    pub host: Option<String>,
    /// Manual server port ("Advanced").
    pub port: Option<u16>,
    /// The server's extra fields (e-mail address...), by name.
    pub fields: std::collections::BTreeMap<String, String>,
}

/// A demo account offered on the login screen in sandbox mode. Its `Debug`
/// hides the password.
#[derive(Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DemoAccount {
    /// Its JID.
    pub jid: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("jid", &self.jid)
            .field("password", &"<hidden>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl std::fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoAccount")
            .field("jid", &self.jid)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The local sandbox server the app was started against (`make run`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SandboxInfo {
    /// Its XMPP domain.
    pub domain: String,
    /// Demo accounts to offer.
    pub accounts: Vec<DemoAccount>,
    /// The account to preselect (from `CHARLA_PROFILE`), if it is a demo account.
    pub preselect: Option<String>,
}

/// Everything the UI needs at start.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    /// Charla's version.
    pub version: String,
    /// Sandbox mode, if active.
    pub sandbox: Option<SandboxInfo>,
    /// The current settings.
    pub settings: Settings,
    /// Set when this window shows a single chat (a popped-out chat window).
    pub popped_out: Option<ChatRef>,
    /// A debug build: WebKit's developer tools (and its own context menu,
    /// with "Inspect Element", on Shift+right-click) are available.
    pub devtools: bool,
}

/// A change to an open chat view, sent over the channel given to `open_chat`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ChatUpdate {
    /// A message was added to this conversation (incoming or outgoing).
    Added {
        /// The stored row.
        message: Message,
    },
    /// A message of this conversation changed (its send state).
    Updated {
        /// The row as it is now.
        message: Message,
    },
    /// Several messages were added or changed at once (a burst), in order.
    Messages {
        /// The rows as they are now.
        messages: Vec<Message>,
    },
}

impl ChatUpdate {
    /// The messages this update adds or changes, in order.
    pub fn into_messages(self) -> Vec<Message> {
        match self {
            ChatUpdate::Added { message } | ChatUpdate::Updated { message } => vec![message],
            ChatUpdate::Messages { messages } => messages,
        }
    }
}

/// A change to an open room view, sent over the channel given to
/// `open_room`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum RoomUpdate {
    /// A line was added to this room (someone's, or ours as pending).
    Added {
        /// The stored line.
        line: RoomMessage,
    },
    /// A line of this room changed (ours, reflected by the room: sent).
    Updated {
        /// The line as it is now.
        line: RoomMessage,
    },
    /// Several lines were added or changed at once (a burst), in order.
    Lines {
        /// The lines as they are now.
        lines: Vec<RoomMessage>,
    },
}

impl RoomUpdate {
    /// The lines this update adds or changes, in order.
    pub fn into_lines(self) -> Vec<RoomMessage> {
        match self {
            RoomUpdate::Added { line } | RoomUpdate::Updated { line } => vec![line],
            RoomUpdate::Lines { lines } => lines,
        }
    }
}

/// Events from the shell itself (the core's own come as `Event`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ShellEvent {
    /// The unread count of a conversation changed.
    UnreadChanged {
        /// The conversation.
        chat: ChatRef,
        /// Its unread messages.
        count: u32,
        /// Unread messages across all conversations.
        total: u32,
        /// The newest message's id, for previews.
        last: Option<MessageId>,
    },
    /// Our presence turned away on its own because the desktop is idle
    /// (`show`), or back to the chosen one (`None`).
    AutoAway {
        /// The availability shown instead of the chosen one.
        show: Option<Show>,
    },
    /// Bring this conversation to the front (notification click, tray, a
    /// second launch).
    OpenChat {
        /// The conversation.
        chat: ChatRef,
    },
    /// An `xmpp:` link came from a second launch: the main window takes it
    /// (`take_link`).
    LinkReceived,
    /// A stranger wrote: the account's message requests changed (read
    /// them with `message_requests`).
    RequestsChanged {
        /// The account.
        account: AccountId,
    },
    /// The unread lines of a room changed.
    RoomUnreadChanged {
        /// The room (`peer` is its bare JID).
        room: ChatRef,
        /// Its unread lines.
        count: u32,
        /// One of them mentions us.
        mentioned: bool,
        /// Unread messages and lines across all conversations and rooms.
        total: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No type that holds a password prints it (logs, panics, traces).
    #[test]
    fn debug_never_shows_a_password() {
        let secret = "hunter2-secret";
        let register = RegisterRequest {
            jid: "me@example.org".into(),
            password: secret.into(),
            host: None,
            port: None,
            fields: [("email".to_owned(), "me@example.org".to_owned())].into(),
        };
        let demo = DemoAccount {
            jid: "alice@charla.test".into(),
            password: secret.into(),
        };
        for shown in [format!("{register:?}"), format!("{demo:?}")] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("<hidden>"), "{shown}");
        }
    }
}
