//! Account passwords in the operating system's keyring: the Secret Service
//! (freedesktop.org D-Bus API, e.g. GNOME Keyring or KWallet) on Linux,
//! through the `keyring` crate. Passwords are never written to SQLite or to
//! a settings file.
//!
//! The calls block on D-Bus; async callers run them on a blocking thread.
//! Secrets travel to the daemon over the session bus without the optional
//! Diffie-Hellman transport encryption (the daemon encrypts them at rest).

use crate::error::{CoreError, ErrorCode};

/// The passwords of one Charla installation (or profile), one entry per
/// account JID under a service name.
#[derive(Debug, Clone)]
pub struct Credentials {
    service: String,
}

impl Credentials {
    /// Entries filed under `service` (e.g. the application identifier).
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, jid: &str) -> Result<keyring::Entry, CoreError> {
        keyring::Entry::new(&self.service, jid).map_err(keyring_error)
    }

    /// Remembers `password` for the account `jid`, replacing an older one.
    pub fn store(&self, jid: &str, password: &str) -> Result<(), CoreError> {
        self.entry(jid)?
            .set_password(password)
            .map_err(keyring_error)
    }

    /// The remembered password of `jid`, or `None` if there is none.
    pub fn password(&self, jid: &str) -> Result<Option<String>, CoreError> {
        match self.entry(jid)?.get_password() {
            Ok(password) => Ok(Some(password)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    /// Forgets the password of `jid` (nothing happens if there is none).
    pub fn forget(&self, jid: &str) -> Result<(), CoreError> {
        match self.entry(jid)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }

    /// Checks that the keyring can be used now, without changing it: `Ok`
    /// if it answers (whether or not it holds a password for `jid`), else
    /// the reason it cannot be used.
    pub fn probe(&self, jid: &str) -> Result<(), CoreError> {
        self.password(jid).map(drop)
    }
}

/// Classifies the keyring's failures for the UI.
fn keyring_error(e: keyring::Error) -> CoreError {
    match e {
        keyring::Error::NoStorageAccess(inner) => CoreError::new(
            ErrorCode::KeyringLocked,
            format!("the keyring is locked or refused access: {inner}"),
        ),
        keyring::Error::PlatformFailure(inner) => CoreError::new(
            ErrorCode::KeyringUnavailable,
            format!("no keyring service (Secret Service) is available: {inner}"),
        ),
        other => CoreError::new(
            ErrorCode::KeyringUnavailable,
            format!("the keyring failed: {other}"),
        ),
    }
}
