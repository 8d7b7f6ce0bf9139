use super::*;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_xmpp::xmlstream::{
    initiate_stream, FallibleStreamElement, StreamElementError, StreamHeader, Timeouts,
    XmppStreamElement,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='h.test' id='s1'>";

fn small() -> Limits {
    Limits {
        depth: 8,
        attributes: 6,
        stanza_bytes: 4096,
        discard_bytes: 4 * 1024 * 1024,
    }
}

/// Feeds `input` in chunks of `chunk` bytes and returns what comes out,
/// or the error that ended it.
fn run(input: &[u8], chunk: usize, limits: Limits) -> Result<String, String> {
    let mut b = Bounded::with_limits((), limits);
    for part in input.chunks(chunk) {
        b.feed(part)?;
    }
    Ok(String::from_utf8(b.buf[..b.ready].to_vec()).expect("utf-8"))
}

fn nested(depth: usize) -> String {
    format!(
        "<message from='x@evil.test' type='headline'><x xmlns='urn:example'>{}{}</x></message>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

const NEXT: &str = "<message from='bob@h.test' type='chat'><body>hi</body></message>";

#[test]
fn normal_traffic_passes_unchanged_in_any_chunking() {
    let input = format!(
        "{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>\
         <iq type='result' id='a&amp;b'/> \n<presence from=\"a@h.test/r\"><show>away</show>\
         <status>a > b / c</status></presence><message><body><![CDATA[<not a tag>]]></body>\
         <x xmlns='urn:e' v='a/b>c'/></message></stream:stream>"
    );
    for chunk in [1, 2, 3, 7, 64, 10_000] {
        assert_eq!(
            run(input.as_bytes(), chunk, small()),
            Ok(input.clone()),
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_restarted_stream_gets_a_new_root() {
    let features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    for declaration in ["<?xml version='1.0'?>", ""] {
        let restarted = HEADER.replace("<?xml version='1.0'?>", declaration);
        let input = format!(
            "{HEADER}{features}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>\
             {restarted}{features}{}{NEXT}",
            nested(20)
        );
        for chunk in [1, 5, 4096] {
            assert_eq!(
                run(input.as_bytes(), chunk, small()),
                Ok(format!(
                    "{HEADER}{features}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>\
                     {restarted}{features}<message type='charla-dropped'/>{NEXT}"
                )),
                "declaration {declaration:?}, chunk {chunk}"
            );
        }
    }
}

#[test]
fn a_stanza_is_held_back_until_it_ends() {
    let mut b = Bounded::with_limits((), small());
    b.feed(HEADER.as_bytes()).unwrap();
    b.feed(b"<message><body>half").unwrap();
    assert_eq!(&b.buf[..b.ready], HEADER.as_bytes());
    b.feed(b"</body></message>").unwrap();
    assert!(b.buf[..b.ready].ends_with(b"</message>"));
}

#[test]
fn a_deep_stanza_becomes_an_invalid_one_of_its_kind() {
    for depth in [9, 1_000, 100_000] {
        let input = format!("{HEADER}{}{NEXT}", nested(depth));
        for chunk in [5, 4096] {
            let out = run(input.as_bytes(), chunk, small()).expect("survives");
            assert_eq!(
                out,
                format!("{HEADER}<message type='charla-dropped'/>{NEXT}"),
                "depth {depth}, chunk {chunk}"
            );
        }
    }
    // At the limit (the message is 1, x 2, seven <a> reach 9 > 8): 6 <a> pass.
    let ok = format!("{HEADER}{}", nested(6));
    assert_eq!(run(ok.as_bytes(), 3, small()), Ok(ok.clone()));
}

#[test]
fn presence_and_iq_over_a_limit_keep_their_kind() {
    let attrs: String = (0..10_000).map(|i| format!(" a{i}='v'")).collect();
    let input = format!(
        "{HEADER}<presence{attrs}/><iq type='get' id='1'>{}</iq>{NEXT}",
        {
            let d = nested(50);
            d.replace("message", "query")
        }
    );
    let out = run(input.as_bytes(), 100, small()).expect("survives");
    assert_eq!(
        out,
        format!("{HEADER}<presence type='charla-dropped'/><iq type='charla-dropped'/>{NEXT}")
    );
}

#[test]
fn a_large_stanza_is_dropped_and_the_next_one_arrives() {
    let body = "x".repeat(50_000);
    let input = format!("{HEADER}<message><body>{body}</body></message>{NEXT}");
    let out = run(input.as_bytes(), 1000, small()).expect("survives");
    assert_eq!(
        out,
        format!("{HEADER}<message type='charla-dropped'/>{NEXT}")
    );
}

#[test]
fn an_endless_stanza_ends_the_connection() {
    let mut b = Bounded::with_limits((), small());
    b.feed(HEADER.as_bytes()).unwrap();
    b.feed(b"<message><body>").unwrap();
    let chunk = [b'x'; 1024];
    let err = (0..10_000)
        .find_map(|_| b.feed(&chunk).err())
        .expect("gives up");
    assert!(err.contains("went on past"), "{err}");
}

#[test]
fn what_is_not_a_stanza_ends_the_connection_when_over_a_limit() {
    let deep_features = format!(
        "{HEADER}<stream:features>{}</stream:features>",
        "<a>".repeat(20)
    );
    assert!(run(deep_features.as_bytes(), 64, small()).is_err());
    let attrs: String = (0..100).map(|i| format!(" a{i}='v'")).collect();
    let header = format!("<stream:stream{attrs}>");
    assert!(run(header.as_bytes(), 64, small()).is_err());
}

#[test]
fn what_xmpp_forbids_ends_the_connection() {
    for bad in [
        "<message><!-- hi --></message>",
        "<message><?pi x?></message>",
        "<!DOCTYPE x>",
        "<message <x/>",
        "<message a=b/>",
        "<message a='<'/>",
    ] {
        let input = format!("{HEADER}{bad}");
        assert!(run(input.as_bytes(), 3, small()).is_err(), "{bad}");
    }
}

/// The replacement goes through tokio-xmpp as an invalid stanza, which its
/// stream management counts and discards, and the stream carries on.
#[tokio::test]
async fn tokio_xmpp_discards_the_replacement_and_reads_on() {
    let (ours, mut theirs) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        let mut header = [0u8; 512];
        let _ = theirs.read(&mut header).await;
        let mut input = format!("{HEADER}<stream:features/>{}", nested(1_000_000));
        let attrs: String = (0..10_000).map(|i| format!(" a{i}='v'")).collect();
        input.push_str(&format!("<message{attrs}/>{NEXT}"));
        theirs.write_all(input.as_bytes()).await.unwrap();
        theirs
    });
    let pending = initiate_stream(
        tokio::io::BufStream::new(Bounded::new(ours)),
        xmpp_parsers::ns::JABBER_CLIENT,
        StreamHeader::default(),
        Timeouts::default(),
    )
    .await
    .expect("stream");
    let (_, mut stream): (_, tokio_xmpp::xmlstream::XmppStream<_>) =
        pending.recv_features().await.expect("features");
    for _ in 0..2 {
        match stream.next().await {
            Some(Ok(FallibleStreamElement::Err(StreamElementError::InvalidStanza { .. }))) => {}
            other => panic!("expected a discarded stanza, got {other:?}"),
        }
    }
    match stream.next().await {
        Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(s)))) => {
            assert!(format!("{s:?}").contains("hi"))
        }
        other => panic!("expected bob's message, got {other:?}"),
    }
    drop(server);
}

/// A big roster (20,000 contacts, 1.4 MB) is one stanza, and passes.
#[test]
fn a_big_roster_passes_the_default_limits() {
    let items: String = (0..20_000)
        .map(|i| format!("<item jid='contact{i}@example.org' subscription='both' name='C {i}'/>"))
        .collect();
    let roster =
        format!("<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>{items}</query></iq>");
    assert!(roster.len() > 1024 * 1024, "{}", roster.len());
    let input = format!("{HEADER}{roster}");
    assert_eq!(run(input.as_bytes(), 16 * 1024, LIMITS), Ok(input.clone()));
}
