//! The registration form (XEP-0077, XEP-0004): what the server offers,
//! which fields Charla fills itself, which the user fills, and the
//! answer built from both.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::ibr::FormQuery;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

use crate::c2s::{ServerAddress, TlsTrust};
use crate::error::{CoreError, ErrorCode};
use crate::parse_bare_jid;

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
    pub(super) fn fill(
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

pub(super) fn text_child(name: &str, text: &str) -> Element {
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
