//! Desktop notifications (freedesktop, through notify-rust): at most one per
//! chat, replaced and counted during a burst instead of one per message,
//! and clicking one opens its chat.
//!
//! notify-rust is blocking, so notifications run on their own thread. New
//! messages are gathered and shown at most every [`FLUSH`]: a 2,000-message
//! burst costs a handful of D-Bus calls, not 2,000.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::types::ChatRef;

/// How often pending notifications are shown or updated.
const FLUSH: Duration = Duration::from_millis(700);

/// One new message to notify about.
#[derive(Debug, Clone)]
pub struct Note {
    /// Its conversation.
    pub chat: ChatRef,
    /// The contact's display name.
    pub title: String,
    /// The message text (plain text; escaped here if the server reads markup).
    pub body: String,
}

enum Command {
    Message(Note),
    Forget(ChatRef),
    Closed(ChatRef, u32),
}

/// Handle to the notification thread.
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Command>,
}

struct Shown {
    id: u32,
    count: u32,
}

impl Notifier {
    /// Starts the thread; `on_click` runs when a notification is clicked.
    pub fn start(on_click: impl Fn(ChatRef) + Send + Sync + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        let server = Freedesktop {
            tx: tx.clone(),
            on_click: std::sync::Arc::new(on_click),
            markup: None,
        };
        std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || run(rx, server))
            .expect("spawning the notification thread");
        Self { tx }
    }

    /// Queues a notification for a new message.
    pub fn message(&self, note: Note) {
        let _ = self.tx.send(Command::Message(note));
    }

    /// The user opened the chat: start counting afresh.
    pub fn forget(&self, chat: ChatRef) {
        let _ = self.tx.send(Command::Forget(chat));
    }
}

/// Where notifications are shown.
trait Server {
    /// Shows (or, with `replaces`, updates) a notification; returns its id.
    fn show(
        &mut self,
        chat: &ChatRef,
        title: &str,
        body: &str,
        replaces: Option<u32>,
    ) -> Option<u32>;
}

/// The desktop's notification server over D-Bus.
struct Freedesktop {
    tx: mpsc::Sender<Command>,
    on_click: std::sync::Arc<dyn Fn(ChatRef) + Send + Sync>,
    /// Whether the server reads markup in bodies (asked once).
    markup: Option<bool>,
}

impl Server for Freedesktop {
    fn show(
        &mut self,
        chat: &ChatRef,
        title: &str,
        body: &str,
        replaces: Option<u32>,
    ) -> Option<u32> {
        let markup = *self.markup.get_or_insert_with(|| {
            notify_rust::get_capabilities()
                .map(|caps| caps.iter().any(|c| c == "body-markup"))
                .unwrap_or(false)
        });
        let body = if markup {
            escape(body)
        } else {
            body.to_owned()
        };
        let mut n = notify_rust::Notification::new();
        n.appname("Charla")
            .summary(title)
            .body(&body)
            .icon("chat")
            .action("default", "Charla");
        if let Some(id) = replaces {
            n.id(id);
        }
        let handle = match n.show() {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("charla: cannot show a notification: {e}");
                return None;
            }
        };
        let id = handle.id();
        if replaces.is_none() {
            // One waiter per notification id; replacements reuse the id.
            let on_click = self.on_click.clone();
            let tx = self.tx.clone();
            let chat = chat.clone();
            std::thread::spawn(move || {
                handle.wait_for_action(|action| {
                    if action == "default" {
                        on_click(chat.clone());
                    }
                });
                let _ = tx.send(Command::Closed(chat, id));
            });
        }
        Some(id)
    }
}

fn run(rx: mpsc::Receiver<Command>, mut server: impl Server) {
    let mut pending: HashMap<ChatRef, (Note, u32)> = HashMap::new();
    let mut shown: HashMap<ChatRef, Shown> = HashMap::new();
    let mut last_flush = Instant::now();
    loop {
        let wait = if pending.is_empty() {
            Duration::from_secs(3600)
        } else {
            FLUSH.saturating_sub(last_flush.elapsed())
        };
        match rx.recv_timeout(wait) {
            Ok(Command::Message(note)) => {
                let entry = pending
                    .entry(note.chat.clone())
                    .or_insert((note.clone(), 0));
                entry.0 = note;
                entry.1 += 1;
            }
            Ok(Command::Forget(chat)) => {
                pending.remove(&chat);
                shown.remove(&chat);
            }
            Ok(Command::Closed(chat, id)) => {
                if shown.get(&chat).is_some_and(|s| s.id == id) {
                    shown.remove(&chat);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if pending.is_empty() || last_flush.elapsed() < FLUSH {
            continue;
        }
        last_flush = Instant::now();
        for (chat, (note, new)) in pending.drain() {
            let previous = shown.get(&chat).map(|s| (s.id, s.count));
            let count = previous.map_or(0, |(_, c)| c) + new;
            let title = if count > 1 {
                format!("{} ({count})", note.title)
            } else {
                note.title.clone()
            };
            if let Some(id) = server.show(&chat, &title, &note.body, previous.map(|(id, _)| id)) {
                shown.insert(chat, Shown { id, count });
            }
        }
    }
}

/// Escapes text for servers that interpret body markup, so that a message
/// is always shown as the literal text it is.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_core::AccountId;

    /// Records what would have been shown.
    struct Recorder(mpsc::Sender<(String, String, Option<u32>)>);

    impl Server for Recorder {
        fn show(
            &mut self,
            _: &ChatRef,
            title: &str,
            body: &str,
            replaces: Option<u32>,
        ) -> Option<u32> {
            let _ = self.0.send((title.to_owned(), body.to_owned(), replaces));
            Some(replaces.unwrap_or(7))
        }
    }

    #[test]
    fn a_burst_gives_one_notification_per_chat_updated_with_the_count() {
        let (tx, rx) = mpsc::channel();
        let (shown_tx, shown) = mpsc::channel();
        let thread = std::thread::spawn(move || run(rx, Recorder(shown_tx)));
        let chat = |peer: &str| ChatRef {
            account: AccountId(1),
            peer: peer.into(),
        };
        for i in 1..=2000 {
            tx.send(Command::Message(Note {
                chat: chat("bob@x"),
                title: "Bob".into(),
                body: format!("message {i}"),
            }))
            .expect("send");
        }
        tx.send(Command::Message(Note {
            chat: chat("carol@x"),
            title: "Carol".into(),
            body: "hi".into(),
        }))
        .expect("send");
        // Collect until both chats are up to date (or give up after 10 s).
        let mut calls = Vec::new();
        while !(calls
            .iter()
            .any(|c: &(String, String, Option<u32>)| c.0 == "Bob (2000)")
            && calls.iter().any(|c| c.0 == "Carol"))
        {
            calls.push(
                shown
                    .recv_timeout(Duration::from_secs(10))
                    .expect("a notification"),
            );
        }
        drop(tx);
        thread.join().expect("thread");
        calls.extend(shown.try_iter());
        let bob: Vec<_> = calls.iter().filter(|c| c.0.starts_with("Bob")).collect();
        let carol: Vec<_> = calls.iter().filter(|c| c.0.starts_with("Carol")).collect();
        assert!(
            !bob.is_empty() && bob.len() <= 3,
            "{} calls for bob",
            bob.len()
        );
        let last = bob.last().expect("bob shown");
        assert_eq!(last.0, "Bob (2000)");
        assert_eq!(last.1, "message 2000");
        // Updates replace the first notification.
        assert!(bob.iter().skip(1).all(|c| c.2 == Some(7)));
        assert_eq!(carol.len(), 1);
        assert_eq!(carol[0].0, "Carol");
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            super::escape("<img src=x onerror=alert(1)> & 'hi'"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;hi&#39;"
        );
    }
}
