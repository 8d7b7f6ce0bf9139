//! A private Secret Service for keyring tests: a `dbus-daemon` of its own (a session bus
//! without service activation, so nothing but what the test starts answers on it) and,
//! optionally, a real `gnome-keyring-daemon` on it with a fresh keyring in a temporary HOME.
//!
//! Point the code under test at [`SessionBus::address`] through `DBUS_SESSION_BUS_ADDRESS`.
//! Both daemons are killed when the value is dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::HarnessError;

/// How long the daemons may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A private session bus, with or without a Secret Service on it.
pub struct SessionBus {
    address: String,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

/// Which Secret Service to run on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyring {
    /// None: the bus has no `org.freedesktop.secrets`.
    Absent,
    /// gnome-keyring with its login keyring unlocked.
    Unlocked,
    /// gnome-keyring, never unlocked.
    Locked,
}

impl SessionBus {
    /// Starts the bus and the chosen keyring daemon, and waits until the keyring owns
    /// `org.freedesktop.secrets`.
    pub fn start(keyring: Keyring) -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("charla-dbus-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the D-Bus directory", e))?;
        let socket = dir.path().join("bus");
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(&socket))
            .map_err(|e| HarnessError::io("writing the D-Bus configuration", e))?;
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| HarnessError::io("starting dbus-daemon (apt: dbus)", e))?;
        let mut line = String::new();
        let stdout = daemon.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| HarnessError::io("reading dbus-daemon's address", e))?;
        let address = line.trim().to_owned();
        let mut bus = Self {
            address,
            children: vec![daemon],
            _dir: dir,
        };
        if bus.address.is_empty() {
            return Err(HarnessError::io(
                "dbus-daemon printed no address",
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        if keyring != Keyring::Absent {
            bus.start_keyring(keyring == Keyring::Unlocked)?;
        }
        Ok(bus)
    }

    fn start_keyring(&mut self, unlock: bool) -> Result<(), HarnessError> {
        let home = self._dir.path().join("home");
        let runtime = self._dir.path().join("run");
        for dir in [&home, &runtime] {
            std::fs::create_dir_all(dir)
                .map_err(|e| HarnessError::io("creating the keyring's HOME", e))?;
        }
        let mut command = Command::new("gnome-keyring-daemon");
        command.args(["--foreground", "--components=secrets"]);
        if unlock {
            command.arg("--unlock");
        }
        let mut child = command
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                HarnessError::io("starting gnome-keyring-daemon (apt: gnome-keyring)", e)
            })?;
        // With --unlock it reads the new keyring's password from stdin, up to EOF.
        let mut stdin = child.stdin.take().expect("piped stdin");
        if unlock {
            stdin
                .write_all(b"charla-test")
                .map_err(|e| HarnessError::io("unlocking the keyring", e))?;
        }
        drop(stdin);
        self.children.push(child);
        let started = Instant::now();
        while !self.has_owner("org.freedesktop.secrets")? {
            if started.elapsed() > START_TIMEOUT {
                return Err(HarnessError::io(
                    "gnome-keyring-daemon did not take org.freedesktop.secrets",
                    std::io::ErrorKind::TimedOut.into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Whether a connection owns `name` on this bus.
    fn has_owner(&self, name: &str) -> Result<bool, HarnessError> {
        let output = Command::new("dbus-send")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .output()
            .map_err(|e| HarnessError::io("running dbus-send", e))?;
        Ok(String::from_utf8_lossy(&output.stdout).contains("boolean true"))
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A session bus configuration without service activation: only the daemons the test starts
/// own names on it.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}
