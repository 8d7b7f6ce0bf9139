//! Requests that never get an answer (issue 14): an IQ the server does not answer gives up
//! after `IQ_TIMEOUT` (30 s) with a `timeout` error. Before, it waited until the next bind, and
//! the command that asked hung for as long as the link stayed silent.

use std::time::Duration;

use charla_core::{ConnectionState, ErrorCode, Event};
use charla_tests::{options, Device, Proxy, TestServer};

#[tokio::test]
async fn a_request_on_a_silent_link_fails_with_a_timeout() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("prosody");
    let target = format!("{}:{}", server.host(), server.c2s_port());
    let proxy = Proxy::start(target.parse().expect("address"))
        .await
        .expect("proxy");
    let mut alice = Device::new(&server, "alice", Duration::from_secs(60));
    alice
        .login(options(&server, "alice-pw", Some(proxy.port())))
        .await;
    assert!(alice.core.blocked(alice.account).await.is_ok());
    // The link stalls: nothing moves, and the default keepalive (60 s of silence, then 30 s
    // for an answer) has not noticed yet when the request gives up.
    proxy.pause();
    let err = tokio::time::timeout(Duration::from_secs(120), alice.core.blocked(alice.account))
        .await
        .expect("the request must not hang")
        .expect_err("no answer came");
    assert_eq!(err.code, ErrorCode::Timeout, "{err:?}");
    proxy.resume();
}

/// A server that binds and then never answers (ejabberd did so while shutting down) is a dead
/// link: when the carbons request after the bind gets no answer, the session opens a fresh
/// stream (`reconnecting`) and never announces `online` on it. Before issue 14 it went online
/// 10 s later.
#[tokio::test]
async fn no_answer_after_the_bind_is_a_dead_link_not_online() {
    let server = TestServer::builder()
        .user("alice", "alice-pw")
        .module("charla_swallow_iq")
        .host_config("charla_swallow_iq = \"urn:xmpp:carbons:2:enable\"")
        .start()
        .await
        .expect("prosody");
    let mut alice = Device::new(&server, "alice", Duration::from_secs(60));
    let core = alice.core.clone();
    let account = alice.account;
    let opts = options(&server, "alice-pw", None);
    let login = tokio::spawn(async move { core.connect(account, opts).await });
    let event = alice
        .wait_for("the session giving up on the silent link", |e| {
            matches!(
                e,
                Event::Connection {
                    state: ConnectionState::Online { .. } | ConnectionState::Reconnecting { .. },
                    ..
                }
            )
        })
        .await;
    assert!(
        matches!(
            event,
            Event::Connection {
                state: ConnectionState::Reconnecting { .. },
                ..
            }
        ),
        "went online on a link that never answered: {event:?}"
    );
    assert!(server.log_tail().contains("charla-swallow"));
    login.abort();
    alice.core.disconnect(alice.account).await;
}
