//! [`RawComponent`]: an external component (XEP-0114) of a [`TestServer`], which may send
//! stanzas from any address of its own domain: a hostile server with as many users as a test
//! wants, without creating accounts.

use std::time::Duration;

use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::raw::read_until;
use crate::TestServer;

/// A component connection, after its handshake.
pub struct RawComponent {
    tcp: TcpStream,
}

impl RawComponent {
    /// The lines [`crate::TestServerBuilder::global_config`] needs for a component `domain` with
    /// `secret` listening on `port` (127.0.0.1 only).
    pub fn config(port: u16, domain: &str, secret: &str) -> [String; 4] {
        [
            format!("component_ports = {{ {port} }}"),
            "component_interfaces = { \"127.0.0.1\" }".to_owned(),
            format!("Component \"{domain}\""),
            format!("    component_secret = \"{secret}\""),
        ]
    }

    /// Connects to `port` on `server`'s host as `domain` and completes the handshake; every
    /// read waits at most `wait`.
    pub async fn connect(
        server: &TestServer,
        port: u16,
        domain: &str,
        secret: &str,
        wait: Duration,
    ) -> RawComponent {
        let mut tcp = TcpStream::connect((server.host(), port))
            .await
            .expect("tcp");
        tcp.write_all(
            format!(
                "<stream:stream xmlns='jabber:component:accept' \
                 xmlns:stream='http://etherx.jabber.org/streams' to='{domain}'>"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
        let header = read_until(&mut tcp, ">", wait).await;
        let id = header
            .split_once(" id='")
            .or_else(|| header.split_once(" id=\""))
            .and_then(|(_, rest)| rest.split(['\'', '"']).next())
            .expect("stream id")
            .to_owned();
        let digest = Sha1::digest(format!("{id}{secret}").as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        tcp.write_all(format!("<handshake>{hex}</handshake>").as_bytes())
            .await
            .expect("write");
        let answer = read_until(&mut tcp, "handshake", wait).await;
        assert!(!answer.contains("error"), "handshake refused: {answer}");
        RawComponent { tcp }
    }

    /// Sends raw XML.
    pub async fn send(&mut self, xml: &str) {
        self.tcp.write_all(xml.as_bytes()).await.expect("write");
    }

    /// The connection's two halves, to read what arrives while writing.
    pub fn into_split(
        self,
    ) -> (
        tokio::net::tcp::OwnedReadHalf,
        tokio::net::tcp::OwnedWriteHalf,
    ) {
        self.tcp.into_split()
    }
}
