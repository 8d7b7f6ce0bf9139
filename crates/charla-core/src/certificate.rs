//! Server certificate checks (RFC 6120 §13.7.2, RFC 6125) with per-account
//! pinning.
//!
//! Every certificate goes through normal WebPKI verification against the
//! trusted roots and the XMPP domain. The one exception is a certificate the
//! user pinned for the account after seeing it rejected: a connection that
//! presents exactly that leaf (same SHA-256 over its DER) is accepted without
//! a chain, and the handshake signature is still checked with that
//! certificate's key. A rejection carries the leaf's fingerprint and the
//! reason, so that the UI can ask the user; nothing is accepted silently.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, OtherError, SignatureScheme,
};
use ts_rs::TS;

use crate::error::{CoreError, ErrorCode};

/// Why a server certificate was not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CertificateReason {
    /// Signed by itself rather than by a trusted authority.
    SelfSigned,
    /// Issued by an authority this system does not trust.
    UnknownIssuer,
    /// Past its end date.
    Expired,
    /// Before its start date.
    NotYetValid,
    /// Not issued for this server's domain.
    WrongName,
    /// Revoked by its issuer.
    Revoked,
    /// The certificate pinned for this account was replaced by another one
    /// that is not trusted either.
    PinChanged,
    /// Malformed, badly signed, or not meant for a server.
    Invalid,
}

/// An untrusted server certificate, as the UI shows it to let the user pin
/// it (`Core::pin_certificate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CertificateProblem {
    /// The server's XMPP domain the certificate was checked against.
    pub server: String,
    /// SHA-256 of the leaf certificate (DER), upper-case hex pairs joined by
    /// colons.
    pub fingerprint: String,
    /// Why it was rejected.
    pub reason: CertificateReason,
}

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Parses the colon-separated hex form (colons and case optional).
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let hex: String = text
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let bad = || {
            CoreError::new(
                ErrorCode::InvalidInput,
                format!("not a SHA-256 fingerprint: {text:?}"),
            )
        };
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a leaf was rejected, carried inside rustls' error out of the
/// handshake (as `CertificateError::Other`) to [`rejection`].
#[derive(Debug, thiserror::Error)]
#[error("untrusted certificate {fingerprint} ({reason:?}): {detail}")]
pub(crate) struct Untrusted {
    fingerprint: Fingerprint,
    reason: CertificateReason,
    detail: String,
}

/// The normal WebPKI verifier, plus an optional pin for one exact leaf.
#[derive(Debug)]
pub(crate) struct PinningVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pin: Option<Fingerprint>,
}

impl PinningVerifier {
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>, pin: Option<Fingerprint>) -> Self {
        Self { inner, pin }
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let fingerprint = Fingerprint::of(end_entity);
        if self.pin == Some(fingerprint) {
            return Ok(ServerCertVerified::assertion());
        }
        let error = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(error) => error,
        };
        let reason = if self.pin.is_some() {
            CertificateReason::PinChanged
        } else {
            classify(&error, end_entity)
        };
        Err(TlsError::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(Untrusted {
                fingerprint,
                reason,
                detail: error.to_string(),
            })),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        // `cert` is the leaf accepted above (the pinned one included): the
        // handshake must be signed with its key.
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Maps WebPKI's verdict to a reason the user can act on.
fn classify(error: &TlsError, end_entity: &CertificateDer<'_>) -> CertificateReason {
    let TlsError::InvalidCertificate(error) = error else {
        return CertificateReason::Invalid;
    };
    match error {
        CertificateError::UnknownIssuer if self_signed(end_entity) => CertificateReason::SelfSigned,
        CertificateError::UnknownIssuer => CertificateReason::UnknownIssuer,
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            CertificateReason::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertificateReason::NotYetValid
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateReason::WrongName
        }
        CertificateError::Revoked => CertificateReason::Revoked,
        // A self-signed certificate marked as a CA (what `openssl req -x509`
        // makes by default) is refused as "CA used as end entity".
        _ if self_signed(end_entity) => CertificateReason::SelfSigned,
        _ => CertificateReason::Invalid,
    }
}

/// Whether the certificate names itself as its issuer.
fn self_signed(der: &CertificateDer<'_>) -> bool {
    webpki::EndEntityCert::try_from(der).is_ok_and(|cert| cert.issuer() == cert.subject())
}

/// The certificate problem behind a failed TLS handshake, if that is what
/// failed it.
pub(crate) fn rejection(error: &TlsError, server: &str) -> Option<CertificateProblem> {
    let TlsError::InvalidCertificate(CertificateError::Other(OtherError(inner))) = error else {
        return None;
    };
    let untrusted = inner.downcast_ref::<Untrusted>()?;
    Some(CertificateProblem {
        server: server.to_owned(),
        fingerprint: untrusted.fingerprint.to_string(),
        reason: untrusted.reason,
    })
}

/// A human-readable, English description of a rejection.
pub(crate) fn describe(error: &TlsError) -> String {
    match error {
        TlsError::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            match inner.downcast_ref::<Untrusted>() {
                Some(u) => format!(
                    "the server's certificate is not trusted ({}): {}",
                    reason_text(u.reason),
                    u.detail
                ),
                None => format!("the server's certificate is not trusted: {inner}"),
            }
        }
        other => format!("the server's certificate is not trusted: {other}"),
    }
}

fn reason_text(reason: CertificateReason) -> &'static str {
    match reason {
        CertificateReason::SelfSigned => "self-signed",
        CertificateReason::UnknownIssuer => "unknown issuer",
        CertificateReason::Expired => "expired",
        CertificateReason::NotYetValid => "not yet valid",
        CertificateReason::WrongName => "issued for another name",
        CertificateReason::Revoked => "revoked",
        CertificateReason::PinChanged => "differs from the pinned certificate",
        CertificateReason::Invalid => "invalid",
    }
}
