//! [`StoreError`]: everything a store call can fail with, the same for every backend.

use crate::model::RecordId;
use std::path::PathBuf;

/// Why a store call failed.
///
/// The server maps these to its own error responses and logs the detail; the messages are plain
/// sentences for that log, never meant for a customer's or agent's screen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement, or could not be reached (pool closed, disk
    /// full, file unreadable).
    #[error("the session store's database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date when the store opened (a migration failed, or
    /// the database was migrated by a newer version of Cobrowse).
    #[error("the session store's schema could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The directory for the database file could not be created.
    #[error("could not create the session store's directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// An event named a record that was never created. It points at a bug in the caller (an
    /// event sent before `Created`, or a `Created` that failed), so it is not silently ignored.
    #[error("no session record {0}")]
    UnknownRecord(RecordId),
    /// `Created` named a record that already exists.
    #[error("session record {0} already exists")]
    DuplicateRecord(RecordId),
    /// A value the caller gave cannot be stored (a time too far from the present to fit).
    #[error("cannot store {0}")]
    Unstorable(String),
    /// A stored value does not parse (an unknown end reason, a malformed ID or time): the
    /// database was changed by something other than this code.
    #[error("the session store holds a value that does not parse: {0}")]
    Corrupt(String),
}
