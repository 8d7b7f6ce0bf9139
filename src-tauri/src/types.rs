//! Types exchanged with the UI that belong to the shell, not the core.
//! TypeScript bindings are generated from them (ts-rs) into `ui/src/lib/bindings`.

use charla_core::idle::AutoAway;
use charla_core::{AccountId, ContactPresence, CoreError, Message, MessageId, Show};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the login screen submits. Its `Debug` hides the password.
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct LoginRequest {
    /// The account, `user@domain`.
    pub jid: String,
    /// The password (kept in memory only).
    pub password: String,
    /// Remember the address and server for the next start.
    pub remember: bool,
    /// Also keep the password in the OS keyring and log in with it at the
    /// next start (omitted: no).
    #[serde(default)]
    #[ts(optional)]
    pub remember_password: Option<bool>,
    /// Manual server host ("Advanced"); `None` uses DNS.
    pub host: Option<String>,
    /// Manual server port ("Advanced").
    pub port: Option<u16>,
}

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

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("jid", &self.jid)
            .field("password", &"<hidden>")
            .field("remember", &self.remember)
            .field("remember_password", &self.remember_password)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
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

/// An account Charla keeps between starts ("remember me"), in the order
/// they were added. Never holds a password (that is in the OS keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccountSettings {
    /// The account.
    pub jid: String,
    /// Manual server host, if one was used.
    pub host: Option<String>,
    /// Manual server port, if one was used.
    pub port: Option<u16>,
    /// Connected at start and kept online; a disabled account stays offline
    /// until enabled again.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// The color chosen for the account (`#rrggbb`); `None` uses the
    /// account's XEP-0392 color.
    #[serde(default)]
    pub color: Option<String>,
}

fn enabled() -> bool {
    true
}

impl AccountSettings {
    /// A newly added, enabled account with its default color.
    pub fn new(jid: String, host: Option<String>, port: Option<u16>) -> Self {
        Self {
            jid,
            host,
            port,
            enabled: true,
            color: None,
        }
    }
}

/// Whether `color` is a `#rrggbb` color.
pub fn is_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// User settings kept by the shell.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default)]
pub struct Settings {
    /// Closing the main window keeps Charla running in the tray.
    pub close_to_tray: bool,
    /// Show desktop notifications for new messages.
    pub notifications: bool,
    /// Also notify messages from people not in the contacts (message
    /// requests); off by default.
    pub notify_strangers: bool,
    /// Tell contacts when their messages have been seen (XEP-0333).
    pub read_markers: bool,
    /// The accounts kept between starts, first added first.
    pub accounts: Vec<AccountSettings>,
    /// When to turn away and extended away without input at the desktop.
    pub auto_away: AutoAway,
    /// The last status messages set, newest first (at most
    /// [`RECENT_STATUSES`]).
    pub recent_statuses: Vec<String>,
}

/// How many recent status messages are remembered.
pub const RECENT_STATUSES: usize = 5;

impl Settings {
    /// Puts `status` first among the recent status messages (once).
    pub fn remember_status(&mut self, status: &str) {
        let status = status.trim();
        if status.is_empty() {
            return;
        }
        self.recent_statuses.retain(|s| s != status);
        self.recent_statuses.insert(0, status.to_owned());
        self.recent_statuses.truncate(RECENT_STATUSES);
    }

    /// The kept account `jid`, if any.
    pub fn account_mut(&mut self, jid: &str) -> Option<&mut AccountSettings> {
        self.accounts.iter_mut().find(|a| a.jid == jid)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            close_to_tray: false,
            notifications: true,
            notify_strangers: false,
            read_markers: true,
            accounts: Vec::new(),
            auto_away: AutoAway::default(),
            recent_statuses: Vec::new(),
        }
    }
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

/// A conversation: an account and the peer's bare JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatRef {
    /// The account.
    pub account: AccountId,
    /// The peer's bare JID.
    pub peer: String,
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
}

/// One online contact's presence, for windows that open after it arrived.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PresenceEntry {
    /// The contact's bare JID.
    pub jid: String,
    /// Its best resource's presence.
    pub presence: ContactPresence,
}

/// What the window shows at start (`resume_login`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Resume {
    /// The enabled accounts now online, logged in with their passwords from
    /// the OS keyring. None: the login form is needed.
    pub online: Vec<SignedIn>,
    /// Enabled accounts whose login with the remembered password failed,
    /// and why.
    pub failed: Vec<LoginFailure>,
    /// Why passwords cannot be remembered (no keyring, or it is locked), if
    /// so: the password is then asked at each start.
    pub keyring: Option<CoreError>,
}

/// An account that is logged in.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SignedIn {
    /// The account.
    pub account: AccountId,
    /// Its bare JID.
    pub jid: String,
}

/// An account whose login failed.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LoginFailure {
    /// Its bare JID.
    pub jid: String,
    /// Why.
    pub error: CoreError,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No type that holds a password prints it (logs, panics, traces).
    #[test]
    fn debug_never_shows_a_password() {
        let secret = "hunter2-secret";
        let login = LoginRequest {
            jid: "me@example.org".into(),
            password: secret.into(),
            remember: true,
            remember_password: Some(true),
            host: None,
            port: None,
        };
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
        for shown in [
            format!("{login:?}"),
            format!("{register:?}"),
            format!("{demo:?}"),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("<hidden>"), "{shown}");
        }
    }
}
