//! `GET /ws/v1`: the WebSocket upgrade.

use super::client::{classify_origin, OriginKind};
use crate::error::ApiError;
use crate::relay::connection::{self, Origin};
use crate::state::AppState;
use crate::websocket::Upgrade;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cobrowse_protocol::ErrorCode;

/// Upgrades to a WebSocket if the origin is allowed and a connection slot is free.
pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: Upgrade) -> Response {
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
    // Frames between the limit and twice it are refused one by one with a `frame_too_large`
    // error, and the connection goes on; beyond that the socket stops reading at the header (so a
    // huge length costs no memory) and the connection closes after the same error.
    let hard_cap = state.config.limits.max_frame_bytes.saturating_mul(2);
    let tasks = state.tasks.clone();
    let origin = Origin { same_site: matches!(origin, OriginKind::Absent | OriginKind::SameSite) };
    upgrade.max_message_size(hard_cap).on_upgrade(move |socket| {
        tasks.track_future(async move {
            connection::serve(state, socket, origin).await;
            drop(permit);
        })
    })
}
