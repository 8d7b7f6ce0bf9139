//! TLS for the client-to-server stream: which certificates are trusted,
//! direct TLS (XEP-0368) or STARTTLS, and the channel binding data that
//! SCRAM-PLUS uses (RFC 9266).

use std::io;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_xmpp::xmlstream::{
    initiate_stream, PendingFeaturesRecv, ReadError, XmppStream, XmppStreamElement,
};
use xmpp_parsers::ns;
use xmpp_parsers::starttls;
use xmpp_parsers::stream_features::StreamFeatures;

use super::{header, io_failure, LoginConfig, LoginFailure};
use crate::bounds::Bounded;
use crate::certificate::{self, Fingerprint, PinningVerifier, Rejected};
use crate::error::{CoreError, ErrorCode};

/// An encrypted connection as the XML parser reads it: every byte first
/// passes the bounds on depth, attributes and size ([`Bounded`]).
pub(crate) type Io = BufStream<Bounded<TlsStream<TcpStream>>>;

/// Which certificates the client trusts. Production uses the system's
/// roots; tests pass their own CA explicitly. There is no way to switch
/// verification off; the only exception is the one certificate the user
/// pinned for the account (see [`crate::certificate`]).
#[derive(Clone)]
pub struct TlsTrust {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    pub(super) pin: Option<Fingerprint>,
    rejected: Option<Rejected>,
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTrust").field("pin", &self.pin).finish()
    }
}

impl TlsTrust {
    /// Trusts the operating system's certificate store.
    pub fn system() -> Result<Self, CoreError> {
        let mut roots = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(loaded.certs);
        if roots.is_empty() {
            return Err(CoreError::new(
                ErrorCode::TlsCertificate,
                "no trusted root certificates found on this system",
            ));
        }
        Self::with_roots(roots)
    }

    /// Trusts only the certificate authorities in this PEM data.
    pub fn from_ca_pem(pem: &[u8]) -> Result<Self, CoreError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert
                .map_err(|e| CoreError::new(ErrorCode::InvalidInput, format!("bad CA PEM: {e}")))?;
            roots.add(cert).map_err(|e| {
                CoreError::new(ErrorCode::InvalidInput, format!("bad CA certificate: {e}"))
            })?;
        }
        if roots.is_empty() {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "the CA file holds no certificate",
            ));
        }
        Self::with_roots(roots)
    }

    fn with_roots(roots: RootCertStore) -> Result<Self, CoreError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| CoreError::new(ErrorCode::Tls, e.to_string()))?;
        Ok(Self {
            provider,
            verifier,
            pin: None,
            rejected: None,
        })
    }

    /// The same trust, plus the one leaf certificate the user pinned, and
    /// where to record a leaf it rejects.
    pub(crate) fn pinned(self, pin: Option<Fingerprint>, rejected: Rejected) -> Self {
        Self {
            pin,
            rejected: Some(rejected),
            ..self
        }
    }

    fn client_config(&self) -> Result<ClientConfig, CoreError> {
        let verifier = PinningVerifier::new(self.verifier.clone(), self.pin, self.rejected.clone());
        Ok(ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| CoreError::new(ErrorCode::Tls, e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth())
    }

    fn connector(&self, alpn: bool) -> Result<TlsConnector, LoginFailure> {
        let mut config = self.client_config().map_err(|error| LoginFailure {
            error,
            fatal: true,
            answered: false,
        })?;
        if alpn {
            // XEP-0368: direct TLS announces the protocol through ALPN.
            config.alpn_protocols = vec![b"xmpp-client".to_vec()];
        }
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

/// Where and how to reach the server.
/// Runs TLS (direct or after STARTTLS) and returns a fresh stream over it.
pub(super) async fn secure(
    cfg: &LoginConfig,
    tcp: TcpStream,
    direct_tls: bool,
) -> Result<(PendingFeaturesRecv<Io>, Exporter), LoginFailure> {
    let domain = cfg.jid.domain().as_str();
    let tcp = if direct_tls {
        tcp
    } else {
        let pending = initiate_stream(
            BufStream::new(Bounded::new(tcp)),
            ns::JABBER_CLIENT,
            header(domain),
            cfg.keepalive.timeouts(),
        )
        .await
        .map_err(io_failure)?;
        let (features, mut stream): (StreamFeatures, XmppStream<BufStream<Bounded<TcpStream>>>) =
            pending.recv_features().await.map_err(|e| {
                LoginFailure::transient(ErrorCode::Protocol, format!("no stream features: {e:?}"))
            })?;
        if !features.can_starttls() {
            return Err(LoginFailure::fatal(
                ErrorCode::Tls,
                "the server does not offer STARTTLS; refusing to log in without encryption",
            ));
        }
        stream
            .send(&XmppStreamElement::Starttls(starttls::Nonza::Request(
                starttls::Request,
            )))
            .await
            .map_err(io_failure)?;
        loop {
            match stream
                .next()
                .await
                .map(|v| v.and_then(|v| v.into_read_error()))
            {
                Some(Ok(XmppStreamElement::Starttls(starttls::Nonza::Proceed(_)))) => break,
                Some(Ok(XmppStreamElement::Starttls(_))) => {
                    return Err(LoginFailure::fatal(
                        ErrorCode::Tls,
                        "the server refused STARTTLS",
                    ))
                }
                Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => (),
                Some(Err(ReadError::HardError(e))) => return Err(io_failure(e)),
                Some(Err(ReadError::ParseError(e))) => {
                    return Err(LoginFailure::transient(ErrorCode::Protocol, e.to_string()))
                }
                None | Some(Err(ReadError::StreamFooterReceived)) => {
                    return Err(io_failure(io::ErrorKind::UnexpectedEof.into()))
                }
            }
        }
        stream.into_inner().into_inner().into_inner()
    };
    let name = ServerName::try_from(domain.to_owned())
        .map_err(|e| LoginFailure::fatal(ErrorCode::InvalidJid, e.to_string()))?;
    let tls = cfg
        .trust
        .connector(direct_tls)?
        .connect(name, tcp)
        .await
        .map_err(|e| tls_failure(e, domain))?;
    let binding = channel_binding(&tls);
    let pending = initiate_stream(
        BufStream::new(Bounded::new(tls)),
        ns::JABBER_CLIENT,
        header(domain),
        cfg.keepalive.timeouts(),
    )
    .await
    .map_err(io_failure)?;
    Ok((pending, binding))
}

/// RFC 9266 tls-exporter channel binding data, available on TLS 1.3.
pub(crate) type Exporter = Option<Vec<u8>>;

fn channel_binding(tls: &TlsStream<TcpStream>) -> Exporter {
    let (_, conn) = tls.get_ref();
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    conn.export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
        .ok()
}

fn tls_failure(e: io::Error, domain: &str) -> LoginFailure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(error @ rustls::Error::InvalidCertificate(_)) => LoginFailure {
            error: CoreError::new(ErrorCode::TlsCertificate, certificate::describe(error))
                .with_certificate(certificate::rejection(error, domain)),
            fatal: true,
            answered: false,
        },
        Some(other) => LoginFailure::fatal(ErrorCode::Tls, format!("TLS failed: {other}")),
        None => io_failure(e),
    }
}
