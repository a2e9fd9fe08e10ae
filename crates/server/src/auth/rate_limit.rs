//! Fixed-window rate limits per key (an agent, a client address).
//!
//! Join attempts are limited so that guessing a live nine-digit ID is impractical: at 10
//! attempts a minute against, say, 1,000 live sessions among 900 million IDs, a guess succeeds
//! about once in 90,000 minutes. Windows are swept when the map grows, so memory stays bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Allows `limit` events per key per `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` events per minute per key.
    pub fn per_minute(limit: u32) -> Self {
        Self { limit, window: Duration::from_secs(60), windows: Mutex::new(HashMap::new()) }
    }

    /// Counts an event for `key`. Err carries the seconds until the window resets.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 10_000 {
            let window = self.window;
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_per_key_and_resets_per_window() {
        let limiter = RateLimiter::per_minute(2);
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        assert_eq!(limiter.check("a"), Err(60));
        assert!(limiter.check("b").is_ok(), "keys are independent");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(limiter.check("a"), Err(30));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(limiter.check("a").is_ok());
    }
}
