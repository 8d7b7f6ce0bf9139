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
        let loop_tx = tx.clone();
        let on_click = std::sync::Arc::new(on_click);
        std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || run(rx, loop_tx, on_click))
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

fn run(
    rx: mpsc::Receiver<Command>,
    tx: mpsc::Sender<Command>,
    on_click: std::sync::Arc<dyn Fn(ChatRef) + Send + Sync>,
) {
    let mut pending: HashMap<ChatRef, (Note, u32)> = HashMap::new();
    let mut shown: HashMap<ChatRef, Shown> = HashMap::new();
    let mut markup: Option<bool> = None;
    let mut last_flush = Instant::now();
    loop {
        let wait = FLUSH.saturating_sub(last_flush.elapsed());
        match rx.recv_timeout(if pending.is_empty() {
            Duration::from_secs(3600)
        } else {
            wait
        }) {
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
        let markup = *markup.get_or_insert_with(|| {
            notify_rust::get_capabilities()
                .map(|caps| caps.iter().any(|c| c == "body-markup"))
                .unwrap_or(false)
        });
        for (chat, (note, new)) in pending.drain() {
            let previous = shown.get(&chat);
            let count = previous.map_or(0, |s| s.count) + new;
            let title = if count > 1 {
                format!("{} ({count})", note.title)
            } else {
                note.title.clone()
            };
            let body = if markup {
                escape(&note.body)
            } else {
                note.body.clone()
            };
            let mut n = notify_rust::Notification::new();
            n.appname("Charla")
                .summary(&title)
                .body(&body)
                .icon("chat")
                .action("default", "Charla");
            if let Some(s) = previous {
                n.id(s.id);
            }
            match n.show() {
                Ok(handle) => {
                    let id = handle.id();
                    let first = previous.is_none();
                    shown.insert(chat.clone(), Shown { id, count });
                    if first {
                        // One waiter per notification id; replacements reuse the id.
                        let on_click = on_click.clone();
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            handle.wait_for_action(|action| {
                                if action == "default" {
                                    on_click(chat.clone());
                                }
                            });
                            let _ = tx.send(Command::Closed(chat, id));
                        });
                    }
                }
                Err(e) => eprintln!("charla: cannot show a notification: {e}"),
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
    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            super::escape("<img src=x onerror=alert(1)> & 'hi'"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;hi&#39;"
        );
    }
}
