//! Idle and last seen against real servers (Prosody and ejabberd): an idle account shows away with a XEP-0319 idle
//! stamp and comes back as chosen; an offline contact's last activity (XEP-0012) is answered by
//! their server, and not to someone who is not subscribed.

use std::time::Duration;

use charla_core::idle::AutoPresence;
use charla_core::Show;
use charla_tests::{both_servers, Device, Flavor, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

async fn online(server: &Server, user: &str) -> Device {
    Device::online(server, user, WAIT).await
}

async fn an_idle_account_is_away_since_then_and_comes_back_as_chosen(flavor: Flavor) {
    let server = Server::builder(flavor)
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("server");
    let alice_owned = server.jid("alice");
    let alice_jid = alice_owned.as_str();
    let mut bob = online(&server, "bob").await;
    let alice = online(&server, "alice").await;
    bob.presence_of(alice_jid, |p| p.is_some()).await;

    alice
        .core
        .set_presence(alice.account, Show::Available, Some("Writing".into()))
        .await
        .expect("presence");
    let seen = bob
        .presence_of(alice_jid, |p| {
            p.as_ref()
                .is_some_and(|p| p.status.as_deref() == Some("Writing"))
        })
        .await
        .expect("online");
    assert_eq!((seen.show, seen.idle_since), (Show::Available, None));

    // Idle for five minutes: away, the chosen status kept, idle since then.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let since = now - 5 * 60 * 1000;
    let auto = AutoPresence {
        show: Show::Away,
        since,
    };
    alice
        .core
        .set_auto_presence(alice.account, Some(auto))
        .await;
    let seen = bob
        .presence_of(alice_jid, |p| {
            p.as_ref().is_some_and(|p| p.show == Show::Away)
        })
        .await
        .expect("online");
    assert_eq!(seen.status.as_deref(), Some("Writing"));
    let idle = seen.idle_since.expect("an idle stamp");
    assert!(
        (idle - since).abs() < 1000,
        "idle since {idle}, set {since}"
    );

    // Later: extended away, still idle since the same moment.
    let later = AutoPresence {
        show: Show::Xa,
        since: since + 60_000,
    };
    alice
        .core
        .set_auto_presence(alice.account, Some(later))
        .await;
    let seen = bob
        .presence_of(alice_jid, |p| {
            p.as_ref().is_some_and(|p| p.show == Show::Xa)
        })
        .await
        .expect("online");
    assert!((seen.idle_since.expect("idle") - since).abs() < 1000);

    // Back at the desktop: the chosen presence again, no idle stamp.
    alice.core.set_auto_presence(alice.account, None).await;
    let seen = bob
        .presence_of(alice_jid, |p| {
            p.as_ref().is_some_and(|p| p.show == Show::Available)
        })
        .await
        .expect("online");
    assert_eq!(seen.idle_since, None);
    assert_eq!(seen.status.as_deref(), Some("Writing"));
}

async fn last_seen_is_told_to_contacts_only(flavor: Flavor) {
    let server = Server::builder(flavor)
        .mutual_pair("alice", "bob")
        .user("mallory", "mallory-pw")
        .start()
        .await
        .expect("server");
    let alice_owned = server.jid("alice");
    let alice_jid = alice_owned.as_str();
    let mut bob = online(&server, "bob").await;
    let mallory = online(&server, "mallory").await;
    let mut alice = online(&server, "alice").await;
    bob.presence_of(alice_jid, |p| p.is_some()).await;

    alice.logout().await;
    bob.presence_of(alice_jid, |p| p.is_none()).await;
    // The server counts whole seconds; let at least one go by.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let seconds = bob
        .core
        .last_activity(bob.account, alice_jid)
        .await
        .expect("answer")
        .expect("known");
    assert!(seconds >= 2, "last seen {seconds} s ago");
    assert!(seconds < 600, "last seen {seconds} s ago");

    // Not subscribed to alice: her server does not tell.
    let told = mallory
        .core
        .last_activity(mallory.account, alice_jid)
        .await
        .expect("answer");
    assert_eq!(told, None);

    // Not a JID: refused before any network I/O.
    let bad = bob.core.last_activity(bob.account, "not a jid@").await;
    assert!(bad.is_err());
}

both_servers!(
    an_idle_account_is_away_since_then_and_comes_back_as_chosen,
    last_seen_is_told_to_contacts_only,
);
