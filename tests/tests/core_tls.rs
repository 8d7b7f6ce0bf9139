//! Server certificates against a real Prosody: a self-signed certificate
//! (not from the harness's test CA) stops the login with its fingerprint and
//! reason; once the user pins it, it is accepted; when the server's
//! certificate then changes, the login stops again.

use std::path::Path;

use charla_core::{CertificateReason, Core, ErrorCode, Event, Show};
use charla_tests::{options, self_signed, CertificateFiles, TestServer};
use tokio::sync::mpsc::Receiver;

/// The SHA-256 fingerprint as openssl prints it (`AA:BB:...`), computed
/// independently of the code under test.
fn openssl_fingerprint(cert: &Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.trim()
        .split_once('=')
        .expect("sha256 Fingerprint=...")
        .1
        .to_owned()
}

/// A new self-signed certificate for `charla.test`, as `<stem>.pem` and `<stem>.key` in `dir`.
async fn certificate(dir: &Path, stem: &str) -> CertificateFiles {
    self_signed(dir, stem, &["charla.test".to_owned()])
        .await
        .unwrap_or_else(|e| panic!("{stem} certificate: {e}"))
}

/// A server serving `cert`, with `users` whose password is `pw`.
async fn serving(cert: CertificateFiles, users: &[&str]) -> TestServer {
    users
        .iter()
        .fold(TestServer::builder(), |b, user| b.user(*user, "pw"))
        .certificate(cert)
        .start()
        .await
        .expect("server")
}

/// Charla's store in `dir`; opening it again is a restart of the app.
fn open_store(dir: &Path) -> (Core, Receiver<Event>) {
    Core::open(&dir.join("charla.sqlite3")).expect("store")
}

#[tokio::test]
async fn self_signed_certificate_is_rejected_then_pinned_then_changed_and_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = certificate(dir.path(), "first").await;
    let second = certificate(dir.path(), "second").await;
    let first_fp = openssl_fingerprint(&first.cert);
    let second_fp = openssl_fingerprint(&second.cert);
    assert_ne!(first_fp, second_fp);

    let mut server = serving(first.clone(), &["alice"]).await;
    let (core, _events) = open_store(dir.path());
    let account = core.add_account(&server.jid("alice")).expect("account");

    // Trusting only the harness's CA, which did not sign it: rejected, with
    // the fingerprint and the reason, and nothing is pinned by itself.
    for _ in 0..2 {
        let err = core
            .connect(account, options(&server, "pw", None))
            .await
            .expect_err("an untrusted certificate stops the login");
        assert_eq!(err.code, ErrorCode::TlsCertificate, "{err:?}");
        let cert = err.certificate.expect("the certificate's details");
        assert_eq!(cert.fingerprint, first_fp);
        assert_eq!(cert.reason, CertificateReason::SelfSigned);
        assert_eq!(cert.server, "charla.test");
    }

    // Only the certificate that was shown can be pinned.
    let err = core
        .pin_certificate(account, &second_fp)
        .expect_err("not the one presented");
    assert_eq!(err.code, ErrorCode::InvalidInput);
    core.pin_certificate(account, &first_fp).expect("pin");
    core.connect(account, options(&server, "pw", None))
        .await
        .expect("the pinned certificate is accepted");
    core.disconnect(account).await;

    // The pin survives a restart of the app (it is in the database).
    drop(core);
    let (core, _events) = open_store(dir.path());
    core.connect(account, options(&server, "pw", None))
        .await
        .expect("still pinned after reopening");
    core.disconnect(account).await;

    // The server's certificate changes: the login stops again, showing the
    // new certificate, which is not accepted on the old pin.
    server.set_certificate(&second).expect("swap");
    server.restart().await.expect("restart");
    let err = core
        .connect(account, options(&server, "pw", None))
        .await
        .expect_err("a changed certificate stops the login");
    assert_eq!(err.code, ErrorCode::TlsCertificate, "{err:?}");
    let cert = err.certificate.expect("the certificate's details");
    assert_eq!(cert.fingerprint, second_fp);
    assert_eq!(cert.reason, CertificateReason::PinChanged);

    // The user accepts the new one.
    core.pin_certificate(account, &second_fp)
        .expect("pin again");
    core.connect(account, options(&server, "pw", None))
        .await
        .expect("the new pin is accepted");
    core.disconnect(account).await;
}

#[tokio::test]
async fn a_pin_is_per_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = certificate(dir.path(), "only").await;
    let fingerprint = openssl_fingerprint(&cert.cert);
    let server = serving(cert, &["alice", "bob"]).await;
    let (core, _events) = open_store(dir.path());
    let alice = core.add_account(&server.jid("alice")).expect("alice");
    let bob = core.add_account(&server.jid("bob")).expect("bob");
    let err = core
        .connect(alice, options(&server, "pw", None))
        .await
        .expect_err("rejected");
    assert_eq!(err.code, ErrorCode::TlsCertificate);
    // Bob's login has not seen it: his account cannot pin it.
    assert_eq!(
        core.pin_certificate(bob, &fingerprint)
            .expect_err("not seen by bob")
            .code,
        ErrorCode::InvalidInput
    );
    core.pin_certificate(alice, &fingerprint).expect("pin");
    core.connect(alice, options(&server, "pw", None))
        .await
        .expect("alice trusts it");
    let err = core
        .connect(bob, options(&server, "pw", None))
        .await
        .expect_err("bob does not");
    assert_eq!(err.code, ErrorCode::TlsCertificate);
    core.disconnect(alice).await;
}

#[tokio::test]
async fn a_certificate_changed_while_online_stops_the_reconnect_and_can_be_pinned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = certificate(dir.path(), "first").await;
    let second = certificate(dir.path(), "second").await;
    let mut server = serving(first.clone(), &["alice"]).await;
    let (core, mut events) = open_store(dir.path());
    let account = core.add_account(&server.jid("alice")).expect("account");
    core.connect(account, options(&server, "pw", None))
        .await
        .expect_err("not trusted yet");
    core.pin_certificate(account, &openssl_fingerprint(&first.cert))
        .expect("pin");
    core.connect(account, options(&server, "pw", None))
        .await
        .expect("online with the pin");

    // While online, the server restarts with another certificate: the
    // session's reconnect is refused with the new certificate's details.
    while events.try_recv().is_ok() {}
    server.set_certificate(&second).expect("swap");
    server.restart().await.expect("restart");
    let second_fp = openssl_fingerprint(&second.cert);
    let problem = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match events.recv().await.expect("events") {
                Event::Error { error, .. } if error.code == ErrorCode::TlsCertificate => {
                    break error.certificate.expect("details")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a certificate error");
    assert_eq!(problem.fingerprint, second_fp);
    assert_eq!(problem.reason, CertificateReason::PinChanged);

    // The user trusts the new certificate and goes online again.
    core.pin_certificate(account, &second_fp)
        .expect("the reconnect's certificate can be pinned");
    core.set_presence(account, Show::Available, None)
        .await
        .expect("online again");
    core.disconnect(account).await;
}
