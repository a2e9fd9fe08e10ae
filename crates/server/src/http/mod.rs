//! HTTP: the router and its handlers, one file per area.

pub mod assets;
pub mod auth;
pub mod client;
pub mod health;
pub mod listen;
pub mod sessions;
pub mod ws;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use cobrowse_protocol::ErrorCode;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Largest JSON body the API accepts. Every request body is small; frames go over the socket.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every HTTP API route as `(method, path)`, as the OpenAPI document must describe them.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    ("post", "/api/v1/sessions"),
    ("get", "/api/v1/sdk/config"),
    ("post", "/api/v1/sessions/{id}/join"),
    ("post", "/api/v1/sessions/{id}/watch"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("get", "/ws/v1"),
    ("get", "/proxy"),
    ("post", "/api/v1/chats"),
    ("get", "/ws/v1/chat"),
    ("get", "/ws/v1/desk"),
    ("get", "/api/v1/chats/{id}/transcript"),
    ("post", "/api/v1/telephony/events"),
    ("post", "/api/v1/demo/calls"),
    ("get", "/api/v1/webhooks/deliveries"),
];

/// The whole HTTP surface, callable without a socket (tests use `oneshot`).
pub fn app(state: AppState) -> Router {
    let site_origins = state.site_origins.clone();
    // Company sites call these two from their own origin; the browser needs CORS to read replies.
    let site_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().ok().and_then(crate::config::normalize_origin).is_some_and(|o| site_origins.contains(&o))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let site_api = Router::new()
        .route("/api/v1/sessions", post(sessions::create))
        .route("/api/v1/sdk/config", get(sessions::sdk_config))
        .route("/api/v1/chats", post(crate::interactions::http::start_chat))
        .layer(site_cors);

    let mut router = Router::new()
        .route("/", get(assets::root))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/api/openapi.json", get(health::openapi))
        .route("/api/v1/sessions/{id}/join", post(sessions::join))
        .route("/api/v1/sessions/{id}/watch", post(sessions::watch))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route("/ws/v1", get(ws::upgrade))
        .route(crate::proxy::PROXY_PATH, get(crate::proxy::handler))
        .route("/ws/v1/chat", get(crate::interactions::http::chat_socket))
        .route("/ws/v1/desk", get(crate::interactions::http::desk_socket))
        .route("/api/v1/chats/{id}/transcript", get(crate::interactions::http::transcript))
        .route("/api/v1/telephony/events", post(crate::interactions::http::call_event))
        .route("/api/v1/demo/calls", post(crate::interactions::http::demo_call))
        .route("/api/v1/webhooks/deliveries", get(crate::interactions::http::deliveries))
        .route("/sdk/{*path}", get(assets::sdk))
        .route("/agent", get(|| async { Redirect::permanent("/agent/") }))
        .route("/agent/", get(assets::agent))
        .route("/agent/{*path}", get(assets::agent))
        .merge(site_api);
    if state.config.demo_site {
        router = router
            .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
            .route("/demo/", get(assets::demo))
            .route("/demo/{*path}", get(assets::demo));
    }
    router
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, ErrorCode::InvalidRequest, "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
