//! The core handle's room moderation and administration (XEP-0045 §8–§10):
//! the subject, occupants' roles (kick, voice), affiliations (member,
//! admin, owner, ban) and the room's settings through its configuration
//! form. The room decides; a refusal comes back as `forbidden`, `conflict`
//! or `not_acceptable` with the room's own words, and what it allowed is
//! told by its presences (`Event::OccupantChanged`) and subject
//! (`Event::RoomSubject`).

use crate::muc::admin::{self, Affiliated};
use crate::muc::{Affiliation, Role};
use crate::roomconfig::{self, RoomSettings};
use crate::*;

impl Core {
    /// Sets the subject of the room `room` (empty: none). The room tells
    /// everyone, us included, if it allows us (moderators always; others
    /// where `RoomInfo::subject_changeable`); otherwise nothing changes.
    pub async fn set_room_subject(
        &self,
        account: AccountId,
        room: &str,
        subject: &str,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let subject = subject.to_owned();
        if !self
            .send_command(account, Command::RoomSubject { room, subject })
            .await
        {
            return Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ));
        }
        Ok(())
    }

    /// Gives the occupant `nick` of `room` the role `role`: `none` kicks
    /// them, `participant` gives voice, `visitor` takes it, `moderator`
    /// makes them one. Answers once the room agreed.
    pub async fn set_occupant_role(
        &self,
        account: AccountId,
        room: &str,
        nick: &str,
        role: Role,
        reason: Option<&str>,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let query = admin::set_role(nick, role, reason)
            .ok_or_else(|| CoreError::new(ErrorCode::InvalidInput, "no occupant has that nick"))?;
        self.iq(account, Some(room), true, query).await.map(|_| ())
    }

    /// Gives `jid` (a bare JID) the affiliation `affiliation` with `room`:
    /// `member`, `admin`, `owner`, `outcast` (banned) or `none`. Answers
    /// once the room agreed.
    pub async fn set_affiliation(
        &self,
        account: AccountId,
        room: &str,
        jid: &str,
        affiliation: Affiliation,
        reason: Option<&str>,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let jid = parse_bare_jid(jid)?;
        let query = admin::set_affiliation(&jid, affiliation, reason);
        self.iq(account, Some(room), true, query).await.map(|_| ())
    }

    /// Everyone with `affiliation` in `room` (members, admins, owners or
    /// the banned), as the room lists them to us.
    pub async fn affiliations(
        &self,
        account: AccountId,
        room: &str,
        affiliation: Affiliation,
    ) -> Result<Vec<Affiliated>, CoreError> {
        let room = parse_bare_jid(room)?;
        let answer = self
            .iq(account, Some(room), false, admin::list_request(affiliation))
            .await?;
        answer
            .as_ref()
            .and_then(|a| admin::parse_list(a, affiliation))
            .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "the room sent no list"))
    }

    /// The room's current name, description and members-only setting, from
    /// its configuration form (owners only: others get `forbidden`).
    pub async fn room_settings(
        &self,
        account: AccountId,
        room: &str,
    ) -> Result<RoomSettings, CoreError> {
        let room = parse_bare_jid(room)?;
        let answer = self
            .iq(account, Some(room), false, roomconfig::form_query())
            .await?;
        answer
            .as_ref()
            .and_then(roomconfig::read_settings)
            .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "the room sent no form"))
    }

    /// Changes the room's name, description and members-only setting: its
    /// configuration form is fetched and submitted with these values (only
    /// the fields it offers; the rest stay as they are). The room's kept
    /// name follows.
    pub async fn set_room_settings(
        &self,
        account: AccountId,
        room: &str,
        settings: &RoomSettings,
    ) -> Result<(), CoreError> {
        let room = parse_bare_jid(room)?;
        let answer = self
            .iq(account, Some(room.clone()), false, roomconfig::form_query())
            .await?;
        let submit = answer
            .as_ref()
            .and_then(|a| roomconfig::submit_settings(a, settings))
            .ok_or_else(|| CoreError::new(ErrorCode::Protocol, "the room sent no form"))?;
        self.iq(account, Some(room.clone()), true, submit).await?;
        // The name it is listed under here follows.
        let name = settings.name.trim();
        if !name.is_empty() {
            if let Some(kept) = self.store(|s| s.room(account, room.as_str()))? {
                self.store(|s| s.set_room_name(kept.id, name))?;
            }
        }
        Ok(())
    }
}
