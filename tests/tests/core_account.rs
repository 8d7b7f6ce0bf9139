//! Sign-up and account care (XEP-0077) against a real Prosody: creating an account in-band
//! (with a data form asking for an e-mail address), the clear errors of a server that does not
//! allow it, a taken name and a CAPTCHA Charla cannot fill; changing the password; deleting the
//! account on the server; removing an account from Charla with or without its history.
//!
//! Tests run on Prosody and on ejabberd, except those that need a sign-up form with extra
//! fields (Prosody's `additional_registration_fields`; the binary's ejabberd is shared and has
//! none).

use std::collections::BTreeMap;
use std::time::Duration;

use charla_core::{
    register, ErrorCode, Event, FieldKind, FieldOption, MessageState, RegisterOptions,
    ServerAddress, Show, TlsTrust,
};
use charla_tests::{both_servers, options, Device, Flavor, Server, TestServer, XmppServer};

const WAIT: Duration = Duration::from_secs(30);

fn reg_options<S: XmppServer + ?Sized>(server: &S) -> RegisterOptions {
    RegisterOptions {
        server: Some(ServerAddress {
            host: server.host().into(),
            port: server.c2s_port(),
            direct_tls: false,
        }),
        trust: TlsTrust::from_ca_pem(server.ca_cert_pem_bytes()).expect("test CA"),
    }
}

/// Tries a fresh login of `user` with `password`; the first login's answer.
async fn try_login<S: XmppServer + ?Sized>(
    server: &S,
    user: &str,
    password: &str,
) -> Result<(), ErrorCode> {
    let d = Device::new(server, user, WAIT);
    let result = d
        .core
        .connect(d.account, options(server, password, None))
        .await
        .map_err(|e| e.code);
    d.core.disconnect(d.account).await;
    result
}

/// Asks `server` for the sign-up form for `newbie`, then signs up without it anyway: both
/// fail with `code` (`why` is the expected reason), and no account is made.
async fn assert_registration_refused(server: &Server, code: ErrorCode, why: &str) {
    let opts = reg_options(server);
    let jid = server.jid("newbie");
    let err = register::registration_form(&jid, &opts)
        .await
        .expect_err(why);
    assert_eq!(err.code, code, "{err:?}");
    let err = register::register(&jid, "pw", &BTreeMap::new(), &opts)
        .await
        .expect_err(why);
    assert_eq!(err.code, code, "{err:?}");
    assert!(!server.account_exists("newbie").await.expect("check"));
}

/// Checks that nothing remembers `device`'s login any more: going online again has no password
/// to log in with.
async fn assert_login_forgotten(device: &Device) {
    let err = device
        .core
        .set_presence(device.account, Show::Available, None)
        .await
        .expect_err("forgotten");
    assert_eq!(err.code, ErrorCode::NotConnected);
}

/// The plain sign-up both servers offer (name and password, no form).
async fn registration_creates_an_account_that_logs_in(flavor: Flavor) {
    let server = Server::builder(flavor)
        .allow_registration(true)
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("server");
    let opts = reg_options(&server);
    let newbie = server.jid("newbie");
    let form = register::registration_form(&newbie, &opts)
        .await
        .expect("form");
    assert!(form.fields.is_empty(), "{:?}", form.fields);
    register::register(&newbie, "newbie-pw", &BTreeMap::new(), &opts)
        .await
        .expect("register");
    assert!(server.account_exists("newbie").await.expect("check"));
    assert_eq!(try_login(&server, "newbie", "newbie-pw").await, Ok(()));
    for taken in [&newbie, &server.jid("alice")] {
        let err = register::register(taken, "other-pw", &BTreeMap::new(), &opts)
            .await
            .expect_err("taken");
        assert_eq!(err.code, ErrorCode::UsernameTaken, "{err:?}");
    }
    assert_eq!(try_login(&server, "alice", "alice-pw").await, Ok(()));
}

#[tokio::test]
async fn registration_with_a_form_creates_an_account_that_logs_in() {
    let server = TestServer::builder()
        .allow_registration(true)
        .host_config("additional_registration_fields = { \"email+\" }")
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("prosody");
    let opts = reg_options(&server);
    let newbie = server.jid("newbie");

    // The form asks for an e-mail address besides the name and password.
    let form = register::registration_form(&newbie, &opts)
        .await
        .expect("form");
    let vars: Vec<_> = form
        .fields
        .iter()
        .map(|f| (f.var.as_str(), f.required))
        .collect();
    assert_eq!(vars, [("email", true)]);

    // Without it, nothing is sent and nothing is created.
    let err = register::register(&newbie, "newbie-pw", &BTreeMap::new(), &opts)
        .await
        .expect_err("email missing");
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err:?}");
    assert!(!server.account_exists("newbie"));

    let mut extra = BTreeMap::new();
    extra.insert("email".to_owned(), "newbie@example.org".to_owned());
    register::register(&newbie, "newbie-pw", &extra, &opts)
        .await
        .expect("register");
    assert!(server.account_exists("newbie"));
    assert_eq!(try_login(&server, "newbie", "newbie-pw").await, Ok(()));

    // The same name again, and an existing account's name, are taken.
    for taken in [&newbie, &server.jid("alice")] {
        let err = register::register(taken, "other-pw", &extra, &opts)
            .await
            .expect_err("taken");
        assert_eq!(err.code, ErrorCode::UsernameTaken, "{err:?}");
    }
    // alice's password is unchanged.
    assert_eq!(try_login(&server, "alice", "alice-pw").await, Ok(()));
}

#[tokio::test]
async fn registration_with_a_choice_a_flag_and_an_address() {
    let server = TestServer::builder()
        .allow_registration(true)
        .host_config(
            "additional_registration_fields = { \
             { name = \"lang\", type = \"list-single\", label = \"Language\", required = true, \
               options = { { label = \"English\", value = \"en\" }, { label = \"Español\", value = \"es\" } } }, \
             { name = \"news\", type = \"boolean\", label = \"News by mail\" }, \
             { name = \"referrer\", type = \"jid-single\", label = \"Who sent you\" } }",
        )
        .start()
        .await
        .expect("prosody");
    let opts = reg_options(&server);
    let newbie = server.jid("newbie");
    let form = register::registration_form(&newbie, &opts)
        .await
        .expect("form");
    let kinds: Vec<_> = form
        .fields
        .iter()
        .map(|f| (f.var.as_str(), f.required, &f.kind))
        .collect();
    let choice = FieldKind::Choice {
        options: vec![
            FieldOption {
                label: "English".into(),
                value: "en".into(),
            },
            FieldOption {
                label: "Español".into(),
                value: "es".into(),
            },
        ],
    };
    assert_eq!(
        kinds,
        [
            ("lang", true, &choice),
            ("news", false, &FieldKind::Flag),
            ("referrer", false, &FieldKind::Address),
        ]
    );

    // A value the server did not offer is refused before anything is sent.
    let mut extra = BTreeMap::from([("lang".to_owned(), "fr".to_owned())]);
    let err = register::register(&newbie, "newbie-pw", &extra, &opts)
        .await
        .expect_err("not an option");
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err:?}");
    assert!(!server.account_exists("newbie"));

    // Prosody checks the submitted form itself (its boolean and JID readers) and accepts it.
    extra.insert("lang".into(), "es".into());
    extra.insert("news".into(), "true".into());
    extra.insert("referrer".into(), server.jid("alice"));
    register::register(&newbie, "newbie-pw", &extra, &opts)
        .await
        .expect("register");
    assert_eq!(try_login(&server, "newbie", "newbie-pw").await, Ok(()));
}

async fn a_server_without_registration_says_so(flavor: Flavor) {
    let server = Server::builder(flavor).start().await.expect("server");
    match flavor {
        Flavor::Prosody => {
            assert_registration_refused(&server, ErrorCode::RegistrationClosed, "closed").await
        }
        Flavor::Ejabberd => {
            // ejabberd answers the form query whatever its access rule says (mod_register
            // checks the rule only when the form comes back): the refusal comes with the
            // submission.
            let opts = reg_options(&server);
            let jid = server.jid("newbie");
            register::registration_form(&jid, &opts)
                .await
                .expect("ejabberd offers the form");
            let err = register::register(&jid, "pw", &BTreeMap::new(), &opts)
                .await
                .expect_err("closed");
            assert_eq!(err.code, ErrorCode::RegistrationClosed, "{err:?}");
            assert!(!server.account_exists("newbie").await.expect("check"));
        }
    }
}

#[tokio::test]
async fn a_required_captcha_is_a_form_charla_cannot_fill() {
    let server = TestServer::builder()
        .allow_registration(true)
        .host_config(
            "additional_registration_fields = { { name = \"ocr\", type = \"text-single\", \
             label = \"Type the letters\", required = true } }",
        )
        .start()
        .await
        .expect("prosody");
    let server = Server::from_prosody(server);
    assert_registration_refused(&server, ErrorCode::FormUnsupported, "captcha").await;
}

#[tokio::test]
async fn registration_errors_for_an_unreachable_server_and_a_wrong_ca() {
    let server = TestServer::builder()
        .allow_registration(true)
        .start()
        .await
        .expect("prosody");
    let jid = server.jid("newbie");
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut opts = reg_options(&server);
    opts.server.as_mut().expect("address").port = closed_port;
    let err = register::register(&jid, "pw", &BTreeMap::new(), &opts)
        .await
        .expect_err("unreachable");
    assert_eq!(err.code, ErrorCode::Unreachable, "{err:?}");

    // Another server's CA does not vouch for this one.
    let other = TestServer::builder().start().await.expect("prosody");
    let mut opts = reg_options(&server);
    opts.trust = TlsTrust::from_ca_pem(other.ca_cert_pem_bytes()).expect("CA");
    let err = register::register(&jid, "pw", &BTreeMap::new(), &opts)
        .await
        .expect_err("untrusted");
    assert_eq!(err.code, ErrorCode::TlsCertificate, "{err:?}");
    assert!(!server.account_exists("newbie"));
}

async fn a_changed_password_is_the_only_one_that_logs_in(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("server");
    let mut alice = Device::new(&server, "alice", WAIT);

    // Offline, there is no one to ask.
    let err = alice
        .core
        .change_password(alice.account, "new-pw")
        .await
        .expect_err("offline");
    assert_eq!(err.code, ErrorCode::NotConnected);

    alice.login(options(&server, "alice-pw", None)).await;
    alice
        .core
        .change_password(alice.account, "new-pw")
        .await
        .expect("change");
    // The session logged in again with the new password and stays online.
    alice
        .wait_for("online again", charla_tests::is_online)
        .await;

    assert_eq!(try_login(&server, "alice", "new-pw").await, Ok(()));
    assert_eq!(
        try_login(&server, "alice", "alice-pw").await,
        Err(ErrorCode::AuthFailed)
    );

    // Going offline and online again uses the new password too.
    alice.logout().await;
    alice
        .core
        .set_presence(alice.account, Show::Available, None)
        .await
        .expect("online with the remembered new password");
}

async fn a_deleted_account_cannot_log_in(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .start()
        .await
        .expect("server");
    let mut alice = Device::online(&server, "alice", WAIT).await;
    alice
        .core
        .delete_account_on_server(alice.account)
        .await
        .expect("delete");
    alice
        .wait_for("signed out", |e| {
            matches!(
                e,
                Event::Connection {
                    state: charla_core::ConnectionState::Disconnected,
                    ..
                }
            )
        })
        .await;
    assert!(!server.account_exists("alice").await.expect("check"));
    assert_eq!(
        try_login(&server, "alice", "alice-pw").await,
        Err(ErrorCode::AuthFailed)
    );
    assert_login_forgotten(&alice).await;
}

/// Row counts of everything stored for `account` in the database at `db`.
fn rows(db: &std::path::Path, account: i64) -> Vec<(&'static str, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let queries = [
        ("accounts", "SELECT count(*) FROM accounts WHERE id = ?1"),
        (
            "contacts",
            "SELECT count(*) FROM contacts WHERE account_id = ?1",
        ),
        (
            "contact_groups",
            "SELECT count(*) FROM contact_groups g JOIN contacts c ON c.id = g.contact_id \
             WHERE c.account_id = ?1",
        ),
        (
            "conversations",
            "SELECT count(*) FROM conversations WHERE account_id = ?1",
        ),
        (
            "messages",
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.account_id = ?1",
        ),
        (
            "mam_state",
            "SELECT count(*) FROM mam_state WHERE account_id = ?1",
        ),
        ("gaps", "SELECT count(*) FROM gaps WHERE account_id = ?1"),
        // Every message row at all (orphans would show here).
        (
            "all messages",
            "SELECT count(*) FROM messages WHERE ?1 = ?1",
        ),
    ];
    queries
        .iter()
        .map(|(name, sql)| {
            let n: i64 = conn.query_row(sql, [account], |r| r.get(0)).expect("count");
            (*name, n)
        })
        .collect()
}

/// alice (online, with bob as a contact) gets a message from bob, then queues one for him that
/// stays pending once she is offline.
async fn alice_with_history(server: &Server) -> Device {
    let mut alice = Device::online(server, "alice", WAIT).await;
    alice
        .wait_for("the roster", |e| matches!(e, Event::RosterLoaded { .. }))
        .await;
    let mut bob = Device::online(server, "bob", WAIT).await;
    let alice_jid = server.jid("alice");
    bob.core
        .send_message(bob.account, &alice_jid, "hello alice")
        .await
        .expect("send");
    alice
        .wait_for(
            "bob's message",
            |e| matches!(e, Event::MessageAdded { message, .. } if message.body == "hello alice"),
        )
        .await;
    alice.logout().await;
    alice
        .core
        .send_message(alice.account, &server.jid("bob"), "unsent")
        .await
        .expect("queue");
    bob.logout().await;
    alice
}

async fn removing_an_account_keeps_or_deletes_its_history(flavor: Flavor) {
    let server = Server::builder(flavor)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .mutual("alice", "bob", Some("Friends"))
        .start()
        .await
        .expect("server");
    let bob_jid = server.jid("bob");

    // Keep: the conversation stays readable offline; the unsent message will never go.
    let alice = alice_with_history(&server).await;
    assert_eq!(alice.core.contacts(alice.account).expect("roster").len(), 1);
    alice
        .core
        .remove_account(alice.account, true)
        .await
        .expect("remove, keep history");
    let history = alice.history(&bob_jid);
    let bodies: Vec<_> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello alice", "unsent"]);
    assert_eq!(history[1].state, MessageState::Failed);
    let account = alice.account.0;
    let kept = rows(alice.db(), account);
    assert!(kept.contains(&("accounts", 1)), "{kept:?}");
    assert!(kept.contains(&("messages", 2)), "{kept:?}");
    let conn = rusqlite::Connection::open(alice.db()).expect("open");
    let (enabled, pending): (i64, i64) = conn
        .query_row(
            "SELECT enabled, (SELECT count(*) FROM messages WHERE state = 'pending') \
             FROM accounts WHERE id = ?1",
            [account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("account row");
    assert_eq!((enabled, pending), (0, 0));
    assert_login_forgotten(&alice).await;

    // Delete: nothing of the account is left in the database.
    let alice = alice_with_history(&server).await;
    let before = rows(alice.db(), alice.account.0);
    assert!(before.contains(&("contacts", 1)), "{before:?}");
    assert!(before.contains(&("contact_groups", 1)), "{before:?}");
    assert!(before.contains(&("messages", 2)), "{before:?}");
    alice
        .core
        .remove_account(alice.account, false)
        .await
        .expect("remove, delete history");
    let after = rows(alice.db(), alice.account.0);
    assert!(after.iter().all(|(_, n)| *n == 0), "{after:?}");
    let err = alice
        .core
        .remove_account(alice.account, false)
        .await
        .expect_err("gone");
    assert_eq!(err.code, ErrorCode::UnknownAccount);
}

both_servers!(
    registration_creates_an_account_that_logs_in,
    a_server_without_registration_says_so,
    a_changed_password_is_the_only_one_that_logs_in,
    a_deleted_account_cannot_log_in,
    removing_an_account_keeps_or_deletes_its_history,
);
