//! Unit tests of in-band registration.

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
