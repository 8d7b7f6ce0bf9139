//! `charla-sandbox`: a local Prosody with demo accounts, for trying Charla by hand.
//!
//! Runs until Ctrl-C or SIGTERM, then stops Prosody cleanly. Its directory (certificates,
//! accounts, rosters, archives) is kept, so a restart keeps the history.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use charla_tests::{Ports, TestServer, DEFAULT_DOMAIN};
use tokio::signal::unix::{signal, SignalKind};

const DEFAULT_PORT: u16 = 15222;
const USERS: &[&str] = &["alice", "bob", "carol", "dave"];
const CONTACTS: &[(&str, &str, &str)] = &[
    ("alice", "bob", "Family"),
    ("alice", "carol", "Work"),
    ("alice", "dave", "Work"),
    ("bob", "carol", "Friends"),
];

const USAGE: &str = "\
Usage: charla-sandbox [--port N] [--tls-port N] [--http-port N] [--dir PATH] [--allow-registration]

Starts a local XMPP server (Prosody) for domain charla.test on 127.0.0.1 with demo accounts
alice, bob, carol and dave (each password is the user name) who are contacts of each other.

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

fn print_summary(server: &TestServer, allow_registration: bool) {
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
    println!("Accounts (JID / password):");
    for user in USERS {
        println!("  {:<20} {user}", server.jid(user));
    }
    println!();
    println!("Contacts (mutual subscriptions, group):");
    for (a, b, group) in CONTACTS {
        println!("  {a} <-> {b}  ({group})");
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

async fn run(options: Options) -> Result<(), String> {
    let mut builder = TestServer::builder()
        .domain(DEFAULT_DOMAIN)
        .fixed_ports(options.ports)
        .persistent_dir(&options.dir)
        .allow_registration(options.allow_registration)
        .http_upload(true);
    for user in USERS {
        builder = builder.user(*user, *user);
    }
    for (a, b, group) in CONTACTS {
        builder = builder.mutual(*a, *b, Some(group));
    }
    let mut server = builder
        .start()
        .await
        .map_err(|e| format!("cannot start the sandbox server: {e}"))?;
    print_summary(&server, options.allow_registration);

    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
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
    println!("Stopping Prosody...");
    server
        .stop()
        .await
        .map_err(|e| format!("stopping Prosody: {e}"))?;
    println!("Stopped. Data kept in {}", server.dir().display());
    Ok(())
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
