//! Session records of Cobrowse: what happened in each co-browse session, kept for reports.
//!
//! The server appends [`RecordEvent`]s as a session goes and reads records back for the reports
//! API. It talks only to the [`Store`] trait, so the database is a deployment choice: the
//! embedded SQLite backend (a file in the data directory, nothing to install) now, PostgreSQL for
//! a cluster later, each a backend of its own with its own migrations.
//!
//! Layout:
//! - this file: the [`Store`] trait, the one thing the server depends on.
//! - [`model`]: the values the trait speaks ([`RecordId`], [`RecordEvent`], [`SessionRecord`],
//!   [`SessionSummary`], [`SessionQuery`]); no database types, so every backend shares them.
//! - [`error`]: [`StoreError`], the same for every backend.
//! - [`interactions`]: chats and calls, chat transcripts and the webhook delivery log.
//! - `stored`: the stored form of enums and times, shared by the backends so their rows agree.
//! - [`sqlite`]: [`SqliteStore`], the SQLite backend. Its schema is `migrations/sqlite/`; a
//!   shipped migration is never edited, a change is a new numbered file.
//!
//! What a record keeps, and why:
//! - The public session ID is unique only among live sessions and is reused later, so each
//!   session has its own [`RecordId`], and a public session ID can name several records over time.
//! - A record may be joined by several agents over its life. It keeps the first join's time (how
//!   long the customer waited) and the latest agent (who had the session last) in its summary,
//!   and every join in [`SessionRecord::joins`]; the `agent_id` filter matches any agent who
//!   joined.
//! - Times are `time::OffsetDateTime`, stored to the microsecond (PostgreSQL's precision, so both
//!   backends give back the same value) and read back in UTC.

pub mod error;
pub mod interactions;
pub mod model;
pub mod sqlite;
mod sqlite_interactions;
mod stored;

pub use error::StoreError;
pub use interactions::{
    DeliveryOutcome, InteractionEvent, InteractionKind, InteractionRecord, TranscriptLine, WebhookDelivery,
};
pub use model::{AgentJoin, ModeChange, PageVisit, RecordEvent, RecordId, SessionQuery, SessionRecord, SessionSummary};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use cobrowse_protocol::EndReason;
use time::OffsetDateTime;

/// Where session records live. The server holds one as `Arc<dyn Store>` and never knows which
/// database is behind it.
///
/// Times are kept to the microsecond (anything finer is dropped) and come back in UTC.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Appends one event to a session's record. Events for one record arrive in order.
    ///
    /// Fails with [`StoreError::UnknownRecord`] for an event other than `Created` whose record
    /// does not exist, and [`StoreError::DuplicateRecord`] for a second `Created`. A second
    /// `Ended` is ignored: the first end stands.
    async fn record(&self, event: RecordEvent) -> Result<(), StoreError>;

    /// One session's full record, or `None` when there is no such record.
    async fn session(&self, id: RecordId) -> Result<Option<SessionRecord>, StoreError>;

    /// Summaries, newest first (by creation; records created at the same microsecond come in
    /// reverse order of creation), filtered by `query`.
    async fn sessions(&self, query: &SessionQuery) -> Result<Vec<SessionSummary>, StoreError>;

    /// Marks every record still open (no end) as ended with `reason` at `at`, and returns how
    /// many. Used at startup to close the records a crashed process left open.
    async fn close_open_records(&self, reason: EndReason, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Appends an event of a chat or call: started, assigned, a chat message, ended. Starting an
    /// interaction twice, or storing a message number twice, keeps the first; ending twice keeps
    /// the first end.
    async fn record_interaction(&self, event: InteractionEvent) -> Result<(), StoreError>;

    /// One interaction, or `None`.
    async fn interaction(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError>;

    /// A chat's transcript in order (empty for an unknown chat or a call).
    async fn transcript(&self, id: &str) -> Result<Vec<TranscriptLine>, StoreError>;

    /// Logs one webhook delivery attempt.
    async fn record_delivery(&self, delivery: WebhookDelivery) -> Result<(), StoreError>;

    /// The latest delivery attempts, newest first (at most 1,000).
    async fn deliveries(&self, limit: u32) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Flushes and closes the connections. Calls made after it fail with
    /// [`StoreError::Database`].
    async fn close(&self);
}
