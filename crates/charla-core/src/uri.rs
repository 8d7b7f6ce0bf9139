//! `xmpp:` links: URIs and IRIs as RFC 5122 defines them, with the query
//! actions of XEP-0147 (`?message`, `?roster`, `?subscribe`, ...).
//!
//! [`parse`] turns a link into an [`XmppLink`]: the contact's bare JID and
//! what the link asks for. It never does anything itself: opening a chat or
//! offering to add a contact is up to the caller, and nothing is sent or
//! changed without the user confirming.
//!
//! Decisions:
//! - The scheme is case-insensitive; the fragment (`#...`) is ignored.
//! - The authority form (`xmpp://me@example.com/you@example.org`) names the
//!   account that should act. Charla acts from the account in use, so the
//!   authority is ignored; the path after it is the target as usual.
//! - The target must be `user@domain`: a server alone is not a contact. A
//!   resource is accepted and dropped (chats are per bare JID).
//! - Each part and each query key and value is percent-decoded as UTF-8 on
//!   its own, so an encoded `@`, `/` or `;` never splits anything; JID parts
//!   are then checked with the `jid` crate (stringprep).
//! - `?message` (keys `body`, `subject`, `thread`), no query, or an action
//!   Charla does not know opens the chat. `?roster` (keys `name`, `group`)
//!   and `?subscribe` offer to add the contact. `?remove` and
//!   `?unsubscribe` only open the chat, whose menu can remove the contact.
//! - Links longer than [`MAX_LINK`] bytes, raw control characters or
//!   whitespace, bad percent-encoding, invalid UTF-8 and control
//!   characters in decoded values (except tab and line feed in texts) are
//!   refused with [`ErrorCode::BadLink`].

use serde::Serialize;
use ts_rs::TS;
use xmpp_parsers::jid::{BareJid, DomainPart, NodePart, ResourcePart};

use crate::error::{CoreError, ErrorCode};

/// The longest link accepted, in bytes.
pub const MAX_LINK: usize = 4096;

/// What an `xmpp:` link asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct XmppLink {
    /// The contact's bare JID (`user@domain`, normalized).
    pub jid: String,
    /// What to do with it.
    pub action: LinkAction,
}

/// The action of an `xmpp:` link (XEP-0147), as Charla offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum LinkAction {
    /// Open the chat (`?message`, no query, `?remove`, `?unsubscribe` or an
    /// unknown action), with a text to put in the message box, unsent.
    Chat {
        /// The proposed message text (`body`).
        body: Option<String>,
        /// The proposed subject (`subject`).
        subject: Option<String>,
        /// The conversation thread (`thread`).
        thread: Option<String>,
    },
    /// Offer to join the group chat at the address (`?join`, XEP-0045
    /// §6.6); never joined by itself.
    Join {
        /// The room's password (`password`).
        password: Option<String>,
    },
    /// Offer to add the contact (`?roster`, `?subscribe`).
    AddContact {
        /// The proposed name (`name`).
        name: Option<String>,
        /// The proposed group (`group`).
        group: Option<String>,
    },
}

fn bad(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::BadLink, message)
}

/// Whether `s` starts with the `xmpp:` scheme (any case).
pub fn is_xmpp_link(s: &str) -> bool {
    s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("xmpp:"))
}

/// Percent-decodes `s` as UTF-8.
pub(crate) fn decode(s: &str) -> Result<String, CoreError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| bad("bad percent-encoding"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad("bad percent-encoding"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad("the link is not valid UTF-8 once decoded"))
}

/// Decodes a query value: control characters are refused, except tab and
/// line feed (a message may have several lines). Empty means absent.
fn value(s: &str) -> Result<Option<String>, CoreError> {
    let v = decode(s)?;
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(bad("the link has control characters"));
    }
    Ok((!v.is_empty()).then_some(v))
}

/// Decodes and checks the target JID (`node@domain[/resource]`).
fn target(path: &str) -> Result<BareJid, CoreError> {
    let (address, resource) = match path.split_once('/') {
        Some((a, r)) => (a, Some(r)),
        None => (path, None),
    };
    if address.is_empty() {
        return Err(bad("the link has no address"));
    }
    let (node, domain) = address
        .split_once('@')
        .ok_or_else(|| bad("the link's address has no user part (expected user@domain)"))?;
    let invalid = |e| bad(format!("the link's address is not valid: {e}"));
    let node = NodePart::new(&decode(node)?).map_err(invalid)?.into_owned();
    let domain = DomainPart::new(&decode(domain)?)
        .map_err(invalid)?
        .into_owned();
    if let Some(resource) = resource {
        ResourcePart::new(&decode(resource)?).map_err(invalid)?;
    }
    Ok(BareJid::from_parts(Some(&node), &domain))
}

/// Parses an `xmpp:` URI or IRI (RFC 5122) and its XEP-0147 query.
///
/// # Errors
///
/// [`ErrorCode::BadLink`] with the reason, for anything that is not a
/// well-formed `xmpp:` link to `user@domain` (see the module's decisions).
pub fn parse(link: &str) -> Result<XmppLink, CoreError> {
    let link = link.trim();
    if link.len() > MAX_LINK {
        return Err(bad(format!("the link is longer than {MAX_LINK} bytes")));
    }
    if !is_xmpp_link(link) {
        return Err(bad("not an xmpp: link"));
    }
    if link.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("the link has spaces or control characters"));
    }
    let rest = &link[5..];
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (hier, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let path = match hier.strip_prefix("//") {
        // The account to act as: Charla uses the current one.
        Some(authority_path) => authority_path.split_once('/').map_or("", |(_, p)| p),
        None => hier,
    };
    let jid = target(path)?;

    let mut pairs = Vec::new();
    let mut kind = "";
    if let Some(query) = query {
        let mut parts = query.split(';');
        kind = parts.next().unwrap_or("");
        for pair in parts {
            // A pair without `=` carries nothing; it is skipped.
            if let Some((key, v)) = pair.split_once('=') {
                pairs.push((decode(key)?, value(v)?));
            }
        }
    }
    // The first occurrence of a key counts.
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.clone())
    };
    let action = if kind.eq_ignore_ascii_case("roster") || kind.eq_ignore_ascii_case("subscribe") {
        LinkAction::AddContact {
            name: get("name"),
            group: get("group"),
        }
    } else if kind.eq_ignore_ascii_case("join") {
        LinkAction::Join {
            password: get("password"),
        }
    } else {
        LinkAction::Chat {
            body: get("body"),
            subject: get("subject"),
            thread: get("thread"),
        }
    };
    Ok(XmppLink {
        jid: jid.to_string(),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(jid: &str, body: Option<&str>) -> XmppLink {
        XmppLink {
            jid: jid.into(),
            action: LinkAction::Chat {
                body: body.map(Into::into),
                subject: None,
                thread: None,
            },
        }
    }

    fn code(link: &str) -> ErrorCode {
        parse(link).expect_err(link).code
    }

    #[test]
    fn rfc_5122_examples() {
        // RFC 5122 §2.8 and XEP-0147's examples.
        assert_eq!(
            parse("xmpp:node@example.com").unwrap(),
            chat("node@example.com", None)
        );
        assert_eq!(
            parse("xmpp://guest@example.com/support@example.com?message").unwrap(),
            chat("support@example.com", None)
        );
        assert_eq!(
            parse("xmpp:support@example.com?message").unwrap(),
            chat("support@example.com", None)
        );
        assert_eq!(
            parse("xmpp:romeo@montague.net?message;subject=Test%20Message;body=Here%27s%20a%20test%20message").unwrap(),
            XmppLink {
                jid: "romeo@montague.net".into(),
                action: LinkAction::Chat {
                    body: Some("Here's a test message".into()),
                    subject: Some("Test Message".into()),
                    thread: None,
                },
            }
        );
        assert_eq!(
            parse("xmpp:romeo@montague.net?roster;name=Romeo%20Montague;group=Friends").unwrap(),
            XmppLink {
                jid: "romeo@montague.net".into(),
                action: LinkAction::AddContact {
                    name: Some("Romeo Montague".into()),
                    group: Some("Friends".into()),
                },
            }
        );
        // Resource dropped; the percent-encoded resource of §2.8.
        assert_eq!(
            parse("xmpp:node@example.com/some%20resource").unwrap(),
            chat("node@example.com", None)
        );
        // An IRI with a non-ASCII node, and the same percent-encoded.
        assert_eq!(
            parse("xmpp:niño@example.com").unwrap(),
            chat("niño@example.com", None)
        );
        assert_eq!(
            parse("xmpp:ni%C3%B1o@example.com").unwrap(),
            chat("niño@example.com", None)
        );
    }

    #[test]
    fn actions() {
        assert_eq!(
            parse("XMPP:Bob@Example.COM?subscribe").unwrap(),
            XmppLink {
                jid: "bob@example.com".into(),
                action: LinkAction::AddContact {
                    name: None,
                    group: None
                },
            }
        );
        assert_eq!(
            parse("xmpp:family@conference.example.com?join;password=cake").unwrap(),
            XmppLink {
                jid: "family@conference.example.com".into(),
                action: LinkAction::Join {
                    password: Some("cake".into())
                },
            }
        );
        for only_open in ["remove", "unsubscribe", "disco;node=x", "", "MESSAGE"] {
            let link = format!("xmpp:bob@example.com?{only_open}");
            assert_eq!(
                parse(&link).unwrap(),
                chat("bob@example.com", None),
                "{link}"
            );
        }
        let full =
            parse("xmpp:bob@example.com?message;thread=t1;body=a%0Ab;body=second;flag;x=y#frag")
                .unwrap();
        assert_eq!(
            full.action,
            LinkAction::Chat {
                body: Some("a\nb".into()),
                subject: None,
                thread: Some("t1".into()),
            }
        );
        // An encoded `;` or `=` stays in the value; `+` is not a space.
        assert_eq!(
            parse("xmpp:bob@example.com?message;body=1%3B2%3D3+4").unwrap(),
            chat("bob@example.com", Some("1;2=3+4"))
        );
        assert_eq!(
            parse("xmpp:bob@example.com?message;body=").unwrap(),
            chat("bob@example.com", None)
        );
        assert_eq!(
            parse("  xmpp:bob@example.com  ").unwrap(),
            chat("bob@example.com", None)
        );
    }

    #[test]
    fn serializes_for_the_ui() {
        let json = serde_json::to_value(parse("xmpp:a@b.c?roster;name=A").unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "jid": "a@b.c",
                "action": { "type": "add_contact", "name": "A", "group": null }
            })
        );
    }

    #[test]
    fn hostile_links_are_refused() {
        for link in [
            "",
            "https://example.org",
            "mailto:bob@example.com",
            "xmpp:",
            "xmpp:?message",
            "xmpp://guest@example.com",
            "xmpp://guest@example.com/",
            "xmpp:example.com",
            "xmpp:@example.com",
            "xmpp:bob@",
            "xmpp:bob@exa mple.com",
            "xmpp:bob@example.com\n?message",
            "xmpp:bob@example.com\u{7}",
            "xmpp:bob@example.com?message;body=%",
            "xmpp:bob@example.com?message;body=%G1",
            "xmpp:bob@example.com?message;body=%C3",
            "xmpp:bob@example.com?message;body=%FF%FE",
            "xmpp:bob@example.com?message;body=%00",
            "xmpp:bob@example.com?message;body=%1B%5B31m",
            "xmpp:bob@example.com?message;body=%C2%85",
            "xmpp:b%40b@example.com",
            "xmpp:b%2Fb@example.com",
            "xmpp:bob@exa%00mple.com",
            "xmpp:bob@example.com/%00",
            "xmpp:bob@example.com/",
            "xmpp:b%zzb@example.com",
        ] {
            assert_eq!(code(link), ErrorCode::BadLink, "{link:?}");
        }
        let long = format!("xmpp:bob@example.com?message;body={}", "a".repeat(MAX_LINK));
        assert_eq!(code(&long), ErrorCode::BadLink);
        let node_too_long = format!("xmpp:{}@example.com", "a".repeat(1100));
        assert_eq!(code(&node_too_long), ErrorCode::BadLink);
    }

    #[test]
    fn scheme_check() {
        assert!(is_xmpp_link("xmpp:a@b"));
        assert!(is_xmpp_link("XmPp:a@b"));
        assert!(!is_xmpp_link("xmpp"));
        assert!(!is_xmpp_link("https://a"));
        assert!(!is_xmpp_link("xmpé:a"));
    }
}
