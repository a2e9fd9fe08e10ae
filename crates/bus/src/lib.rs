//! Coordination between Cobrowse nodes.
//!
//! A session ID must be unique among live sessions and an agent may hold one session at a time.
//! On one node a map would do; in a cluster those facts must live where every node sees them.
//! [`Claims`] is that shared place: exclusive, owner-tagged keys with a time to live, the
//! operations Redis offers as `SET NX PX` and compare-and-delete. [`InProcessClaims`] is the
//! embedded default; the Redis implementation arrives with the scale-out work and must pass the
//! same behaviour tests (`tests` below are written against the trait for that reason).
//!
//! Keys are namespaced strings such as `session:123456789` and `agent:alice`.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Why a claim operation could not be carried out (never "someone else holds it": that is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The coordination backend could not be reached.
    #[error("coordination backend unavailable: {0}")]
    Unavailable(String),
}

/// Exclusive keys with an owner and a time to live.
#[async_trait]
pub trait Claims: Send + Sync + 'static {
    /// Takes `key` for `owner` unless someone else holds it. Re-claiming one's own key refreshes
    /// its time to live and succeeds.
    async fn claim(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, ClaimError>;
    /// Extends `owner`'s hold on `key`; false when the key is not held by `owner` any more.
    async fn refresh(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, ClaimError>;
    /// Gives `key` up if `owner` holds it; false when it did not.
    async fn release(&self, key: &str, owner: &str) -> Result<bool, ClaimError>;
    /// Who holds `key` now, if anyone.
    async fn holder(&self, key: &str) -> Result<Option<String>, ClaimError>;
}

/// Claims held in this process: the single-node default.
///
/// A plain mutex (never held across an await) guards a map; expired entries are treated as
/// absent and swept lazily whenever the map has grown since the last sweep, so memory stays
/// bounded by the number of live claims.
#[derive(Default)]
pub struct InProcessClaims {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (String, Instant)>,
    swept_at_len: usize,
}

impl Entries {
    fn live_holder(&self, key: &str, now: Instant) -> Option<&str> {
        self.map.get(key).filter(|(_, expires)| *expires > now).map(|(owner, _)| owner.as_str())
    }

    fn sweep_if_grown(&mut self, now: Instant) {
        if self.map.len() >= 2 * self.swept_at_len.max(64) {
            self.map.retain(|_, (_, expires)| *expires > now);
            self.swept_at_len = self.map.len();
        }
    }
}

impl InProcessClaims {
    /// An empty set of claims.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries the map holds, expired ones included (for tests of the sweep).
    pub fn stored_len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding this lock cannot leave the map inconsistent (every update is a
        // single insert or remove), so a poisoned lock is safe to keep using.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Claims for InProcessClaims {
    async fn claim(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, ClaimError> {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.live_holder(key, now) {
            Some(holder) if holder != owner => Ok(false),
            _ => {
                entries.map.insert(key.to_owned(), (owner.to_owned(), now + ttl));
                entries.sweep_if_grown(now);
                Ok(true)
            }
        }
    }

    async fn refresh(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, ClaimError> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.live_holder(key, now) == Some(owner) {
            entries.map.insert(key.to_owned(), (owner.to_owned(), now + ttl));
            Ok(true)
        } else {
            Ok(false)
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, ClaimError> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.live_holder(key, now) == Some(owner) {
            entries.map.remove(key);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    async fn holder(&self, key: &str) -> Result<Option<String>, ClaimError> {
        Ok(self.lock().live_holder(key, Instant::now()).map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(30);

    async fn exclusive_and_owner_checked(claims: &dyn Claims) {
        assert!(claims.claim("session:1", "a", TTL).await.unwrap());
        assert!(!claims.claim("session:1", "b", TTL).await.unwrap(), "held by a");
        assert!(claims.claim("session:1", "a", TTL).await.unwrap(), "re-claim refreshes");
        assert!(!claims.release("session:1", "b").await.unwrap(), "b cannot release a's key");
        assert_eq!(claims.holder("session:1").await.unwrap().as_deref(), Some("a"));
        assert!(claims.release("session:1", "a").await.unwrap());
        assert!(claims.claim("session:1", "b", TTL).await.unwrap());
    }

    async fn expiry_frees_the_key(claims: &dyn Claims) {
        assert!(claims.claim("agent:x", "s1", Duration::from_secs(5)).await.unwrap());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(claims.refresh("agent:x", "s1", Duration::from_secs(5)).await.unwrap());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(!claims.claim("agent:x", "s2", TTL).await.unwrap(), "refreshed hold still live");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(claims.claim("agent:x", "s2", TTL).await.unwrap(), "expired hold is free");
        assert!(!claims.refresh("agent:x", "s1", TTL).await.unwrap());
    }

    #[tokio::test]
    async fn in_process_claims_are_exclusive() {
        exclusive_and_owner_checked(&InProcessClaims::new()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn in_process_claims_expire() {
        expiry_frees_the_key(&InProcessClaims::new()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_swept() {
        let claims = InProcessClaims::new();
        for i in 0..1000 {
            claims.claim(&format!("k{i}"), "o", Duration::from_secs(1)).await.unwrap();
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        for i in 0..200 {
            claims.claim(&format!("n{i}"), "o", TTL).await.unwrap();
        }
        assert!(claims.stored_len() < 1000, "expired entries must not pile up: {}", claims.stored_len());
    }
}
