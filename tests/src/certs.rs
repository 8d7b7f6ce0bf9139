//! Test certificates made with the `openssl` command-line tool: a fresh CA per server and a
//! leaf certificate signed by it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::process::{os_args, run_command, unique_token};
use crate::HarnessError;

/// Where a server's certificate files live.
#[derive(Debug, Clone)]
pub(crate) struct CertPaths {
    /// The test CA's certificate (PEM).
    pub ca_cert: PathBuf,
    /// The server's certificate (PEM).
    pub server_cert: PathBuf,
    /// The server's private key (PEM).
    pub server_key: PathBuf,
}

impl CertPaths {
    /// The file names used inside a server directory.
    pub(crate) fn in_dir(dir: &Path) -> Self {
        CertPaths {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }

    /// Whether all files exist (a persistent directory made by an earlier run).
    pub(crate) fn exist(&self) -> bool {
        self.ca_cert.is_file() && self.server_cert.is_file() && self.server_key.is_file()
    }
}

/// Creates a CA (`ca.pem`, `ca.key`) and a leaf certificate for `names` (`server.pem`,
/// `server.key`) in `dir`. The first name is the subject's CN; all are DNS SANs. The leaf is
/// `CA:FALSE` with `serverAuth`, both use P-256 keys.
pub(crate) async fn generate(dir: &Path, names: &[String]) -> Result<CertPaths, HarnessError> {
    let paths = CertPaths::in_dir(dir);
    let ca_key = dir.join("ca.key");
    let csr = dir.join("server.csr");
    let ext = dir.join("server.ext");
    let (first, san) = cn_and_san(names)?;
    std::fs::write(
        &ext,
        format!(
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\n\
             subjectKeyIdentifier=hash\n\
             authorityKeyIdentifier=keyid\n\
             subjectAltName={san}\n"
        ),
    )
    .map_err(|e| HarnessError::io(format!("writing {}", ext.display()), e))?;

    let token = unique_token();
    let mut ca_args = self_signed_req(&format!("/O=Charla tests/CN=Charla Test CA {token}"));
    ca_args.extend(os_args![
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        &ca_key,
        "-out",
        &paths.ca_cert,
    ]);
    run_command("openssl", ca_args).await?;
    run_command(
        "openssl",
        os_args![
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={first}"),
            "-keyout",
            &paths.server_key,
            "-out",
            &csr,
        ],
    )
    .await?;
    run_command(
        "openssl",
        os_args![
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &paths.ca_cert,
            "-CAkey",
            &ca_key,
            "-set_serial",
            &format!("0x{token}"),
            "-days",
            "3650",
            "-extfile",
            &ext,
            "-out",
            &paths.server_cert,
        ],
    )
    .await?;
    Ok(paths)
}

/// A certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// Makes a self-signed leaf certificate for `names` (signed by its own key, not by any CA;
/// `CA:FALSE`, `serverAuth`, a P-256 key) as `<stem>.pem` and `<stem>.key` in `dir`. Each
/// call makes a new key, so two calls give two different certificates.
pub async fn self_signed(
    dir: &Path,
    stem: &str,
    names: &[String],
) -> Result<CertificateFiles, HarnessError> {
    let (first, san) = cn_and_san(names)?;
    let files = CertificateFiles {
        cert: dir.join(format!("{stem}.pem")),
        key: dir.join(format!("{stem}.key")),
    };
    let mut args = self_signed_req(&format!("/CN={first}"));
    args.extend(os_args![
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-addext",
        format!("subjectAltName={san}"),
        "-keyout",
        &files.key,
        "-out",
        &files.cert,
    ]);
    run_command("openssl", args).await?;
    Ok(files)
}

/// The first of `names` (the subject's CN) and all of them as a `subjectAltName` value
/// (`DNS:a,DNS:b`); an error if there is none.
fn cn_and_san(names: &[String]) -> Result<(&str, String), HarnessError> {
    let first = names.first().ok_or(HarnessError::InvalidName {
        name: String::new(),
        reason: "a certificate needs at least one name",
    })?;
    let san = names
        .iter()
        .map(|n| format!("DNS:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    Ok((first, san))
}

/// The `openssl req` arguments for a self-signed certificate valid for ten years, with a new
/// unencrypted P-256 key and the subject `subject`; the caller adds extensions and files.
fn self_signed_req(subject: &str) -> Vec<OsString> {
    os_args![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        subject,
    ]
}
