//! In-band registration (XEP-0077): creating an account on a server that
//! allows it, before any login, with the server's data form (XEP-0004) when
//! it sends one; and, once logged in, changing the password and removing
//! the account from the server.
//!
//! tokio-xmpp has no registration helper: [`register`] opens the stream
//! with the same connector as a login ([`c2s::reach`]: endpoints, STARTTLS
//! or direct TLS, the same certificate checks), then asks for the fields
//! (`iq get`) and sends them (`iq set`) before any SASL.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio_xmpp::xmlstream::{ReadError, XmppStream, XmppStreamElement};
use xmpp_parsers::ibr::RemoveQuery;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};
use xmpp_parsers::stream_features::StreamFeatures;

use crate::c2s::{self, Io, Keepalive, LoginConfig};
use crate::error::{CoreError, ErrorCode};
use crate::session::Command;
use crate::{parse_bare_jid, AccountId, Core};

/// How long a whole registration (connect, TLS, form, answer) may take.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(20);

mod form;
#[cfg(test)]
mod tests;

use form::text_child;
pub(crate) use form::Offer;
pub use form::{FieldKind, FieldOption, RegisterOptions, RegistrationField, RegistrationForm};

/// Asks the server of `jid` (`user@domain`) which extra fields a new
/// account needs. Fails with `RegistrationClosed` if it does not allow
/// in-band registration, `FormUnsupported` if it requires a field Charla
/// cannot fill, or with the connection's own errors (`Unreachable`,
/// `Tls`, `TlsCertificate`, `Timeout`).
pub async fn registration_form(
    jid: &str,
    options: &RegisterOptions,
) -> Result<RegistrationForm, CoreError> {
    let jid = parse_bare_jid(jid)?;
    within_timeout(async {
        let mut stream = open(&jid, options).await?;
        let offer = fetch_offer(&mut stream, &jid).await?;
        close(stream).await;
        offer.form()
    })
    .await
}

/// Creates the account `jid` with `password`, filling the server's extra
/// fields from `extra` (by [`RegistrationField::var`]). On success the
/// account can log in. Fails with `UsernameTaken`, `NotAcceptable` (the
/// server refused the name, the password or a field), `RegistrationClosed`,
/// `FormUnsupported`, `InvalidInput` (a required field is empty), or the
/// connection's own errors.
pub async fn register(
    jid: &str,
    password: &str,
    extra: &BTreeMap<String, String>,
    options: &RegisterOptions,
) -> Result<(), CoreError> {
    let jid = parse_bare_jid(jid)?;
    if password.is_empty() {
        return Err(CoreError::new(
            ErrorCode::InvalidInput,
            "the password is empty",
        ));
    }
    let username = jid
        .node()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    within_timeout(async {
        let mut stream = open(&jid, options).await?;
        let offer = fetch_offer(&mut stream, &jid).await?;
        let query = offer.fill(&username, password, extra)?;
        let answer = ask(
            &mut stream,
            &jid,
            Iq::Set {
                from: None,
                to: Some(Jid::from(jid.domain().to_owned())),
                id: uuid::Uuid::new_v4().to_string(),
                payload: query,
            },
        )
        .await?;
        close(stream).await;
        answer.map(|_| ()).map_err(submit_error)
    })
    .await
}

async fn within_timeout<T>(
    work: impl std::future::Future<Output = Result<T, CoreError>>,
) -> Result<T, CoreError> {
    tokio::time::timeout(REGISTER_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| {
            Err(CoreError::new(
                ErrorCode::Timeout,
                format!("the server did not answer within {REGISTER_TIMEOUT:?}"),
            ))
        })
}

/// Opens a secured, unauthenticated stream to the server of `jid` that
/// offers registration.
async fn open(jid: &BareJid, options: &RegisterOptions) -> Result<XmppStream<Io>, CoreError> {
    // Nothing is authenticated on this stream: no password.
    let cfg = LoginConfig {
        jid: jid.clone(),
        password: String::new(),
        server: options.server.clone(),
        trust: options.trust.clone(),
        keepalive: Keepalive::default(),
        sasl: Default::default(),
    };
    let (pending, _binding) = c2s::reach(&cfg).await.map_err(|f| f.error)?;
    let (features, stream): (StreamFeatures, XmppStream<Io>) = pending
        .recv_features()
        .await
        .map_err(|e| CoreError::new(ErrorCode::Protocol, format!("no stream features: {e:?}")))?;
    if !features.in_band_registration {
        return Err(CoreError::new(
            ErrorCode::RegistrationClosed,
            format!("{} does not allow creating accounts here", jid.domain()),
        ));
    }
    Ok(stream)
}

async fn fetch_offer(stream: &mut XmppStream<Io>, jid: &BareJid) -> Result<Offer, CoreError> {
    let get = Iq::Get {
        from: None,
        to: Some(Jid::from(jid.domain().to_owned())),
        id: uuid::Uuid::new_v4().to_string(),
        payload: Element::builder("query", ns::REGISTER).build(),
    };
    match ask(stream, jid, get).await? {
        Ok(payload) => Offer::parse(payload),
        Err(e) => Err(match e.defined_condition {
            DefinedCondition::ServiceUnavailable
            | DefinedCondition::FeatureNotImplemented
            | DefinedCondition::NotAllowed
            | DefinedCondition::Forbidden => CoreError::new(
                ErrorCode::RegistrationClosed,
                format!(
                    "{} does not allow creating accounts: {}",
                    jid.domain(),
                    describe(&e)
                ),
            ),
            _ => CoreError::new(
                ErrorCode::Protocol,
                format!("no registration form: {}", describe(&e)),
            ),
        }),
    }
}

/// Sends `iq` and waits for its answer from the server (no `from`, or the
/// domain: nobody else can reach an unauthenticated stream).
async fn ask(
    stream: &mut XmppStream<Io>,
    jid: &BareJid,
    iq: Iq,
) -> Result<Result<Option<Element>, StanzaError>, CoreError> {
    let id = match &iq {
        Iq::Get { id, .. } | Iq::Set { id, .. } | Iq::Result { id, .. } | Iq::Error { id, .. } => {
            id.clone()
        }
    };
    stream
        .send(&XmppStreamElement::Stanza(Stanza::Iq(iq)))
        .await
        .map_err(lost)?;
    let server = Jid::from(jid.domain().to_owned());
    loop {
        let element = match stream
            .next()
            .await
            .map(|v| v.and_then(|v| v.into_read_error()))
        {
            Some(Ok(element)) => element,
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(lost(e)),
            Some(Err(ReadError::ParseError(e))) => {
                return Err(CoreError::new(ErrorCode::Protocol, e.to_string()))
            }
            None | Some(Err(ReadError::StreamFooterReceived)) => {
                return Err(lost(io::ErrorKind::UnexpectedEof.into()))
            }
        };
        let answer = match element {
            XmppStreamElement::Stanza(Stanza::Iq(answer)) => answer,
            XmppStreamElement::StreamError(e) => {
                return Err(CoreError::new(
                    ErrorCode::StreamError,
                    format!("the server closed the stream: {e:?}"),
                ))
            }
            _ => continue,
        };
        match answer {
            Iq::Result {
                from,
                id: got,
                payload,
                ..
            } if got == id && from.as_ref().is_none_or(|f| *f == server) => return Ok(Ok(payload)),
            Iq::Error {
                from,
                id: got,
                error,
                ..
            } if got == id && from.as_ref().is_none_or(|f| *f == server) => return Ok(Err(error)),
            _ => continue,
        }
    }
}

async fn close(mut stream: XmppStream<Io>) {
    let _ = stream.shutdown().await;
}

fn lost(e: io::Error) -> CoreError {
    CoreError::new(ErrorCode::Unreachable, format!("connection lost: {e}"))
}

/// The server's condition and text, for the error message.
fn describe(e: &StanzaError) -> String {
    match e.texts.values().next() {
        Some(text) => format!("{:?} ({text})", e.defined_condition),
        None => format!("{:?}", e.defined_condition),
    }
}

/// Classifies the server's refusal of a registration.
fn submit_error(e: StanzaError) -> CoreError {
    let code = match e.defined_condition {
        DefinedCondition::Conflict => ErrorCode::UsernameTaken,
        DefinedCondition::NotAcceptable
        | DefinedCondition::BadRequest
        | DefinedCondition::JidMalformed
        | DefinedCondition::PolicyViolation
        | DefinedCondition::ResourceConstraint => ErrorCode::NotAcceptable,
        DefinedCondition::NotAllowed
        | DefinedCondition::Forbidden
        | DefinedCondition::ServiceUnavailable
        | DefinedCondition::FeatureNotImplemented
        | DefinedCondition::RegistrationRequired => ErrorCode::RegistrationClosed,
        _ => ErrorCode::Protocol,
    };
    CoreError::new(
        code,
        format!("the server refused the registration: {}", describe(&e)),
    )
}

/// Classifies the server's refusal of a password change or removal.
fn management_error(e: StanzaError) -> CoreError {
    let code = match e.defined_condition {
        DefinedCondition::NotAcceptable
        | DefinedCondition::BadRequest
        | DefinedCondition::PolicyViolation => ErrorCode::NotAcceptable,
        DefinedCondition::InternalServerError | DefinedCondition::RemoteServerTimeout => {
            ErrorCode::Protocol
        }
        _ => ErrorCode::Refused,
    };
    CoreError::new(code, format!("the server refused: {}", describe(&e)))
}

impl Core {
    /// The account's address (bare JID).
    pub fn account_address(&self, account: AccountId) -> Result<String, CoreError> {
        self.account_jid(account).map(|jid| jid.to_string())
    }

    /// Sends an account management request to the account's server and
    /// waits for the answer.
    async fn manage(&self, account: AccountId, payload: Element) -> Result<(), CoreError> {
        let (reply, answer) = oneshot::channel();
        if !self
            .send_command(account, Command::Account { payload, reply })
            .await
        {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        match answer.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(management_error(e)),
            Err(_) => Err(CoreError::new(
                ErrorCode::NotConnected,
                "the session ended before the server answered",
            )),
        }
    }

    /// Changes the account's password on the server (XEP-0077 §3.3); the
    /// account must be online. Afterwards the session logs in again with
    /// the new password (keeping the chosen presence), so that a later
    /// reconnect does not use the old one. Fails with `NotConnected`,
    /// `NotAcceptable` (e.g. a password the server finds too weak) or
    /// `Refused`.
    pub async fn change_password(
        &self,
        account: AccountId,
        password: &str,
    ) -> Result<(), CoreError> {
        if password.is_empty() {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "the password is empty",
            ));
        }
        let jid = self.account_jid(account)?;
        let username = jid.node().map(|n| n.as_str()).unwrap_or_default();
        let query = Element::builder("query", ns::REGISTER)
            .append(text_child("username", username))
            .append(text_child("password", password))
            .build();
        self.manage(account, query).await?;
        let options = self.logins.lock().ok().and_then(|mut logins| {
            let options = logins.get_mut(&account)?;
            options.password = password.to_owned();
            Some(options.clone())
        });
        match options {
            Some(options) => self.connect(account, options).await,
            None => Ok(()),
        }
    }

    /// Deletes the account on its server (XEP-0077 §3.2, `<remove/>`);
    /// the account must be online. Afterwards it is disconnected and its
    /// password forgotten; what is stored locally stays until
    /// [`Core::remove_account`]. Fails with `NotConnected` or `Refused`.
    pub async fn delete_account_on_server(&self, account: AccountId) -> Result<(), CoreError> {
        self.account_jid(account)?;
        self.manage(account, RemoveQuery { remove: true }.into())
            .await?;
        self.forget(account).await;
        Ok(())
    }

    /// Removes an account from Charla: it is disconnected and its password
    /// forgotten. With `keep_history` its conversations stay readable
    /// offline (unsent messages become failed, nothing more is sent);
    /// without, its messages, contacts, outbox and archive state are
    /// deleted in one transaction. The server is not told.
    pub async fn remove_account(
        &self,
        account: AccountId,
        keep_history: bool,
    ) -> Result<(), CoreError> {
        self.account_jid(account)?;
        self.forget(account).await;
        self.store(|s| s.remove_account(account, keep_history))
            .map(|_| ())
    }

    /// Disconnects an account and drops its remembered login options.
    async fn forget(&self, account: AccountId) {
        self.disconnect(account).await;
        if let Ok(mut logins) = self.logins.lock() {
            logins.remove(&account);
        }
    }
}
