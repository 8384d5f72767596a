//! The database schema and its migrations.
//!
//! Version 1:
//!
//! ```sql
//! chime_schema(version)                       -- one row
//! chime_jobs(id PRIMARY KEY, record,          -- the versioned JSON job record
//!            next_run_time, priority,         -- copied out of the record for indexing
//!            lease_owner, lease_expires,      -- lease bookkeeping, and the next
//!            lease_next,                      --   run time when it was acquired
//!            available_at)                    -- max(next_run_time, lease_expires); NULL = paused
//! chime_runs(seq, job_id, scheduled_run_time, started_at, finished_at, outcome, message)
//! ```
//!
//! Version 2 adds the dispatch journal:
//!
//! ```sql
//! chime_hand_offs(job_id, fire_time,          -- key: a job and the fire its release moved past
//!                 owner, deadline,            -- who runs it; stale after the deadline
//!                 record)                     -- the entry's JSON
//! ```
//!
//! Version 3 moves what acquisitions write out of the wide job rows, so
//! that claiming a batch rewrites a few contiguous pages instead of one
//! page per job (W5 in BENCHMARKS.md):
//!
//! ```sql
//! chime_jobs(id PRIMARY KEY, record, next_run_time, priority)
//! chime_due(available_at, neg_priority, id)   -- one row per job that can be handed out,
//!                                             --   clustered in acquisition order
//!                                             --   (-priority: higher first, all ascending)
//! chime_leases(id PRIMARY KEY, owner,         -- one row per leased job, and its next
//!              expires, next_run_time)        --   run time when it was acquired
//! ```
//!
//! A job's `chime_due` row is derived from the other two tables: its next
//! run time, or for a leased job the later of that and the lease's expiry;
//! no row while paused (see `due_index`).
//!
//! Instants are microseconds since the Unix epoch.

use chime_core::{Error, ErrorKind, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::queries::sql_error;

/// The schema version this build creates and understands.
pub(crate) const SCHEMA_VERSION: i64 = 3;

const MIGRATIONS: [&str; 3] = [
    // 0 -> 1
    "CREATE TABLE chime_jobs (
        id TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL,
        next_run_time INTEGER,
        priority INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires INTEGER,
        lease_next INTEGER,
        available_at INTEGER
    );
    CREATE INDEX chime_jobs_due ON chime_jobs (available_at, priority DESC, id)
        WHERE available_at IS NOT NULL;
    CREATE TABLE chime_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        scheduled_run_time INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        message TEXT
    );
    CREATE INDEX chime_runs_job ON chime_runs (job_id, seq);",
    // 1 -> 2
    "CREATE TABLE chime_hand_offs (
        job_id TEXT NOT NULL,
        fire_time INTEGER NOT NULL,
        owner TEXT NOT NULL,
        deadline INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (job_id, fire_time)
    );
    CREATE INDEX chime_hand_offs_deadline ON chime_hand_offs (deadline);
    CREATE INDEX chime_hand_offs_owner ON chime_hand_offs (owner);",
    // 2 -> 3: the due index and the leases leave the job rows.
    "CREATE TABLE chime_due (
        available_at INTEGER NOT NULL,
        neg_priority INTEGER NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (available_at, neg_priority, id)
    ) WITHOUT ROWID;
    CREATE TABLE chime_leases (
        id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        expires INTEGER NOT NULL,
        next_run_time INTEGER
    ) WITHOUT ROWID;
    INSERT INTO chime_due (available_at, neg_priority, id)
        SELECT available_at, -priority, id FROM chime_jobs WHERE available_at IS NOT NULL;
    INSERT INTO chime_leases (id, owner, expires, next_run_time)
        SELECT id, lease_owner, lease_expires, lease_next FROM chime_jobs
        WHERE lease_owner IS NOT NULL AND lease_expires IS NOT NULL;
    DROP INDEX chime_jobs_due;
    ALTER TABLE chime_jobs DROP COLUMN available_at;
    ALTER TABLE chime_jobs DROP COLUMN lease_next;
    ALTER TABLE chime_jobs DROP COLUMN lease_expires;
    ALTER TABLE chime_jobs DROP COLUMN lease_owner;",
];

/// Brings the database to [`SCHEMA_VERSION`], refusing a newer one.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS chime_schema (version INTEGER NOT NULL)")
        .map_err(sql_error)?;
    let current: i64 = tx
        .query_row("SELECT version FROM chime_schema", [], |row| row.get(0))
        .optional()
        .map_err(sql_error)?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(Error::new(
            ErrorKind::UnreadableRecord,
            format!(
                "the database schema version {current} is newer than this build understands ({SCHEMA_VERSION}); upgrade chime"
            ),
        ));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tracing::info!(
            from = index,
            to = index + 1,
            "migrating the SQLite job store schema"
        );
        tx.execute_batch(migration).map_err(sql_error)?;
    }
    if current == 0 {
        tx.execute(
            "INSERT INTO chime_schema (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )
        .map_err(sql_error)?;
    } else if current < SCHEMA_VERSION {
        tx.execute("UPDATE chime_schema SET version = ?1", [SCHEMA_VERSION])
            .map_err(sql_error)?;
    }
    tx.commit().map_err(sql_error)
}
