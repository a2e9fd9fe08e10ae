//! HTTP of the interactions: starting a chat, the chat and desk sockets, transcripts, the
//! telephony API, the demo's simulated call, and the webhook delivery log.

use super::{CallEvent, CallEventKind, EventOutcome};
use crate::auth::AuthenticatedAgent;
use crate::error::ApiError;
use crate::http::client::{classify_origin, ClientAddress, OriginKind};
use crate::sessions::registry::Lookup;
use crate::state::AppState;
use crate::websocket::Upgrade;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cobrowse_protocol::{EndReason, ErrorCode, SessionId};
use serde::{Deserialize, Serialize};

/// Path of the customer's chat socket.
pub const CHAT_WS_PATH: &str = "/ws/v1/chat";

impl From<super::state::Refusal> for ApiError {
    fn from(refusal: super::state::Refusal) -> Self {
        let status = match refusal.code {
            ErrorCode::UnknownInteraction | ErrorCode::UnknownAgent => StatusCode::NOT_FOUND,
            ErrorCode::InteractionRequired => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ChatTaken | ErrorCode::SessionTaken => StatusCode::CONFLICT,
            ErrorCode::Unauthorized => StatusCode::FORBIDDEN,
            ErrorCode::AtCapacity => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::LimitExceeded => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, refusal.code, refusal.message)
    }
}

/// Ends the co-browse session riding on an interaction that ended, transferred or conferenced.
pub async fn end_linked_session(state: &AppState, session: SessionId) {
    if let Lookup::Live(handle) = state.registry.lookup(session) {
        state.registry.end(&handle, EndReason::InteractionEnded).await;
    }
}

/// A new chat.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartChat {
    /// The customer's name.
    pub name: String,
    /// An optional first message.
    #[serde(default)]
    pub message: Option<String>,
}

/// A started chat, as the widget receives it.
#[derive(Debug, Serialize)]
pub struct StartedChat {
    /// The chat's ID.
    pub id: String,
    /// The customer's secret for the chat socket and for linking co-browse.
    pub token: String,
    /// Path of the chat socket.
    pub ws_url: &'static str,
}

/// `POST /api/v1/chats`: a customer starts a chat and enters the queue.
pub async fn start_chat(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Json<StartChat>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<StartedChat>), ApiError> {
    if classify_origin(&headers, &state.site_origins) == OriginKind::Foreign {
        return Err(ApiError::origin_not_allowed());
    }
    let Json(body) = body?;
    state.limiters.sessions_per_address.check(&address).map_err(ApiError::rate_limited)?;
    let (id, token) = state.interactions.start_chat(&body.name, body.message.as_deref())?;
    Ok((StatusCode::CREATED, Json(StartedChat { id, token, ws_url: CHAT_WS_PATH })))
}

/// `GET /ws/v1/chat`.
pub async fn chat_socket(State(state): State<AppState>, headers: HeaderMap, upgrade: Upgrade) -> Response {
    if classify_origin(&headers, &state.site_origins) == OriginKind::Foreign {
        return ApiError::origin_not_allowed().into_response();
    }
    let tasks = state.tasks.clone();
    upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| tasks.track_future(super::chat_socket::serve(state, socket)))
}

/// `GET /ws/v1/desk`: the signed-in agent's desk.
pub async fn desk_socket(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    if !matches!(classify_origin(&headers, &state.site_origins), OriginKind::Absent | OriginKind::SameSite) {
        return ApiError::origin_not_allowed().into_response();
    }
    let tasks = state.tasks.clone();
    upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| tasks.track_future(super::desk_socket::serve(state, socket, agent)))
}

/// A chat's transcript.
#[derive(Debug, Serialize)]
pub struct Transcript {
    /// The chat.
    pub chat: String,
    /// Its messages in order.
    pub messages: Vec<cobrowse_store::TranscriptLine>,
}

/// `GET /api/v1/chats/{id}/transcript`: the chat's agent or a supervisor reads it.
pub async fn transcript(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Path(id): Path<String>,
) -> Result<Json<Transcript>, ApiError> {
    let record = state.store.interaction(&id).await.map_err(ApiError::internal)?;
    let Some(record) = record else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::UnknownInteraction, "no chat has this ID"));
    };
    if record.agent_id.as_deref() != Some(agent.id.as_str()) && !agent.supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::WrongRole,
            "only the chat's agent or a supervisor may read it",
        ));
    }
    let messages = state.store.transcript(&id).await.map_err(ApiError::internal)?;
    Ok(Json(Transcript { chat: id, messages }))
}

/// The answer to a telephony event.
#[derive(Debug, Serialize)]
pub struct EventAnswer {
    /// What the event did.
    pub outcome: EventOutcome,
    /// Whether the agent it names has a desk open right now (a call for an offline agent is
    /// still recorded; their desk shows it when they sign in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_online: Option<bool>,
    /// The co-browse session the event ended, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_cobrowse: Option<SessionId>,
}

fn telephony_token_ok(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    state
        .config
        .telephony
        .tokens
        .iter()
        .any(|known| crate::sessions::participant::constant_time_eq(known.as_bytes(), token.trim().as_bytes()))
}

async fn apply_call_event(state: &AppState, event: CallEvent) -> Result<EventAnswer, ApiError> {
    let agent = event.agent.clone();
    let known = |id: &str| state.config.agents.iter().any(|a| a.id == id);
    let (outcome, session) = state.interactions.call_event(event, known)?;
    if let Some(session) = session {
        end_linked_session(state, session).await;
    }
    let agent_online = agent.map(|a| state.interactions.lock().desks.get(&a).is_some_and(|d| !d.outlets.is_empty()));
    Ok(EventAnswer { outcome, agent_online, ended_cobrowse: session })
}

/// `POST /api/v1/telephony/events`: the telephony system reports a call event.
pub async fn call_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CallEvent>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<EventAnswer>, ApiError> {
    if !telephony_token_ok(&state, &headers) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "a telephony token is required",
        ));
    }
    let Json(event) = body?;
    Ok(Json(apply_call_event(&state, event).await?))
}

/// The demo's simulated call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoCall {
    /// `start` or `end`.
    pub action: String,
    /// Who calls (start).
    #[serde(default)]
    pub caller: Option<String>,
}

/// `POST /api/v1/demo/calls`: in the demo, a signed-in agent simulates a call to themselves.
pub async fn demo_call(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Json(body): Json<DemoCall>,
) -> Result<Json<EventAnswer>, ApiError> {
    if !state.config.demo_site {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::InvalidRequest, "only the demo simulates calls"));
    }
    let existing = state.interactions.lock().active_call_of(&agent.id).map(|c| c.id.clone());
    let event = match (body.action.as_str(), existing) {
        ("start", None) => CallEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            call: format!("demo-call-{}", uuid::Uuid::new_v4().simple()),
            kind: CallEventKind::Started,
            agent: Some(agent.id.clone()),
            caller: Some(body.caller.unwrap_or_else(|| "+1 555 0100 (demo)".into())),
            at: None,
        },
        ("start", Some(_)) => return Err(ApiError::invalid("you are already on a call")),
        ("end", Some(call)) => CallEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            call,
            kind: CallEventKind::Ended,
            agent: None,
            caller: None,
            at: None,
        },
        ("end", None) => return Err(ApiError::invalid("you are not on a call")),
        _ => return Err(ApiError::invalid("action is start or end")),
    };
    Ok(Json(apply_call_event(&state, event).await?))
}

/// `GET /api/v1/webhooks/deliveries` query.
#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    /// How many, newest first (default 100, at most 1,000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /api/v1/webhooks/deliveries`: the delivery log, for supervisors.
pub async fn deliveries(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<cobrowse_store::WebhookDelivery>>, ApiError> {
    if !agent.supervisor {
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::WrongRole, "the delivery log is for supervisors"));
    }
    let log = state.store.deliveries(query.limit.unwrap_or(100).min(1000)).await.map_err(ApiError::internal)?;
    Ok(Json(log))
}
