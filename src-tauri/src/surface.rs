// The commands the UI may call, written once. `lib.rs` registers them (the
// handler list); `build.rs` declares each one as a permission
// (`allow-<command>`) and writes `capabilities/main.json`, which grants
// them to Charla's windows (CI fails if the committed file drifts). This
// file is also `include!`d by `build.rs`, so it holds only this macro.

/// Calls the macro `$then` with every command's name, in order.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            app_info,
            login,
            resume_login,
            enable_account,
            set_account_color,
            trust_certificate,
            logout,
            reconnect_now,
            set_presence,
            last_activity,
            contacts,
            presences,
            open_chat,
            close_chat,
            load_older,
            send_message,
            focus_chat,
            mark_displayed,
            retry_message,
            answer_subscription,
            add_contact,
            block,
            block_and_report,
            can_report,
            message_requests,
            delete_conversation,
            blocked,
            remove_contact,
            edit_contact,
            chat_state,
            open_link,
            parse_link,
            take_link,
            save_settings,
            pop_out_chat,
            registration_form,
            register_account,
            change_password,
            delete_account,
            remove_account,
            avatars,
            avatar_image,
            set_avatar,
            profile,
            set_profile,
        }
    };
}
