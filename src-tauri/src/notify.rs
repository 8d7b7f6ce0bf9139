//! Desktop notifications (freedesktop, through notify-rust): the display of
//! what `charla_app` decides. At most one per chat is on screen, counting
//! the messages of a burst instead of showing one per message
//! (`charla_app::Coalescer`), and clicking one opens its chat.
//!
//! notify-rust is blocking, so notifications run on their own thread. New
//! messages are gathered and shown at most every [`FLUSH`]. A notification
//! is not updated in place: notify-rust sends each update
//! over a new D-Bus connection, and the server then reports the click to
//! that connection only, so the click on an updated notification would be
//! lost. A 2,000-message burst costs one or two D-Bus calls.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use charla_app::{ChatRef, Coalescer, Note};

/// How often pending notifications are shown or updated.
const FLUSH: Duration = Duration::from_millis(700);

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
    /// Shows a notification; returns its id. The server must later send
    /// [`Command::Closed`] for it.
    fn show(
        &mut self,
        chat: &ChatRef,
        title: &str,
        body: &str,
        image: Option<&std::path::Path>,
    ) -> Option<u32>;

    /// Everything taken so far (`taken` messages in all) is shown or held:
    /// nothing more shows until a message comes or a notification closes.
    fn settled(&mut self, taken: u64);
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
        image: Option<&std::path::Path>,
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
        if let Some(path) = image.and_then(|p| p.to_str()) {
            n.image_path(path);
        }
        let handle = match n.show() {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("charla: cannot show a notification: {e}");
                return None;
            }
        };
        let id = handle.id();
        // One waiter per notification, on the connection that showed it; it
        // ends when the notification is clicked, dismissed or expires.
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
        Some(id)
    }

    fn settled(&mut self, taken: u64) {
        // A settled fact for whoever reads the log (and the e2e tests).
        eprintln!("charla: notifications settled after {taken} messages");
    }
}

fn run(rx: mpsc::Receiver<Command>, mut server: impl Server) {
    let mut chats = Coalescer::default();
    let mut last_flush = Instant::now();
    // Messages taken, and how many of them were reported settled.
    let (mut taken, mut reported) = (0u64, 0u64);
    loop {
        let wait = if chats.showable() {
            FLUSH.saturating_sub(last_flush.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(wait) {
            Ok(Command::Message(note)) => {
                taken += 1;
                chats.message(note);
            }
            Ok(Command::Forget(chat)) => chats.dismiss(&chat),
            Ok(Command::Closed(chat, id)) => chats.closed(&chat, id),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if last_flush.elapsed() >= FLUSH {
            last_flush = Instant::now();
            chats.flush(|chat, title, body, image| server.show(chat, title, body, image));
        }
        if taken != reported && !chats.showable() {
            reported = taken;
            server.settled(taken);
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

    /// What the notification thread did.
    #[derive(Debug)]
    enum Seen {
        Shown(String, String, u32),
        Settled(u64),
    }

    /// Records what would have been shown; ids count up from 1.
    struct Recorder(mpsc::Sender<Seen>, u32);

    impl Server for Recorder {
        fn show(
            &mut self,
            _: &ChatRef,
            title: &str,
            body: &str,
            _: Option<&std::path::Path>,
        ) -> Option<u32> {
            self.1 += 1;
            let _ = self
                .0
                .send(Seen::Shown(title.to_owned(), body.to_owned(), self.1));
            Some(self.1)
        }

        fn settled(&mut self, taken: u64) {
            let _ = self.0.send(Seen::Settled(taken));
        }
    }

    fn chat(peer: &str) -> ChatRef {
        ChatRef {
            account: AccountId(1),
            peer: peer.into(),
        }
    }

    fn note(peer: &str, title: &str, body: &str) -> Command {
        Command::Message(Note {
            chat: chat(peer),
            room: false,
            title: title.into(),
            body: body.into(),
            image: None,
        })
    }

    fn next(seen: &mpsc::Receiver<Seen>) -> Seen {
        seen.recv_timeout(Duration::from_secs(10))
            .expect("the notification thread goes on")
    }

    /// The next shown notification, as (title, body, id); settled reports
    /// on the way are skipped.
    fn shown(seen: &mpsc::Receiver<Seen>) -> (String, String, u32) {
        loop {
            if let Seen::Shown(title, body, id) = next(seen) {
                return (title, body, id);
            }
        }
    }

    #[test]
    fn a_burst_gives_one_notification_per_chat_with_the_count() {
        let (tx, rx) = mpsc::channel();
        let (seen_tx, seen) = mpsc::channel();
        let thread = std::thread::spawn(move || run(rx, Recorder(seen_tx, 0)));
        for i in 1..=2000 {
            tx.send(note("bob@x", "Bob", &format!("message {i}")))
                .expect("send");
        }
        tx.send(note("carol@x", "Carol", "hi")).expect("send");
        let mut calls = [shown(&seen), shown(&seen)];
        calls.sort();
        // Everything came before the first flush: one notification per chat.
        assert_eq!(
            (calls[0].0.as_str(), calls[0].1.as_str()),
            ("Bob (2000)", "message 2000")
        );
        assert_eq!((calls[1].0.as_str(), calls[1].1.as_str()), ("Carol", "hi"));
        let bob_id = calls[0].2;
        assert!(matches!(next(&seen), Seen::Settled(2001)));
        // While Bob's is on screen, more messages are only counted: the
        // thread settles with nothing shown...
        tx.send(note("bob@x", "Bob", "later")).expect("send");
        assert!(matches!(next(&seen), Seen::Settled(2002)));
        // ...and shows them, with the count since the chat was last opened,
        // once it closes.
        tx.send(Command::Closed(chat("bob@x"), bob_id))
            .expect("send");
        let again = shown(&seen);
        assert_eq!(
            (again.0.as_str(), again.1.as_str()),
            ("Bob (2001)", "later")
        );
        // Opening the chat resets the count.
        tx.send(Command::Forget(chat("bob@x"))).expect("send");
        tx.send(Command::Closed(chat("bob@x"), again.2))
            .expect("send");
        tx.send(note("bob@x", "Bob", "fresh")).expect("send");
        let fresh = shown(&seen);
        assert_eq!((fresh.0.as_str(), fresh.1.as_str()), ("Bob", "fresh"));
        assert!(matches!(next(&seen), Seen::Settled(2003)));
        drop(tx);
        thread.join().expect("thread");
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            super::escape("<img src=x onerror=alert(1)> & 'hi'"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;hi&#39;"
        );
    }
}
