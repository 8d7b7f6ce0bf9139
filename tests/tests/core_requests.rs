//! Message requests through real Prosody: a stranger's messages are marked as such on the
//! event (the shell neither counts nor notifies them), listed as requests, and can be deleted
//! or blocked; Prosody 0.12 does not advertise XEP-0377, so "block and report" is a plain block
//! there and is not offered.

use std::time::Duration;

use charla_core::Event;
use charla_tests::{options, Device, RawClient, TestServer};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_strangers_chat_is_a_request_until_answered_deleted_or_blocked() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("mallory", "mallory-pw")
        .user("eve", "eve-pw")
        .mutual("alice", "bob", None)
        .start()
        .await
        .expect("prosody");
    let mut alice = Device::new(&server, "alice", WAIT);
    alice.login(options(&server, "alice-pw", None)).await;
    let mut mallory = RawClient::login(&server, "mallory", "mallory-pw", WAIT).await;
    let mut eve = RawClient::login(&server, "eve", "eve-pw", WAIT).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;

    // Prosody 0.12 does not advertise urn:xmpp:reporting:1 on its disco#info.
    assert!(!alice.core.can_report(alice.account));

    for n in 0..3 {
        mallory
            .send(&format!(
                "<message type='chat' to='alice@charla.test'><body>buy {n}</body></message>"
            ))
            .await;
    }
    eve.send("<message type='chat' to='alice@charla.test'><body>hi, it is eve</body></message>")
        .await;
    // A contact's burst (read and committed together): none of it is a stranger's.
    bob.send(
        "<message type='chat' to='alice@charla.test'><body>bob 1</body></message>\
         <message type='chat' to='alice@charla.test'><body>bob 2</body></message>\
         <message type='chat' to='alice@charla.test'><body>bob 3</body></message>",
    )
    .await;
    let mut seen = Vec::new();
    while seen.len() < 7 {
        let event = alice
            .wait_for("seven messages", |e| {
                matches!(e, Event::MessageAdded { .. })
            })
            .await;
        if let Event::MessageAdded {
            message, stranger, ..
        } = event
        {
            seen.push((message.peer, stranger));
        }
    }
    for (peer, stranger) in &seen {
        assert_eq!(*stranger, peer != "bob@charla.test", "{peer}");
    }
    assert!(alice
        .core
        .is_stranger(alice.account, "mallory@charla.test")
        .expect("stranger"));
    assert!(!alice
        .core
        .is_stranger(alice.account, "bob@charla.test")
        .expect("contact"));

    let requests = alice
        .core
        .message_requests(alice.account)
        .expect("requests");
    // Newest first; the two strangers' messages reach alice in any order.
    assert!(requests.windows(2).all(|w| w[0].last.id > w[1].last.id));
    let mut summary: Vec<(&str, u32)> = requests
        .iter()
        .map(|r| (r.peer.as_str(), r.count))
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [("eve@charla.test", 1), ("mallory@charla.test", 3)]
    );

    // Answering eve makes hers an ordinary chat: her next message is no request.
    alice
        .core
        .send_message(alice.account, "eve@charla.test", "hello eve")
        .await
        .expect("send");
    eve.send("<message type='chat' to='alice@charla.test'><body>thanks</body></message>")
        .await;
    let event = alice
        .wait_for(
            "eve's answer",
            |e| matches!(e, Event::MessageAdded { message, .. } if message.body == "thanks"),
        )
        .await;
    assert!(matches!(
        event,
        Event::MessageAdded {
            stranger: false,
            ..
        }
    ));
    let peers: Vec<String> = alice
        .core
        .message_requests(alice.account)
        .expect("requests")
        .into_iter()
        .map(|r| r.peer)
        .collect();
    assert_eq!(peers, ["mallory@charla.test"]);

    // Block (the report is not sent where it is not advertised), then delete.
    alice
        .core
        .block_and_report(alice.account, "mallory@charla.test")
        .await
        .expect("block");
    let blocked = alice.core.blocked(alice.account).await.expect("block list");
    assert_eq!(blocked, ["mallory@charla.test"]);
    assert_eq!(
        alice
            .core
            .delete_conversation(alice.account, "mallory@charla.test")
            .expect("delete"),
        3
    );
    assert!(alice
        .core
        .history(alice.account, "mallory@charla.test", None, 100)
        .expect("history")
        .is_empty());
    assert!(alice
        .core
        .message_requests(alice.account)
        .expect("requests")
        .is_empty());
    // Blocked: the server drops what mallory sends now.
    mallory
        .send("<message type='chat' to='alice@charla.test'><body>still here</body></message>")
        .await;
    // Once the server answered mallory's ping it has handled her message: dropped it, or
    // routed it to alice before answering her own ping.
    assert!(mallory.alive().await);
    let later = alice.settled_added().await;
    assert!(!later.contains(&"still here".to_owned()), "{later:?}");
}
