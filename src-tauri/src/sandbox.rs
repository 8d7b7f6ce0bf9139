//! Sandbox mode: when started with `CHARLA_SANDBOX_DIR` (by `make run`), the
//! app reads the local sandbox server's `sandbox.json`, trusts its test CA
//! for accounts of its domain, and offers its demo accounts.

use std::path::{Path, PathBuf};

use charla_core::{CoreError, ErrorCode, ServerAddress, TlsTrust};
use serde::Deserialize;

use crate::types::{DemoAccount, SandboxInfo};

/// The file the sandbox server writes (see `charla-sandbox`).
#[derive(Debug, Deserialize)]
struct SandboxFile {
    domain: String,
    host: String,
    port: u16,
    ca_file: PathBuf,
    accounts: Vec<DemoAccount>,
}

/// A loaded sandbox description.
#[derive(Debug, Clone)]
pub struct Sandbox {
    domain: String,
    address: ServerAddress,
    trust: TlsTrust,
    accounts: Vec<DemoAccount>,
}

impl Sandbox {
    /// Reads `<dir>/sandbox.json` and the CA it names.
    pub fn load(dir: &Path) -> Result<Self, CoreError> {
        let bad = |what: String| CoreError::new(ErrorCode::InvalidInput, what);
        let path = dir.join("sandbox.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        let file: SandboxFile =
            serde_json::from_str(&text).map_err(|e| bad(format!("bad {}: {e}", path.display())))?;
        let pem = std::fs::read(&file.ca_file)
            .map_err(|e| bad(format!("cannot read {}: {e}", file.ca_file.display())))?;
        Ok(Self {
            trust: TlsTrust::from_ca_pem(&pem)?,
            address: ServerAddress {
                host: file.host,
                port: file.port,
                direct_tls: false,
            },
            domain: file.domain,
            accounts: file.accounts,
        })
    }

    /// What the login screen shows; `profile` preselects a demo account.
    pub fn info(&self, profile: Option<&str>) -> SandboxInfo {
        let preselect = profile.and_then(|p| {
            self.accounts
                .iter()
                .find(|a| a.jid.split('@').next() == Some(p))
                .map(|a| a.jid.clone())
        });
        SandboxInfo {
            domain: self.domain.clone(),
            accounts: self.accounts.clone(),
            preselect,
        }
    }

    /// Trust and address for `jid` if it belongs to the sandbox's domain.
    pub fn for_jid(&self, jid: &str) -> Option<(TlsTrust, ServerAddress)> {
        let domain = jid.rsplit_once('@').map(|(_, d)| d)?;
        (domain.eq_ignore_ascii_case(&self.domain))
            .then(|| (self.trust.clone(), self.address.clone()))
    }
}
