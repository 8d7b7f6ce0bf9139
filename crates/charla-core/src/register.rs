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
use serde::Serialize;
use tokio::sync::oneshot;
use tokio_xmpp::xmlstream::{ReadError, XmppStream, XmppStreamElement};
use ts_rs::TS;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::ibr::{FormQuery, RemoveQuery};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};
use xmpp_parsers::stream_features::StreamFeatures;

use crate::c2s::{self, Io, Keepalive, LoginConfig, ServerAddress, TlsTrust};
use crate::error::{CoreError, ErrorCode};
use crate::session::Command;
use crate::{parse_bare_jid, AccountId, Core};

/// How long a whole registration (connect, TLS, form, answer) may take.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(20);
/// The `FORM_TYPE` of a registration form.
const FORM_TYPE: &str = "jabber:iq:register";
/// Legacy query children that are not fields to fill.
const NOT_FIELDS: &[&str] = &["instructions", "registered", "username", "password", "x"];

/// Where to create an account and how to reach the server.
#[derive(Debug, Clone)]
pub struct RegisterOptions {
    /// Manual server address; `None` looks it up through DNS SRV.
    pub server: Option<ServerAddress>,
    /// Which certificates to trust.
    pub trust: TlsTrust,
}

/// What a server asks of a new account besides its name and password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RegistrationForm {
    /// The server's instructions, if it gave any.
    pub instructions: Option<String>,
    /// The extra fields to fill (e-mail address, full name...), in the
    /// server's order.
    pub fields: Vec<RegistrationField>,
    /// A web page where accounts can be created (XEP-0077 §5, an XEP-0066
    /// `jabber:x:oob` URL; http or https only), if the server gives one.
    pub url: Option<String>,
    /// Whether accounts can be created from Charla; if not, only on
    /// [`RegistrationForm::url`].
    pub in_band: bool,
}

/// One extra field of a registration form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RegistrationField {
    /// The field's name, the key of its value in [`register`]'s `extra`.
    pub var: String,
    /// The server's label for it, if any.
    pub label: Option<String>,
    /// The server's description of it, if any.
    pub desc: Option<String>,
    /// The server refuses the registration without it.
    pub required: bool,
    /// How it is filled in.
    pub kind: FieldKind,
    /// The value the server proposes, if any.
    pub value: Option<String>,
}

/// How a registration field is filled in (the data form field types
/// Charla shows, XEP-0004 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    /// One line of text (`text-single`).
    Text,
    /// Several lines of text (`text-multi`), one value per line.
    Lines,
    /// A secret, typed into a password field (`text-private`).
    Secret,
    /// One of the server's options (`list-single`); the value is the
    /// option's value.
    Choice {
        /// The options, in the server's order.
        options: Vec<FieldOption>,
    },
    /// Yes or no (`boolean`); the value is `true` or `false`.
    Flag,
    /// An XMPP address (`jid-single`).
    Address,
}

/// One option of a [`FieldKind::Choice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FieldOption {
    /// What the user sees (the value when the server gave no label).
    pub label: String,
    /// What is sent.
    pub value: String,
}

/// The fields the server offered: its data form, or the legacy list of
/// element names (every one required, XEP-0077 §3.1).
#[derive(Debug, Clone)]
pub(crate) enum Offer {
    Form {
        instructions: Option<String>,
        form: DataForm,
        web: Option<String>,
    },
    Legacy {
        instructions: Option<String>,
        fields: Vec<String>,
        web: Option<String>,
    },
    /// Accounts are created on a web page only (no user name or password
    /// field, just an XEP-0066 URL).
    Web {
        instructions: Option<String>,
        url: String,
    },
}

/// `url` if it is an http or https address without spaces or control
/// characters (a page the user may open in the browser).
fn web_page(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    (web && url.len() > 8 && !url.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| url.to_owned())
}

impl Offer {
    pub(crate) fn parse(payload: Option<Element>) -> Result<Offer, CoreError> {
        let query = payload
            .filter(|q| q.is("query", ns::REGISTER))
            .ok_or_else(|| {
                CoreError::new(ErrorCode::Protocol, "the server sent no registration query")
            })?;
        let instructions = query
            .get_child("instructions", ns::REGISTER)
            .map(|i| i.text().trim().to_owned())
            .filter(|i| !i.is_empty());
        let web = query
            .get_child("x", ns::OOB)
            .and_then(|x| x.get_child("url", ns::OOB))
            .and_then(|u| web_page(&u.text()));
        if let Some(x) = query.get_child("x", ns::DATA_FORMS) {
            let form = DataForm::try_from(x.clone()).map_err(|e| {
                CoreError::new(ErrorCode::Protocol, format!("bad registration form: {e}"))
            })?;
            let instructions = form.instructions.clone().or(instructions);
            return Ok(Offer::Form {
                instructions,
                form,
                web,
            });
        }
        let in_band = ["username", "password"]
            .iter()
            .any(|name| query.has_child(name, ns::REGISTER));
        if let (false, Some(url)) = (in_band, web.clone()) {
            return Ok(Offer::Web { instructions, url });
        }
        let fields = query
            .children()
            .filter(|c| c.ns() == ns::REGISTER && !NOT_FIELDS.contains(&c.name()))
            .map(|c| c.name().to_owned())
            .collect();
        Ok(Offer::Legacy {
            instructions,
            fields,
            web,
        })
    }

    /// The extra fields for the user, or `FormUnsupported` if the server
    /// requires one Charla cannot show (a CAPTCHA, a choice, a JID...).
    pub(crate) fn form(&self) -> Result<RegistrationForm, CoreError> {
        match self {
            Offer::Web { instructions, url } => Ok(RegistrationForm {
                instructions: instructions.clone(),
                fields: Vec::new(),
                url: Some(url.clone()),
                in_band: false,
            }),
            Offer::Legacy {
                instructions,
                fields,
                web,
            } => Ok(RegistrationForm {
                instructions: instructions.clone(),
                url: web.clone(),
                in_band: true,
                fields: fields
                    .iter()
                    .map(|var| RegistrationField {
                        var: var.clone(),
                        label: None,
                        desc: None,
                        required: true,
                        kind: FieldKind::Text,
                        value: None,
                    })
                    .collect(),
            }),
            Offer::Form {
                instructions,
                form,
                web,
            } => {
                let mut fields = Vec::new();
                for field in &form.fields {
                    match role(field) {
                        Role::Ours | Role::Returned | Role::Skipped => {}
                        Role::User(kind) => fields.push(RegistrationField {
                            var: field.var.clone().unwrap_or_default(),
                            label: field.label.clone(),
                            desc: field.desc.clone(),
                            required: field.required,
                            value: proposed(field, &kind),
                            kind,
                        }),
                        Role::Unsupported if field.required => {
                            let name = field.label.as_deref().or(field.var.as_deref());
                            return Err(CoreError::new(
                                ErrorCode::FormUnsupported,
                                format!(
                                    "the server requires a field Charla cannot fill: {}",
                                    name.unwrap_or("?")
                                ),
                            ));
                        }
                        Role::Unsupported => {}
                    }
                }
                Ok(RegistrationForm {
                    instructions: instructions.clone(),
                    fields,
                    url: web.clone(),
                    in_band: true,
                })
            }
        }
    }

    /// The query that answers this offer.
    fn fill(
        &self,
        username: &str,
        password: &str,
        extra: &BTreeMap<String, String>,
    ) -> Result<Element, CoreError> {
        let wanted = self.form()?;
        for field in &wanted.fields {
            let given = extra.get(&field.var).map(|v| v.trim()).unwrap_or("");
            if field.required && given.is_empty() {
                return Err(CoreError::new(
                    ErrorCode::InvalidInput,
                    format!("the server requires the field '{}'", field.var),
                ));
            }
            if !given.is_empty() {
                check(field, given)?;
            }
        }
        let value = |var: &str| -> Option<String> {
            match var {
                "username" => Some(username.to_owned()),
                "password" => Some(password.to_owned()),
                _ => extra
                    .get(var)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty()),
            }
        };
        match self {
            Offer::Web { url, .. } => Err(CoreError::new(
                ErrorCode::RegistrationClosed,
                format!("this server creates accounts on its web page only: {url}"),
            )),
            Offer::Legacy { fields, .. } => {
                let mut query = Element::builder("query", ns::REGISTER)
                    .append(text_child("username", username))
                    .append(text_child("password", password));
                for var in fields {
                    query = query.append(text_child(var, &value(var).unwrap_or_default()));
                }
                Ok(query.build())
            }
            Offer::Form { form, .. } => {
                // The server's FORM_TYPE comes back with its hidden fields.
                let mut submit = DataForm {
                    type_: DataFormType::Submit,
                    title: None,
                    instructions: None,
                    fields: Vec::new(),
                };
                for field in &form.fields {
                    let var = field.var.clone().unwrap_or_default();
                    match role(field) {
                        Role::Returned => {
                            let mut back = Field::new(&var, field.type_.clone());
                            back.values = field.values.clone();
                            submit.fields.push(back);
                        }
                        Role::Ours => {
                            if let Some(v) = value(&var) {
                                submit
                                    .fields
                                    .push(Field::new(&var, field.type_.clone()).with_value(&v));
                            }
                        }
                        Role::User(kind) => {
                            if let Some(v) = value(&var) {
                                let mut answer = Field::new(&var, field.type_.clone());
                                answer.values = submitted(&kind, &v);
                                submit.fields.push(answer);
                            }
                        }
                        Role::Skipped | Role::Unsupported => {}
                    }
                }
                if submit.form_type().is_none() {
                    submit.set_form_type(FORM_TYPE.to_owned());
                }
                Ok(FormQuery {
                    instructions: None,
                    form: submit,
                }
                .into())
            }
        }
    }
}

fn text_child(name: &str, text: &str) -> Element {
    Element::builder(name, ns::REGISTER).append(text).build()
}

/// What Charla does with one field of the server's form.
enum Role {
    /// The user name or password, filled from the request.
    Ours,
    /// A hidden field, sent back as it came (FORM_TYPE, a challenge id).
    Returned,
    /// Instructions only (`fixed`).
    Skipped,
    /// A field for the user.
    User(FieldKind),
    /// A field Charla cannot show: a CAPTCHA (XEP-0158, it carries media),
    /// several choices or addresses.
    Unsupported,
}

fn role(field: &Field) -> Role {
    let var = field.var.as_deref().unwrap_or_default();
    if field.type_ == FieldType::Fixed {
        return Role::Skipped;
    }
    if var == "FORM_TYPE" || field.type_ == FieldType::Hidden {
        return Role::Returned;
    }
    if !field.media.is_empty() || var == "ocr" {
        return Role::Unsupported;
    }
    if var == "username" || var == "password" {
        return Role::Ours;
    }
    let kind = match field.type_ {
        FieldType::TextSingle => FieldKind::Text,
        FieldType::TextMulti => FieldKind::Lines,
        FieldType::TextPrivate => FieldKind::Secret,
        FieldType::Boolean => FieldKind::Flag,
        FieldType::JidSingle => FieldKind::Address,
        FieldType::ListSingle if !field.options.is_empty() => FieldKind::Choice {
            options: field
                .options
                .iter()
                .map(|o| FieldOption {
                    label: o.label.clone().unwrap_or_else(|| o.value.clone()),
                    value: o.value.clone(),
                })
                .collect(),
        },
        _ => return Role::Unsupported,
    };
    Role::User(kind)
}

/// The server's proposed value of `field`, in the form the UI edits.
fn proposed(field: &Field, kind: &FieldKind) -> Option<String> {
    let value = match kind {
        FieldKind::Lines => field.values.join("\n"),
        FieldKind::Flag => match field.values.first().map(String::as_str) {
            Some("1" | "true") => "true".to_owned(),
            Some("0" | "false") => "false".to_owned(),
            _ => return None,
        },
        _ => field.values.first()?.clone(),
    };
    Some(value).filter(|v| !v.is_empty())
}

/// Checks a value the user gave for `field`.
fn check(field: &RegistrationField, given: &str) -> Result<(), CoreError> {
    let ok = match &field.kind {
        FieldKind::Choice { options } => options.iter().any(|o| o.value == given),
        FieldKind::Flag => matches!(given, "true" | "false"),
        FieldKind::Address => parse_bare_jid(given).is_ok(),
        FieldKind::Text | FieldKind::Lines | FieldKind::Secret => true,
    };
    if ok {
        Ok(())
    } else {
        Err(CoreError::new(
            ErrorCode::InvalidInput,
            format!(
                "{given:?} is not a valid value for the field '{}'",
                field.var
            ),
        ))
    }
}

/// The values sent for a user's answer (XEP-0004: a boolean is `1` or
/// `0`, text-multi has one value per line).
fn submitted(kind: &FieldKind, given: &str) -> Vec<String> {
    match kind {
        FieldKind::Lines => given.lines().map(str::to_owned).collect(),
        FieldKind::Flag => vec![if given == "true" { "1" } else { "0" }.to_owned()],
        _ => vec![given.to_owned()],
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Offer {
        Offer::parse(Some(xml.parse().expect("xml"))).expect("offer")
    }

    const PROSODY_FORM: &str = "<query xmlns='jabber:iq:register'>\
        <instructions>Choose a username and password.</instructions>\
        <username/><password/><email/>\
        <x xmlns='jabber:x:data' type='form'>\
          <title>Creating a new account</title>\
          <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>\
          <field type='text-single' var='username' label='Username'><required/></field>\
          <field type='text-private' var='password' label='Password'><required/></field>\
          <field type='text-single' var='email' label='Email'><required/></field>\
          <field type='fixed'><value>Welcome</value></field>\
        </x></query>";

    #[test]
    fn a_data_form_offers_its_extra_text_fields() {
        let form = parse(PROSODY_FORM).form().expect("form");
        assert_eq!(
            form.fields,
            vec![RegistrationField {
                var: "email".into(),
                label: Some("Email".into()),
                desc: None,
                required: true,
                kind: FieldKind::Text,
                value: None,
            }]
        );
    }

    const CHOICES_FORM: &str = "<query xmlns='jabber:iq:register'>\
        <x xmlns='jabber:x:data' type='form'>\
          <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>\
          <field type='text-single' var='username'><required/></field>\
          <field type='text-private' var='password'><required/></field>\
          <field type='list-single' var='lang' label='Language'><required/>\
            <option label='English'><value>en</value></option>\
            <option><value>es</value></option></field>\
          <field type='boolean' var='news' label='News'><value>0</value></field>\
          <field type='jid-single' var='referrer'/>\
          <field type='text-multi' var='about'/>\
          <field type='list-multi' var='topics'><option><value>a</value></option></field>\
        </x></query>";

    #[test]
    fn choices_flags_addresses_and_lines_are_offered_and_checked() {
        let offer = parse(CHOICES_FORM);
        let form = offer.form().expect("form");
        let kinds: Vec<(&str, &FieldKind, Option<&str>)> = form
            .fields
            .iter()
            .map(|f| (f.var.as_str(), &f.kind, f.value.as_deref()))
            .collect();
        let choice = FieldKind::Choice {
            options: vec![
                FieldOption {
                    label: "English".into(),
                    value: "en".into(),
                },
                FieldOption {
                    label: "es".into(),
                    value: "es".into(),
                },
            ],
        };
        // The optional list-multi is left out.
        assert_eq!(
            kinds,
            [
                ("lang", &choice, None),
                ("news", &FieldKind::Flag, Some("false")),
                ("referrer", &FieldKind::Address, None),
                ("about", &FieldKind::Lines, None),
            ]
        );

        let answers = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        for bad in [
            answers(&[("lang", "fr")]),
            answers(&[("lang", "es"), ("news", "maybe")]),
            answers(&[("lang", "es"), ("referrer", "not a jid")]),
        ] {
            let err = offer.fill("romeo", "pw", &bad).expect_err("invalid");
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
        }
        let query = offer
            .fill(
                "romeo",
                "pw",
                &answers(&[
                    ("lang", "es"),
                    ("news", "true"),
                    ("referrer", "juliet@example.org"),
                    ("about", "line one\nline two"),
                ]),
            )
            .expect("filled");
        let x = query.get_child("x", ns::DATA_FORMS).expect("form");
        let values = |var: &str| -> Vec<String> {
            x.children()
                .find(|f| f.attr("var") == Some(var))
                .map(|f| f.children().map(|v| v.text()).collect())
                .unwrap_or_default()
        };
        assert_eq!(values("lang"), ["es"]);
        assert_eq!(values("news"), ["1"]);
        assert_eq!(values("referrer"), ["juliet@example.org"]);
        assert_eq!(values("about"), ["line one", "line two"]);
        assert!(values("topics").is_empty());
    }

    #[test]
    fn a_data_form_is_filled_and_submitted() {
        let offer = parse(PROSODY_FORM);
        let mut extra = BTreeMap::new();
        extra.insert("email".to_owned(), " me@example.org ".to_owned());
        let query = offer.fill("romeo", "s3cret", &extra).expect("filled");
        let x = query.get_child("x", ns::DATA_FORMS).expect("form");
        assert_eq!(x.attr("type"), Some("submit"));
        let values: Vec<(String, String)> = x
            .children()
            .map(|f| {
                (
                    f.attr("var").unwrap_or_default().to_owned(),
                    f.children().map(|v| v.text()).collect::<String>(),
                )
            })
            .collect();
        assert_eq!(
            values,
            vec![
                ("FORM_TYPE".into(), "jabber:iq:register".into()),
                ("username".into(), "romeo".into()),
                ("password".into(), "s3cret".into()),
                ("email".into(), "me@example.org".into()),
            ]
        );
    }

    #[test]
    fn a_missing_required_field_is_invalid_input() {
        let err = parse(PROSODY_FORM)
            .fill("romeo", "s3cret", &BTreeMap::new())
            .expect_err("email missing");
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn a_required_captcha_cannot_be_filled() {
        let offer = parse(
            "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>\
              <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
              <field type='text-single' var='ocr' label='Enter the text you see'><required/></field>\
            </x></query>",
        );
        assert_eq!(
            offer.form().expect_err("captcha").code,
            ErrorCode::FormUnsupported
        );
        assert_eq!(
            offer
                .fill("romeo", "x", &BTreeMap::new())
                .expect_err("captcha")
                .code,
            ErrorCode::FormUnsupported
        );
    }

    #[test]
    fn a_web_page_only_server_gives_its_url_and_takes_nothing_in_band() {
        // What ejabberd's mod_register answers with `redirect_url`.
        let offer = parse(
            "<query xmlns='jabber:iq:register'>\
               <instructions>To register, visit https://example.org/signup</instructions>\
               <x xmlns='jabber:x:oob'><url>https://example.org/signup</url></x></query>",
        );
        let form = offer.form().expect("form");
        assert_eq!(form.url.as_deref(), Some("https://example.org/signup"));
        assert!(!form.in_band);
        assert!(form.fields.is_empty());
        let err = offer
            .fill("romeo", "pw", &BTreeMap::new())
            .expect_err("web only");
        assert_eq!(err.code, ErrorCode::RegistrationClosed);

        // Beside a form, the page is an alternative; a non-web URL is ignored.
        let both = parse(
            "<query xmlns='jabber:iq:register'><username/><password/>\
               <x xmlns='jabber:x:oob'><url>http://example.org/web</url></x></query>",
        )
        .form()
        .expect("form");
        assert_eq!(
            (both.url.as_deref(), both.in_band),
            (Some("http://example.org/web"), true)
        );
        let odd = parse(
            "<query xmlns='jabber:iq:register'><username/><password/>\
               <x xmlns='jabber:x:oob'><url>javascript:alert(1)</url></x></query>",
        )
        .form()
        .expect("form");
        assert_eq!(odd.url, None);
        assert_eq!(parse(PROSODY_FORM).form().expect("form").url, None);
    }

    #[test]
    fn a_legacy_query_lists_every_field_as_required() {
        let offer = parse(
            "<query xmlns='jabber:iq:register'><instructions>Hi</instructions>\
             <username/><password/><email/></query>",
        );
        let form = offer.form().expect("form");
        assert_eq!(form.instructions.as_deref(), Some("Hi"));
        assert_eq!(form.fields.len(), 1);
        assert!(form.fields[0].required);
        let mut extra = BTreeMap::new();
        extra.insert("email".to_owned(), "a@b".to_owned());
        let query = offer.fill("romeo", "pw", &extra).expect("filled");
        assert_eq!(
            query.get_child("username", ns::REGISTER).map(|e| e.text()),
            Some("romeo".into())
        );
        assert_eq!(
            query.get_child("email", ns::REGISTER).map(|e| e.text()),
            Some("a@b".into())
        );
    }

    #[test]
    fn refusals_get_clear_codes() {
        let err = |c| StanzaError::new(xmpp_parsers::stanza_error::ErrorType::Cancel, c, "en", "");
        assert_eq!(
            submit_error(err(DefinedCondition::Conflict)).code,
            ErrorCode::UsernameTaken
        );
        assert_eq!(
            submit_error(err(DefinedCondition::NotAcceptable)).code,
            ErrorCode::NotAcceptable
        );
        assert_eq!(
            submit_error(err(DefinedCondition::NotAllowed)).code,
            ErrorCode::RegistrationClosed
        );
        assert_eq!(
            management_error(err(DefinedCondition::NotAuthorized)).code,
            ErrorCode::Refused
        );
    }

    #[test]
    fn a_query_that_is_not_a_registration_query_is_a_protocol_error() {
        let el: Element = "<query xmlns='jabber:iq:roster'/>".parse().expect("xml");
        assert_eq!(
            Offer::parse(Some(el)).expect_err("wrong").code,
            ErrorCode::Protocol
        );
        assert_eq!(
            Offer::parse(None).expect_err("empty").code,
            ErrorCode::Protocol
        );
    }
}
