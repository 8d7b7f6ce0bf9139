//! `charla-app`: Charla's application policy, without a window. The Tauri
//! shell and `charla-cli` are front ends to it: the account lifecycle and
//! its keyring rules ([`keyring`]), how a server is reached ([`reach`]),
//! unread counts and the notification policy ([`attention`], for group
//! chats [`rooms`], coalesced by [`Coalescer`]), the presence snapshot for windows that open later
//! ([`presence`]) and history paging with the archive fallback
//! ([`history`]). A front end shows what [`App`] tells it ([`AppEvent`]).
//!
//! It knows nothing of Tauri (`.ci/test` checks it).

#![warn(missing_docs)]

mod accounts;
pub mod attention;
pub mod coalesce;
mod events;
pub mod history;
pub mod keyring;
pub mod presence;
pub mod rooms;
pub mod route;
pub mod settings;
pub mod types;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use charla_core::{AccountId, Core, CoreError, ErrorCode, Show};
use charla_store::Store;

pub use coalesce::Coalescer;
pub use events::Batch;
pub use keyring::{Keyring, MemoryKeyring, Passwords};
pub use route::KnownServers;
pub use settings::SettingsFile;
pub use types::{
    is_color, AccountSettings, AccountsNow, AppEvent, ChatRef, LoginFailure, LoginRequest, Note,
    PresenceEntry, Quiet, Resume, RoomEntry, RoomNotify, RoomNotifySetting, Settings, SignedIn,
};

use attention::Attention;
use presence::Presences;

/// The application: the core, the accounts kept between starts, the
/// settings, and what the policies decide on.
pub struct App {
    /// The headless core.
    pub core: Core,
    /// Remembered passwords and their rules.
    pub passwords: Passwords,
    /// Servers the front end knows better than DNS (see [`route::route`]).
    known: KnownServers,
    /// The kept accounts' rows (a connection of its own to the database).
    store: Mutex<Store>,
    /// Where the settings are saved (`None`: not saved, as in `charla-cli`).
    settings_file: Option<SettingsFile>,
    settings: Mutex<Settings>,
    attention: Mutex<Attention>,
    presences: Mutex<Presences>,
    /// The newest line of each room our other devices were told was read.
    rooms_read: Mutex<HashMap<ChatRef, charla_core::RoomMessageId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these leaves usable data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    /// The app over `core`, whose database is `database`, with these
    /// passwords and known servers. The settings come from
    /// `settings_file`; the accounts an older one kept are moved into the
    /// database once (see [`App::import_accounts`]).
    pub fn open(
        core: Core,
        database: &Path,
        passwords: Passwords,
        known: KnownServers,
        settings_file: Option<SettingsFile>,
    ) -> Result<Self, CoreError> {
        let store = Store::open(database)?;
        let mut settings = settings_file
            .as_ref()
            .map(SettingsFile::load)
            .unwrap_or_default();
        let older = std::mem::take(&mut settings.accounts);
        let app = Self {
            core,
            passwords,
            known,
            store: Mutex::new(store),
            settings_file,
            settings: Mutex::new(settings),
            attention: Mutex::default(),
            presences: Mutex::default(),
            rooms_read: Mutex::default(),
        };
        if !older.is_empty() {
            app.import_accounts(&older)?;
            // The file no longer keeps them.
            let settings = app.settings();
            app.save(&settings)?;
        }
        Ok(app)
    }

    /// The settings, with the kept accounts.
    pub fn settings(&self) -> Settings {
        let mut settings = lock(&self.settings).clone();
        settings.accounts = self.kept().unwrap_or_default();
        settings
    }

    /// Saves the settings; their `accounts` are ignored (they change through
    /// the account commands only, so a window with an older copy cannot
    /// bring back a removed account).
    /// Nor are the rooms' notify settings and the rooms forgotten (see
    /// [`App::set_room_notify`], [`App::leave_room`]).
    pub fn save_settings(&self, settings: Settings) -> Result<(), CoreError> {
        let (room_notify, forgotten_rooms) = {
            let kept = lock(&self.settings);
            (kept.room_notify.clone(), kept.forgotten_rooms.clone())
        };
        self.save_settings_keeping_rooms(Settings {
            room_notify,
            forgotten_rooms,
            ..settings
        })
    }

    /// Saves the settings as given, rooms' notify settings included.
    pub(crate) fn save_settings_keeping_rooms(&self, settings: Settings) -> Result<(), CoreError> {
        self.save(&settings)?;
        *lock(&self.settings) = Settings {
            accounts: Vec::new(),
            ..settings
        };
        Ok(())
    }

    fn save(&self, settings: &Settings) -> Result<(), CoreError> {
        let Some(file) = &self.settings_file else {
            return Ok(());
        };
        file.save(settings).map_err(|e| {
            let code = if e.raw_os_error() == Some(28) {
                ErrorCode::DiskFull
            } else {
                ErrorCode::Store
            };
            CoreError::new(code, format!("cannot save the settings: {e}"))
        })
    }

    /// Changes our presence (`offline` disconnects) and remembers a status
    /// message among the recent ones. Answers the recent status messages,
    /// this one first.
    pub async fn set_presence(
        &self,
        account: AccountId,
        show: Show,
        status: Option<String>,
    ) -> Result<Vec<String>, CoreError> {
        let status = status.filter(|s| !s.trim().is_empty());
        self.core
            .set_presence(account, show, status.clone())
            .await?;
        let settings = {
            let mut settings = lock(&self.settings);
            if let Some(status) = &status {
                settings.remember_status(status);
            }
            settings.clone()
        };
        if status.is_some() {
            self.save(&settings)?;
        }
        Ok(settings.recent_statuses)
    }

    /// Our own availability on `account` changed (`None`: offline), as the
    /// core announced it.
    pub(crate) fn set_own_show(&self, account: AccountId, show: Option<Show>) {
        lock(&self.attention).set_own_show(account, show);
    }

    /// Our own availability per connected account.
    pub fn own_shows(&self) -> HashMap<AccountId, Show> {
        lock(&self.attention).own_shows()
    }

    /// The presence of every online contact of `account` (for a window
    /// that opens after the presence events went by).
    pub fn presences(&self, account: AccountId) -> Vec<PresenceEntry> {
        lock(&self.presences).snapshot(account)
    }
}
