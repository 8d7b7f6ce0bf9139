//! Types the app exchanges with its front ends (the Tauri shell's windows,
//! `charla-cli`). TypeScript bindings are generated from them (ts-rs) into
//! `ui/src/lib/bindings`.

use charla_core::idle::AutoAway;
use charla_core::{AccountId, ContactPresence, CoreError, MessageId, Room};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::rooms::{RoomNotify, RoomNotifySetting};

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

/// An account Charla keeps between starts ("remember me"), in the order
/// they were added (kept in the database, see `Store::kept_accounts`).
/// Never holds a password (that is in the OS keyring).
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

impl From<charla_store::KeptAccount> for AccountSettings {
    fn from(kept: charla_store::KeptAccount) -> Self {
        Self {
            jid: kept.jid,
            host: kept.host,
            port: kept.port,
            enabled: kept.enabled,
            color: kept.color,
        }
    }
}

/// Whether `color` is a `#rrggbb` color.
pub fn is_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// User settings. The file keeps all but the accounts, which live in the
/// database; `accounts` is filled from there for the UI.
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
    /// The notify setting of each room that has one (the others notify
    /// mentions only, see [`crate::rooms`]). Changed only by
    /// [`crate::App::set_room_notify`].
    pub room_notify: Vec<RoomNotifySetting>,
    /// Rooms left and forgotten ("Leave and forget"): not listed any more,
    /// until joined again. The core keeps their history and, while
    /// bookmarks are not synced, no other mark of them.
    pub forgotten_rooms: Vec<ChatRef>,
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
            room_notify: Vec::new(),
            forgotten_rooms: Vec::new(),
        }
    }
}

/// A conversation: an account and the peer's bare JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatRef {
    /// The account.
    pub account: AccountId,
    /// The peer's bare JID.
    pub peer: String,
}

/// One online contact's presence, for windows that open after it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
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

/// What a login or an account's enabling did: the account it signed in,
/// if any, and Charla's kept accounts as they are now (the UI takes them
/// as they are rather than working out what the change did to its copy).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountsNow {
    /// The account signed in (none when disabling).
    pub signed_in: Option<AccountId>,
    /// The kept accounts, in the order they were added.
    pub kept: Vec<AccountSettings>,
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

/// Why an incoming message was not notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quiet {
    /// The user looks at its chat.
    ChatOpen,
    /// Notifications are off in the settings.
    NotificationsOff,
    /// The account is set to do-not-disturb.
    DoNotDisturb,
    /// A stranger wrote, and strangers' messages are not notified.
    Stranger,
    /// A room line without a mention, in a room that notifies mentions only.
    NotMentioned,
    /// A room line, in a room that notifies nothing.
    RoomMuted,
    /// A line of a room's history, brought by its first catch-up.
    RoomHistory,
}

impl Quiet {
    /// The reason as one word, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Quiet::ChatOpen => "chat_open",
            Quiet::NotificationsOff => "notifications_off",
            Quiet::DoNotDisturb => "do_not_disturb",
            Quiet::Stranger => "stranger",
            Quiet::NotMentioned => "not_mentioned",
            Quiet::RoomMuted => "room_muted",
            Quiet::RoomHistory => "room_history",
        }
    }
}

/// One new message to notify about (what a notification shows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// Its conversation (for a room line, `peer` is the room's bare JID).
    pub chat: ChatRef,
    /// It is a room line.
    pub room: bool,
    /// The contact's display name, or the room's.
    pub title: String,
    /// The message text (plain text).
    pub body: String,
    /// The contact's cached avatar image, shown as the notification's image.
    pub image: Option<std::path::PathBuf>,
}

/// What the app decided after core events or a user action, for the front
/// end to show (the shell's windows, tray and notifications; `charla-cli`
/// prints each as one JSON line).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// The unread count of a conversation changed.
    UnreadChanged {
        /// The conversation.
        chat: ChatRef,
        /// Its unread messages.
        count: u32,
        /// Unread messages across all conversations.
        total: u32,
        /// The newest message's id, if one came in.
        last: Option<MessageId>,
    },
    /// Notify this message (coalesced per chat by [`crate::Coalescer`]).
    Notify(Note),
    /// The chat was read: its notifications start counting afresh.
    Dismiss {
        /// The conversation.
        chat: ChatRef,
    },
    /// Messages that came in to `chat` and are not notified, and why: a
    /// settled decision (nothing will show for them), one per chat and
    /// reason in a batch.
    Quiet {
        /// The conversation.
        chat: ChatRef,
        /// Why.
        why: Quiet,
        /// How many of the batch's messages.
        count: u32,
    },
    /// A stranger wrote: the account's message requests changed.
    RequestsChanged {
        /// The account.
        account: AccountId,
    },
    /// Lines came into the room in view, read as they came: the front end
    /// tells our other devices ([`crate::App::room_seen`]).
    RoomSeen {
        /// The room.
        room: ChatRef,
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

/// A room kept for an account, with what the app knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RoomEntry {
    /// The room as kept.
    pub room: Room,
    /// Which of its lines are notified.
    pub notify: RoomNotify,
    /// Its unread lines.
    pub unread: u32,
    /// One of them mentions us.
    pub mentioned: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No type that holds a password prints it (logs, panics, traces).
    #[test]
    fn debug_never_shows_a_password() {
        let login = LoginRequest {
            jid: "me@example.org".into(),
            password: "hunter2-secret".into(),
            remember: true,
            remember_password: Some(true),
            host: None,
            port: None,
        };
        let shown = format!("{login:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }

    #[test]
    fn recent_statuses_are_newest_first_unique_and_few() {
        let mut s = Settings::default();
        for status in ["a", "b", " a ", "", "c", "d", "e", "f"] {
            s.remember_status(status);
        }
        assert_eq!(s.recent_statuses, ["f", "e", "d", "c", "a"]);
    }

    #[test]
    fn account_colors_are_rrggbb() {
        assert!(is_color("#a0B1c2"));
        for bad in ["a0b1c2", "#a0b1c", "#a0b1c2f", "#g0b1c2", "red", "", "#ééé"] {
            assert!(!is_color(bad), "{bad}");
        }
    }
}
