//! Coalescing notifications: at most one per chat on screen. While a
//! chat's notification shows, later messages are only counted; once it
//! closes (expired or dismissed), one new notification "Name (N)" shows the
//! newest text, N being the messages since the user last read the chat.
//! The display (D-Bus, its timing) is the shell's.

use std::collections::HashMap;
use std::path::Path;

use crate::types::{ChatRef, Note};

/// What is known about one chat's notifications.
#[derive(Default)]
struct ChatNotes {
    /// The id of its notification on screen, if any.
    open: Option<u32>,
    /// Messages since the user last read the chat.
    unseen: u32,
    /// The newest message not shown yet.
    pending: Option<Note>,
}

/// The notifications of every chat.
#[derive(Default)]
pub struct Coalescer {
    chats: HashMap<ChatRef, ChatNotes>,
}

impl Coalescer {
    /// A message to notify ([`crate::AppEvent::Notify`]).
    pub fn message(&mut self, note: Note) {
        let notes = self.chats.entry(note.chat.clone()).or_default();
        notes.unseen += 1;
        notes.pending = Some(note);
    }

    /// The chat was read ([`crate::AppEvent::Dismiss`]): counting starts afresh.
    pub fn dismiss(&mut self, chat: &ChatRef) {
        if let Some(notes) = self.chats.get_mut(chat) {
            notes.unseen = 0;
            notes.pending = None;
        }
        self.tidy();
    }

    /// The notification `id` of `chat` closed.
    pub fn closed(&mut self, chat: &ChatRef, id: u32) {
        if let Some(notes) = self.chats.get_mut(chat) {
            if notes.open == Some(id) {
                notes.open = None;
            }
        }
        self.tidy();
    }

    /// Whether a notification waits to be shown.
    pub fn showable(&self) -> bool {
        self.chats
            .values()
            .any(|c| c.pending.is_some() && c.open.is_none())
    }

    /// Shows what waits, one per chat without one on screen: `show` gets
    /// the chat, title, body and image, and answers the id of the shown
    /// notification (`None` if it could not be shown).
    pub fn flush(
        &mut self,
        mut show: impl FnMut(&ChatRef, &str, &str, Option<&Path>) -> Option<u32>,
    ) {
        for (chat, notes) in self.chats.iter_mut() {
            if notes.open.is_some() {
                continue;
            }
            let Some(note) = notes.pending.take() else {
                continue;
            };
            let title = if notes.unseen > 1 {
                format!("{} ({})", note.title, notes.unseen)
            } else {
                note.title.clone()
            };
            notes.open = show(chat, &title, &note.body, note.image.as_deref());
        }
        self.tidy();
    }

    fn tidy(&mut self) {
        self.chats
            .retain(|_, c| c.open.is_some() || c.pending.is_some() || c.unseen > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_core::AccountId;

    fn chat(peer: &str) -> ChatRef {
        ChatRef {
            account: AccountId(1),
            peer: peer.into(),
        }
    }

    fn note(peer: &str, title: &str, body: &str) -> Note {
        Note {
            chat: chat(peer),
            room: false,
            title: title.into(),
            body: body.into(),
            image: None,
        }
    }

    /// Flushes, recording what was shown (ids count on from `next`).
    fn flush(c: &mut Coalescer, next: &mut u32) -> Vec<(String, String, u32)> {
        let mut shown = Vec::new();
        c.flush(|_, title, body, _| {
            *next += 1;
            shown.push((title.to_owned(), body.to_owned(), *next));
            Some(*next)
        });
        shown.sort();
        shown
    }

    #[test]
    fn a_burst_gives_one_notification_per_chat_with_the_count() {
        let (mut c, mut ids) = (Coalescer::default(), 0);
        for i in 1..=2000 {
            c.message(note("bob@x", "Bob", &format!("message {i}")));
        }
        c.message(note("carol@x", "Carol", "hi"));
        let shown = flush(&mut c, &mut ids);
        assert_eq!(shown.len(), 2);
        assert_eq!(
            (shown[0].0.as_str(), shown[0].1.as_str()),
            ("Bob (2000)", "message 2000")
        );
        assert_eq!((shown[1].0.as_str(), shown[1].1.as_str()), ("Carol", "hi"));
        let bob = shown[0].2;
        // While Bob's is on screen, more messages are only counted...
        c.message(note("bob@x", "Bob", "later"));
        assert!(!c.showable());
        assert!(flush(&mut c, &mut ids).is_empty());
        // ...and shown, with the count since the chat was last read, once it closes.
        c.closed(&chat("bob@x"), bob);
        assert!(c.showable());
        let again = flush(&mut c, &mut ids);
        assert_eq!(
            (again[0].0.as_str(), again[0].1.as_str()),
            ("Bob (2001)", "later")
        );
        // Reading the chat resets the count.
        c.dismiss(&chat("bob@x"));
        c.closed(&chat("bob@x"), again[0].2);
        c.message(note("bob@x", "Bob", "fresh"));
        let fresh = flush(&mut c, &mut ids);
        assert_eq!((fresh[0].0.as_str(), fresh[0].1.as_str()), ("Bob", "fresh"));
    }

    #[test]
    fn a_notification_that_could_not_show_does_not_block_the_next() {
        let mut c = Coalescer::default();
        c.message(note("bob@x", "Bob", "one"));
        c.flush(|_, _, _, _| None);
        c.message(note("bob@x", "Bob", "two"));
        let mut ids = 0;
        let shown = flush(&mut c, &mut ids);
        assert_eq!(shown[0].0, "Bob (2)");
    }
}
