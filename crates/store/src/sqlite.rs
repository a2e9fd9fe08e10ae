//! [`SqliteStore`]: session records in an SQLite file, the default store (nothing to install).
//!
//! The schema is `migrations/sqlite/`, embedded in the binary and run when the store opens.
//! Queries are built at run time with bound parameters (there is no database at build time to
//! check them against); each row is read back through the `stored` conversions, so a value that
//! does not parse is a [`StoreError::Corrupt`], never a panic.
//!
//! Concurrency: the file is in WAL mode, so readers never wait for the writer, and writers queue
//! on SQLite's single write lock through the busy timeout instead of failing with "database is
//! locked". Every write is a single statement or a transaction begun with `BEGIN IMMEDIATE`,
//! which takes the write lock up front: a transaction that read first and then tried to write
//! could fail at once, without waiting.

use crate::error::StoreError;
use crate::model::{
    AgentJoin, ModeChange, PageVisit, RecordEvent, RecordId, SessionQuery, SessionRecord, SessionSummary,
};
use crate::stored::{from_micros, mode_str, parse_end_reason, parse_mode, parse_role, role_str, to_micros};
use crate::Store;
use async_trait::async_trait;
use cobrowse_protocol::{EndReason, SessionId};
use sqlx::error::ErrorKind;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a statement waits for another connection's write lock before giving up. Writes are
/// short, so this is only reached when the disk stalls.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to a database file. SQLite has one writer at a time, so more connections only
/// help readers (reports) run beside the writes.
const MAX_CONNECTIONS: u32 = 8;

/// How long a call waits for a free connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The session store in an SQLite database.
///
/// Cheap to share: it is a connection pool. Hold it (or the server's `Arc<dyn Store>`) for the
/// life of the process and call [`Store::close`] at shutdown.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it and its parent directories when missing,
    /// and brings its schema up to date.
    ///
    /// The file is put in WAL mode (readers beside one writer) with `synchronous = NORMAL`: a
    /// power cut may lose the last moments of records but never corrupts the file, and each
    /// event does not wait for a disk flush. Foreign keys are enforced.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    /// A store in memory, gone when it is closed or dropped: for tests and the demo.
    ///
    /// An in-memory database lives only as long as its connection, so the pool holds exactly one
    /// connection and never retires it; calls queue for it.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().in_memory(true).foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    /// Runs the migrations not yet applied (none, when the file is up to date) and wraps the pool.
    async fn migrated(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Opens the record. A record ID already present is a [`StoreError::DuplicateRecord`].
    async fn create(
        &self,
        record: RecordId,
        session: SessionId,
        at: OffsetDateTime,
        interaction: Option<String>,
        origin: Option<String>,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO sessions (record_id, session_id, created_at, interaction, origin) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(record.to_string())
        .bind(i64::from(session.get()))
        .bind(to_micros(at)?)
        .bind(interaction)
        .bind(origin)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.kind() == ErrorKind::UniqueViolation => {
                Err(StoreError::DuplicateRecord(record))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Keeps the first join's time, makes this agent the record's agent, and adds the join to
    /// the record's list, all or nothing.
    async fn join(
        &self,
        record: RecordId,
        agent_id: String,
        agent_name: String,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let at = to_micros(at)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(
            "UPDATE sessions SET joined_at = COALESCE(joined_at, ?), agent_id = ?, agent_name = ? WHERE record_id = ?",
        )
        .bind(at)
        .bind(&agent_id)
        .bind(&agent_name)
        .bind(record.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Dropping the transaction rolls it back; nothing was written anyway.
            return Err(StoreError::UnknownRecord(record));
        }
        sqlx::query("INSERT INTO session_joins (record_id, agent_id, agent_name, at) VALUES (?, ?, ?, ?)")
            .bind(record.to_string())
            .bind(agent_id)
            .bind(agent_name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the record unless it has ended already (the first end stands).
    async fn end(&self, record: RecordId, reason: EndReason, at: OffsetDateTime) -> Result<(), StoreError> {
        let updated =
            sqlx::query("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE record_id = ? AND ended_at IS NULL")
                .bind(to_micros(at)?)
                .bind(reason.as_str())
                .bind(record.to_string())
                .execute(&self.pool)
                .await?;
        if updated.rows_affected() == 0 && !self.exists(record).await? {
            return Err(StoreError::UnknownRecord(record));
        }
        Ok(())
    }

    /// Whether the record exists. Records are never deleted by the store, so a yes stays true.
    async fn exists(&self, record: RecordId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM sessions WHERE record_id = ?")
            .bind(record.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn record(&self, event: RecordEvent) -> Result<(), StoreError> {
        match event {
            RecordEvent::Created { record, session, at, interaction, origin } => {
                self.create(record, session, at, interaction, origin).await
            }
            RecordEvent::Joined { record, agent_id, agent_name, at } => {
                self.join(record, agent_id, agent_name, at).await
            }
            RecordEvent::ModeChanged { record, mode, by, at } => {
                // Inserting from the parent row adds nothing when the record does not exist,
                // which tells an unknown record apart without a second query.
                let inserted = sqlx::query(
                    "INSERT INTO session_modes (record_id, mode, by_role, at) \
                     SELECT record_id, ?, ?, ? FROM sessions WHERE record_id = ?",
                )
                .bind(mode_str(mode))
                .bind(role_str(by))
                .bind(to_micros(at)?)
                .bind(record.to_string())
                .execute(&self.pool)
                .await?;
                require_one(inserted.rows_affected(), record)
            }
            RecordEvent::PageVisited { record, url, title, at } => {
                let inserted = sqlx::query(
                    "INSERT INTO session_pages (record_id, url, title, at) \
                     SELECT record_id, ?, ?, ? FROM sessions WHERE record_id = ?",
                )
                .bind(url)
                .bind(title)
                .bind(to_micros(at)?)
                .bind(record.to_string())
                .execute(&self.pool)
                .await?;
                require_one(inserted.rows_affected(), record)
            }
            RecordEvent::InteractionLinked { record, interaction, at: _ } => {
                let updated = sqlx::query("UPDATE sessions SET interaction = ? WHERE record_id = ?")
                    .bind(interaction)
                    .bind(record.to_string())
                    .execute(&self.pool)
                    .await?;
                require_one(updated.rows_affected(), record)
            }
            RecordEvent::Ended { record, reason, at } => self.end(record, reason, at).await,
        }
    }

    async fn session(&self, id: RecordId) -> Result<Option<SessionRecord>, StoreError> {
        // One read transaction, so the record and its lists are the same moment's.
        let mut tx = self.pool.begin().await?;
        let key = id.to_string();
        let Some(row) = sqlx::query(
            "SELECT session_id, created_at, joined_at, ended_at, agent_id, agent_name, interaction, origin, \
             end_reason FROM sessions WHERE record_id = ?",
        )
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };

        let joins = sqlx::query("SELECT agent_id, agent_name, at FROM session_joins WHERE record_id = ? ORDER BY id")
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok(AgentJoin {
                    agent_id: column(row, "agent_id")?,
                    agent_name: column(row, "agent_name")?,
                    at: time_column(row, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let modes = sqlx::query("SELECT mode, by_role, at FROM session_modes WHERE record_id = ? ORDER BY id")
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok(ModeChange {
                    mode: parse_mode(&column::<String>(row, "mode")?)?,
                    by: parse_role(&column::<String>(row, "by_role")?)?,
                    at: time_column(row, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let pages = sqlx::query("SELECT url, title, at FROM session_pages WHERE record_id = ? ORDER BY id")
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok(PageVisit { url: column(row, "url")?, title: column(row, "title")?, at: time_column(row, "at")? })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        tx.commit().await?;

        Ok(Some(SessionRecord {
            record: id,
            session: session_column(&row)?,
            created_at: time_column(&row, "created_at")?,
            joined_at: optional_time_column(&row, "joined_at")?,
            ended_at: optional_time_column(&row, "ended_at")?,
            agent_id: column(&row, "agent_id")?,
            agent_name: column(&row, "agent_name")?,
            interaction: column(&row, "interaction")?,
            origin: column(&row, "origin")?,
            end_reason: end_reason_column(&row)?,
            joins,
            modes,
            pages,
        }))
    }

    async fn sessions(&self, query: &SessionQuery) -> Result<Vec<SessionSummary>, StoreError> {
        // Built clause by clause rather than with `? IS NULL OR ...`, so SQLite can pick the
        // index that fits the filters given.
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT s.record_id, s.session_id, s.created_at, s.joined_at, s.ended_at, s.agent_id, s.agent_name, \
             s.end_reason, (SELECT COUNT(*) FROM session_pages p WHERE p.record_id = s.record_id) AS pages \
             FROM sessions s WHERE 1 = 1",
        );
        if let Some(session) = query.session {
            sql.push(" AND s.session_id = ").push_bind(i64::from(session.get()));
        }
        if let Some(agent_id) = &query.agent_id {
            sql.push(" AND s.record_id IN (SELECT j.record_id FROM session_joins j WHERE j.agent_id = ")
                .push_bind(agent_id.clone())
                .push(")");
        }
        if let Some(since) = query.since {
            sql.push(" AND s.created_at >= ").push_bind(to_micros(since)?);
        }
        sql.push(" ORDER BY s.created_at DESC, s.rowid DESC LIMIT ").push_bind(i64::from(query.effective_limit()));

        sql.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let record: String = column(row, "record_id")?;
                let pages: i64 = column(row, "pages")?;
                Ok(SessionSummary {
                    record: record
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("record ID {record:?} is not a UUID")))?,
                    session: session_column(row)?,
                    created_at: time_column(row, "created_at")?,
                    joined_at: optional_time_column(row, "joined_at")?,
                    ended_at: optional_time_column(row, "ended_at")?,
                    agent_id: column(row, "agent_id")?,
                    agent_name: column(row, "agent_name")?,
                    end_reason: end_reason_column(row)?,
                    pages: u32::try_from(pages)
                        .map_err(|_| StoreError::Corrupt(format!("page count {pages} of record {record}")))?,
                })
            })
            .collect()
    }

    async fn close_open_records(&self, reason: EndReason, at: OffsetDateTime) -> Result<u64, StoreError> {
        let closed = sqlx::query("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL")
            .bind(to_micros(at)?)
            .bind(reason.as_str())
            .execute(&self.pool)
            .await?;
        Ok(closed.rows_affected())
    }

    async fn record_interaction(&self, event: crate::InteractionEvent) -> Result<(), StoreError> {
        crate::sqlite_interactions::record_interaction(&self.pool, event).await
    }

    async fn interaction(&self, id: &str) -> Result<Option<crate::InteractionRecord>, StoreError> {
        crate::sqlite_interactions::interaction(&self.pool, id).await
    }

    async fn transcript(&self, id: &str) -> Result<Vec<crate::TranscriptLine>, StoreError> {
        crate::sqlite_interactions::transcript(&self.pool, id).await
    }

    async fn record_delivery(&self, delivery: crate::WebhookDelivery) -> Result<(), StoreError> {
        crate::sqlite_interactions::record_delivery(&self.pool, delivery).await
    }

    async fn deliveries(&self, limit: u32) -> Result<Vec<crate::WebhookDelivery>, StoreError> {
        crate::sqlite_interactions::deliveries(&self.pool, limit).await
    }

    async fn close(&self) {
        // Closing the last connection checkpoints the WAL into the database file.
        self.pool.close().await;
    }
}

/// Turns "no row inserted" into [`StoreError::UnknownRecord`].
fn require_one(rows: u64, record: RecordId) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::UnknownRecord(record))
    } else {
        Ok(())
    }
}

/// Reads a column; a value of the wrong type (or a NULL where none belongs) is corrupt data.
fn column<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name).map_err(|error| match error {
        sqlx::Error::ColumnDecode { .. } => StoreError::Corrupt(format!("column {name}: {error}")),
        other => StoreError::Database(other),
    })
}

/// Reads a stored time.
fn time_column(row: &SqliteRow, name: &str) -> Result<OffsetDateTime, StoreError> {
    from_micros(column(row, name)?)
}

/// Reads a stored time that may be absent.
fn optional_time_column(row: &SqliteRow, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    column::<Option<i64>>(row, name)?.map(from_micros).transpose()
}

/// Reads the `session_id` column as a public session ID.
fn session_column(row: &SqliteRow) -> Result<SessionId, StoreError> {
    let value: i64 = column(row, "session_id")?;
    u32::try_from(value)
        .ok()
        .and_then(|value| SessionId::new(value).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("session ID {value} is not nine digits")))
}

/// Reads the `end_reason` column.
fn end_reason_column(row: &SqliteRow) -> Result<Option<EndReason>, StoreError> {
    column::<Option<String>>(row, "end_reason")?.as_deref().map(parse_end_reason).transpose()
}
