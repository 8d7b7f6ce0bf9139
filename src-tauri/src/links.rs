//! Links. Web and mail addresses clicked in a message are handed to the
//! system; anything else (file:, javascript:, data:, custom schemes) is
//! refused. `xmpp:` links are Charla's own: they come from a message, from
//! the command line at start, or from a second launch (the desktop runs
//! `charla %u` as the `x-scheme-handler/xmpp` handler, see
//! `charla.desktop`); they are parsed by `charla_core::uri` and kept until
//! the main window takes them (`take_link`). Nothing is done without the
//! user: the window only opens the chat or the add-contact dialog.

use std::sync::Arc;

use charla_core::uri::{self, XmppLink};
use charla_core::CoreError;
use tauri::{AppHandle, Emitter, Manager};

use crate::shell::{Shell, SHELL_EVENT};
use crate::types::ShellEvent;

const ALLOWED: &[&str] = &["http", "https", "mailto"];

/// Returns the URL if the system may open it: an allowed scheme and no
/// control or whitespace characters. A `mailto:` link keeps only its
/// addresses: its header fields (`?attach=`, `cc=`, `bcc=`, `body=`, ...)
/// are dropped, so a message cannot make the mail program attach a file or
/// copy someone in (RFC 6068 lets any header through there).
pub fn allowed(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once(':')?;
    let url = if scheme.eq_ignore_ascii_case("mailto") {
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        &url[..scheme.len() + 1 + end]
    } else {
        url
    };
    let rest = &url[scheme.len() + 1..];
    let ok = ALLOWED.iter().any(|s| s.eq_ignore_ascii_case(scheme))
        && !rest.is_empty()
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(url)
}

/// A link waiting for the main window: the parsed link, or why it was
/// refused (shown to the user as a notice).
pub type Pending = Result<XmppLink, CoreError>;

/// The last `xmpp:` link among command-line arguments (the program's name
/// first), parsed; other arguments are ignored.
pub fn from_args<S: AsRef<str>>(args: &[S]) -> Option<Pending> {
    args.iter()
        .skip(1)
        .map(AsRef::as_ref)
        .rfind(|a| uri::is_xmpp_link(a.trim_start()))
        .map(uri::parse)
}

/// A second launch passed `args`: keeps its link, if any, for the main
/// window and tells it to take it.
pub fn received(app: &AppHandle, args: &[String]) {
    let Some(link) = from_args(args) else { return };
    let Some(shell) = app.try_state::<Arc<Shell>>() else {
        return;
    };
    shell.keep_link(link);
    let _ = app.emit(SHELL_EVENT, ShellEvent::LinkReceived);
}

#[cfg(test)]
mod tests {
    use super::{allowed, from_args};
    use charla_core::{ErrorCode, LinkAction};

    #[test]
    fn only_allowlisted_schemes() {
        for ok in [
            "https://example.org/a?b=c",
            "http://example.org",
            "mailto:bob@example.org",
            "HTTPS://EXAMPLE.ORG",
        ] {
            assert_eq!(allowed(ok), Some(ok), "{ok}");
        }
        // mailto: only the addresses.
        for (link, opened) in [
            (
                "mailto:bob@example.org?attach=/etc/passwd",
                "mailto:bob@example.org",
            ),
            (
                "MAILTO:bob@example.org,al@example.org?cc=eve@example.org&bcc=x@y.z",
                "MAILTO:bob@example.org,al@example.org",
            ),
            (
                "mailto:bob@example.org?subject=Hi&body=x",
                "mailto:bob@example.org",
            ),
            ("mailto:bob@example.org#x", "mailto:bob@example.org"),
        ] {
            assert_eq!(allowed(link), Some(opened), "{link}");
        }
        assert_eq!(allowed("mailto:?to=bob@example.org"), None);
        for bad in [
            "xmpp:bob@example.org?message",
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

    #[test]
    fn links_from_the_command_line() {
        assert!(from_args(&["charla"]).is_none());
        assert!(from_args(&["charla", "--verbose", "https://example.org"]).is_none());
        // The program's own name is never taken for a link.
        assert!(from_args(&["xmpp:a@b.c"]).is_none());
        let link = from_args(&["charla", "XMPP:bob@example.org?roster;name=Bob"])
            .unwrap()
            .unwrap();
        assert_eq!(link.jid, "bob@example.org");
        assert!(matches!(link.action, LinkAction::AddContact { .. }));
        let refused = from_args(&["charla", "xmpp:example.org"]).unwrap();
        assert_eq!(refused.unwrap_err().code, ErrorCode::BadLink);
    }

    #[test]
    fn the_desktop_entry_handles_xmpp_links() {
        let entry = include_str!("../charla.desktop");
        assert!(entry.contains("\nMimeType=x-scheme-handler/xmpp;\n"));
        assert!(entry.contains("\nExec={{exec}} %u\n"));
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(
            config["bundle"]["linux"]["deb"]["desktopTemplate"],
            "charla.desktop"
        );
    }
}
