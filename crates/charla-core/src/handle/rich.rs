//! The core handle's rich messages: replies (XEP-0461), corrections
//! (XEP-0308), retractions (XEP-0424), reactions (XEP-0444), "delete for
//! me" and drafts. Each act is stored first (as its own row, `pending`
//! until the server has it), announced as the message it changes, and
//! sent through the outbox.

use charla_store::{ActionChat, ActionKind, Draft, NewAction, ReplyRef};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::*;

/// A message in a chat or a line in a room, as the UI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
#[ts(export)]
pub enum MessageRef {
    /// A one-to-one chat's message.
    Chat(MessageId),
    /// A room's line.
    Room(RoomMessageId),
}

/// What an act names: its chat, its target's id, and whether the target
/// is ours and still there.
struct Target {
    chat: ActionChat,
    key: String,
    ours: bool,
    retracted: bool,
}

impl Core {
    /// Queues a reply (XEP-0461) to message `reply_to` of the same chat:
    /// sent like [`Core::send_message`], with a quote of the message as
    /// the fallback for clients without replies.
    pub async fn send_reply(
        &self,
        account: AccountId,
        to: &str,
        body: &str,
        reply_to: MessageId,
    ) -> Result<Message, CoreError> {
        let peer = parse_bare_jid(to)?;
        let target = self
            .store(|s| s.message(reply_to))?
            .filter(|m| m.account_id == account && m.peer == peer.as_str())
            .ok_or_else(|| not_here("the message answered is not in this chat"))?;
        let key = self
            .store(|s| s.message_key(target.id))?
            .ok_or_else(|| not_here("the message answered has no id to name it by"))?;
        let author = match target.direction {
            Direction::In => target.sender.clone(),
            Direction::Out => self.account_jid(account)?.to_string(),
        };
        let reply = ReplyRef {
            id: key,
            to: Some(author),
        };
        self.queue_message(account, &peer, body, Some(&reply)).await
    }

    /// Queues a reply to line `reply_to` of the same room.
    pub async fn send_room_reply(
        &self,
        account: AccountId,
        room: &str,
        body: &str,
        reply_to: RoomMessageId,
    ) -> Result<RoomMessage, CoreError> {
        let jid = parse_bare_jid(room)?;
        let target = self
            .store(|s| s.room_message(reply_to))?
            .filter(|m| m.account_id == account && m.room == jid.as_str())
            .ok_or_else(|| not_here("the line answered is not in this room"))?;
        let key = self
            .store(|s| s.room_line_key(target.id))?
            .ok_or_else(|| not_here("the line answered has no id to name it by"))?;
        let reply = ReplyRef {
            id: key,
            to: Some(format!("{jid}/{}", target.nick)),
        };
        self.say_in_room_replying(account, room, body, None, Some(&reply))
            .await
    }

    /// Replaces the text of our message `target` (XEP-0308): the message
    /// shows `body`, marked edited, at once; the earlier texts are kept.
    pub async fn edit_message(
        &self,
        account: AccountId,
        target: MessageRef,
        body: &str,
    ) -> Result<(), CoreError> {
        chat::check_body(body)?;
        let t = self.target(account, target)?;
        if !t.ours || t.retracted {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "only your own messages can be edited",
            ));
        }
        self.act(
            account,
            target,
            t,
            ActionKind::Correct,
            Some(body.to_owned()),
        )
        .await
    }

    /// Deletes our message `target` for everyone (XEP-0424): it shows as
    /// deleted here at once, and on every client that knows retractions.
    pub async fn retract_message(
        &self,
        account: AccountId,
        target: MessageRef,
    ) -> Result<(), CoreError> {
        let t = self.target(account, target)?;
        if !t.ours {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "only your own messages can be deleted for everyone",
            ));
        }
        self.act(account, target, t, ActionKind::Retract, None)
            .await
    }

    /// Sets our reactions to `target` to `emoji` (XEP-0444), replacing our
    /// earlier ones (none: take them back). Only emoji are taken.
    pub async fn react(
        &self,
        account: AccountId,
        target: MessageRef,
        emoji: Vec<String>,
    ) -> Result<(), CoreError> {
        let mut set: Vec<String> = Vec::new();
        for e in emoji {
            if !crate::reactions::is_emoji(&e) {
                return Err(CoreError::new(
                    ErrorCode::InvalidInput,
                    "a reaction is one emoji",
                ));
            }
            if !set.contains(&e) {
                set.push(e);
            }
        }
        if set.len() > crate::reactions::MAX_PER_SENDER {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "too many reactions",
            ));
        }
        let t = self.target(account, target)?;
        if t.retracted {
            return Err(not_here("the message was deleted"));
        }
        self.act(account, target, t, ActionKind::React, Some(set.join("\n")))
            .await
    }

    /// Deletes `target` here only ("delete for me"): nothing is sent.
    pub async fn hide_message(
        &self,
        account: AccountId,
        target: MessageRef,
    ) -> Result<(), CoreError> {
        let t = self.target(account, target)?;
        self.act(account, target, t, ActionKind::Hide, None).await
    }

    /// Deletes another occupant's line for everyone, as a moderator of its
    /// room (XEP-0425): the room retracts it and tells everyone, us too.
    /// Sent in the version the room advertises (the current one, or the one
    /// before, which Prosody's `mod_muc_moderation` speaks); `unsupported`
    /// if it advertises none.
    pub async fn moderate_line(
        &self,
        account: AccountId,
        line: RoomMessageId,
        reason: Option<&str>,
    ) -> Result<(), CoreError> {
        let m = self
            .store(|s| s.room_message(line))?
            .filter(|m| m.account_id == account)
            .ok_or_else(|| not_here("no such line"))?;
        let stanza_id = m
            .stanza_id
            .ok_or_else(|| not_here("the room gave this line no id to name it by"))?;
        let info = self.room_info(account, &m.room).await?;
        if !info.moderation {
            return Err(CoreError::new(
                ErrorCode::Unsupported,
                "this group does not let moderators delete messages",
            ));
        }
        let room = parse_bare_jid(&m.room)?;
        let request = crate::retraction::moderate(&stanza_id, reason, info.moderation_current);
        self.iq(account, Some(room), true, request)
            .await
            .map(|_| ())
    }

    /// The earlier texts of an edited message, oldest first.
    pub fn message_versions(
        &self,
        account: AccountId,
        target: MessageRef,
    ) -> Result<Vec<String>, CoreError> {
        self.target(account, target)?;
        match target {
            MessageRef::Chat(id) => self.store(|s| s.message_versions(id)),
            MessageRef::Room(id) => self.store(|s| s.room_line_versions(id)),
        }
    }

    /// Keeps `body` as the unsent text of the chat or room `chat` (empty:
    /// none), so it survives a restart.
    pub fn set_draft(&self, account: AccountId, chat: &str, body: &str) -> Result<(), CoreError> {
        let chat = parse_bare_jid(chat)?;
        if body.len() > chat::MAX_BODY_BYTES {
            return Err(CoreError::new(
                ErrorCode::InvalidInput,
                "the draft is too long",
            ));
        }
        self.store(|s| s.set_draft(account, chat.as_str(), body))
    }

    /// Every kept draft.
    pub fn drafts(&self) -> Result<Vec<Draft>, CoreError> {
        self.store(|s| s.drafts())
    }

    /// What `target` is, checked to be `account`'s.
    fn target(&self, account: AccountId, target: MessageRef) -> Result<Target, CoreError> {
        match target {
            MessageRef::Chat(id) => {
                let m = self
                    .store(|s| s.message(id))?
                    .filter(|m| m.account_id == account)
                    .ok_or_else(|| not_here("no such message"))?;
                let key = self
                    .store(|s| s.message_key(id))?
                    .ok_or_else(|| not_here("the message has no id to name it by"))?;
                Ok(Target {
                    chat: ActionChat::Chat {
                        account,
                        peer: m.peer.clone(),
                    },
                    key,
                    ours: m.direction == Direction::Out,
                    retracted: m.rich.retracted,
                })
            }
            MessageRef::Room(id) => {
                let m = self
                    .store(|s| s.room_message(id))?
                    .filter(|m| m.account_id == account)
                    .ok_or_else(|| not_here("no such line"))?;
                let key = self
                    .store(|s| s.room_line_key(id))?
                    .ok_or_else(|| not_here("the line has no id to name it by"))?;
                Ok(Target {
                    chat: ActionChat::Room(m.room_id),
                    key,
                    ours: m.direction == Direction::Out,
                    retracted: m.rich.retracted,
                })
            }
        }
    }

    /// Stores our act on `t` (pending, unless it is only ours to see),
    /// announces the message it changes, and has it sent.
    async fn act(
        &self,
        account: AccountId,
        target: MessageRef,
        t: Target,
        kind: ActionKind,
        body: Option<String>,
    ) -> Result<(), CoreError> {
        let own = self.account_jid(account)?.to_string();
        let author = match target {
            MessageRef::Chat(_) => own.clone(),
            MessageRef::Room(_) => "self".to_owned(),
        };
        let new = NewAction {
            chat: t.chat,
            kind,
            target: t.key,
            direction: Direction::Out,
            author,
            author_name: own,
            body,
            action_id: Some(uuid::Uuid::new_v4().to_string()),
            moderated: false,
            server_time: Some(crate::session::now_ms()),
            pending: kind != ActionKind::Hide,
        };
        self.store(|s| s.insert_action(&new))?;
        let event = match target {
            MessageRef::Chat(id) => self
                .store(|s| s.message(id))?
                .map(|message| Event::MessageUpdated { account, message }),
            MessageRef::Room(id) => {
                self.store(|s| s.room_message(id))?
                    .map(|message| Event::RoomMessageUpdated {
                        account,
                        message: Box::new(message),
                    })
            }
        };
        if let Some(event) = event {
            let _ = self.events.send(event).await;
        }
        if kind != ActionKind::Hide {
            self.send_command(account, Command::Flush).await;
        }
        Ok(())
    }
}

fn not_here(why: &str) -> CoreError {
    CoreError::new(ErrorCode::InvalidInput, why)
}
