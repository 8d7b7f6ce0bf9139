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
use std::sync::{Arc, Mutex};

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

/// Where a verifier records the last leaf it rejected (shared with the
/// [`crate::Core`], which lets the user pin only that one).
pub(crate) type Rejected = Arc<Mutex<Option<Fingerprint>>>;

/// The normal WebPKI verifier, plus an optional pin for one exact leaf.
#[derive(Debug)]
pub(crate) struct PinningVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pin: Option<Fingerprint>,
    rejected: Option<Rejected>,
}

impl PinningVerifier {
    pub(crate) fn new(
        inner: Arc<WebPkiServerVerifier>,
        pin: Option<Fingerprint>,
        rejected: Option<Rejected>,
    ) -> Self {
        Self {
            inner,
            pin,
            rejected,
        }
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
        if let Some(slot) = &self.rejected {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(fingerprint);
            }
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::PrivateKeyDer;
    use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
    use tokio_rustls::rustls::sign::CertifiedKey;
    use tokio_rustls::rustls::{RootCertStore, ServerConfig};

    use super::*;

    fn openssl(dir: &Path, args: &[&str]) {
        let status = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl");
        assert!(status.status.success(), "{status:?}");
    }

    const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

    /// A self-signed leaf for `name` as `<stem>.pem` / `<stem>.key`.
    fn self_signed(dir: &Path, stem: &str, name: &str) -> CertificateDer<'static> {
        let (cert, key) = (format!("{stem}.pem"), format!("{stem}.key"));
        let subj = format!("/CN={name}");
        let san = format!("subjectAltName=DNS:{name}");
        let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj", &subj];
        args.extend(EC);
        args.extend(["-addext", "basicConstraints=critical,CA:FALSE"]);
        args.extend(["-addext", &san, "-keyout", &key, "-out", &cert]);
        openssl(dir, &args);
        CertificateDer::from_pem_file(dir.join(cert)).expect("pem")
    }

    /// A CA (`<stem>-ca.pem`) and a leaf it signed for `name`.
    fn ca_and_leaf(
        dir: &Path,
        stem: &str,
        name: &str,
    ) -> (CertificateDer<'static>, CertificateDer<'static>) {
        let (ca, ca_key) = (format!("{stem}-ca.pem"), format!("{stem}-ca.key"));
        let subj = format!("/CN={stem} CA");
        let mut args = vec!["req", "-x509", "-nodes", "-days", "30", "-subj", &subj];
        args.extend(EC);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend([
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            &ca_key,
        ]);
        args.extend(["-out", &ca]);
        openssl(dir, &args);
        let (csr, key, leaf) = (
            format!("{stem}.csr"),
            format!("{stem}.key"),
            format!("{stem}.pem"),
        );
        let subj = format!("/CN={name}");
        let mut args = vec!["req", "-new", "-nodes", "-subj", &subj];
        args.extend(EC);
        args.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &args);
        let ext = dir.join(format!("{stem}.ext"));
        std::fs::write(&ext, format!("subjectAltName=DNS:{name}\n")).expect("ext");
        let ext = ext.to_string_lossy().into_owned();
        openssl(
            dir,
            &[
                "x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-days", "30",
                "-extfile", &ext, "-out", &leaf,
            ],
        );
        (
            CertificateDer::from_pem_file(dir.join(ca)).expect("ca"),
            CertificateDer::from_pem_file(dir.join(leaf)).expect("leaf"),
        )
    }

    fn verifier(root: &CertificateDer<'static>, pin: Option<Fingerprint>) -> PinningVerifier {
        let mut roots = RootCertStore::empty();
        roots.add(root.clone()).expect("root");
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("verifier");
        PinningVerifier::new(inner, pin, None)
    }

    fn verify(
        v: &PinningVerifier,
        leaf: &CertificateDer<'_>,
        name: &str,
    ) -> Result<(), Option<CertificateProblem>> {
        let name = ServerName::try_from(name.to_owned()).expect("name");
        v.verify_server_cert(leaf, &[], &name, &[], UnixTime::now())
            .map(drop)
            .map_err(|e| rejection(&e, "charla.test"))
    }

    #[test]
    fn fingerprints_print_as_colon_hex_and_parse_back() {
        let fp = Fingerprint::of(b"certificate");
        let text = fp.to_string();
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text.split(':').all(|p| p.len() == 2));
        assert_eq!(Fingerprint::parse(&text).unwrap(), fp);
        assert_eq!(
            Fingerprint::parse(&text.to_lowercase().replace(':', "")).unwrap(),
            fp
        );
        for bad in [
            "",
            "AB:CD",
            &text[3..],
            &text.replace('A', "G"),
            "é".repeat(32).as_str(),
        ] {
            let err = Fingerprint::parse(bad).expect_err(bad);
            assert_eq!(err.code, ErrorCode::InvalidInput);
        }
    }

    #[test]
    fn unpinned_certificates_get_webpki_verdicts_with_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, leaf) = ca_and_leaf(dir.path(), "good", "charla.test");
        let (_, stranger) = ca_and_leaf(dir.path(), "other", "charla.test");
        let own = self_signed(dir.path(), "self", "charla.test");
        let v = verifier(&ca, None);

        verify(&v, &leaf, "charla.test").expect("signed by the trusted CA");
        let wrong = verify(&v, &leaf, "example.org")
            .unwrap_err()
            .expect("problem");
        assert_eq!(wrong.reason, CertificateReason::WrongName);
        assert_eq!(wrong.fingerprint, Fingerprint::of(&leaf).to_string());
        let unknown = verify(&v, &stranger, "charla.test")
            .unwrap_err()
            .expect("problem");
        assert_eq!(unknown.reason, CertificateReason::UnknownIssuer);
        assert_eq!(unknown.fingerprint, Fingerprint::of(&stranger).to_string());
        let selfish = verify(&v, &own, "charla.test")
            .unwrap_err()
            .expect("problem");
        assert_eq!(selfish.reason, CertificateReason::SelfSigned);
        assert_eq!(selfish.server, "charla.test");
    }

    #[test]
    fn only_the_exact_pinned_leaf_skips_verification() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, leaf) = ca_and_leaf(dir.path(), "good", "charla.test");
        let pinned = self_signed(dir.path(), "pinned", "charla.test");
        let other = self_signed(dir.path(), "other", "charla.test");
        let v = verifier(&ca, Some(Fingerprint::of(&pinned)));

        verify(&v, &pinned, "charla.test").expect("the pinned leaf");
        // Pinned for this account, whatever name it was made for.
        verify(&v, &pinned, "example.org").expect("the pinned leaf, any name");
        let changed = verify(&v, &other, "charla.test")
            .unwrap_err()
            .expect("problem");
        assert_eq!(changed.reason, CertificateReason::PinChanged);
        assert_eq!(changed.fingerprint, Fingerprint::of(&other).to_string());
        // Anything else still goes through normal verification.
        verify(&v, &leaf, "charla.test").expect("a trusted certificate is still fine");
        assert_eq!(
            verify(&v, &leaf, "example.org")
                .unwrap_err()
                .map(|p| p.reason),
            Some(CertificateReason::PinChanged)
        );
    }

    /// Serves `cert` but signs the handshake with `key` (which may not be
    /// the certificate's).
    #[derive(Debug)]
    struct Serve(Arc<CertifiedKey>);

    impl ResolvesServerCert for Serve {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    async fn handshake(
        cert: CertificateDer<'static>,
        key_file: &Path,
        pin: Option<Fingerprint>,
        root: &CertificateDer<'static>,
    ) -> Result<(), TlsError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::from_pem_file(key_file).expect("key");
        let signer = provider.key_provider.load_private_key(key).expect("signer");
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Serve(Arc::new(CertifiedKey::new(
                vec![cert],
                signer,
            )))));
        let client = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier(root, pin)))
            .with_no_client_auth();
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let server = tokio::spawn(async move { acceptor.accept(b).await.map(drop) });
        let name = ServerName::try_from("charla.test").unwrap();
        let result = tokio_rustls::TlsConnector::from(Arc::new(client))
            .connect(name, a)
            .await
            .map(drop);
        let _ = server.await;
        result.map_err(|e| {
            e.into_inner()
                .and_then(|i| i.downcast::<TlsError>().ok())
                .map(|e| *e)
                .expect("a TLS error")
        })
    }

    #[tokio::test]
    async fn a_pinned_certificate_must_still_sign_the_handshake() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, _) = ca_and_leaf(dir.path(), "good", "charla.test");
        let pinned = self_signed(dir.path(), "pinned", "charla.test");
        let _ = self_signed(dir.path(), "impostor", "charla.test");
        let pin = Some(Fingerprint::of(&pinned));

        let err = handshake(pinned.clone(), &dir.path().join("pinned.key"), None, &ca)
            .await
            .expect_err("not pinned");
        assert_eq!(
            rejection(&err, "charla.test").map(|p| p.reason),
            Some(CertificateReason::SelfSigned)
        );
        handshake(pinned.clone(), &dir.path().join("pinned.key"), pin, &ca)
            .await
            .expect("pinned and signed with its key");
        // A server that copied the pinned certificate but lacks its key.
        let err = handshake(pinned, &dir.path().join("impostor.key"), pin, &ca)
            .await
            .expect_err("the signature does not match the pinned key");
        assert!(
            matches!(
                err,
                TlsError::InvalidCertificate(CertificateError::BadSignature)
                    | TlsError::PeerMisbehaved(_)
            ),
            "{err:?}"
        );
        assert_eq!(rejection(&err, "charla.test"), None);
    }
}
