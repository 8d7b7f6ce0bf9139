//! The core handle's avatars (XEP-0084, XEP-0153) and profiles (XEP-0292,
//! XEP-0054, XEP-0172).

use crate::*;

impl Core {
    /// The recorded avatar hash of each contact (and of the account itself),
    /// by bare JID: they show offline and after a restart without a fetch.
    pub fn avatars(&self, account: AccountId) -> Result<HashMap<String, String>, CoreError> {
        Ok(self.store(|s| s.avatars(account))?.into_iter().collect())
    }

    /// The cached image of avatar `hash`, with its type (`image/png`...).
    pub fn avatar_image(&self, hash: &str) -> Option<(&'static str, Vec<u8>)> {
        self.avatars.read(hash)
    }

    /// The file of the cached avatar `hash`, e.g. for a notification.
    pub fn avatar_file(&self, hash: &str) -> Option<std::path::PathBuf> {
        self.avatars.path(hash)
    }

    /// The file of `jid`'s current avatar, if they have one and it is cached.
    pub fn avatar_file_of(&self, account: AccountId, jid: &str) -> Option<std::path::PathBuf> {
        let hash = self.store(|s| s.avatar(account, jid)).ok()??;
        self.avatars.path(&hash)
    }

    /// Sets our avatar from an image file (PNG or JPEG; `None` removes it):
    /// scaled to at most 192 px, encoded as PNG and published both ways,
    /// as PEP data then metadata (XEP-0084) and as the vcard-temp photo,
    /// whose hash then goes into our presence (XEP-0153). Fails only if
    /// neither could be published. Returns the new hash.
    pub async fn set_avatar(
        &self,
        account: AccountId,
        file: Option<&Path>,
    ) -> Result<Option<String>, CoreError> {
        let avatar = match file {
            Some(path) => {
                let path = path.to_owned();
                Some(off_thread(move || avatar::from_file(&path)).await?)
            }
            None => None,
        };
        self.publish_avatar(account, avatar).await
    }

    /// Like [`Core::set_avatar`], from the image file's bytes.
    pub async fn set_avatar_image(
        &self,
        account: AccountId,
        image: Option<Vec<u8>>,
    ) -> Result<Option<String>, CoreError> {
        let avatar = match image {
            Some(bytes) => Some(off_thread(move || avatar::scale(&bytes)).await?),
            None => None,
        };
        self.publish_avatar(account, avatar).await
    }

    async fn publish_avatar(
        &self,
        account: AccountId,
        avatar: Option<avatar::OwnAvatar>,
    ) -> Result<Option<String>, CoreError> {
        self.account_jid(account)?;
        if let Some(a) = &avatar {
            // Cached first: our own metadata event then finds it.
            self.avatars.put(&a.hash, &a.png)?;
        }
        let pep = async {
            if let Some(a) = &avatar {
                self.iq(account, None, true, avatar::publish_data(a).into())
                    .await?;
            }
            self.iq(
                account,
                None,
                true,
                avatar::publish_metadata(avatar.as_ref()).into(),
            )
            .await
        }
        .await;
        let vcard = async {
            let current = self.own_vcard_temp(account).await?;
            let edited = avatar::with_photo(current, avatar.as_ref());
            self.iq(account, None, true, edited.into()).await
        }
        .await;
        if let (Err(e), Err(v)) = (&pep, &vcard) {
            log::warn!("avatar not published: PEP {e:?}, vCard {v:?}");
            return Err(e.clone());
        }
        let hash = avatar.map(|a| a.hash);
        self.send_command(account, Command::OwnAvatar { hash: hash.clone() })
            .await;
        Ok(hash)
    }

    /// `jid`'s profile: their vCard4 (XEP-0292), else their vcard-temp
    /// (XEP-0054). Our own account's JID gives our own.
    pub async fn profile(&self, account: AccountId, jid: &str) -> Result<Profile, CoreError> {
        let jid = parse_bare_jid(jid)?;
        let own = self.account_jid(account)?;
        let to = (jid != own).then_some(jid);
        if let Ok(answer) = self
            .iq(account, to.clone(), false, vcard::vcard4_request().into())
            .await
        {
            if let Some(profile) = vcard::parse_vcard4_items(answer) {
                return Ok(profile);
            }
        }
        let answer = self
            .iq(account, to, false, xmpp_parsers::vcard::VCardQuery.into())
            .await;
        match answer {
            Ok(payload) => Ok(vcard::parse_vcard_temp(payload).unwrap_or_default()),
            // No vCard at all is an empty profile.
            Err(e) if e.is_refusal() => Ok(Profile::default()),
            Err(e) => Err(e),
        }
    }

    /// Sets our full name and nickname: published as vCard4 (XEP-0292),
    /// in our vcard-temp (other fields kept) and, the nickname, as
    /// XEP-0172. Fails only if neither vCard could be published.
    pub async fn set_profile(
        &self,
        account: AccountId,
        full_name: Option<&str>,
        nickname: Option<&str>,
    ) -> Result<(), CoreError> {
        let full_name = vcard::field(full_name)?;
        let nickname = vcard::field(nickname)?;
        let (fn_, nick) = (full_name.as_deref(), nickname.as_deref());
        let temp = async {
            let current = self.own_vcard_temp(account).await?;
            let edited = vcard::edit_vcard_temp(current, fn_, nick);
            self.iq(account, None, true, edited.into()).await
        }
        .await;
        let v4 = async {
            // What else the published vCard4 holds (e-mail, phone...) stays.
            let current = self
                .iq(account, None, false, vcard::vcard4_request().into())
                .await
                .ok()
                .and_then(vcard::vcard4_of_items);
            let edited = vcard::vcard4(current, fn_, nick);
            self.iq(
                account,
                None,
                true,
                avatar::publish(vcard::VCARD4_NODE, "current", edited).into(),
            )
            .await
        }
        .await;
        if let Some(nick) = nick {
            let published = self
                .iq(
                    account,
                    None,
                    true,
                    avatar::publish(xmpp_parsers::ns::NICK, "current", vcard::nick(nick)).into(),
                )
                .await;
            if let Err(e) = published {
                log::info!("nickname not published (XEP-0172): {e:?}");
            }
        }
        match (temp, v4) {
            (Err(e), Err(_)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Our vcard-temp as the server has it (empty if we have none).
    async fn own_vcard_temp(
        &self,
        account: AccountId,
    ) -> Result<xmpp_parsers::vcard::VCard, CoreError> {
        let empty = || xmpp_parsers::vcard::VCard {
            photo: None,
            payloads: vec![],
        };
        match self
            .iq(account, None, false, xmpp_parsers::vcard::VCardQuery.into())
            .await
        {
            Ok(Some(el)) => {
                Ok(xmpp_parsers::vcard::VCard::try_from(el).unwrap_or_else(|_| empty()))
            }
            Ok(None) => Ok(empty()),
            Err(e) if e.is_refusal() => Ok(empty()),
            Err(e) => Err(e),
        }
    }
}
