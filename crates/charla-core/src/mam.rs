//! Catching up from our own server archive (XEP-0313, `urn:xmpp:mam:2`)
//! after every fresh bind, so that nothing sent while this device was
//! offline is lost, even when another of our devices took it live (and the
//! server kept no offline copy for us).
//!
//! Position: the store keeps, per account, the archive id of the newest
//! archived message we have (`mam_state`). It moves forward only with
//! committed archive pages (page rows and position in one transaction) and,
//! once caught up, with live messages that carry our server's stanza-id.
//!
//! First login (no position yet): we do not pull the whole archive. A
//! `<before/>` query with `max=1` asks for the newest archive id, which
//! becomes the baseline; an empty archive is recorded as "start at the
//! beginning" so that the next login fetches everything archived after the
//! first one.
//!
//! Trust: an archive result is only believed if it answers a query we
//! opened (its `queryid`) and comes from our own bare JID or from nobody
//! (our server). Anyone else can send `<result/>` messages and Prosody
//! passes them through (Dino CVE-2019-16237). The archived message's
//! `from`/`to` decide its direction, checked like carbons: our bare JID as
//! author means our own message to `to`; otherwise it must be addressed to
//! us and comes from `from`.

use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::mam::{Fin, Query, QueryId, Result_};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::rsm::SetQuery;

use crate::chat::{self, Incoming};

/// How many results we ask for per page (servers may send fewer; Prosody
/// caps at 50 by default). Paging always continues to completion.
pub(crate) const PAGE_SIZE: usize = 100;

/// Longest archive id we accept.
const MAX_ID_LEN: usize = 256;

/// What an archive query is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// First login: learn the newest archive id, store nothing.
    Baseline,
    /// Fetch everything after `after` (or from the archive's start, or from
    /// `start` when falling back to time after an expired id).
    CatchUp {
        after: Option<String>,
        start: Option<i64>,
    },
}

/// An archived message that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Archived {
    /// The archive id (our server's stanza-id for it).
    pub id: String,
    /// When it was archived (unix ms).
    pub time_ms: i64,
    /// The message, classified like a live one; for a chat message the
    /// stanza-id is the archive id and the time the archive's.
    pub incoming: Incoming,
}

/// Builds the query IQ (a `set` to our own account, no `to`).
pub(crate) fn query(iq_id: String, queryid: &str, purpose: &Purpose) -> Iq {
    let (form, set) = match purpose {
        Purpose::Baseline => (
            None,
            SetQuery {
                max: Some(1),
                after: None,
                before: Some(String::new()),
                index: None,
            },
        ),
        Purpose::CatchUp { after, start } => (
            start.and_then(start_form),
            SetQuery {
                max: Some(PAGE_SIZE),
                after: after.clone(),
                before: None,
                index: None,
            },
        ),
    };
    Iq::from_set(
        iq_id,
        Query {
            queryid: Some(QueryId(queryid.to_owned())),
            node: None,
            form,
            set: Some(set),
            flip_page: false,
        },
    )
}

/// Builds the query for older history of the conversation `with`: the
/// page before the archive id `before` (empty: the newest page), when
/// scrolling up past what is stored.
pub(crate) fn older_query(iq_id: String, queryid: &str, with: &BareJid, before: &str) -> Iq {
    Iq::from_set(
        iq_id,
        Query {
            queryid: Some(QueryId(queryid.to_owned())),
            node: None,
            form: Some(with_form(with)),
            set: Some(SetQuery {
                max: Some(PAGE_SIZE),
                after: None,
                before: Some(before.to_owned()),
                index: None,
            }),
            flip_page: false,
        },
    )
}

/// The `with` filter form: one conversation only.
fn with_form(with: &BareJid) -> DataForm {
    let mut field = Field::new("with", FieldType::JidSingle);
    field.values.push(with.to_string());
    DataForm::new(DataFormType::Submit, ns::MAM, vec![field])
}

/// The `start` filter form of a time-based query.
pub(crate) fn start_form(start_ms: i64) -> Option<DataForm> {
    let mut field = Field::new("start", FieldType::TextSingle);
    field.values.push(utc_stamp(start_ms)?);
    Some(DataForm::new(DataFormType::Submit, ns::MAM, vec![field]))
}

/// Formats unix ms as an XEP-0082 UTC timestamp, to the second (rounded
/// down, so that a `start` filter includes that second).
fn utc_stamp(ms: i64) -> Option<String> {
    if ms < 0 {
        return None;
    }
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Whether a message carries an archive result (and so must never be
/// read as a plain message, whatever `accept` says).
pub(crate) fn is_result(msg: &Message) -> bool {
    msg.payloads.iter().any(|p| p.is("result", ns::MAM))
}

/// Checks an archive result message. `open` is the queryid of our open
/// query, if any. Returns why it is refused otherwise.
pub(crate) fn accept(
    msg: &Message,
    own: &BareJid,
    open: Option<&str>,
) -> Result<Archived, &'static str> {
    let from_own_server = match &msg.from {
        None => true,
        Some(f) => f.resource().is_none() && f.to_bare() == *own,
    };
    if !from_own_server {
        return Err("archive result not from our own account");
    }
    let mut results = msg.payloads.iter().filter(|p| p.is("result", ns::MAM));
    let Some(el) = results.next() else {
        return Err("no archive result");
    };
    if results.next().is_some() {
        return Err("more than one archive result");
    }
    let result = Result_::try_from(el.clone()).map_err(|_| "malformed archive result")?;
    match (open, &result.queryid) {
        (Some(open), Some(q)) if q.0 == open => {}
        _ => return Err("archive result for no query of ours"),
    }
    if result.id.is_empty() || result.id.len() > MAX_ID_LEN {
        return Err("bad archive id");
    }
    let Some(delay) = &result.forwarded.delay else {
        return Err("archive result without delay");
    };
    let time_ms = delay.stamp.0.timestamp_millis();
    let inner = &result.forwarded.message;
    let outgoing = inner.from.as_ref().is_some_and(|f| f.to_bare() == *own);
    let mut incoming = if outgoing {
        chat::classify_sent(inner, own)
    } else {
        if inner.to.as_ref().is_some_and(|t| t.to_bare() != *own) {
            return Err("archived message addressed to someone else");
        }
        chat::classify(inner, own)
    };
    if let Incoming::Chat(c) = &mut incoming {
        c.stanza_id = Some(result.id.clone());
        c.delay_ms = Some(time_ms);
        // A requested receipt is still answered (the session does so for
        // catch-up rows only): this device got the message just now, and
        // if no other device was online the sender has no receipt yet.
    }
    Ok(Archived {
        id: result.id,
        time_ms,
        incoming,
    })
}

/// The end of a page: whether the query is complete and the last id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageEnd {
    pub complete: bool,
    pub last: Option<String>,
}

/// Reads the `<fin/>` of an IQ result.
pub(crate) fn fin(payload: Option<Element>) -> Option<PageEnd> {
    let fin = Fin::try_from(payload?).ok()?;
    Some(PageEnd {
        complete: fin.complete,
        last: fin
            .set
            .last
            .filter(|l| !l.is_empty() && l.len() <= MAX_ID_LEN),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_store::Direction;

    fn msg(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    fn own() -> BareJid {
        BareJid::new("alice@x").expect("jid")
    }

    const IN: &str =
        "<message xmlns='jabber:client' from='bob@x/phone' to='alice@x' type='chat' id='b1'>\
        <body>hi alice</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>\
        <request xmlns='urn:xmpp:receipts'/>\
        <delay xmlns='urn:xmpp:delay' stamp='1999-01-01T00:00:00Z'/></message>";
    const OUT: &str =
        "<message xmlns='jabber:client' from='alice@x/dev1' to='bob@x' type='chat' id='a1'>\
        <body>hi bob</body><origin-id xmlns='urn:xmpp:sid:0' id='o2'/></message>";

    fn result(from: Option<&str>, queryid: &str, id: &str, delay: bool, inner: &str) -> Message {
        let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
        let delay = if delay {
            "<delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>"
        } else {
            ""
        };
        msg(&format!(
            "<message xmlns='jabber:client'{from} to='alice@x/dev1'>\
            <result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='{id}'>\
            <forwarded xmlns='urn:xmpp:forward:0'>{delay}{inner}</forwarded></result></message>"
        ))
    }

    #[test]
    fn incoming_result_from_our_server_is_accepted() {
        for from in [None, Some("alice@x")] {
            let m = result(from, "q1", "A1", true, IN);
            assert!(is_result(&m));
            let a = accept(&m, &own(), Some("q1")).expect("accepted");
            assert_eq!(a.id, "A1");
            assert_eq!(a.time_ms, 1_767_323_045_000);
            let Incoming::Chat(c) = a.incoming else {
                panic!("not chat")
            };
            assert_eq!(c.direction, Direction::In);
            assert_eq!(c.peer.as_str(), "bob@x");
            assert_eq!(c.stanza_id.as_deref(), Some("A1"));
            assert_eq!(c.origin_id.as_deref(), Some("o1"));
            // The archive's time, not the sender's claim.
            assert_eq!(c.delay_ms, Some(1_767_323_045_000));
            assert!(c.wants_receipt, "the request is kept");
        }
    }

    #[test]
    fn our_own_archived_message_is_outgoing_to_its_recipient() {
        let a = accept(&result(None, "q1", "A2", true, OUT), &own(), Some("q1")).expect("ok");
        let Incoming::Chat(c) = a.incoming else {
            panic!("not chat")
        };
        assert_eq!(c.direction, Direction::Out);
        assert_eq!(c.peer.as_str(), "bob@x");
        assert_eq!(c.from.to_string(), "alice@x");
        assert_eq!(c.origin_id.as_deref(), Some("o2"));
    }

    #[test]
    fn results_from_anyone_else_are_refused() {
        for from in ["bob@x", "bob@x/r", "alice@x/dev2", "x", "alice@y"] {
            assert!(
                accept(
                    &result(Some(from), "q1", "A1", true, IN),
                    &own(),
                    Some("q1")
                )
                .is_err(),
                "{from}"
            );
        }
    }

    #[test]
    fn results_for_no_open_query_are_refused() {
        let m = result(None, "q1", "A1", true, IN);
        assert!(accept(&m, &own(), None).is_err());
        assert!(accept(&m, &own(), Some("q2")).is_err());
        let no_queryid = msg(&format!(
            "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='A1'>\
            <forwarded xmlns='urn:xmpp:forward:0'>\
            <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>{IN}</forwarded></result></message>"
        ));
        assert!(accept(&no_queryid, &own(), Some("q1")).is_err());
    }

    #[test]
    fn malformed_results_are_refused() {
        // No delay.
        assert!(accept(&result(None, "q1", "A1", false, IN), &own(), Some("q1")).is_err());
        // No id.
        assert!(accept(&result(None, "q1", "", true, IN), &own(), Some("q1")).is_err());
        // No forwarded message.
        let empty = msg("<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A1'/></message>");
        assert!(accept(&empty, &own(), Some("q1")).is_err());
        // Two results in one message.
        let two = msg(&format!(
            "<message xmlns='jabber:client'>\
            <result xmlns='urn:xmpp:mam:2' queryid='q1' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>\
            <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>{IN}</forwarded></result>\
            <result xmlns='urn:xmpp:mam:2' queryid='q1' id='A2'><forwarded xmlns='urn:xmpp:forward:0'>\
            <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>{IN}</forwarded></result></message>"
        ));
        assert!(accept(&two, &own(), Some("q1")).is_err());
    }

    #[test]
    fn archived_message_for_someone_else_or_forged_author_is_not_stored() {
        let not_ours = "<message xmlns='jabber:client' from='bob@x/r' to='carol@x' type='chat'><body>x</body></message>";
        assert!(accept(
            &result(None, "q1", "A1", true, not_ours),
            &own(),
            Some("q1")
        )
        .is_err());
        let self_to_self = "<message xmlns='jabber:client' from='alice@x/r' to='alice@x' type='chat'><body>x</body></message>";
        let a = accept(
            &result(None, "q1", "A1", true, self_to_self),
            &own(),
            Some("q1"),
        )
        .expect("well-formed");
        assert!(matches!(a.incoming, Incoming::Ignored(_)));
        let groupchat = "<message xmlns='jabber:client' from='room@muc/nick' to='alice@x' type='groupchat'><body>x</body></message>";
        let a = accept(
            &result(None, "q1", "A1", true, groupchat),
            &own(),
            Some("q1"),
        )
        .expect("well-formed");
        assert!(matches!(a.incoming, Incoming::Ignored(_)));
    }

    #[test]
    fn queries_and_fin() {
        let el: Element = query("i1".into(), "q1", &Purpose::Baseline).into();
        assert_eq!(el.attr("type"), Some("set"));
        assert_eq!(el.attr("to"), None);
        let q = el.get_child("query", ns::MAM).expect("query");
        assert_eq!(q.attr("queryid"), Some("q1"));
        let set = q.get_child("set", ns::RSM).expect("set");
        assert_eq!(
            set.get_child("max", ns::RSM).map(Element::text).as_deref(),
            Some("1")
        );
        assert!(set.get_child("before", ns::RSM).is_some());

        let el: Element = query(
            "i2".into(),
            "q2",
            &Purpose::CatchUp {
                after: Some("A9".into()),
                start: Some(1_767_323_045_000),
            },
        )
        .into();
        let q = el.get_child("query", ns::MAM).expect("query");
        let set = q.get_child("set", ns::RSM).expect("set");
        assert_eq!(
            set.get_child("after", ns::RSM)
                .map(Element::text)
                .as_deref(),
            Some("A9")
        );
        assert_eq!(
            set.get_child("max", ns::RSM).map(Element::text).as_deref(),
            Some("100")
        );
        let form = q.get_child("x", ns::DATA_FORMS).expect("form");
        let xml = String::from(form);
        assert!(xml.contains("2026-01-02T03:04:05Z"), "{xml}");
        assert_eq!(utc_stamp(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            utc_stamp(951_782_400_999).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(utc_stamp(-1), None);

        let done: Element = "<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first>A1</first><last>A5</last></set></fin>".parse().expect("xml");
        assert_eq!(
            fin(Some(done)),
            Some(PageEnd {
                complete: true,
                last: Some("A5".into())
            })
        );
        let more: Element = "<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><last>A7</last></set></fin>".parse().expect("xml");
        assert_eq!(fin(Some(more)).map(|f| f.complete), Some(false));
        assert_eq!(fin(None), None);
    }
}
