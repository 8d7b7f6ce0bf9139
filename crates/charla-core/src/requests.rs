//! Message requests: how a message from a stranger (someone not in the
//! roster whom the user never wrote to) asks for the user's attention.
//! Like Signal's and WhatsApp's message requests, it is listed apart and,
//! by default, neither counted as unread nor notified on the desktop: a
//! stranger's text on screen could be phishing. The shell follows
//! [`attention`]; it decides nothing itself.

/// What an incoming message may do to get the user's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attention {
    /// It counts as unread (window title, tray, chat tab).
    pub unread: bool,
    /// It may show a desktop notification (other settings permitting).
    pub notify: bool,
}

/// The attention an incoming message gets: a contact's (or an answered
/// conversation's) counts and notifies; a stranger's counts only in the
/// message requests, and notifies only if the user chose
/// `notify_strangers` ("Notify me of messages from people not in my
/// contacts").
pub fn attention(stranger: bool, notify_strangers: bool) -> Attention {
    if stranger {
        Attention {
            unread: false,
            notify: notify_strangers,
        }
    } else {
        Attention {
            unread: true,
            notify: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_count_and_notify() {
        for notify_strangers in [false, true] {
            assert_eq!(
                attention(false, notify_strangers),
                Attention {
                    unread: true,
                    notify: true
                }
            );
        }
    }

    #[test]
    fn strangers_are_quiet_unless_the_user_asked() {
        assert_eq!(
            attention(true, false),
            Attention {
                unread: false,
                notify: false
            }
        );
        assert_eq!(
            attention(true, true),
            Attention {
                unread: false,
                notify: true
            }
        );
    }
}
