//! Rich messages: corrections, retractions, reactions and "delete for me",
//! each kept as its own row, and what a message shows derived from them
//! (see `migrations/0010_rich_messages.sql`). Drafts are kept here too.

use super::*;
use crate::{ActionChat, ActionKind, Draft, NewAction, PendingAction, Reaction, Rich};

/// Most reactions kept per author and message; the rest are not stored.
pub const MAX_REACTIONS: usize = 20;

/// Longest quote of a reply's target kept in [`Reply::quote`] (chars).
const QUOTE_CHARS: usize = 200;

/// How many corrections of corrections are followed (some clients name
/// the previous correction instead of the original).
const MAX_CHAIN: usize = 20;

/// One stored action, as derivation reads it.
struct ActionRow {
    kind: ActionKind,
    direction: Direction,
    author: String,
    author_name: String,
    body: Option<String>,
    action_id: Option<String>,
    moderated: bool,
}

fn action_from_row(row: &Row<'_>) -> rusqlite::Result<ActionRow> {
    Ok(ActionRow {
        kind: text_column(row, 0)?,
        direction: text_column(row, 1)?,
        author: row.get(2)?,
        author_name: row.get(3)?,
        body: row.get(4)?,
        action_id: row.get(5)?,
        moderated: row.get(6)?,
    })
}

const ACTION_COLUMNS: &str =
    "a.kind, a.direction, a.author, a.author_name, a.body, a.action_id, a.moderated";

impl Store {
    /// Stores an action. Returns its row, or `None` if the same action
    /// (same author and action id) is stored already. Nothing is checked against the
    /// target here, which may not have arrived yet: authority is applied
    /// when a message is read (see [`Rich`]). Reactions beyond
    /// [`MAX_REACTIONS`] are cut.
    pub fn insert_action(&mut self, new: &NewAction) -> Result<Option<i64>> {
        let (conversation, room) = match &new.chat {
            ActionChat::Chat { account, peer } => {
                (Some(conversation_in(&self.conn, *account, peer)?.0), None)
            }
            ActionChat::Room(room) => (None, Some(room.0)),
        };
        let body = match new.kind {
            ActionKind::React => Some(
                new.body
                    .as_deref()
                    .unwrap_or_default()
                    .lines()
                    .filter(|e| !e.is_empty())
                    .take(MAX_REACTIONS)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            _ => new.body.clone(),
        };
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO message_actions (conversation_id, room_id, kind, target, direction, \
                 author, author_name, body, action_id, moderated, server_time, local_time, pending) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                conversation,
                room,
                new.kind.as_str(),
                new.target,
                new.direction.as_str(),
                new.author,
                new.author_name,
                body,
                new.action_id,
                new.moderated,
                new.server_time,
                now_ms(),
                new.pending,
            ])?;
        Ok((changed > 0).then(|| self.conn.last_insert_rowid()))
    }

    /// `account`'s actions still to send, oldest first.
    pub fn pending_actions(&self, account: AccountId) -> Result<Vec<PendingAction>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, coalesce(c.peer, r.jid), a.room_id IS NOT NULL, a.kind, a.target, \
             a.body, a.action_id FROM message_actions a INDEXED BY message_actions_pending \
             LEFT JOIN conversations c ON c.id = a.conversation_id \
             LEFT JOIN rooms r ON r.id = a.room_id \
             WHERE a.pending = 1 AND coalesce(c.account_id, r.account_id) = ?1 \
             AND a.action_id IS NOT NULL ORDER BY a.id",
        )?;
        let rows = stmt.query_map([account.0], |row| {
            Ok(PendingAction {
                id: row.get(0)?,
                account,
                to: row.get(1)?,
                room: row.get(2)?,
                kind: text_column(row, 3)?,
                target: row.get(4)?,
                body: row.get(5)?,
                action_id: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Our action `id` reached the server: nothing more to send.
    pub fn action_sent(&self, id: i64) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE message_actions SET pending = 0 WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// The messages of `account`'s chat with `peer` that an action naming
    /// `target` may change (by their ids, or through a correction with that
    /// id), as they show now. Never creates the conversation.
    pub fn messages_named(
        &self,
        account: AccountId,
        peer: &str,
        target: &str,
    ) -> Result<Vec<Message>> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE c.account_id = ?1 AND c.peer = ?2 AND (m.origin_id = ?3 OR m.wire_id = ?3 \
                 OR m.stanza_id = ?3 OR m.id IN (SELECT m2.id FROM message_actions a \
                 JOIN messages m2 ON m2.conversation_id = a.conversation_id \
                 AND a.target IN (m2.origin_id, m2.wire_id, m2.stanza_id) \
                 WHERE a.conversation_id = c.id AND a.kind = 'correct' AND a.action_id = ?3)) \
                 LIMIT 10",
            )?
            .query_map(params![account.0, peer, target], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.message(MessageId(id))?);
        }
        Ok(out)
    }

    /// The lines of `room` that an action naming `target` may change, as
    /// they show now.
    pub fn room_lines_named(&self, room: RoomId, target: &str) -> Result<Vec<RoomMessage>> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT m.id FROM room_messages m WHERE m.room_id = ?1 AND (m.stanza_id = ?2 \
                 OR m.origin_id = ?2 OR m.id IN (SELECT m2.id FROM message_actions a \
                 JOIN room_messages m2 ON m2.room_id = a.room_id \
                 AND a.target IN (m2.stanza_id, m2.origin_id) \
                 WHERE a.room_id = ?1 AND a.kind = 'correct' AND a.action_id = ?2)) LIMIT 10",
            )?
            .query_map(params![room.0, target], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.room_message(RoomMessageId(id))?);
        }
        Ok(out)
    }

    /// The id others name message `id` by in actions and replies: for our
    /// own its origin-id (our stanza id too), for the peer's its `id`
    /// attribute, else its origin-id or our server's stanza-id.
    pub fn message_key(&self, id: MessageId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT CASE direction WHEN 'out' THEN coalesce(origin_id, wire_id, stanza_id) \
                 ELSE coalesce(wire_id, origin_id, stanza_id) END FROM messages WHERE id = ?1",
            )?
            .query_row([id.0], |row| row.get(0))
            .optional()?
            .flatten())
    }

    /// The id room line `id` is named by: the room's stanza-id, else (a
    /// room that stamps none on live lines) its author's origin-id.
    pub fn room_line_key(&self, id: RoomMessageId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(stanza_id, origin_id) FROM room_messages WHERE id = ?1",
            )?
            .query_row([id.0], |row| row.get(0))
            .optional()?
            .flatten())
    }

    /// The earlier texts of message `id`, oldest first: its first text and
    /// every accepted correction but the newest (which it shows).
    pub fn message_versions(&self, id: MessageId) -> Result<Vec<String>> {
        let Some(first) = self
            .conn
            .prepare_cached("SELECT body FROM messages WHERE id = ?1")?
            .query_row([id.0], |row| row.get::<_, String>(0))
            .optional()?
        else {
            return Ok(Vec::new());
        };
        let mut versions = vec![first];
        if let Some((_, direction, rows)) = chat_rows(&self.conn, id)? {
            let may = chat_author_may(direction);
            versions.extend(
                rows.into_iter()
                    .filter(|a| a.kind == ActionKind::Correct && may(a))
                    .filter_map(|a| a.body),
            );
        }
        versions.pop();
        Ok(versions)
    }

    /// The earlier texts of room line `id`, as [`Store::message_versions`].
    pub fn room_line_versions(&self, id: RoomMessageId) -> Result<Vec<String>> {
        let Some(line) = self.room_message(id)? else {
            return Ok(Vec::new());
        };
        let first: String = self
            .conn
            .prepare_cached("SELECT body FROM room_messages WHERE id = ?1")?
            .query_row([id.0], |row| row.get(0))?;
        let mut versions = vec![first];
        let keys = [line.stanza_id.clone(), line.origin_id.clone()]
            .into_iter()
            .flatten()
            .collect();
        let rows = actions_for(&self.conn, Scope::Room(line.room_id), keys)?;
        versions.extend(
            rows.into_iter()
                .filter(|a| a.kind == ActionKind::Correct && room_author_may(&line, a))
                .filter_map(|a| a.body),
        );
        versions.pop();
        Ok(versions)
    }

    /// Keeps `body` as the unsent text of `chat` (empty: none).
    pub fn set_draft(&self, account: AccountId, chat: &str, body: &str) -> Result<()> {
        if body.is_empty() {
            self.conn
                .prepare_cached("DELETE FROM drafts WHERE account_id = ?1 AND chat = ?2")?
                .execute(params![account.0, chat])?;
        } else {
            self.conn
                .prepare_cached(
                    "INSERT INTO drafts (account_id, chat, body, updated_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (account_id, chat) DO UPDATE SET body = excluded.body, \
                     updated_at = excluded.updated_at",
                )?
                .execute(params![account.0, bare_jid(chat)?, body, now_ms()])
                .map_err(unknown_on_constraint(account))?;
        }
        Ok(())
    }

    /// Every kept draft, of every account.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account_id, chat, body FROM drafts ORDER BY updated_at")?;
        let rows = stmt.query_map([], |row| {
            Ok(Draft {
                account_id: AccountId(row.get(0)?),
                chat: row.get(1)?,
                body: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The chat whose actions are read.
#[derive(Clone, Copy)]
enum Scope {
    Chat(i64),
    Room(RoomId),
}

/// Every action naming one of `keys` in `scope`, and the corrections that
/// name those corrections (a chain), oldest first.
fn actions_for(conn: &Connection, scope: Scope, keys: Vec<String>) -> Result<Vec<ActionRow>> {
    let sql = match scope {
        Scope::Chat(_) => format!(
            "SELECT {ACTION_COLUMNS}, a.id, coalesce(a.server_time, a.local_time) \
             FROM message_actions a INDEXED BY message_actions_chat \
             WHERE a.conversation_id = ?1 AND a.target = ?2"
        ),
        Scope::Room(_) => format!(
            "SELECT {ACTION_COLUMNS}, a.id, coalesce(a.server_time, a.local_time) \
             FROM message_actions a INDEXED BY message_actions_room \
             WHERE a.room_id = ?1 AND a.target = ?2"
        ),
    };
    let chat = match scope {
        Scope::Chat(id) => id,
        Scope::Room(room) => room.0,
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows: Vec<(i64, i64, ActionRow)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue: Vec<(String, bool)> = keys.into_iter().map(|k| (k, false)).collect();
    while let Some((key, chained)) = queue.pop() {
        if !seen.insert(key.clone()) || seen.len() > MAX_CHAIN + 3 {
            continue;
        }
        let found = stmt
            .query_map(params![chat, key], |row| {
                Ok((row.get(7)?, row.get(8)?, action_from_row(row)?))
            })?
            .collect::<rusqlite::Result<Vec<(i64, i64, ActionRow)>>>()?;
        for (id, time, row) in found {
            if row.kind != ActionKind::Correct {
                if chained {
                    continue;
                }
            } else if let Some(next) = &row.action_id {
                queue.push((next.clone(), true));
            }
            rows.push((time, id, row));
        }
    }
    rows.sort_by_key(|(time, id, _)| (*time, *id));
    rows.dedup_by_key(|(_, id, _)| *id);
    Ok(rows.into_iter().map(|(_, _, row)| row).collect())
}

/// What `rows` (oldest first) make of a message whose author is checked by
/// `may`: its newest accepted text (if corrected) and what it shows.
fn derive(rows: &[ActionRow], may: impl Fn(&ActionRow) -> bool) -> (Option<String>, Rich) {
    let mut rich = Rich::default();
    let mut text = None;
    // Per author: their name, their newest reactions, whether it is us.
    let mut reactions: Vec<(&str, &str, Vec<&str>, bool)> = Vec::new();
    for row in rows {
        match row.kind {
            ActionKind::Correct if may(row) => {
                if let Some(body) = &row.body {
                    text = Some(body.clone());
                    rich.edited = true;
                }
            }
            ActionKind::Retract if row.moderated || may(row) => {
                rich.retracted = true;
                rich.moderated = row.moderated;
            }
            ActionKind::Hide if row.direction == Direction::Out => rich.hidden = true,
            ActionKind::React => {
                let emoji: Vec<&str> = row.body.as_deref().unwrap_or_default().lines().collect();
                let ours = row.direction == Direction::Out;
                match reactions.iter_mut().find(|(a, ..)| *a == row.author) {
                    Some(entry) => entry.2 = emoji,
                    None => reactions.push((&row.author, &row.author_name, emoji, ours)),
                }
            }
            _ => {}
        }
    }
    if rich.retracted {
        return (Some(String::new()), rich);
    }
    for (_, name, emoji, ours) in reactions {
        for e in emoji {
            match rich.reactions.iter_mut().find(|r| r.emoji == e) {
                Some(r) => {
                    r.by.push(name.to_owned());
                    r.ours |= ours;
                }
                None => rich.reactions.push(Reaction {
                    emoji: e.to_owned(),
                    by: vec![name.to_owned()],
                    ours,
                }),
            }
        }
    }
    (text, rich)
}

/// The first [`QUOTE_CHARS`] characters of `text`.
fn quote(text: &str) -> String {
    text.chars().take(QUOTE_CHARS).collect()
}

/// A message's conversation, direction, origin-id, id attribute and stanza-id.
type MessageKeys = (
    i64,
    Direction,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Message `m`'s keys, conversation and the actions naming it.
fn chat_rows(conn: &Connection, id: MessageId) -> Result<Option<(i64, Direction, Vec<ActionRow>)>> {
    let found: Option<MessageKeys> = conn
        .prepare_cached(
            "SELECT conversation_id, direction, origin_id, wire_id, stanza_id FROM messages \
             WHERE id = ?1",
        )?
        .query_row([id.0], |row| {
            Ok((
                row.get(0)?,
                text_column(row, 1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .optional()?;
    let Some((conversation, direction, origin, wire, stanza)) = found else {
        return Ok(None);
    };
    let keys = [origin, wire, stanza].into_iter().flatten().collect();
    Ok(Some((
        conversation,
        direction,
        actions_for(conn, Scope::Chat(conversation), keys)?,
    )))
}

/// In a one-to-one chat only the two parties act, and each on their own
/// messages: an action's direction must be its target's.
fn chat_author_may(direction: Direction) -> impl Fn(&ActionRow) -> bool {
    move |a| a.direction == direction
}

/// In a room an action on a line is its author's when both are ours, or
/// the room vouches for both being the same occupant: the same occupant id
/// (XEP-0421), else the same real JID. A nick alone proves nothing.
fn room_author_may(line: &RoomMessage, a: &ActionRow) -> bool {
    if a.direction != line.direction {
        return false;
    }
    if line.direction == Direction::Out {
        return true;
    }
    match (&line.occupant_id, &line.real_jid) {
        (Some(id), _) => a.author.strip_prefix("oid:") == Some(id.as_str()),
        (None, Some(jid)) => {
            let bare = jid.split('/').next().unwrap_or_default();
            a.author.strip_prefix("jid:") == Some(bare)
        }
        (None, None) => false,
    }
}

/// Whether any act is stored for `conversation`.
pub(super) fn has_acts(conn: &Connection, conversation: ConversationId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM message_actions INDEXED BY message_actions_chat \
             WHERE conversation_id = ?1)",
        )?
        .query_row([conversation.0], |row| row.get(0))?)
}

/// Fills `m`'s derived view: corrections, retraction, reactions, reply.
pub(super) fn decorate_message(conn: &Connection, m: &mut Message) -> Result<()> {
    let Some((conversation, direction, rows)) = chat_rows(conn, m.id)? else {
        return Ok(());
    };
    let (text, mut rich) = derive(&rows, chat_author_may(direction));
    if let Some(text) = text {
        m.body = text;
    }
    rich.unstyled = m.rich.unstyled;
    rich.reply = m.rich.reply.take();
    if let (Some(reply), false) = (&mut rich.reply, rich.retracted) {
        let target: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM messages WHERE conversation_id = ?1 \
                 AND (origin_id = ?2 OR wire_id = ?2 OR stanza_id = ?2) ORDER BY id LIMIT 1",
            )?
            .query_row(params![conversation, reply.id], |row| row.get(0))
            .optional()?;
        if let Some(id) = target {
            let (body, sender, dir): (String, String, Direction) = conn
                .prepare_cached("SELECT body, sender, direction FROM messages WHERE id = ?1")?
                .query_row([id], |row| {
                    Ok((row.get(0)?, row.get(1)?, text_column(row, 2)?))
                })?;
            let rows = chat_rows(conn, MessageId(id))?
                .map(|r| r.2)
                .unwrap_or_default();
            let (text, target_rich) = derive(&rows, chat_author_may(dir));
            reply.target = Some(id);
            reply.author = Some(sender.split('/').next().unwrap_or_default().to_owned());
            reply.quote = (!target_rich.retracted).then(|| quote(&text.unwrap_or(body)));
        }
    } else {
        rich.reply = None;
    }
    m.rich = rich;
    Ok(())
}

/// Fills room line `m`'s derived view, as [`decorate_message`].
pub(super) fn decorate_room_line(conn: &Connection, m: &mut RoomMessage) -> Result<()> {
    let keys = [m.stanza_id.clone(), m.origin_id.clone()]
        .into_iter()
        .flatten()
        .collect();
    let rows = actions_for(conn, Scope::Room(m.room_id), keys)?;
    let (text, mut rich) = derive(&rows, |a| room_author_may(m, a));
    if let Some(text) = text {
        m.body = text;
    }
    rich.unstyled = m.rich.unstyled;
    rich.reply = m.rich.reply.take();
    if let (Some(reply), false) = (&mut rich.reply, rich.retracted) {
        let id: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM room_messages WHERE room_id = ?1 \
                 AND (stanza_id = ?2 OR origin_id = ?2) ORDER BY id LIMIT 1",
            )?
            .query_row(params![m.room_id.0, reply.id], |row| row.get(0))
            .optional()?;
        let target = match id {
            Some(id) => super::rooms::room_line_raw(conn, RoomMessageId(id))?,
            None => None,
        };
        if let Some(t) = target {
            let keys = [t.stanza_id.clone(), t.origin_id.clone()]
                .into_iter()
                .flatten()
                .collect();
            let rows = actions_for(conn, Scope::Room(t.room_id), keys)?;
            let (text, target_rich) = derive(&rows, |a| room_author_may(&t, a));
            reply.target = Some(t.id.0);
            reply.author = Some(t.nick.clone());
            reply.quote = (!target_rich.retracted).then(|| quote(&text.unwrap_or(t.body)));
        }
    } else {
        rich.reply = None;
    }
    m.rich = rich;
    Ok(())
}
