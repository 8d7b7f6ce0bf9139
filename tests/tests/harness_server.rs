//! Self-tests of the Prosody test harness (not of Charla).

use std::sync::Arc;
use std::time::{Duration, Instant};

use charla_tests::{HarnessError, TestServer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a stream on a raw TCP connection and returns what the server sent up to the end of
/// `<stream:features>`.
async fn raw_features(host: &str, port: u16, domain: &str) -> String {
    let mut tcp = TcpStream::connect((host, port)).await.expect("connect");
    let mut conn = Conn::new(&mut tcp);
    conn.open_stream(domain).await;
    conn.read_until(|t| t.contains("</stream:features>")).await
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A minimal lock-step XMPP client connection, enough to test the server setup.
struct Conn<S> {
    io: S,
    buf: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(io: S) -> Self {
        Conn {
            io,
            buf: String::new(),
        }
    }

    async fn send(&mut self, text: &str) {
        self.io.write_all(text.as_bytes()).await.expect("write");
    }

    async fn open_stream(&mut self, domain: &str) {
        self.send(&format!(
            "<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' xml:lang='en' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        ))
        .await;
    }

    /// Reads until `done` holds for everything received since the last call, returns it and
    /// forgets it.
    async fn read_until(&mut self, done: impl Fn(&str) -> bool) -> String {
        let read = async {
            let mut chunk = [0u8; 8192];
            while !done(&self.buf) {
                let n = self.io.read(&mut chunk).await.expect("read");
                assert!(n > 0, "connection closed; received so far: {}", self.buf);
                self.buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        };
        if tokio::time::timeout(TIMEOUT, read).await.is_err() {
            panic!("timed out; received so far: {}", self.buf);
        }
        std::mem::take(&mut self.buf)
    }
}

fn tls_connector(ca_pem: &[u8]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("CA PEM")).expect("add CA");
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Connects with STARTTLS (or direct TLS), trusting only the server's test CA. Returns the TLS
/// connection at the start of the encrypted stream, or the TLS error.
async fn connect_tls(server: &TestServer, direct_tls: bool) -> std::io::Result<Conn<Box<dyn Io>>> {
    let connector = tls_connector(server.ca_cert_pem_bytes());
    let name = ServerName::try_from(server.domain().to_owned()).expect("server name");
    let tls = if direct_tls {
        let tcp = TcpStream::connect((server.host(), server.direct_tls_port())).await?;
        connector.connect(name, tcp).await?
    } else {
        let mut tcp = TcpStream::connect((server.host(), server.c2s_port())).await?;
        let mut conn = Conn::new(&mut tcp);
        conn.open_stream(server.domain()).await;
        let features = conn.read_until(|t| t.contains("</stream:features>")).await;
        assert!(
            features.contains("urn:ietf:params:xml:ns:xmpp-tls"),
            "{features}"
        );
        conn.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await;
        conn.read_until(|t| t.find("<proceed").is_some_and(|i| t[i..].contains("/>")))
            .await;
        connector.connect(name, tcp).await?
    };
    Ok(Conn::new(Box::new(tls) as Box<dyn Io>))
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Logs in over TLS with SASL SCRAM-SHA-1 and binds a resource. Returns the connection and
/// the stream features seen after TLS.
async fn login(
    server: &TestServer,
    user: &str,
    password: &str,
    direct_tls: bool,
) -> (Conn<Box<dyn Io>>, String) {
    let mut conn = connect_tls(server, direct_tls)
        .await
        .expect("TLS handshake");
    conn.open_stream(server.domain()).await;
    let features = conn.read_until(|t| t.contains("</stream:features>")).await;
    charla_tests::scram_sha1(&mut conn.io, user, password, TIMEOUT).await;
    conn.open_stream(server.domain()).await;
    conn.read_until(|t| t.contains("</stream:features>")).await;
    conn.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        .await;
    let bound = conn.read_until(|t| t.contains("</iq>")).await;
    assert!(bound.contains("<jid>"), "bind failed: {bound}");
    (conn, features)
}

#[tokio::test]
async fn two_servers_start_in_parallel_and_speak_xmpp() {
    let started = Instant::now();
    let (a, b) = tokio::join!(TestServer::start(), TestServer::start());
    let (a, b) = (a.expect("server a"), b.expect("server b"));
    eprintln!("two servers started in {:?}", started.elapsed());
    assert_ne!(a.c2s_port(), b.c2s_port());
    assert_ne!(a.direct_tls_port(), b.direct_tls_port());
    assert_ne!(a.dir(), b.dir());
    for server in [&a, &b] {
        assert_eq!(server.host(), "127.0.0.1");
        assert_eq!(server.domain(), "charla.test");
        assert_eq!(server.jid("alice"), "alice@charla.test");
        let features = raw_features(server.host(), server.c2s_port(), server.domain()).await;
        assert!(features.contains("<stream:features"), "{features}");
        assert!(features.contains("starttls"), "{features}");
        // Encryption is required: nothing but STARTTLS is offered in the clear.
        assert!(features.contains("<required"), "{features}");
        assert!(!features.contains("PLAIN"), "{features}");
        assert!(server.ca_cert_pem().is_file());
        assert!(server
            .ca_cert_pem_bytes()
            .starts_with(b"-----BEGIN CERTIFICATE-----"));
        assert!(server.data_dir().is_dir());
    }
}

#[tokio::test]
async fn restart_keeps_ports_and_data() {
    let mut server = TestServer::builder()
        .user("alice", "secret")
        .start()
        .await
        .expect("start");
    let ports = server.ports();
    let first_pid = server.pid().expect("running");
    let dir = server.dir().to_owned();

    let started = Instant::now();
    server.restart().await.expect("restart");
    eprintln!("restart took {:?}", started.elapsed());
    assert!(server.is_running());
    assert_ne!(server.pid(), Some(first_pid));
    assert_eq!(server.ports(), ports);
    login(&server, "alice", "secret", false).await;

    let started = Instant::now();
    server.stop().await.expect("stop");
    eprintln!("stop took {:?}", started.elapsed());
    assert!(!server.is_running());
    assert!(TcpStream::connect((server.host(), server.c2s_port()))
        .await
        .is_err());
    server.restart().await.expect("start after stop");
    assert!(server
        .stream_features()
        .await
        .expect("features")
        .contains("starttls"));

    drop(server);
    assert!(
        std::env::var_os(charla_tests::KEEP_DIRS_ENV).is_some() || !dir.exists(),
        "drop removes the directory"
    );
}

#[tokio::test]
async fn wrong_cert_names_do_not_cover_the_domain() {
    let server = TestServer::builder()
        .cert_names(["wrong.test"])
        .start()
        .await
        .expect("start");
    let output = tokio::process::Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-ext",
            "subjectAltName,basicConstraints",
            "-in",
        ])
        .arg(server.server_cert_pem())
        .output()
        .await
        .expect("openssl");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("DNS:wrong.test"), "{text}");
    assert!(!text.contains("charla.test"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");

    // A client that trusts the test CA still rejects the certificate for charla.test.
    for direct_tls in [false, true] {
        let err = connect_tls(&server, direct_tls)
            .await
            .err()
            .expect("handshake must fail");
        assert!(
            err.to_string()
                .to_lowercase()
                .contains("not valid for name"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn default_cert_is_trusted_through_the_test_ca() {
    let server = TestServer::start().await.expect("start");
    let output = tokio::process::Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(server.server_cert_pem())
        .output()
        .await
        .expect("openssl");
    let text = String::from_utf8_lossy(&output.stdout);
    for name in [
        "charla.test",
        "conference.charla.test",
        "upload.charla.test",
    ] {
        assert!(text.contains(&format!("DNS:{name}")), "{text}");
    }
    for direct_tls in [false, true] {
        connect_tls(&server, direct_tls)
            .await
            .expect("TLS with only the test CA");
    }
}

#[tokio::test]
async fn registration_and_duplicates() {
    let server = TestServer::start().await.expect("start");
    assert!(!server.account_exists("carol"));
    server.register("carol", "pw").await.expect("register");
    assert!(server.account_exists("carol"));
    match server.register("carol", "other").await {
        Err(HarnessError::UserExists { jid }) => assert_eq!(jid, "carol@charla.test"),
        other => panic!("duplicate registration: {other:?}"),
    }
    assert!(matches!(
        server.register("Carol", "pw").await,
        Err(HarnessError::InvalidName { .. })
    ));
    login(&server, "carol", "pw", false).await;

    let started = Instant::now();
    let users = server.register_many("user", 8, "pw").await.expect("many");
    eprintln!("8 users registered in {:?}", started.elapsed());
    assert_eq!(users.len(), 8);
    assert_eq!(users[0], "user1");
    assert!(users.iter().all(|u| server.account_exists(u)));
}

#[tokio::test]
async fn prepopulated_mutual_roster_delivers_presence() {
    let server = TestServer::builder()
        .user("alice", "pw-a")
        .user("bob", "pw-b")
        .user("carol", "pw-c")
        .mutual("alice", "bob", Some("Friends"))
        .mutual("alice", "bob", Some("Family"))
        .mutual("alice", "carol", None)
        .start()
        .await
        .expect("start");

    let (mut alice, _) = login(&server, "alice", "pw-a", false).await;
    alice
        .send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    let roster = alice
        .read_until(|t| {
            t.find("id='roster1'")
                .is_some_and(|i| t[i..].contains("</iq>"))
        })
        .await;
    assert!(roster.contains("jid='bob@charla.test'"), "{roster}");
    assert!(roster.contains("jid='carol@charla.test'"), "{roster}");
    assert!(roster.contains("<group>Friends</group>"), "{roster}");
    assert!(roster.contains("<group>Family</group>"), "{roster}");
    assert_eq!(roster.matches("subscription='both'").count(), 2, "{roster}");

    // Bob comes online (over direct TLS); Alice, already available, sees his presence.
    alice.send("<presence/>").await;
    let (mut bob, _) = login(&server, "bob", "pw-b", true).await;
    bob.send("<presence><status>here</status></presence>").await;
    let seen = alice
        .read_until(|t| t.contains("from='bob@charla.test/"))
        .await;
    assert!(seen.contains("<presence"), "{seen}");
    // And Bob gets Alice's presence from the server's probe.
    bob.read_until(|t| t.contains("from='alice@charla.test/"))
        .await;
}

#[tokio::test]
async fn in_band_registration_and_upload_options() {
    let server = TestServer::builder()
        .allow_registration(true)
        .http_upload(true)
        .user("alice", "pw")
        .start()
        .await
        .expect("start");
    let (mut alice, features) = login(&server, "alice", "pw", false).await;
    assert!(
        features.contains("http://jabber.org/features/iq-register"),
        "{features}"
    );
    alice
        .send(&format!(
            "<iq type='get' id='disco1' to='{}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            server.upload_domain()
        ))
        .await;
    let info = alice
        .read_until(|t| {
            t.find("id='disco1'")
                .is_some_and(|i| t[i..].contains("</iq>"))
        })
        .await;
    assert!(info.contains("urn:xmpp:http:upload:0"), "{info}");

    let mut http = TcpStream::connect((server.host(), server.http_port()))
        .await
        .expect("http port");
    http.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut response = Vec::new();
    http.read_to_end(&mut response).await.expect("read");
    assert!(response.starts_with(b"HTTP/1."), "{response:?}");
}

#[tokio::test]
async fn taken_fixed_port_is_reported() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr").port();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port()
    };
    let result = TestServer::builder()
        .fixed_ports(charla_tests::Ports {
            c2s: taken,
            direct_tls: free(),
            http: free(),
        })
        .start()
        .await;
    match result {
        Err(HarnessError::PortInUse { log_tail }) => {
            assert!(log_tail.contains(&taken.to_string()), "{log_tail}")
        }
        other => panic!("expected PortInUse, got {other:?}"),
    }
}

#[tokio::test]
async fn drop_kills_prosody() {
    let server = TestServer::start().await.expect("start");
    let pid = server.pid().expect("pid");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_dir.exists());
    drop(server);
    // The child was reaped, so its /proc entry is gone (unless the pid was reused at once).
    assert!(!proc_dir.exists());
}

/// The suite's check that every login uses SCRAM: a PLAIN login on a server that did not allow
/// it fails the test when the server is dropped; `allow_plain` lets it pass.
#[tokio::test]
async fn a_plain_login_fails_the_test_unless_allowed() {
    for allow in [false, true] {
        let server = TestServer::builder()
            .user("alice", "pw")
            .allow_plain(allow)
            .start()
            .await
            .expect("start");
        let mut conn = connect_tls(&server, false).await.expect("TLS handshake");
        conn.open_stream(server.domain()).await;
        conn.read_until(|t| t.contains("</stream:features>")).await;
        let auth = base64(b"\0alice\0pw");
        conn.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>"
        ))
        .await;
        conn.read_until(|t| t.contains("<success")).await;
        // Prosody logs the login before it answers; the line may still be on its way.
        let deadline = Instant::now() + TIMEOUT;
        while server.logins().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.logins(), [("alice".to_owned(), "PLAIN".to_owned())]);
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(server)));
        assert_eq!(dropped.is_err(), !allow, "allow_plain({allow})");
    }
}
