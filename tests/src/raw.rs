//! [`RawClient`]: a minimal XMPP client that logs in and then sends arbitrary XML, to play a
//! hostile or unusual peer in tests (forged stanzas the headless core would never produce).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::XmppServer;

/// A logged-in raw stream (STARTTLS, SASL SCRAM-SHA-1, resource `raw`, no presence sent).
pub struct RawClient {
    tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    wait: Duration,
    features: String,
}

/// Reads until `needle` has arrived and returns everything read; panics after `wait`.
pub(crate) async fn read_until<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    needle: &str,
    wait: Duration,
) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(wait, async {
        loop {
            let n = s.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "closed before {needle}: {}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
            if String::from_utf8_lossy(&buf).contains(needle) {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timeout waiting for {needle}"));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Logs in with SCRAM-SHA-1 (RFC 5802), which Prosody and ejabberd both offer: the suite
/// asserts that no login on its servers uses PLAIN.
pub async fn scram_sha1<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    tls: &mut S,
    user: &str,
    password: &str,
    wait: Duration,
) {
    use base64::Engine;
    use sasl::client::mechanisms::Scram;
    use sasl::client::Mechanism;
    use sasl::common::scram::Sha1;
    use sasl::common::{ChannelBinding, Credentials};
    let b64 = base64::engine::general_purpose::STANDARD;
    let creds = Credentials::default()
        .with_username(user)
        .with_password(password)
        .with_channel_binding(ChannelBinding::None);
    let mut scram = Scram::<Sha1>::from_credentials(creds).expect("scram");
    let first = b64.encode(scram.initial());
    tls.write_all(
        format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>{first}</auth>"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let text_of = |xml: &str, tag: &str| -> Vec<u8> {
        let start = xml.find(&format!("<{tag}")).expect(tag);
        let body = &xml[start..];
        let open = body.find('>').expect("tag end") + 1;
        let close = body.find(&format!("</{tag}>")).unwrap_or(open);
        b64.decode(body[open..close].trim()).expect("base64")
    };
    let challenge = read_until(tls, "</challenge>", wait).await;
    let response = scram
        .response(&text_of(&challenge, "challenge"))
        .expect("scram response");
    tls.write_all(
        format!(
            "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
            b64.encode(response)
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let success = read_until(tls, "<success", wait).await;
    if success.contains("</success>") {
        scram
            .success(&text_of(&success, "success"))
            .expect("the server proved it knows the password");
    }
}

impl RawClient {
    /// Logs the account the test calls `user` in on `server`, trusting only its test CA; every read waits at most `wait`.
    pub async fn login<S: XmppServer + ?Sized>(
        server: &S,
        user: &str,
        password: &str,
        wait: Duration,
    ) -> RawClient {
        use tokio_rustls::rustls::{self, pki_types::pem::PemObject, pki_types::CertificateDer};
        let header = format!(
            "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            server.domain()
        );
        let mut tcp = tokio::net::TcpStream::connect((server.host(), server.c2s_port()))
            .await
            .expect("tcp");
        tcp.write_all(header.as_bytes()).await.expect("write");
        read_until(&mut tcp, "</stream:features>", wait).await;
        tcp.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await
            .expect("write");
        read_until(&mut tcp, "<proceed", wait).await;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(server.ca_cert_pem_bytes()) {
            roots.add(cert.expect("pem")).expect("ca");
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name =
            rustls::pki_types::ServerName::try_from(server.domain().to_owned()).expect("name");
        let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("tls");
        tls.write_all(header.as_bytes()).await.expect("write");
        read_until(&mut tls, "</stream:features>", wait).await;
        scram_sha1(&mut tls, &server.localpart(user), password, wait).await;
        tls.write_all(header.as_bytes()).await.expect("write");
        let features = read_until(&mut tls, "</stream:features>", wait).await;
        tls.write_all(b"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind></iq>")
            .await
            .expect("write");
        read_until(&mut tls, "</iq>", wait).await;
        RawClient {
            tls,
            wait,
            features,
        }
    }

    /// What the server sent from its stream header after authentication up to the end of
    /// `<stream:features>` (the features offered to a logged-in client: bind, stream
    /// management, pre-approval…).
    pub fn features(&self) -> &str {
        &self.features
    }

    /// Sends raw XML.
    pub async fn send(&mut self, xml: &str) {
        self.tls.write_all(xml.as_bytes()).await.expect("write");
    }

    /// Sends raw XML; `false` if the server has closed the connection.
    pub async fn try_send(&mut self, xml: &str) -> bool {
        self.tls.write_all(xml.as_bytes()).await.is_ok() && self.tls.flush().await.is_ok()
    }

    /// Whether the server still serves this stream: pings it and waits for the answer, or for
    /// the connection to close (then `false`).
    pub async fn alive(&mut self) -> bool {
        static PINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("alive-{n}");
        if !self
            .try_send(&format!(
                "<iq type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"
            ))
            .await
        {
            return false;
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let answered = tokio::time::timeout(self.wait, async {
            loop {
                match self.tls.read(&mut chunk).await {
                    Ok(n) if n > 0 => {
                        buf.extend_from_slice(&chunk[..n]);
                        if String::from_utf8_lossy(&buf).contains(&id) {
                            return true;
                        }
                    }
                    _ => return false,
                }
            }
        })
        .await;
        answered.unwrap_or_else(|_| panic!("the server neither answered a ping nor closed"))
    }

    /// Everything the server sent this stream before now, and nothing later: pings the server
    /// (which answers after what it queued for us before the ping) and returns everything read
    /// up to the answer. "Nothing came" is then a settled fact, not a quiet window.
    pub async fn settled(&mut self) -> String {
        static PINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("settled-{n}");
        self.send(&format!(
            "<iq type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"
        ))
        .await;
        self.read_until(&id).await
    }

    /// Reads until `needle` has arrived and returns everything read since the last read.
    pub async fn read_until(&mut self, needle: &str) -> String {
        read_until(&mut self.tls, needle, self.wait).await
    }
}
