//! Prosody's configuration file and the files of its `internal` storage that the harness writes
//! itself (rosters).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::certs::CertPaths;
use crate::HarnessError;

/// The modules every test server loads (besides those Prosody always loads: c2s, presence,
/// message, iq, offline, posix).
pub(crate) const BASE_MODULES: &[&str] = &[
    // The harness's own: logs each login's SASL mechanism ([`AUTH_LOG_MODULE`]).
    "charla_auth_log",
    "roster",
    "saslauth",
    "tls",
    "disco",
    "carbons",
    "mam",
    "smacks",
    "pep",
    "vcard4",
    "vcard_legacy",
    "blocklist",
    "ping",
    "offline",
    "bookmarks",
    "csi_simple",
    "lastactivity",
    // Password changes and account removal (XEP-0077) for logged-in users; in-band
    // registration itself only with `allow_registration`.
    "register",
];

/// The listening ports of one server (all on 127.0.0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Client-to-server with STARTTLS (RFC 6120).
    pub c2s: u16,
    /// Client-to-server with direct TLS (XEP-0368).
    pub direct_tls: u16,
    /// Plain HTTP, used by HTTP file upload when enabled.
    pub http: u16,
}

/// Everything needed to render the configuration file.
pub(crate) struct ConfigParams<'a> {
    pub dir: &'a Path,
    pub domain: &'a str,
    pub ports: Ports,
    pub certs: &'a CertPaths,
    pub allow_registration: bool,
    pub extra_modules: &'a [String],
    pub http_upload: bool,
    pub debug_log: bool,
    pub host_config: &'a [String],
    pub global_config: &'a [String],
    pub as_root: bool,
}

/// The file names used inside a server directory.
#[derive(Debug)]
pub(crate) struct Layout {
    pub config: PathBuf,
    pub pidfile: PathBuf,
    pub log: PathBuf,
    pub console: PathBuf,
    pub data: PathBuf,
}

impl Layout {
    pub(crate) fn in_dir(dir: &Path) -> Self {
        Layout {
            config: dir.join("prosody.cfg.lua"),
            pidfile: dir.join("prosody.pid"),
            log: dir.join("prosody.log"),
            console: dir.join("prosody.console.log"),
            data: dir.join("data"),
        }
    }
}

/// Quotes `s` as a Lua string literal.
pub(crate) fn lua_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn lua_path(p: &Path) -> String {
    lua_str(&p.to_string_lossy())
}

fn lua_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner = items
        .iter()
        .map(|s| lua_str(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{ {inner} }}")
}

/// The harness's Prosody module that logs the SASL mechanism of every login
/// (`charla-auth <user> <mechanism>`), written beside the configuration.
pub(crate) const AUTH_LOG_MODULE: &str = include_str!("prosody/mod_charla_auth_log.lua");

/// The harness's Prosody module that never answers one kind of IQ (load it with
/// `module("charla_swallow_iq")` and `host_config("charla_swallow_iq = \"<ns>:<element>\"")`).
pub(crate) const SWALLOW_IQ_MODULE: &str = include_str!("prosody/mod_charla_swallow_iq.lua");

/// Renders `prosody.cfg.lua`.
pub(crate) fn render(p: &ConfigParams<'_>) -> String {
    let layout = Layout::in_dir(p.dir);
    let ssl = format!(
        "{{ certificate = {}, key = {} }}",
        lua_path(&p.certs.server_cert),
        lua_path(&p.certs.server_key)
    );
    let mut modules: Vec<&str> = BASE_MODULES.to_vec();
    for m in p.extra_modules {
        if !modules.contains(&m.as_str()) {
            modules.push(m);
        }
    }
    let Ports {
        c2s,
        direct_tls,
        http,
    } = p.ports;
    let mut cfg = String::new();
    cfg.push_str("-- Written by charla-tests for a private test server. Do not edit.\n");
    if p.as_root {
        cfg.push_str("run_as_root = true\nprosody_user = \"root\"\n");
    }
    let _ = writeln!(cfg, "plugin_paths = {{ {} }}", lua_path(p.dir));
    let _ = writeln!(cfg, "pidfile = {}", lua_path(&layout.pidfile));
    let _ = writeln!(cfg, "data_path = {}", lua_path(&layout.data));
    let _ = write!(
        cfg,
        "log = {{ {{ levels = {{ min = \"{level}\" }}, to = \"file\", filename = {log} }} }}\n\
         interfaces = {{ \"127.0.0.1\" }}\n\
         local_interfaces = {{ \"127.0.0.1\" }}\n\
         c2s_ports = {{ {c2s} }}\n\
         c2s_direct_tls_ports = {{ {direct_tls} }}\n\
         legacy_ssl_ports = {{ }}\n\
         s2s_ports = {{ }}\n\
         s2s_direct_tls_ports = {{ }}\n\
         component_ports = {{ }}\n\
         http_ports = {{ {http} }}\n\
         http_interfaces = {{ \"127.0.0.1\" }}\n\
         https_ports = {{ }}\n\
         https_interfaces = {{ }}\n\
         modules_enabled = {modules}\n\
         modules_disabled = {{ \"s2s\" }}\n\
         c2s_require_encryption = true\n\
         allow_registration = {allow_registration}\n\
         authentication = \"internal_hashed\"\n\
         storage = \"internal\"\n\
         certificates = {certs_dir}\n\
         ssl = {ssl}\n\
         c2s_direct_tls_ssl = {ssl}\n",
        level = if p.debug_log { "debug" } else { "info" },
        log = lua_path(&layout.log),
        certs_dir = lua_path(p.dir),
        modules = lua_list(&modules),
        allow_registration = p.allow_registration,
    );
    for line in p.global_config {
        let _ = writeln!(cfg, "{line}");
    }
    let domain = p.domain;
    let _ = write!(
        cfg,
        "\nVirtualHost {host}\n    ssl = {ssl}\n",
        host = lua_str(domain)
    );
    for line in p.host_config {
        let _ = writeln!(cfg, "    {line}");
    }
    let _ = write!(
        cfg,
        "\nComponent {muc} \"muc\"\n    modules_enabled = {{ \"muc_mam\", \"muc_moderation\" }}\n    \
         muc_room_default_persistent = true\n",
        muc = lua_str(&format!("conference.{domain}"))
    );
    if p.http_upload {
        let _ = write!(
            cfg,
            "\nComponent {upload} \"http_file_share\"\n    \
             http_host = \"127.0.0.1\"\n    \
             http_external_url = \"http://127.0.0.1:{http}/\"\n",
            upload = lua_str(&format!("upload.{domain}"))
        );
    }
    cfg
}

/// Checks that `name` is a localpart or domain in the canonical (already stringprepped) form
/// the harness needs to compute Prosody's file names: lower case, no characters that JIDs
/// forbid.
pub(crate) fn check_name(name: &str) -> Result<(), HarnessError> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.chars().any(char::is_uppercase) {
        Some("must be lower case (Prosody stores names nodeprepped)")
    } else if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"&'/:<>@".contains(c))
    {
        Some("contains a character that JIDs forbid")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(HarnessError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Prosody's file-name encoding for hosts and users (`util.datamanager`): every byte that is not
/// an ASCII letter or digit becomes `%xx`.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

/// The path of a keyval store file: `<data>/<host>/<store>/<user>.dat`.
pub(crate) fn store_file(data: &Path, host: &str, store: &str, user: &str) -> PathBuf {
    data.join(encode_component(host))
        .join(store)
        .join(format!("{}.dat", encode_component(user)))
}

/// One contact in a roster.
#[derive(Debug, Default)]
pub(crate) struct RosterItem {
    /// The name the owner gives the contact, if any.
    pub name: Option<String>,
    /// The contact's groups.
    pub groups: Vec<String>,
}

/// One user's roster: contact bare JID → item.
pub(crate) type Roster = BTreeMap<String, RosterItem>;

/// Renders a roster in the format of Prosody 0.12's `internal` storage (what
/// `core.rostermanager` saves through `util.datamanager`): a Lua chunk returning a table with
/// the metadata under `[false]` (roster `version`, which clients cache, and no pending
/// requests) and one item per contact JID, all with subscription `both`.
pub(crate) fn render_roster(roster: &Roster, version: u64) -> String {
    let mut out = format!(
        "return {{\n\t[false] = {{\n\t\t[\"version\"] = {version};\n\t\t[\"pending\"] = {{}};\n\t}};\n",
    );
    for (jid, item) in roster {
        let _ = writeln!(out, "\t[{}] = {{", lua_str(jid));
        out.push_str("\t\t[\"subscription\"] = \"both\";\n");
        if let Some(name) = &item.name {
            let _ = writeln!(out, "\t\t[\"name\"] = {};", lua_str(name));
        }
        out.push_str("\t\t[\"groups\"] = {\n");
        for group in &item.groups {
            let _ = writeln!(out, "\t\t\t[{}] = true;", lua_str(group));
        }
        out.push_str("\t\t};\n\t};\n");
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_datamanager() {
        assert_eq!(encode_component("charla.test"), "charla%2etest");
        assert_eq!(encode_component("a_b-c"), "a%5fb%2dc");
    }

    #[test]
    fn quotes_lua_strings() {
        assert_eq!(lua_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn rejects_non_canonical_names() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("Alice").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("a@b").is_err());
        assert!(check_name("").is_err());
    }

    #[test]
    fn renders_roster() {
        let mut roster = Roster::new();
        roster.insert(
            "bob@charla.test".into(),
            RosterItem {
                name: None,
                groups: vec!["Friends".into()],
            },
        );
        roster.insert(
            "echo@charla.test".into(),
            RosterItem {
                name: Some("Echo".into()),
                groups: Vec::new(),
            },
        );
        let text = render_roster(&roster, 7);
        assert!(text.contains("[\"bob@charla.test\"] = {"));
        assert!(text.contains("[\"Friends\"] = true;"));
        assert!(text.contains("[\"name\"] = \"Echo\";"));
        assert_eq!(text.matches("[\"name\"]").count(), 1);
        assert!(text.contains("[false] = {\n\t\t[\"version\"] = 7;"));
    }
}
