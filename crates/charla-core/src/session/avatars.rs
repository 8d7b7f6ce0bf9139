//! Avatars: contacts' (and our own) from PEP metadata (XEP-0084) or a
//! presence photo hash (XEP-0153), fetched once per hash, verified and
//! cached; ours also goes into our presence.

use std::collections::{HashMap, HashSet};

use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

use super::engine::Engine;
use super::iq::{new_id, PendingIq};
use crate::avatar::{self, Advert};
use crate::event::Event;

/// The avatar state of a session.
pub(super) struct Avatars {
    /// The avatar image cache.
    cache: avatar::Cache,
    /// Our own avatar hash as we advertise it (XEP-0153): `None` while
    /// unknown, `Some(None)` for no avatar.
    pub own: Option<Option<String>>,
    /// Avatar images being fetched, by hash, with the contacts that
    /// advertised each (one fetch per hash).
    fetches: HashMap<String, Vec<BareJid>>,
    /// Contacts whose PEP avatar metadata (XEP-0084) we received on this
    /// stream: their XEP-0153 presence hashes are then ignored.
    pep: HashSet<BareJid>,
}

impl Avatars {
    pub fn new(cache: avatar::Cache) -> Avatars {
        Avatars {
            cache,
            own: None,
            fetches: HashMap::new(),
            pep: HashSet::new(),
        }
    }

    /// A fresh stream: fetches in flight are void.
    pub fn new_stream(&mut self) {
        self.fetches.clear();
        self.pep.clear();
    }
}

impl Engine {
    /// What `jid` says about their avatar: PEP metadata (`pep`) or a
    /// presence photo hash. Only a contact or our own account is heard; a
    /// PEP avatar wins over the presence hash.
    pub(super) fn on_avatar_advert(&mut self, jid: BareJid, advert: Advert, pep: bool) {
        if jid != self.own && !self.is_contact(&jid) {
            return log::debug!("avatar of a stranger ignored: {jid}");
        }
        if pep {
            self.avatars.pep.insert(jid.clone());
        } else if self.avatars.pep.contains(&jid) {
            return;
        }
        let (hash, bytes) = match advert {
            Advert::None => return self.set_avatar(&jid, None),
            Advert::Hash { hash, bytes } => (hash, bytes),
        };
        if self.avatars.cache.path(&hash).is_some() {
            // Never fetched twice.
            return self.set_avatar(&jid, Some(hash));
        }
        let too_big =
            bytes.is_some_and(|b| usize::try_from(b).map_or(true, |b| b > avatar::MAX_BYTES));
        if !self.avatars.cache.enabled() || too_big || !avatar::is_hash(&hash) {
            return log::info!("avatar {hash} of {jid} not fetched");
        }
        if let Some(waiting) = self.avatars.fetches.get_mut(&hash) {
            if !waiting.contains(&jid) {
                waiting.push(jid);
            }
            return;
        }
        self.avatars.fetches.insert(hash.clone(), vec![jid.clone()]);
        self.fetch_avatar(jid, hash, pep);
    }

    /// Asks `peer` for the image `hash`: from their PEP, or their vCard.
    fn fetch_avatar(&mut self, peer: BareJid, hash: String, pep: bool) {
        let id = new_id();
        if pep {
            let iq = avatar::data_request(id.clone(), &peer, &hash);
            self.request(id, iq, PendingIq::AvatarData { peer, hash });
        } else {
            let iq = avatar::vcard_request(id.clone(), &peer);
            self.request(id, iq, PendingIq::AvatarVcard { peer, hash });
        }
    }

    /// `peer`'s PEP avatar data for `hash` arrived (or not).
    pub(super) fn on_avatar_data(
        &mut self,
        peer: BareJid,
        hash: String,
        result: Result<Option<Element>, StanzaError>,
    ) {
        match result.ok().and_then(|p| avatar::parse_data(p, &hash)) {
            Some(data) => self.avatar_fetched(&hash, &data),
            // No such item, or data that does not match: try their vCard
            // (XEP-0153) before giving up.
            None => self.fetch_avatar(peer, hash, false),
        }
    }

    /// `peer`'s vCard photo for `hash` arrived (or not).
    pub(super) fn on_avatar_vcard(
        &mut self,
        peer: BareJid,
        hash: String,
        result: Result<Option<Element>, StanzaError>,
    ) {
        match result
            .ok()
            .and_then(|p| avatar::parse_vcard_photo(p, &hash))
        {
            Some(data) => self.avatar_fetched(&hash, &data),
            None => {
                log::info!("no usable avatar {hash} from {peer}");
                self.avatars.fetches.remove(&hash);
            }
        }
    }

    /// A verified image arrived: cached, then it is the avatar of everyone
    /// who advertised it.
    fn avatar_fetched(&mut self, hash: &str, data: &[u8]) {
        let waiting = self.avatars.fetches.remove(hash).unwrap_or_default();
        if let Err(e) = self.avatars.cache.put(hash, data) {
            return self.error(e);
        }
        for jid in waiting {
            self.set_avatar(&jid, Some(hash.to_owned()));
        }
    }

    /// Records `jid`'s avatar and announces it if it changed. Our own goes
    /// into our presence too.
    pub(super) fn set_avatar(&mut self, jid: &BareJid, hash: Option<String>) {
        let account = self.account;
        match self.store(|s| s.set_avatar(account, jid.as_str(), hash.as_deref())) {
            Ok(changed) => {
                if *jid == self.own && self.avatars.own.as_ref() != Some(&hash) {
                    self.avatars.own = Some(hash.clone());
                    if self.presence.sent {
                        self.send_presence();
                    }
                }
                if changed {
                    self.emit(Event::AvatarChanged {
                        account,
                        jid: jid.to_string(),
                        hash,
                    });
                }
            }
            Err(e) => self.error(e),
        }
    }
}
