fn main() {
    // Declaring the app's commands makes each one a permission
    // (`allow-<command>`), so the capability files grant exactly those the
    // UI uses.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_info",
            "login",
            "resume_login",
            "trust_certificate",
            "logout",
            "set_presence",
            "last_activity",
            "contacts",
            "presences",
            "open_chat",
            "close_chat",
            "load_older",
            "send_message",
            "retry_message",
            "answer_subscription",
            "add_contact",
            "block",
            "blocked",
            "remove_contact",
            "edit_contact",
            "chat_state",
            "focus_chat",
            "mark_displayed",
            "open_link",
            "parse_link",
            "take_link",
            "save_settings",
            "pop_out_chat",
            "registration_form",
            "register_account",
            "change_password",
            "delete_account",
            "remove_account",
            "avatars",
            "avatar_image",
            "set_avatar",
            "profile",
            "set_profile",
        ]),
    ))
    .expect("failed to run tauri-build");
}
