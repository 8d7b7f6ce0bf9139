//! Remembered passwords: the [`Keyring`] the app keeps them in (the OS
//! keyring in the shell, [`MemoryKeyring`] in `charla-cli` and the tests),
//! and the rules of when a password is kept or forgotten.
//!
//! The rules: a login with "remember password" keeps it, one without
//! forgets any kept one; a kept password the server rejects at start is
//! forgotten (it would fail at every start); logging out, deleting the
//! account and removing it from Charla forget it; a new password replaces a
//! kept one only (one that was not kept stays so).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use charla_core::{CoreError, Credentials, ErrorCode};

/// Where passwords are remembered. Calls may block (D-Bus, an unlock
/// prompt): the app makes them on a blocking thread, with a time limit.
pub trait Keyring: Send + Sync + 'static {
    /// Remembers `password` for `jid`, replacing an older one.
    fn store(&self, jid: &str, password: &str) -> Result<(), CoreError>;
    /// The password remembered for `jid`, if any.
    fn password(&self, jid: &str) -> Result<Option<String>, CoreError>;
    /// Forgets the password of `jid` (nothing happens if there is none).
    fn forget(&self, jid: &str) -> Result<(), CoreError>;
    /// Whether the keyring can be used now (`keyring_unavailable` or
    /// `keyring_locked` if not), without changing it.
    fn probe(&self) -> Result<(), CoreError>;
}

impl Keyring for Credentials {
    fn store(&self, jid: &str, password: &str) -> Result<(), CoreError> {
        Credentials::store(self, jid, password)
    }

    fn password(&self, jid: &str) -> Result<Option<String>, CoreError> {
        Credentials::password(self, jid)
    }

    fn forget(&self, jid: &str) -> Result<(), CoreError> {
        Credentials::forget(self, jid)
    }

    fn probe(&self) -> Result<(), CoreError> {
        Credentials::probe(self, "probe@charla.invalid")
    }
}

/// Passwords kept in memory only, for this run (`charla-cli`), or a
/// keyring that is not there (`unavailable`).
#[derive(Default)]
pub struct MemoryKeyring {
    passwords: Mutex<HashMap<String, String>>,
    unavailable: bool,
}

impl MemoryKeyring {
    /// A keyring that answers every call with `keyring_unavailable`.
    pub fn unavailable() -> Self {
        Self {
            passwords: Mutex::default(),
            unavailable: true,
        }
    }

    fn check(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, CoreError> {
        if self.unavailable {
            return Err(CoreError::new(
                ErrorCode::KeyringUnavailable,
                "no keyring in this test",
            ));
        }
        Ok(self.passwords.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Keyring for MemoryKeyring {
    fn store(&self, jid: &str, password: &str) -> Result<(), CoreError> {
        self.check()?.insert(jid.to_owned(), password.to_owned());
        Ok(())
    }

    fn password(&self, jid: &str) -> Result<Option<String>, CoreError> {
        Ok(self.check()?.get(jid).cloned())
    }

    fn forget(&self, jid: &str) -> Result<(), CoreError> {
        self.check()?.remove(jid);
        Ok(())
    }

    fn probe(&self) -> Result<(), CoreError> {
        self.check().map(drop)
    }
}

/// How long a keyring call may take (the keyring may show an unlock prompt).
const KEYRING_TIMEOUT: Duration = Duration::from_secs(30);

/// The rules over a [`Keyring`], each call on a blocking thread; a keyring
/// that does not answer within [`KEYRING_TIMEOUT`] counts as unavailable.
#[derive(Clone)]
pub struct Passwords {
    keyring: Arc<dyn Keyring>,
}

impl Passwords {
    /// The rules over `keyring`.
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        Self { keyring }
    }

    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn Keyring) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let keyring = Arc::clone(&self.keyring);
        let blocking = tokio::task::spawn_blocking(move || call(keyring.as_ref()));
        match tokio::time::timeout(KEYRING_TIMEOUT, blocking).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(CoreError::new(ErrorCode::KeyringUnavailable, e.to_string())),
            Err(_) => Err(CoreError::new(
                ErrorCode::KeyringUnavailable,
                format!("the keyring did not answer within {KEYRING_TIMEOUT:?}"),
            )),
        }
    }

    /// After a login: keeps its password (`keep`) or forgets any kept one.
    /// Only failing to keep it is an error; without a keyring there is
    /// nothing to forget.
    pub async fn after_login(
        &self,
        jid: &str,
        password: &str,
        keep: bool,
    ) -> Result<(), CoreError> {
        let (jid, password) = (jid.to_owned(), password.to_owned());
        let kept = self
            .call(move |k| {
                if keep {
                    k.store(&jid, &password)
                } else {
                    k.forget(&jid)
                }
            })
            .await;
        if keep {
            kept
        } else {
            Ok(())
        }
    }

    /// The kept passwords of `jids`, in order; with no account, only
    /// whether the keyring answers. An error says why passwords cannot be
    /// remembered.
    pub async fn kept(&self, jids: Vec<String>) -> Result<Vec<Option<String>>, CoreError> {
        self.call(move |k| {
            if jids.is_empty() {
                return k.probe().map(|()| Vec::new());
            }
            jids.iter().map(|jid| k.password(jid)).collect()
        })
        .await
    }

    /// The kept password of `jid`, if any.
    pub async fn password(&self, jid: &str) -> Result<Option<String>, CoreError> {
        let jid = jid.to_owned();
        self.call(move |k| k.password(&jid)).await
    }

    /// Forgets the password of `jid`: after a logout, a rejected kept
    /// password, deleting or removing the account. Without a keyring there
    /// is nothing to forget.
    pub async fn forget(&self, jid: &str) {
        let jid = jid.to_owned();
        let _ = self.call(move |k| k.forget(&jid)).await;
    }

    /// The server took a new password: it replaces a kept one (one that was
    /// not kept stays so; without a keyring nothing was kept).
    pub async fn after_password_change(&self, jid: &str, password: &str) -> Result<(), CoreError> {
        let (jid, password) = (jid.to_owned(), password.to_owned());
        self.call(move |k| match k.password(&jid)? {
            Some(_) => k.store(&jid, &password),
            None => Ok(()),
        })
        .await
        .or_else(|e| match e.code {
            ErrorCode::KeyringUnavailable => Ok(()),
            _ => Err(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords() -> (Arc<MemoryKeyring>, Passwords) {
        let keyring = Arc::new(MemoryKeyring::default());
        (keyring.clone(), Passwords::new(keyring))
    }

    #[tokio::test]
    async fn a_login_keeps_the_password_only_when_asked() {
        let (keyring, rules) = passwords();
        rules.after_login("me@x", "pw", true).await.expect("kept");
        assert_eq!(keyring.password("me@x").unwrap().as_deref(), Some("pw"));
        // A later login without "remember password" forgets it.
        rules.after_login("me@x", "pw", false).await.expect("ok");
        assert_eq!(keyring.password("me@x").unwrap(), None);
    }

    #[tokio::test]
    async fn without_a_keyring_only_keeping_fails() {
        let rules = Passwords::new(Arc::new(MemoryKeyring::unavailable()));
        let error = rules.after_login("me@x", "pw", true).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::KeyringUnavailable);
        rules
            .after_login("me@x", "pw", false)
            .await
            .expect("nothing to forget");
        rules.forget("me@x").await;
        rules
            .after_password_change("me@x", "new")
            .await
            .expect("nothing was kept");
        let error = rules.kept(Vec::new()).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::KeyringUnavailable);
    }

    #[tokio::test]
    async fn a_new_password_replaces_a_kept_one_only() {
        let (keyring, rules) = passwords();
        keyring.store("kept@x", "old").unwrap();
        rules.after_password_change("kept@x", "new").await.unwrap();
        rules.after_password_change("asked@x", "new").await.unwrap();
        assert_eq!(keyring.password("kept@x").unwrap().as_deref(), Some("new"));
        assert_eq!(keyring.password("asked@x").unwrap(), None);
    }

    #[tokio::test]
    async fn kept_passwords_come_in_the_accounts_order() {
        let (keyring, rules) = passwords();
        keyring.store("b@x", "pb").unwrap();
        keyring.store("a@x", "pa").unwrap();
        let kept = rules
            .kept(vec!["a@x".into(), "c@x".into(), "b@x".into()])
            .await
            .unwrap();
        assert_eq!(kept, [Some("pa".into()), None, Some("pb".into())]);
        assert!(rules.kept(Vec::new()).await.unwrap().is_empty());
    }
}
