//! One task per session that ends it when a deadline passes, resyncs lagging viewers, and keeps
//! its claims alive.
//!
//! It sleeps until the session's earliest deadline, or until the session says something changed
//! (a participant left, a viewer fell behind, the session ended). Under paused tokio time in
//! tests the sleeps complete instantly in order, so every timeout is tested without waiting.

use super::registry::{SessionRegistry, CLAIM_TTL};
use super::session::SessionHandle;
use cobrowse_protocol::SessionState;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// How often a lagging viewer's queue is checked for room for a resync.
pub const LAG_CHECK: Duration = Duration::from_millis(100);

/// Watches `handle` until it ends.
pub fn spawn(handle: Arc<SessionHandle>, registry: Arc<SessionRegistry>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next_refresh = Instant::now() + CLAIM_TTL / 3;
        loop {
            let now = Instant::now();
            if handle.state() == SessionState::Ended {
                return;
            }
            let (expired, deadline) = handle.check_deadlines(now);
            if let Some(reason) = expired {
                registry.end(&handle, reason).await;
                return;
            }
            if now >= next_refresh {
                registry.refresh_claims(&handle).await;
                next_refresh = now + CLAIM_TTL / 3;
            }
            let lagging = handle.recover_lagging();
            let mut wake = deadline.unwrap_or(next_refresh).min(next_refresh);
            if lagging {
                wake = wake.min(now + LAG_CHECK);
            }
            tokio::select! {
                _ = sleep_until(wake) => {}
                _ = handle.changed.notified() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::relay::outbox::ConnLink;
    use cobrowse_protocol::{EndReason, Role};

    async fn session(adjust: impl FnOnce(&mut Config)) -> (crate::state::AppState, Arc<SessionHandle>, String) {
        let mut config = Config::default();
        adjust(&mut config);
        // The store opens on real time (its pool has timeouts); the session's clock is paused after.
        let state = crate::test_state(config).await;
        tokio::time::pause();
        let (handle, token) = state.registry.create(state.deps.clone()).await.unwrap();
        spawn(handle.clone(), state.registry.clone());
        (state, handle, token)
    }

    fn reason(handle: &SessionHandle) -> Option<EndReason> {
        handle.lock().life.end_reason()
    }

    #[tokio::test]
    async fn a_session_nobody_joins_ends_at_the_pending_timeout() {
        let (state, handle, _) = session(|c| c.timeouts.pending = Duration::from_secs(300)).await;
        tokio::time::sleep(Duration::from_secs(299)).await;
        assert_eq!(handle.state(), SessionState::Pending);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(reason(&handle), Some(EndReason::PendingTimeout));
        assert!(state.registry.is_empty(), "an ended session leaves the registry");
    }

    #[tokio::test]
    async fn an_idle_active_session_ends_at_the_inactivity_timeout() {
        let (_state, handle, token) = session(|c| {
            c.timeouts.inactivity = Duration::from_secs(600);
            c.timeouts.customer_reconnect_grace = Duration::from_secs(3600);
            c.timeouts.agent_reconnect_grace = Duration::from_secs(3600);
        })
        .await;
        let (link, _rx) = ConnLink::pair(1, 8);
        handle.attach(&token, 0, link, Instant::now()).unwrap();
        let agent_token = handle.join(Role::Agent, "alice", "Alice", Instant::now()).unwrap();
        let (link, _agent_rx) = ConnLink::pair(2, 8);
        handle.attach(&agent_token, 0, link, Instant::now()).unwrap();
        tokio::time::sleep(Duration::from_secs(599)).await;
        assert_eq!(handle.state(), SessionState::Active);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(reason(&handle), Some(EndReason::InactivityTimeout));
    }

    #[tokio::test]
    async fn a_customer_away_past_the_grace_ends_it_and_a_return_in_time_does_not() {
        let (_state, handle, token) = session(|c| {
            c.timeouts.customer_reconnect_grace = Duration::from_secs(120);
            c.timeouts.pending = Duration::from_secs(3600);
        })
        .await;
        let (link, _rx) = ConnLink::pair(1, 8);
        handle.attach(&token, 0, link, Instant::now()).unwrap();
        handle.detach(crate::sessions::participant::SlotKey::Customer, 1, Instant::now());
        tokio::time::sleep(Duration::from_secs(100)).await;
        let (link, _rx2) = ConnLink::pair(2, 8);
        handle.attach(&token, 0, link, Instant::now()).unwrap();
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert_eq!(reason(&handle), None, "the customer came back in time");
        handle.detach(crate::sessions::participant::SlotKey::Customer, 2, Instant::now());
        tokio::time::sleep(Duration::from_secs(121)).await;
        assert_eq!(reason(&handle), Some(EndReason::CustomerAway));
    }

    #[tokio::test]
    async fn an_agent_who_does_not_return_ends_it() {
        let (_state, handle, token) = session(|c| c.timeouts.agent_reconnect_grace = Duration::from_secs(60)).await;
        let (link, _rx) = ConnLink::pair(1, 8);
        handle.attach(&token, 0, link, Instant::now()).unwrap();
        // The agent joined but never connected its workspace: the grace runs from the join.
        handle.join(Role::Agent, "alice", "Alice", Instant::now()).unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(reason(&handle), Some(EndReason::AgentAway));
    }
}
