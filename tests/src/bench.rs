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
//! contact and alice are mutual contacts (subscription `both`). `erin`, not a contact, owns
//! the group chats (issue 16).
//!
//! # Rooms with hundreds of occupants, fast
//!
//! A room's crowd ([`Crowd`]) is played by one external component (XEP-0114) of the server,
//! [`OCCUPANTS_DOMAIN`]: each occupant is an address of its own (`o0001@…/bench`) that joins
//! the room like any remote user, over one connection instead of one login each. The room
//! cannot tell them from c2s users: it sends them every presence and line (the component's
//! reader drops them). Lines are archived (`muc_mam`) before the room reflects them, so a
//! sender's reflection of its last line says every line is in the archive
//! ([`Peer::say_lines`]). Prosody's `internal` storage keeps at most 10,000 items per
//! archive by default; the bench server raises that (`storage_archive_item_limit`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::config::{self, Roster, RosterItem};
use crate::{HarnessError, RawClient, RawComponent, TestServer};

/// The measured account.
pub const USER: &str = "alice";
/// The contact that watches for alice's presence.
pub const WATCHER: &str = "bob";
/// The contact that floods alice with messages.
pub const FLOODER: &str = "carol";
/// The account that creates the group chats and speaks in them (not a contact).
pub const ROOM_OWNER: &str = "erin";
/// The component domain whose addresses are the occupants of a [`Crowd`].
pub const OCCUPANTS_DOMAIN: &str = "occupants.charla.test";
const OCCUPANTS_SECRET: &str = "bench-occupants";

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
    component_port: u16,
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
        let users: Vec<(String, String)> = [USER.to_owned(), ROOM_OWNER.to_owned()]
            .into_iter()
            .chain(names.iter().cloned())
            .map(|u| (u.clone(), u))
            .collect();
        write_accounts(&data, domain, &users)?;
        write_rosters(&data, domain, &names)?;
        // Cleaned up by Drop from here on, even if the start fails.
        let mut bench = BenchServer {
            server: None,
            dir: dir.to_owned(),
            component_port: crate::free_port()?,
        };
        let mut builder = TestServer::builder()
            .persistent_dir(dir)
            .start_timeout(Duration::from_secs(60))
            // A room's archive of 10,000 lines and more (see the module docs).
            .global_config("storage_archive_item_limit = 1000000");
        for line in RawComponent::config(bench.component_port, OCCUPANTS_DOMAIN, OCCUPANTS_SECRET) {
            builder = builder.global_config(line);
        }
        bench.server = Some(builder.start().await?);
        Ok(bench)
    }

    /// The running server.
    pub fn server(&self) -> &TestServer {
        self.server.as_ref().expect("started")
    }

    /// Connects the component that plays rooms' crowds (one per server at a time).
    pub async fn crowd(&self) -> Crowd {
        let component = RawComponent::connect(
            self.server(),
            self.component_port,
            OCCUPANTS_DOMAIN,
            OCCUPANTS_SECRET,
            Duration::from_secs(60),
        )
        .await;
        Crowd::new(component)
    }
}

/// The address of the room `name` on `server`'s MUC service.
pub fn room_jid(server: &TestServer, name: &str) -> String {
    format!("{name}@{}", server.muc_domain())
}

/// The occupants of rooms, played by the component [`OCCUPANTS_DOMAIN`] (see the module
/// docs): everything the rooms send them is read and dropped, only their own presences in a
/// room (status 110) are counted.
pub struct Crowd {
    writer: tokio::net::tcp::OwnedWriteHalf,
    entered: watch::Receiver<usize>,
    reader: tokio::task::JoinHandle<()>,
    next: usize,
}

impl Crowd {
    fn new(component: RawComponent) -> Crowd {
        let (mut read, writer) = component.into_split();
        let (tx, entered) = watch::channel(0usize);
        let reader = tokio::spawn(async move {
            let mut scanner = TagScanner::new();
            let mut chunk = vec![0u8; 64 * 1024];
            let mut count = 0usize;
            let mut pending = Vec::new();
            while let Ok(n @ 1..) = read.read(&mut chunk).await {
                pending.extend_from_slice(&chunk[..n]);
                // A chunk may end inside a UTF-8 sequence: keep that tail for the next one.
                let valid = match std::str::from_utf8(&pending) {
                    Ok(_) => pending.len(),
                    Err(e) => e.valid_up_to(),
                };
                let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
                pending.drain(..valid);
                count += scanner
                    .push(&text)
                    .iter()
                    .filter(|t| t.starts_with("<status") && attr(t, "code") == Some("110"))
                    .count();
                tx.send_replace(count);
            }
        });
        Crowd {
            writer,
            entered,
            reader,
            next: 0,
        }
    }

    /// `count` new occupants enter `room` (no history asked); returns once the room has told
    /// each that it is in.
    pub async fn enter(&mut self, room: &str, count: usize) {
        let target = *self.entered.borrow() + count;
        let mut joins = String::with_capacity(count * 200);
        for _ in 0..count {
            self.next += 1;
            let n = self.next;
            let _ = write!(
                joins,
                "<presence from='o{n:04}@{OCCUPANTS_DOMAIN}/bench' to='{room}/o{n:04}'>\
                 <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x>\
                 </presence>",
                room = escape(room),
            );
        }
        self.writer
            .write_all(joins.as_bytes())
            .await
            .expect("write to the component");
        self.entered
            .wait_for(|n| *n >= target)
            .await
            .expect("the component's connection closed");
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        self.reader.abort();
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

    /// Reads until a tag matches `pred`; returns when it arrived. What comes before is dropped.
    pub async fn wait_tag(&mut self, pred: impl Fn(&str) -> bool) -> u64 {
        loop {
            let (tags, at) = self.next_tags().await;
            if tags.iter().any(|t| pred(t)) {
                return at;
            }
        }
    }

    /// Creates `room` (new) as `nick` with the room's default configuration (persistent,
    /// archived), and stays in it.
    pub async fn create_room(&mut self, room: &str, nick: &str) {
        self.enter_room(room, nick).await;
        let room = escape(room);
        let id = format!("config-{room}");
        self.send(&format!(
            "<iq type='set' to='{room}' id='{id}'>\
             <query xmlns='http://jabber.org/protocol/muc#owner'>\
             <x xmlns='jabber:x:data' type='submit'/></query></iq>"
        ))
        .await;
        self.wait_tag(|t| t.starts_with("<iq") && attr(t, "id") == Some(id.as_str()))
            .await;
    }

    /// Enters `room` as `nick` without asking for its history; returns when the room said we
    /// are in (status 110, after every other occupant's presence).
    pub async fn enter_room(&mut self, room: &str, nick: &str) -> u64 {
        self.send(&format!(
            "<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>\
             <history maxstanzas='0'/></x></presence>",
            room = escape(room),
            nick = escape(nick),
        ))
        .await;
        self.wait_tag(|t| t.starts_with("<status") && attr(t, "code") == Some("110"))
            .await
    }

    /// Asks `room`'s archive (XEP-0313) for its last `max` lines, as a client catching up a
    /// room it never was in does; returns when the answer's end came.
    pub async fn room_last_lines(&mut self, room: &str, max: usize) -> u64 {
        self.send(&format!(
            "<iq type='set' to='{room}' id='last-lines'><query xmlns='urn:xmpp:mam:2' \
             queryid='last-lines'><set xmlns='http://jabber.org/protocol/rsm'><max>{max}</max>\
             <before/></set></query></iq>",
            room = escape(room),
        ))
        .await;
        self.wait_tag(|t| t.starts_with("<iq") && attr(t, "id") == Some("last-lines"))
            .await
    }

    /// Says `count` lines in `room` (ids and origin-ids `<tag>-<n>`), `chunk` lines per write
    /// and each chunk's last line reflected before the next is sent (0: all at once); returns
    /// when the room reflected the last line, i.e. archived every line (see the module docs).
    pub async fn say_lines(&mut self, room: &str, tag: &str, count: usize, chunk: usize) -> u64 {
        let chunk = if chunk == 0 { count.max(1) } else { chunk };
        let mut at = now_ms();
        let mut start = 0;
        while start < count {
            let end = (start + chunk).min(count);
            self.send(&room_lines(room, tag, start..end, count)).await;
            let last = format!("{tag}-{}", end - 1);
            at = self
                .wait_tag(|t| attr(t, "id") == Some(last.as_str()))
                .await;
            start = end;
        }
        at
    }
}

/// The stanzas of lines `range` of `count` in `room` (type groupchat, with an origin-id); ids
/// are `<tag>-<n>`.
pub fn room_lines(room: &str, tag: &str, range: std::ops::Range<usize>, count: usize) -> String {
    let mut out = String::with_capacity(range.len() * 260);
    for i in range {
        let id = escape(&format!("{tag}-{i}"));
        let _ = write!(
            out,
            "<message to='{room}' type='groupchat' id='{id}'><body>Line {i} of {count}: \
             the quick brown fox jumps over the lazy dog.</body>\
             <origin-id xmlns='urn:xmpp:sid:0' id='{id}'/></message>",
            room = escape(room),
        );
    }
    out
}

/// The IQ that publishes alice's bookmark of `room` (XEP-0402, autojoin, as `nick`), with
/// the publish options of XEP-0402 §3.3.
pub fn bookmark_publish(id: &str, room: &str, name: &str, nick: &str) -> String {
    let field =
        |var: &str, value: &str| format!("<field var='{var}'><value>{value}</value></field>");
    format!(
        "<iq type='set' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
         <publish node='urn:xmpp:bookmarks:1'><item id='{room}'>\
         <conference xmlns='urn:xmpp:bookmarks:1' name='{name}' autojoin='true'>\
         <nick>{nick}</nick></conference></item></publish>\
         <publish-options><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE' type='hidden'>\
         <value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
         {persist}{max}{last}{access}</x></publish-options></pubsub></iq>",
        id = escape(id),
        room = escape(room),
        name = escape(name),
        nick = escape(nick),
        persist = field("pubsub#persist_items", "true"),
        max = field("pubsub#max_items", "max"),
        last = field("pubsub#send_last_published_item", "never"),
        access = field("pubsub#access_model", "whitelist"),
    )
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
    fn room_lines_carry_their_ids() {
        let room = "r@conference.charla.test";
        let mut s = TagScanner::new();
        let tags = s.push(&room_lines(room, "t", 3..5, 5));
        let messages: Vec<&String> = tags.iter().filter(|t| t.starts_with("<message")).collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(attr(messages[0], "id"), Some("t-3"));
        assert_eq!(attr(messages[1], "to"), Some(room));
        assert_eq!(attr(messages[1], "type"), Some("groupchat"));
        let publish = bookmark_publish("b-1", room, "A <room>", "alice");
        assert!(publish.contains("<item id='r@conference.charla.test'>"));
        assert!(publish.contains("name='A &lt;room&gt;' autojoin='true'"));
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
