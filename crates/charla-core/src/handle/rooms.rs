//! The core handle's group chats (XEP-0045): joining and leaving rooms,
//! saying something in one (through the rooms' outbox), the rooms kept and
//! their history.

use charla_store::{Room, RoomMessage, RoomMessageId};

use crate::*;

impl Core {
    /// Joins the room `room` (a bare JID) as `nick`, with its password if
    /// it has one. The room is kept and joined at every login from then
    /// on; [`Event::RoomJoined`] comes once we are in and its archive is
    /// caught up, or [`Event::RoomNickTaken`], [`Event::RoomPasswordRequired`]
    /// or [`Event::RoomLeft`] says why not. The password is kept in memory
    /// only, for joining again after a reconnect. Fails with `NotConnected`
    /// if the account has no session.
    pub async fn join_room(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        password: Option<&str>,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let nick = checked_nick(nick)?;
        self.account_jid(account)?;
        let command = Command::JoinRoom {
            room,
            nick: nick.to_owned(),
            password: password.map(str::to_owned),
        };
        if !self.send_command(account, command).await {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        Ok(())
    }

    /// Creates the room `room` (a bare JID) as `preset` says (a private
    /// group or a public channel, with its name and description) and joins
    /// it as `nick`; like [`Core::join_room`] otherwise. A room that exists
    /// already is joined as it is.
    pub async fn create_room(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        preset: crate::roomconfig::RoomPreset,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let nick = checked_nick(nick)?;
        self.account_jid(account)?;
        let command = Command::CreateRoom {
            room,
            nick: nick.to_owned(),
            preset,
        };
        if !self.send_command(account, command).await {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        Ok(())
    }

    /// Invites `to` (a bare JID) to the room `room`, through the room
    /// (XEP-0045 §7.8.2), with a reason if given.
    pub async fn invite(
        &self,
        account: AccountId,
        room: &str,
        to: &str,
        reason: Option<&str>,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let to = parse_bare_jid(to)?;
        let command = Command::Invite {
            room,
            to,
            reason: reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        };
        if !self.send_command(account, command).await {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        Ok(())
    }

    /// How many lines of others in the room `room` came after its line
    /// `after` (what is still unread when `after` was read elsewhere).
    pub fn room_lines_after(
        &self,
        account: AccountId,
        room: &str,
        after: RoomMessageId,
    ) -> Result<u32, CoreError> {
        let room = parse_bare_jid(room)?;
        match self.store(|s| s.room(account, room.as_str()))? {
            Some(kept) => self.store(|s| s.room_incoming_after(kept.id, after)),
            None => Ok(0),
        }
    }

    /// The user read the room `room` up to its line `up_to`: our other
    /// devices are told (XEP-0490), if the room stamped that line with its
    /// stanza-id (else there is nothing they could find it by).
    pub async fn mark_room_read(
        &self,
        account: AccountId,
        room: &str,
        up_to: RoomMessageId,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let line = self.store(|s| s.room_message(up_to))?;
        let Some(stanza_id) = line
            .filter(|l| l.room == room.as_str())
            .and_then(|l| l.stanza_id)
        else {
            return Ok(());
        };
        self.send_command(account, Command::RoomDisplayed { room, stanza_id })
            .await;
        Ok(())
    }

    /// Leaves the room `room`; with `forget`, also removes its bookmark.
    /// Either way it is not joined at login any more; its history stays.
    pub async fn leave_room(
        &self,
        account: AccountId,
        room: &str,
        forget: bool,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let kept = self.store(|s| s.room(account, room.as_str()))?;
        if !self
            .send_command(account, Command::LeaveRoom { room, forget })
            .await
        {
            // Offline: only what is kept changes.
            if let Some(kept) = kept {
                self.store(|s| match forget {
                    true => s.forget_room(kept.id),
                    false => s.set_room_autojoin(kept.id, false),
                })?;
            }
        }
        Ok(())
    }

    /// Says `body` in the room `room`: the line is committed as `pending`
    /// and announced ([`Event::RoomMessageAdded`]) before anything goes on
    /// the wire, sent once we are in the room, and `sent` when the room
    /// reflects it ([`Event::RoomMessageUpdated`]).
    pub async fn send_room_message(
        &self,
        account: AccountId,
        room: &str,
        body: &str,
    ) -> Result<RoomMessage, CoreError> {
        self.say_in_room(account, room, body, None).await
    }

    /// Sends `body` privately to the occupant `nick` of the room `room`
    /// (XEP-0045 §7.5), through the room: kept with the room's lines but
    /// marked private, `pending` until the server has it, then `sent`.
    pub async fn send_room_private(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        body: &str,
    ) -> Result<RoomMessage, CoreError> {
        let nick = checked_nick(nick)?;
        self.say_in_room(account, room, body, Some(nick)).await
    }

    async fn say_in_room(
        &self,
        account: AccountId,
        room: &str,
        body: &str,
        private_with: Option<&str>,
    ) -> Result<RoomMessage, CoreError> {
        self.say_in_room_replying(account, room, body, private_with, None)
            .await
    }

    /// [`Core::send_room_message`] (or a private message, with
    /// `private_with`), answering `reply` if given.
    pub(crate) async fn say_in_room_replying(
        &self,
        account: AccountId,
        room: &str,
        body: &str,
        private_with: Option<&str>,
        reply: Option<&charla_store::ReplyRef>,
    ) -> Result<RoomMessage, CoreError> {
        let room = parse_bare_jid(room)?;
        chat::check_body(body)?;
        let kept = self
            .store(|s| s.room(account, room.as_str()))?
            .ok_or_else(|| CoreError::new(ErrorCode::InvalidInput, "not a room of this account"))?;
        let origin_id = uuid::Uuid::new_v4().to_string();
        let message =
            self.store(|s| s.insert_room_outgoing(kept.id, body, &origin_id, private_with, reply))?;
        let _ = self
            .events
            .send(Event::RoomMessageAdded {
                account,
                message: Box::new(message.clone()),
            })
            .await;
        self.send_command(account, Command::Flush).await;
        Ok(message)
    }

    /// The rooms kept for `account`.
    pub fn rooms(&self, account: AccountId) -> Result<Vec<Room>, CoreError> {
        self.store(|s| s.rooms(account))
    }

    /// Up to `limit` lines of the room `room`, newest first, older than
    /// `before` (the newest if `None`).
    pub fn room_history(
        &self,
        account: AccountId,
        room: &str,
        before: Option<RoomMessageId>,
        limit: u32,
    ) -> Result<Vec<RoomMessage>, CoreError> {
        let room = parse_bare_jid(room)?;
        match self.store(|s| s.room(account, room.as_str()))? {
            Some(kept) => self.store(|s| s.room_history_page(kept.id, before, limit)),
            None => Ok(Vec::new()),
        }
    }
}

/// The nick the user asked for, trimmed: not empty, and short enough for an
/// occupant JID's resource part.
fn checked_nick(nick: &str) -> Result<&str, CoreError> {
    let nick = nick.trim();
    if nick.is_empty() || nick.len() > muc::MAX_NICK_BYTES {
        return Err(CoreError::new(
            ErrorCode::InvalidInput,
            "the nick is empty or too long",
        ));
    }
    Ok(nick)
}
