//! Process helpers: free ports, unique names, helper commands and spawning Prosody so that it
//! dies with the test process.

use std::collections::HashSet;
use std::ffi::OsString;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::HarnessError;

/// Builds a `Vec<OsString>` from strings and paths.
macro_rules! os_args {
    ($($arg:expr),* $(,)?) => {
        vec![$(::std::ffi::OsString::from($arg)),*]
    };
}
pub(crate) use os_args;

/// Returns a 64-bit token, unique within this process and very likely across processes.
pub(crate) fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // Keep the top bit clear so the value is a positive certificate serial, and never zero.
    format!("{:016x}", (mixed & 0x7FFF_FFFF_FFFF_FFFF) | 1)
}

/// Asks the kernel for a free TCP port on 127.0.0.1 that this process has not handed out
/// before. Another process may still take it before Prosody binds it: callers detect that and
/// retry.
pub fn free_port() -> Result<u16, HarnessError> {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(|| Mutex::new(HashSet::new()));
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("binding a probe socket to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the probe socket's port", e))?
            .port();
        let mut set = handed_out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if set.insert(port) {
            return Ok(port);
        }
    }
}

/// Runs a helper command to completion and fails with its output if it exits unsuccessfully.
pub(crate) async fn run_command(program: &str, args: Vec<OsString>) -> Result<(), HarnessError> {
    let output = tokio::process::Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| HarnessError::io(format!("running `{program}` (is it installed?)"), e))?;
    if output.status.success() {
        return Ok(());
    }
    let mut command = program.to_owned();
    for arg in &args {
        command.push(' ');
        command.push_str(&arg.to_string_lossy());
    }
    Err(HarnessError::Command {
        command,
        status: output.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `command` in its own process group, with `SIGTERM` as its parent-death signal.
///
/// Linux sends the parent-death signal when the *thread* that forked the child exits, so all
/// children are forked by one dedicated thread that lives as long as the process: a server
/// survives the test (or runtime) that started it, and still goes away when the test process
/// dies, even by `SIGKILL`. Its own process group keeps a terminal's Ctrl-C away from it, so
/// the owner decides how it stops.
pub(crate) fn spawn_supervised(mut command: Command) -> std::io::Result<Child> {
    static SPAWNER: Mutex<Option<mpsc::Sender<SpawnRequest>>> = Mutex::new(None);
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls.
    unsafe {
        command.pre_exec(|| {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply_tx, reply_rx) = mpsc::channel();
    {
        let mut spawner = SPAWNER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sender = match spawner.as_ref() {
            Some(sender) => sender.clone(),
            None => {
                let (tx, rx) = mpsc::channel::<SpawnRequest>();
                std::thread::Builder::new()
                    .name("charla-tests-spawner".into())
                    .spawn(move || {
                        for (mut command, reply) in rx {
                            // The requester waits for this reply, so the child is never lost.
                            let _ = reply.send(command.spawn());
                        }
                    })?;
                spawner.insert(tx).clone()
            }
        };
        sender
            .send((command, reply_tx))
            .map_err(|_| std::io::Error::other("the process spawner thread is gone"))?;
    }
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("the process spawner thread did not answer"))?
}

/// Sends `SIGTERM` to `pid`.
pub(crate) fn terminate(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this process runs as root (Prosody then needs `run_as_root`).
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
