//! The settings file (`settings.json` in the app's config directory). Never
//! holds a password, and no longer the accounts: those are in the database
//! (an older file's are imported once, see [`crate::App::open`]).

use std::path::PathBuf;

use crate::types::Settings;

/// Where the settings live.
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// Uses `path` (its directory is created on save).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Loads the settings; a missing or unreadable file gives the defaults.
    /// `accounts` holds what an older file kept there: the single
    /// remembered login of versions before several accounts (`remembered`)
    /// becomes the first account.
    pub fn load(&self) -> Settings {
        let Some(mut value) = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        else {
            return Settings::default();
        };
        if let Some(object) = value.as_object_mut() {
            if let Some(remembered) = object.remove("remembered") {
                if !object.contains_key("accounts") {
                    let accounts = match remembered {
                        serde_json::Value::Null => serde_json::json!([]),
                        login => serde_json::json!([login]),
                    };
                    object.insert("accounts".to_owned(), accounts);
                }
            }
        }
        serde_json::from_value(value).unwrap_or_default()
    }

    /// Saves all but the accounts, atomically (write a temporary file,
    /// then rename).
    pub fn save(&self, settings: &Settings) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            charla_core::profile::create_private_dir(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut value = serde_json::to_value(settings).map_err(std::io::Error::other)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("accounts");
        }
        let text = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?;
        std::io::Write::write_all(
            &mut charla_core::profile::create_private_file(&tmp)?,
            text.as_bytes(),
        )?;
        std::fs::rename(tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AccountSettings;

    #[cfg(unix)]
    #[test]
    fn settings_are_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let file = SettingsFile::new(dir.path().join("conf").join("settings.json"));
        file.save(&Settings::default()).expect("save");
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("conf")), 0o700);
        assert_eq!(mode(&dir.path().join("conf").join("settings.json")), 0o600);
    }

    #[test]
    fn settings_from_an_older_version_get_the_new_defaults() {
        let dir = tempfile::tempdir().expect("dir");
        let file = SettingsFile::new(dir.path().join("settings.json"));
        std::fs::write(
            dir.path().join("settings.json"),
            r#"{"close_to_tray": true}"#,
        )
        .expect("write");
        let loaded = file.load();
        assert!(loaded.close_to_tray);
        assert_eq!(loaded.auto_away, charla_core::idle::AutoAway::default());
        let mut changed = loaded.clone();
        changed.auto_away.away_after_secs = None;
        changed.remember_status("Out");
        file.save(&changed).expect("save");
        let again = file.load();
        assert_eq!(again.auto_away.away_after_secs, None);
        assert_eq!(again.recent_statuses, ["Out"]);
    }

    #[test]
    fn the_single_remembered_login_becomes_the_first_account() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("settings.json");
        let file = SettingsFile::new(path.clone());
        std::fs::write(
            &path,
            r#"{"notifications": false, "remembered": {"jid": "me@example.org", "host": "h", "port": 5223}}"#,
        )
        .expect("write");
        let loaded = file.load();
        assert!(!loaded.notifications);
        assert_eq!(
            loaded.accounts,
            [AccountSettings::new(
                "me@example.org".into(),
                Some("h".into()),
                Some(5223)
            )]
        );
        std::fs::write(&path, r#"{"remembered": null}"#).expect("write");
        assert!(file.load().accounts.is_empty());
    }

    #[test]
    fn the_file_no_longer_keeps_accounts() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("settings.json");
        let file = SettingsFile::new(path.clone());
        let settings = Settings {
            accounts: vec![AccountSettings::new("me@example.org".into(), None, None)],
            ..Settings::default()
        };
        file.save(&settings).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("accounts"), "{text}");
        assert!(file.load().accounts.is_empty());
    }
}
