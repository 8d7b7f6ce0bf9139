//! Group chats' attention policy (XEP-0045 rooms): which room line counts
//! as unread, which is a mention, and which is notified.
//!
//! - Each room has a notify setting, [`RoomNotify`]: every line, mentions
//!   only, or nothing. It is kept per account and room in the settings
//!   ([`crate::Settings::room_notify`]). Without one, a room notifies
//!   mentions only: the core does not say yet whether a room is
//!   members-only (the kind that should default to every line), so every
//!   room gets the public channel's default.
//! - A mention is our nick in the line as a whole word, compared without
//!   case and without invisible or bidirectional characters in either
//!   ([`mentions`]), or a line addressed to us: a XEP-0372 reference to
//!   our occupant or our account, or a private message (XEP-0045 §7.5).
//!   Either kind notifies under "mentions only".
//! - Every line of someone else counts as unread, whatever the setting; a
//!   mention also sets the room's mention marker. Our own lines (and their
//!   reflections) neither count nor notify, nor does anything in the room
//!   the user looks at.
//! - The lines a room's first catch-up brings, when we join it from here
//!   for the first time, are its history: neither counted nor notified.

use std::collections::{HashMap, HashSet};

use charla_core::muc::display_nick;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use charla_core::{AccountId, CoreError};

use crate::lock;
use crate::types::{AppEvent, ChatRef, Quiet, RoomEntry};

/// Which lines of a room are notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RoomNotify {
    /// Every line.
    All,
    /// Only lines that mention us.
    Mentions,
    /// None.
    Nothing,
}

/// The notify setting of one room of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoomNotifySetting {
    /// The account.
    pub account: charla_core::AccountId,
    /// The room's bare JID.
    pub room: String,
    /// What is notified.
    pub notify: RoomNotify,
}

/// The notify setting of `room` in `settings`: the one chosen, else
/// mentions only (see the module's docs).
pub fn notify_setting(settings: &[RoomNotifySetting], room: &ChatRef) -> RoomNotify {
    settings
        .iter()
        .find(|s| s.account == room.account && s.room == room.peer)
        .map(|s| s.notify)
        .unwrap_or(RoomNotify::Mentions)
}

/// Whether `body` mentions `nick`: the nick as a whole word (not inside a
/// longer word), without regard to case, and with invisible and
/// bidirectional characters taken out of both first.
pub fn mentions(body: &str, nick: &str) -> bool {
    let (nick, _) = display_nick(nick);
    let nick = nick.trim().to_lowercase();
    if nick.is_empty() || nick == "\u{FFFD}" {
        return false;
    }
    let (body, _) = display_nick(body);
    let body = body.to_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    body.match_indices(&nick).any(|(at, _)| {
        let before = body[..at].chars().next_back();
        let after = body[at + nick.len()..].chars().next();
        !word(before) && !word(after)
    })
}

/// What one line of someone else in a room does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomIncoming {
    /// It was counted as unread.
    pub counted: bool,
    /// It mentions us.
    pub mention: bool,
    /// It is notified, or not and why.
    pub notify: Result<(), Quiet>,
}

/// What the policy knows of the rooms.
#[derive(Debug, Default)]
pub struct RoomAttention {
    /// Our nick per room.
    nicks: HashMap<ChatRef, String>,
    /// Rooms joined from here for the first time, until their first
    /// catch-up ends ([`charla_core::Event::RoomJoined`]).
    first_join: HashSet<ChatRef>,
    /// Rooms with an unread mention.
    mentioned: HashSet<ChatRef>,
}

impl RoomAttention {
    /// Our nick in `room`, if known.
    pub fn nick(&self, room: &ChatRef) -> Option<&str> {
        self.nicks.get(room).map(String::as_str)
    }

    /// We are (or will be) `nick` in `room`.
    pub fn set_nick(&mut self, room: ChatRef, nick: String) {
        self.nicks.insert(room, nick);
    }

    /// Whether `room` is a room (as far as the events told).
    pub fn is_room(&self, room: &ChatRef) -> bool {
        self.nicks.contains_key(room)
    }

    /// We asked to join `room`, which was not kept before: the lines of
    /// its first catch-up are history.
    pub fn joining_first(&mut self, room: ChatRef) {
        self.first_join.insert(room);
    }

    /// The room's catch-up ended (or we are not in it any more).
    pub fn caught_up(&mut self, room: &ChatRef) {
        self.first_join.remove(room);
    }

    /// A line of someone else in `room`, `focused` when the user looks at
    /// it, `addressed` when it is for us whatever its text (a mention
    /// reference or a private message), with `notify` the room's setting
    /// and `quiet` why nothing is notified at all (notifications off,
    /// do-not-disturb), if so.
    pub fn line(
        &mut self,
        room: &ChatRef,
        body: &str,
        addressed: bool,
        focused: bool,
        notify: RoomNotify,
        quiet: Option<Quiet>,
    ) -> RoomIncoming {
        if focused {
            return RoomIncoming {
                counted: false,
                mention: false,
                notify: Err(Quiet::ChatOpen),
            };
        }
        if self.first_join.contains(room) {
            return RoomIncoming {
                counted: false,
                mention: false,
                notify: Err(Quiet::RoomHistory),
            };
        }
        let mention = addressed
            || self
                .nicks
                .get(room)
                .is_some_and(|nick| mentions(body, nick));
        if mention {
            self.mentioned.insert(room.clone());
        }
        let notify = match (quiet, notify) {
            (Some(why), _) => Err(why),
            (None, RoomNotify::All) => Ok(()),
            (None, RoomNotify::Mentions) if mention => Ok(()),
            (None, RoomNotify::Mentions) => Err(Quiet::NotMentioned),
            (None, RoomNotify::Nothing) => Err(Quiet::RoomMuted),
        };
        RoomIncoming {
            counted: true,
            mention,
            notify,
        }
    }

    /// Whether `room` has an unread mention.
    pub fn mentioned(&self, room: &ChatRef) -> bool {
        self.mentioned.contains(room)
    }

    /// The room was read: its mention marker goes.
    pub fn read(&mut self, room: &ChatRef) {
        self.mentioned.remove(room);
    }

    /// The room was left and forgotten.
    pub fn forget(&mut self, room: &ChatRef) {
        self.mentioned.remove(room);
        self.first_join.remove(room);
        self.nicks.remove(room);
    }
}

impl crate::App {
    /// The room kept for `room.account` at `room.peer`, if any.
    pub(crate) fn kept_room(&self, room: &ChatRef) -> Option<charla_core::Room> {
        self.core
            .rooms(room.account)
            .ok()?
            .into_iter()
            .find(|kept| kept.jid == room.peer)
    }

    /// The rooms kept for `account`, with their notify settings, unread
    /// lines and mention markers.
    pub fn rooms(&self, account: AccountId) -> Result<Vec<RoomEntry>, CoreError> {
        let rooms = self.core.rooms(account)?;
        let (settings, forgotten) = {
            let kept = lock(&self.settings);
            (kept.room_notify.clone(), kept.forgotten_rooms.clone())
        };
        let attention = lock(&self.attention);
        Ok(rooms
            .into_iter()
            .filter(|room| {
                !forgotten
                    .iter()
                    .any(|f| f.account == account && f.peer == room.jid)
            })
            .map(|room| {
                let chat = ChatRef {
                    account,
                    peer: room.jid.clone(),
                };
                RoomEntry {
                    notify: notify_setting(&settings, &chat),
                    unread: attention.count(&chat),
                    mentioned: attention.rooms.mentioned(&chat),
                    room,
                }
            })
            .collect())
    }

    /// Joins `room` as `nick` (see `Core::join_room`). A room not kept
    /// before is new here: the lines of its first catch-up are its
    /// history, neither counted nor notified.
    pub async fn join_room(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        password: Option<&str>,
    ) -> Result<(), CoreError> {
        let jid = charla_core::parse_bare_jid(room)?.to_string();
        let chat = ChatRef {
            account,
            peer: jid.clone(),
        };
        let first = self.kept_room(&chat).is_none();
        self.remember_room(&chat)?;
        {
            let mut attention = lock(&self.attention);
            attention
                .rooms
                .set_nick(chat.clone(), nick.trim().to_owned());
            if first {
                attention.rooms.joining_first(chat.clone());
            }
        }
        let joined = self.core.join_room(account, &jid, nick, password).await;
        if joined.is_err() {
            lock(&self.attention).rooms.caught_up(&chat);
        }
        joined
    }

    /// Creates `room` as `preset` says and joins it as `nick` (see
    /// `Core::create_room`). A private group notifies every line (a family
    /// or team room is small); a public channel mentions only. Answers the
    /// room's notify setting.
    pub async fn create_room(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        preset: charla_core::RoomPreset,
    ) -> Result<RoomNotify, CoreError> {
        let jid = charla_core::parse_bare_jid(room)?.to_string();
        let chat = ChatRef {
            account,
            peer: jid.clone(),
        };
        let private = preset.kind == charla_core::RoomKind::PrivateGroup;
        self.remember_room(&chat)?;
        {
            let mut attention = lock(&self.attention);
            attention
                .rooms
                .set_nick(chat.clone(), nick.trim().to_owned());
            attention.rooms.joining_first(chat.clone());
        }
        let notify = if private {
            RoomNotify::All
        } else {
            RoomNotify::Mentions
        };
        self.set_room_notify(account, &jid, notify)?;
        let created = self.core.create_room(account, &jid, nick, preset).await;
        if created.is_err() {
            lock(&self.attention).rooms.caught_up(&chat);
        }
        created.map(|()| notify)
    }

    /// Leaves `room` (see `Core::leave_room`); `forget` also forgets its
    /// unread lines and notifications. Answers what that changed.
    pub async fn leave_room(
        &self,
        account: AccountId,
        room: &str,
        forget: bool,
    ) -> Result<Vec<AppEvent>, CoreError> {
        let jid = charla_core::parse_bare_jid(room)?.to_string();
        self.core.leave_room(account, &jid, forget).await?;
        if !forget {
            return Ok(Vec::new());
        }
        self.forget_room(ChatRef { account, peer: jid })
    }

    /// `chat`, a room, is forgotten here (left for good here or on another
    /// device): its unread lines, notifications and notify setting go, and
    /// it is no longer listed. Answers what that changed.
    pub(crate) fn forget_room(&self, chat: ChatRef) -> Result<Vec<AppEvent>, CoreError> {
        let account = chat.account;
        if lock(&self.settings).forgotten_rooms.contains(&chat) {
            return Ok(Vec::new());
        }
        let had = {
            let mut attention = lock(&self.attention);
            let had = attention.count(&chat) > 0;
            attention.forget_chat(&chat);
            had
        };
        let mut said = vec![AppEvent::Dismiss { chat: chat.clone() }];
        if had {
            said.extend(self.rooms_unread_changed([chat.clone()]));
        }
        lock(&self.attention).rooms.forget(&chat);
        let mut settings = lock(&self.settings).clone();
        settings
            .room_notify
            .retain(|s| !(s.account == account && s.room == chat.peer));
        settings.forgotten_rooms.retain(|f| *f != chat);
        settings.forgotten_rooms.push(chat);
        self.save_settings_keeping_rooms(settings)?;
        Ok(said)
    }

    /// A room joined again is listed again, if it was forgotten.
    fn remember_room(&self, room: &ChatRef) -> Result<(), CoreError> {
        let mut settings = lock(&self.settings).clone();
        if !settings.forgotten_rooms.contains(room) {
            return Ok(());
        }
        settings.forgotten_rooms.retain(|f| f != room);
        self.save_settings_keeping_rooms(settings)
    }

    /// Sets which lines of `room` are notified; answers every room's
    /// setting.
    pub fn set_room_notify(
        &self,
        account: AccountId,
        room: &str,
        notify: RoomNotify,
    ) -> Result<Vec<RoomNotifySetting>, CoreError> {
        let room = charla_core::parse_bare_jid(room)?.to_string();
        let mut settings = lock(&self.settings).clone();
        settings
            .room_notify
            .retain(|s| !(s.account == account && s.room == room));
        settings.room_notify.push(RoomNotifySetting {
            account,
            room,
            notify,
        });
        let answer = settings.room_notify.clone();
        self.save_settings_keeping_rooms(settings)?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(jid: &str) -> ChatRef {
        ChatRef {
            account: AccountId(1),
            peer: jid.into(),
        }
    }

    #[test]
    fn a_mention_is_the_nick_as_a_whole_word_in_any_case() {
        assert!(mentions("alice: dinner?", "alice"));
        assert!(mentions("Dinner, ALICE?", "alice"));
        assert!(mentions("@Alice hi", "alice"));
        assert!(mentions("hola Álvaro", "álvaro"));
        assert!(mentions("ask Mary Ann", "mary ann"));
        assert!(!mentions("alicen is here", "alice"));
        assert!(!mentions("malice", "alice"));
        assert!(!mentions("alice_2 said", "alice"));
        assert!(!mentions("nothing here", "alice"));
        assert!(!mentions("", "alice"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn invisible_and_bidi_characters_neither_hide_nor_fake_a_mention() {
        // Hidden inside the nick in the line: still a mention.
        assert!(mentions("hi al\u{200B}ice", "alice"));
        assert!(mentions("hi \u{202E}alice\u{202C}!", "alice"));
        // Our own nick with such characters is compared without them.
        assert!(mentions("hi alice", "ali\u{2066}ce"));
        // A nick made only of them mentions no one.
        assert!(!mentions("\u{200B}", "\u{200B}"));
    }

    #[test]
    fn the_setting_decides_what_notifies_every_line_counts() {
        let mut rooms = RoomAttention::default();
        let family = room("family@conference.x");
        rooms.set_nick(family.clone(), "alice".into());
        let line = |rooms: &mut RoomAttention, body, notify| {
            rooms.line(&family, body, false, false, notify, None)
        };
        let plain = line(&mut rooms, "hello all", RoomNotify::Mentions);
        assert_eq!(
            plain,
            RoomIncoming {
                counted: true,
                mention: false,
                notify: Err(Quiet::NotMentioned)
            }
        );
        assert!(!rooms.mentioned(&family));
        let mention = line(&mut rooms, "alice, dinner?", RoomNotify::Mentions);
        assert_eq!((mention.mention, mention.notify), (true, Ok(())));
        assert!(rooms.mentioned(&family));
        assert_eq!(
            line(&mut rooms, "hello all", RoomNotify::All).notify,
            Ok(())
        );
        let muted = line(&mut rooms, "alice!", RoomNotify::Nothing);
        assert_eq!(
            (muted.counted, muted.mention, muted.notify),
            (true, true, Err(Quiet::RoomMuted))
        );
        // Do-not-disturb or notifications off win over the setting.
        assert_eq!(
            rooms
                .line(
                    &family,
                    "alice",
                    false,
                    false,
                    RoomNotify::All,
                    Some(Quiet::DoNotDisturb)
                )
                .notify,
            Err(Quiet::DoNotDisturb)
        );
        rooms.read(&family);
        assert!(!rooms.mentioned(&family));
    }

    #[test]
    fn a_line_addressed_to_us_is_a_mention_whatever_its_text() {
        let mut rooms = RoomAttention::default();
        let family = room("family@conference.x");
        rooms.set_nick(family.clone(), "alice".into());
        // A reference to us (XEP-0372) or a private message, without our nick.
        let addressed = rooms.line(
            &family,
            "look at this",
            true,
            false,
            RoomNotify::Mentions,
            None,
        );
        assert_eq!(
            (addressed.counted, addressed.mention, addressed.notify),
            (true, true, Ok(()))
        );
        assert!(rooms.mentioned(&family));
        let muted = rooms.line(&family, "psst", true, false, RoomNotify::Nothing, None);
        assert_eq!(muted.notify, Err(Quiet::RoomMuted), "nothing means nothing");
    }

    #[test]
    fn the_room_in_view_and_the_first_catch_up_neither_count_nor_notify() {
        let mut rooms = RoomAttention::default();
        let family = room("family@conference.x");
        rooms.set_nick(family.clone(), "alice".into());
        let seen = rooms.line(&family, "alice!", false, true, RoomNotify::All, None);
        assert_eq!(
            seen,
            RoomIncoming {
                counted: false,
                mention: false,
                notify: Err(Quiet::ChatOpen)
            }
        );
        assert!(!rooms.mentioned(&family));
        rooms.joining_first(family.clone());
        let history = rooms.line(&family, "alice!", false, false, RoomNotify::All, None);
        assert_eq!(
            (history.counted, history.notify),
            (false, Err(Quiet::RoomHistory))
        );
        rooms.caught_up(&family);
        assert!(
            rooms
                .line(&family, "alice!", false, false, RoomNotify::All, None)
                .counted
        );
    }

    #[test]
    fn rooms_without_a_setting_notify_mentions_only() {
        let family = room("family@conference.x");
        let team = room("team@conference.x");
        let settings = [RoomNotifySetting {
            account: AccountId(1),
            room: team.peer.clone(),
            notify: RoomNotify::All,
        }];
        assert_eq!(notify_setting(&settings, &team), RoomNotify::All);
        assert_eq!(notify_setting(&settings, &family), RoomNotify::Mentions);
        let other_account = ChatRef {
            account: AccountId(2),
            ..team
        };
        assert_eq!(
            notify_setting(&settings, &other_account),
            RoomNotify::Mentions
        );
    }

    /// An app on a real database with the room `family@conference.x` kept
    /// for its account (offline).
    fn app_with_room(dir: &std::path::Path) -> (crate::App, AccountId) {
        let database = dir.join("charla.sqlite3");
        let mut store = charla_store::Store::open(&database).expect("store");
        let account = store.upsert_account("me@x").expect("account");
        store
            .upsert_room(account, "family@conference.x", "me")
            .expect("room");
        let (core, _events) = charla_core::Core::open(&database).expect("core");
        let app = crate::App::open(
            core,
            &database,
            crate::Passwords::new(std::sync::Arc::new(crate::MemoryKeyring::default())),
            Box::new(|_| None),
            None,
        )
        .expect("app");
        (app, account)
    }

    #[tokio::test]
    async fn the_rooms_list_their_setting_and_leaving_for_good_forgets_them() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account) = app_with_room(dir.path());
        let family = "family@conference.x";
        let listed = app.rooms(account).expect("rooms");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].room.jid.as_str(),
                listed[0].notify,
                listed[0].unread
            ),
            (family, RoomNotify::Mentions, 0)
        );
        app.set_room_notify(account, family, RoomNotify::All)
            .expect("setting");
        assert_eq!(
            app.rooms(account).expect("rooms")[0].notify,
            RoomNotify::All
        );
        // Offline, joining says why not and leaves no first-join state behind.
        let refused = app.join_room(account, family, "me", None).await;
        assert!(refused.is_err(), "{refused:?}");
        // Leaving for good (offline: only what is kept changes) forgets the
        // room and its setting.
        let said = app.leave_room(account, family, true).await.expect("leave");
        assert_eq!(said, [AppEvent::Dismiss { chat: room(family) }]);
        assert!(app.rooms(account).expect("rooms").is_empty());
        assert!(app.settings().room_notify.is_empty());
        // Saving the settings from a window does not bring it back; joining
        // it again does (even when the join itself cannot go out).
        app.save_settings(crate::Settings::default()).expect("save");
        assert!(app.rooms(account).expect("rooms").is_empty());
        let _offline = app.join_room(account, family, "me", None).await;
        assert_eq!(app.rooms(account).expect("rooms").len(), 1);
    }
}
