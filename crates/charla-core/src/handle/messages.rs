//! The core handle's messages: sending (through the outbox), retrying,
//! read markers, history pages (local, then older from the archive) and
//! message requests.

use crate::*;

impl Core {
    /// Queues a chat message: it is committed as `pending` and announced
    /// before anything goes on the wire, and sent as soon as the account
    /// is online (now, or after the next connect).
    pub async fn send_message(
        &self,
        account: AccountId,
        to: &str,
        body: &str,
    ) -> Result<Message, CoreError> {
        let to = parse_bare_jid(to)?;
        self.queue_message(account, &to, body, None).await
    }

    /// [`Core::send_message`], answering `reply` if given.
    pub(crate) async fn queue_message(
        &self,
        account: AccountId,
        to: &xmpp_parsers::jid::BareJid,
        body: &str,
        reply: Option<&charla_store::ReplyRef>,
    ) -> Result<Message, CoreError> {
        chat::check_body(body)?;
        self.account_jid(account)?;
        let origin_id = uuid::Uuid::new_v4().to_string();
        let message =
            self.store(|s| s.insert_outgoing(account, to.as_str(), body, &origin_id, reply))?;
        let _ = self
            .events
            .send(Event::MessageAdded {
                account,
                message: message.clone(),
                stranger: false,
            })
            .await;
        self.send_command(account, Command::Flush).await;
        Ok(message)
    }

    /// Sends a message that failed again (the user's retry): it goes back
    /// to `pending` in the outbox, is announced, and is sent when the
    /// account is online. Fails with `InvalidInput` if `message_id` is not
    /// a failed outgoing message of `account`.
    pub async fn retry(
        &self,
        account: AccountId,
        message_id: MessageId,
    ) -> Result<Message, CoreError> {
        let message = self
            .store(|s| match s.message(message_id)? {
                Some(m) if m.account_id == account => s.retry_outgoing(message_id),
                _ => Ok(None),
            })?
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::InvalidInput,
                    "no failed message of ours to retry",
                )
            })?;
        let _ = self
            .events
            .send(Event::MessageUpdated {
                account,
                message: message.clone(),
            })
            .await;
        self.send_command(account, Command::Flush).await;
        Ok(message)
    }

    /// Tells `peer` that the user has seen their message `message_id` (and,
    /// by XEP-0333's meaning, everything before it): sends a displayed
    /// marker naming the message's `id` attribute, if the sender marked it
    /// `<markable/>` (otherwise nothing is sent). The shell calls this when
    /// a chat view shows the newest incoming message while the window has
    /// focus.
    ///
    /// Nothing is stored and nothing is queued: a marker is only worth
    /// sending while connected, so this fails with `NotConnected` offline.
    /// The message must be an incoming one of this account's conversation
    /// with `peer`, else `InvalidInput`.
    pub async fn mark_displayed(
        &self,
        account: AccountId,
        peer: &str,
        message_id: MessageId,
    ) -> Result<(), CoreError> {
        let peer = parse_bare_jid(peer)?;
        let message = self
            .store(|s| s.message(message_id))?
            .filter(|m| {
                m.account_id == account && m.peer == peer.as_str() && m.direction == Direction::In
            })
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::InvalidInput,
                    "no such incoming message in this conversation",
                )
            })?;
        // Only messages the sender marked markable get a marker, naming the
        // id the sender gave it.
        let Some(id) = self.store(|s| s.marker_id(message.id))? else {
            return Ok(());
        };
        if self
            .send_command(account, Command::MarkDisplayed { to: peer, id })
            .await
        {
            Ok(())
        } else {
            Err(CoreError::new(
                ErrorCode::NotConnected,
                "the account is not connected",
            ))
        }
    }

    /// One page of a conversation's history, newest first, older than
    /// `before` (or the newest page if `None`).
    pub fn history(
        &self,
        account: AccountId,
        peer: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| {
            let conversation = s.conversation(account, peer.as_str())?;
            s.history_page(conversation, before, limit.min(MAX_PAGE))
        })
    }

    /// Fetches the page of the chat with `peer` before everything stored,
    /// from the server's archive (XEP-0313), when scrolling up past local
    /// history. The rows are stored before all others (history is ordered
    /// by row id) and not announced as new messages: read them with
    /// [`Core::history`]. Fails with `NotConnected` offline.
    pub async fn fetch_older(
        &self,
        account: AccountId,
        peer: &str,
    ) -> Result<OlderHistory, CoreError> {
        let peer = parse_bare_jid(peer)?;
        let (reply, answer) = oneshot::channel();
        self.round_trip(account, Command::FetchOlder { peer, reply }, answer)
            .await
    }

    /// Whether `jid` is a stranger to the account: not in its roster and
    /// never written to. Their messages are message requests.
    pub fn is_stranger(&self, account: AccountId, jid: &str) -> Result<bool, CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.store(|s| s.is_stranger(account, jid.as_str()))
    }

    /// The account's message requests (conversations with strangers),
    /// newest first. Answering one or adding its sender makes it an
    /// ordinary chat.
    pub fn message_requests(&self, account: AccountId) -> Result<Vec<MessageRequest>, CoreError> {
        self.store(|s| s.message_requests(account))
    }

    /// Deletes the account's conversation with `peer` and every message of
    /// it stored here, in one transaction (not the server's archive).
    /// Returns how many messages went.
    pub fn delete_conversation(&self, account: AccountId, peer: &str) -> Result<u32, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| s.delete_conversation(account, peer.as_str()))
    }

    /// How many incoming messages in the chat with `peer` are newer than
    /// `after` (what is still unread after a [`Event::ChatRead`]).
    pub fn incoming_after(
        &self,
        account: AccountId,
        peer: &str,
        after: MessageId,
    ) -> Result<u32, CoreError> {
        let peer = parse_bare_jid(peer)?;
        self.store(|s| s.incoming_after(account, peer.as_str(), after))
    }
}
