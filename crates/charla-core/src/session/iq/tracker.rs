//! The IQs we sent and await (RFC 6120 §8.2.3): each request gets an
//! answer or, after [`IQ_TIMEOUT`], gives up, so that nothing waits for a
//! server or contact that never answers (before, a request waited until
//! the next bind, and the command that asked hung).

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// How long an IQ request waits for its answer.
pub(super) const IQ_TIMEOUT: Duration = Duration::from_secs(30);

/// Requests by id, each with what to do with its answer (`P`) and when to
/// stop waiting.
#[derive(Debug)]
pub(crate) struct Tracker<P> {
    pending: HashMap<String, (P, Instant)>,
    timeout: Duration,
}

impl<P> Default for Tracker<P> {
    fn default() -> Self {
        Self::with_timeout(IQ_TIMEOUT)
    }
}

impl<P> Tracker<P> {
    pub(crate) fn with_timeout(timeout: Duration) -> Self {
        Self {
            pending: HashMap::new(),
            timeout,
        }
    }

    /// Awaits the answer to request `id`, until the timeout from now.
    pub(crate) fn insert(&mut self, id: String, pending: P) {
        self.pending
            .insert(id, (pending, Instant::now() + self.timeout));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&P> {
        self.pending.get(id).map(|(p, _)| p)
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<P> {
        self.pending.remove(id).map(|(p, _)| p)
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&P) -> bool) {
        self.pending.retain(|_, (p, _)| keep(p));
    }

    /// Forgets every request (a new stream: their answers can never come;
    /// whoever waits for one sees its reply channel close).
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    /// When the next request times out.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|(_, at)| *at).min()
    }

    /// Takes the requests whose time is up at `now`.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<P> {
        let ids: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_times_out_once_and_an_answered_one_never() {
        let mut t = Tracker::with_timeout(Duration::from_secs(30));
        t.insert("a".into(), 1);
        tokio::time::advance(Duration::from_secs(10)).await;
        t.insert("b".into(), 2);
        assert_eq!(
            t.next_deadline(),
            Some(Instant::now() + Duration::from_secs(20))
        );
        assert!(t.expired(Instant::now()).is_empty());
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(t.expired(Instant::now()), [1]);
        assert_eq!(t.remove("b"), Some(2));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(t.expired(Instant::now()).is_empty());
        assert_eq!(t.next_deadline(), None);
    }
}
