//! WAL checkpoints off the write path.
//!
//! SQLite's own autocheckpoint runs inside the commit that grows the
//! write-ahead log past 1,000 pages: that commit — an acquisition or a
//! release, on the scheduler's dispatch path — then also copies the log
//! back into the database file. Measured on W5, that was a quarter of the
//! time to acquire due jobs and of the time to release them.
//!
//! Instead, a commit that leaves the log past [`CHECKPOINT_PAGES`] only
//! signals a thread of the store's own, which checkpoints on a connection
//! of its own (`PASSIVE`: it neither waits for nor blocks the store's
//! readers and writers, nor other processes'). Should that thread fall far
//! behind (the log past [`INLINE_CHECKPOINT_PAGES`]), the committing
//! connection checkpoints itself, as SQLite would have: the log stays
//! bounded either way. Under continuous writes the log restarts only when
//! it has been copied back completely with no commit in between, so it
//! may grow to that threshold (~40 MB with 4 KB pages) before a commit
//! checkpoints the rest inline.

use std::path::Path;
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chime_core::{Error, ErrorKind, Result};
use rusqlite::wal::CheckpointMode;
use rusqlite::Connection;

use crate::queries::sql_error;

/// Log size (pages) at which the background thread is asked to checkpoint:
/// SQLite's default autocheckpoint.
pub(crate) const CHECKPOINT_PAGES: i32 = 1000;

/// Log size (pages) at which the committing connection checkpoints itself.
pub(crate) const INLINE_CHECKPOINT_PAGES: i32 = 10 * CHECKPOINT_PAGES;

/// Checkpoints completed by the background thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckpointCount(Arc<(Mutex<u64>, Condvar)>);

impl CheckpointCount {
    fn increment(&self) {
        let (count, changed) = &*self.0;
        *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        changed.notify_all();
    }

    /// Waits up to `timeout` for at least `n` checkpoints; whether they came.
    #[cfg(test)]
    pub fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        let (count, changed) = &*self.0;
        let count = count.lock().unwrap_or_else(|p| p.into_inner());
        changed
            .wait_timeout_while(count, timeout, |count| *count < n)
            .map(|(count, _)| *count >= n)
            .unwrap_or(false)
    }
}

/// Starts the checkpoint thread for the database file at `path` and hands
/// `conn`'s checkpoints to it. The thread ends when `conn` is closed.
pub(crate) fn checkpoint_in_background(
    conn: &mut Connection,
    path: &Path,
    busy_timeout: Duration,
) -> Result<CheckpointCount> {
    let background = Connection::open(path).map_err(sql_error)?;
    background.busy_timeout(busy_timeout).map_err(sql_error)?;
    let count = CheckpointCount::default();
    let done = count.clone();
    // One signal pending at most: commits while a checkpoint is asked for
    // or running need no other.
    let (ask, asked) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("chime-sqlite-checkpoint".into())
        .spawn(move || {
            while asked.recv().is_ok() {
                match background.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                    Ok(_) => {}
                    // Another connection (maybe another process) is
                    // checkpointing: it does the work.
                    Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
                    Err(e) => tracing::warn!(error = %e, "SQLite WAL checkpoint failed"),
                }
                done.increment();
            }
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::StoreUnavailable,
                "cannot start the SQLite checkpoint thread",
            )
            .with_source(e)
        })?;
    // Replaces SQLite's autocheckpoint (itself a WAL hook).
    conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
        if pages >= INLINE_CHECKPOINT_PAGES {
            // A busy checkpoint is no failure of the commit.
            let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
        } else if pages >= CHECKPOINT_PAGES {
            match ask.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
                }
            }
        }
        Ok(())
    }))
    .map_err(sql_error)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chime_core::job::{Job, JobDefaults, NewJob};
    use chime_core::trigger::IntervalTrigger;
    use chime_core::JobStore;
    use chrono::{DateTime, Utc};

    use crate::SqliteStore;

    fn jobs(from: usize, n: usize) -> Vec<Job> {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
        (from..from + n)
            .map(|i| {
                let trigger = IntervalTrigger::seconds(3600).unwrap_or_else(|e| panic!("{e}"));
                NewJob::new("task", trigger)
                    .id(format!("job-{i:06}"))
                    .args("x".repeat(200))
                    .into_job(now, &JobDefaults::default(), chime_core::chrono_tz::UTC)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_growing_log_is_checkpointed_by_the_stores_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chime.db");
        let store = SqliteStore::open(&path).unwrap();
        let checkpoints = store.checkpoints.clone().expect("a file database");
        // Small commits first: under 1,000 pages of log, nothing to do.
        store.add_jobs(jobs(0, 10), false).await.unwrap();
        assert!(!checkpoints.wait_for(1, Duration::ZERO));
        // ~6 MB of records: the log passes 1,000 pages (4 MB).
        for batch in 0..10 {
            store
                .add_jobs(jobs(10 + batch * 2000, 2000), false)
                .await
                .unwrap();
        }
        assert!(
            checkpoints.wait_for(1, Duration::from_secs(30)),
            "no checkpoint came from the store's thread"
        );
        // Everything is there, also from a fresh connection after the
        // store (and its thread) are gone.
        drop(store);
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.list_jobs().await.unwrap().jobs.len(), 20_010);
    }

    #[tokio::test]
    async fn an_in_memory_database_has_no_checkpoint_thread() {
        let store = SqliteStore::in_memory().unwrap();
        assert!(store.checkpoints.is_none());
    }
}
