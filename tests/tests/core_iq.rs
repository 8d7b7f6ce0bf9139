//! Requests that never get an answer (issue 14): an IQ the server does not answer gives up
//! after `IQ_TIMEOUT` (30 s) with a `timeout` error. Before, it waited until the next bind, and
//! the command that asked hung for as long as the link stayed silent.

use std::time::Duration;

use charla_core::ErrorCode;
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
