//! The group-chat commands (see `commands`).

use charla_app::{RoomEntry, RoomNotify, RoomNotifySetting};
use charla_core::{
    AccountId, Affiliated, Affiliation, CoreError, PublicRoom, Role, RoomInfo, RoomMessage,
    RoomMessageId, RoomPreset, RoomSettings,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, WebviewWindow};

use super::Shared;
use crate::types::{ChatRef, RoomUpdate};

/// How many room lines a page holds.
const ROOM_PAGE: u32 = 50;

/// Joins a group chat (see `App::join_room`).
#[tauri::command]
pub async fn join_room(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    nick: String,
    password: Option<String>,
) -> Result<(), CoreError> {
    let password = password.filter(|p| !p.is_empty());
    shell
        .app
        .join_room(account, &room, &nick, password.as_deref())
        .await
}

/// Creates a group chat as `preset` says and joins it (see
/// `App::create_room`).
#[tauri::command]
pub async fn create_room(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    nick: String,
    preset: RoomPreset,
) -> Result<RoomNotify, CoreError> {
    shell.app.create_room(account, &room, &nick, preset).await
}

/// Invites `jid` to a group chat, through the room (see `Core::invite`).
#[tauri::command]
pub async fn invite_to_room(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    jid: String,
    reason: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .invite(account, &room, &jid, reason.as_deref())
        .await
}

/// Sends a private message to an occupant (see `Core::send_room_private`).
#[tauri::command]
pub async fn send_room_private(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    nick: String,
    body: String,
) -> Result<RoomMessage, CoreError> {
    shell
        .app
        .core
        .send_room_private(account, &room, &nick, &body)
        .await
}

/// The group chat services of the account's server (see `Core::room_services`).
#[tauri::command]
pub async fn room_services(
    shell: Shared<'_>,
    account: AccountId,
) -> Result<Vec<String>, CoreError> {
    shell.app.core.room_services(account).await
}

/// The public rooms a service lists (see `Core::public_rooms`).
#[tauri::command]
pub async fn public_rooms(
    shell: Shared<'_>,
    account: AccountId,
    service: String,
) -> Result<Vec<PublicRoom>, CoreError> {
    shell.app.core.public_rooms(account, &service).await
}

/// What a room says of itself (see `Core::room_info`).
#[tauri::command]
pub async fn room_info(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
) -> Result<RoomInfo, CoreError> {
    shell.app.core.room_info(account, &room).await
}

/// Sets a room's subject (see `Core::set_room_subject`).
#[tauri::command]
pub async fn set_room_subject(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    subject: String,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .set_room_subject(account, &room, &subject)
        .await
}

/// Gives an occupant a role (see `Core::set_occupant_role`).
#[tauri::command]
pub async fn set_occupant_role(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    nick: String,
    role: Role,
    reason: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .set_occupant_role(account, &room, &nick, role, reason.as_deref())
        .await
}

/// Gives someone an affiliation with a room (see `Core::set_affiliation`).
#[tauri::command]
pub async fn set_affiliation(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    jid: String,
    affiliation: Affiliation,
    reason: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .set_affiliation(account, &room, &jid, affiliation, reason.as_deref())
        .await
}

/// A room's affiliation list (see `Core::affiliations`).
#[tauri::command]
pub async fn affiliations(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    affiliation: Affiliation,
) -> Result<Vec<Affiliated>, CoreError> {
    shell
        .app
        .core
        .affiliations(account, &room, affiliation)
        .await
}

/// A room's settings (see `Core::room_settings`).
#[tauri::command]
pub async fn room_settings(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
) -> Result<RoomSettings, CoreError> {
    shell.app.core.room_settings(account, &room).await
}

/// Changes a room's settings (see `Core::set_room_settings`).
#[tauri::command]
pub async fn set_room_settings(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    settings: RoomSettings,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .set_room_settings(account, &room, &settings)
        .await
}

/// Leaves a group chat, forgetting it or not (see `App::leave_room`).
#[tauri::command]
pub async fn leave_room(
    shell: Shared<'_>,
    app: AppHandle,
    account: AccountId,
    room: String,
    forget: bool,
) -> Result<(), CoreError> {
    let said = shell.app.leave_room(account, &room, forget).await?;
    shell.show(&app, said);
    Ok(())
}

/// The account's group chats (see `App::rooms`).
#[tauri::command]
pub fn rooms(shell: Shared<'_>, account: AccountId) -> Result<Vec<RoomEntry>, CoreError> {
    shell.app.rooms(account)
}

/// Opens a room view: its newest lines, and later changes through
/// `updates` until `close_room`.
#[tauri::command]
pub fn open_room(
    shell: Shared<'_>,
    window: WebviewWindow,
    account: AccountId,
    room: String,
    updates: Channel<RoomUpdate>,
) -> Result<Vec<RoomMessage>, CoreError> {
    let room = charla_core::parse_bare_jid(&room)?.to_string();
    // Subscribe first, then read: a line stored in between arrives twice
    // (the view upserts by id) rather than not at all.
    shell.open_room_view(
        ChatRef {
            account,
            peer: room.clone(),
        },
        window.label().to_owned(),
        updates,
    );
    shell.app.core.room_history(account, &room, None, ROOM_PAGE)
}

/// Closes a room view.
#[tauri::command]
pub fn close_room(shell: Shared<'_>, window: WebviewWindow, account: AccountId, room: String) {
    shell.close_room_view(
        &ChatRef {
            account,
            peer: room,
        },
        window.label(),
    );
}

/// The room's page of lines before `before`.
#[tauri::command]
pub fn load_older_lines(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    before: RoomMessageId,
) -> Result<Vec<RoomMessage>, CoreError> {
    shell
        .app
        .core
        .room_history(account, &room, Some(before), ROOM_PAGE)
}

/// Says something in a group chat (see `Core::send_room_message`).
#[tauri::command]
pub async fn send_room_message(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    body: String,
) -> Result<RoomMessage, CoreError> {
    shell
        .app
        .core
        .send_room_message(account, &room, &body)
        .await
}

/// Sets which lines of a group chat are notified (see `App::set_room_notify`).
#[tauri::command]
pub fn set_room_notify(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    notify: RoomNotify,
) -> Result<Vec<RoomNotifySetting>, CoreError> {
    shell.app.set_room_notify(account, &room, notify)
}
