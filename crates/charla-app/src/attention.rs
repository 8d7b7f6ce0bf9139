//! Unread counts and the notification policy: which incoming message
//! counts as unread and which is notified. A message in the chat the user
//! looks at does neither; a stranger's follows `charla_core::attention`
//! (message requests); nothing is notified with notifications off or while
//! the account is set to do-not-disturb.

use std::collections::HashMap;

use charla_core::{AccountId, RosterEntry, Show};

use crate::rooms::RoomAttention;
use crate::types::{ChatRef, Quiet, Settings};

/// What an incoming message does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// It was counted as unread.
    pub counted: bool,
    /// It is notified, with this title (the contact's name), or not, and why.
    pub notify: Result<String, Quiet>,
}

/// The state the policy decides on.
#[derive(Debug, Default)]
pub struct Attention {
    unread: HashMap<ChatRef, u32>,
    focused: Option<ChatRef>,
    own_show: HashMap<AccountId, Show>,
    names: HashMap<(AccountId, String), String>,
    /// The rooms' own state (our nicks, mentions); their unread counts are
    /// kept with the chats'.
    pub rooms: RoomAttention,
}

impl Attention {
    /// A message came in to `chat`: counts and notifies it as the settings,
    /// the focus and our own presence say.
    pub fn incoming(&mut self, chat: &ChatRef, stranger: bool, settings: &Settings) -> Incoming {
        if self.focused.as_ref() == Some(chat) {
            return Incoming {
                counted: false,
                notify: Err(Quiet::ChatOpen),
            };
        }
        let attention = charla_core::attention(stranger, settings.notify_strangers);
        if attention.unread {
            *self.unread.entry(chat.clone()).or_insert(0) += 1;
        }
        let dnd = self.own_show.get(&chat.account) == Some(&Show::Dnd);
        let notify = if !settings.notifications {
            Err(Quiet::NotificationsOff)
        } else if dnd {
            Err(Quiet::DoNotDisturb)
        } else if !attention.notify {
            Err(Quiet::Stranger)
        } else {
            Ok(self.title(chat))
        };
        Incoming {
            counted: attention.unread,
            notify,
        }
    }

    /// The user now looks at `chat` (or nothing). Its unread count resets;
    /// whether it had any.
    pub fn focus(&mut self, chat: Option<ChatRef>) -> bool {
        self.focused = chat.clone();
        chat.is_some_and(|chat| {
            self.rooms.read(&chat);
            self.unread.remove(&chat).is_some()
        })
    }

    /// Whether the user looks at `chat` (or room).
    pub fn is_focused(&self, chat: &ChatRef) -> bool {
        self.focused.as_ref() == Some(chat)
    }

    /// Why nothing of `account` is notified now (notifications off,
    /// do-not-disturb), if so.
    pub fn silenced(&self, account: AccountId, settings: &Settings) -> Option<Quiet> {
        if !settings.notifications {
            Some(Quiet::NotificationsOff)
        } else if self.own_show.get(&account) == Some(&Show::Dnd) {
            Some(Quiet::DoNotDisturb)
        } else {
            None
        }
    }

    /// One more unread line in `room`.
    pub fn count_line(&mut self, room: &ChatRef) {
        *self.unread.entry(room.clone()).or_insert(0) += 1;
    }

    /// The chat's messages were deleted: whether it had unread ones.
    pub fn forget_chat(&mut self, chat: &ChatRef) -> bool {
        self.rooms.read(chat);
        self.unread.remove(chat).is_some()
    }

    /// The chat was read elsewhere: `left` of its unread messages (at most
    /// as many as it had) are still unread. Answers the new count, or
    /// `None` if it had none.
    pub fn read_elsewhere(&mut self, chat: &ChatRef, left: impl FnOnce(u32) -> u32) -> Option<u32> {
        let had = self.unread.get(chat).copied().filter(|n| *n > 0)?;
        let left = left(had).min(had);
        if left == 0 {
            self.unread.remove(chat);
        } else {
            self.unread.insert(chat.clone(), left);
        }
        Some(left)
    }

    /// The unread messages of `chat`.
    pub fn count(&self, chat: &ChatRef) -> u32 {
        self.unread.get(chat).copied().unwrap_or(0)
    }

    /// The unread messages of every chat.
    pub fn total(&self) -> u32 {
        self.unread.values().sum()
    }

    /// Our own availability on `account` (`None`: offline).
    pub fn set_own_show(&mut self, account: AccountId, show: Option<Show>) {
        match show {
            Some(show) => self.own_show.insert(account, show),
            None => self.own_show.remove(&account),
        };
    }

    /// Our own availability per connected account.
    pub fn own_shows(&self) -> HashMap<AccountId, Show> {
        self.own_show.clone()
    }

    /// Remembers the contacts' names, for notification titles.
    pub fn remember_names(&mut self, account: AccountId, contacts: &[RosterEntry]) {
        for c in contacts {
            let name = c.name.clone().unwrap_or_else(|| c.jid.clone());
            self.names.insert((account, c.jid.clone()), name);
        }
    }

    /// The whole roster of `account` is known: these are its contacts.
    pub fn roster_loaded(&mut self, account: AccountId, contacts: &[RosterEntry]) {
        self.names.retain(|(a, _), _| *a != account);
        self.remember_names(account, contacts);
    }

    /// `jid` left the roster of `account`.
    pub fn forget_name(&mut self, account: AccountId, jid: &str) {
        self.names.remove(&(account, jid.to_owned()));
    }

    /// Whether `jid` is in the roster of `account` (as the roster events
    /// told).
    pub fn is_contact(&self, account: AccountId, jid: &str) -> bool {
        self.names.contains_key(&(account, jid.to_owned()))
    }

    /// A notification's title for `chat`: the contact's name, else address.
    fn title(&self, chat: &ChatRef) -> String {
        self.names
            .get(&(chat.account, chat.peer.clone()))
            .cloned()
            .unwrap_or_else(|| chat.peer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_core::Subscription;

    fn chat(peer: &str) -> ChatRef {
        ChatRef {
            account: AccountId(1),
            peer: peer.into(),
        }
    }

    fn notified(title: &str) -> Incoming {
        Incoming {
            counted: true,
            notify: Ok(title.into()),
        }
    }

    #[test]
    fn a_contact_counts_and_notifies_with_their_name() {
        let mut attention = Attention::default();
        attention.remember_names(
            AccountId(1),
            &[RosterEntry {
                jid: "bob@x".into(),
                name: Some("Bob".into()),
                subscription: Subscription::Both,
                ask_pending: false,
                groups: Vec::new(),
            }],
        );
        let settings = Settings::default();
        assert_eq!(
            attention.incoming(&chat("bob@x"), false, &settings),
            notified("Bob")
        );
        assert_eq!(
            attention.incoming(&chat("carol@x"), false, &settings),
            notified("carol@x")
        );
        attention.incoming(&chat("bob@x"), false, &settings);
        assert_eq!((attention.count(&chat("bob@x")), attention.total()), (2, 3));
    }

    #[test]
    fn the_chat_in_view_neither_counts_nor_notifies() {
        let mut attention = Attention::default();
        let settings = Settings::default();
        attention.incoming(&chat("bob@x"), false, &settings);
        assert!(
            attention.focus(Some(chat("bob@x"))),
            "it had unread messages"
        );
        assert_eq!(attention.count(&chat("bob@x")), 0);
        let quiet = Incoming {
            counted: false,
            notify: Err(Quiet::ChatOpen),
        };
        assert_eq!(attention.incoming(&chat("bob@x"), false, &settings), quiet);
        // The window lost focus: it counts again.
        assert!(!attention.focus(None));
        assert_eq!(
            attention.incoming(&chat("bob@x"), false, &settings),
            notified("bob@x")
        );
    }

    #[test]
    fn do_not_disturb_and_the_setting_silence_but_still_count() {
        let mut attention = Attention::default();
        attention.set_own_show(AccountId(1), Some(Show::Dnd));
        let silent = |why| Incoming {
            counted: true,
            notify: Err(why),
        };
        let settings = Settings::default();
        assert_eq!(
            attention.incoming(&chat("bob@x"), false, &settings),
            silent(Quiet::DoNotDisturb)
        );
        attention.set_own_show(AccountId(1), Some(Show::Away));
        let off = Settings {
            notifications: false,
            ..Settings::default()
        };
        assert_eq!(
            attention.incoming(&chat("bob@x"), false, &off),
            silent(Quiet::NotificationsOff)
        );
        assert_eq!(
            attention.incoming(&chat("bob@x"), false, &settings),
            notified("bob@x")
        );
        assert_eq!(attention.total(), 3);
    }

    #[test]
    fn strangers_are_message_requests() {
        let mut attention = Attention::default();
        let quiet = Incoming {
            counted: false,
            notify: Err(Quiet::Stranger),
        };
        assert_eq!(
            attention.incoming(&chat("spam@x"), true, &Settings::default()),
            quiet
        );
        let asked = Settings {
            notify_strangers: true,
            ..Settings::default()
        };
        let notify_only = Incoming {
            counted: false,
            notify: Ok("spam@x".into()),
        };
        assert_eq!(
            attention.incoming(&chat("spam@x"), true, &asked),
            notify_only
        );
        assert_eq!(attention.total(), 0);
    }

    #[test]
    fn reading_elsewhere_leaves_only_what_is_newer() {
        let mut attention = Attention::default();
        assert_eq!(attention.read_elsewhere(&chat("bob@x"), |_| 0), None);
        for _ in 0..3 {
            attention.incoming(&chat("bob@x"), false, &Settings::default());
        }
        assert_eq!(attention.read_elsewhere(&chat("bob@x"), |_| 1), Some(1));
        // Never more than it had.
        assert_eq!(
            attention.read_elsewhere(&chat("bob@x"), |had| had + 5),
            Some(1)
        );
        assert_eq!(attention.read_elsewhere(&chat("bob@x"), |_| 0), Some(0));
        assert_eq!(attention.total(), 0);
        assert!(!attention.forget_chat(&chat("bob@x")));
    }
}
