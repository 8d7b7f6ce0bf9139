//! Chat states (XEP-0085): whether a contact is typing in a chat with us,
//! and telling our contacts the same. Only the states travel; nothing is
//! stored.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xmpp_parsers::chatstates::ChatState as Xep0085;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::ns;

/// Where someone is in a conversation (XEP-0085 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChatState {
    /// Paying attention to the chat.
    Active,
    /// Typing a message.
    Composing,
    /// Stopped typing for a while, without sending.
    Paused,
    /// Not paying attention to the chat.
    Inactive,
    /// Left the chat.
    Gone,
}

impl ChatState {
    fn from_xep(state: &Xep0085) -> ChatState {
        match state {
            Xep0085::Active => ChatState::Active,
            Xep0085::Composing => ChatState::Composing,
            Xep0085::Paused => ChatState::Paused,
            Xep0085::Inactive => ChatState::Inactive,
            Xep0085::Gone => ChatState::Gone,
        }
    }

    pub(crate) fn to_xep(self) -> Xep0085 {
        match self {
            ChatState::Active => Xep0085::Active,
            ChatState::Composing => Xep0085::Composing,
            ChatState::Paused => Xep0085::Paused,
            ChatState::Inactive => Xep0085::Inactive,
            ChatState::Gone => Xep0085::Gone,
        }
    }
}

/// The chat state a message carries, if any.
pub(crate) fn of(msg: &Message) -> Option<ChatState> {
    msg.payloads
        .iter()
        .filter(|p| p.ns() == ns::CHATSTATES)
        .find_map(|p| Xep0085::try_from(p.clone()).ok())
        .map(|s| ChatState::from_xep(&s))
}

/// A message that only tells `to` our chat state.
pub(crate) fn standalone(to: &BareJid, state: ChatState) -> Message {
    Message::chat(Some(Jid::from(to.clone()))).with_payload(state.to_xep())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::minidom::Element;

    #[test]
    fn states_are_read_and_written() {
        let el: Element = "<message xmlns='jabber:client' from='bob@x/r' type='chat'>\
            <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            .parse()
            .expect("xml");
        let msg = Message::try_from(el).expect("message");
        assert_eq!(of(&msg), Some(ChatState::Composing));
        let out: Element =
            standalone(&BareJid::new("bob@x").expect("jid"), ChatState::Paused).into();
        assert!(out.has_child("paused", ns::CHATSTATES));
        assert!(!out.has_child("body", ns::DEFAULT_NS));
        let plain: Element = "<message xmlns='jabber:client' type='chat'><body>hi</body></message>"
            .parse()
            .expect("xml");
        assert_eq!(of(&Message::try_from(plain).expect("message")), None);
    }
}
