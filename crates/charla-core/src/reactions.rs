//! Message reactions (XEP-0444): `<reactions id='…'><reaction>👍</reaction>…`
//! is the sender's whole set of reactions to a message, replacing their
//! earlier one (an empty set takes them all back).
//!
//! Hostile input: only emoji are taken (a "reaction" that is text or
//! markup is dropped, not shown), at most [`MAX_PER_SENDER`] of them, each
//! short; who may react (contacts, occupants) is the caller's check.

use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_id::OriginId;

use crate::chat;

/// XEP-0444's namespace.
pub(crate) const NS: &str = "urn:xmpp:reactions:0";

/// Most reactions taken from one sender for one message.
pub(crate) const MAX_PER_SENDER: usize = charla_store::MAX_REACTIONS;

/// Longest single reaction kept (bytes): the longest emoji sequences
/// (flags of subdivisions, families with skin tones) fit.
const MAX_EMOJI_BYTES: usize = 64;

/// `<reaction/>` children looked at, valid or not.
const MAX_CHILDREN: usize = 100;

/// A sender's reactions to message `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reactions {
    /// The id of the message reacted to.
    pub target: String,
    /// The emoji, distinct, in the order sent.
    pub emoji: Vec<String>,
}

/// The reactions `msg` carries, if any.
pub(crate) fn parse(msg: &Message) -> Option<Reactions> {
    let el = msg.payloads.iter().find(|p| p.is("reactions", NS))?;
    let target = el.attr("id").filter(|id| chat::valid_id(id))?.to_owned();
    let mut emoji: Vec<String> = Vec::new();
    for child in el.children().take(MAX_CHILDREN) {
        if !child.is("reaction", NS) || child.children().next().is_some() {
            continue;
        }
        let text = child.text();
        if is_emoji(&text) && !emoji.contains(&text) && emoji.len() < MAX_PER_SENDER {
            emoji.push(text);
        }
    }
    Some(Reactions { target, emoji })
}

/// Whether `s` is one emoji (or an emoji sequence: modifiers, joiners,
/// flags, keycaps) and nothing else.
pub fn is_emoji(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_EMOJI_BYTES {
        return false;
    }
    let keycap = s.contains('\u{20E3}');
    let mut pictographs = 0;
    for c in s.chars() {
        let u = c as u32;
        let pictograph = matches!(u,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
            | 0x2190..=0x21FF | 0x25A0..=0x25FF | 0x2900..=0x297F | 0x3030 | 0x303D
            | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x24C2);
        let joiner = matches!(u, 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F);
        let keycap_base = keycap && (c.is_ascii_digit() || c == '#' || c == '*');
        if pictograph || keycap_base {
            pictographs += 1;
        } else if !joiner {
            return false;
        }
    }
    pictographs > 0
}

/// Our reactions `emoji` to message `target`, in a chat with `to` (or the
/// room `to`, with `groupchat`), sent with id `id`. Stored by archives
/// (a store hint: it has no body).
pub(crate) fn react(to: Jid, groupchat: bool, target: &str, emoji: &[String], id: &str) -> Message {
    let mut msg = if groupchat {
        Message::groupchat(Some(to))
    } else {
        Message::chat(Some(to))
    };
    msg = msg.with_payload(OriginId { id: id.to_owned() });
    msg.id = Some(xmpp_parsers::message::Id(id.to_owned()));
    let mut el = Element::builder("reactions", NS).attr(xml_ncname!("id").to_owned(), target);
    for e in emoji {
        el = el.append(Element::builder("reaction", NS).append(e.as_str()).build());
    }
    msg.payloads.push(el.build());
    msg.payloads
        .push(Element::builder("store", crate::retraction::HINTS).build());
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().expect("xml")).expect("message")
    }

    #[test]
    fn the_xeps_example() {
        // XEP-0444 example 2.
        let m = msg("<message to='romeo@montague.lit' id='96d73204-a57a-11e9-88b8-4889e7820c76' type='chat' xmlns='jabber:client'>\
            <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'>\
            <reaction>👋</reaction><reaction>🐢</reaction></reactions>\
            <store xmlns='urn:xmpp:hints'/></message>");
        assert_eq!(
            parse(&m),
            Some(Reactions {
                target: "744f6e18-a57a-11e9-a656-4889e7820c76".into(),
                emoji: vec!["👋".into(), "🐢".into()]
            })
        );
    }

    #[test]
    fn an_empty_set_takes_reactions_back() {
        let m = msg("<message type='chat' xmlns='jabber:client'>\
            <reactions id='m1' xmlns='urn:xmpp:reactions:0'/></message>");
        assert_eq!(parse(&m).map(|r| r.emoji), Some(Vec::new()));
    }

    #[test]
    fn text_markup_and_floods_are_not_reactions() {
        let m = msg("<message type='chat' xmlns='jabber:client'>\
            <reactions id='m1' xmlns='urn:xmpp:reactions:0'>\
            <reaction>lol</reaction><reaction>👍 nice</reaction><reaction><b xmlns='x'>👍</b></reaction>\
            <reaction>&lt;img src=x&gt;</reaction><reaction></reaction><reaction>1</reaction>\
            <reaction>❤️</reaction><reaction>❤️</reaction><reaction>👍🏽</reaction><reaction>1️⃣</reaction>\
            <reaction>🇪🇸</reaction><reaction>👨‍👩‍👧</reaction></reactions></message>");
        assert_eq!(
            parse(&m).map(|r| r.emoji),
            Some(vec![
                "❤️".into(),
                "👍🏽".into(),
                "1️⃣".into(),
                "🇪🇸".into(),
                "👨‍👩‍👧".into()
            ])
        );
        // 500 emoji: at most MAX_PER_SENDER are kept.
        let many: String = (0..500)
            .map(|i| {
                format!(
                    "<reaction>{}</reaction>",
                    char::from_u32(0x1F600 + i % 80).unwrap_or('😀')
                )
            })
            .collect();
        let flood = msg(&format!(
            "<message type='chat' xmlns='jabber:client'><reactions id='m1' xmlns='urn:xmpp:reactions:0'>{many}</reactions></message>"
        ));
        let kept = parse(&flood).map(|r| r.emoji.len()).unwrap_or_default();
        assert!(kept > 0 && kept <= MAX_PER_SENDER, "{kept}");
    }

    #[test]
    fn ours_round_trips() {
        let el: Element = react(
            Jid::new("room@muc.x").expect("jid"),
            true,
            "s1",
            &["👍".into()],
            "r1",
        )
        .into();
        assert_eq!(el.attr("type"), Some("groupchat"));
        let back = Message::try_from(el).expect("message");
        assert_eq!(parse(&back).map(|r| r.emoji), Some(vec!["👍".to_owned()]));
    }
}
