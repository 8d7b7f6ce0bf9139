//! The core handle's contact list: adding, editing, removing and
//! answering (RFC 6121), typing notifications (XEP-0085), blocking and
//! reporting (XEP-0191, XEP-0377) and last activity (XEP-0012).

use crate::*;

impl Core {
    /// Adds `jid` to the contact list (with an optional name and group),
    /// asks to see their presence and pre-approves their request to see
    /// ours (RFC 6121 §3.4). Resolves once the server accepted the roster
    /// change; the contact then arrives as `ContactChanged`.
    pub async fn add_contact(
        &self,
        account: AccountId,
        jid: &str,
        name: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let op = RosterOp::Add {
            jid,
            name: name.map(str::to_owned),
            groups: group.map(|g| vec![g.to_owned()]).unwrap_or_default(),
        };
        self.roster_op(account, op).await
    }

    /// Renames a contact and sets their groups.
    pub async fn edit_contact(
        &self,
        account: AccountId,
        jid: &str,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let op = RosterOp::Edit {
            jid,
            name: name.map(str::to_owned),
            groups: groups.to_vec(),
        };
        self.roster_op(account, op).await
    }

    /// Removes a contact, which cancels the subscriptions both ways.
    pub async fn remove_contact(&self, account: AccountId, jid: &str) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.roster_op(account, RosterOp::Remove { jid }).await
    }

    /// Answers `jid`'s request to see our presence (`SubscriptionRequest`):
    /// accepting also asks to see theirs, unless we already do.
    pub async fn answer_subscription(
        &self,
        account: AccountId,
        jid: &str,
        accept: bool,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        self.roster_op(account, RosterOp::Answer { jid, accept })
            .await
    }

    /// Tells `peer` our chat state (XEP-0085), e.g. that we are typing.
    /// Only contacts learn it (it shows that we are online), and only while
    /// connected; otherwise nothing is sent.
    pub async fn send_chat_state(
        &self,
        account: AccountId,
        peer: &str,
        state: ChatState,
    ) -> Result<(), CoreError> {
        let to = parse_bare_jid(peer)?;
        self.send_command(account, Command::ChatState { to, state })
            .await;
        Ok(())
    }

    /// Blocks (`block`) or unblocks `jid` (XEP-0191): the server then drops
    /// everything from them and tells them nothing about us.
    pub async fn block(&self, account: AccountId, jid: &str, block: bool) -> Result<(), CoreError> {
        self.block_with(account, jid, block, false).await
    }

    /// Blocks `jid` and reports them as spam with the block (XEP-0377),
    /// where the server takes reports ([`Core::can_report`]); elsewhere it
    /// only blocks.
    pub async fn block_and_report(&self, account: AccountId, jid: &str) -> Result<(), CoreError> {
        self.block_with(account, jid, true, true).await
    }

    async fn block_with(
        &self,
        account: AccountId,
        jid: &str,
        block: bool,
        report: bool,
    ) -> Result<(), CoreError> {
        let jid = parse_bare_jid(jid)?;
        let (reply, answer) = oneshot::channel();
        let command = Command::Block {
            jid,
            block,
            report,
            reply,
        };
        self.round_trip(account, command, answer).await
    }

    /// Whether the account's server advertises spam reporting (XEP-0377,
    /// `urn:xmpp:reporting:1` on its disco#info) since its last bind:
    /// only then is "Block and report" offered.
    pub fn can_report(&self, account: AccountId) -> bool {
        self.reporting
            .lock()
            .ok()
            .and_then(|all| all.get(&account).map(|r| r.load(Ordering::SeqCst)))
            .unwrap_or(false)
    }

    /// The blocked JIDs, from the server, sorted.
    pub async fn blocked(&self, account: AccountId) -> Result<Vec<String>, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.round_trip(account, Command::Blocklist { reply }, answer)
            .await
    }

    /// How many seconds ago `jid` was last online, as their server answers
    /// (XEP-0012); `None` if it does not know or tell.
    pub async fn last_activity(
        &self,
        account: AccountId,
        jid: &str,
    ) -> Result<Option<u64>, CoreError> {
        let jid = parse_bare_jid(jid)?;
        let (reply, answer) = oneshot::channel();
        let asked = self.round_trip(account, Command::LastActivity { jid, reply }, answer);
        tokio::time::timeout(std::time::Duration::from_secs(15), asked)
            .await
            .unwrap_or_else(|_| {
                Err(CoreError::new(
                    ErrorCode::Timeout,
                    "no answer about last activity",
                ))
            })
    }

    async fn roster_op(&self, account: AccountId, op: RosterOp) -> Result<(), CoreError> {
        let (reply, answer) = oneshot::channel();
        self.round_trip(account, Command::Roster { op, reply }, answer)
            .await
    }

    /// The cached roster of an account.
    pub fn contacts(&self, account: AccountId) -> Result<Vec<RosterEntry>, CoreError> {
        self.store(|s| s.contacts(account))
    }
}
