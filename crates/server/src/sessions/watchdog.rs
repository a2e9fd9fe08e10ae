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
