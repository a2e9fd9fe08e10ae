//! `GET /ws/v1`: the WebSocket upgrade.

use super::client::{classify_origin, OriginKind};
use crate::error::ApiError;
use crate::relay::connection::{self, Origin};
use crate::state::AppState;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cobrowse_protocol::ErrorCode;

/// How much the WebSocket reader asks the kernel for per read. The library zero-fills this much
/// of its buffer before every read, so its default (128 KiB) cost a third of the server's CPU
/// under load and kept 128 KiB resident per socket; most frames are far smaller, and a large one
/// simply takes a few reads.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Upgrades to a WebSocket if the origin is allowed and a connection slot is free.
pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let origin = classify_origin(&headers, &state.site_origins);
    if origin == OriginKind::Foreign {
        return ApiError::origin_not_allowed().into_response();
    }
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        state.metrics.error(ErrorCode::AtCapacity);
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::AtCapacity,
            "too many connections; try again shortly",
        )
        .into_response();
    };
    // The library refuses frames beyond twice the limit outright; frames between the limit and
    // that get a clear `frame_too_large` error from the connection loop instead.
    let hard_cap = state.config.limits.max_frame_bytes.saturating_mul(2);
    let tasks = state.tasks.clone();
    let origin = Origin { same_site: matches!(origin, OriginKind::Absent | OriginKind::SameSite) };
    upgrade.max_message_size(hard_cap).max_frame_size(hard_cap).read_buffer_size(READ_BUFFER_BYTES).on_upgrade(
        move |socket| {
            tasks.track_future(async move {
                connection::serve(state, socket, origin).await;
                drop(permit);
            })
        },
    )
}
