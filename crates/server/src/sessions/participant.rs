//! One participant of a session: who they are, their secret, their outbound stream and how far
//! their inbound stream has come.

use crate::relay::outbox::OutStream;
use cobrowse_protocol::{LeavingTo, Participant, Role};
use tokio::time::Instant;

/// Which participant of a session, stable across reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotKey {
    /// The customer (sharer).
    Customer,
    /// A viewer (agent or observer), numbered in join order.
    Viewer(u32),
}

/// A participant's place in a session.
pub struct Slot {
    /// As others see them.
    pub who: Participant,
    /// Their account, for agents and observers.
    pub agent_id: Option<String>,
    token: String,
    /// Frames the server sends them.
    pub out: OutStream,
    /// The last of their frames the server accepted, in order.
    pub last_in: u64,
    /// Since when they have had no connection (`None` while connected).
    pub gone_since: Option<Instant>,
    /// Where the customer said they were going as the page unloaded.
    pub leaving: Option<LeavingTo>,
    /// Whether this viewer has been sent a page to apply deltas to.
    pub has_base: bool,
    /// Whether they ever connected (a first connection is a join, not a return).
    pub ever_connected: bool,
}

impl Slot {
    /// A participant that has not connected yet (the clock for their grace starts now).
    pub fn new(who: Participant, agent_id: Option<String>, token: String, out: OutStream, now: Instant) -> Self {
        Self {
            who,
            agent_id,
            token,
            out,
            last_in: 0,
            gone_since: Some(now),
            leaving: None,
            has_base: false,
            ever_connected: false,
        }
    }

    /// Their role.
    pub fn role(&self) -> Role {
        self.who.role
    }

    /// Whether `candidate` is this participant's token, compared in constant time.
    pub fn token_matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.token.as_bytes(), candidate.as_bytes())
    }

    /// The participant's token (returned again when the same agent re-joins).
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Compares two secrets without an early exit that would reveal how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random secret: 32 bytes from the operating system's CSPRNG, URL-safe text.
pub fn new_token() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source is available");
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::with_capacity(43);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            text.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        text.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
