//! The error type of every store operation.

use rusqlite::ErrorCode;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer Charla; it was left untouched.
    #[error("database schema version {found} is newer than the supported version {supported}")]
    NewerSchema {
        /// The schema version found in the file.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// A schema migration failed and was rolled back.
    #[error("database migration {version} failed: {source}")]
    Migration {
        /// The version of the migration that failed.
        version: u32,
        /// The underlying SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The disk (or the database's size limit) is full (`SQLITE_FULL`).
    #[error("the disk is full")]
    DiskFull,
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// An argument or a stored value is not valid.
    #[error("invalid data: {0}")]
    InvalidData(String),
}

impl StoreError {
    /// A stable, machine-readable code for this error (e.g. `"store.disk_full"`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NewerSchema { .. } => "store.newer_schema",
            Self::Migration { .. } => "store.migration",
            Self::DiskFull => "store.disk_full",
            Self::Sqlite(_) => "store.sqlite",
            Self::InvalidData(_) => "store.invalid_data",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::DiskFull => Self::DiskFull,
            rusqlite::Error::FromSqlConversionFailure(column, _, source) => {
                Self::InvalidData(format!("stored column {column}: {source}"))
            }
            rusqlite::Error::IntegralValueOutOfRange(column, value) => {
                Self::InvalidData(format!("stored column {column}: {value} is out of range"))
            }
            other => Self::Sqlite(other),
        }
    }
}
