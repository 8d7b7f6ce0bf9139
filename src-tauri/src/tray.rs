//! The tray icon: open, status, quit; its tooltip and the window title show
//! the unread count. Its labels follow the system language (English or
//! Spanish).

use std::sync::Arc;

use charla_core::Show;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::shell::Shell;

const TRAY_ID: &str = "main";

struct Labels {
    open: &'static str,
    status: &'static str,
    available: &'static str,
    away: &'static str,
    dnd: &'static str,
    offline: &'static str,
    quit: &'static str,
    unread: &'static str,
}

const EN: Labels = Labels {
    open: "Open Charla",
    status: "Status",
    available: "Available",
    away: "Away",
    dnd: "Do not disturb",
    offline: "Offline",
    quit: "Quit",
    unread: "unread",
};

const ES: Labels = Labels {
    open: "Abrir Charla",
    status: "Estado",
    available: "Disponible",
    away: "Ausente",
    dnd: "No molestar",
    offline: "Desconectado",
    quit: "Salir",
    unread: "sin leer",
};

fn labels() -> &'static Labels {
    let lang = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    if lang.starts_with("es") {
        &ES
    } else {
        &EN
    }
}

/// Creates the tray icon and its menu.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let l = labels();
    let open = MenuItem::with_id(app, "open", l.open, true, None::<&str>)?;
    let status = Submenu::with_items(
        app,
        l.status,
        true,
        &[
            &MenuItem::with_id(app, "available", l.available, true, None::<&str>)?,
            &MenuItem::with_id(app, "away", l.away, true, None::<&str>)?,
            &MenuItem::with_id(app, "dnd", l.dnd, true, None::<&str>)?,
            &MenuItem::with_id(app, "offline", l.offline, true, None::<&str>)?,
        ],
    )?;
    let quit = MenuItem::with_id(app, "quit", l.quit, true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[&open, &status, &PredefinedMenuItem::separator(app)?, &quit],
    )?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Charla")
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    let show = match id {
        "open" => {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
            return;
        }
        "quit" => {
            app.exit(0);
            return;
        }
        "available" => Show::Available,
        "away" => Show::Away,
        "dnd" => Show::Dnd,
        "offline" => Show::Offline,
        _ => return,
    };
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let accounts: Vec<_> = shell.app.own_shows().into_keys().collect();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        for account in accounts {
            let _ = shell.app.set_presence(account, show, None).await;
        }
        show_status(&app, show);
    });
}

/// Reflects the own status in the tray tooltip.
pub fn show_status(app: &AppHandle, show: Show) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let l = labels();
        let text = match show {
            Show::Chat | Show::Available => l.available,
            Show::Away | Show::Xa => l.away,
            Show::Dnd => l.dnd,
            Show::Offline => l.offline,
        };
        let _ = tray.set_tooltip(Some(format!("Charla — {text}")));
    }
}

/// Shows the unread total in the window title and the tray.
pub fn show_unread(app: &AppHandle, total: u32) {
    let title = if total > 0 {
        format!("Charla ({total})")
    } else {
        "Charla".to_owned()
    };
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(&title);
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let text = if total > 0 {
            format!("Charla — {total} {}", labels().unread)
        } else {
            "Charla".to_owned()
        };
        let _ = tray.set_tooltip(Some(text));
    }
}
