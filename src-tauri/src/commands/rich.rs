//! The rich-message commands (see `commands`): replies, edits, deletions,
//! reactions, earlier versions and drafts.

use charla_core::{
    AccountId, CoreError, Draft, Message, MessageId, MessageRef, RoomMessage, RoomMessageId,
};

use super::Shared;

/// Sends a reply to a message of the same chat (see `Core::send_reply`).
#[tauri::command]
pub async fn send_reply(
    shell: Shared<'_>,
    account: AccountId,
    to: String,
    body: String,
    reply_to: MessageId,
) -> Result<Message, CoreError> {
    shell
        .app
        .core
        .send_reply(account, &to, &body, reply_to)
        .await
}

/// Says a reply to a line of the same room (see `Core::send_room_reply`).
#[tauri::command]
pub async fn send_room_reply(
    shell: Shared<'_>,
    account: AccountId,
    room: String,
    body: String,
    reply_to: RoomMessageId,
) -> Result<RoomMessage, CoreError> {
    shell
        .app
        .core
        .send_room_reply(account, &room, &body, reply_to)
        .await
}

/// Edits one of our messages (see `Core::edit_message`).
#[tauri::command]
pub async fn edit_message(
    shell: Shared<'_>,
    account: AccountId,
    target: MessageRef,
    body: String,
) -> Result<(), CoreError> {
    shell.app.core.edit_message(account, target, &body).await
}

/// Deletes one of our messages for everyone (see `Core::retract_message`).
#[tauri::command]
pub async fn retract_message(
    shell: Shared<'_>,
    account: AccountId,
    target: MessageRef,
) -> Result<(), CoreError> {
    shell.app.core.retract_message(account, target).await
}

/// Deletes a message here only (see `Core::hide_message`).
#[tauri::command]
pub async fn hide_message(
    shell: Shared<'_>,
    account: AccountId,
    target: MessageRef,
) -> Result<(), CoreError> {
    shell.app.core.hide_message(account, target).await
}

/// Sets our reactions to a message (see `Core::react`).
#[tauri::command]
pub async fn react(
    shell: Shared<'_>,
    account: AccountId,
    target: MessageRef,
    emoji: Vec<String>,
) -> Result<(), CoreError> {
    shell.app.core.react(account, target, emoji).await
}

/// Deletes another occupant's line as a moderator (see `Core::moderate_line`).
#[tauri::command]
pub async fn moderate_line(
    shell: Shared<'_>,
    account: AccountId,
    line: RoomMessageId,
    reason: Option<String>,
) -> Result<(), CoreError> {
    shell
        .app
        .core
        .moderate_line(account, line, reason.as_deref())
        .await
}

/// The earlier texts of an edited message (see `Core::message_versions`).
#[tauri::command]
pub fn message_versions(
    shell: Shared<'_>,
    account: AccountId,
    target: MessageRef,
) -> Result<Vec<String>, CoreError> {
    shell.app.core.message_versions(account, target)
}

/// Keeps a chat's unsent text (see `Core::set_draft`).
#[tauri::command]
pub fn set_draft(
    shell: Shared<'_>,
    account: AccountId,
    chat: String,
    body: String,
) -> Result<(), CoreError> {
    shell.app.core.set_draft(account, &chat, &body)
}

/// Every kept draft (see `Core::drafts`).
#[tauri::command]
pub fn drafts(shell: Shared<'_>) -> Result<Vec<Draft>, CoreError> {
    shell.app.core.drafts()
}
