//! The account lifecycle: logging in, resuming the kept accounts at start,
//! enabling and disabling, colors, logging out, deleting and removing. The
//! accounts kept between starts are rows of the database (one source of
//! truth, see migration 0007); passwords follow [`crate::keyring`]'s rules.

use charla_core::{AccountId, ConnectOptions, CoreError, ErrorCode, Event, Keepalive, Show};

use crate::types::{is_color, AccountSettings, LoginFailure, LoginRequest, Resume, SignedIn};
use crate::{lock, App};

impl App {
    /// The accounts kept between starts, first added first.
    pub fn kept(&self) -> Result<Vec<AccountSettings>, CoreError> {
        Ok(lock(&self.store)
            .kept_accounts()?
            .into_iter()
            .map(AccountSettings::from)
            .collect())
    }

    /// Keeps the accounts of an older settings file, in their order, with
    /// their server, state and color; one kept already stays as it is.
    pub fn import_accounts(&self, older: &[AccountSettings]) -> Result<(), CoreError> {
        let mut store = lock(&self.store);
        let kept: Vec<String> = store.kept_accounts()?.into_iter().map(|k| k.jid).collect();
        for account in older.iter().filter(|a| !kept.contains(&a.jid)) {
            let Ok(jid) = charla_core::parse_bare_jid(&account.jid) else {
                continue;
            };
            let id = store.keep_account(jid.as_str(), account.host.as_deref(), account.port)?;
            store.set_account_enabled(id, account.enabled)?;
            let color = account.color.as_deref().filter(|c| is_color(c));
            store.set_account_color(id, color)?;
        }
        Ok(())
    }

    /// Adds the account and connects; resolves once online. With
    /// `remember_password` the password then goes to the keyring (a
    /// keyring failure is reported as an error event: the login itself
    /// succeeded); without it, any remembered password is forgotten. With
    /// `remember` (or `remember_password`) the account is kept between
    /// starts, enabled, with this server; without, it is no longer kept.
    pub async fn login(
        &self,
        request: LoginRequest,
        status: Option<String>,
    ) -> Result<(AccountId, Option<Event>), CoreError> {
        let jid = charla_core::parse_bare_jid(&request.jid)?.to_string();
        let account = self
            .connect(
                &jid,
                request.host.as_deref(),
                request.port,
                request.password.clone(),
                status,
            )
            .await?;
        let keep = request.remember_password.unwrap_or(false);
        let error = self
            .passwords
            .after_login(&jid, &request.password, keep)
            .await
            .err()
            .map(|error| Event::Error {
                account: Some(account),
                error,
            });
        {
            let mut store = lock(&self.store);
            if request.remember || keep {
                store.keep_account(&jid, request.host.as_deref(), request.port)?;
            } else {
                store.unkeep_account(&jid)?;
            }
        }
        Ok((account, error))
    }

    /// Adds the account and connects it with `password`, through a known
    /// server or a manual address if one applies.
    async fn connect(
        &self,
        jid: &str,
        host: Option<&str>,
        port: Option<u16>,
        password: String,
        status: Option<String>,
    ) -> Result<AccountId, CoreError> {
        let account = self.core.add_account(jid)?;
        let (trust, server) = crate::route::route(&self.known, jid, host, port)?;
        self.core
            .connect(
                account,
                ConnectOptions {
                    password,
                    server,
                    trust,
                    show: Show::Available,
                    status,
                    keepalive: Keepalive::default(),
                },
            )
            .await?;
        Ok(account)
    }

    /// How to reach the server of `jid` (see [`crate::route::route`]).
    pub fn route(
        &self,
        jid: &str,
        host: Option<&str>,
        port: Option<u16>,
    ) -> Result<(charla_core::TlsTrust, Option<charla_core::ServerAddress>), CoreError> {
        crate::route::route(&self.known, jid, host, port)
    }

    /// Logs every enabled kept account in with its remembered password, all
    /// at once; says why the login form is needed when none could be. A
    /// remembered password the server rejects is forgotten, so that it
    /// cannot fail again at every start.
    pub async fn resume(&self) -> Result<Resume, CoreError> {
        let enabled: Vec<AccountSettings> =
            self.kept()?.into_iter().filter(|a| a.enabled).collect();
        let jids = enabled.iter().map(|a| a.jid.clone()).collect();
        let passwords = match self.passwords.kept(jids).await {
            Ok(passwords) => passwords,
            Err(keyring) => {
                return Ok(Resume {
                    online: Vec::new(),
                    failed: Vec::new(),
                    keyring: Some(keyring),
                })
            }
        };
        let logins = enabled
            .into_iter()
            .zip(passwords)
            .filter_map(|(login, password)| Some((login, password?)))
            .map(|(login, password)| async move {
                let result = self
                    .connect(
                        &login.jid,
                        login.host.as_deref(),
                        login.port,
                        password,
                        None,
                    )
                    .await;
                (login.jid, result)
            });
        // In the order the accounts were added, whichever connected first.
        let mut resume = Resume {
            online: Vec::new(),
            failed: Vec::new(),
            keyring: None,
        };
        for (jid, result) in futures::future::join_all(logins).await {
            match result {
                Ok(account) => resume.online.push(SignedIn { account, jid }),
                Err(error) => {
                    if error.code == ErrorCode::AuthFailed {
                        self.passwords.forget(&jid).await;
                    }
                    resume.failed.push(LoginFailure { jid, error });
                }
            }
        }
        Ok(resume)
    }

    /// Enables a kept account (it connects with its remembered password,
    /// answering its id; `password_needed` if there is none, then the front
    /// end asks for it through [`App::login`]) or disables it (it goes
    /// offline and stays so, also at the next start; its password stays
    /// remembered).
    pub async fn enable_account(
        &self,
        jid: &str,
        enabled: bool,
    ) -> Result<Option<AccountId>, CoreError> {
        let jid = charla_core::parse_bare_jid(jid)?.to_string();
        let kept = self.kept_account(&jid)?;
        lock(&self.store).set_account_enabled(kept.0, enabled)?;
        if !enabled {
            self.core.disconnect(kept.0).await;
            return Ok(None);
        }
        let Some(password) = self.passwords.password(&jid).await? else {
            return Err(CoreError::new(
                ErrorCode::PasswordNeeded,
                format!("no password is remembered for {jid}"),
            ));
        };
        let (host, port) = (kept.1.host, kept.1.port);
        self.connect(&jid, host.as_deref(), port, password, None)
            .await
            .map(Some)
    }

    /// The kept account `jid`, or `unknown_account`.
    fn kept_account(&self, jid: &str) -> Result<(AccountId, AccountSettings), CoreError> {
        lock(&self.store)
            .kept_accounts()?
            .into_iter()
            .find(|k| k.jid == jid)
            .map(|k| (k.id, AccountSettings::from(k)))
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::UnknownAccount,
                    format!("{jid} is not one of Charla's accounts"),
                )
            })
    }

    /// Sets the color a kept account is shown with (`#rrggbb`), or back to
    /// its default (`None`).
    pub fn set_account_color(&self, jid: &str, color: Option<String>) -> Result<(), CoreError> {
        if let Some(color) = &color {
            if !is_color(color) {
                return Err(CoreError::new(
                    ErrorCode::InvalidInput,
                    format!("{color:?} is not a #rrggbb color"),
                ));
            }
        }
        let (id, _) = self.kept_account(jid)?;
        lock(&self.store).set_account_color(id, color.as_deref())?;
        Ok(())
    }

    /// Goes offline and forgets the account's remembered password, so that
    /// the next start asks for it.
    pub async fn logout(&self, account: AccountId) -> Result<(), CoreError> {
        self.core.disconnect(account).await;
        let jid = self.core.account_jid(account)?.to_string();
        self.passwords.forget(&jid).await;
        Ok(())
    }

    /// Changes the account's password on the server; a remembered password
    /// is replaced by the new one.
    pub async fn change_password(
        &self,
        account: AccountId,
        password: &str,
    ) -> Result<(), CoreError> {
        self.core.change_password(account, password).await?;
        let jid = self.core.account_jid(account)?.to_string();
        self.passwords.after_password_change(&jid, password).await
    }

    /// Deletes the account on its server (after the user confirmed it); it
    /// is then signed out, its password forgotten and the account no longer
    /// kept. Its local history stays until [`App::remove_account`].
    pub async fn delete_account(&self, account: AccountId) -> Result<(), CoreError> {
        let jid = self.core.account_address(account).ok();
        self.core.delete_account_on_server(account).await?;
        if let Some(jid) = &jid {
            self.passwords.forget(jid).await;
        }
        self.forget(account, jid.as_deref())
    }

    /// Removes the account `jid` from Charla, signed in or not, keeping its
    /// history readable offline or deleting it (see
    /// `Core::remove_account`); the server is not told.
    pub async fn remove_account(&self, jid: &str, keep_history: bool) -> Result<(), CoreError> {
        let jid = charla_core::parse_bare_jid(jid)?.to_string();
        // Its row (it exists for every account Charla has used).
        let account = self.core.add_account(&jid)?;
        self.core.remove_account(account, keep_history).await?;
        self.passwords.forget(&jid).await;
        self.forget(account, Some(&jid))
    }

    /// An account is gone: no longer online, no longer kept.
    fn forget(&self, account: AccountId, jid: Option<&str>) -> Result<(), CoreError> {
        self.set_own_show(account, None);
        if let Some(jid) = jid {
            lock(&self.store).unkeep_account(jid)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keyring::{Keyring, MemoryKeyring, Passwords};
    use crate::settings::SettingsFile;
    use crate::types::Settings;

    /// An app on a real database and settings file in `dir`.
    fn app(dir: &std::path::Path, keyring: Arc<MemoryKeyring>) -> App {
        let database = dir.join("charla.sqlite3");
        let (core, _events) = charla_core::Core::open(&database).expect("core");
        App::open(
            core,
            &database,
            Passwords::new(keyring),
            Box::new(|_| None),
            Some(SettingsFile::new(dir.join("settings.json"))),
        )
        .expect("app")
    }

    #[test]
    fn the_accounts_of_an_older_settings_file_move_to_the_database() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("settings.json"),
            r##"{"notifications": false, "accounts": [
                {"jid": "zed@example.org", "host": "xmpp.example.org", "port": 5223, "enabled": false, "color": "#a0b1c2"},
                {"jid": "amy@example.net", "host": null, "port": null},
                {"jid": "not a jid", "host": null, "port": null}
            ]}"##,
        )
        .expect("write");
        let expected = vec![
            AccountSettings {
                jid: "zed@example.org".into(),
                host: Some("xmpp.example.org".into()),
                port: Some(5223),
                enabled: false,
                color: Some("#a0b1c2".into()),
            },
            AccountSettings::new("amy@example.net".into(), None, None),
        ];
        {
            let app = app(dir.path(), Arc::default());
            assert_eq!(app.kept().expect("kept"), expected);
            let settings = app.settings();
            assert!(!settings.notifications, "the other settings stay");
            assert_eq!(settings.accounts, expected);
        }
        // Once: the file keeps the rest of the settings, the database the
        // accounts, across starts.
        let text = std::fs::read_to_string(dir.path().join("settings.json")).expect("read");
        assert!(!text.contains("zed@"), "{text}");
        let again = app(dir.path(), Arc::default());
        assert_eq!(again.kept().expect("kept"), expected);
        assert!(!again.settings().notifications);
    }

    #[test]
    fn an_import_keeps_what_the_database_has_already() {
        let dir = tempfile::tempdir().expect("dir");
        let app = app(dir.path(), Arc::default());
        app.import_accounts(&[AccountSettings::new("a@x".into(), Some("h".into()), None)])
            .expect("import");
        app.set_account_color("a@x", Some("#000000".into()))
            .expect("color");
        app.import_accounts(&[
            AccountSettings::new("b@x".into(), None, None),
            AccountSettings::new("a@x".into(), None, None),
        ])
        .expect("import again");
        let kept = app.kept().expect("kept");
        assert_eq!(kept.len(), 2);
        assert_eq!(
            (kept[0].host.as_deref(), kept[0].color.as_deref()),
            (Some("h"), Some("#000000"))
        );
        assert_eq!(kept[1].jid, "b@x");
    }

    #[tokio::test]
    async fn kept_accounts_change_only_through_the_account_commands() {
        let dir = tempfile::tempdir().expect("dir");
        let keyring = Arc::new(MemoryKeyring::default());
        let app = app(dir.path(), keyring.clone());
        app.import_accounts(&[AccountSettings::new("me@x".into(), None, None)])
            .expect("import");
        // A window's older copy of the settings cannot change them.
        app.save_settings(Settings {
            close_to_tray: true,
            ..Settings::default()
        })
        .expect("save");
        let settings = app.settings();
        assert!(settings.close_to_tray);
        assert_eq!(settings.accounts.len(), 1);
        // Colors are #rrggbb, of kept accounts only.
        let bad = app
            .set_account_color("me@x", Some("red".into()))
            .unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidInput);
        let unknown = app.set_account_color("other@x", None).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::UnknownAccount);
        // Disabling keeps it offline, also at the next start, password kept.
        keyring.store("me@x", "pw").expect("store");
        assert_eq!(app.enable_account("me@x", false).await.expect("off"), None);
        assert!(!app.kept().expect("kept")[0].enabled);
        let resume = app.resume().await.expect("resume");
        assert!(resume.online.is_empty() && resume.failed.is_empty());
        assert_eq!(
            keyring.password("me@x").expect("kept").as_deref(),
            Some("pw")
        );
        // Enabling without a remembered password asks for it.
        keyring.forget("me@x").expect("forget");
        let needed = app.enable_account("me@x", true).await.unwrap_err();
        assert_eq!(needed.code, ErrorCode::PasswordNeeded);
        assert!(app.kept().expect("kept")[0].enabled);
        // Removing it from Charla forgets it and its password.
        keyring.store("me@x", "pw").expect("store");
        app.remove_account("me@x", true).await.expect("remove");
        assert!(app.kept().expect("kept").is_empty());
        assert_eq!(keyring.password("me@x").expect("read"), None);
    }

    #[tokio::test]
    async fn without_a_keyring_resuming_says_why() {
        let dir = tempfile::tempdir().expect("dir");
        let database = dir.path().join("charla.sqlite3");
        let (core, _events) = charla_core::Core::open(&database).expect("core");
        let app = App::open(
            core,
            &database,
            Passwords::new(Arc::new(MemoryKeyring::unavailable())),
            Box::new(|_| None),
            None,
        )
        .expect("app");
        let resume = app.resume().await.expect("resume");
        assert_eq!(
            resume.keyring.map(|e| e.code),
            Some(ErrorCode::KeyringUnavailable)
        );
    }

    #[tokio::test]
    async fn a_password_stays_when_the_server_cannot_be_reached() {
        let dir = tempfile::tempdir().expect("dir");
        let keyring = Arc::new(MemoryKeyring::default());
        let app = app(dir.path(), keyring.clone());
        // A server that is not there: the login fails, but not for the
        // password, which stays.
        app.import_accounts(&[AccountSettings::new(
            "me@charla.invalid".into(),
            Some("127.0.0.1".into()),
            Some(1),
        )])
        .expect("import");
        keyring.store("me@charla.invalid", "pw").expect("store");
        let resume = app.resume().await.expect("resume");
        assert_eq!(resume.failed.len(), 1);
        assert_ne!(resume.failed[0].error.code, ErrorCode::AuthFailed);
        assert_eq!(
            keyring
                .password("me@charla.invalid")
                .expect("read")
                .as_deref(),
            Some("pw")
        );
    }
}
