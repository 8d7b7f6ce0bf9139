//! Servers and peers for the end-to-end benchmarks (issue 6, `make bench`): a Prosody whose
//! user `alice` has thousands of contacts, created in well under a second, and raw XMPP peers
//! that watch for alice's presence, flood her with messages and count her receipts.
//!
//! # Thousands of accounts, fast
//!
//! `prosodyctl register` costs a Lua start-up per account (about 0.3 s; 2,000 accounts take
//! minutes). [`BenchServer::start`] instead writes Prosody 0.12's `internal` storage files
//! before the server starts, the way [`TestServerBuilder::mutual`](crate::TestServerBuilder)
//! writes rosters: `data/<host>/accounts/<user>.dat` holding `{ password = "…" }`. Prosody's
//! `internal_hashed` provider accepts such a plaintext entry and replaces it with SCRAM hashes
//! at the account's first login (`mod_auth_internal_hashed`: "Upgrade to hashed password"),
//! so every account works as if registered. Every password equals its user name.
//!
//! Accounts: `alice` (the measured client), `bob` (the watcher), `carol` (the flooder) and
//! fillers `c00003`…, so that alice has exactly the requested number of contacts; every
//! contact and alice are mutual contacts (subscription `both`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{self, Roster, RosterItem};
use crate::{HarnessError, RawClient, TestServer};

/// The measured account.
pub const USER: &str = "alice";
/// The contact that watches for alice's presence.
pub const WATCHER: &str = "bob";
/// The contact that floods alice with messages.
pub const FLOODER: &str = "carol";

/// The user names of alice's `contacts` contacts: bob, carol, then fillers `c00003`….
pub fn contact_names(contacts: usize) -> Vec<String> {
    let mut names = vec![WATCHER.to_owned(), FLOODER.to_owned()];
    names.extend((names.len() + 1..=contacts).map(|i| format!("c{i:05}")));
    names.truncate(contacts.max(2));
    names
}

/// Writes `data/<host>/accounts/<user>.dat` for each user, with the password in plaintext
/// (Prosody hashes it at the first login; see the module docs). Existing files are replaced.
pub fn write_accounts(
    data: &Path,
    domain: &str,
    users: &[(String, String)],
) -> Result<(), HarnessError> {
    for (user, password) in users {
        config::check_name(user)?;
        let path = config::store_file(data, domain, "accounts", user);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| HarnessError::io(format!("creating {}", parent.display()), e))?;
        }
        let text = format!(
            "return {{\n\t[\"password\"] = {};\n}};\n",
            config::lua_str(password)
        );
        std::fs::write(&path, text)
            .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}

/// Writes the roster files of `alice` (every contact) and of each contact (alice only), all
/// with subscription `both`, contacts in group "Bench" with a display name.
fn write_rosters(data: &Path, domain: &str, contacts: &[String]) -> Result<(), HarnessError> {
    let jid = |user: &str| format!("{user}@{domain}");
    let mut rosters: BTreeMap<&str, Roster> = BTreeMap::new();
    let own = rosters.entry(USER).or_default();
    for contact in contacts {
        own.insert(
            jid(contact),
            RosterItem {
                name: Some(format!("Contact {contact}")),
                groups: vec!["Bench".to_owned()],
            },
        );
    }
    for contact in contacts {
        rosters
            .entry(contact)
            .or_default()
            .insert(jid(USER), RosterItem::default());
    }
    for (owner, roster) in rosters {
        let path = config::store_file(data, domain, "roster", owner);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| HarnessError::io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::write(&path, config::render_roster(&roster, 1))
            .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}

/// A Prosody for the benchmarks: alice with `contacts` contacts. Stops Prosody and deletes its
/// directory when dropped.
pub struct BenchServer {
    server: Option<TestServer>,
    dir: PathBuf,
}

impl BenchServer {
    /// Prepares a fresh directory `dir` (which must not exist) with every account and roster,
    /// then starts Prosody on free ports.
    pub async fn start(dir: &Path, contacts: usize) -> Result<BenchServer, HarnessError> {
        std::fs::create_dir(dir)
            .map_err(|e| HarnessError::io(format!("creating {}", dir.display()), e))?;
        let domain = crate::DEFAULT_DOMAIN;
        let data = dir.join("data");
        let names = contact_names(contacts);
        let users: Vec<(String, String)> = std::iter::once(USER.to_owned())
            .chain(names.iter().cloned())
            .map(|u| (u.clone(), u))
            .collect();
        write_accounts(&data, domain, &users)?;
        write_rosters(&data, domain, &names)?;
        // Cleaned up by Drop from here on, even if the start fails.
        let mut bench = BenchServer {
            server: None,
            dir: dir.to_owned(),
        };
        bench.server = Some(
            TestServer::builder()
                .persistent_dir(dir)
                .start_timeout(Duration::from_secs(60))
                .start()
                .await?,
        );
        Ok(bench)
    }

    /// The running server.
    pub fn server(&self) -> &TestServer {
        self.server.as_ref().expect("started")
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        drop(self.server.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The value of attribute `name` in one start tag (either quote style).
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    for quote in ['\'', '"'] {
        let needle = format!(" {name}={quote}");
        if let Some(at) = tag.find(&needle) {
            let rest = &tag[at + needle.len()..];
            return rest.find(quote).map(|end| &rest[..end]);
        }
    }
    None
}

/// Splits complete tags (`<…>`) off the front of a stream buffer, leaving an incomplete tail.
/// Enough to spot `<presence …>` and `<received …/>` start tags in a server's output; text
/// between tags is dropped.
pub struct TagScanner {
    buffer: String,
}

impl TagScanner {
    /// An empty scanner.
    pub fn new() -> TagScanner {
        TagScanner {
            buffer: String::new(),
        }
    }

    /// Adds received text; returns every tag completed by it.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buffer.push_str(text);
        let mut tags = Vec::new();
        let mut consumed = 0;
        while let Some(start) = self.buffer[consumed..].find('<') {
            let start = consumed + start;
            match self.buffer[start..].find('>') {
                Some(end) => {
                    tags.push(self.buffer[start..=start + end].to_owned());
                    consumed = start + end + 1;
                }
                None => {
                    consumed = start;
                    break;
                }
            }
        }
        if !self.buffer[consumed..].contains('<') {
            consumed = self.buffer.len();
        }
        self.buffer.drain(..consumed);
        tags
    }
}

impl Default for TagScanner {
    fn default() -> Self {
        TagScanner::new()
    }
}

/// Escapes text for XML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
}

/// The stanzas of a flood of `count` chat messages to `to`: each asks for a receipt
/// (XEP-0184) and is markable (XEP-0333), with an origin-id; ids are `<tag>-<n>`.
pub fn flood_stanzas(to: &str, tag: &str, count: usize) -> String {
    let mut out = String::with_capacity(count * 320);
    for i in 0..count {
        let id = escape(&format!("{tag}-{i}"));
        let _ = write!(
            out,
            "<message to='{to}' type='chat' id='{id}'><body>Flood message {i} of {count}: \
             the quick brown fox jumps over the lazy dog.</body>\
             <request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>\
             <origin-id xmlns='urn:xmpp:sid:0' id='{id}'/></message>",
            to = escape(to),
        );
    }
    out
}

/// A raw peer that reports what arrives, tag by tag, with the time it arrived.
pub struct Peer {
    client: RawClient,
    scanner: TagScanner,
}

impl Peer {
    /// Logs `user` (password = user name) in on `server`, without sending presence.
    pub async fn login(server: &TestServer, user: &str) -> Peer {
        Peer {
            // Reads wait for the next chunk as long as a benchmark may run.
            client: RawClient::login(server, user, user, Duration::from_secs(24 * 3600)).await,
            scanner: TagScanner::new(),
        }
    }

    /// Sends raw XML.
    pub async fn send(&mut self, xml: &str) {
        self.client.send(xml).await;
    }

    /// Waits for the next chunk of input; returns its complete tags and when it arrived.
    pub async fn next_tags(&mut self) -> (Vec<String>, u64) {
        let text = self.client.read_until(">").await;
        let at = now_ms();
        (self.scanner.push(&text), at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_splits_tags_across_chunks() {
        let mut s = TagScanner::new();
        assert!(s.push("text <presence from='a@b/c'").is_empty());
        let tags = s.push(" type='away'><show>x</show></pres");
        assert_eq!(tags[0], "<presence from='a@b/c' type='away'>");
        assert_eq!(attr(&tags[0], "from"), Some("a@b/c"));
        assert_eq!(attr(&tags[0], "type"), Some("away"));
        assert_eq!(s.push("ence>"), vec!["</presence>".to_owned()]);
    }

    #[test]
    fn contact_names_count() {
        assert_eq!(contact_names(2), ["bob", "carol"]);
        let many = contact_names(2000);
        assert_eq!(many.len(), 2000);
        assert_eq!(many[2], "c00003");
        assert_eq!(many[1999], "c02000");
    }
}
