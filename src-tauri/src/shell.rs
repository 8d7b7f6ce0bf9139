//! The shell's state: the app (`charla_app::App`), open chat views and
//! windows, and the forwarding of core events and the app's decisions to
//! the windows, the tray and the notifications.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use charla_app::{App, AppEvent, Batch, ChatRef};
use charla_core::{CoreError, Event, Message, RoomMessage};
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{mpsc, watch};

use crate::notify::Notifier;
use crate::sandbox::Sandbox;
use crate::types::{ChatUpdate, Resume, RoomUpdate, ShellEvent};

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

/// The changes of a batch kept for the open views, per chat and per room.
#[derive(Default)]
struct Views {
    chats: HashMap<ChatRef, Vec<ChatUpdate>>,
    rooms: HashMap<ChatRef, Vec<RoomUpdate>>,
}

/// Everything the commands share.
pub struct Shell {
    /// The application: core, accounts, settings and policies.
    pub app: App,
    /// Sandbox mode, if active.
    pub sandbox: Option<Sandbox>,
    /// `CHARLA_PROFILE`, if set.
    pub profile: Option<String>,
    /// Open chat views: per chat, per window label, the channel for changes.
    pub views: Mutex<HashMap<ChatRef, HashMap<String, Channel<ChatUpdate>>>>,
    /// Open room views: per room (`peer` is its bare JID), per window
    /// label, the channel for changes.
    pub room_views: Mutex<HashMap<ChatRef, HashMap<String, Channel<RoomUpdate>>>>,
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
        let shell = Arc::clone(self);
        let task = tauri::async_runtime::spawn(async move { shell.app.resume().await });
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
    fn to_views(
        &self,
        message: &Message,
        update: ChatUpdate,
        views: &mut HashMap<ChatRef, Vec<ChatUpdate>>,
    ) {
        let chat = ChatRef {
            account: message.account_id,
            peer: message.peer.clone(),
        };
        if lock(&self.views).contains_key(&chat) {
            views.entry(chat).or_default().push(update);
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

    /// Keeps a room line's change for the open views of its room, if any.
    fn to_room_views(
        &self,
        line: &RoomMessage,
        update: RoomUpdate,
        views: &mut HashMap<ChatRef, Vec<RoomUpdate>>,
    ) {
        let room = ChatRef {
            account: line.account_id,
            peer: line.room.clone(),
        };
        if lock(&self.room_views).contains_key(&room) {
            views.entry(room).or_default().push(update);
        }
    }

    /// Sends each room's kept changes to its open views, in one update.
    fn send_to_room_views(&self, changed: HashMap<ChatRef, Vec<RoomUpdate>>) {
        let views = lock(&self.room_views);
        for (room, mut updates) in changed {
            let Some(channels) = views.get(&room) else {
                continue;
            };
            let update = match updates.len() {
                1 => updates.remove(0),
                _ => RoomUpdate::Lines {
                    lines: updates
                        .into_iter()
                        .flat_map(RoomUpdate::into_lines)
                        .collect(),
                },
            };
            for channel in channels.values() {
                let _ = channel.send(update.clone());
            }
        }
    }

    /// Registers a room view's channel.
    pub fn open_room_view(&self, room: ChatRef, window: String, channel: Channel<RoomUpdate>) {
        lock(&self.room_views)
            .entry(room)
            .or_default()
            .insert(window, channel);
    }

    /// Forgets a room view's channel.
    pub fn close_room_view(&self, room: &ChatRef, window: &str) {
        let mut views = lock(&self.room_views);
        if let Some(by_window) = views.get_mut(room) {
            by_window.remove(window);
            if by_window.is_empty() {
                views.remove(room);
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

    /// Shows what the app decided: notifications, and unread counts in the
    /// windows, the window title and the tray (once).
    pub fn show(&self, app: &AppHandle, said: Vec<AppEvent>) {
        let mut total = None;
        for event in said {
            match event {
                AppEvent::Notify(note) => self.notifier.message(note),
                AppEvent::Dismiss { chat } => self.notifier.forget(chat),
                AppEvent::UnreadChanged {
                    chat,
                    count,
                    total: all,
                    last,
                } => {
                    total = Some(all);
                    let _ = app.emit(
                        SHELL_EVENT,
                        ShellEvent::UnreadChanged {
                            chat,
                            count,
                            total: all,
                            last,
                        },
                    );
                }
                AppEvent::Quiet { chat, why, count } => {
                    // A settled fact for whoever reads the log (and the e2e
                    // tests): nothing will show for these messages.
                    eprintln!(
                        "charla: not notified: {count} from {} ({})",
                        chat.peer,
                        why.as_str()
                    );
                }
                AppEvent::RequestsChanged { account } => {
                    let _ = app.emit(SHELL_EVENT, ShellEvent::RequestsChanged { account });
                }
                AppEvent::RoomSeen { room } => {
                    let shell = Arc::clone(&app.state::<Arc<Shell>>());
                    tauri::async_runtime::spawn(async move { shell.app.room_seen(&room).await });
                }
                AppEvent::RoomUnreadChanged {
                    room,
                    count,
                    mentioned,
                    total: all,
                } => {
                    total = Some(all);
                    let _ = app.emit(
                        SHELL_EVENT,
                        ShellEvent::RoomUnreadChanged {
                            room,
                            count,
                            mentioned,
                            total: all,
                        },
                    );
                }
            }
        }
        if let Some(total) = total {
            crate::tray::show_unread(app, total);
        }
    }

    /// Routes one core event (see [`Shell::dispatch_all`]).
    pub fn dispatch(&self, app: &AppHandle, event: Event) {
        self.dispatch_all(app, std::iter::once(event));
    }

    /// Routes core events in order: messages to their chat views, the rest
    /// to all windows, and each to the app, whose decisions (unread
    /// counts, notifications) are shown at the end. A burst costs the
    /// windows one update per chat, not one per message: consecutive
    /// messages of a chat go to its views together (before the next other
    /// event), and unread counts go out once per chat at the end, with the
    /// count as it is then, with one title and tray update.
    pub fn dispatch_all(&self, app: &AppHandle, events: impl IntoIterator<Item = Event>) {
        let mut batch = Batch::default();
        let mut views = Views::default();
        for event in events {
            self.app.observe(&event, &mut batch);
            self.route(app, event, &mut views);
        }
        self.send_to_views(views.chats);
        self.send_to_room_views(views.rooms);
        self.show(app, self.app.conclude(batch));
    }

    fn route(&self, app: &AppHandle, event: Event, views: &mut Views) {
        match &event {
            Event::MessageAdded { message, .. } => {
                let update = ChatUpdate::Added {
                    message: message.clone(),
                };
                return self.to_views(message, update, &mut views.chats);
            }
            Event::MessageUpdated { message, .. } => {
                let update = ChatUpdate::Updated {
                    message: message.clone(),
                };
                return self.to_views(message, update, &mut views.chats);
            }
            Event::RoomMessageAdded { message, .. } => {
                let update = RoomUpdate::Added {
                    line: (**message).clone(),
                };
                return self.to_room_views(message, update, &mut views.rooms);
            }
            Event::RoomMessageUpdated { message, .. } => {
                let update = RoomUpdate::Updated {
                    line: (**message).clone(),
                };
                return self.to_room_views(message, update, &mut views.rooms);
            }
            _ => {}
        }
        // The windows see this event after the messages that came before it
        // (a chat state after a message must not be undone by it; a
        // subject or an occupant after the lines before it).
        self.send_to_views(std::mem::take(&mut views.chats));
        self.send_to_room_views(std::mem::take(&mut views.rooms));
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
