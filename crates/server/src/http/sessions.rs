//! Creating, joining and watching sessions.

use super::client::{classify_origin, ClientAddress, OriginKind};
use crate::auth::AuthenticatedAgent;
use crate::error::ApiError;
use crate::sessions::registry::{CreateError, Lookup};
use crate::sessions::session::JoinRefusal;
use crate::sessions::watchdog;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use cobrowse_protocol::{ErrorCode, Role, SessionId, SessionState, PROTOCOL_VERSION};
use cobrowse_store::RecordEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::time::Instant;

/// Where clients open their WebSocket.
pub const WS_PATH: &str = "/ws/v1";

/// Optional details of a new session.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// A reference the site keeps for the session (its own CRM case, say); recorded as given.
    #[serde(default)]
    pub interaction: Option<String>,
    /// The built-in chat this session starts from (the widget's "Start co-browse").
    #[serde(default)]
    pub chat: Option<ChatRef>,
    /// `"voice"`: the customer is on a call ("browse with you"); the session is tied to the call
    /// when the agent on it joins.
    #[serde(default)]
    pub channel: Option<String>,
}

/// A chat and the customer's token for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRef {
    /// The chat's ID.
    pub id: String,
    /// The customer's chat token.
    pub token: String,
}

/// A new session, as the customer's browser receives it.
#[derive(Debug, Serialize)]
pub struct CreatedSession {
    /// The nine digits to read aloud.
    pub id: SessionId,
    /// The sharer's secret: the only thing that grants the customer role.
    pub token: String,
    /// Path of the WebSocket endpoint.
    pub ws_url: &'static str,
    /// Protocol version to say in `hello`.
    pub protocol_version: u32,
    /// Seconds an agent has to join.
    pub pending_timeout_secs: u64,
    /// Masking, restrictions and write-mode policy for the SDK.
    pub policy: crate::config::Policy,
}

/// `POST /api/v1/sessions`: the customer starts co-browsing.
pub async fn create(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<CreatedSession>), ApiError> {
    let origin = classify_origin(&headers, &state.site_origins);
    if origin == OriginKind::Foreign {
        return Err(ApiError::origin_not_allowed());
    }
    state.limiters.sessions_per_address.check(&address).map_err(ApiError::rate_limited)?;
    // The body is optional: the SDK may send nothing, `{}`, or details.
    let request: CreateSession = if body.iter().all(u8::is_ascii_whitespace) {
        CreateSession::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| ApiError::invalid(format!("invalid session request: {err}")))?
    };
    if request.interaction.as_ref().is_some_and(|i| i.len() > 256) {
        return Err(ApiError::invalid("interaction references are at most 256 characters"));
    }
    let voice = match request.channel.as_deref() {
        None => false,
        Some("voice") => true,
        Some(_) => return Err(ApiError::invalid("channel is \"voice\" when given")),
    };
    if request.chat.is_none() && !voice && !state.config.policy.standalone_sessions {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InteractionRequired,
            "co-browse runs alongside a chat or a call with an agent: start a chat or call us first",
        ));
    }
    let (handle, token) = state.registry.create(state.deps.clone()).await.map_err(|err| match err {
        CreateError::AtCapacity => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::AtCapacity,
            "the server is at capacity; try again shortly",
        ),
        CreateError::Unavailable(detail) => ApiError::internal(detail),
    })?;
    state.metrics.session_created();
    let mut interaction = request.interaction;
    if let Some(chat) = &request.chat {
        if let Err(refusal) = state.interactions.link_chat(&chat.id, &chat.token, handle.id) {
            state.registry.end(&handle, cobrowse_protocol::EndReason::InteractionEnded).await;
            return Err(refusal.into());
        }
        let link = crate::interactions::Link::Chat(chat.id.clone());
        interaction = Some(link.reference());
        handle.set_link(link);
    }
    let origin_text = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.deps.recorder.record(RecordEvent::Created {
        record: handle.record,
        session: handle.id,
        at: OffsetDateTime::now_utc(),
        interaction,
        origin: origin_text,
    });
    watchdog::spawn(handle.clone(), state.registry.clone());
    tracing::info!(session = %handle.id, "session created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedSession {
            id: handle.id,
            token,
            ws_url: WS_PATH,
            protocol_version: PROTOCOL_VERSION,
            pending_timeout_secs: state.config.timeouts.pending.as_secs(),
            policy: state.config.policy.clone(),
        }),
    ))
}

/// A granted join.
#[derive(Debug, Serialize)]
pub struct Joined {
    /// The participant token to say in `hello`.
    pub token: String,
    /// The session.
    pub session: SessionId,
    /// Path of the WebSocket endpoint.
    pub ws_url: &'static str,
    /// Whether policy allows write mode (the workspace hides the toggle when not).
    pub write_mode_allowed: bool,
    /// The session's state after the join.
    pub state: SessionState,
}

fn parse_id(text: &str) -> Result<SessionId, ApiError> {
    text.parse().map_err(|_| ApiError::invalid("a session ID is nine digits, as the customer sees it"))
}

fn live_session(
    state: &AppState,
    id: SessionId,
) -> Result<std::sync::Arc<crate::sessions::session::SessionHandle>, ApiError> {
    match state.registry.lookup(id) {
        Lookup::Live(handle) => Ok(handle),
        Lookup::Ended(_) => Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::SessionEnded,
            "this session has ended; the customer can start a new one",
        )),
        Lookup::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::SessionNotFound,
            "no live session has this ID; check the digits with the customer",
        )),
    }
}

/// `POST /api/v1/sessions/{id}/join`: an agent joins with the ID the customer read out.
pub async fn join(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    ClientAddress(address): ClientAddress,
    Path(id): Path<String>,
) -> Result<Json<Joined>, ApiError> {
    state.limiters.joins_per_agent.check(&agent.id).map_err(ApiError::rate_limited)?;
    state.limiters.joins_per_address.check(&address).map_err(ApiError::rate_limited)?;
    let id = parse_id(&id)?;
    let handle = live_session(&state, id)?;
    let linked_call = bind_interaction(&state, &handle, &agent.id)?;
    let claimed = state.registry.claim_agent(&agent.id, id).await.map_err(ApiError::internal)?;
    if !claimed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::AgentBusy,
            "you already have a co-browse session; exit it before joining another",
        ));
    }
    match handle.join(Role::Agent, &agent.id, &agent.name, Instant::now()) {
        Ok(token) => {
            if let Some(call) = linked_call {
                let link = crate::interactions::Link::Call(call);
                state.deps.recorder.record(RecordEvent::InteractionLinked {
                    record: handle.record,
                    interaction: link.reference(),
                    at: OffsetDateTime::now_utc(),
                });
                handle.set_link(link);
            }
            tracing::info!(session = %id, agent = %agent.id, "agent joined");
            Ok(Json(Joined {
                token,
                session: id,
                ws_url: WS_PATH,
                write_mode_allowed: state.config.policy.write_mode_allowed,
                state: handle.state(),
            }))
        }
        Err(refusal) => {
            state.registry.release_agent(&agent.id, id).await;
            Err(match refusal {
                JoinRefusal::Ended => {
                    ApiError::new(StatusCode::GONE, ErrorCode::SessionEnded, "this session has ended")
                }
                JoinRefusal::Taken => ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::SessionTaken,
                    "another agent is already in this session",
                ),
            })
        }
    }
}

/// Checks that the joining agent is the one the session's conversation is with. A chat's
/// session belongs to the chat's agent; a session not yet tied to anything is tied to the
/// agent's call now (returned), or refused when the agent is on no call and sessions must ride
/// on one.
fn bind_interaction(
    state: &AppState,
    handle: &crate::sessions::session::SessionHandle,
    agent: &str,
) -> Result<Option<String>, ApiError> {
    match handle.link() {
        Some(crate::interactions::Link::Chat(chat)) => {
            if state.interactions.chat_agent(&chat).as_deref() == Some(agent) {
                Ok(None)
            } else {
                Err(ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::SessionTaken,
                    "this session belongs to another agent's chat",
                ))
            }
        }
        Some(crate::interactions::Link::Call(_)) => Ok(None),
        None => match state.interactions.link_agent_call(agent, handle.id) {
            Some(call) => Ok(Some(call)),
            None if state.config.policy.standalone_sessions => Ok(None),
            None => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InteractionRequired,
                "join a customer's session while you are on their call (or open it from their chat)",
            )),
        },
    }
}

/// `POST /api/v1/sessions/{id}/watch`: a supervisor watches read-only, when policy allows.
pub async fn watch(
    State(state): State<AppState>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Path(id): Path<String>,
) -> Result<Json<Joined>, ApiError> {
    if !state.config.policy.observers_allowed || !agent.supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::WrongRole,
            "watching sessions needs a supervisor account and a policy that allows it",
        ));
    }
    state.limiters.joins_per_agent.check(&agent.id).map_err(ApiError::rate_limited)?;
    let id = parse_id(&id)?;
    let handle = live_session(&state, id)?;
    let token = handle
        .join(Role::Observer, &agent.id, &agent.name, Instant::now())
        .map_err(|_| ApiError::new(StatusCode::GONE, ErrorCode::SessionEnded, "this session has ended"))?;
    Ok(Json(Joined { token, session: id, ws_url: WS_PATH, write_mode_allowed: false, state: handle.state() }))
}

/// `GET /api/v1/sdk/config`: the policy the SDK applies before any session exists.
pub async fn sdk_config(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<crate::config::Policy>, ApiError> {
    if classify_origin(&headers, &state.site_origins) == OriginKind::Foreign {
        return Err(ApiError::origin_not_allowed());
    }
    Ok(Json(state.config.policy.clone()))
}
