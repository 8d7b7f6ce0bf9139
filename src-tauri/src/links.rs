//! Which links the app opens: only web, mail and XMPP addresses, handed to
//! the system. Anything else (file:, javascript:, data:, custom schemes) is
//! refused.

const ALLOWED: &[&str] = &["http", "https", "mailto", "xmpp"];

/// Returns the URL if its scheme is allowed and it has no control or
/// whitespace characters.
pub fn allowed(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once(':')?;
    let ok = ALLOWED.iter().any(|s| s.eq_ignore_ascii_case(scheme))
        && !rest.is_empty()
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_allowlisted_schemes() {
        for ok in [
            "https://example.org/a?b=c",
            "http://example.org",
            "mailto:bob@example.org",
            "xmpp:bob@example.org?message",
            "HTTPS://EXAMPLE.ORG",
        ] {
            assert_eq!(allowed(ok), Some(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,x",
            "ftp://example.org",
            "https://exa mple.org",
            "https://example.org/\n",
            "https:",
            "example.org",
            "",
        ] {
            assert_eq!(allowed(bad), None, "{bad:?}");
        }
    }
}
