//! The commands the UI may call. Each one is thin: it checks its input and
//! calls the core; errors reach the UI as `{code, message}`.

use std::sync::Arc;

use charla_app::history::page_with_archive;
use charla_app::{AccountSettings, AccountsNow, LoginRequest, PresenceEntry};
use charla_core::{
    AccountId, ChatState, CoreError, ErrorCode, Message, MessageId, Profile, RegisterOptions,
    RegistrationForm, RosterEntry, Show, XmppLink,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, State, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use tauri_plugin_opener::OpenerExt;

use crate::shell::Shell;
use crate::types::{AppInfo, ChatRef, ChatUpdate, RegisterRequest, Resume, Settings};

type Shared<'a> = State<'a, Arc<Shell>>;

mod rich;
mod rooms;
pub use rich::*;
pub use rooms::*;

/// What the UI needs at start.
#[tauri::command]
pub fn app_info(shell: Shared<'_>, window: WebviewWindow) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sandbox: shell
            .sandbox
            .as_ref()
            .map(|s| s.info(shell.profile.as_deref())),
        settings: shell.app.settings(),
        popped_out: shell
            .popped
            .lock()
            .ok()
            .and_then(|p| p.get(window.label()).cloned()),
        devtools: cfg!(debug_assertions),
    }
}

/// Adds the account and connects; resolves once online (see
/// `App::login`: the password and the account are kept as asked). A
/// keyring failure is reported as an error event: the login itself
/// succeeded.
#[tauri::command]
pub async fn login(
    shell: Shared<'_>,
    app: AppHandle,
    request: LoginRequest,
) -> Result<AccountsNow, CoreError> {
    let (account, keyring) = shell.app.login(request, None).await?;
    if let Some(error) = keyring {
        shell.dispatch(&app, error);
    }
    Ok(AccountsNow {
        signed_in: Some(account),
        kept: shell.app.kept()?,
    })
}

/// At start: logs every enabled account in with its password from the OS
/// keyring, all at once; says why the login form is needed when none could
/// be. A remembered password the server rejects is forgotten, so it cannot
/// fail again at every start.
///
/// The first call answers with the logins the shell started at launch,
/// beside the window's loading (see [`Shell::resuming`]); it also lets the
/// core's events through to the windows, which listen by then.
#[tauri::command]
pub async fn resume_login(shell: Shared<'_>) -> Result<Resume, CoreError> {
    shell.page_listens();
    let started = shell
        .resuming
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match started {
        Some(task) => task.await.map_err(|e| {
            CoreError::new(ErrorCode::NotConnected, format!("the login failed: {e}"))
        })?,
        None => shell.app.resume().await,
    }
}

/// Enables an account (it connects with its password from the OS keyring,
/// answering its id; `password_needed` if there is none, then the UI asks
/// for it through `login`) or disables it (it goes offline and stays so,
/// also at the next start; its password stays remembered).
#[tauri::command]
pub async fn enable_account(
    shell: Shared<'_>,
    jid: String,
    enabled: bool,
) -> Result<AccountsNow, CoreError> {
    let signed_in = shell.app.enable_account(&jid, enabled).await?;
    Ok(AccountsNow {
        signed_in,
        kept: shell.app.kept()?,
    })
}

/// Sets the color an account is shown with (`#rrggbb`), or back to its
/// default (`None`).
#[tauri::command]
pub fn set_account_color(
    shell: Shared<'_>,
    jid: String,
    color: Option<String>,
) -> Result<Vec<AccountSettings>, CoreError> {
    shell.app.set_account_color(&jid, color)?;
    shell.app.kept()
}

/// Trusts the server certificate the last login of `jid` rejected, for
/// that account only (see `Core::pin_certificate`); the UI then logs in
/// again.
#[tauri::command]
pub fn trust_certificate(
    shell: Shared<'_>,
    jid: String,
    fingerprint: String,
) -> Result<(), CoreError> {
    let account = shell.app.core.add_account(&jid)?;
    shell.app.core.pin_certificate(account, &fingerprint)
}

/// While the account waits to reconnect, tries at once.
#[tauri::command]
pub async fn reconnect_now(shell: Shared<'_>, account: AccountId) -> Result<(), CoreError> {
    shell.app.core.reconnect_now(account).await;
    Ok(())
}

/// Goes offline and forgets the account's remembered password, so that the
/// next start asks for it.
#[tauri::command]
pub async fn logout(shell: Shared<'_>, account: AccountId) -> Result<(), CoreError> {
    shell.app.logout(account).await
}

/// Changes the own presence; `offline` disconnects. Answers the recent
/// status messages, this one first.
#[tauri::command]
pub async fn set_presence(
    shell: Shared<'_>,
    app: AppHandle,
    account: AccountId,
    show: Show,
    status: Option<String>,
) -> Result<Vec<String>, CoreError> {
    let recent = shell.app.set_presence(account, show, status).await?;
    crate::tray::show_status(&app, show);
    Ok(recent)
}

/// How many seconds ago a contact was last online (XEP-0012), if their
/// server tells.
#[tauri::command]
pub async fn last_activity(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<Option<u64>, CoreError> {
    shell.app.core.last_activity(account, &jid).await
}

/// The cached roster.
#[tauri::command]
pub fn contacts(shell: Shared<'_>, account: AccountId) -> Result<Vec<RosterEntry>, CoreError> {
    shell.app.core.contacts(account)
}

/// The presence of every online contact of an account (for a window that
/// opens after the presence events went by).
#[tauri::command]
pub fn presences(shell: Shared<'_>, account: AccountId) -> Vec<PresenceEntry> {
    shell.app.presences(account)
}

/// Opens a chat view: returns its newest page and sends later changes over
/// `updates` until `close_chat`.
#[tauri::command]
pub async fn open_chat(
    shell: Shared<'_>,
    window: WebviewWindow,
    account: AccountId,
    peer: String,
    updates: Channel<ChatUpdate>,
) -> Result<Vec<Message>, CoreError> {
    let peer = charla_core::parse_bare_jid(&peer)?.to_string();
    // Subscribe first, then read: a message stored in between arrives twice
    // (the view upserts by id) rather than not at all.
    shell.open_view(
        ChatRef {
            account,
            peer: peer.clone(),
        },
        window.label().to_owned(),
        updates,
    );
    page_with_archive(&shell.app.core, account, &peer, None).await
}

/// Closes a chat view.
#[tauri::command]
pub fn close_chat(shell: Shared<'_>, window: WebviewWindow, account: AccountId, peer: String) {
    shell.close_view(&ChatRef { account, peer }, window.label());
}

/// The page of history before `before`.
#[tauri::command]
pub async fn load_older(
    shell: Shared<'_>,
    account: AccountId,
    peer: String,
    before: MessageId,
) -> Result<Vec<Message>, CoreError> {
    page_with_archive(&shell.app.core, account, &peer, Some(before)).await
}

/// Queues a message (see `Core::send_message`).
#[tauri::command]
pub async fn send_message(
    shell: Shared<'_>,
    account: AccountId,
    to: String,
    body: String,
) -> Result<Message, CoreError> {
    shell.app.core.send_message(account, &to, &body).await
}

/// Adds a contact and asks to see their presence (see `Core::add_contact`).
#[tauri::command]
pub async fn add_contact(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
    name: Option<String>,
    group: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .add_contact(account, &jid, name.as_deref(), group.as_deref())
        .await
}

/// Tells `peer` our chat state, e.g. typing (see `Core::send_chat_state`).
#[tauri::command]
pub async fn send_chat_state(
    shell: Shared<'_>,
    account: AccountId,
    peer: String,
    state: ChatState,
) -> Result<(), CoreError> {
    shell.app.core.send_chat_state(account, &peer, state).await
}

/// Renames a contact and sets its groups (see `Core::edit_contact`).
#[tauri::command]
pub async fn edit_contact(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
    name: Option<String>,
    groups: Vec<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .edit_contact(account, &jid, name.as_deref(), &groups)
        .await
}

/// Removes a contact (see `Core::remove_contact`).
#[tauri::command]
pub async fn remove_contact(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<(), CoreError> {
    shell.app.core.remove_contact(account, &jid).await
}

/// The blocked addresses, from the server (see `Core::blocked`).
#[tauri::command]
pub async fn blocked(shell: Shared<'_>, account: AccountId) -> Result<Vec<String>, CoreError> {
    shell.app.core.blocked(account).await
}

/// Blocks or unblocks `jid` (see `Core::block`).
#[tauri::command]
pub async fn block(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
    block: bool,
) -> Result<(), CoreError> {
    shell.app.core.block(account, &jid, block).await
}

/// Blocks `jid` and reports them as spam where the server takes reports
/// (see `Core::block_and_report`).
#[tauri::command]
pub async fn block_and_report(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<(), CoreError> {
    shell.app.core.block_and_report(account, &jid).await
}

/// Whether the account's server takes spam reports (see `Core::can_report`).
#[tauri::command]
pub fn can_report(shell: Shared<'_>, account: AccountId) -> bool {
    shell.app.core.can_report(account)
}

/// The account's message requests, newest first (see `Core::message_requests`).
#[tauri::command]
pub fn message_requests(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<Vec<charla_core::MessageRequest>, CoreError> {
    shell.app.core.message_requests(account)
}

/// Deletes the stored conversation with `peer` (see
/// `Core::delete_conversation`); its unread count and notification go too.
#[tauri::command]
pub fn delete_conversation(
    app: AppHandle,
    shell: Shared<'_>,
    account: AccountId,
    peer: String,
) -> Result<u32, CoreError> {
    let deleted = shell.app.core.delete_conversation(account, &peer)?;
    shell.show(&app, shell.app.forget_chat(ChatRef { account, peer }));
    Ok(deleted)
}

/// Answers a contact's request to see our presence (see
/// `Core::answer_subscription`).
#[tauri::command]
pub async fn answer_subscription(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
    accept: bool,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .answer_subscription(account, &jid, accept)
        .await
}

/// Sends a failed message again (see `Core::retry`).
#[tauri::command]
pub async fn retry_message(
    shell: Shared<'_>,
    account: AccountId,
    message: MessageId,
) -> Result<Message, CoreError> {
    shell.app.core.retry(account, message).await
}

/// The user has seen the conversation up to `message` (an incoming one):
/// tells the contact (XEP-0333), unless the user turned read markers off.
#[tauri::command]
pub async fn mark_displayed(
    shell: Shared<'_>,
    account: AccountId,
    peer: String,
    message: MessageId,
) -> Result<(), CoreError> {
    if !shell.app.settings().read_markers {
        return Ok(());
    }
    shell.app.core.mark_displayed(account, &peer, message).await
}

/// The chat the user is looking at (`None` when the window lost focus).
#[tauri::command]
pub fn focus_chat(shell: Shared<'_>, app: AppHandle, chat: Option<ChatRef>) {
    shell.show(&app, shell.app.focus(chat.clone()));
    // A room in view is read: our other devices are told (XEP-0490).
    if let Some(room) = chat.filter(|c| shell.app.is_room(c)) {
        let shell = Arc::clone(&shell);
        tauri::async_runtime::spawn(async move { shell.app.room_seen(&room).await });
    }
}

/// Opens an http, https or mailto link with the system's handler (`xmpp:`
/// links are opened in Charla: `parse_link`).
#[tauri::command]
pub fn open_link(app: AppHandle, url: String) -> Result<(), CoreError> {
    let url = crate::links::allowed(&url).ok_or_else(|| {
        CoreError::new(ErrorCode::InvalidInput, "this kind of link is not opened")
    })?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| CoreError::new(ErrorCode::InvalidInput, e.to_string()))
}

/// Parses an `xmpp:` link clicked in a message (RFC 5122, XEP-0147); the
/// window then opens the chat or the add-contact dialog.
#[tauri::command]
pub fn parse_link(url: String) -> Result<XmppLink, CoreError> {
    charla_core::uri::parse(&url)
}

/// The `xmpp:` link Charla was started or launched again with, if it has
/// not been taken yet (once, by the main window only); an error if the link
/// was malformed.
#[tauri::command]
pub fn take_link(shell: Shared<'_>, window: WebviewWindow) -> Result<Option<XmppLink>, CoreError> {
    if window.label() != "main" {
        return Ok(None);
    }
    shell.take_link().transpose()
}

/// Saves the settings (all but the kept accounts, see `login` and
/// `enable_account`).
#[tauri::command]
pub fn save_settings(shell: Shared<'_>, settings: Settings) -> Result<(), CoreError> {
    shell.app.save_settings(settings)
}

/// Opens a chat in a window of its own.
#[tauri::command]
pub fn pop_out_chat(shell: Shared<'_>, app: AppHandle, chat: ChatRef) -> Result<(), CoreError> {
    let label = format!("chat-{}", chat_label(&chat));
    if let Some(window) = tauri::Manager::get_webview_window(&app, &label) {
        let _ = window.set_focus();
        return Ok(());
    }
    shell
        .popped
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(label.clone(), chat.clone());
    let builder = WebviewWindowBuilder::new(&app, &label, WebviewUrl::App("index.html".into()))
        .title(format!("{} — Charla", chat.peer))
        .inner_size(480.0, 640.0);
    crate::navigation::guard(builder, &app)
        .build()
        .map_err(|e| CoreError::new(ErrorCode::InvalidInput, e.to_string()))?;
    Ok(())
}

/// A window label for a chat: labels allow only `[a-zA-Z0-9-/:_]`.
fn chat_label(chat: &ChatRef) -> String {
    let peer: String = chat
        .peer
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}-{peer}", chat.account.0)
}

/// Where and how to register `request.jid`: the sandbox's own server and CA
/// for its domain, otherwise the system's roots and DNS (or the manual
/// host and port).
fn registration_options(
    shell: &Shell,
    request: &RegisterRequest,
) -> Result<RegisterOptions, CoreError> {
    let (trust, server) = shell
        .app
        .route(&request.jid, request.host.as_deref(), request.port)?;
    Ok(RegisterOptions { server, trust })
}

/// The extra fields the server asks of a new account (XEP-0077), or why it
/// does not let one be created.
#[tauri::command]
pub async fn registration_form(
    shell: Shared<'_>,
    request: RegisterRequest,
) -> Result<RegistrationForm, CoreError> {
    let options = registration_options(&shell, &request)?;
    charla_core::register::registration_form(&request.jid, &options).await
}

/// Creates the account on its server (XEP-0077). The UI then logs in with
/// it through `login`.
#[tauri::command]
pub async fn register_account(
    shell: Shared<'_>,
    request: RegisterRequest,
) -> Result<(), CoreError> {
    let options = registration_options(&shell, &request)?;
    charla_core::register::register(&request.jid, &request.password, &request.fields, &options)
        .await
}

/// Changes the account's password on the server (see
/// `Core::change_password`).
#[tauri::command]
pub async fn change_password(
    shell: Shared<'_>,
    account: AccountId,
    password: String,
) -> Result<(), CoreError> {
    shell.app.change_password(account, &password).await
}

/// Deletes the account on its server after the user confirmed it (see
/// `App::delete_account`); it is then signed out and no longer
/// remembered. Its local history stays until `remove_account`.
#[tauri::command]
pub async fn delete_account(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<Vec<AccountSettings>, CoreError> {
    shell.app.delete_account(account).await?;
    shell.app.kept()
}

/// Removes the account `jid` from Charla, signed in or not, keeping its
/// history readable offline or deleting it (see `App::remove_account`);
/// the server is not told.
#[tauri::command]
pub async fn remove_account(
    shell: Shared<'_>,
    jid: String,
    keep_history: bool,
) -> Result<Vec<AccountSettings>, CoreError> {
    shell.app.remove_account(&jid, keep_history).await?;
    shell.app.kept()
}

/// The recorded avatar hash of each contact (and of the account), by JID.
#[tauri::command]
pub fn avatars(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<std::collections::HashMap<String, String>, CoreError> {
    shell.app.core.avatars(account)
}

/// The cached avatar `hash` as a `data:` URL (small images only, see
/// ARCHITECTURE.md), or `None` if it is not cached.
#[tauri::command]
pub fn avatar_image(shell: Shared<'_>, hash: String) -> Option<String> {
    use base64::Engine;
    let (kind, data) = shell.app.core.avatar_image(&hash)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    Some(format!("data:{kind};base64,{encoded}"))
}

/// Sets our avatar from an image file's bytes (base64; `None` removes it).
/// Returns the new hash.
#[tauri::command]
pub async fn set_avatar(
    shell: Shared<'_>,
    account: AccountId,
    image: Option<String>,
) -> Result<Option<String>, CoreError> {
    use base64::Engine;
    let image = image
        .map(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| CoreError::new(ErrorCode::InvalidInput, "the image is not base64"))
        })
        .transpose()?;
    shell.app.core.set_avatar_image(account, image).await
}

/// `jid`'s profile (vCard4, else vcard-temp); our own for our own JID.
#[tauri::command]
pub async fn profile(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<Profile, CoreError> {
    shell.app.core.profile(account, &jid).await
}

/// Sets our full name and nickname.
#[tauri::command]
pub async fn set_profile(
    shell: Shared<'_>,
    account: AccountId,
    full_name: Option<String>,
    nickname: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .set_profile(account, full_name.as_deref(), nickname.as_deref())
        .await
}
