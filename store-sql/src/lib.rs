//! # chime-store-sql
//!
//! [`SqliteStore`]: chime's embedded default job store, on SQLite through
//! rusqlite (bundled — no system library needed).
//!
//! - One file holds the jobs (one row each: the versioned JSON record plus
//!   its next run time and priority), a narrow due table clustered in
//!   acquisition order, a small lease table, a bounded run history, and a
//!   schema version with migrations (`schema.rs`). Claiming a batch writes
//!   the due and lease tables only, never the wide job rows.
//! - WAL mode (checkpointed every 10,000 pages, not SQLite's 1,000: the
//!   checkpoint runs inside dispatch commits) and a busy timeout;
//!   [`acquire_due_jobs`] is one
//!   `BEGIN IMMEDIATE` transaction, so several processes on one database
//!   file never claim the same job.
//! - SQLite calls run on tokio's blocking pool, never on an async worker.
//! - Records that cannot be decoded are reported and kept, never deleted.
//!
//! ```no_run
//! use chime_store_sql::SqliteStore;
//! # fn demo() -> chime_core::Result<()> {
//! let store = SqliteStore::open("chime.db")?;              // a file
//! let store = SqliteStore::from_url("sqlite://chime.db")?; // the same, by URL
//! let store = SqliteStore::in_memory()?;                   // private, for tests
//! # Ok(()) }
//! ```
//!
//! [`acquire_due_jobs`]: chime_core::JobStore::acquire_due_jobs

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod connection;
mod due_index;
mod journal;
mod queries;
mod record_column;
mod schema;
mod store;
mod time_column;

pub use config::SqliteConfig;
pub use store::SqliteStore;
