//! The desktop's idle time (no keyboard or pointer input anywhere, not just
//! in Charla's windows), read every few seconds to turn our presence away
//! and back (the policy is `charla_core::idle`).
//!
//! Sources, in order: on Wayland, GNOME's `org.gnome.Mutter.IdleMonitor`
//! and then `org.freedesktop.ScreenSaver` over D-Bus; on X11, the
//! MIT-SCREEN-SAVER extension (libXss, loaded at run time so that building
//! needs no X development packages), then the same D-Bus services. With
//! none of them, presence never changes on its own.

use std::sync::Arc;
use std::time::Duration;

use charla_core::idle::AutoPresence;
use charla_core::{AccountId, Show};
use tauri::{AppHandle, Emitter};

use crate::shell::Shell;
use crate::types::ShellEvent;

/// How often the idle time is read.
const POLL: Duration = Duration::from_secs(5);

/// A way to read the desktop's idle time.
enum Source {
    X11(Box<X11Idle>),
    Mutter,
    ScreenSaver,
}

impl Source {
    /// The first source that answers on this desktop.
    fn find() -> Option<Source> {
        let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
        let x11 = || X11Idle::open().map(|x| Source::X11(Box::new(x)));
        let dbus = || {
            [Source::Mutter, Source::ScreenSaver]
                .into_iter()
                .find(|s| s.idle().is_some())
        };
        if wayland {
            dbus().or_else(x11)
        } else {
            x11().or_else(dbus)
        }
    }

    fn idle(&self) -> Option<Duration> {
        match self {
            Source::X11(x) => x.idle(),
            Source::Mutter => dbus_idle(
                "org.gnome.Mutter.IdleMonitor",
                "/org/gnome/Mutter/IdleMonitor/Core",
                "GetIdletime",
            )
            .map(Duration::from_millis),
            Source::ScreenSaver => dbus_idle(
                "org.freedesktop.ScreenSaver",
                "/org/freedesktop/ScreenSaver",
                "GetSessionIdleTime",
            )
            .map(Duration::from_secs),
        }
    }
}

/// Calls a D-Bus method that answers an idle time as an unsigned number.
fn dbus_idle(service: &str, path: &str, method: &str) -> Option<u64> {
    let conn = dbus::blocking::Connection::new_session().ok()?;
    let proxy = conn.with_proxy(service, path, Duration::from_millis(500));
    if let Ok((ms,)) = proxy.method_call::<(u64,), _, _, _>(service, method, ()) {
        return Some(ms);
    }
    proxy
        .method_call::<(u32,), _, _, _>(service, method, ())
        .ok()
        .map(|(v,)| u64::from(v))
}

/// The X11 screen saver extension on the default display.
struct X11Idle {
    xlib: x11_dl::xlib::Xlib,
    xss: x11_dl::xss::Xss,
    display: *mut x11_dl::xlib::Display,
}

// The display connection is used from the one polling task only.
unsafe impl Send for X11Idle {}

impl X11Idle {
    fn open() -> Option<X11Idle> {
        std::env::var_os("DISPLAY")?;
        let xlib = x11_dl::xlib::Xlib::open().ok()?;
        let xss = x11_dl::xss::Xss::open().ok()?;
        // SAFETY: a null name opens $DISPLAY; the result is checked.
        let display = unsafe { (xlib.XOpenDisplay)(std::ptr::null()) };
        if display.is_null() {
            return None;
        }
        let (mut event, mut error) = (0, 0);
        // SAFETY: `display` is a live connection.
        if unsafe { (xss.XScreenSaverQueryExtension)(display, &mut event, &mut error) } == 0 {
            // SAFETY: closing the connection opened above.
            unsafe { (xlib.XCloseDisplay)(display) };
            return None;
        }
        let x = X11Idle { xlib, xss, display };
        x.idle().map(|_| x)
    }

    fn idle(&self) -> Option<Duration> {
        // SAFETY: `display` stays open for the life of `self`; the info is
        // allocated by libXss, read once and freed.
        unsafe {
            let info = (self.xss.XScreenSaverAllocInfo)();
            if info.is_null() {
                return None;
            }
            let root = (self.xlib.XDefaultRootWindow)(self.display);
            let ok = (self.xss.XScreenSaverQueryInfo)(self.display, root, info) != 0;
            // Milliseconds, as a C `unsigned long`.
            #[allow(clippy::unnecessary_cast)]
            let idle = (*info).idle as u64;
            (self.xlib.XFree)(info.cast());
            ok.then(|| Duration::from_millis(idle))
        }
    }
}

impl Drop for X11Idle {
    fn drop(&mut self) {
        // SAFETY: the connection was opened by `open` and is closed once.
        unsafe { (self.xlib.XCloseDisplay)(self.display) };
    }
}

/// Reads the idle time for as long as the app runs and turns the presence
/// of every online account away (and back) as the settings say.
pub fn start(app: AppHandle, shell: Arc<Shell>) {
    std::thread::Builder::new()
        .name("charla-idle".into())
        .spawn(move || {
            let Some(source) = Source::find() else {
                eprintln!("charla: the desktop does not tell its idle time; no auto-away");
                return;
            };
            let mut current: Option<AutoPresence> = None;
            loop {
                std::thread::sleep(POLL);
                let Some(idle) = source.idle() else { continue };
                let next = auto_presence(&shell, idle, current);
                if next.map(|a| a.show) != current.map(|a| a.show) {
                    current = next;
                    apply(&app, &shell, next);
                }
            }
        })
        .expect("spawning the idle thread");
}

/// What the presence should be after `idle` without input, for the
/// current settings and chosen presence (the first online account's).
fn auto_presence(
    shell: &Shell,
    idle: Duration,
    current: Option<AutoPresence>,
) -> Option<AutoPresence> {
    let rules = shell.app.settings().auto_away;
    // Any account that may turn away decides (DND ones stay as they are).
    let chosen = {
        let own = shell.app.own_shows();
        own.values()
            .find(|s| **s != Show::Dnd)
            .or_else(|| own.values().next())
            .copied()?
    };
    let show = rules.decide(chosen, idle)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let since = current.map_or_else(|| now.saturating_sub(idle).as_millis() as i64, |c| c.since);
    Some(AutoPresence { show, since })
}

fn apply(app: &AppHandle, shell: &Arc<Shell>, auto: Option<AutoPresence>) {
    // An account set to do-not-disturb keeps it.
    let own = shell.app.own_shows();
    let accounts: Vec<AccountId> = own
        .iter()
        .filter(|(_, show)| **show != Show::Dnd)
        .map(|(account, _)| *account)
        .collect();
    let shown = auto
        .map(|a| a.show)
        .or_else(|| own.values().next().copied());
    let core_shell = shell.clone();
    tauri::async_runtime::spawn(async move {
        for account in accounts {
            core_shell.app.core.set_auto_presence(account, auto).await;
        }
    });
    crate::tray::show_status(app, shown.unwrap_or(Show::Available));
    let _ = app.emit(
        crate::shell::SHELL_EVENT,
        ShellEvent::AutoAway {
            show: auto.map(|a| a.show),
        },
    );
}
