//! Declares the app's commands (`src/surface.rs`): each one becomes a
//! permission (`allow-<command>`), and `capabilities/main.json`, written
//! here from the same list, grants exactly those to Charla's windows.

include!("src/surface.rs");

/// The command names, in order.
macro_rules! names {
    ($($(#[doc = $doc:literal])* $command:ident($($arg:ident: $ty:ty),*) -> $answer:ty,)*) => {
        &[$(stringify!($command)),*]
    };
}

const COMMANDS: &[&str] = with_commands!(names);

/// The capability file for `commands`, as committed.
fn capability(commands: &[&str]) -> String {
    let mut permissions = vec![
        "core:event:allow-listen".to_owned(),
        "core:event:allow-unlisten".to_owned(),
    ];
    permissions.extend(
        commands
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-"))),
    );
    let permissions: Vec<String> = permissions.iter().map(|p| format!("    \"{p}\"")).collect();
    format!(
        r#"{{
  "$schema": "../gen/schemas/desktop-schema.json",
  "identifier": "main",
  "description": "Charla's windows (the main window and popped-out chats): listen to events and call exactly the app commands the UI uses.",
  "windows": ["main", "chat-*"],
  "permissions": [
{}
  ]
}}
"#,
        permissions.join(",\n")
    )
}

fn main() {
    println!("cargo:rerun-if-changed=src/surface.rs");
    let file = std::path::Path::new("capabilities/main.json");
    let wanted = capability(COMMANDS);
    if std::fs::read_to_string(file).ok().as_deref() != Some(wanted.as_str()) {
        std::fs::write(file, wanted).expect("writing capabilities/main.json");
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
