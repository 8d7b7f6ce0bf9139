//! The shell's state: the core handle, open chat views, which chat has the
//! user's attention, unread counts, and the forwarding of core events to
//! the windows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use charla_core::{AccountId, Core, CoreError, Direction, Event, Message, MessageId, Show};
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{mpsc, watch};

use crate::notify::{Note, Notifier};
use crate::sandbox::Sandbox;
use crate::settings::SettingsFile;
use crate::types::{ChatRef, ChatUpdate, Resume, Settings, ShellEvent};

/// Event name of core events (`Event`, without messages) sent to every window.
pub const CORE_EVENT: &str = "core-event";
/// Event name of shell events (`ShellEvent`).
pub const SHELL_EVENT: &str = "shell-event";
/// How long the core's events wait for the main window to listen (see
/// [`Shell::forward_events`]) before they go out regardless.
const LISTEN_WAIT: Duration = Duration::from_secs(10);
/// At most this many of the core's waiting events are routed together, with
/// one unread update per chat (see [`Shell::dispatch_all`]).
const BATCH: usize = 256;

/// What a batch of events changed, sent at its end (see [`Shell::dispatch_all`]).
#[derive(Default)]
struct Changes {
    /// The chats whose unread count changed, with the id of the newest
    /// message that came in for each.
    unread: HashMap<ChatRef, Option<MessageId>>,
    /// The updates for each chat's open views, in order.
    views: HashMap<ChatRef, Vec<ChatUpdate>>,
    /// The accounts whose message requests changed.
    requests: std::collections::HashSet<AccountId>,
}

/// Everything the commands share.
pub struct Shell {
    /// The headless core.
    pub core: Core,
    /// Remembered passwords, in the OS keyring.
    pub credentials: charla_core::Credentials,
    /// Sandbox mode, if active.
    pub sandbox: Option<Sandbox>,
    /// `CHARLA_PROFILE`, if set.
    pub profile: Option<String>,
    /// Where settings are saved.
    pub settings_file: SettingsFile,
    /// Current settings.
    pub settings: Mutex<Settings>,
    /// Open chat views: per chat, per window label, the channel for changes.
    pub views: Mutex<HashMap<ChatRef, HashMap<String, Channel<ChatUpdate>>>>,
    /// The chat the user is looking at, if any (`None` when no window has focus).
    pub focused: Mutex<Option<ChatRef>>,
    /// Unread messages per chat.
    pub unread: Mutex<HashMap<ChatRef, u32>>,
    /// Contact names from the rosters, for notification titles.
    pub names: Mutex<HashMap<(AccountId, String), String>>,
    /// Own availability per connected account.
    pub own_show: Mutex<HashMap<AccountId, Show>>,
    /// The last known presence of every online contact, per account, for
    /// windows opened later (pop-outs).
    pub presences: Mutex<HashMap<AccountId, HashMap<String, charla_core::ContactPresence>>>,
    /// Popped-out chat windows by label.
    pub popped: Mutex<HashMap<String, ChatRef>>,
    /// Desktop notifications.
    pub notifier: Notifier,
    /// The last `xmpp:` link received, until the main window takes it.
    pub link: Mutex<Option<crate::links::Pending>>,
    /// The logins started at launch, while the window loads, until the
    /// window asks for their outcome (`resume_login`).
    pub resuming: Mutex<Option<JoinHandle<Result<Resume, CoreError>>>>,
    /// Whether the main window listens for events yet.
    pub listening: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these small maps leaves usable data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shell {
    /// Starts logging the enabled accounts in with their remembered
    /// passwords now, beside WebKit's start, instead of once the page asks.
    pub fn start_resuming(self: &Arc<Self>) {
        let task = tauri::async_runtime::spawn(crate::commands::resume(Arc::clone(self)));
        *lock(&self.resuming) = Some(task);
    }

    /// The main window listens now: the core's events go out from here on.
    pub fn page_listens(&self) {
        self.listening.send_replace(true);
    }

    /// Routes the core's events (see [`Shell::dispatch`]). Until the main
    /// window listens (or [`LISTEN_WAIT`] passed) they wait in the core's
    /// queue, in order, so that those of the logins started at launch are
    /// not emitted to a page that is still loading.
    pub fn forward_events(self: Arc<Self>, app: AppHandle, mut events: mpsc::Receiver<Event>) {
        let mut listening = self.listening.subscribe();
        tauri::async_runtime::spawn(async move {
            let _ = tokio::time::timeout(LISTEN_WAIT, listening.wait_for(|l| *l)).await;
            let mut batch = Vec::new();
            while events.recv_many(&mut batch, BATCH).await > 0 {
                self.dispatch_all(&app, batch.drain(..));
            }
        });
    }

    /// Keeps `link` for the main window (a newer one replaces it).
    pub fn keep_link(&self, link: crate::links::Pending) {
        *lock(&self.link) = Some(link);
    }

    /// The link waiting for the main window, if any; it is then gone.
    pub fn take_link(&self) -> Option<crate::links::Pending> {
        lock(&self.link).take()
    }

    /// Keeps a change for the open views of its chat, if it has any.
    fn to_views(&self, message: &Message, update: ChatUpdate, changes: &mut Changes) {
        let chat = ChatRef {
            account: message.account_id,
            peer: message.peer.clone(),
        };
        if lock(&self.views).contains_key(&chat) {
            changes.views.entry(chat).or_default().push(update);
        }
    }

    /// Sends each chat's kept changes to its open views, in one update.
    fn send_to_views(&self, changed: HashMap<ChatRef, Vec<ChatUpdate>>) {
        let views = lock(&self.views);
        for (chat, mut updates) in changed {
            let Some(channels) = views.get(&chat) else {
                continue;
            };
            let update = match updates.len() {
                1 => updates.remove(0),
                _ => ChatUpdate::Messages {
                    messages: updates
                        .into_iter()
                        .flat_map(ChatUpdate::into_messages)
                        .collect(),
                },
            };
            for channel in channels.values() {
                let _ = channel.send(update.clone());
            }
        }
    }

    /// Registers a view's channel.
    pub fn open_view(&self, chat: ChatRef, window: String, channel: Channel<ChatUpdate>) {
        lock(&self.views)
            .entry(chat)
            .or_default()
            .insert(window, channel);
    }

    /// Forgets a view's channel.
    pub fn close_view(&self, chat: &ChatRef, window: &str) {
        let mut views = lock(&self.views);
        if let Some(by_window) = views.get_mut(chat) {
            by_window.remove(window);
            if by_window.is_empty() {
                views.remove(chat);
            }
        }
    }

    /// The user now looks at `chat` (or nothing): its unread count resets.
    pub fn focus(&self, app: &AppHandle, chat: Option<ChatRef>) {
        *lock(&self.focused) = chat.clone();
        if let Some(chat) = chat {
            self.notifier.forget(chat.clone());
            let had = lock(&self.unread).remove(&chat).unwrap_or(0);
            if had > 0 {
                self.publish_unread(app, HashMap::from([(chat, None)]));
            }
        }
    }

    /// The chat's stored messages were deleted: its unread count and its
    /// notification go.
    pub fn forget_chat(&self, app: &AppHandle, chat: ChatRef) {
        self.notifier.forget(chat.clone());
        let had = lock(&self.unread).remove(&chat).unwrap_or(0);
        if had > 0 {
            self.publish_unread(app, HashMap::from([(chat, None)]));
        }
    }

    /// The chat was read up to `up_to` on another device: what is older is
    /// no longer unread here, and its notification goes.
    fn read_elsewhere(&self, chat: ChatRef, up_to: MessageId, changes: &mut Changes) {
        let had = lock(&self.unread).get(&chat).copied().unwrap_or(0);
        if had == 0 {
            return;
        }
        let left = self
            .core
            .incoming_after(chat.account, &chat.peer, up_to)
            .unwrap_or(had)
            .min(had);
        {
            let mut unread = lock(&self.unread);
            if left == 0 {
                unread.remove(&chat);
            } else {
                unread.insert(chat.clone(), left);
            }
        }
        if left == 0 {
            self.notifier.forget(chat.clone());
        }
        changes.unread.insert(chat, None);
    }

    /// Tells the windows the unread counts of `chats` as they are now (each
    /// with its newest incoming message, if one came), and updates the
    /// window title and tray once.
    fn publish_unread(&self, app: &AppHandle, chats: HashMap<ChatRef, Option<MessageId>>) {
        let (counts, total) = {
            let unread = lock(&self.unread);
            let counts: Vec<u32> = chats
                .keys()
                .map(|chat| unread.get(chat).copied().unwrap_or(0))
                .collect();
            (counts, unread.values().sum())
        };
        for ((chat, last), count) in chats.into_iter().zip(counts) {
            let _ = app.emit(
                SHELL_EVENT,
                ShellEvent::UnreadChanged {
                    chat,
                    count,
                    total,
                    last,
                },
            );
        }
        crate::tray::show_unread(app, total);
    }

    /// An incoming message: counted as unread and notified as the core's
    /// policy says (`charla_core::attention`); a stranger's is a message
    /// request, announced as such instead.
    fn on_incoming(&self, message: &Message, stranger: bool, changes: &mut Changes) {
        let chat = ChatRef {
            account: message.account_id,
            peer: message.peer.clone(),
        };
        if stranger {
            changes.requests.insert(chat.account);
        }
        if lock(&self.focused).as_ref() == Some(&chat) {
            return;
        }
        let attention = charla_core::attention(stranger, lock(&self.settings).notify_strangers);
        if attention.unread {
            *lock(&self.unread).entry(chat.clone()).or_insert(0) += 1;
            changes.unread.insert(chat.clone(), Some(message.id));
        }
        let dnd = lock(&self.own_show).get(&chat.account) == Some(&Show::Dnd);
        if attention.notify && !dnd && lock(&self.settings).notifications {
            let title = lock(&self.names)
                .get(&(chat.account, chat.peer.clone()))
                .cloned()
                .unwrap_or_else(|| chat.peer.clone());
            let image = self.core.avatar_file_of(chat.account, &chat.peer);
            self.notifier.message(Note {
                chat,
                title,
                body: message.body.clone(),
                image,
            });
        }
    }

    fn remember_names(&self, account: AccountId, contacts: &[charla_core::RosterEntry]) {
        let mut names = lock(&self.names);
        for c in contacts {
            let name = c.name.clone().unwrap_or_else(|| c.jid.clone());
            names.insert((account, c.jid.clone()), name);
        }
    }

    /// Routes one core event (see [`Shell::dispatch_all`]).
    pub fn dispatch(&self, app: &AppHandle, event: Event) {
        self.dispatch_all(app, std::iter::once(event));
    }

    /// Routes core events in order: messages to their chat views (plus
    /// unread counts and notifications), everything else to all windows.
    /// A burst costs the windows one update per chat, not one per message:
    /// consecutive messages of a chat go to its views together (before the
    /// next other event), and unread counts go out once per chat at the
    /// end, with the count as it is then, with one title and tray update.
    pub fn dispatch_all(&self, app: &AppHandle, events: impl IntoIterator<Item = Event>) {
        let mut changes = Changes::default();
        for event in events {
            self.route(app, event, &mut changes);
        }
        self.send_to_views(changes.views);
        if !changes.unread.is_empty() {
            self.publish_unread(app, changes.unread);
        }
        for account in changes.requests {
            let _ = app.emit(SHELL_EVENT, ShellEvent::RequestsChanged { account });
        }
    }

    fn route(&self, app: &AppHandle, event: Event, changes: &mut Changes) {
        match &event {
            Event::MessageAdded {
                message, stranger, ..
            } => {
                self.to_views(
                    message,
                    ChatUpdate::Added {
                        message: message.clone(),
                    },
                    changes,
                );
                if message.direction == Direction::In {
                    self.on_incoming(message, *stranger, changes);
                }
                return;
            }
            Event::MessageUpdated { message, .. } => {
                self.to_views(
                    message,
                    ChatUpdate::Updated {
                        message: message.clone(),
                    },
                    changes,
                );
                return;
            }
            Event::RosterLoaded { account, contacts } => self.remember_names(*account, contacts),
            Event::ContactChanged { account, contact } => {
                self.remember_names(*account, std::slice::from_ref(contact))
            }
            Event::Connection { account, state } => {
                if matches!(state, charla_core::ConnectionState::Disconnected) {
                    lock(&self.own_show).remove(account);
                    lock(&self.presences).remove(account);
                }
            }
            Event::PresenceChanged {
                account,
                jid,
                presence,
            } => {
                let mut all = lock(&self.presences);
                let known = all.entry(*account).or_default();
                match presence {
                    Some(p) => known.insert(jid.clone(), p.clone()),
                    None => known.remove(jid),
                };
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
                self.read_elsewhere(chat, *up_to, changes);
            }
            Event::ContactRemoved { .. }
            | Event::SubscriptionRequest { .. }
            | Event::ChatState { .. }
            | Event::AvatarChanged { .. }
            | Event::CatchUpStarted { .. }
            | Event::CatchUpFinished { .. }
            | Event::Error { .. } => {}
        }
        // The windows see this event after the messages that came before it
        // (a chat state after a message must not be undone by it).
        self.send_to_views(std::mem::take(&mut changes.views));
        let _ = app.emit(CORE_EVENT, event);
    }

    /// Brings the main window forward and asks it to open `chat`.
    pub fn open_chat_window(&self, app: &AppHandle, chat: ChatRef) {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.show();
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
        let _ = app.emit(SHELL_EVENT, ShellEvent::OpenChat { chat });
    }
}
