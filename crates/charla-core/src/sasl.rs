//! Choosing how to log in (RFC 6120 §6 SASL): SCRAM (RFC 5802, RFC 7677),
//! bound to the TLS session where the server can (`-PLUS`, RFC 9266
//! tls-exporter, advertised per XEP-0440), and PLAIN only when the server
//! offers no SCRAM at all.
//!
//! Each account remembers the strongest kind of login that has worked
//! ([`Strength`], in the store). A server that later offers only weaker
//! ones is refused (`auth_downgrade`): that is what an attacker between
//! Charla and the server would offer. PLAIN is never used on a connection
//! to a server whose certificate the user trusted by hand, where the
//! password would go to whoever holds that certificate.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use sasl::common::ChannelBinding;
use xmpp_parsers::sasl_cb::Type as BindingType;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::error::{CoreError, ErrorCode};

/// How strong a kind of login is, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// The password itself, inside TLS.
    Plain,
    /// SCRAM: the server learns no password, but the login is not tied
    /// to the TLS session.
    Scram,
    /// SCRAM bound to this TLS session: a man in the middle with a
    /// certificate Charla trusts still cannot log in with it.
    ScramPlus,
}

impl Strength {
    /// The strength of a SASL mechanism Charla uses.
    pub fn of(mechanism: &str) -> Option<Self> {
        match mechanism {
            "SCRAM-SHA-256-PLUS" | "SCRAM-SHA-1-PLUS" => Some(Self::ScramPlus),
            "SCRAM-SHA-256" | "SCRAM-SHA-1" => Some(Self::Scram),
            "PLAIN" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// One account's SASL facts, shared by its session, its reconnector and
/// [`crate::Core::login_mechanism`].
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The strongest kind of login that has worked (loaded from the store).
    pub floor: Option<Strength>,
    /// The mechanism of the last successful login.
    pub last: Option<&'static str>,
    /// A mechanism stronger than the stored one worked: to be stored.
    pub raised: Option<&'static str>,
}

impl Record {
    /// A record that holds the floor of the stored mechanism.
    pub fn remembering(stored: Option<&str>) -> Self {
        Self {
            floor: stored.and_then(Strength::of),
            ..Self::default()
        }
    }

    /// A login with `mechanism` succeeded.
    pub fn used(&mut self, mechanism: &'static str) {
        self.last = Some(mechanism);
        let strength = Strength::of(mechanism);
        if strength > self.floor {
            self.floor = strength;
            self.raised = Some(mechanism);
        }
    }
}

/// A [`Record`] shared between tasks.
pub(crate) type Shared = Arc<Mutex<Record>>;

/// The mechanism to use and the channel binding (or GS2 flag) for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub mechanism: &'static str,
    pub binding: ChannelBinding,
}

/// What is known about the connection when the server lists its mechanisms.
pub(crate) struct Offer<'a> {
    pub features: &'a StreamFeatures,
    /// RFC 9266 tls-exporter data, on TLS 1.3.
    pub exporter: Option<Vec<u8>>,
    /// The connection was accepted because of a certificate the user
    /// pinned by hand.
    pub pinned: bool,
    /// The strongest kind of login that has worked for this account.
    pub floor: Option<Strength>,
}

/// Picks the strongest mechanism both sides support, or says why none.
pub(crate) fn choose(offer: Offer<'_>) -> Result<Choice, CoreError> {
    let offered = &offer.features.sasl_mechanisms;
    let has = |m: &str| offered.contains(m);
    // tls-exporter only where the server lists it (XEP-0440). ejabberd 23.01
    // offers -PLUS on TLS 1.3 without the list and refuses tls-exporter
    // ("Invalid channel binding"): it binds only tls-unique, which TLS 1.3
    // does not have.
    let exporter_ok = offer
        .features
        .sasl_cb
        .as_ref()
        .is_some_and(|cb| cb.types.contains(&BindingType::TlsExporter));
    let any_plus = offered.iter().any(|m| m.ends_with("-PLUS"));
    let mut choice = None;
    if let (Some(data), true) = (&offer.exporter, exporter_ok) {
        choice = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"]
            .into_iter()
            .find(|m| has(m))
            .map(|mechanism| Choice {
                mechanism,
                binding: ChannelBinding::TlsExporter(data.clone()),
            });
    }
    if choice.is_none() {
        // GS2 flag: "y" tells a server that offers no -PLUS that Charla
        // could have bound (it detects a stripped -PLUS list); "n" when
        // Charla cannot bind to what the server offers.
        let binding = if offer.exporter.is_some() && !any_plus {
            ChannelBinding::Unsupported
        } else {
            ChannelBinding::None
        };
        choice = ["SCRAM-SHA-256", "SCRAM-SHA-1"]
            .into_iter()
            .find(|m| has(m))
            .map(|mechanism| Choice { mechanism, binding });
    }
    if choice.is_none() && has("PLAIN") {
        if offer.pinned {
            return Err(CoreError::new(
                ErrorCode::AuthMechanism,
                "the server offers only PLAIN, which would send the password to a server \
                 whose certificate you trusted by hand; refusing",
            ));
        }
        choice = Some(Choice {
            mechanism: "PLAIN",
            binding: ChannelBinding::None,
        });
    }
    let Some(choice) = choice else {
        return Err(CoreError::new(
            ErrorCode::AuthMechanism,
            format!(
                "the server offers no supported login method (offered: {})",
                list(offered)
            ),
        ));
    };
    let strength = Strength::of(choice.mechanism).unwrap_or(Strength::Plain);
    if let Some(floor) = offer.floor.filter(|floor| strength < *floor) {
        return Err(CoreError::new(
            ErrorCode::AuthDowngrade,
            format!(
                "the server now offers only weaker login methods ({}) than this account \
                 used before ({floor:?}); refusing, someone may be in between",
                list(offered)
            ),
        ));
    }
    Ok(choice)
}

fn list(offered: &BTreeSet<String>) -> String {
    offered.iter().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(xml: &str) -> StreamFeatures {
        let xml = format!(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>{xml}</stream:features>"
        );
        xmpp_parsers::minidom::Element::from_reader(xml.as_bytes())
            .map(|el| StreamFeatures::try_from(el).expect("features"))
            .expect("xml")
    }

    fn mechanisms(names: &[&str]) -> String {
        let inner: String = names
            .iter()
            .map(|n| format!("<mechanism>{n}</mechanism>"))
            .collect();
        format!("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{inner}</mechanisms>")
    }

    const CB_EXPORTER: &str = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
        <channel-binding type='tls-server-end-point'/><channel-binding type='tls-exporter'/>\
        </sasl-channel-binding>";
    const CB_UNIQUE: &str = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
        <channel-binding type='tls-unique'/></sasl-channel-binding>";

    fn pick(xml: &str, exporter: bool, floor: Option<Strength>) -> Result<Choice, CoreError> {
        choose(Offer {
            features: &features(xml),
            exporter: exporter.then(|| vec![7; 32]),
            pinned: false,
            floor,
        })
    }

    /// Prosody 0.12 on TLS 1.3: no -PLUS. This is the case where Charla
    /// used to fall back to PLAIN.
    #[test]
    fn scram_without_plus_flags_that_charla_could_bind() {
        let xml = mechanisms(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]);
        let c = pick(&xml, true, None).unwrap();
        assert_eq!(c.mechanism, "SCRAM-SHA-256");
        assert_eq!(c.binding, ChannelBinding::Unsupported);
        let c = pick(&xml, false, None).unwrap();
        assert_eq!(c.binding, ChannelBinding::None);
    }

    /// -PLUS with tls-exporter only where XEP-0440 lists it. ejabberd 23.01
    /// on TLS 1.3 offers -PLUS without the list (and cannot bind there).
    #[test]
    fn plus_with_tls_exporter_when_offered() {
        let names = [
            "SCRAM-SHA-512-PLUS",
            "SCRAM-SHA-512",
            "SCRAM-SHA-256-PLUS",
            "SCRAM-SHA-256",
            "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-1",
            "PLAIN",
        ];
        let c = pick(&format!("{}{CB_EXPORTER}", mechanisms(&names)), true, None).unwrap();
        assert_eq!(c.mechanism, "SCRAM-SHA-256-PLUS");
        assert_eq!(c.binding, ChannelBinding::TlsExporter(vec![7; 32]));
        // ejabberd 23.01: -PLUS offered, no XEP-0440 list.
        let ejabberd = mechanisms(&["PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "X-OAUTH2"]);
        let c = pick(&ejabberd, true, None).unwrap();
        assert_eq!(
            (c.mechanism, c.binding),
            ("SCRAM-SHA-1", ChannelBinding::None)
        );
        // TLS 1.2 (no exporter), or a server that binds only tls-unique:
        // plain SCRAM with "n", as a "y" would make it suspect a downgrade.
        let c = pick(&mechanisms(&names), false, None).unwrap();
        assert_eq!(
            (c.mechanism, c.binding),
            ("SCRAM-SHA-256", ChannelBinding::None)
        );
        let c = pick(&format!("{}{CB_UNIQUE}", mechanisms(&names)), true, None).unwrap();
        assert_eq!(
            (c.mechanism, c.binding),
            ("SCRAM-SHA-256", ChannelBinding::None)
        );
    }

    #[test]
    fn plain_only_without_scram_and_never_after_a_stronger_login() {
        let plain = mechanisms(&["PLAIN", "X-OAUTH2"]);
        assert_eq!(pick(&plain, true, None).unwrap().mechanism, "PLAIN");
        assert_eq!(
            pick(&plain, true, Some(Strength::Plain)).unwrap().mechanism,
            "PLAIN"
        );
        let err = pick(&plain, true, Some(Strength::Scram)).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthDowngrade);
        let scram = mechanisms(&["SCRAM-SHA-1"]);
        let err = pick(&scram, true, Some(Strength::ScramPlus)).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthDowngrade);
        assert!(pick(&scram, true, Some(Strength::Scram)).is_ok());
    }

    #[test]
    fn plain_is_refused_behind_a_certificate_trusted_by_hand() {
        let err = choose(Offer {
            features: &features(&mechanisms(&["PLAIN"])),
            exporter: None,
            pinned: true,
            floor: None,
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthMechanism);
        let c = choose(Offer {
            features: &features(&mechanisms(&["PLAIN", "SCRAM-SHA-1"])),
            exporter: None,
            pinned: true,
            floor: None,
        })
        .unwrap();
        assert_eq!(c.mechanism, "SCRAM-SHA-1");
    }

    #[test]
    fn nothing_usable_is_an_error_naming_what_was_offered() {
        let err = pick(&mechanisms(&["ANONYMOUS", "EXTERNAL"]), true, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthMechanism);
        assert!(
            err.message.contains("ANONYMOUS, EXTERNAL"),
            "{}",
            err.message
        );
    }
}
