//! The values the [`Store`](crate::Store) trait speaks: what goes in ([`RecordEvent`]), what comes
//! out ([`SessionRecord`], [`SessionSummary`]) and how to ask ([`SessionQuery`]).
//!
//! They hold no database types, so every backend takes and returns the same values. The read
//! types serialize (times as RFC 3339) so the HTTP API can return them as they are.

use cobrowse_protocol::{EndReason, Mode, Role, SessionId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

/// The identity of one session's record.
///
/// A session's public ID (nine digits) is unique only among live sessions and is handed out
/// again later, so it cannot key history; every session gets a record ID of its own when it is
/// created, and reports, links and the store use that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub Uuid);

impl RecordId {
    /// A fresh random record ID, for a session being created.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl fmt::Display for RecordId {
    /// The UUID, lowercase and hyphenated: the stored form and the one in URLs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for RecordId {
    type Err = uuid::Error;

    /// Reads a record ID from a URL path or a stored value.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Something that happened in a session, appended to its record.
///
/// The server sends these as the session goes; the store keeps them. The store does not enforce
/// the session's state machine (the server does): it keeps what it is told, except that a second
/// `Ended` is ignored, and an event for a record that was never created is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordEvent {
    /// The customer created the session: this opens the record.
    Created {
        /// The new record's ID.
        record: RecordId,
        /// The public ID the session was given.
        session: SessionId,
        /// When.
        at: OffsetDateTime,
        /// The chat or call the session rides on, when the customer's page named it.
        interaction: Option<String>,
        /// The site origin the session was started from.
        origin: Option<String>,
    },
    /// An agent joined. It may happen more than once (a second agent, or an agent who left and
    /// another who came): the record keeps the first join's time and the latest agent, and every
    /// join in [`SessionRecord::joins`].
    Joined {
        /// The record.
        record: RecordId,
        /// The agent's account ID.
        agent_id: String,
        /// The agent's name as shown to the customer.
        agent_name: String,
        /// When.
        at: OffsetDateTime,
    },
    /// The mode changed (pointer ⇄ write).
    ModeChanged {
        /// The record.
        record: RecordId,
        /// The mode now in force.
        mode: Mode,
        /// Who caused the change.
        by: Role,
        /// When.
        at: OffsetDateTime,
    },
    /// The customer's page changed. Every event is kept; the caller drops repeats.
    PageVisited {
        /// The record.
        record: RecordId,
        /// The page's absolute URL.
        url: String,
        /// The page's title.
        title: String,
        /// When.
        at: OffsetDateTime,
    },
    /// The session was tied to the chat or call it rides on after creation (a voice session is
    /// linked when the agent on the call joins). Replaces the recorded interaction reference.
    InteractionLinked {
        /// The record.
        record: RecordId,
        /// The interaction reference (`chat:ID`, `call:ID`).
        interaction: String,
        /// When.
        at: OffsetDateTime,
    },
    /// The session ended. Only the first end counts; a later one is ignored without error.
    Ended {
        /// The record.
        record: RecordId,
        /// Why it ended.
        reason: EndReason,
        /// When.
        at: OffsetDateTime,
    },
}

impl RecordEvent {
    /// The record the event belongs to, for logs and for routing events per record.
    pub fn record(&self) -> RecordId {
        match self {
            Self::Created { record, .. }
            | Self::Joined { record, .. }
            | Self::ModeChanged { record, .. }
            | Self::PageVisited { record, .. }
            | Self::InteractionLinked { record, .. }
            | Self::Ended { record, .. } => *record,
        }
    }
}

/// One session's whole record, as the session-detail report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The record's ID.
    pub record: RecordId,
    /// The public ID the session had.
    pub session: SessionId,
    /// When the customer created the session.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the first agent joined; `None` when no agent ever did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub joined_at: Option<OffsetDateTime>,
    /// When the session ended; `None` while it is live.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The latest agent to join.
    pub agent_id: Option<String>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// The chat or call the session rode on.
    pub interaction: Option<String>,
    /// The site origin the session was started from.
    pub origin: Option<String>,
    /// Why the session ended; `None` while it is live.
    pub end_reason: Option<EndReason>,
    /// Every agent join, oldest first.
    pub joins: Vec<AgentJoin>,
    /// Every mode change, oldest first.
    pub modes: Vec<ModeChange>,
    /// Every page visited, oldest first.
    pub pages: Vec<PageVisit>,
}

/// An agent joining a session, as kept in its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentJoin {
    /// The agent's account ID.
    pub agent_id: String,
    /// The agent's name.
    pub agent_name: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A mode change, as kept in a session's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeChange {
    /// The mode now in force.
    pub mode: Mode,
    /// Who caused the change.
    pub by: Role,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A page the customer visited, as kept in a session's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageVisit {
    /// The page's absolute URL.
    pub url: String,
    /// The page's title.
    pub title: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One line of the session list: a record without its event lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The record's ID, to fetch the whole record.
    pub record: RecordId,
    /// The public ID the session had.
    pub session: SessionId,
    /// When the customer created the session.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the first agent joined.
    #[serde(with = "time::serde::rfc3339::option")]
    pub joined_at: Option<OffsetDateTime>,
    /// When the session ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The latest agent to join.
    pub agent_id: Option<String>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// Why the session ended.
    pub end_reason: Option<EndReason>,
    /// How many pages the customer visited.
    pub pages: u32,
}

/// Which summaries [`Store::sessions`](crate::Store::sessions) returns. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionQuery {
    /// Only records of this public session ID (it may have been used by several sessions).
    pub session: Option<SessionId>,
    /// Only sessions this agent joined (at any point, not only as the latest agent).
    pub agent_id: Option<String>,
    /// Only sessions created at or after this time.
    pub since: Option<OffsetDateTime>,
    /// At most this many summaries; anything above [`SessionQuery::MAX_LIMIT`] counts as it.
    pub limit: u32,
}

impl SessionQuery {
    /// The most summaries one query returns, so one request cannot read the whole history.
    pub const MAX_LIMIT: u32 = 500;
    /// The limit of [`SessionQuery::default`].
    pub const DEFAULT_LIMIT: u32 = 100;

    /// The limit the store applies: [`SessionQuery::limit`] capped at [`SessionQuery::MAX_LIMIT`].
    pub fn effective_limit(&self) -> u32 {
        self.limit.min(Self::MAX_LIMIT)
    }
}

impl Default for SessionQuery {
    /// No filter, the [`SessionQuery::DEFAULT_LIMIT`] newest (a zero limit would return nothing).
    fn default() -> Self {
        Self { session: None, agent_id: None, since: None, limit: Self::DEFAULT_LIMIT }
    }
}
