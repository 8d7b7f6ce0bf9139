//! The shared ejabberd of a test binary ([`charla_tests::Ejabberd`]): it starts once, serves
//! both of its hosts over STARTTLS and direct TLS with the test CA, and its commands create
//! accounts and roster items. Run with `--nocapture` to see how long the start took.

use std::time::Duration;

use charla_tests::{Ejabberd, Flavor, RawClient, Server, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn one_instance_serves_every_test_with_its_own_accounts() {
    let first = Server::builder(Flavor::Ejabberd)
        .mutual_pair("alice", "bob")
        .start()
        .await
        .expect("ejabberd");
    let second = Server::builder(Flavor::Ejabberd)
        .allow_registration(true)
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("the same ejabberd");
    let shared = Ejabberd::shared().await.expect("shared");
    println!(
        "ejabberd {} ready in {:?} (ports {} and {})",
        shared.node(),
        shared.started_in(),
        shared.c2s_port(),
        shared.direct_tls_port()
    );
    assert_eq!(first.c2s_port(), second.c2s_port());
    // Each test's alice is her own account, on the host its registration setting chose.
    assert_ne!(first.jid("alice"), second.jid("alice"));
    assert!(first.jid("alice").ends_with("@charla.test"));
    assert!(second.jid("alice").ends_with("@open.charla.test"));
    assert!(first.account_exists("alice").await.expect("check"));
    assert!(!first.account_exists("carol").await.expect("check"));
    first.register("carol", "carol-pw").await.expect("register");
    assert!(first.account_exists("carol").await.expect("check"));
    assert!(matches!(
        first.register("carol", "other").await,
        Err(charla_tests::HarnessError::UserExists { .. })
    ));

    // The mutual pair sees each other: bob's presence reaches alice.
    let mut alice = RawClient::login(&first, "alice", "alice-pw", WAIT).await;
    alice
        .send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    let roster = alice.read_until("</iq>").await;
    assert!(roster.contains(&first.jid("bob")), "{roster}");
    assert!(roster.contains("subscription='both'"), "{roster}");
    alice.send("<presence/>").await;
    let mut bob = RawClient::login(&first, "bob", "bob-pw", WAIT).await;
    bob.send("<presence/>").await;
    alice.read_until(&format!("{}/raw", first.jid("bob"))).await;

    // The second test's alice logs in on the other host.
    RawClient::login(&second, "alice", "alice-pw", WAIT).await;
    // Both listeners answer with stream features; STARTTLS is required on the first.
    let features = second.stream_features().await.expect("features");
    assert!(features.contains("<required/>"), "{features}");
}
