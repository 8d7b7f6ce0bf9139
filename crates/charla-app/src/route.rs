//! How a server is reached: the address to connect to and the
//! certificates to trust.

use charla_core::{CoreError, ServerAddress, TlsTrust};

/// Servers the front end knows better than the system's roots and DNS (the
/// sandbox's, `charla-cli`'s `--ca` and `--host`): for a bare JID, the
/// certificates to trust and the address to use (`None`: DNS).
pub type KnownServers =
    Box<dyn Fn(&str) -> Option<(TlsTrust, Option<ServerAddress>)> + Send + Sync>;

/// The manual server address for `jid`, if a host or port is given: a
/// blank host is the JID's domain, a missing port 5222, and port 5223 is
/// direct TLS.
pub fn manual_address(
    jid: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Result<Option<ServerAddress>, CoreError> {
    let jid = charla_core::parse_bare_jid(jid)?;
    Ok(match (host, port) {
        (None, None) => None,
        (host, port) => Some(ServerAddress {
            host: host
                .filter(|h| !h.trim().is_empty())
                .map_or_else(|| jid.domain().to_string(), str::to_owned),
            port: port.unwrap_or(5222),
            direct_tls: port == Some(5223),
        }),
    })
}

/// How to reach the server of `jid` and which certificates to trust: a
/// known server's certificates (and address, unless a manual one is given),
/// otherwise the system's roots and DNS or the manual address.
pub fn route(
    known: &KnownServers,
    jid: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Result<(TlsTrust, Option<ServerAddress>), CoreError> {
    let manual = manual_address(jid, host, port)?;
    let jid = charla_core::parse_bare_jid(jid)?;
    Ok(match known(jid.as_str()) {
        Some((trust, address)) => (trust, manual.or(address)),
        None => (TlsTrust::system()?, manual),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address as comparable parts.
    fn parts(address: Option<ServerAddress>) -> Option<(String, u16, bool)> {
        address.map(|a| (a.host, a.port, a.direct_tls))
    }

    fn address(host: &str, port: u16, direct_tls: bool) -> Option<(String, u16, bool)> {
        Some((host.into(), port, direct_tls))
    }

    #[test]
    fn a_manual_address_fills_in_what_is_missing() {
        let at = |host, port| parts(manual_address("me@example.org", host, port).unwrap());
        assert_eq!(at(None, None), None);
        assert_eq!(at(Some("h"), None), address("h", 5222, false));
        assert_eq!(
            at(Some("  "), Some(5223)),
            address("example.org", 5223, true)
        );
        assert_eq!(at(None, Some(5300)), address("example.org", 5300, false));
        assert!(manual_address("not a jid", None, None).is_err());
    }

    #[test]
    fn a_known_server_is_used_unless_an_address_is_given() {
        let sandbox = ServerAddress {
            host: "127.0.0.1".into(),
            port: 15222,
            direct_tls: false,
        };
        let trust = TlsTrust::system().expect("the system's roots");
        let known: KnownServers = Box::new(move |jid| {
            jid.ends_with("@charla.test")
                .then(|| (trust.clone(), Some(sandbox.clone())))
        });
        let (_, server) = route(&known, "alice@charla.test", None, None).unwrap();
        assert_eq!(parts(server), address("127.0.0.1", 15222, false));
        let (_, server) = route(&known, "alice@charla.test", Some("other"), None).unwrap();
        assert_eq!(parts(server), address("other", 5222, false));
        let (_, server) = route(&known, "bob@example.org", None, None).unwrap();
        assert!(server.is_none());
    }
}
