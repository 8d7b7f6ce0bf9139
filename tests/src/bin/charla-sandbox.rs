//! `charla-sandbox`: a local Prosody with demo accounts and demo contacts that are alive, for
//! trying Charla by hand (`make run`).
//!
//! It starts Prosody for `charla.test` on 127.0.0.1, then logs two bots in with Charla's own
//! headless core (see `charla_tests::demo`): `echo@charla.test` ("Echo", group "Charla" in
//! every roster), online with the status "I answer every message", which answers each chat
//! message with `Echo: <text>`; and carol, away, "At the office". bob and dave stay offline,
//! so bob is free for a second window. alice is the user.
//!
//! Runs until Ctrl-C or SIGTERM, then takes the bots offline and stops Prosody cleanly. Its
//! directory (certificates, accounts, rosters, archives) is kept, so a restart keeps the
//! history.
//!
//! # `sandbox.json`
//!
//! Once Prosody answers and the bots are online, the sandbox writes `<dir>/sandbox.json`
//! (atomically: a temporary file renamed over it) and removes it again when it stops. While
//! the file exists, the sandbox is ready. The desktop app reads it when started with
//! `CHARLA_SANDBOX_DIR=<dir>`: it trusts only `ca_file` and offers the demo accounts on its
//! login screen. For example:
//!
//! ```json
//! {
//!   "domain": "charla.test",
//!   "host": "127.0.0.1",
//!   "port": 15222,
//!   "direct_tls_port": 15223,
//!   "ca_file": "/run/user/1000/charla-sandbox/ca.pem",
//!   "accounts": [
//!     { "jid": "alice@charla.test", "password": "alice" },
//!     { "jid": "bob@charla.test", "password": "bob" },
//!     { "jid": "carol@charla.test", "password": "carol" },
//!     { "jid": "dave@charla.test", "password": "dave" }
//!   ]
//! }
//! ```
//!
//! - `domain`: the XMPP domain of every account. It does not resolve: connect to `host`.
//! - `host`, `port`: where to connect with STARTTLS; `direct_tls_port`: the same with direct
//!   TLS (XEP-0368).
//! - `ca_file`: absolute path of the sandbox's own CA certificate (PEM); trust it and nothing
//!   else for this server.
//! - `accounts`: the demo accounts people may log in with (not the bots), in this order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use charla_tests::demo::{self, Bots, SandboxInfo};
use charla_tests::{Ports, TestServer, DEFAULT_DOMAIN};
use tokio::signal::unix::{signal, Signal, SignalKind};

const DEFAULT_PORT: u16 = 15222;

const USAGE: &str = "\
Usage: charla-sandbox [--port N] [--tls-port N] [--http-port N] [--dir PATH] [--allow-registration]

Starts a local XMPP server (Prosody) for domain charla.test on 127.0.0.1 with demo accounts
alice, bob, carol and dave (each password is the user name) who are contacts of each other,
and the demo contacts echo (answers every message) and carol (away) online. Writes
<dir>/sandbox.json once ready.

  --port N              client port with STARTTLS (default 15222, env CHARLA_SANDBOX_PORT)
  --tls-port N          client port with direct TLS (default: port + 1)
  --http-port N         HTTP upload port (default: port + 2)
  --dir PATH            where everything is kept (env CHARLA_SANDBOX_DIR,
                        default $XDG_RUNTIME_DIR/charla-sandbox or /tmp/charla-sandbox)
  --allow-registration  allow in-band registration of new accounts
";

struct Options {
    ports: Ports,
    dir: PathBuf,
    allow_registration: bool,
}

fn parse_port(value: Option<String>, flag: &str) -> Result<u16, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{flag}: not a port number: {value}"))
}

fn parse_args() -> Result<Options, String> {
    let mut port = match std::env::var("CHARLA_SANDBOX_PORT") {
        Ok(value) => parse_port(Some(value), "CHARLA_SANDBOX_PORT")?,
        Err(_) => DEFAULT_PORT,
    };
    let mut tls_port = None;
    let mut http_port = None;
    let mut dir = std::env::var_os("CHARLA_SANDBOX_DIR").map(PathBuf::from);
    let mut allow_registration = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = parse_port(args.next(), "--port")?,
            "--tls-port" => tls_port = Some(parse_port(args.next(), "--tls-port")?),
            "--http-port" => http_port = Some(parse_port(args.next(), "--http-port")?),
            "--dir" => dir = Some(PathBuf::from(args.next().ok_or("--dir needs a value")?)),
            "--allow-registration" => allow_registration = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    let derived = |offset: u16| {
        port.checked_add(offset)
            .ok_or_else(|| format!("--port {port} leaves no room for the other ports"))
    };
    let ports = Ports {
        c2s: port,
        direct_tls: tls_port.map_or_else(|| derived(1), Ok)?,
        http: http_port.map_or_else(|| derived(2), Ok)?,
    };
    let dir = dir.unwrap_or_else(|| {
        std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join("charla-sandbox")
    });
    Ok(Options {
        ports,
        dir,
        allow_registration,
    })
}

fn print_summary(server: &TestServer, allow_registration: bool, info_file: &Path) {
    let host = server.host();
    println!("Charla sandbox: Prosody is running.");
    println!();
    println!("  domain        {}", server.domain());
    println!(
        "  connect to    {host}:{} (STARTTLS); the domain does not resolve, set the host explicitly",
        server.c2s_port()
    );
    println!("  direct TLS    {host}:{}", server.direct_tls_port());
    println!("  group chat    {}", server.muc_domain());
    println!(
        "  file upload   {} (http://{host}:{}/)",
        server.upload_domain(),
        server.http_port()
    );
    println!(
        "  registration  {}",
        if allow_registration { "open" } else { "closed" }
    );
    println!("  CA            {}", server.ca_cert_pem().display());
    println!(
        "                (trust only this CA, e.g. SSL_CERT_FILE={})",
        server.ca_cert_pem().display()
    );
    println!("  directory     {}", server.dir().display());
    println!();
    println!("  ready file    {}", info_file.display());
    println!();
    println!("Accounts (JID / password):");
    for user in demo::DEMO_USERS {
        println!("  {:<20} {user}", server.jid(user));
    }
    println!();
    println!("Contacts (mutual subscriptions, group):");
    for (a, b, group) in demo::DEMO_CONTACTS {
        println!("  {a} <-> {b}  ({group})");
    }
    println!(
        "  everyone <-> {} ({}, {})",
        demo::ECHO_USER,
        demo::ECHO_NAME,
        demo::ECHO_GROUP
    );
    println!();
    println!("Online:");
    println!(
        "  {:<20} available, \"{}\"; answers every message with \"{}<text>\"",
        server.jid(demo::ECHO_USER),
        demo::ECHO_STATUS,
        demo::ECHO_PREFIX
    );
    println!(
        "  {:<20} away, \"{}\"",
        server.jid("carol"),
        demo::CAROL_STATUS
    );
    println!();
    println!("Press Ctrl-C to stop.");
}

/// The signals that stop the sandbox: SIGTERM, and SIGINT (Ctrl-C).
struct Stop {
    sigterm: Signal,
    sigint: Signal,
}

impl Stop {
    /// Resolves when either signal arrives.
    async fn requested(&mut self) {
        tokio::select! {
            _ = self.sigterm.recv() => {}
            _ = self.sigint.recv() => {}
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    // Watch the signals first, so a stop request during start-up is not lost.
    let sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let sigint =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    std::fs::create_dir_all(&options.dir)
        .map_err(|e| format!("cannot create {}: {e}", options.dir.display()))?;
    let bot_password = demo::bot_password(&options.dir)
        .map_err(|e| format!("cannot set up the bots' password: {e}"))?;
    let builder = TestServer::builder()
        .domain(DEFAULT_DOMAIN)
        .fixed_ports(options.ports)
        .persistent_dir(&options.dir)
        .allow_registration(options.allow_registration)
        .http_upload(true);
    let mut server = demo::populate(builder, &options.dir, &bot_password)
        .start()
        .await
        .map_err(|e| format!("cannot start the sandbox server: {e}"))?;
    // Prosody runs on our directory now: a sandbox.json still there is stale.
    SandboxInfo::remove(server.dir());
    let mut stop = Stop { sigterm, sigint };
    let result = serve(&mut server, &options, &bot_password, &mut stop).await;
    SandboxInfo::remove(server.dir());
    println!("Stopping Prosody...");
    server
        .stop()
        .await
        .map_err(|e| format!("stopping Prosody: {e}"))?;
    println!("Stopped. Data kept in {}", server.dir().display());
    result
}

/// Records the demo version, brings the bots online, announces the sandbox and waits for a
/// stop signal (or for Prosody to die). Takes the bots offline again before returning.
async fn serve(
    server: &mut TestServer,
    options: &Options,
    bot_password: &str,
    stop: &mut Stop,
) -> Result<(), String> {
    demo::mark_demo_version(server.dir())
        .map_err(|e| format!("cannot write to {}: {e}", server.dir().display()))?;
    let bots = tokio::select! {
        bots = Bots::start(server, server.dir(), bot_password) => {
            bots.map_err(|e| format!("the demo bots could not log in: {e}"))?
        }
        () = stop.requested() => return Ok(()),
    };
    let result = announce_and_wait(server, options, stop).await;
    bots.stop().await;
    result
}

/// Writes `sandbox.json`, prints the summary and waits for a stop signal, checking that
/// Prosody still runs.
async fn announce_and_wait(
    server: &mut TestServer,
    options: &Options,
    stop: &mut Stop,
) -> Result<(), String> {
    let info_file = SandboxInfo::for_server(server)
        .write(server.dir())
        .map_err(|e| format!("cannot write the sandbox file: {e}"))?;
    print_summary(server, options.allow_registration, &info_file);
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.requested() => return Ok(()),
            _ = check.tick() => {
                if !server.is_running() {
                    return Err(format!(
                        "Prosody exited unexpectedly; log tail:\n{}",
                        server.log_tail()
                    ));
                }
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("charla-sandbox: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("charla-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}
