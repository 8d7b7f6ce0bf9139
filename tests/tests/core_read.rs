//! Read state across one's own devices against real servers (Prosody and ejabberd): reading a chat on one device
//! (it sends a XEP-0333 displayed marker) tells the other, through the carbon copy of that
//! marker (XEP-0280), which messages were read there.

use std::time::Duration;

use charla_core::Event;
use charla_tests::{both_servers, Device, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

async fn reading_on_one_device_marks_the_chat_read_on_the_other(flavor: Flavor) {
    let server = Server::builder(flavor)
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("server");
    let (alice_owned, bob_owned) = (server.jid("alice"), server.jid("bob"));
    let (alice_jid, bob_jid) = (alice_owned.as_str(), bob_owned.as_str());
    let mut laptop = Device::online(&server, "alice", WAIT).await;
    let mut phone = Device::online(&server, "alice", WAIT).await;
    let mut bob = RawClient::login(&server, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;
    for (id, body) in [("b1", "first"), ("b2", "second")] {
        bob.send(&format!(
            "<message type='chat' to='{alice_jid}' id='{id}'><body>{body}</body>\
             <markable xmlns='urn:xmpp:chat-markers:0'/></message>"
        ))
        .await;
    }
    let mut on_laptop = Vec::new();
    while on_laptop.len() < 2 {
        on_laptop.push(laptop.added("bob's messages on the laptop").await);
    }
    let mut on_phone = Vec::new();
    while on_phone.len() < 2 {
        on_phone.push(phone.added("bob's messages on the phone").await);
    }

    // Read on the phone up to the first message only.
    phone
        .core
        .mark_displayed(phone.account, bob_jid, on_phone[0].id)
        .await
        .expect("marker");
    bob.read_until("chat-markers").await;
    let read = laptop
        .wait_for("read elsewhere", |e| matches!(e, Event::ChatRead { .. }))
        .await;
    let Event::ChatRead { peer, up_to, .. } = read else {
        unreachable!()
    };
    assert_eq!(peer, bob_jid);
    assert_eq!(
        up_to, on_laptop[0].id,
        "the laptop's own row for the same message"
    );
    assert_eq!(
        laptop
            .core
            .incoming_after(laptop.account, bob_jid, up_to)
            .expect("count"),
        1,
        "the second message is still unread"
    );
}

both_servers!(reading_on_one_device_marks_the_chat_read_on_the_other,);
