//! The commands the UI may call. Each one is thin: it checks its input and
//! calls the core; errors reach the UI as `{code, message}`.

use std::sync::Arc;
use std::time::Duration;

use charla_core::{
    AccountId, ChatState, ConnectOptions, Core, CoreError, ErrorCode, Event, Keepalive, Message,
    MessageId, Profile, RegisterOptions, RegistrationForm, RosterEntry, ServerAddress, Show,
    TlsTrust, XmppLink,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, State, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use tauri_plugin_opener::OpenerExt;

use crate::shell::Shell;
use crate::types::{
    AccountSettings, AppInfo, ChatRef, ChatUpdate, LoginFailure, LoginRequest, PresenceEntry,
    RegisterRequest, Resume, Settings, SignedIn,
};

/// How many messages a chat view loads at a time.
const PAGE: u32 = 50;

type Shared<'a> = State<'a, Arc<Shell>>;

/// What the UI needs at start.
#[tauri::command]
pub fn app_info(shell: Shared<'_>, window: WebviewWindow) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sandbox: shell
            .sandbox
            .as_ref()
            .map(|s| s.info(shell.profile.as_deref())),
        settings: shell.settings.lock().map(|s| s.clone()).unwrap_or_default(),
        popped_out: shell
            .popped
            .lock()
            .ok()
            .and_then(|p| p.get(window.label()).cloned()),
        devtools: cfg!(debug_assertions),
    }
}

/// Adds the account and connects; resolves once online. With
/// `remember_password` the password then goes to the OS keyring (a keyring
/// failure is reported as an error event: the login itself succeeded);
/// without it, any remembered password of this account is forgotten.
#[tauri::command]
pub async fn login(
    shell: Shared<'_>,
    app: AppHandle,
    request: LoginRequest,
) -> Result<AccountId, CoreError> {
    let jid = charla_core::parse_bare_jid(&request.jid)?.to_string();
    let account = connect(
        &shell,
        &jid,
        request.host.clone(),
        request.port,
        request.password.clone(),
    )
    .await?;
    let credentials = shell.credentials.clone();
    let keep = request.remember_password.unwrap_or(false);
    let (who, password) = (jid.clone(), request.password);
    let kept = keyring(move || {
        if keep {
            credentials.store(&who, &password)
        } else {
            credentials.forget(&who)
        }
    })
    .await;
    if let (true, Err(error)) = (keep, kept) {
        shell.dispatch(
            &app,
            Event::Error {
                account: Some(account),
                error,
            },
        );
    }
    let settings = {
        let mut settings = shell.settings.lock().map_err(|_| poisoned())?;
        if request.remember || keep {
            match settings.account_mut(&jid) {
                Some(kept) => {
                    kept.host = request.host.clone();
                    kept.port = request.port;
                    kept.enabled = true;
                }
                None => settings.accounts.push(AccountSettings::new(
                    jid.clone(),
                    request.host.clone(),
                    request.port,
                )),
            }
        } else {
            settings.accounts.retain(|a| a.jid != jid);
        }
        settings.clone()
    };
    save(&shell, &settings)?;
    Ok(account)
}

/// Adds the account and connects it with `password`, through the sandbox
/// server or a manual address if one applies.
async fn connect(
    shell: &Shell,
    jid: &str,
    host: Option<String>,
    port: Option<u16>,
    password: String,
) -> Result<AccountId, CoreError> {
    let account = shell.core.add_account(jid)?;
    let (trust, server) = reach(shell, jid, host.as_deref(), port)?;
    shell
        .core
        .connect(
            account,
            ConnectOptions {
                password,
                server,
                trust,
                show: Show::Available,
                status: None,
                keepalive: Keepalive::default(),
            },
        )
        .await?;
    if let Ok(mut own) = shell.own_show.lock() {
        own.insert(account, Show::Available);
    }
    Ok(account)
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
    let started = shell.resuming.lock().map_err(|_| poisoned())?.take();
    match started {
        Some(task) => task.await.map_err(|e| {
            CoreError::new(ErrorCode::NotConnected, format!("the login failed: {e}"))
        })?,
        None => resume(Arc::clone(&shell)).await,
    }
}

/// Logs every enabled account in with its remembered password, all at once
/// (what [`resume_login`] answers).
pub async fn resume(shell: Arc<Shell>) -> Result<Resume, CoreError> {
    let enabled: Vec<AccountSettings> = shell
        .settings
        .lock()
        .map_err(|_| poisoned())?
        .accounts
        .iter()
        .filter(|a| a.enabled)
        .cloned()
        .collect();
    let credentials = shell.credentials.clone();
    let jids: Vec<String> = enabled.iter().map(|a| a.jid.clone()).collect();
    let stored = keyring(move || {
        if jids.is_empty() {
            // Nothing to look up: only ask whether the keyring answers.
            return credentials
                .probe("probe@charla.invalid")
                .map(|()| Vec::new());
        }
        jids.iter().map(|jid| credentials.password(jid)).collect()
    })
    .await;
    let passwords = match stored {
        Ok(passwords) => passwords,
        Err(keyring) => {
            return Ok(Resume {
                online: Vec::new(),
                failed: Vec::new(),
                keyring: Some(keyring),
            })
        }
    };
    let mut logins = tokio::task::JoinSet::new();
    for (login, password) in enabled.into_iter().zip(passwords) {
        let Some(password) = password else { continue };
        let shell = Arc::clone(&shell);
        logins.spawn(async move {
            let result = connect(&shell, &login.jid, login.host, login.port, password).await;
            (login.jid, result)
        });
    }
    let mut resume = Resume {
        online: Vec::new(),
        failed: Vec::new(),
        keyring: None,
    };
    while let Some(joined) = logins.join_next().await {
        let Ok((jid, result)) = joined else { continue };
        match result {
            Ok(account) => resume.online.push(SignedIn { account, jid }),
            Err(error) => {
                if error.code == ErrorCode::AuthFailed {
                    let credentials = shell.credentials.clone();
                    let jid = jid.clone();
                    let _ = keyring(move || credentials.forget(&jid)).await;
                }
                resume.failed.push(LoginFailure { jid, error });
            }
        }
    }
    // The order the accounts were added in, whichever connected first.
    let order = |jid: &str| {
        shell
            .settings
            .lock()
            .map(|s| s.accounts.iter().position(|a| a.jid == jid))
            .ok()
            .flatten()
    };
    resume.online.sort_by_key(|s| order(&s.jid));
    resume.failed.sort_by_key(|f| order(&f.jid));
    Ok(resume)
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
) -> Result<Option<AccountId>, CoreError> {
    let jid = charla_core::parse_bare_jid(&jid)?.to_string();
    let (kept, settings) = {
        let mut settings = shell.settings.lock().map_err(|_| poisoned())?;
        let kept = kept_account(&mut settings, &jid)?;
        kept.enabled = enabled;
        let kept = kept.clone();
        (kept, settings.clone())
    };
    save(&shell, &settings)?;
    if !enabled {
        let account = shell.core.add_account(&jid)?;
        shell.core.disconnect(account).await;
        return Ok(None);
    }
    let credentials = shell.credentials.clone();
    let who = jid.clone();
    let Some(password) = keyring(move || credentials.password(&who)).await? else {
        return Err(CoreError::new(
            ErrorCode::PasswordNeeded,
            format!("no password is remembered for {jid}"),
        ));
    };
    connect(&shell, &jid, kept.host, kept.port, password)
        .await
        .map(Some)
}

/// The kept account `jid`, or `UnknownAccount`.
fn kept_account<'a>(
    settings: &'a mut Settings,
    jid: &str,
) -> Result<&'a mut AccountSettings, CoreError> {
    settings.account_mut(jid).ok_or_else(|| {
        CoreError::new(
            ErrorCode::UnknownAccount,
            format!("{jid} is not one of Charla's accounts"),
        )
    })
}

/// Sets the color an account is shown with (`#rrggbb`), or back to its
/// default (`None`).
#[tauri::command]
pub fn set_account_color(
    shell: Shared<'_>,
    jid: String,
    color: Option<String>,
) -> Result<(), CoreError> {
    if let Some(color) = &color {
        if !crate::types::is_color(color) {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                format!("{color:?} is not a #rrggbb color"),
            ));
        }
    }
    let settings = {
        let mut settings = shell.settings.lock().map_err(|_| poisoned())?;
        kept_account(&mut settings, &jid)?.color = color;
        settings.clone()
    };
    save(&shell, &settings)
}

/// How long a keyring call may take (the keyring may show an unlock prompt).
const KEYRING_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a (blocking, D-Bus) keyring call on a blocking thread; a keyring
/// that does not answer counts as unavailable.
async fn keyring<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    match tokio::time::timeout(KEYRING_TIMEOUT, tauri::async_runtime::spawn_blocking(call)).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(CoreError::new(ErrorCode::KeyringUnavailable, e.to_string())),
        Err(_) => Err(CoreError::new(
            ErrorCode::KeyringUnavailable,
            format!("the keyring did not answer within {KEYRING_TIMEOUT:?}"),
        )),
    }
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
    let account = shell.core.add_account(&jid)?;
    shell.core.pin_certificate(account, &fingerprint)
}

fn poisoned() -> CoreError {
    CoreError::new(ErrorCode::Store, "the settings lock is poisoned")
}

fn save(shell: &Shell, settings: &Settings) -> Result<(), CoreError> {
    shell.settings_file.save(settings).map_err(|e| {
        let code = if e.raw_os_error() == Some(28) {
            ErrorCode::DiskFull
        } else {
            ErrorCode::Store
        };
        CoreError::new(code, format!("cannot save the settings: {e}"))
    })
}

/// While the account waits to reconnect, tries at once.
#[tauri::command]
pub async fn reconnect_now(shell: Shared<'_>, account: AccountId) -> Result<(), CoreError> {
    shell.core.reconnect_now(account).await;
    Ok(())
}

/// Goes offline and forgets the account's remembered password, so that the
/// next start asks for it.
#[tauri::command]
pub async fn logout(shell: Shared<'_>, account: AccountId) -> Result<(), CoreError> {
    shell.core.disconnect(account).await;
    let jid = shell.core.account_jid(account)?.to_string();
    let credentials = shell.credentials.clone();
    // Without a keyring there is nothing to forget.
    let _ = keyring(move || credentials.forget(&jid)).await;
    Ok(())
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
    let status = status.filter(|s| !s.trim().is_empty());
    shell
        .core
        .set_presence(account, show, status.clone())
        .await?;
    if let Ok(mut own) = shell.own_show.lock() {
        own.insert(account, show);
    }
    crate::tray::show_status(&app, show);
    let settings = {
        let mut settings = shell.settings.lock().map_err(|_| poisoned())?;
        if let Some(status) = &status {
            settings.remember_status(status);
        }
        settings.clone()
    };
    if status.is_some() {
        save(&shell, &settings)?;
    }
    Ok(settings.recent_statuses)
}

/// How many seconds ago a contact was last online (XEP-0012), if their
/// server tells.
#[tauri::command]
pub async fn last_activity(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<Option<u64>, CoreError> {
    shell.core.last_activity(account, &jid).await
}

/// The cached roster.
#[tauri::command]
pub fn contacts(shell: Shared<'_>, account: AccountId) -> Result<Vec<RosterEntry>, CoreError> {
    shell.core.contacts(account)
}

/// The presence of every online contact of an account (for a window that
/// opens after the presence events went by).
#[tauri::command]
pub fn presences(shell: Shared<'_>, account: AccountId) -> Vec<PresenceEntry> {
    let all = shell.presences.lock().unwrap_or_else(|e| e.into_inner());
    let mut entries: Vec<PresenceEntry> = all
        .get(&account)
        .map(|known| {
            known
                .iter()
                .map(|(jid, presence)| PresenceEntry {
                    jid: jid.clone(),
                    presence: presence.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by(|a, b| a.jid.cmp(&b.jid));
    entries
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
    page_with_archive(&shell.core, account, &peer, None).await
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
    page_with_archive(&shell.core, account, &peer, Some(before)).await
}

/// A page of stored history before `before` (or the newest); when the
/// store runs out, older history is fetched from the server's archive
/// first (XEP-0313), as long as the account is online. Offline, or if the
/// archive fails, the stored part is the answer.
async fn page_with_archive(
    core: &Core,
    account: AccountId,
    peer: &str,
    before: Option<MessageId>,
) -> Result<Vec<Message>, CoreError> {
    let mut page = core.history(account, peer, before, PAGE)?;
    // A fetch can bring only rows we already have; try a few pages.
    for _ in 0..3 {
        if page.len() >= PAGE as usize {
            break;
        }
        match core.fetch_older(account, peer).await {
            Ok(fetched) => {
                page = core.history(account, peer, before, PAGE)?;
                if fetched.complete {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Ok(page)
}

/// Queues a message (see `Core::send_message`).
#[tauri::command]
pub async fn send_message(
    shell: Shared<'_>,
    account: AccountId,
    to: String,
    body: String,
) -> Result<Message, CoreError> {
    shell.core.send_message(account, &to, &body).await
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
        .core
        .add_contact(account, &jid, name.as_deref(), group.as_deref())
        .await
}

/// Tells `peer` our chat state, e.g. typing (see `Core::send_chat_state`).
#[tauri::command]
pub async fn chat_state(
    shell: Shared<'_>,
    account: AccountId,
    peer: String,
    state: ChatState,
) -> Result<(), CoreError> {
    shell.core.send_chat_state(account, &peer, state).await
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
    shell.core.remove_contact(account, &jid).await
}

/// The blocked addresses, from the server (see `Core::blocked`).
#[tauri::command]
pub async fn blocked(shell: Shared<'_>, account: AccountId) -> Result<Vec<String>, CoreError> {
    shell.core.blocked(account).await
}

/// Blocks or unblocks `jid` (see `Core::block`).
#[tauri::command]
pub async fn block(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
    block: bool,
) -> Result<(), CoreError> {
    shell.core.block(account, &jid, block).await
}

/// Blocks `jid` and reports them as spam where the server takes reports
/// (see `Core::block_and_report`).
#[tauri::command]
pub async fn block_and_report(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<(), CoreError> {
    shell.core.block_and_report(account, &jid).await
}

/// Whether the account's server takes spam reports (see `Core::can_report`).
#[tauri::command]
pub fn can_report(shell: Shared<'_>, account: AccountId) -> bool {
    shell.core.can_report(account)
}

/// The account's message requests, newest first (see `Core::message_requests`).
#[tauri::command]
pub fn message_requests(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<Vec<charla_core::MessageRequest>, CoreError> {
    shell.core.message_requests(account)
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
    let deleted = shell.core.delete_conversation(account, &peer)?;
    shell.forget_chat(&app, ChatRef { account, peer });
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
    shell.core.answer_subscription(account, &jid, accept).await
}

/// Sends a failed message again (see `Core::retry`).
#[tauri::command]
pub async fn retry_message(
    shell: Shared<'_>,
    account: AccountId,
    message: MessageId,
) -> Result<Message, CoreError> {
    shell.core.retry(account, message).await
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
    let enabled = shell
        .settings
        .lock()
        .map(|s| s.read_markers)
        .unwrap_or(false);
    if !enabled {
        return Ok(());
    }
    shell.core.mark_displayed(account, &peer, message).await
}

/// The chat the user is looking at (`None` when the window lost focus).
#[tauri::command]
pub fn focus_chat(shell: Shared<'_>, app: AppHandle, chat: Option<ChatRef>) {
    shell.focus(&app, chat);
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
pub fn save_settings(shell: Shared<'_>, mut settings: Settings) -> Result<(), CoreError> {
    let mut current = shell.settings.lock().map_err(|_| poisoned())?;
    // The kept accounts change through the account commands only, so a
    // window with an older copy cannot bring back a removed account.
    settings.accounts = current.accounts.clone();
    save(&shell, &settings)?;
    *current = settings;
    Ok(())
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
        .map_err(|_| poisoned())?
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
    let (trust, server) = reach(shell, &request.jid, request.host.as_deref(), request.port)?;
    Ok(RegisterOptions { server, trust })
}

/// How to reach the server of `jid` and which certificates to trust: the
/// sandbox's CA (and address, unless a manual one is given) for its domain,
/// otherwise the system's roots and DNS or the manual host and port (a blank
/// host is the JID's domain; port 5223 is direct TLS).
fn reach(
    shell: &Shell,
    jid: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Result<(TlsTrust, Option<ServerAddress>), CoreError> {
    let jid = charla_core::parse_bare_jid(jid)?;
    let manual = match (host, port) {
        (None, None) => None,
        (host, port) => Some(ServerAddress {
            host: host
                .filter(|h| !h.trim().is_empty())
                .map_or_else(|| jid.domain().to_string(), str::to_owned),
            port: port.unwrap_or(5222),
            direct_tls: port == Some(5223),
        }),
    };
    Ok(
        match shell.sandbox.as_ref().and_then(|s| s.for_jid(jid.as_str())) {
            Some((trust, address)) => (trust, Some(manual.unwrap_or(address))),
            None => (TlsTrust::system()?, manual),
        },
    )
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
    shell.core.change_password(account, &password).await?;
    // The server took it: a remembered password is replaced by the new one
    // (one that was not remembered stays so).
    let jid = shell.core.account_jid(account)?.to_string();
    let credentials = shell.credentials.clone();
    keyring(move || match credentials.password(&jid)? {
        Some(_) => credentials.store(&jid, &password),
        None => Ok(()),
    })
    .await
    .or_else(|e| match e.code {
        // Nothing was remembered where there is no keyring.
        ErrorCode::KeyringUnavailable => Ok(()),
        _ => Err(e),
    })
}

/// Deletes the account's password from the OS keyring, if one is there.
async fn forget_password(shell: &Shell, jid: Option<String>) {
    if let Some(jid) = jid {
        let credentials = shell.credentials.clone();
        // Without a keyring there is nothing to forget.
        let _ = keyring(move || credentials.forget(&jid)).await;
    }
}

/// Deletes the account on its server after the user confirmed it (see
/// `Core::delete_account_on_server`); it is then signed out and no longer
/// remembered. Its local history stays until `remove_account`.
#[tauri::command]
pub async fn delete_account(shell: Shared<'_>, account: AccountId) -> Result<(), CoreError> {
    let jid = shell.core.account_address(account).ok();
    shell.core.delete_account_on_server(account).await?;
    forget_password(&shell, jid).await;
    forget_login(&shell, account)
}

/// Removes the account `jid` from Charla, signed in or not, keeping its
/// history readable offline or deleting it (see `Core::remove_account`);
/// the server is not told.
#[tauri::command]
pub async fn remove_account(
    shell: Shared<'_>,
    jid: String,
    keep_history: bool,
) -> Result<(), CoreError> {
    let jid = charla_core::parse_bare_jid(&jid)?.to_string();
    // Its row (it exists for every account Charla has used).
    let account = shell.core.add_account(&jid)?;
    shell.core.remove_account(account, keep_history).await?;
    forget_password(&shell, Some(jid.clone())).await;
    forget_jid(&shell, account, Some(&jid))
}

/// Forgets the remembered login of an account that is gone.
fn forget_login(shell: &Shell, account: AccountId) -> Result<(), CoreError> {
    let jid = shell.core.account_address(account).ok();
    forget_jid(shell, account, jid.as_deref())
}

fn forget_jid(shell: &Shell, account: AccountId, jid: Option<&str>) -> Result<(), CoreError> {
    if let Ok(mut own) = shell.own_show.lock() {
        own.remove(&account);
    }
    let settings = {
        let mut settings = shell.settings.lock().map_err(|_| poisoned())?;
        let Some(jid) = jid else { return Ok(()) };
        let before = settings.accounts.len();
        settings.accounts.retain(|a| a.jid != jid);
        if settings.accounts.len() == before {
            return Ok(());
        }
        settings.clone()
    };
    save(shell, &settings)
}

/// The recorded avatar hash of each contact (and of the account), by JID.
#[tauri::command]
pub fn avatars(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<std::collections::HashMap<String, String>, CoreError> {
    shell.core.avatars(account)
}

/// The cached avatar `hash` as a `data:` URL (small images only, see
/// ARCHITECTURE.md), or `None` if it is not cached.
#[tauri::command]
pub fn avatar_image(shell: Shared<'_>, hash: String) -> Option<String> {
    use base64::Engine;
    let (kind, data) = shell.core.avatar_image(&hash)?;
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
    shell.core.set_avatar_image(account, image).await
}

/// `jid`'s profile (vCard4, else vcard-temp); our own for our own JID.
#[tauri::command]
pub async fn profile(
    shell: Shared<'_>,
    account: AccountId,
    jid: String,
) -> Result<Profile, CoreError> {
    shell.core.profile(account, &jid).await
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
        .core
        .set_profile(account, full_name.as_deref(), nickname.as_deref())
        .await
}
