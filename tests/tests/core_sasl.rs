//! How Charla logs in (issue 14, item 2): SCRAM whenever the server offers it, over STARTTLS
//! and direct TLS, asserted both from Charla's side and from the server's own log; PLAIN only
//! on a server that offers nothing else; and a server that drops to PLAIN after SCRAM has
//! worked for the account is refused before the password goes out.
//!
//! Prosody 0.12 with `internal_hashed` storage (as the harness runs it) offers `SCRAM-SHA-1`
//! and `PLAIN`, and no `-PLUS` variant on TLS 1.3 (it binds only tls-unique, which TLS 1.3
//! lacks), so Charla uses `SCRAM-SHA-1` with the GS2 flag `y` (it could bind; the server
//! cannot). Before issue 14 it used PLAIN there, because it asked for `-PLUS` names the
//! server had not offered.

use std::time::Duration;

use charla_core::{ErrorCode, ServerAddress};
use charla_tests::{options, Device, TestServer};

const WAIT: Duration = Duration::from_secs(30);

async fn server(plain_only: bool) -> TestServer {
    let mut builder = TestServer::builder()
        .user("alice", "alice-pw")
        .debug_log(true);
    if plain_only {
        builder = builder
            .allow_plain(true)
            .host_config("disable_sasl_mechanisms = { \"SCRAM-SHA-1\", \"SCRAM-SHA-256\" }");
    }
    builder.start().await.expect("prosody")
}

/// The mechanisms of every `<auth/>` Prosody received, from its debug log.
fn auths_in_log(server: &TestServer) -> Vec<String> {
    let log = std::fs::read_to_string(server.log_path()).expect("log");
    log.match_indices("<auth ")
        .filter_map(|(at, _)| {
            let rest = &log[at..];
            let start = rest.find("mechanism=")? + "mechanism=".len() + 1;
            let end = start + rest[start..].find(['\'', '"'])?;
            Some(rest[start..end].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn starttls_and_direct_tls_log_in_with_scram() {
    let server = server(false).await;
    let mut alice = Device::new(&server, "alice", WAIT);
    alice.login(options(&server, "alice-pw", None)).await;
    assert_eq!(
        alice.core.login_mechanism(alice.account).as_deref(),
        Some("SCRAM-SHA-1")
    );
    alice.logout().await;
    let mut direct = options(&server, "alice-pw", None);
    direct.server = Some(ServerAddress {
        host: server.host().into(),
        port: server.direct_tls_port(),
        direct_tls: true,
    });
    alice.login(direct).await;
    assert_eq!(
        alice.core.login_mechanism(alice.account).as_deref(),
        Some("SCRAM-SHA-1")
    );
    assert_eq!(auths_in_log(&server), ["SCRAM-SHA-1", "SCRAM-SHA-1"]);
    let alice_scram = ("alice".to_owned(), "SCRAM-SHA-1".to_owned());
    assert_eq!(server.logins(), [alice_scram.clone(), alice_scram]);
}

#[tokio::test]
async fn plain_only_after_scram_worked_is_refused_before_the_password_goes_out() {
    let scram = server(false).await;
    let mut alice = Device::new(&scram, "alice", WAIT);
    alice.login(options(&scram, "alice-pw", None)).await;
    alice.logout().await;

    // The same account, now reached at a server that offers only PLAIN (what an attacker in
    // between would offer).
    let plain = server(true).await;
    let err = alice
        .core
        .connect(alice.account, options(&plain, "alice-pw", None))
        .await
        .expect_err("a downgrade to PLAIN must be refused");
    assert_eq!(err.code, ErrorCode::AuthDowngrade, "{err:?}");
    assert!(
        auths_in_log(&plain).is_empty(),
        "the password went out: {:?}",
        auths_in_log(&plain)
    );

    // A new device of an account that never used SCRAM may use PLAIN there: the server
    // offers nothing else, and TLS protects it.
    let mut fresh = Device::new(&plain, "alice", WAIT);
    fresh.login(options(&plain, "alice-pw", None)).await;
    assert_eq!(
        fresh.core.login_mechanism(fresh.account).as_deref(),
        Some("PLAIN")
    );
    assert_eq!(auths_in_log(&plain), ["PLAIN"]);
}
