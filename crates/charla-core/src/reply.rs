//! Message replies (XEP-0461) with their fallback (XEP-0428).
//!
//! `<reply to='…' id='…'/>` names the message answered; a client that
//! knows no replies shows the body, whose start quotes it. That quote is
//! marked by `<fallback for='urn:xmpp:reply:0'><body start='…' end='…'/>`
//! (offsets in Unicode code points) and is cut from what Charla shows;
//! Charla writes one when it sends a reply.

use charla_store::ReplyRef;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

use crate::chat;
use crate::retraction::FALLBACK;

/// XEP-0461's namespace.
pub(crate) const NS: &str = "urn:xmpp:reply:0";

/// Lines of the target quoted in our fallback.
const QUOTED_LINES: usize = 3;

/// The reply `msg` carries and its body with the fallback quote cut, if
/// it is a reply. A fallback whose offsets do not fit the body is left.
pub(crate) fn parse(msg: &Message, body: &str) -> Option<(ReplyRef, String)> {
    let el = msg.payloads.iter().find(|p| p.is("reply", NS))?;
    let id = el.attr("id").filter(|id| chat::valid_id(id))?.to_owned();
    let to = el
        .attr("to")
        .filter(|to| to.len() <= 3 * 1024)
        .map(str::to_owned);
    let mut text = body.to_owned();
    let range = msg
        .payloads
        .iter()
        .find(|p| p.is("fallback", FALLBACK) && p.attr("for") == Some(NS))
        .and_then(|f| f.children().find(|c| c.name() == "body"))
        .and_then(|b| {
            let start: usize = b.attr("start")?.parse().ok()?;
            let end: usize = b.attr("end")?.parse().ok()?;
            (start <= end).then_some((start, end))
        });
    if let Some((start, end)) = range {
        let count = body.chars().count();
        if end <= count {
            let kept: String = body
                .chars()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= end)
                .map(|(_, c)| c)
                .collect();
            if !kept.trim().is_empty() {
                text = kept;
            }
        }
    }
    Some((ReplyRef { id, to }, text))
}

/// The body of our reply to a message saying `quoted`, and the payloads
/// that make it one: the quote (its first lines, each after `> `) ahead
/// of `text`, marked as the fallback.
pub(crate) fn build(reply: &ReplyRef, quoted: Option<&str>, text: &str) -> (String, Vec<Element>) {
    let quote: String = quoted
        .map(|q| {
            let mut lines: Vec<String> = q
                .lines()
                .take(QUOTED_LINES)
                .map(|l| format!("> {l}\n"))
                .collect();
            if q.lines().count() > QUOTED_LINES {
                lines.push("> …\n".to_owned());
            }
            lines.concat()
        })
        .unwrap_or_default();
    let mut el =
        Element::builder("reply", NS).attr(xml_ncname!("id").to_owned(), reply.id.as_str());
    if let Some(to) = &reply.to {
        el = el.attr(xml_ncname!("to").to_owned(), to.as_str());
    }
    let mut payloads = vec![el.build()];
    if !quote.is_empty() {
        payloads.push(
            Element::builder("fallback", FALLBACK)
                .attr(xml_ncname!("for").to_owned(), NS)
                .append(
                    Element::builder("body", FALLBACK)
                        .attr(xml_ncname!("start").to_owned(), "0")
                        .attr(
                            xml_ncname!("end").to_owned(),
                            quote.chars().count().to_string(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    (format!("{quote}{text}"), payloads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().expect("xml")).expect("message")
    }

    fn parsed(xml: &str) -> Option<(ReplyRef, String)> {
        let m = msg(xml);
        let body = chat::best_body(&m).unwrap_or_default();
        parse(&m, &body)
    }

    #[test]
    fn the_xeps_example_with_its_fallback_cut() {
        // XEP-0461's example, with a XEP-0428 fallback that covers the two
        // quoted lines and their line breaks (38 code points).
        let got = parsed(
            "<message to='anna@example.com' id='message-id2' type='chat' xmlns='jabber:client'>\
            <body>&gt; Anna wrote:\n&gt; We should bake a cake\nGreat idea!</body>\
            <reply to='anna@example.com/tablet' id='message-id1' xmlns='urn:xmpp:reply:0' />\
            <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>\
            <body start='0' end='38' /></fallback></message>",
        );
        let (r, text) = got.expect("reply");
        assert_eq!(r.id, "message-id1");
        assert_eq!(r.to.as_deref(), Some("anna@example.com/tablet"));
        assert_eq!(text, "Great idea!");
    }

    #[test]
    fn offsets_count_code_points_not_bytes() {
        let got = parsed("<message type='chat' xmlns='jabber:client'>\
            <body>&gt; ¿Qué tal? 😀\nbien</body>\
            <reply id='m1' xmlns='urn:xmpp:reply:0'/>\
            <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='14'/></fallback></message>");
        assert_eq!(got.map(|g| g.1).as_deref(), Some("bien"));
    }

    #[test]
    fn bad_offsets_leave_the_body_whole() {
        for (start, end) in [("0", "999"), ("5", "2"), ("x", "3"), ("-1", "3")] {
            let got = parsed(&format!(
                "<message type='chat' xmlns='jabber:client'><body>&gt; a\nb</body>\
                <reply id='m1' xmlns='urn:xmpp:reply:0'/>\
                <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='{start}' end='{end}'/></fallback></message>"
            ));
            assert_eq!(
                got.map(|g| g.1).as_deref(),
                Some("> a\nb"),
                "{start}..{end}"
            );
        }
        // A fallback for something else is not cut for a reply.
        let got = parsed("<message type='chat' xmlns='jabber:client'><body>&gt; a\nb</body>\
            <reply id='m1' xmlns='urn:xmpp:reply:0'/>\
            <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:other'><body start='0' end='4'/></fallback></message>");
        assert_eq!(got.map(|g| g.1).as_deref(), Some("> a\nb"));
    }

    #[test]
    fn no_id_no_reply() {
        assert_eq!(
            parsed("<message type='chat' xmlns='jabber:client'><body>x</body><reply xmlns='urn:xmpp:reply:0'/></message>"),
            None
        );
    }

    #[test]
    fn ours_quotes_and_marks_its_fallback() {
        let r = ReplyRef {
            id: "m1".into(),
            to: Some("bob@x".into()),
        };
        let (body, payloads) = build(&r, Some("¿vienes?\nmañana"), "sí");
        assert_eq!(body, "> ¿vienes?\n> mañana\nsí");
        let mut m = Message::chat(None).with_body(
            xmpp_parsers::message::Lang::from(String::new()),
            body.clone(),
        );
        m.payloads.extend(payloads);
        let (back, text) = parse(&m, &body).expect("reply");
        assert_eq!(back, r);
        assert_eq!(text, "sí");
    }
}
