//! The Cobrowse server: HTTP API, WebSocket relay with a server-side DOM mirror, sessions.
//!
//! Layout:
//! - [`config`]: every tunable with its default, and validation.
//! - [`sessions`]: the pure lifecycle (states, modes, timeouts), participants, the live session
//!   object, the registry of live sessions, and the per-session watchdog.
//! - [`relay`]: one loop per WebSocket ([`relay::connection`]), per-participant outbound streams
//!   with replay and lag detection ([`relay::outbox`]), and what each frame does
//!   ([`relay::route`]).
//! - [`auth`]: agents' sign-in and the [`auth::AuthenticatedAgent`] extractor; rate limits.
//! - [`http`]: the router ([`http::app`]) and handlers, one file per area; embedded browser apps.
//! - [`proxy`]: the resource proxy the agent's view loads stylesheets, images and fonts through.
//! - [`interactions`]: the web chat, telephony calls and agents' desks that co-browse rides on.
//! - [`webhooks`]: signed event notifications, delivered in order with retries.
//! - [`recorder`]: session records written to the store off the hot path.
//! - [`metrics`]: counters for `/metrics`.
//!
//! Data flow: the customer's browser sends frames → [`relay::connection`] parses them →
//! [`relay::route`] applies them to the session's mirror under the session's lock and pushes
//! them to each viewer's bounded outbound stream → each viewer's connection loop writes them.
//! Agents' frames flow back the same way, gated by the mode rules.
//!
//! [`run`] is the whole server; `main` only parses flags, binds and calls it, and tests bind
//! port 0 and do the same.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod interactions;
pub mod metrics;
pub mod proxy;
pub mod recorder;
pub mod relay;
pub mod sessions;
pub mod state;
pub mod webhooks;
pub mod websocket;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::sessions::registry::SessionRegistry;
use crate::sessions::session::SessionDeps;
use crate::state::{AppState, Shared};
use cobrowse_bus::InProcessClaims;
use cobrowse_protocol::EndReason;
use cobrowse_store::{SqliteStore, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long shutdown waits for connections to write their last frame and close.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("cannot open the session store: {0}")]
    Store(#[from] cobrowse_store::StoreError),
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// Runs the server on `listener` until `shutdown` completes, then ends every session (clients
/// are told `server_shutdown`), waits for connections to close, and flushes records.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| StartError::DataDir { path: config.data_dir.clone(), source })?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.data_dir.join("cobrowse.db")).await?);
    let left_open = store.close_open_records(EndReason::ServerShutdown, time::OffsetDateTime::now_utc()).await?;
    if left_open > 0 {
        tracing::warn!(count = left_open, "closed session records a previous run left open");
    }
    let (background, state) = build_state(config, store.clone());
    let app = http::app(state.clone());
    let sweeper = spawn_sweeper(state.clone());

    let closing = state.clone();
    let serving = http::listen::serve(listener, app, async move {
        shutdown.await;
        tracing::info!("shutting down: ending every session and chat");
        closing.registry.end_all(EndReason::ServerShutdown).await;
        closing.interactions.end_all_chats("server_shutdown");
    });
    let result = serving.await;
    state.tasks.close();
    if tokio::time::timeout(SHUTDOWN_DRAIN, state.tasks.wait()).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    sweeper.abort();
    background.webhooks.stop();
    background.recorder.finish().await;
    tracing::info!("stopped");
    result.map_err(StartError::Serve)
}

/// Background tasks that outlive requests and stop at shutdown.
struct Background {
    recorder: recorder::RecorderTask,
    webhooks: webhooks::WebhookWorkers,
}

fn build_state(config: Config, store: Arc<dyn Store>) -> (Background, AppState) {
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::default());
    let (hooks, webhook_workers) =
        webhooks::Webhooks::start(&config.webhooks, &config.webhook_delivery, store.clone(), metrics.clone());
    let (recorder, recorder_task) = Recorder::start(store.clone(), hooks, metrics.clone());
    let node = format!("node-{}", uuid::Uuid::new_v4());
    let registry = Arc::new(SessionRegistry::new(Arc::new(InProcessClaims::new()), node));
    let interactions = Arc::new(interactions::Interactions::new(config.clone(), recorder.clone()));
    let on_end = interactions.clone();
    registry.on_session_end(Arc::new(move |session| on_end.cobrowse_ended(session)));
    let deps = SessionDeps { config: config.clone(), recorder, metrics };
    let state = Arc::new(Shared::new(config, registry, deps, interactions, store));
    (Background { recorder: recorder_task, webhooks: webhook_workers }, state)
}

/// How often chats are checked for customers gone too long.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            for session in state.interactions.sweep(tokio::time::Instant::now()) {
                interactions::http::end_linked_session(&state, session).await;
            }
        }
    })
}

/// State for router tests that need no store on disk: an in-memory SQLite store.
pub async fn test_state(config: Config) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.expect("in-memory SQLite opens"));
    build_state(config, store).1
}
