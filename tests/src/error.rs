//! The harness's error type.

use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong while preparing, starting or controlling a test server.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A helper command (`openssl`, `prosodyctl`) exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        /// The command line, for humans.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// Its standard output and standard error.
        output: String,
    },
    /// A user name or domain is not in the canonical form the harness needs.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// `register` was asked for an account that already exists.
    #[error("account {jid} already exists")]
    UserExists {
        /// The account's bare JID.
        jid: String,
    },
    /// Prosody could not bind one of its ports (another process holds it).
    #[error("Prosody could not open its ports (in use by another process); log tail:\n{log_tail}")]
    PortInUse {
        /// The end of Prosody's log.
        log_tail: String,
    },
    /// A persistent directory is in use by a Prosody that is still running.
    #[error("a Prosody (pid {pid}) is already running with the directory {dir}")]
    AlreadyRunning {
        /// Its process id, from its pidfile.
        pid: u32,
        /// The directory.
        dir: std::path::PathBuf,
    },
    /// Prosody exited while starting.
    #[error("Prosody exited during startup ({status}); log tail:\n{log_tail}")]
    Exited {
        /// How it exited.
        status: ExitStatus,
        /// The end of Prosody's log and console output.
        log_tail: String,
    },
    /// Prosody did not become ready in time.
    #[error("Prosody was not ready after {timeout:?}; log tail:\n{log_tail}")]
    StartTimeout {
        /// How long the harness waited.
        timeout: Duration,
        /// The end of Prosody's log and console output.
        log_tail: String,
    },
    /// A readiness probe got an answer that is not an XMPP stream.
    #[error("unexpected answer from {addr}: {detail}")]
    Protocol {
        /// The address probed.
        addr: String,
        /// What was wrong.
        detail: String,
    },
}

impl HarnessError {
    /// Wraps an I/O error with what the harness was doing.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        HarnessError::Io {
            context: context.into(),
            source,
        }
    }
}
