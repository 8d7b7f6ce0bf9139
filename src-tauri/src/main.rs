// Without a console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// WebKitGTK settings that Charla does not need the defaults of: a chat
/// window gains nothing from GPU compositing or DMA-BUF rendering, and
/// without them the web process needs about 117 MB less memory (PSS,
/// measured with `tests/e2e/measure.mjs`) and the window paints sooner. A
/// value already set in the environment wins.
const WEBKIT_DEFAULTS: &[(&str, &str)] = &[
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
];

fn main() {
    // Set before any thread starts (WebKit reads them when it starts).
    for (name, value) in WEBKIT_DEFAULTS {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    charla_lib::run();
}
