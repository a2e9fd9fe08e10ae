//! Stable codes. Clients branch on these strings, so a code once shipped is never renamed.

use serde::{Deserialize, Serialize};

/// Why a request or frame was refused. Sent in `error` frames and in HTTP error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON or does not have the frame's shape.
    BadFrame,
    /// The frame's tag is not one this version knows.
    UnknownFrame,
    /// The frame is larger than the per-frame limit.
    FrameTooLarge,
    /// A binary message starts with a format byte this server does not know.
    UnknownEncoding,
    /// A compressed frame's data is corrupt or truncated.
    BadCompression,
    /// The client speaks another protocol version.
    VersionMismatch,
    /// The first frame on a socket was not `hello`.
    HelloRequired,
    /// The token does not grant the claimed role in this session.
    Unauthorized,
    /// No live session has this ID.
    SessionNotFound,
    /// The session has ended and can never be joined again.
    SessionEnded,
    /// This role may not send this frame.
    WrongRole,
    /// An agent action arrived while the session is in pointer mode.
    NotInWriteMode,
    /// Write mode is disabled by policy.
    WriteModeDisabled,
    /// A write-mode request is already waiting for the customer.
    ModeRequestPending,
    /// The agent already holds another co-browse session.
    AgentBusy,
    /// Another agent already holds this session.
    SessionTaken,
    /// The same participant connected again elsewhere (another tab took over); this socket closes.
    Superseded,
    /// The server is at its configured capacity.
    AtCapacity,
    /// Too many attempts; slow down.
    RateLimited,
    /// A size or count limit was exceeded (nodes per page, bytes per session, ...).
    LimitExceeded,
    /// The mirror refused an operation (unknown node, a cycle, ...); a resync follows.
    MirrorRejected,
    /// A sequence number skipped ahead: frames were lost and a resync follows.
    SequenceGap,
    /// The request's input is invalid (HTTP).
    InvalidRequest,
    /// Credentials were missing or wrong (HTTP).
    Unauthenticated,
    /// The request's origin is not an allowed site origin.
    OriginNotAllowed,
    /// Co-browse rides on a chat or a call, and the request named none that is going on.
    InteractionRequired,
    /// No chat or call has this ID.
    UnknownInteraction,
    /// No agent has this ID.
    UnknownAgent,
    /// The chat was already taken by another agent, or is not waiting.
    ChatTaken,
    /// A resource could not be fetched from the company's site (resource proxy).
    UpstreamFailed,
    /// The server is shutting down.
    ServerShutdown,
    /// Something failed on the server; details are in its log, not here.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad_frame",
            Self::UnknownFrame => "unknown_frame",
            Self::FrameTooLarge => "frame_too_large",
            Self::UnknownEncoding => "unknown_encoding",
            Self::BadCompression => "bad_compression",
            Self::VersionMismatch => "version_mismatch",
            Self::HelloRequired => "hello_required",
            Self::Unauthorized => "unauthorized",
            Self::SessionNotFound => "session_not_found",
            Self::SessionEnded => "session_ended",
            Self::WrongRole => "wrong_role",
            Self::NotInWriteMode => "not_in_write_mode",
            Self::WriteModeDisabled => "write_mode_disabled",
            Self::ModeRequestPending => "mode_request_pending",
            Self::AgentBusy => "agent_busy",
            Self::SessionTaken => "session_taken",
            Self::Superseded => "superseded",
            Self::AtCapacity => "at_capacity",
            Self::RateLimited => "rate_limited",
            Self::LimitExceeded => "limit_exceeded",
            Self::MirrorRejected => "mirror_rejected",
            Self::SequenceGap => "sequence_gap",
            Self::InvalidRequest => "invalid_request",
            Self::Unauthenticated => "unauthenticated",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::InteractionRequired => "interaction_required",
            Self::UnknownInteraction => "unknown_interaction",
            Self::UnknownAgent => "unknown_agent",
            Self::ChatTaken => "chat_taken",
            Self::UpstreamFailed => "upstream_failed",
            Self::ServerShutdown => "server_shutdown",
            Self::Internal => "internal",
        }
    }
}

/// Why a session ended. Recorded with the session and sent in the `ended` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The customer pressed exit.
    CustomerExit,
    /// The agent pressed exit.
    AgentExit,
    /// The chat or call the session rode on ended, was transferred or conferenced.
    InteractionEnded,
    /// No agent joined before the pending timeout.
    PendingTimeout,
    /// Nothing happened for the inactivity timeout.
    InactivityTimeout,
    /// The customer left the site (or lost the connection) for longer than allowed.
    CustomerAway,
    /// The agent closed the tab or lost the network and did not return in time.
    AgentAway,
    /// The server shut down.
    ServerShutdown,
    /// A participant broke the protocol beyond recovery.
    ProtocolError,
}

impl EndReason {
    /// Every reason, for reports and tests.
    pub const ALL: [EndReason; 9] = [
        Self::CustomerExit,
        Self::AgentExit,
        Self::InteractionEnded,
        Self::PendingTimeout,
        Self::InactivityTimeout,
        Self::CustomerAway,
        Self::AgentAway,
        Self::ServerShutdown,
        Self::ProtocolError,
    ];

    /// The reason as it appears on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerExit => "customer_exit",
            Self::AgentExit => "agent_exit",
            Self::InteractionEnded => "interaction_ended",
            Self::PendingTimeout => "pending_timeout",
            Self::InactivityTimeout => "inactivity_timeout",
            Self::CustomerAway => "customer_away",
            Self::AgentAway => "agent_away",
            Self::ServerShutdown => "server_shutdown",
            Self::ProtocolError => "protocol_error",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

/// Something a participant should be told about, shown as a notice in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeCode {
    /// An agent joined (to the customer) or this agent's join took effect.
    AgentJoined,
    /// An agent left the session (it may go on with other agents, or end).
    AgentLeft,
    /// An agent's connection dropped; the agent-reconnect grace is running.
    AgentAway,
    /// The agent came back within the grace.
    AgentBack,
    /// A supervisor started watching read-only.
    ObserverJoined,
    /// A supervisor stopped watching.
    ObserverLeft,
    /// The customer's connection dropped: a page load, another site, or the network.
    CustomerAway,
    /// The customer is back; a fresh page follows.
    CustomerBack,
    /// The customer denied the write-mode request.
    ModeDenied,
}

/// Why the customer's browser refused an agent action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The element is restricted for agents (a submit control, a configured selector).
    Restricted,
    /// The element is masked; agents may not read or change it.
    Masked,
    /// The node no longer exists on the page.
    NotFound,
    /// Navigation to an origin outside the allowed sites.
    OriginNotAllowed,
    /// Enter in a form would submit it.
    ImplicitSubmit,
    /// The session is not in write mode (the customer took it back in the meantime).
    NotInWriteMode,
    /// The action does not fit the element (typing into a div, selecting on an input).
    Unsupported,
}
