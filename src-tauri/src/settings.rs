//! The shell's settings file (`settings.json` in the app's config
//! directory). Never holds a password.

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
    pub fn load(&self) -> Settings {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Saves atomically (write a temporary file, then rename).
    pub fn save(&self, settings: &Settings) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(settings).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, &self.path)
    }
}
