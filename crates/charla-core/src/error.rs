//! Errors as the UI sees them: a stable machine-readable [`ErrorCode`] plus a
//! human-readable message. The UI maps codes to translated text; it never
//! matches on the message.

use serde::Serialize;
use ts_rs::TS;

use crate::certificate::CertificateProblem;

/// Stable error codes. Serialized as `snake_case` strings; never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// A JID was not syntactically valid (caught before any network I/O).
    InvalidJid,
    /// Other invalid input from the caller (empty message, bad port...).
    InvalidInput,
    /// The server rejected the credentials (SASL failure).
    AuthFailed,
    /// The server offered no authentication mechanism Charla accepts.
    AuthMechanism,
    /// The server offered only login methods weaker than one that worked
    /// for this account before (a possible man in the middle).
    AuthDowngrade,
    /// The server's certificate is not trusted or not valid for the domain.
    TlsCertificate,
    /// TLS could not be negotiated (server lacks STARTTLS, handshake failed).
    Tls,
    /// The server could not be resolved or reached.
    Unreachable,
    /// The server did not complete the login in time.
    Timeout,
    /// The server closed the stream with an error.
    StreamError,
    /// The server broke the protocol.
    Protocol,
    /// The account is not connected.
    NotConnected,
    /// No such account.
    UnknownAccount,
    /// The disk is full; nothing was written.
    DiskFull,
    /// The local database failed.
    Store,
    /// The server does not allow creating accounts (XEP-0077).
    RegistrationClosed,
    /// The user name is already registered on the server.
    UsernameTaken,
    /// The server refused the user name, the password or another field.
    NotAcceptable,
    /// The server's registration form requires a field Charla cannot fill
    /// (a CAPTCHA, for instance).
    FormUnsupported,
    /// The server refused to change or remove the account.
    Refused,
    /// No OS keyring (Secret Service) can be reached, so passwords cannot
    /// be remembered.
    KeyringUnavailable,
    /// The OS keyring is locked or refused access.
    KeyringLocked,
    /// No password is remembered for the account: the user must type it.
    PasswordNeeded,
    /// An `xmpp:` link is not well-formed (RFC 5122), so nothing was done.
    BadLink,
    /// The room (or the server) does not allow us to do that: we lack the
    /// role or affiliation (`forbidden`, `not-allowed`).
    Forbidden,
    /// The change conflicts with the room's state, e.g. it would leave a
    /// room without an owner (`conflict`).
    Conflict,
    /// No such room, or nobody by that name in it (`item-not-found`).
    NotFound,
    /// The room or server does not do that (`feature-not-implemented`,
    /// `service-unavailable`).
    Unsupported,
}

/// An error with a stable code, as delivered to the UI as `{code, message}`
/// (plus `certificate` for an untrusted server certificate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct CoreError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people (English, technical detail).
    pub message: String,
    /// With `tls_certificate`: the rejected certificate, which the user may
    /// pin (`Core::pin_certificate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub certificate: Option<CertificateProblem>,
}

impl CoreError {
    /// Whether the peer answered a request with an error (any condition),
    /// or with something unreadable: it exists and said no, as opposed to
    /// a local failure or a lost connection.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::Protocol
                | ErrorCode::Forbidden
                | ErrorCode::Conflict
                | ErrorCode::NotFound
                | ErrorCode::Unsupported
                | ErrorCode::NotAcceptable
        )
    }

    /// Builds an error from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            certificate: None,
        }
    }

    /// Attaches the rejected certificate's details.
    pub fn with_certificate(self, certificate: Option<CertificateProblem>) -> Self {
        Self {
            certificate,
            ..self
        }
    }
}

impl From<charla_store::StoreError> for CoreError {
    fn from(e: charla_store::StoreError) -> Self {
        let code = match e {
            charla_store::StoreError::DiskFull => ErrorCode::DiskFull,
            _ => ErrorCode::Store,
        };
        Self::new(code, e.to_string())
    }
}

impl From<xmpp_parsers::jid::Error> for CoreError {
    fn from(e: xmpp_parsers::jid::Error) -> Self {
        Self::new(ErrorCode::InvalidJid, format!("invalid JID: {e}"))
    }
}
