//! Passwords in a real Secret Service: a private D-Bus session bus with a real
//! gnome-keyring-daemon on it (started by the test), driven through
//! `charla_core::Credentials`, the code the app uses.

use std::process::Command;

use charla_core::{Credentials, ErrorCode};
use charla_tests::keyring::{Keyring, SessionBus};

/// Set in the child process that runs a test's body on its own bus.
const CHILD_ENV: &str = "CHARLA_TEST_KEYRING_CHILD";

/// Runs `body` in a child process of this test binary whose session bus is
/// a fresh private one with `keyring` on it. (libdbus reads the bus address
/// once per process, so every bus needs a process of its own.)
fn on_own_bus(test: &str, keyring: Keyring, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        body();
        return;
    }
    let bus = SessionBus::start(keyring).expect("dbus-daemon and gnome-keyring");
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .output()
        .expect("run the test's child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn passwords_are_stored_read_replaced_and_forgotten_in_gnome_keyring() {
    let test = "passwords_are_stored_read_replaced_and_forgotten_in_gnome_keyring";
    on_own_bus(test, Keyring::Unlocked, || {
        let credentials = Credentials::new("im.charla.test");
        let other_profile = Credentials::new("im.charla.test.bob");
        assert_eq!(credentials.password("alice@charla.test").unwrap(), None);
        credentials.probe("alice@charla.test").expect("usable");

        credentials
            .store("alice@charla.test", "first secret")
            .unwrap();
        credentials.store("bob@charla.test", "bob's").unwrap();
        assert_eq!(
            credentials
                .password("alice@charla.test")
                .unwrap()
                .as_deref(),
            Some("first secret")
        );
        // Another service name (profile) does not see it.
        assert_eq!(other_profile.password("alice@charla.test").unwrap(), None);

        credentials
            .store("alice@charla.test", "second – ñ")
            .unwrap();
        assert_eq!(
            credentials
                .password("alice@charla.test")
                .unwrap()
                .as_deref(),
            Some("second – ñ")
        );

        credentials.forget("alice@charla.test").unwrap();
        assert_eq!(credentials.password("alice@charla.test").unwrap(), None);
        // Forgetting twice is fine, and the other account is untouched.
        credentials.forget("alice@charla.test").unwrap();
        assert_eq!(
            credentials.password("bob@charla.test").unwrap().as_deref(),
            Some("bob's")
        );
    });
}

#[test]
fn without_a_secret_service_the_error_says_no_keyring() {
    let test = "without_a_secret_service_the_error_says_no_keyring";
    on_own_bus(test, Keyring::Absent, || {
        let credentials = Credentials::new("im.charla.test");
        let err = credentials
            .store("alice@charla.test", "secret")
            .expect_err("nothing can store it");
        assert_eq!(err.code, ErrorCode::KeyringUnavailable, "{err:?}");
        assert!(err.message.contains("Secret Service"), "{}", err.message);
        let err = credentials
            .probe("alice@charla.test")
            .expect_err("no keyring");
        assert_eq!(err.code, ErrorCode::KeyringUnavailable, "{err:?}");
    });
}

#[test]
fn a_locked_keyring_is_reported_as_locked() {
    let test = "a_locked_keyring_is_reported_as_locked";
    on_own_bus(test, Keyring::Locked, || {
        let credentials = Credentials::new("im.charla.test");
        let err = credentials
            .store("alice@charla.test", "secret")
            .expect_err("a locked keyring stores nothing");
        assert_eq!(err.code, ErrorCode::KeyringLocked, "{err:?}");
    });
}
