//! Following the core's events: what they change in unread counts,
//! notifications, message requests, names and presences, decided here and
//! told to the front end as [`AppEvent`]s.

use std::collections::{BTreeMap, BTreeSet};

use charla_core::{AccountId, ConnectionState, Direction, Event, Message, MessageId, RoomMessage};

use crate::types::{AppEvent, ChatRef, Note, Quiet};
use crate::{lock, App};

/// What a batch of core events changed (see [`App::observe`]); the front
/// end gets it at the batch's end ([`App::conclude`]), so that a burst costs
/// one unread update per chat, not one per message.
#[derive(Debug, Default)]
pub struct Batch {
    /// Notifications and dismissals, in order.
    said: Vec<AppEvent>,
    /// The chats whose unread count changed, with the newest message that
    /// came in for each.
    unread: BTreeMap<ChatRef, Option<MessageId>>,
    /// The accounts whose message requests changed.
    requests: BTreeSet<AccountId>,
    /// Messages not notified, by chat and reason.
    quiet: BTreeMap<(ChatRef, Quiet), u32>,
    /// The rooms whose unread lines changed.
    rooms: BTreeSet<ChatRef>,
    /// The rooms in view that got lines (read as they came).
    seen: BTreeSet<ChatRef>,
}

impl App {
    /// Follows one core event, keeping what it changed in `batch`.
    pub fn observe(&self, event: &Event, batch: &mut Batch) {
        lock(&self.presences).observe(event);
        match event {
            Event::MessageAdded {
                message, stranger, ..
            } if message.direction == Direction::In => self.incoming(message, *stranger, batch),
            // Writing to someone not in the roster (here, in a pop-out or
            // on another device) answers their message request, if any.
            Event::MessageAdded {
                account, message, ..
            } if !lock(&self.attention).is_contact(*account, &message.peer) => {
                batch.requests.insert(*account);
            }
            Event::RosterLoaded { account, contacts } => {
                lock(&self.attention).roster_loaded(*account, contacts)
            }
            Event::ContactChanged { account, contact } => {
                lock(&self.attention).remember_names(*account, std::slice::from_ref(contact))
            }
            Event::ContactRemoved { account, jid } => {
                lock(&self.attention).forget_name(*account, jid)
            }
            Event::Connection {
                account,
                state: ConnectionState::Disconnected,
            } => self.set_own_show(*account, None),
            Event::OwnPresence { account, show, .. } => self.set_own_show(*account, Some(*show)),
            Event::RoomMessageAdded { account, message } if message.direction == Direction::In => {
                self.room_line(*account, message, batch)
            }
            Event::RoomJoined {
                account,
                room,
                nick,
                ..
            } => {
                let room = ChatRef {
                    account: *account,
                    peer: room.clone(),
                };
                let mut attention = lock(&self.attention);
                attention.rooms.caught_up(&room);
                attention.rooms.set_nick(room, nick.clone());
            }
            Event::RoomLeft {
                account,
                room,
                reason,
            } => {
                let chat = ChatRef {
                    account: *account,
                    peer: room.clone(),
                };
                lock(&self.attention).rooms.caught_up(&chat);
                if *reason == charla_core::RoomExit::Forgotten {
                    // Forgotten on another device (or here): not listed any more.
                    // If the settings cannot be saved, the room stays listed
                    // (out of it); leaving it for good here again forgets it.
                    if let Ok(said) = self.forget_room(chat) {
                        batch.said.extend(said);
                    }
                }
            }
            Event::RoomRead {
                account,
                room,
                up_to,
            } => {
                let room = ChatRef {
                    account: *account,
                    peer: room.clone(),
                };
                self.room_read_elsewhere(room, *up_to, batch);
            }
            Event::ChatRead {
                account,
                peer,
                up_to,
            } => {
                let chat = ChatRef {
                    account: *account,
                    peer: peer.clone(),
                };
                self.read_elsewhere(chat, *up_to, batch);
            }
            _ => {}
        }
    }

    /// An incoming message: counted as unread and notified as the policy
    /// says ([`crate::attention`]); a stranger's changes the message requests.
    fn incoming(&self, message: &Message, stranger: bool, batch: &mut Batch) {
        let chat = ChatRef {
            account: message.account_id,
            peer: message.peer.clone(),
        };
        if stranger {
            batch.requests.insert(chat.account);
        }
        let settings = lock(&self.settings).clone();
        let incoming = lock(&self.attention).incoming(&chat, stranger, &settings);
        if incoming.counted {
            batch.unread.insert(chat.clone(), Some(message.id));
        }
        match incoming.notify {
            Ok(title) => {
                let image = self.core.avatar_file_of(chat.account, &chat.peer);
                batch.said.push(AppEvent::Notify(Note {
                    chat,
                    room: false,
                    title,
                    body: message.body.clone(),
                    image,
                }));
            }
            Err(why) => *batch.quiet.entry((chat, why)).or_insert(0) += 1,
        }
    }

    /// Someone else's line in a room: counted, marked as a mention and
    /// notified as the room policy says ([`crate::rooms`]).
    fn room_line(&self, account: AccountId, line: &RoomMessage, batch: &mut Batch) {
        let room = ChatRef {
            account,
            peer: line.room.clone(),
        };
        let settings = lock(&self.settings).clone();
        let notify = crate::rooms::notify_setting(&settings.room_notify, &room);
        let incoming = {
            let mut attention = lock(&self.attention);
            if !attention.rooms.is_room(&room) {
                // Lines can come before the room's `RoomJoined` (its
                // catch-up): our nick is the one kept for it.
                if let Some(kept) = self.kept_room(&room) {
                    attention.rooms.set_nick(room.clone(), kept.nick);
                }
            }
            let focused = attention.is_focused(&room);
            if focused {
                batch.seen.insert(room.clone());
            }
            let silenced = attention.silenced(account, &settings);
            let addressed = line.mentions_us || line.private_with.is_some();
            let incoming = attention
                .rooms
                .line(&room, &line.body, addressed, focused, notify, silenced);
            if incoming.counted {
                attention.count_line(&room);
                batch.rooms.insert(room.clone());
            }
            incoming
        };
        match incoming.notify {
            Ok(()) => {
                let title = self
                    .kept_room(&room)
                    .and_then(|kept| kept.name)
                    .unwrap_or_else(|| room.peer.clone());
                let (nick, _) = charla_core::muc::display_nick(&line.nick);
                batch.said.push(AppEvent::Notify(Note {
                    chat: room,
                    room: true,
                    title,
                    body: format!("{nick}: {}", line.body),
                    image: None,
                }));
            }
            Err(why) => *batch.quiet.entry((room, why)).or_insert(0) += 1,
        }
    }

    /// The chat was read up to `up_to` on another device: what is older is
    /// no longer unread here, and when nothing is left its notification goes.
    fn read_elsewhere(&self, chat: ChatRef, up_to: MessageId, batch: &mut Batch) {
        let left = lock(&self.attention).read_elsewhere(&chat, |had| {
            self.core
                .incoming_after(chat.account, &chat.peer, up_to)
                .unwrap_or(had)
        });
        match left {
            None => {}
            Some(0) => {
                batch.said.push(AppEvent::Dismiss { chat: chat.clone() });
                batch.unread.insert(chat, None);
            }
            Some(_) => {
                batch.unread.insert(chat, None);
            }
        }
    }

    /// The room was read up to `up_to` on another device (XEP-0490): only
    /// the lines after it stay unread, and when none is left its
    /// notification and mention marker go.
    fn room_read_elsewhere(
        &self,
        room: ChatRef,
        up_to: charla_core::RoomMessageId,
        batch: &mut Batch,
    ) {
        let mut attention = lock(&self.attention);
        let left = attention.read_elsewhere(&room, |had| {
            self.core
                .room_lines_after(room.account, &room.peer, up_to)
                .unwrap_or(had)
        });
        match left {
            None => {}
            Some(0) => {
                attention.rooms.read(&room);
                batch.said.push(AppEvent::Dismiss { chat: room.clone() });
                batch.rooms.insert(room);
            }
            Some(_) => {
                batch.rooms.insert(room);
            }
        }
    }

    /// Whether `chat` is a room (as the core's events told).
    pub fn is_room(&self, chat: &ChatRef) -> bool {
        lock(&self.attention).rooms.is_room(chat)
    }

    /// The user looks at `room`: our other devices are told it was read up
    /// to its newest line (XEP-0490), once per newer line.
    pub async fn room_seen(&self, room: &ChatRef) {
        let newest = self
            .core
            .room_history(room.account, &room.peer, None, 1)
            .ok()
            .and_then(|page| page.into_iter().next());
        let Some(newest) = newest else { return };
        {
            let mut shared = lock(&self.rooms_read);
            if shared.get(room).is_some_and(|id| *id >= newest.id) {
                return;
            }
            shared.insert(room.clone(), newest.id);
        }
        let _ = self
            .core
            .mark_room_read(room.account, &room.peer, newest.id)
            .await;
    }

    /// What `batch` changed, for the front end: notifications and
    /// dismissals in order, then the messages not notified, then each
    /// changed chat's unread count as it is now, then the accounts whose
    /// message requests changed.
    pub fn conclude(&self, batch: Batch) -> Vec<AppEvent> {
        let mut said = batch.said;
        said.extend(
            batch
                .quiet
                .into_iter()
                .map(|((chat, why), count)| AppEvent::Quiet { chat, why, count }),
        );
        said.extend(self.unread_changed(batch.unread));
        said.extend(self.rooms_unread_changed(batch.rooms));
        said.extend(
            batch
                .seen
                .into_iter()
                .map(|room| AppEvent::RoomSeen { room }),
        );
        said.extend(
            batch
                .requests
                .into_iter()
                .map(|account| AppEvent::RequestsChanged { account }),
        );
        said
    }

    fn unread_changed(&self, chats: BTreeMap<ChatRef, Option<MessageId>>) -> Vec<AppEvent> {
        let attention = lock(&self.attention);
        let total = attention.total();
        chats
            .into_iter()
            .map(|(chat, last)| AppEvent::UnreadChanged {
                count: attention.count(&chat),
                chat,
                total,
                last,
            })
            .collect()
    }

    /// The unread lines of each of `rooms` as they are now.
    pub(crate) fn rooms_unread_changed(
        &self,
        rooms: impl IntoIterator<Item = ChatRef>,
    ) -> Vec<AppEvent> {
        let attention = lock(&self.attention);
        let total = attention.total();
        rooms
            .into_iter()
            .map(|room| AppEvent::RoomUnreadChanged {
                count: attention.count(&room),
                mentioned: attention.rooms.mentioned(&room),
                room,
                total,
            })
            .collect()
    }

    /// The user now looks at `chat` (`None`: no window has focus): its
    /// notifications are dismissed and its unread count resets.
    pub fn focus(&self, chat: Option<ChatRef>) -> Vec<AppEvent> {
        let had = lock(&self.attention).focus(chat.clone());
        let Some(chat) = chat else {
            return Vec::new();
        };
        self.read(chat, had)
    }

    /// The chat's stored messages were deleted: its unread count and its
    /// notifications go.
    pub fn forget_chat(&self, chat: ChatRef) -> Vec<AppEvent> {
        let had = lock(&self.attention).forget_chat(&chat);
        self.read(chat, had)
    }

    fn read(&self, chat: ChatRef, had_unread: bool) -> Vec<AppEvent> {
        let mut said = vec![AppEvent::Dismiss { chat: chat.clone() }];
        if had_unread && lock(&self.attention).rooms.is_room(&chat) {
            said.extend(self.rooms_unread_changed([chat]));
        } else if had_unread {
            said.extend(self.unread_changed(BTreeMap::from([(chat, None)])));
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keyring::{MemoryKeyring, Passwords};
    use crate::types::Settings;
    use charla_store::{NewMessage, Store};

    /// An app on a real database where `bob@x` wrote `n` messages to `me@x`
    /// (and one stranger, `spam@x`, once): the app, the account and the
    /// stored messages' events.
    fn scenario(dir: &std::path::Path, n: usize) -> (App, AccountId, Vec<Event>) {
        let database = dir.join("charla.sqlite3");
        let mut store = Store::open(&database).expect("store");
        let account = store.upsert_account("me@x").expect("account");
        let message = |peer: &str, i: usize| NewMessage {
            unstyled: false,
            reply: None,
            account,
            peer: peer.into(),
            direction: Direction::In,
            sender: format!("{peer}/phone"),
            body: format!("{peer} {i}"),
            server_time: None,
            origin_id: None,
            stanza_id: None,
            stanza_id_by: None,
            wire_id: None,
            markable: false,
            receipt_owed: false,
        };
        let mut events = Vec::new();
        for (peer, i) in (1..=n).map(|i| ("bob@x", i)).chain([("spam@x", 1)]) {
            let outcome = store.insert_incoming(&message(peer, i)).expect("insert");
            let charla_store::InsertOutcome::Inserted(message) = outcome else {
                panic!("a duplicate");
            };
            events.push(Event::MessageAdded {
                account,
                message,
                stranger: peer == "spam@x",
            });
        }
        let (core, _events) = charla_core::Core::open(&database).expect("core");
        let app = App::open(
            core,
            &database,
            Passwords::new(Arc::new(MemoryKeyring::default())),
            Box::new(|_| None),
            None,
        )
        .expect("app");
        (app, account, events)
    }

    fn bob(account: AccountId) -> ChatRef {
        ChatRef {
            account,
            peer: "bob@x".into(),
        }
    }

    #[test]
    fn a_burst_is_one_unread_update_per_chat_after_its_notifications() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, events) = scenario(dir.path(), 3);
        let mut batch = Batch::default();
        for event in &events {
            app.observe(event, &mut batch);
        }
        let said = app.conclude(batch);
        let kinds: Vec<&str> = said
            .iter()
            .map(|e| match e {
                AppEvent::Notify(note) if note.chat.peer == "bob@x" => "notify bob",
                AppEvent::UnreadChanged {
                    count: 3, total: 3, ..
                } => "unread 3",
                AppEvent::RequestsChanged { .. } => "requests",
                AppEvent::Quiet {
                    why: Quiet::Stranger,
                    count: 1,
                    ..
                } => "quiet stranger",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "notify bob",
                "notify bob",
                "notify bob",
                "quiet stranger",
                "unread 3",
                "requests"
            ]
        );
        let AppEvent::UnreadChanged { last, .. } = &said[4] else {
            unreachable!()
        };
        let Event::MessageAdded { message, .. } = &events[2] else {
            unreachable!()
        };
        assert_eq!(*last, Some(message.id), "the newest message");
        // Looking at the chat reads it.
        assert_eq!(
            app.focus(Some(bob(account))),
            [
                AppEvent::Dismiss { chat: bob(account) },
                AppEvent::UnreadChanged {
                    chat: bob(account),
                    count: 0,
                    total: 0,
                    last: None
                }
            ]
        );
    }

    #[test]
    fn writing_to_a_stranger_changes_the_message_requests_writing_to_a_contact_does_not() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, _) = scenario(dir.path(), 1);
        let mut batch = Batch::default();
        app.observe(
            &Event::RosterLoaded {
                account,
                contacts: vec![charla_core::RosterEntry {
                    jid: "bob@x".into(),
                    name: Some("Bob".into()),
                    subscription: charla_core::Subscription::Both,
                    ask_pending: false,
                    groups: Vec::new(),
                }],
            },
            &mut batch,
        );
        let sent = |peer: &str, n: u32| {
            let mut store = Store::open(dir.path().join("charla.sqlite3")).expect("store");
            let message = store
                .insert_outgoing(account, peer, "hi", &format!("origin-{n}"), None)
                .expect("outgoing");
            Event::MessageAdded {
                account,
                message,
                stranger: false,
            }
        };
        app.observe(&sent("bob@x", 1), &mut batch);
        assert_eq!(app.conclude(batch), []);
        // From a pop-out or another device (a carbon): the request of spam@x is answered.
        let mut batch = Batch::default();
        app.observe(&sent("spam@x", 2), &mut batch);
        assert_eq!(app.conclude(batch), [AppEvent::RequestsChanged { account }]);
        // Removed from the roster, bob is no contact any more.
        let mut batch = Batch::default();
        app.observe(
            &Event::ContactRemoved {
                account,
                jid: "bob@x".into(),
            },
            &mut batch,
        );
        app.observe(&sent("bob@x", 3), &mut batch);
        assert_eq!(app.conclude(batch), [AppEvent::RequestsChanged { account }]);
    }

    #[test]
    fn read_elsewhere_leaves_only_the_newer_messages() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, events) = scenario(dir.path(), 3);
        let mut batch = Batch::default();
        for event in &events {
            app.observe(event, &mut batch);
        }
        app.conclude(batch);
        let Event::MessageAdded { message, .. } = &events[1] else {
            unreachable!()
        };
        let mut batch = Batch::default();
        app.observe(
            &Event::ChatRead {
                account,
                peer: "bob@x".into(),
                up_to: message.id,
            },
            &mut batch,
        );
        assert_eq!(
            app.conclude(batch),
            [AppEvent::UnreadChanged {
                chat: bob(account),
                count: 1,
                total: 1,
                last: None
            }]
        );
    }

    #[test]
    fn do_not_disturb_counts_without_notifying() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, events) = scenario(dir.path(), 2);
        app.observe(
            &Event::OwnPresence {
                account,
                show: charla_core::Show::Dnd,
                status: None,
                auto: None,
            },
            &mut Batch::default(),
        );
        app.save_settings(Settings {
            notify_strangers: true,
            ..Settings::default()
        })
        .expect("settings");
        let mut batch = Batch::default();
        for event in &events {
            app.observe(event, &mut batch);
        }
        let said = app.conclude(batch);
        assert!(
            !said.iter().any(|e| matches!(e, AppEvent::Notify(_))),
            "{said:?}"
        );
        // A settled decision the front end can wait on (logs, tests).
        assert!(said.contains(&AppEvent::Quiet {
            chat: bob(account),
            why: Quiet::DoNotDisturb,
            count: 2,
        }));
        assert!(said.contains(&AppEvent::UnreadChanged {
            chat: bob(account),
            count: 2,
            total: 2,
            last: match &events[1] {
                Event::MessageAdded { message, .. } => Some(message.id),
                _ => unreachable!(),
            },
        }));
    }

    /// A line in the room `family@conference.x` of `account`.
    fn room_line(account: AccountId, id: i64, nick: &str, body: &str, out: bool) -> Event {
        Event::RoomMessageAdded {
            account,
            message: Box::new(charla_core::RoomMessage {
                rich: Default::default(),
                id: charla_core::RoomMessageId(id),
                room_id: charla_core::RoomId(1),
                account_id: account,
                room: "family@conference.x".into(),
                direction: if out { Direction::Out } else { Direction::In },
                nick: nick.into(),
                occupant_id: None,
                real_jid: None,
                body: body.into(),
                server_time: None,
                local_time: 0,
                origin_id: None,
                stanza_id: None,
                state: charla_core::MessageState::Received,
                error: None,
                private_with: None,
                mentions_us: false,
            }),
        }
    }

    #[test]
    fn a_room_read_on_another_device_leaves_only_the_later_lines_unread() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, _) = scenario(dir.path(), 0);
        let family = ChatRef {
            account,
            peer: "family@conference.x".into(),
        };
        // Three of bob's lines, stored as the core stores them.
        let lines: Vec<charla_core::RoomMessage> = {
            let mut store = Store::open(dir.path().join("charla.sqlite3")).expect("store");
            let room = store
                .upsert_room(account, &family.peer, "alice")
                .expect("room");
            let new = |i: usize| charla_store::NewRoomMessage {
                unstyled: false,
                reply: None,
                room: room.id,
                direction: Direction::In,
                nick: "bob".into(),
                occupant_id: None,
                real_jid: None,
                body: format!("line {i}"),
                server_time: None,
                origin_id: None,
                stanza_id: Some(format!("s{i}")),
                private_with: None,
                mentions_us: false,
            };
            store
                .insert_room_lines(&[new(1), new(2), new(3)])
                .expect("lines")
                .into_iter()
                .filter_map(|o| match o {
                    charla_store::RoomInsertOutcome::Inserted(m) => Some(m),
                    _ => None,
                })
                .collect()
        };
        let mut batch = Batch::default();
        for line in &lines {
            app.observe(
                &Event::RoomMessageAdded {
                    account,
                    message: Box::new(line.clone()),
                },
                &mut batch,
            );
        }
        app.conclude(batch);
        let read = |up_to| {
            let mut batch = Batch::default();
            app.observe(
                &Event::RoomRead {
                    account,
                    room: family.peer.clone(),
                    up_to,
                },
                &mut batch,
            );
            app.conclude(batch)
        };
        assert_eq!(
            read(lines[1].id),
            [AppEvent::RoomUnreadChanged {
                room: family.clone(),
                count: 1,
                mentioned: false,
                total: 1,
            }]
        );
        assert_eq!(
            read(lines[2].id),
            [
                AppEvent::Dismiss {
                    chat: family.clone()
                },
                AppEvent::RoomUnreadChanged {
                    room: family.clone(),
                    count: 0,
                    mentioned: false,
                    total: 0,
                }
            ]
        );
    }

    #[test]
    fn a_room_forgotten_on_another_device_is_no_longer_listed_here() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, _) = scenario(dir.path(), 0);
        let family = "family@conference.x";
        {
            let mut store = Store::open(dir.path().join("charla.sqlite3")).expect("store");
            store.upsert_room(account, family, "alice").expect("room");
        }
        let listed = |app: &App| {
            app.rooms(account)
                .expect("rooms")
                .into_iter()
                .map(|r| r.room.jid)
                .collect::<Vec<_>>()
        };
        assert_eq!(listed(&app), [family]);
        // Left (not forgotten): still listed.
        let mut batch = Batch::default();
        let left = |reason| Event::RoomLeft {
            account,
            room: family.into(),
            reason,
        };
        app.observe(&left(charla_core::RoomExit::Left), &mut batch);
        app.conclude(batch);
        assert_eq!(listed(&app), [family]);
        let mut batch = Batch::default();
        app.observe(&left(charla_core::RoomExit::Forgotten), &mut batch);
        let said = app.conclude(batch);
        assert_eq!(
            said,
            [AppEvent::Dismiss {
                chat: ChatRef {
                    account,
                    peer: family.into()
                }
            }]
        );
        assert!(listed(&app).is_empty());
    }

    #[test]
    fn a_room_counts_every_line_and_notifies_mentions_once_per_burst() {
        let dir = tempfile::tempdir().expect("dir");
        let (app, account, _) = scenario(dir.path(), 0);
        let family = ChatRef {
            account,
            peer: "family@conference.x".into(),
        };
        let mut batch = Batch::default();
        app.observe(
            &Event::RoomJoined {
                account,
                room: family.peer.clone(),
                nick: "Alice".into(),
                occupants: Vec::new(),
                subject: None,
                added: 0,
            },
            &mut batch,
        );
        for (i, body) in ["hi all", "alice: dinner?", "ALICE, now!"]
            .iter()
            .enumerate()
        {
            app.observe(
                &room_line(account, i as i64, "bob", body, false),
                &mut batch,
            );
        }
        // Our own reflected line neither counts nor notifies.
        app.observe(&room_line(account, 9, "Alice", "coming", true), &mut batch);
        let said = app.conclude(batch);
        let notes: Vec<&Note> = said
            .iter()
            .filter_map(|e| match e {
                AppEvent::Notify(note) => Some(note),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), 2, "{said:?}");
        assert!(notes.iter().all(|n| n.room && n.chat == family));
        assert_eq!(notes[0].body, "bob: alice: dinner?");
        // One notification on screen per room: the coalescer folds the two.
        let mut coalescer = crate::Coalescer::default();
        for note in notes {
            coalescer.message(note.clone());
        }
        let mut shown = Vec::new();
        coalescer.flush(|_, title, _, _| {
            shown.push(title.to_owned());
            Some(1)
        });
        assert_eq!(shown, ["family@conference.x (2)"]);
        assert!(said.contains(&AppEvent::Quiet {
            chat: family.clone(),
            why: Quiet::NotMentioned,
            count: 1
        }));
        assert_eq!(
            said.last(),
            Some(&AppEvent::RoomUnreadChanged {
                room: family.clone(),
                count: 3,
                mentioned: true,
                total: 3,
            })
        );
        // Looking at the room reads it and takes the mention marker away.
        assert_eq!(
            app.focus(Some(family.clone())),
            [
                AppEvent::Dismiss {
                    chat: family.clone()
                },
                AppEvent::RoomUnreadChanged {
                    room: family.clone(),
                    count: 0,
                    mentioned: false,
                    total: 0,
                }
            ]
        );
        // In view: neither counted nor notified, but read (our other
        // devices are told).
        let mut batch = Batch::default();
        app.observe(&room_line(account, 10, "bob", "alice?", false), &mut batch);
        assert_eq!(
            app.conclude(batch),
            [
                AppEvent::Quiet {
                    chat: family.clone(),
                    why: Quiet::ChatOpen,
                    count: 1
                },
                AppEvent::RoomSeen {
                    room: family.clone()
                }
            ]
        );
        // With every line notified, a plain line notifies too.
        app.focus(None);
        app.set_room_notify(account, &family.peer, crate::RoomNotify::All)
            .expect("setting");
        let mut batch = Batch::default();
        app.observe(&room_line(account, 11, "bob", "hi", false), &mut batch);
        assert!(matches!(
            app.conclude(batch).first(),
            Some(AppEvent::Notify(_))
        ));
        // Saving the settings from a window keeps the room's setting.
        app.save_settings(Settings::default()).expect("save");
        assert_eq!(app.settings().room_notify.len(), 1);
    }
}
