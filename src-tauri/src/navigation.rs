//! Where a window's web view may go: only Charla's own pages. A link in a
//! message, WebKit's own context menu ("Open Link"), a dropped link or a
//! script must never replace the UI with a web page, and no web view may
//! open a window of its own. Every window the shell creates (the main
//! window, which `tauri.conf.json` declares with `"create": false` so that
//! it is built here, and each pop-out) gets both handlers, and one that
//! refuses downloads, through [`guard`].
//!
//! A refused navigation is dropped, not handed to the system: links the
//! user chooses go to the system's browser through `open_link` (and its
//! allowlist, `links::allowed`), never through a navigation. New windows
//! are refused even for Charla's own origin: a window WebKit creates by
//! itself would have neither these handlers nor the shell's IPC; pop-outs
//! are made by `pop_out_chat`.

use tauri::webview::{DownloadEvent, NewWindowResponse};
use tauri::{AppHandle, Manager, Runtime, Url, WebviewWindowBuilder};

/// Whether `url` is one of Charla's own pages: the embedded UI, served as
/// `tauri://localhost` (on Windows `http(s)://tauri.localhost`), or in a
/// development build the dev server's origin (`dev_url`).
pub fn is_app_url(url: &Url, dev_url: Option<&Url>) -> bool {
    let host = url.host_str();
    let embedded = match url.scheme() {
        "tauri" => host == Some("localhost") && url.port().is_none(),
        "http" | "https" if cfg!(windows) => {
            host == Some("tauri.localhost") && url.port().is_none()
        }
        _ => false,
    };
    embedded
        || dev_url.is_some_and(|dev| {
            matches!(url.scheme(), "http" | "https")
                && url.scheme() == dev.scheme()
                && host.is_some()
                && host == dev.host_str()
                && url.port_or_known_default() == dev.port_or_known_default()
        })
}

/// Scheme and host of `url` for the log: never the path, query or fragment
/// (a link may carry a key in its fragment).
fn shown(url: &Url) -> String {
    format!("{}:{}", url.scheme(), url.host_str().unwrap_or(""))
}

/// Adds the navigation, new-window and download handlers to a window's
/// builder.
pub fn guard<'a, R: Runtime, M: Manager<R>>(
    builder: WebviewWindowBuilder<'a, R, M>,
    app: &AppHandle<R>,
) -> WebviewWindowBuilder<'a, R, M> {
    let dev_url = if tauri::is_dev() {
        app.config().build.dev_url.clone()
    } else {
        None
    };
    builder
        .on_navigation(move |url| {
            let ok = is_app_url(url, dev_url.as_ref());
            if !ok {
                eprintln!("charla: refused to navigate to {}", shown(url));
            }
            ok
        })
        .on_new_window(|url, _features| {
            eprintln!("charla: refused to open a window on {}", shown(&url));
            NewWindowResponse::Deny
        })
        .on_download(|_webview, event| {
            if let DownloadEvent::Requested { url, .. } = event {
                eprintln!("charla: refused to download {}", shown(&url));
            }
            false
        })
}

#[cfg(test)]
mod tests {
    use super::is_app_url;
    use tauri::Url;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_app_origin() {
        for ok in [
            "tauri://localhost",
            "tauri://localhost/",
            "tauri://localhost/index.html",
            "tauri://localhost/index.html?x=1#chat",
        ] {
            assert!(is_app_url(&url(ok), None), "{ok}");
        }
        for bad in [
            "https://example.org/",
            "http://example.org/",
            "https://localhost/",
            "http://localhost:1420/",
            "http://127.0.0.1/",
            "tauri://example.org/",
            "tauri://localhost:8080/",
            "tauri://localhost.example.org/",
            "file:///etc/passwd",
            "file:///",
            "data:text/html,<script>alert(1)</script>",
            "about:blank",
            "about:srcdoc",
            "blob:tauri://localhost/1234",
            "javascript:alert(1)",
            "mailto:bob@example.org",
            "xmpp:bob@example.org",
            "asset://localhost/x",
            "ipc://localhost/x",
        ] {
            assert!(!is_app_url(&url(bad), None), "{bad}");
        }
        if !cfg!(windows) {
            assert!(!is_app_url(&url("http://tauri.localhost/"), None));
            assert!(!is_app_url(&url("https://tauri.localhost/"), None));
        }
    }

    #[test]
    fn the_dev_server_only_in_development() {
        let dev = url("http://localhost:1420");
        assert!(is_app_url(&url("http://localhost:1420/"), Some(&dev)));
        assert!(is_app_url(
            &url("http://localhost:1420/src/x.ts"),
            Some(&dev)
        ));
        assert!(is_app_url(&url("tauri://localhost/"), Some(&dev)));
        for bad in [
            "http://localhost:1421/",
            "http://localhost/",
            "https://localhost:1420/",
            "ws://localhost:1420/",
            "http://127.0.0.1:1420/",
            "https://example.org/",
        ] {
            assert!(!is_app_url(&url(bad), Some(&dev)), "{bad}");
        }
    }

    #[test]
    fn every_configured_window_is_made_in_code() {
        // Windows Tauri creates from the configuration would have no navigation
        // guard: each is declared with "create": false and built with `guard`.
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let windows = config["app"]["windows"].as_array().unwrap();
        assert!(!windows.is_empty());
        for window in windows {
            assert_eq!(window["create"], false, "{window}");
        }
    }
}
