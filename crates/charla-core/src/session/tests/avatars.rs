//! Avatars (XEP-0084, XEP-0153): fetched from contacts only.

use super::{Harness, BOB, BOUND};

const HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4";

fn vcard_update(from: &str) -> String {
    format!(
        "<presence from='{from}' to='{BOUND}'><x xmlns='vcard-temp:x:update'><photo>{HASH}</photo></x></presence>"
    )
}

#[test]
fn a_contacts_photo_hash_is_fetched_once_from_their_vcard() {
    let mut h = Harness::online();
    h.contact(BOB);
    h.receive(&vcard_update(&format!("{BOB}/phone")));
    let request = h.request("vcard-temp");
    assert_eq!(request.attr("to"), Some(BOB));
    h.receive(&vcard_update(&format!("{BOB}/laptop")));
    assert_eq!(
        h.sent_named("iq").len(),
        1,
        "one fetch per hash: {:?}",
        h.sent_xml()
    );
}

#[test]
fn nothing_is_fetched_for_a_stranger() {
    let mut h = Harness::online();
    h.receive(&vcard_update("stranger@evil.example/x"));
    assert!(h.sent.is_empty(), "{:?}", h.sent_xml());
    h.receive(&format!(
        "<message from='stranger@evil.example' to='{BOUND}'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
           <items node='urn:xmpp:avatar:metadata'><item id='{HASH}'><metadata xmlns='urn:xmpp:avatar:metadata'>\
           <info id='{HASH}' bytes='100' type='image/png'/></metadata></item></items></event></message>"
    ));
    assert!(h.sent.is_empty(), "{:?}", h.sent_xml());
}
