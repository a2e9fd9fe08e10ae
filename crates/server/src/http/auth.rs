//! Agents sign in and out.

use super::client::ClientAddress;
use crate::auth::{request_token, AgentIdentity, AuthenticatedAgent, AUTH_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cobrowse_protocol::ErrorCode;
use serde::{Deserialize, Serialize};

/// Sign-in credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The agent's ID.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A successful sign-in.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    /// Bearer token (the workspace uses the cookie instead).
    pub token: String,
    /// Who signed in.
    pub agent: AgentIdentity,
}

/// `POST /api/v1/auth/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Result<Json<SignIn>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    state.limiters.logins_per_address.check(&address).map_err(ApiError::rate_limited)?;
    if body.username.len() > 128 || body.password.len() > 1024 {
        return Err(ApiError::invalid("user name or password too long"));
    }
    let Some((token, agent)) = state.auth.sign_in(&body.username, &body.password).await else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "wrong user name or password"));
    };
    let max_age = state.config.timeouts.agent_login.as_secs();
    let cookie = format!("{AUTH_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    let mut response = Json(SignedIn { token, agent }).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/v1/auth/logout`.
pub async fn logout(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if let Ok(AuthenticatedAgent(_)) = AuthenticatedAgent::from_request_parts(&mut parts, &state).await {
        if let Some(token) = request_token(&parts) {
            state.auth.sign_out(&token);
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{AUTH_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Who is signed in, and what the workspace should offer.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The agent.
    pub agent: AgentIdentity,
    /// The server runs the demo: the workspace offers a simulated call.
    pub demo: bool,
    /// Whether policy allows write mode (the workspace hides the toggle when not).
    pub write_mode_allowed: bool,
    /// Whether supervisors may watch sessions.
    pub observers_allowed: bool,
}

/// `GET /api/v1/auth/me`.
pub async fn me(State(state): State<AppState>, AuthenticatedAgent(agent): AuthenticatedAgent) -> Json<Me> {
    let policy = &state.config.policy;
    Json(Me {
        agent,
        demo: state.config.demo_site,
        write_mode_allowed: policy.write_mode_allowed,
        observers_allowed: policy.observers_allowed,
    })
}
