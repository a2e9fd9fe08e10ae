//! The state every handler and connection shares, built once by [`crate::run`].

use crate::auth::rate_limit::RateLimiter;
use crate::auth::AuthService;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sessions::registry::SessionRegistry;
use crate::sessions::session::SessionDeps;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Shared state, cheap to clone.
pub type AppState = Arc<Shared>;

/// Rate limits of the HTTP API.
pub struct Limiters {
    /// Join attempts per agent.
    pub joins_per_agent: RateLimiter,
    /// Join attempts per client address.
    pub joins_per_address: RateLimiter,
    /// Session creations per client address.
    pub sessions_per_address: RateLimiter,
    /// Sign-in attempts per client address.
    pub logins_per_address: RateLimiter,
}

/// Everything shared.
pub struct Shared {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Site origins in normalized form.
    pub site_origins: Vec<String>,
    /// Live sessions.
    pub registry: Arc<SessionRegistry>,
    /// What sessions need (config, recorder, metrics).
    pub deps: SessionDeps,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Agents' sign-ins.
    pub auth: AuthService,
    /// Rate limits.
    pub limiters: Limiters,
    /// One permit per open WebSocket, so the server refuses connections before it runs out of
    /// file descriptors rather than failing at random.
    pub connections: Arc<Semaphore>,
    /// The resource proxy.
    pub proxy: crate::proxy::ResourceProxy,
    /// Chats, calls and agents' desks.
    pub interactions: Arc<crate::interactions::Interactions>,
    /// The store, for reads (writes go through the recorder).
    pub store: Arc<dyn cobrowse_store::Store>,
    /// Tracks connection tasks so shutdown can wait for them.
    pub tasks: tokio_util::task::TaskTracker,
    next_connection: AtomicU64,
}

impl Shared {
    /// Builds the shared state.
    pub fn new(
        config: Arc<Config>,
        registry: Arc<SessionRegistry>,
        deps: SessionDeps,
        interactions: Arc<crate::interactions::Interactions>,
        store: Arc<dyn cobrowse_store::Store>,
    ) -> Self {
        let limits = &config.limits;
        Self {
            site_origins: config.normalized_site_origins(),
            proxy: crate::proxy::ResourceProxy::new(&config.proxy, &config.normalized_site_origins()),
            interactions,
            store,
            auth: AuthService::new(&config.agents, config.timeouts.agent_login),
            limiters: Limiters {
                joins_per_agent: RateLimiter::per_minute(limits.joins_per_agent_per_minute),
                joins_per_address: RateLimiter::per_minute(limits.joins_per_address_per_minute),
                sessions_per_address: RateLimiter::per_minute(limits.sessions_per_address_per_minute),
                logins_per_address: RateLimiter::per_minute(limits.logins_per_address_per_minute),
            },
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            tasks: tokio_util::task::TaskTracker::new(),
            metrics: deps.metrics.clone(),
            registry,
            deps,
            config,
            next_connection: AtomicU64::new(1),
        }
    }

    /// A fresh connection number.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }
}
