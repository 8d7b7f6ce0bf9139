//! Numbered schema migrations tracked with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// One schema migration: the SQL that takes the schema to `version`.
pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) sql: &'static str,
}

/// All migrations, in order; versions are 1, 2, 3, ...
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_mam.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_receipts.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_certificate_pins.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/0005_avatars.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/0006_sasl_mechanisms.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/0007_kept_accounts.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/0008_rooms.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/0009_room_private.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/0010_rich_messages.sql"),
    },
];

/// The newest schema version this build can read and write.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Reads `PRAGMA user_version`.
pub(crate) fn schema_version(conn: &Connection) -> Result<u32, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    u32::try_from(version)
        .map_err(|_| StoreError::InvalidData(format!("negative schema version {version}")))
}

/// Fails with [`StoreError::NewerSchema`] if the database is newer than `supported`.
/// Only reads.
pub(crate) fn check_supported(conn: &Connection, supported: u32) -> Result<u32, StoreError> {
    let found = schema_version(conn)?;
    if found > supported {
        return Err(StoreError::NewerSchema { found, supported });
    }
    Ok(found)
}

/// Applies every migration newer than the database, each in its own
/// transaction together with its `user_version` bump.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<(), StoreError> {
    let supported = migrations.last().map_or(0, |m| m.version);
    let current = check_supported(conn, supported)?;
    for migration in migrations.iter().filter(|m| m.version > current) {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        // Another connection may have migrated while we waited for the lock.
        if schema_version(&tx)? >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}
