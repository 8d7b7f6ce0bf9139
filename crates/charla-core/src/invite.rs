//! Invitations to rooms: direct (XEP-0249, from the inviter) and mediated
//! (XEP-0045 §7.8.2, sent by the room on the inviter's behalf), both read;
//! ours go through the room (in a members-only room that also makes the
//! invitee a member). Parsers and builders only; the session decides what
//! an invitation does: from a contact it is an offer to join, from a
//! stranger a message request, and it is never joined by itself.

use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::minidom::rxml::xml_ncname;
use xmpp_parsers::minidom::Element;

/// XEP-0249's namespace.
const CONFERENCE: &str = "jabber:x:conference";
/// XEP-0045's user namespace.
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// Longest reason or password kept (bytes).
const MAX_TEXT: usize = 1_024;

/// An invitation to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The room.
    pub room: BareJid,
    /// Who invites (for a mediated invitation, as the room tells): a
    /// bare JID, or in a room that hides addresses the inviter's occupant
    /// JID (`room/nick`), known only by nick.
    pub inviter: Jid,
    /// Why, in the inviter's words.
    pub reason: Option<String>,
    /// The room's password, if the invitation carries it.
    pub password: Option<String>,
}

fn capped(text: &str) -> Option<String> {
    let text = text.trim();
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (end > 0).then(|| text[..end].to_owned())
}

/// A room address: a bare JID with a local part.
fn room(jid: &str) -> Option<BareJid> {
    let jid = BareJid::new(jid).ok()?;
    jid.node().is_some().then_some(jid)
}

/// The invitation `msg` carries, if any. A direct one names its inviter by
/// `from`; a mediated one must come from the room's bare JID, and names
/// the inviter inside.
pub(crate) fn parse(msg: &Message) -> Option<Invite> {
    let from = msg.from.as_ref()?;
    if msg.type_ == MessageType::Error || msg.type_ == MessageType::Groupchat {
        return None;
    }
    // A room forwarding an invitation may add a direct one too (Prosody
    // and ejabberd do, naming the room as its sender): the mediated one
    // names the inviter, so it is read first.
    if let Some(x) = msg.payloads.iter().find(|p| p.is("x", MUC_USER)) {
        if let Some(invite) = x.get_child("invite", MUC_USER) {
            if from.resource().is_some() {
                return None;
            }
            // XEP-0045 §7.8.2: the bare, full or occupant JID of the inviter.
            let named = Jid::new(invite.attr("from")?).ok()?;
            let inviter = match named.resource() {
                Some(_) if named.to_bare() == from.to_bare() => named,
                _ => Jid::from(named.to_bare()),
            };
            return Some(Invite {
                room: room(from.to_bare().as_str())?,
                inviter,
                reason: invite
                    .get_child("reason", MUC_USER)
                    .and_then(|r| capped(&r.text())),
                password: x
                    .get_child("password", MUC_USER)
                    .and_then(|p| capped(&p.text())),
            });
        }
    }
    let x = msg.payloads.iter().find(|p| p.is("x", CONFERENCE))?;
    let room = room(x.attr("jid")?)?;
    if from.to_bare() == room {
        // A room does not invite on its own behalf.
        return None;
    }
    Some(Invite {
        room,
        inviter: Jid::from(from.to_bare()),
        reason: x.attr("reason").and_then(capped),
        password: x.attr("password").and_then(capped),
    })
}

/// A mediated invitation (XEP-0045 §7.8.2): asks `room` to invite `to`,
/// which in a members-only room also makes them a member.
pub(crate) fn mediated(room: &BareJid, to: &BareJid, reason: Option<&str>) -> Message {
    let mut invite =
        Element::builder("invite", MUC_USER).attr(xml_ncname!("to").to_owned(), to.as_str());
    if let Some(reason) = reason {
        invite = invite.append(Element::builder("reason", MUC_USER).append(reason));
    }
    let mut msg = Message::new(Some(Jid::from(room.clone())));
    msg.type_ = MessageType::Normal;
    msg.payloads
        .push(Element::builder("x", MUC_USER).append(invite).build());
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    #[test]
    fn a_direct_invitation_names_its_sender() {
        let m = message(
            "<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org'>\
               <x xmlns='jabber:x:conference' jid='family@conference.example.org' \
                  reason='Sunday lunch' password='cake'/></message>",
        );
        assert_eq!(
            parse(&m),
            Some(Invite {
                room: BareJid::new("family@conference.example.org").expect("jid"),
                inviter: Jid::new("bob@example.org").expect("jid"),
                reason: Some("Sunday lunch".into()),
                password: Some("cake".into()),
            })
        );
    }

    #[test]
    fn a_mediated_invitation_comes_from_the_room_and_names_the_inviter() {
        let m = message(
            "<message xmlns='jabber:client' from='family@conference.example.org' to='alice@example.org'>\
               <x xmlns='http://jabber.org/protocol/muc#user'>\
                 <invite from='bob@example.org/phone'><reason>Join us</reason></invite>\
                 <password>cake</password></x></message>",
        );
        let invite = parse(&m).expect("invite");
        assert_eq!(invite.room.as_str(), "family@conference.example.org");
        assert_eq!(invite.inviter.as_str(), "bob@example.org");
        assert_eq!(invite.reason.as_deref(), Some("Join us"));
        assert_eq!(invite.password.as_deref(), Some("cake"));
    }

    #[test]
    fn an_inviter_known_only_by_nick_is_named_by_their_occupant_jid() {
        // A semi-anonymous room (Prosody's default) names the inviter by
        // their occupant JID; a full JID elsewhere is taken bare.
        let xml = |from: &str| {
            format!(
                "<message xmlns='jabber:client' from='trap@conference.example.org' to='alice@example.org'>\
                   <x xmlns='http://jabber.org/protocol/muc#user'><invite from='{from}'/></x></message>"
            )
        };
        let inviter = |from: &str| {
            parse(
                &xml(from)
                    .parse::<Element>()
                    .expect("xml")
                    .try_into()
                    .expect("message"),
            )
            .map(|i| i.inviter.to_string())
        };
        assert_eq!(
            inviter("trap@conference.example.org/mallory").as_deref(),
            Some("trap@conference.example.org/mallory")
        );
        assert_eq!(
            inviter("bob@example.org/phone").as_deref(),
            Some("bob@example.org")
        );
    }

    #[test]
    fn a_forwarded_invitation_with_a_direct_copy_names_the_inviter_not_the_room() {
        let m = message(
            "<message xmlns='jabber:client' from='family@conference.example.org' to='alice@example.org'>\
               <x xmlns='jabber:x:conference' jid='family@conference.example.org'/>\
               <x xmlns='http://jabber.org/protocol/muc#user'>\
                 <invite from='bob@example.org/phone'/></x></message>",
        );
        assert_eq!(
            parse(&m).map(|i| i.inviter.to_string()),
            Some("bob@example.org".into())
        );
        // The direct copy alone: no inviter but the room itself.
        let m = message(
            "<message xmlns='jabber:client' from='family@conference.example.org'>\
               <x xmlns='jabber:x:conference' jid='family@conference.example.org'/></message>",
        );
        assert_eq!(parse(&m), None);
    }

    #[test]
    fn a_mediated_invitation_from_an_occupant_or_a_bad_room_is_none() {
        for xml in [
            // Not from the room's bare JID.
            "<message xmlns='jabber:client' from='family@conference.example.org/mallory'>\
               <x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org'/></x></message>",
            // No inviter.
            "<message xmlns='jabber:client' from='family@conference.example.org'>\
               <x xmlns='http://jabber.org/protocol/muc#user'><invite/></x></message>",
            // A direct one to a "room" without a local part.
            "<message xmlns='jabber:client' from='bob@example.org'>\
               <x xmlns='jabber:x:conference' jid='conference.example.org'/></message>",
            // A groupchat line is never an invitation.
            "<message xmlns='jabber:client' type='groupchat' from='family@conference.example.org/bob'>\
               <x xmlns='jabber:x:conference' jid='other@conference.example.org'/></message>",
        ] {
            assert_eq!(parse(&message(xml)), None, "{xml}");
        }
    }

    #[test]
    fn the_invitations_we_send_go_through_the_room() {
        let room = BareJid::new("family@conference.example.org").expect("jid");
        let bob = BareJid::new("bob@example.org").expect("jid");
        let mediated = String::from(&Element::from(mediated(&room, &bob, None)));
        assert!(
            mediated.contains("to='family@conference.example.org'"),
            "{mediated}"
        );
        assert!(
            mediated.contains("<invite to='bob@example.org'/>"),
            "{mediated}"
        );
    }
}
