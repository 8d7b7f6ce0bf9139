//! History paging: a chat view's pages, from the store and, where the
//! store runs out, from the server's archive (XEP-0313).

use charla_core::{AccountId, Core, CoreError, Message, MessageId};

/// How many messages a chat view loads at a time.
pub const PAGE: u32 = 50;

/// A page of stored history before `before` (or the newest). When the
/// store runs out, older history is fetched from the server's archive
/// first, as long as the account is online; offline, or if the archive
/// fails, the stored part is the answer.
pub async fn page_with_archive(
    core: &Core,
    account: AccountId,
    peer: &str,
    before: Option<MessageId>,
) -> Result<Vec<Message>, CoreError> {
    let mut page = core.history(account, peer, before, PAGE)?;
    // A fetch can bring only rows we already have; try a few pages.
    for _ in 0..3 {
        if page.len() >= PAGE as usize {
            break;
        }
        match core.fetch_older(account, peer).await {
            Ok(fetched) => {
                page = core.history(account, peer, before, PAGE)?;
                if fetched.complete {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_store::{Direction, NewMessage, Store};

    #[tokio::test]
    async fn offline_the_stored_pages_are_the_answer() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("charla.sqlite3");
        let account = {
            let mut store = Store::open(&path).expect("store");
            let account = store.upsert_account("me@example.org").expect("account");
            let messages: Vec<NewMessage> = (1..=60)
                .map(|i| NewMessage {
                    unstyled: false,
                    reply: None,
                    account,
                    peer: "bob@example.org".into(),
                    direction: Direction::In,
                    sender: "bob@example.org/phone".into(),
                    body: format!("message {i}"),
                    server_time: None,
                    origin_id: None,
                    stanza_id: None,
                    stanza_id_by: None,
                    wire_id: None,
                    markable: false,
                    receipt_owed: false,
                })
                .collect();
            store.insert_incoming_batch(&messages).expect("insert");
            account
        };
        let (core, _events) = Core::open(&path).expect("core");
        let newest = page_with_archive(&core, account, "bob@example.org", None)
            .await
            .expect("page");
        assert_eq!(newest.len(), PAGE as usize);
        // Newest first.
        assert_eq!(newest[0].body, "message 60");
        let oldest = newest.last().expect("a page");
        assert_eq!(oldest.body, "message 11");
        // The rest, short of a page: the archive cannot be asked offline.
        let older = page_with_archive(&core, account, "bob@example.org", Some(oldest.id))
            .await
            .expect("older page");
        let bodies: Vec<_> = older.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies.len(), 10);
        assert_eq!((bodies[0], bodies[9]), ("message 10", "message 1"));
    }
}
