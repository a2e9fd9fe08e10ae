//! Live sessions by ID, ID uniqueness and the one-session-per-agent rule.
//!
//! The map of live sessions is local to this node; the facts that must hold across a cluster —
//! an ID is used by one live session, an agent holds one session — are claims in
//! [`cobrowse_bus::Claims`] (in-process by default). Ended sessions leave a short-lived
//! tombstone so a late join or reconnect is told "ended" rather than "not found".

use super::session::{SessionDeps, SessionHandle};
use crate::metrics::SessionCounts;
use cobrowse_bus::Claims;
use cobrowse_protocol::{EndReason, SessionId, SessionState};
use rand::TryRngCore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long an ended session's ID is remembered as ended (after that it reads as unknown and
/// may be drawn again).
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(15 * 60);

/// How long a claim lives without refresh. Watchdogs refresh well within it; a crashed node's
/// claims lapse after it.
pub const CLAIM_TTL: Duration = Duration::from_secs(10 * 60);

/// Attempts to draw an unused ID before giving up (with 900 million IDs, one is plenty).
const ID_ATTEMPTS: usize = 16;

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The configured session limit is reached.
    #[error("the server is at its session limit")]
    AtCapacity,
    /// No free ID was found, or the coordination backend failed.
    #[error("no session ID could be reserved: {0}")]
    Unavailable(String),
}

/// What a lookup found.
pub enum Lookup {
    /// A live session.
    Live(Arc<SessionHandle>),
    /// It ended recently, for this reason.
    Ended(EndReason),
    /// Never existed, or ended long ago.
    Unknown,
}

/// Every live session on this node.
pub struct SessionRegistry {
    on_end: std::sync::OnceLock<Arc<dyn Fn(SessionId) + Send + Sync>>,
    live: Mutex<HashMap<SessionId, Arc<SessionHandle>>>,
    tombstones: Mutex<HashMap<SessionId, (Instant, EndReason)>>,
    claims: Arc<dyn Claims>,
    node: String,
}

impl SessionRegistry {
    /// An empty registry that coordinates through `claims` as `node`.
    pub fn new(claims: Arc<dyn Claims>, node: String) -> Self {
        Self {
            on_end: std::sync::OnceLock::new(),
            live: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(HashMap::new()),
            claims,
            node,
        }
    }

    /// Registers what must happen when any session ends (the chat or call it rode on is told).
    pub fn on_session_end(&self, listener: Arc<dyn Fn(SessionId) + Send + Sync>) {
        let _ = self.on_end.set(listener);
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<SessionHandle>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn tombstones(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, (Instant, EndReason)>> {
        self.tombstones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a pending session with a fresh random ID. Returns it with the customer's token.
    pub async fn create(&self, deps: SessionDeps) -> Result<(Arc<SessionHandle>, String), CreateError> {
        if self.live().len() >= deps.config.limits.max_sessions {
            return Err(CreateError::AtCapacity);
        }
        for _ in 0..ID_ATTEMPTS {
            let id = random_session_id();
            let claimed = self
                .claims
                .claim(&session_key(id), &self.node, CLAIM_TTL)
                .await
                .map_err(|err| CreateError::Unavailable(err.to_string()))?;
            if !claimed {
                continue;
            }
            let mut live = self.live();
            if live.contains_key(&id) {
                continue; // our own live session holds it; the claim just refreshed
            }
            self.tombstones().remove(&id);
            let (handle, token) = SessionHandle::new(id, deps.clone(), Instant::now());
            live.insert(id, handle.clone());
            return Ok((handle, token));
        }
        Err(CreateError::Unavailable("every drawn ID was in use".into()))
    }

    /// Finds a session by ID.
    pub fn lookup(&self, id: SessionId) -> Lookup {
        if let Some(handle) = self.live().get(&id) {
            return Lookup::Live(handle.clone());
        }
        let now = Instant::now();
        let mut tombstones = self.tombstones();
        tombstones.retain(|_, (at, _)| now.duration_since(*at) < TOMBSTONE_TTL);
        match tombstones.get(&id) {
            Some((_, reason)) => Lookup::Ended(*reason),
            None => Lookup::Unknown,
        }
    }

    /// Reserves the agent's one session. False when the agent holds another one.
    pub async fn claim_agent(&self, agent_id: &str, session: SessionId) -> Result<bool, cobrowse_bus::ClaimError> {
        self.claims.claim(&agent_key(agent_id), &session.to_string(), CLAIM_TTL).await
    }

    /// Gives up the agent's reservation for `session` (e.g. a join that failed after claiming).
    pub async fn release_agent(&self, agent_id: &str, session: SessionId) {
        if let Err(err) = self.claims.release(&agent_key(agent_id), &session.to_string()).await {
            tracing::warn!(error = %err, "could not release an agent claim");
        }
    }

    /// Keeps this session's claims alive (called by its watchdog).
    pub async fn refresh_claims(&self, handle: &SessionHandle) {
        let _ = self.claims.refresh(&session_key(handle.id), &self.node, CLAIM_TTL).await;
        let agents: Vec<String> = handle.lock().viewers.iter().filter_map(|slot| slot.agent_id.clone()).collect();
        for agent in agents {
            let _ = self.claims.refresh(&agent_key(&agent), &handle.id.to_string(), CLAIM_TTL).await;
        }
    }

    /// Ends a session for `reason` and forgets it: everyone is told, records are written, the
    /// ID and the agents are released. Ending twice is harmless.
    pub async fn end(&self, handle: &SessionHandle, reason: EndReason) {
        let Some(agents) = handle.end(reason) else { return };
        tracing::info!(session = %handle.id, reason = reason.as_str(), "session ended");
        {
            let mut live = self.live();
            if live.get(&handle.id).is_some_and(|h| std::ptr::eq(h.as_ref(), handle)) {
                live.remove(&handle.id);
            }
        }
        self.tombstones().insert(handle.id, (Instant::now(), reason));
        if let Some(listener) = self.on_end.get() {
            listener(handle.id);
        }
        for agent in agents {
            self.release_agent(&agent, handle.id).await;
        }
        if let Err(err) = self.claims.release(&session_key(handle.id), &self.node).await {
            tracing::warn!(error = %err, "could not release a session ID claim");
        }
    }

    /// Ends every live session (server shutdown).
    pub async fn end_all(&self, reason: EndReason) {
        let handles: Vec<Arc<SessionHandle>> = self.live().values().cloned().collect();
        for handle in handles {
            self.end(&handle, reason).await;
        }
    }

    /// Live sessions by state, for metrics.
    pub fn counts(&self) -> SessionCounts {
        let handles: Vec<Arc<SessionHandle>> = self.live().values().cloned().collect();
        let mut counts = SessionCounts::default();
        for handle in handles {
            let inner = handle.lock();
            match inner.life.state() {
                SessionState::Pending => counts.pending += 1,
                SessionState::Active => counts.active += 1,
                SessionState::Ended => {}
            }
            counts.mirror_heap_bytes += inner.mirror.heap_bytes() as u64;
        }
        counts
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn session_key(id: SessionId) -> String {
    format!("session:{id}")
}

fn agent_key(agent_id: &str) -> String {
    format!("agent:{agent_id}")
}

/// Draws a nine-digit ID uniformly from the operating system's CSPRNG, so IDs are neither
/// sequential nor predictable from earlier ones.
pub fn random_session_id() -> SessionId {
    let span = SessionId::MAX - SessionId::MIN + 1;
    // Rejection sampling keeps the draw uniform: accept only below the largest multiple of span.
    let zone = u32::MAX - (u32::MAX % span);
    loop {
        let value = rand::rngs::OsRng.try_next_u32().expect("the operating system's random source is available");
        if value < zone {
            return SessionId::new(SessionId::MIN + value % span).expect("value is within the nine-digit range");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_nine_digits_and_spread_out() {
        let ids: Vec<u32> = (0..2000).map(|_| random_session_id().get()).collect();
        assert!(ids.iter().all(|id| (SessionId::MIN..=SessionId::MAX).contains(id)));
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert!(distinct.len() > 1990, "random draws should almost never repeat");
        let ascending = ids.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert_eq!(ascending, 0, "IDs must not be sequential");
        let low_half = ids.iter().filter(|id| **id < 550_000_000).count();
        assert!((800..1200).contains(&low_half), "draws should cover the range evenly: {low_half}");
    }
}
