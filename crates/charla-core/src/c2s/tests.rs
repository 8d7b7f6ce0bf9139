//! Unit tests of the client-to-server stream.

use super::*;

#[test]
fn backoff_grows_with_jitter_and_caps() {
    for attempt in 1..40 {
        let d = backoff(attempt);
        let full = BASE_BACKOFF
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(MAX_BACKOFF);
        assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
    }
    assert!(backoff(30) >= MAX_BACKOFF / 2);
}

#[test]
fn the_backoff_starts_over_once_the_server_answers() {
    let down = LoginFailure::transient(ErrorCode::Unreachable, "refused");
    let mut attempt = 0;
    for _ in 0..5 {
        attempt = next_attempt(attempt, &down, false);
    }
    assert_eq!(attempt, 5);
    let starting = LoginFailure {
        answered: true,
        ..LoginFailure::transient(ErrorCode::Protocol, "stream closed during start-up")
    };
    assert_eq!(next_attempt(attempt, &starting, false), 1);
    assert!(backoff(1) <= BASE_BACKOFF);
    // Answering and failing again and again backs off as usual.
    assert_eq!(next_attempt(1, &starting, true), 2);
}

#[test]
fn srv_records_are_ordered_by_priority_weight_then_direct_tls() {
    let rec = |priority, weight, target: &str, direct_tls| SrvRecord {
        priority,
        weight,
        target: target.into(),
        port: if direct_tls { 5223 } else { 5222 },
        direct_tls,
    };
    let ordered = order_srv(vec![
        rec(20, 0, "backup.example.", false),
        rec(10, 5, "light.example.", false),
        rec(10, 50, "heavy.example.", false),
        rec(10, 50, "heavy.example.", true),
        rec(0, 0, ".", true),
    ]);
    let got: Vec<_> = ordered
        .iter()
        .map(|a| (a.host.as_str(), a.direct_tls))
        .collect();
    assert_eq!(
        got,
        vec![
            ("heavy.example", true),
            ("heavy.example", false),
            ("light.example", false),
            ("backup.example", false)
        ]
    );
}

/// No type that holds a password prints it.
#[test]
fn debug_never_shows_a_password() {
    let secret = "hunter2-secret";
    let trust = TlsTrust::system().expect("system roots");
    let login = LoginConfig {
        jid: BareJid::new("a@b.test").expect("jid"),
        password: secret.into(),
        server: None,
        trust: trust.clone(),
        keepalive: Keepalive::default(),
        sasl: Default::default(),
    };
    let options = crate::ConnectOptions {
        password: secret.into(),
        server: None,
        trust,
        show: crate::Show::Available,
        status: None,
        keepalive: Keepalive::default(),
    };
    for shown in [format!("{login:?}"), format!("{options:?}")] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }
}

#[test]
fn ca_pem_must_hold_a_certificate() {
    let err = TlsTrust::from_ca_pem(b"not a pem").expect_err("rejected");
    assert_eq!(err.code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn unreachable_port_is_a_transient_unreachable_error() {
    // Bind then drop a listener to get a port that refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cfg = LoginConfig {
        jid: BareJid::new("a@b.test").expect("jid"),
        password: "x".into(),
        server: Some(ServerAddress {
            host: "127.0.0.1".into(),
            port,
            direct_tls: false,
        }),
        trust: TlsTrust::system().expect("system roots"),
        keepalive: Keepalive::default(),
        sasl: Default::default(),
    };
    let Err(failure) = login(&cfg).await else {
        panic!("a closed port must refuse the login");
    };
    assert_eq!(failure.error.code, ErrorCode::Unreachable);
    assert!(!failure.fatal);
}
