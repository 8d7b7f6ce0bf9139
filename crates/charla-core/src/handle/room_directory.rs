//! The core handle's room discovery (XEP-0045 §6 over XEP-0030): the
//! account's group chat services, the public rooms one lists, and what a
//! room says of itself. Each answer is accepted only from whom it was
//! asked of.

use xmpp_parsers::disco::DiscoInfoQuery;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

use crate::muc::directory::{self, PublicRoom, RoomInfo};
use crate::*;

/// Items of the server asked whether they are a group chat service.
const MAX_SERVICES_ASKED: usize = 20;

impl Core {
    /// The group chat services of the account's server (its disco#items
    /// whose disco#info is a text conference service), in the server's
    /// order; empty if it has none.
    pub async fn room_services(&self, account: AccountId) -> Result<Vec<String>, CoreError> {
        let own = self.account_jid(account)?;
        let server = BareJid::new(own.domain().as_str())?;
        let items = self
            .iq(account, Some(server), false, items_query())
            .await?
            .map(|answer| directory::parse_items(&answer))
            .unwrap_or_default();
        let mut services = Vec::new();
        for item in items.into_iter().take(MAX_SERVICES_ASKED) {
            let Ok(jid) = BareJid::new(&item.jid) else {
                continue;
            };
            // An item that does not answer is not a service we can use.
            let info = self.iq(account, Some(jid), false, info_query()).await;
            if let Ok(Some(answer)) = info {
                if directory::is_room_service(&answer) {
                    services.push(item.jid);
                }
            }
        }
        Ok(services)
    }

    /// The rooms the service `service` (a domain, such as
    /// `conference.example.org`) lists: its public rooms, at most
    /// [`directory::MAX_ITEMS`].
    pub async fn public_rooms(
        &self,
        account: AccountId,
        service: &str,
    ) -> Result<Vec<PublicRoom>, CoreError> {
        let service = parse_service(service)?;
        self.account_jid(account)?;
        Ok(self
            .iq(account, Some(service), false, items_query())
            .await?
            .map(|answer| directory::parse_items(&answer))
            .unwrap_or_default())
    }

    /// What the room `room` says of itself (its name, description, kind,
    /// and whether occupants may change its subject). Fails with
    /// `not_found` if there is no such room.
    pub async fn room_info(&self, account: AccountId, room: &str) -> Result<RoomInfo, CoreError> {
        let room = parse_bare_jid(room)?;
        self.iq(account, Some(room), false, info_query())
            .await?
            .as_ref()
            .and_then(directory::parse_info)
            .ok_or_else(|| CoreError::new(ErrorCode::NotFound, "that address is not a room"))
    }
}

fn items_query() -> Element {
    Element::builder("query", ns::DISCO_ITEMS).build()
}

fn info_query() -> Element {
    DiscoInfoQuery { node: None }.into()
}

/// A service's address: a domain, without user or resource.
fn parse_service(input: &str) -> Result<BareJid, CoreError> {
    let jid = BareJid::new(input.trim())?;
    if jid.node().is_some() {
        return Err(CoreError::new(
            ErrorCode::InvalidJid,
            "a group chat service is a domain, not a user@domain address",
        ));
    }
    Ok(jid)
}
