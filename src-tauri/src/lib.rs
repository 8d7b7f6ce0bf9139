//! Charla's Tauri shell: opens the windows on the web UI built from `ui/`,
//! exposes the core to it through a few thin commands, forwards the core's
//! events, and owns the tray and desktop notifications.
//!
//! The shell stays thin: application logic belongs to the Tauri-free crates
//! under `crates/`.
//!
//! Environment:
//! - `CHARLA_SANDBOX_DIR`: a sandbox server's directory (`make run`): trust
//!   its CA for its domain and offer its demo accounts.
//! - `CHARLA_PROFILE`: a profile name; each profile has its own data,
//!   settings and single-instance lock (so `make run-bob` can run beside
//!   alice).

#[macro_use]
mod surface;
mod commands;
mod idle;
mod links;
mod navigation;
mod notify;
mod sandbox;
mod shell;
mod tray;
pub mod types;
#[cfg(test)]
mod typescript;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use charla_app::{App, Passwords, SettingsFile};
use charla_core::{Core, Credentials};
use tauri::{Manager, WebviewWindowBuilder, WindowEvent};

use crate::notify::Notifier;
use crate::sandbox::Sandbox;
use crate::shell::Shell;

/// The profile name from `CHARLA_PROFILE`, restricted to safe characters.
fn profile() -> Option<String> {
    std::env::var("CHARLA_PROFILE")
        .ok()
        .map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
}

/// The handler of the commands in `surface.rs`.
macro_rules! handler {
    ($($(#[doc = $doc:literal])* $command:ident($($arg:ident: $ty:ty),*) -> $answer:ty,)*) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

/// Builds and runs the application until it quits.
///
/// # Panics
///
/// If the Tauri runtime cannot start (for example, no display is available)
/// or the database cannot be opened.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let profile = profile();
    let mut context = tauri::generate_context!();
    if let Some(p) = &profile {
        // A separate identifier gives a separate data directory and
        // single-instance lock.
        let id = format!("{}.{p}", context.config().identifier);
        context.config_mut().identifier = id;
    }
    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
            links::received(app, &args);
        }))
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            // The windows of tauri.conf.json ("create": false), each with the
            // navigation guard, as Tauri would make them before this setup.
            let windows = app.config().app.windows.clone();
            for config in &windows {
                let builder = WebviewWindowBuilder::from_config(app.handle(), config)?;
                navigation::guard(builder, app.handle()).build()?;
            }
            let data_dir: PathBuf = app.path().app_data_dir()?;
            charla_core::profile::create_private_dir(&data_dir)?;
            let database = data_dir.join("charla.sqlite3");
            let (core, events) = Core::open(&database)?;
            let settings_file =
                SettingsFile::new(app.path().app_config_dir()?.join("settings.json"));
            let sandbox = match std::env::var_os("CHARLA_SANDBOX_DIR") {
                Some(dir) => Some(Sandbox::load(std::path::Path::new(&dir))?),
                None => None,
            };
            let handle = app.handle().clone();
            let notifier = Notifier::start(move |chat| {
                let shell = handle.state::<Arc<Shell>>();
                shell.open_chat_window(&handle, chat);
            });
            // Each profile (its own identifier) keeps its own passwords.
            let credentials = Credentials::new(app.config().identifier.clone());
            // The sandbox's server, for its own domain.
            let known = sandbox.clone();
            let app_state = App::open(
                core,
                &database,
                Passwords::new(Arc::new(credentials)),
                Box::new(move |jid| {
                    let (trust, address) = known.as_ref()?.for_jid(jid)?;
                    Some((trust, Some(address)))
                }),
                Some(settings_file),
            )?;
            let shell = Arc::new(Shell {
                app: app_state,
                sandbox,
                profile: profile.clone(),
                views: Mutex::new(HashMap::new()),
                room_views: Mutex::new(HashMap::new()),
                popped: Mutex::new(HashMap::new()),
                notifier,
                // A link the desktop started us with (`charla xmpp:...`).
                link: Mutex::new(links::from_args(&std::env::args().collect::<Vec<_>>())),
                resuming: Mutex::new(None),
                listening: tokio::sync::watch::Sender::new(false),
            });
            app.manage(shell.clone());
            // Remembered logins go out while WebKit starts the page.
            shell.start_resuming();
            idle::start(app.handle().clone(), shell.clone());
            shell.forward_events(app.handle().clone(), events);
            if let Err(e) = tray::create(app.handle()) {
                eprintln!("charla: no tray icon: {e}");
            }
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::CloseRequested { api, .. } if window.label() == "main" => {
                let shell = window.state::<Arc<Shell>>();
                let to_tray = shell.app.settings().close_to_tray;
                if to_tray {
                    api.prevent_close();
                    let _ = window.hide();
                } else {
                    window.app_handle().exit(0);
                }
            }
            WindowEvent::Destroyed => {
                let shell = window.state::<Arc<Shell>>();
                if let Ok(mut popped) = shell.popped.lock() {
                    popped.remove(window.label());
                }
                if let Ok(mut views) = shell.views.lock() {
                    for by_window in views.values_mut() {
                        by_window.remove(window.label());
                    }
                };
            }
            _ => {}
        })
        .invoke_handler(with_commands!(handler))
        .run(context)
        .expect("error while running Charla");
}
