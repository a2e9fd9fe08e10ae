//! Server configuration: every tunable with its documented default, and validation.
//!
//! The binary layers defaults, a TOML file, `COBROWSE_*` environment variables and flags into
//! this struct (see `crates/cobrowse/src/settings.rs`); the server only sees the validated result.
//! The README's configuration reference documents each field.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file and other data.
    pub data_dir: PathBuf,
    /// The public base URL (`https://cobrowse.example.com`), used in printed links. Optional.
    pub public_url: Option<String>,
    /// Serve the demo company site at `/demo/`.
    pub demo_site: bool,
    /// Timeouts of a session's life.
    pub timeouts: Timeouts,
    /// Size and rate limits.
    pub limits: Limits,
    /// How frames travel on the co-browse socket (compression).
    pub wire: WireConfig,
    /// What agents may do and what customers' browsers mask.
    pub policy: Policy,
    /// The resource proxy the agent's view loads stylesheets, images and fonts through.
    pub proxy: ProxyConfig,
    /// The built-in web chat.
    pub chat: ChatConfig,
    /// The company's telephony system reporting calls.
    pub telephony: TelephonyConfig,
    /// Endpoints that receive signed event notifications.
    pub webhooks: Vec<WebhookEndpoint>,
    /// How webhooks are delivered.
    pub webhook_delivery: WebhookDeliveryConfig,
    /// Agents who can sign in, until accounts are managed in the admin app.
    pub agents: Vec<AgentAccount>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            public_url: None,
            demo_site: false,
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            wire: WireConfig::default(),
            policy: Policy::default(),
            proxy: ProxyConfig::default(),
            chat: ChatConfig::default(),
            telephony: TelephonyConfig::default(),
            webhooks: Vec::new(),
            webhook_delivery: WebhookDeliveryConfig::default(),
            agents: Vec::new(),
        }
    }
}

/// How long each phase of a session may last. Written as `"30s"`, `"5m"`, `"1h"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// A session nobody joined ends after this (`pending_timeout`). Default 5 minutes: time
    /// enough to read nine digits aloud and type them, not long enough to leave stale IDs about.
    #[serde(with = "humantime_serde")]
    pub pending: Duration,
    /// No frame from anyone for this long ends the session (`inactivity_timeout`). Default 30 minutes.
    #[serde(with = "humantime_serde")]
    pub inactivity: Duration,
    /// The customer's page may be gone this long — a page load inside the site, a visit to
    /// another site, a dropped network — before the session ends (`customer_away`). Default 5 minutes.
    #[serde(with = "humantime_serde")]
    pub customer_reconnect_grace: Duration,
    /// The agent's workspace may be gone this long — a closed tab, a lost network — before the
    /// session ends (`agent_away`). Default 2 minutes.
    #[serde(with = "humantime_serde")]
    pub agent_reconnect_grace: Duration,
    /// The server sends a heartbeat this often; a client silent for three intervals is treated as
    /// disconnected. Default 15 seconds.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// A socket must say `hello` within this. Default 10 seconds.
    #[serde(with = "humantime_serde")]
    pub hello: Duration,
    /// A write to a socket that takes longer than this drops the connection. Default 10 seconds.
    #[serde(with = "humantime_serde")]
    pub write: Duration,
    /// An agent's sign-in lasts this long. Default 12 hours (a shift).
    #[serde(with = "humantime_serde")]
    pub agent_login: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            pending: Duration::from_secs(5 * 60),
            inactivity: Duration::from_secs(30 * 60),
            customer_reconnect_grace: Duration::from_secs(5 * 60),
            agent_reconnect_grace: Duration::from_secs(2 * 60),
            heartbeat: Duration::from_secs(15),
            hello: Duration::from_secs(10),
            write: Duration::from_secs(10),
            agent_login: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// Sizes, counts and rates. Each bounds memory or work that a client could otherwise inflate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest WebSocket frame accepted, in bytes. Default 4 MiB (a 6,000-element page is ~0.5 MiB).
    pub max_frame_bytes: usize,
    /// Most DOM nodes one page may have in the mirror. Default 200,000.
    pub max_nodes: usize,
    /// Deepest DOM nesting accepted. Default 500.
    pub max_depth: usize,
    /// Most bytes one session's mirror may hold. Default 64 MiB.
    pub max_session_bytes: usize,
    /// Frames waiting to be written to one socket before its reader counts as lagging. Default 128.
    pub outbound_queue: usize,
    /// Frames kept per participant for replay after a reconnect. Default 256.
    pub replay_frames: usize,
    /// Bytes kept per participant for replay after a reconnect. Default 2 MiB.
    pub replay_bytes: usize,
    /// Join attempts per agent per minute (guessing IDs is impractical). Default 10.
    pub joins_per_agent_per_minute: u32,
    /// Join attempts per client address per minute. Default 30.
    pub joins_per_address_per_minute: u32,
    /// Sessions created per client address per minute. Default 20.
    pub sessions_per_address_per_minute: u32,
    /// Sign-in attempts per address per minute. Default 10.
    pub logins_per_address_per_minute: u32,
    /// Open WebSocket connections at most (each uses a file descriptor). Default 19,000.
    pub max_connections: usize,
    /// Live sessions at most. Default 10,000.
    pub max_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 4 * 1024 * 1024,
            max_nodes: 200_000,
            max_depth: 500,
            max_session_bytes: 64 * 1024 * 1024,
            outbound_queue: 128,
            replay_frames: 256,
            replay_bytes: 2 * 1024 * 1024,
            joins_per_agent_per_minute: 10,
            joins_per_address_per_minute: 30,
            sessions_per_address_per_minute: 20,
            logins_per_address_per_minute: 10,
            max_connections: 19_000,
            max_sessions: 10_000,
        }
    }
}

/// Compression of large frames on the co-browse socket (`/ws/v1`), negotiated per connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WireConfig {
    /// Agree to compress when a client offers it. Default true: snapshots and large batches
    /// shrink to a fifth or less, at a few hundred microseconds of server CPU per 100 KB frame.
    pub compression: bool,
    /// Frames of at least this many bytes are compressed, in both directions; smaller ones stay
    /// text. Default 1024: below that frames shrink little and the browser's per-frame cost wins.
    pub compress_min_bytes: usize,
}

impl Default for WireConfig {
    fn default() -> Self {
        Self { compression: true, compress_min_bytes: cobrowse_protocol::compression::DEFAULT_MIN_BYTES }
    }
}

impl WireConfig {
    /// What `welcome.z` says to a client that offered `offered`.
    pub fn negotiate(&self, offered: &[String]) -> Option<cobrowse_protocol::Compression> {
        if !self.compression {
            return None;
        }
        let enc = cobrowse_protocol::Encoding::choose(offered)?;
        Some(cobrowse_protocol::Compression { enc, min: self.compress_min_bytes })
    }
}

/// What agents may do and what the customer's browser hides. Sent to the SDK as-is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Whether agents may ask for write mode at all. Default true.
    pub write_mode_allowed: bool,
    /// Whether supervisors may watch sessions read-only. Default false.
    pub observers_allowed: bool,
    /// Whether a customer may co-browse without a chat or call going on. Default false: a
    /// session rides on a conversation the agent is already having, so an agent can only ever
    /// join a customer they are talking to, and ending the conversation ends the session.
    pub standalone_sessions: bool,
    /// Origins of the company's site (`https://shop.example`): customer sockets and session
    /// creation are accepted only from these (and from the server's own origin), and agents may
    /// navigate customers only within them.
    pub site_origins: Vec<String>,
    /// What the SDK masks in the customer's browser, in addition to every password field.
    pub masking: Masking,
    /// Controls agents may not use, in addition to every submit control.
    pub restrictions: Restrictions,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            write_mode_allowed: true,
            observers_allowed: false,
            standalone_sessions: false,
            site_origins: Vec::new(),
            masking: Masking::default(),
            restrictions: Restrictions::default(),
        }
    }
}

/// Masking rules as CSS selectors and URL patterns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Masking {
    /// Fields whose values are masked.
    pub fields: Vec<String>,
    /// Elements whose text is masked.
    pub text: Vec<String>,
    /// Images replaced by a placeholder box.
    pub images: Vec<String>,
    /// URL patterns (`*` matches anything) of pages masked whole.
    pub pages: Vec<String>,
}

/// Restriction rules as CSS selectors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Restrictions {
    /// Elements agents may not use.
    pub selectors: Vec<String>,
}

/// The resource proxy's rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// Serve `/proxy` at all. Default true.
    pub enabled: bool,
    /// Origins besides the site origins that resources may come from (a CDN). Default none.
    pub extra_origins: Vec<String>,
    /// Allow fetching from loopback and private addresses (a site on an internal network, tests).
    /// Default false: the proxy must not become a way into the server's own network.
    pub allow_private: bool,
    /// Largest resource served, in bytes. Default 10 MiB.
    pub max_bytes: usize,
    /// Time allowed for one fetch, connection to last byte. Default 10 seconds.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Resources cached at most. Default 2,000.
    pub cache_entries: usize,
    /// Bytes cached at most. Default 128 MiB.
    pub cache_bytes: usize,
    /// How long a cached resource is served before it is fetched again. Default 5 minutes.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            extra_origins: Vec::new(),
            allow_private: false,
            max_bytes: 10 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            cache_entries: 2_000,
            cache_bytes: 128 * 1024 * 1024,
            cache_ttl: Duration::from_secs(5 * 60),
        }
    }
}

/// The web chat's limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// Longest message, in characters. Default 2,000.
    pub max_message_chars: usize,
    /// Most messages one chat keeps. Default 2,000.
    pub max_messages: usize,
    /// Chats one agent handles at once. Default 4.
    pub max_chats_per_agent: usize,
    /// Chats open at once on this server. Default 5,000.
    pub max_live_chats: usize,
    /// A chat whose customer has had no connection this long ends (`customer_away`). Default 10 minutes.
    #[serde(with = "humantime_serde")]
    pub customer_grace: Duration,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            max_message_chars: 2_000,
            max_messages: 2_000,
            max_chats_per_agent: 4,
            max_live_chats: 5_000,
            customer_grace: Duration::from_secs(10 * 60),
        }
    }
}

/// The telephony integration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelephonyConfig {
    /// Bearer tokens the telephony system authenticates its call events with (at least 16
    /// characters each). None configured: the call API refuses everything.
    pub tokens: Vec<String>,
}

/// A webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC-SHA256 key for the `X-Cobrowse-Signature` header (at least 16 characters).
    pub secret: String,
    /// Event types to send; empty for all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Webhook delivery settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookDeliveryConfig {
    /// Time allowed for one delivery attempt. Default 5 seconds.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts per event before it is logged as failed. Default 6.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles each time. Default 1 second.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    /// Longest wait between retries. Default 1 minute.
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// Events waiting per endpoint before new ones are dropped (and counted). Default 10,000.
    pub queue: usize,
}

impl Default for WebhookDeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_attempts: 6,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            queue: 10_000,
        }
    }
}

/// An agent who can sign in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentAccount {
    /// Sign-in name and stable ID (`alice`).
    pub id: String,
    /// Name shown to customers (`Alice Agent`).
    pub name: String,
    /// Argon2 hash in PHC form (`cobrowse hash-password` prints one).
    pub password_hash: String,
    /// Supervisors may also watch sessions read-only when policy allows.
    #[serde(default)]
    pub supervisor: bool,
}

/// A configuration that cannot run, with what is wrong in plain words.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Checks what serde cannot: ranges, uniqueness, well-formed origins and hashes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.timeouts;
        for (name, value) in [
            ("timeouts.pending", t.pending),
            ("timeouts.inactivity", t.inactivity),
            ("timeouts.customer_reconnect_grace", t.customer_reconnect_grace),
            ("timeouts.agent_reconnect_grace", t.agent_reconnect_grace),
            ("timeouts.heartbeat", t.heartbeat),
            ("timeouts.hello", t.hello),
            ("timeouts.write", t.write),
            ("timeouts.agent_login", t.agent_login),
        ] {
            if value.is_zero() {
                return Err(ConfigError(format!("{name} must be longer than zero")));
            }
        }
        let l = &self.limits;
        for (name, value, min) in [
            ("limits.max_frame_bytes", l.max_frame_bytes, 1024),
            ("limits.max_nodes", l.max_nodes, 1),
            ("limits.max_depth", l.max_depth, 8),
            ("limits.max_session_bytes", l.max_session_bytes, 1024),
            ("limits.outbound_queue", l.outbound_queue, 1),
            ("limits.replay_frames", l.replay_frames, 1),
            ("limits.replay_bytes", l.replay_bytes, 1024),
            ("limits.max_connections", l.max_connections, 2),
            ("limits.max_sessions", l.max_sessions, 1),
        ] {
            if value < min {
                return Err(ConfigError(format!("{name} must be at least {min}")));
            }
        }
        let w = &self.wire;
        if w.compress_min_bytes < 64 || w.compress_min_bytes > l.max_frame_bytes {
            return Err(ConfigError(format!(
                "wire.compress_min_bytes must be between 64 and limits.max_frame_bytes ({})",
                l.max_frame_bytes
            )));
        }
        if l.max_depth > 500 {
            return Err(ConfigError("limits.max_depth can be at most 500".into()));
        }
        for origin in &self.policy.site_origins {
            normalize_origin(origin).ok_or_else(|| {
                ConfigError(format!(
                    "policy.site_origins: {origin:?} is not an origin like https://shop.example or http://localhost:8080"
                ))
            })?;
        }
        for origin in &self.proxy.extra_origins {
            normalize_origin(origin)
                .ok_or_else(|| ConfigError(format!("proxy.extra_origins: {origin:?} is not an origin")))?;
        }
        if self.proxy.timeout.is_zero() {
            return Err(ConfigError("proxy.timeout must be longer than zero".into()));
        }
        if self.telephony.tokens.iter().any(|t| t.len() < 16) {
            return Err(ConfigError("telephony.tokens must each be at least 16 characters".into()));
        }
        for hook in &self.webhooks {
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                return Err(ConfigError(format!("webhooks: url {:?} must be http or https", hook.url)));
            }
            if hook.secret.len() < 16 {
                return Err(ConfigError(format!(
                    "webhooks: the secret of {:?} must be at least 16 characters",
                    hook.url
                )));
            }
        }
        if self.webhook_delivery.max_attempts == 0 || self.webhook_delivery.timeout.is_zero() {
            return Err(ConfigError("webhook_delivery needs at least one attempt and a timeout above zero".into()));
        }
        if self.chat.max_message_chars == 0 || self.chat.max_chats_per_agent == 0 {
            return Err(ConfigError("chat.max_message_chars and chat.max_chats_per_agent must be above zero".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for agent in &self.agents {
            if agent.id.is_empty()
                || agent.id.len() > 64
                || !agent.id.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
            {
                return Err(ConfigError(format!("agents: id {:?} must be 1-64 letters, digits or . _ - @", agent.id)));
            }
            if !seen.insert(agent.id.as_str()) {
                return Err(ConfigError(format!("agents: id {:?} appears twice", agent.id)));
            }
            if agent.name.trim().is_empty() {
                return Err(ConfigError(format!("agents: {:?} needs a name", agent.id)));
            }
            argon2::PasswordHash::new(&agent.password_hash).map_err(|_| {
                ConfigError(format!(
                    "agents: {:?} has a password_hash that is not an argon2 PHC string (make one with `cobrowse hash-password`)",
                    agent.id
                ))
            })?;
        }
        Ok(())
    }

    /// The site origins in normalized form (`scheme://host[:port]`, lower case, default port dropped).
    pub fn normalized_site_origins(&self) -> Vec<String> {
        self.policy.site_origins.iter().filter_map(|o| normalize_origin(o)).collect()
    }
}

/// Normalizes an origin (`HTTPS://Shop.Example:443/` → `https://shop.example`); None if it is not one.
pub fn normalize_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            if host.is_empty() || port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.len() > 5 {
                return None;
            }
            (host.to_owned(), Some(port.to_owned()))
        }
        _ => (rest.clone(), None),
    };
    let default_port = if scheme == "https" { "443" } else { "80" };
    Some(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn compression_is_agreed_only_when_offered_and_enabled() {
        let mut wire = WireConfig::default();
        let offered = vec!["br".to_owned(), "deflate-raw".to_owned()];
        let agreed = wire.negotiate(&offered).unwrap();
        assert_eq!((agreed.enc.as_str(), agreed.min), ("deflate-raw", 1024));
        assert_eq!(wire.negotiate(&[]), None);
        assert_eq!(wire.negotiate(&["br".to_owned()]), None);
        wire.compression = false;
        assert_eq!(wire.negotiate(&offered), None);
    }

    #[test]
    fn origins_normalize() {
        assert_eq!(normalize_origin("HTTPS://Shop.Example:443/").as_deref(), Some("https://shop.example"));
        assert_eq!(normalize_origin("http://localhost:8080").as_deref(), Some("http://localhost:8080"));
        assert_eq!(normalize_origin("http://127.0.0.1:80").as_deref(), Some("http://127.0.0.1"));
        for bad in ["shop.example", "ftp://x", "https://", "https://a/b", "https://a:x", "https://u@a"] {
            assert!(normalize_origin(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let mut config = Config::default();
        config.timeouts.pending = Duration::ZERO;
        assert!(config.validate().unwrap_err().to_string().contains("timeouts.pending"));

        let mut config = Config::default();
        config.policy.site_origins = vec!["shop.example".into()];
        assert!(config.validate().unwrap_err().to_string().contains("site_origins"));

        let mut config = Config::default();
        config.wire.compress_min_bytes = 16;
        assert!(config.validate().unwrap_err().to_string().contains("wire.compress_min_bytes"));
        config.wire.compress_min_bytes = config.limits.max_frame_bytes + 1;
        assert!(config.validate().unwrap_err().to_string().contains("wire.compress_min_bytes"));

        let config = Config {
            agents: vec![AgentAccount {
                id: "a".into(),
                name: "A".into(),
                password_hash: "plain".into(),
                supervisor: false,
            }],
            ..Config::default()
        };
        assert!(config.validate().unwrap_err().to_string().contains("hash-password"));
    }
}
