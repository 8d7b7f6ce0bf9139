//! Group chats (XEP-0045): the rooms an account keeps and their lines,
//! deduplicated by the room's stanza-id and, for our own lines, by
//! origin-id (the room reflects what we send).

use super::*;

/// Selects every [`RoomMessage`] field from `room_messages m` joined to
/// `rooms r`.
macro_rules! select_room_messages {
    ($tail:literal) => {
        select_room_messages!(@ "", $tail)
    };
    (indexed $index:literal, $tail:literal) => {
        select_room_messages!(@ concat!("INDEXED BY ", $index, " "), $tail)
    };
    (@ $index:expr, $tail:literal) => {
        concat!(
            "SELECT m.id, m.room_id, r.account_id, r.jid, m.direction, m.nick, m.occupant_id, \
             m.real_jid, m.body, m.server_time, m.local_time, m.origin_id, m.stanza_id, \
             m.state, m.error, m.private_with, m.mentions_us, m.reply_id, m.reply_to, m.unstyled \
             FROM room_messages m ",
            $index,
            "CROSS JOIN rooms r ON r.id = m.room_id ",
            $tail
        )
    };
}

const SELECT_ROOMS: &str =
    "SELECT id, account_id, jid, nick, name, subject, autojoin, bookmarked FROM rooms ";

impl Store {
    /// Keeps the room `jid` (bare JID) for `account` with our `nick` in it,
    /// to be joined at every login: created, or its nick changed and
    /// autojoin set again if it was kept already.
    pub fn upsert_room(&mut self, account: AccountId, jid: &str, nick: &str) -> Result<Room> {
        let jid = bare_jid(jid)?;
        if nick.is_empty() {
            return Err(StoreError::InvalidData("empty nick".into()));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO rooms (account_id, jid, nick, autojoin) VALUES (?1, ?2, ?3, 1) \
                 ON CONFLICT (account_id, jid) DO UPDATE SET nick = excluded.nick, autojoin = 1",
            )?
            .execute(params![account.0, jid, nick])
            .map_err(unknown_on_constraint(account))?;
        self.room(account, jid)?
            .ok_or_else(|| StoreError::InvalidData("room row not stored".into()))
    }

    /// The room `jid` kept for `account`, if any.
    pub fn room(&self, account: AccountId, jid: &str) -> Result<Option<Room>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "{SELECT_ROOMS} WHERE account_id = ?1 AND jid = ?2"
            ))?
            .query_row(params![account.0, jid], room_from_row)
            .optional()?)
    }

    /// Every room kept for `account`, by JID.
    pub fn rooms(&self, account: AccountId) -> Result<Vec<Room>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_ROOMS} WHERE account_id = ?1 ORDER BY jid"
        ))?;
        let rows = stmt.query_map([account.0], room_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets whether `room` is joined at every login (leaving it for good
    /// clears it; its history stays).
    pub fn set_room_autojoin(&self, room: RoomId, autojoin: bool) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE rooms SET autojoin = ?2 WHERE id = ?1")?
            .execute(params![room.0, autojoin])?;
        Ok(())
    }

    /// Names `room` (the name the user gave it when creating it).
    pub fn set_room_name(&self, room: RoomId, name: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE rooms SET name = ?2 WHERE id = ?1")?
            .execute(params![room.0, name])?;
        Ok(())
    }

    /// Marks `room` as bookmarked (XEP-0402), with the name the bookmark
    /// gives it, if any.
    pub fn set_room_bookmark(&self, room: RoomId, name: Option<&str>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE rooms SET bookmarked = 1, name = coalesce(?2, name) WHERE id = ?1",
            )?
            .execute(params![room.0, name])?;
        Ok(())
    }

    /// Forgets `room` as a bookmark: neither bookmarked nor joined at
    /// login any more (its history stays).
    pub fn forget_room(&self, room: RoomId) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE rooms SET autojoin = 0, bookmarked = 0 WHERE id = ?1")?
            .execute([room.0])?;
        Ok(())
    }

    /// Our own line in `room` with this origin-id, if any.
    pub fn find_room_outgoing(&self, room: RoomId, origin_id: &str) -> Result<Option<RoomMessage>> {
        Ok(self
            .conn
            .prepare_cached(select_room_messages!(
                "WHERE m.room_id = ?1 AND m.direction = 'out' AND m.origin_id = ?2"
            ))?
            .query_row(params![room.0, origin_id], room_message_from_row)
            .optional()?)
    }

    /// Sets `room`'s subject (`None`: cleared).
    pub fn set_room_subject(&self, room: RoomId, subject: Option<&str>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE rooms SET subject = ?2 WHERE id = ?1")?
            .execute(params![room.0, subject])?;
        Ok(())
    }

    /// Stores a room's lines, in order, in one transaction. A line whose
    /// stanza-id is stored already is a duplicate; one of our own whose
    /// origin-id is stored already is the room's reflection of it (or its
    /// copy in the room's archive): that row moves from `pending` (or
    /// `failed`) to `sent` and takes the room's stanza-id, and the outcome
    /// is [`RoomInsertOutcome::Reflected`] if its state changed. Another
    /// occupant's line is a duplicate of a stored line with the same nick
    /// and origin-id when either has no stanza-id (some rooms, ejabberd's,
    /// stamp their archive but not their live lines); the stored one then
    /// takes the stanza-id.
    pub fn insert_room_lines(
        &mut self,
        lines: &[NewRoomMessage],
    ) -> Result<Vec<RoomInsertOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut activity: HashMap<RoomId, i64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(lines.len());
        for new in lines {
            let outcome = insert_room_line_in(&tx, new)?;
            if let RoomInsertOutcome::Inserted(m) = &outcome {
                let time = m.server_time.unwrap_or(m.local_time);
                let newest = activity.entry(m.room_id).or_insert(time);
                *newest = (*newest).max(time);
            }
            outcomes.push(outcome);
        }
        for (room, time) in activity {
            bump_room_activity_in(&tx, room, time)?;
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Stores a line we are about to say in `room`, in state `pending`,
    /// committed before returning. `origin_id` must be unique among our
    /// lines in the room: the room's reflection is matched by it.
    /// `private_with`: a private message to that occupant instead (no
    /// reflection; it is `sent` once the server has it).
    pub fn insert_room_outgoing(
        &mut self,
        room: RoomId,
        body: &str,
        origin_id: &str,
        private_with: Option<&str>,
        reply: Option<&crate::ReplyRef>,
    ) -> Result<RoomMessage> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let nick: String = tx
            .prepare_cached("SELECT nick FROM rooms WHERE id = ?1")?
            .query_row([room.0], |row| row.get(0))
            .optional()?
            .ok_or_else(|| StoreError::InvalidData(format!("unknown room {}", room.0)))?;
        let now = now_ms();
        tx.prepare_cached(
            "INSERT INTO room_messages (room_id, direction, nick, body, local_time, origin_id, \
             state, private_with, reply_id, reply_to) \
             VALUES (?1, 'out', ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)",
        )?
        .execute(params![
            room.0,
            nick,
            body,
            now,
            origin_id,
            private_with,
            reply.map(|r| &r.id),
            reply.and_then(|r| r.to.as_ref()),
        ])?;
        let id = RoomMessageId(tx.last_insert_rowid());
        bump_room_activity_in(&tx, room, now)?;
        let message = room_message_in(&tx, id)?
            .ok_or_else(|| StoreError::InvalidData("room line not stored".into()))?;
        tx.commit()?;
        Ok(message)
    }

    /// The oldest of our lines to the whole room `room` still `pending`
    /// (not a private message): the next to send there. Looks only at
    /// pending rows, however long the room's history.
    pub fn next_room_outgoing(&self, room: RoomId) -> Result<Option<RoomMessage>> {
        let mut stmt = self.conn.prepare_cached(select_room_messages!(
            indexed "room_messages_pending_out",
            "WHERE m.direction = 'out' AND m.state = 'pending' AND m.room_id = ?1 \
             AND m.private_with IS NULL ORDER BY m.id LIMIT 1"
        ))?;
        Ok(stmt.query_row([room.0], room_message_from_row).optional()?)
    }

    /// Up to `limit` of the account's private messages to occupants still
    /// `pending`, oldest first.
    pub fn pending_room_private(&self, account: AccountId, limit: u32) -> Result<Vec<RoomMessage>> {
        let mut stmt = self.conn.prepare_cached(select_room_messages!(
            indexed "room_messages_pending_out",
            "WHERE m.direction = 'out' AND m.state = 'pending' \
             AND m.private_with IS NOT NULL AND r.account_id = ?1 ORDER BY m.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![account.0, limit], room_message_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The account's own room lines still `pending`, oldest first.
    pub fn pending_room_outgoing(&self, account: AccountId) -> Result<Vec<RoomMessage>> {
        let mut stmt = self.conn.prepare_cached(select_room_messages!(
            "WHERE r.account_id = ?1 \
             AND m.direction = 'out' AND m.state = 'pending' ORDER BY m.id"
        ))?;
        let rows = stmt.query_map([account.0], room_message_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Moves room line `id` to `state` if [`MessageState::can_transition_to`]
    /// allows it (with `error`), and returns the changed row; `None` if
    /// nothing changed.
    pub fn set_room_message_state(
        &self,
        id: RoomMessageId,
        state: MessageState,
        error: Option<&str>,
    ) -> Result<Option<RoomMessage>> {
        let Some(current) = room_message_in(&self.conn, id)? else {
            return Ok(None);
        };
        if !current.state.can_transition_to(state) {
            return Ok(None);
        }
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE room_messages SET state = ?2, error = ?3 WHERE id = ?1 AND state = ?4",
            )?
            .execute(params![id.0, state.as_str(), error, current.state.as_str()])?;
        if changed == 0 {
            return Ok(None);
        }
        room_message_in(&self.conn, id)
    }

    /// How many lines of others in `room` came after line `after`.
    pub fn room_incoming_after(&self, room: RoomId, after: RoomMessageId) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM room_messages WHERE room_id = ?1 AND id > ?2 AND direction = 'in'",
            )?
            .query_row(params![room.0, after.0], |r| r.get(0))?)
    }

    /// `room` was caught up to `at` (unix ms): where a catch-up with no
    /// stored stanza-id to go on starts (the latest of this and its lines).
    pub fn set_room_caught_up(&self, room: RoomId, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE rooms SET last_activity = max(coalesce(last_activity, 0), ?2) WHERE id = ?1",
            )?
            .execute(params![room.0, at])?;
        Ok(())
    }

    /// When `room` was last caught up to or got a line (unix ms), if ever.
    pub fn room_last_activity(&self, room: RoomId) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_activity FROM rooms WHERE id = ?1")?
            .query_row([room.0], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// Room line `id`, if it exists.
    pub fn room_message(&self, id: RoomMessageId) -> Result<Option<RoomMessage>> {
        room_message_in(&self.conn, id)
    }

    /// The line of `room` the room stamped with `stanza_id`, if stored.
    pub fn room_message_by_stanza_id(
        &self,
        room: RoomId,
        stanza_id: &str,
    ) -> Result<Option<RoomMessage>> {
        Ok(self
            .conn
            .prepare_cached(select_room_messages!(
                "WHERE m.room_id = ?1 AND m.stanza_id = ?2"
            ))?
            .query_row(params![room.0, stanza_id], room_message_from_row)
            .optional()?)
    }

    /// Up to `limit` lines of `room`, newest first, all older than `before`
    /// (or the newest if `None`).
    pub fn room_history_page(
        &self,
        room: RoomId,
        before: Option<RoomMessageId>,
        limit: u32,
    ) -> Result<Vec<RoomMessage>> {
        let before = before.map_or(i64::MAX, |id| id.0);
        let mut stmt = self.conn.prepare_cached(select_room_messages!(
            "WHERE m.room_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![room.0, before, limit], room_message_from_row)?;
        let mut page = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for m in &mut page {
            super::actions::decorate_room_line(&self.conn, m)?;
        }
        Ok(page)
    }

    /// The room's stanza-id of the newest stored line that has one: where
    /// the catch-up from the room's archive (XEP-0313) resumes.
    pub fn newest_room_stanza_id(&self, room: RoomId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT stanza_id FROM room_messages WHERE room_id = ?1 \
                 AND stanza_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            )?
            .query_row([room.0], |row| row.get(0))
            .optional()?)
    }
}

fn room_from_row(row: &Row<'_>) -> rusqlite::Result<Room> {
    Ok(Room {
        id: RoomId(row.get(0)?),
        account_id: AccountId(row.get(1)?),
        jid: row.get(2)?,
        nick: row.get(3)?,
        name: row.get(4)?,
        subject: row.get(5)?,
        autojoin: row.get(6)?,
        bookmarked: row.get(7)?,
    })
}

fn room_message_from_row(row: &Row<'_>) -> rusqlite::Result<RoomMessage> {
    Ok(RoomMessage {
        id: RoomMessageId(row.get(0)?),
        room_id: RoomId(row.get(1)?),
        account_id: AccountId(row.get(2)?),
        room: row.get(3)?,
        direction: text_column(row, 4)?,
        nick: row.get(5)?,
        occupant_id: row.get(6)?,
        real_jid: row.get(7)?,
        body: row.get(8)?,
        server_time: row.get(9)?,
        local_time: row.get(10)?,
        origin_id: row.get(11)?,
        stanza_id: row.get(12)?,
        state: text_column(row, 13)?,
        error: row.get(14)?,
        private_with: row.get(15)?,
        mentions_us: row.get(16)?,
        rich: reply_from_columns(row.get(17)?, row.get(18)?, row.get(19)?),
    })
}

/// Room line `id` as stored, without its derived view.
pub(super) fn room_line_raw(conn: &Connection, id: RoomMessageId) -> Result<Option<RoomMessage>> {
    Ok(conn
        .prepare_cached(select_room_messages!("WHERE m.id = ?1"))?
        .query_row([id.0], room_message_from_row)
        .optional()?)
}

fn room_message_in(conn: &Connection, id: RoomMessageId) -> Result<Option<RoomMessage>> {
    let mut found = conn
        .prepare_cached(select_room_messages!("WHERE m.id = ?1"))?
        .query_row([id.0], room_message_from_row)
        .optional()?;
    if let Some(m) = &mut found {
        super::actions::decorate_room_line(conn, m)?;
    }
    Ok(found)
}

/// The body of [`Store::insert_room_lines`] for one line.
fn insert_room_line_in(tx: &Connection, new: &NewRoomMessage) -> Result<RoomInsertOutcome> {
    if let Some(stanza_id) = &new.stanza_id {
        let existing: Option<i64> = tx
            .prepare_cached("SELECT id FROM room_messages WHERE room_id = ?1 AND stanza_id = ?2")?
            .query_row(params![new.room.0, stanza_id], |row| row.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(RoomInsertOutcome::Duplicate(RoomMessageId(id)));
        }
    }
    if let Some(origin_id) = &new.origin_id {
        let existing: Option<(i64, String)> = match new.direction {
            Direction::Out => tx
                .prepare_cached(
                    "SELECT id, state FROM room_messages \
                     WHERE room_id = ?1 AND direction = 'out' AND origin_id = ?2",
                )?
                .query_row(params![new.room.0, origin_id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?,
            // Only a line from the same nick: nobody may hide another's
            // line. Whatever its stanza-id: a copy stored without one (a
            // room that stamps its archive but not its live lines), or the
            // same line sent again by its author after a lost reflection
            // (the room stamps each copy anew).
            Direction::In => tx
                .prepare_cached(
                    "SELECT id, state FROM room_messages INDEXED BY room_messages_origin_id \
                     WHERE room_id = ?1 AND direction = 'in' AND origin_id = ?2 AND nick = ?3",
                )?
                .query_row(params![new.room.0, origin_id, new.nick], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?,
        };
        if let Some((id, state)) = existing {
            let id = RoomMessageId(id);
            if new.direction == Direction::In {
                if new.stanza_id.is_some() {
                    tx.prepare_cached(
                        "UPDATE room_messages SET stanza_id = ?2 WHERE id = ?1 AND stanza_id IS NULL",
                    )?
                    .execute(params![id.0, new.stanza_id])?;
                }
                return Ok(RoomInsertOutcome::Duplicate(id));
            }
            // Our own line, reflected: it reached the room.
            let reflected = matches!(state.as_str(), "pending" | "failed");
            tx.prepare_cached(
                "UPDATE room_messages SET stanza_id = coalesce(stanza_id, ?2), \
                 server_time = coalesce(?3, server_time), \
                 state = CASE WHEN state IN ('pending', 'failed') THEN 'sent' ELSE state END, \
                 error = CASE WHEN state IN ('pending', 'failed') THEN NULL ELSE error END, \
                 occupant_id = coalesce(occupant_id, ?4) WHERE id = ?1",
            )?
            .execute(params![
                id.0,
                new.stanza_id,
                new.server_time,
                new.occupant_id
            ])?;
            return match (reflected, room_message_in(tx, id)?) {
                (true, Some(row)) => Ok(RoomInsertOutcome::Reflected(row)),
                _ => Ok(RoomInsertOutcome::Duplicate(id)),
            };
        }
    }
    let state = match new.direction {
        Direction::In => MessageState::Received,
        Direction::Out => MessageState::Sent,
    };
    tx.prepare_cached(
        "INSERT INTO room_messages (room_id, direction, nick, occupant_id, real_jid, body, \
         server_time, local_time, origin_id, stanza_id, state, private_with, mentions_us, \
         reply_id, reply_to, unstyled) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        new.room.0,
        new.direction.as_str(),
        new.nick,
        new.occupant_id,
        new.real_jid,
        new.body,
        new.server_time,
        now_ms(),
        new.origin_id,
        new.stanza_id,
        state.as_str(),
        new.private_with,
        new.mentions_us,
        new.reply.as_ref().map(|r| &r.id),
        new.reply.as_ref().and_then(|r| r.to.as_ref()),
        new.unstyled,
    ])?;
    let id = RoomMessageId(tx.last_insert_rowid());
    room_message_in(tx, id)?
        .map(RoomInsertOutcome::Inserted)
        .ok_or_else(|| StoreError::InvalidData("room line not stored".into()))
}

/// Moves the room's last activity forward to `time` (never back).
fn bump_room_activity_in(conn: &Connection, room: RoomId, time: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE rooms SET last_activity = max(coalesce(last_activity, ?2), ?2) WHERE id = ?1",
    )?
    .execute(params![room.0, time])?;
    Ok(())
}
