//! Charla's Tauri shell: opens the main window on the web UI built from `ui/`.
//!
//! The shell stays thin: application logic belongs to the Tauri-free crates under `crates/`.

/// Builds and runs the application until its last window closes.
///
/// # Panics
///
/// If the Tauri runtime cannot start (for example, no display is available).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running Charla");
}
