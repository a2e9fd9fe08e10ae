//! A bounded in-memory cache of proxied resources: many agents viewing one site fetch each
//! stylesheet, image and font once per time to live. Bounded by entry count and by bytes; the
//! oldest entries leave first.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// A fetched resource, ready to serve.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The sanitized content type.
    pub content_type: String,
    /// The body (stylesheets already rewritten).
    pub body: Bytes,
}

/// The cache.
pub struct ResourceCache {
    entries: HashMap<String, (Resource, Instant)>,
    order: VecDeque<String>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    ttl: Duration,
}

impl ResourceCache {
    /// A cache of at most `max_entries` entries and `max_bytes` bytes, each kept for `ttl`.
    pub fn new(max_entries: usize, max_bytes: usize, ttl: Duration) -> Self {
        Self { entries: HashMap::new(), order: VecDeque::new(), bytes: 0, max_entries, max_bytes, ttl }
    }

    /// The fresh entry for `url`, if any.
    pub fn get(&mut self, url: &str) -> Option<Resource> {
        let now = Instant::now();
        match self.entries.get(url) {
            Some((resource, stored)) if now.duration_since(*stored) < self.ttl => Some(resource.clone()),
            Some(_) => {
                self.remove(url);
                None
            }
            None => None,
        }
    }

    /// Stores `resource` for `url`, evicting the oldest entries to stay within the bounds.
    /// Resources larger than a quarter of the byte budget are not cached at all.
    pub fn put(&mut self, url: String, resource: Resource) {
        let size = resource.body.len();
        if size > self.max_bytes / 4 || self.max_entries == 0 {
            return;
        }
        self.remove(&url);
        while !self.order.is_empty() && (self.entries.len() >= self.max_entries || self.bytes + size > self.max_bytes) {
            if let Some(oldest) = self.order.pop_front() {
                if let Some((old, _)) = self.entries.remove(&oldest) {
                    self.bytes -= old.body.len();
                }
            }
        }
        self.bytes += size;
        self.order.push_back(url.clone());
        self.entries.insert(url, (resource, Instant::now()));
    }

    fn remove(&mut self, url: &str) {
        if let Some((old, _)) = self.entries.remove(url) {
            self.bytes -= old.body.len();
            self.order.retain(|key| key != url);
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(size: usize) -> Resource {
        Resource { content_type: "image/png".into(), body: Bytes::from(vec![0u8; size]) }
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_the_oldest_leave_first() {
        let mut cache = ResourceCache::new(2, 1000, Duration::from_secs(60));
        cache.put("a".into(), resource(10));
        cache.put("b".into(), resource(10));
        cache.put("c".into(), resource(10));
        assert!(cache.get("a").is_none(), "evicted by count");
        assert!(cache.get("b").is_some() && cache.get("c").is_some());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(cache.get("b").is_none(), "expired");
    }

    #[tokio::test]
    async fn the_byte_budget_holds() {
        let mut cache = ResourceCache::new(100, 1000, Duration::from_secs(60));
        for i in 0..20 {
            cache.put(format!("r{i}"), resource(200));
        }
        assert!(cache.bytes <= 1000 && cache.len() <= 5);
        cache.put("huge".into(), resource(600));
        assert!(cache.get("huge").is_none(), "too large to cache");
    }
}
