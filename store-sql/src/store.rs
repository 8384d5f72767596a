//! The `JobStore` implementation.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, GroupCommit, HandOff, HandOffKey, JobEdit, JobList, JobRelease, JobStore,
    Release, Released, RunRecord, StoreCapabilities, RUN_HISTORY_WRITE_TIMEOUT,
};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::Connection;

use crate::config::SqliteConfig;
use crate::connection::SharedConnection;
use crate::journal;
use crate::queries::{self, sql_error};
use crate::schema;

/// The SQLite job store. See the [crate documentation](crate).
#[derive(Debug)]
pub struct SqliteStore {
    conn: SharedConnection,
    config: SqliteConfig,
    /// Run records waiting to be written together.
    history: GroupCommit<RunRecord>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        SqliteStore::with_config(SqliteConfig::file(path.as_ref()))
    }

    /// A private in-memory database (gone when the store is dropped).
    pub fn in_memory() -> Result<Self> {
        SqliteStore::with_config(SqliteConfig::memory())
    }

    /// Opens `sqlite://path` or `sqlite::memory:`.
    pub fn from_url(url: &str) -> Result<Self> {
        SqliteStore::with_config(SqliteConfig::from_url(url)?)
    }

    /// Opens the database described by `config`, migrating its schema.
    /// Opening blocks briefly (file open and migration); every later
    /// operation runs off the async workers.
    pub fn with_config(config: SqliteConfig) -> Result<Self> {
        let conn = SharedConnection::new(open(&config)?);
        Ok(SqliteStore {
            conn,
            config,
            history: GroupCommit::with_write_timeout(RUN_HISTORY_WRITE_TIMEOUT),
        })
    }

    /// The settings it was opened with.
    pub fn config(&self) -> &SqliteConfig {
        &self.config
    }
}

/// Log size (pages) at which a commit checkpoints the WAL back into the
/// database: ten times SQLite's default. The checkpoint runs inside the
/// committing call, and those calls are acquisitions and releases on the
/// scheduler's dispatch path; at the default, perf put it at a quarter of
/// W5's acquisition time, and rarer checkpoints copy a page rewritten many
/// times once. (A checkpoint thread of the store's own, tried instead,
/// was slower on a 2-core machine: it competes with the scheduler.)
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// The size (bytes) the WAL file is cut back to when the log restarts, so
/// that up to ~40 MB of log does not stay on disk.
const JOURNAL_SIZE_LIMIT: i64 = 4 << 20;

fn open(config: &SqliteConfig) -> Result<Connection> {
    let mut conn = match &config.path {
        Some(path) => Connection::open(path).map_err(|e| {
            Error::new(
                ErrorKind::StoreUnavailable,
                format!("cannot open SQLite database {}", path.display()),
            )
            .with_source(e)
        })?,
        None => Connection::open_in_memory().map_err(sql_error)?,
    };
    conn.busy_timeout(config.busy_timeout).map_err(sql_error)?;
    // Room for every statement the store uses, so none is prepared twice.
    conn.set_prepared_statement_cache_capacity(64);
    if config.path.is_some() {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql_error)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(sql_error)?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)
            .map_err(sql_error)?;
        // Negative: a size in KiB rather than in pages.
        conn.pragma_update(None, "cache_size", -i64::from(config.page_cache_kib))
            .map_err(sql_error)?;
    }
    schema::migrate(&mut conn)?;
    Ok(conn)
}

#[async_trait]
impl JobStore for SqliteStore {
    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::in_memory()
            .persistent(self.config.path.is_some())
            .shared(self.config.path.is_some())
            .history(self.config.history_limit > 0)
            .journal(self.config.path.is_some())
    }

    async fn add_job(&self, job: Job, replace_existing: bool) -> Result<()> {
        self.conn
            .call(move |c| queries::add_jobs(c, std::slice::from_ref(&job), replace_existing))
            .await
    }

    async fn add_jobs(&self, jobs: Vec<Job>, replace_existing: bool) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        if !replace_existing {
            if let Some(dup) = jobs.iter().find(|j| !seen.insert(j.id.clone())) {
                return Err(
                    Error::new(ErrorKind::Conflict, "the batch holds this id twice")
                        .with_job(&dup.id),
                );
            }
        }
        self.conn
            .call(move |c| queries::add_jobs(c, &jobs, replace_existing))
            .await
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        let id = id.to_owned();
        self.conn.call(move |c| queries::get_job(c, &id)).await
    }

    async fn list_jobs(&self) -> Result<JobList> {
        self.conn.call(queries::list_jobs).await
    }

    async fn update_job(&self, job: Job) -> Result<()> {
        self.conn.call(move |c| queries::update_job(c, &job)).await
    }

    async fn remove_job(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.conn.call(move |c| queries::remove_job(c, &id)).await
    }

    async fn remove_all_jobs(&self) -> Result<()> {
        self.conn.call(queries::remove_all_jobs).await
    }

    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.conn.call(queries::earliest_next_run_time).await
    }

    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        let lease = TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: too long"))?;
        let expires = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let owner = owner.to_owned();
        self.conn
            .call(move |c| queries::acquire_due_jobs(c, &owner, now, limit, expires))
            .await
    }

    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        // Compare-and-set, retried while other writers get in first.
        // Read, edit here (the edit is borrowed, so it cannot travel to the
        // blocking pool), then compare-and-set the record in one transaction.
        for _ in 0..64 {
            let key = id.to_owned();
            let text = self
                .conn
                .call(move |c| queries::get_record(c, &key))
                .await?
                .ok_or_else(|| Error::job_not_found(id))?;
            let mut job = Job::from_record(&text).map_err(|e| e.with_job(id))?;
            edit(&mut job)?;
            if job.id != id {
                return Err(
                    Error::invalid("modify_job: an edit must not change the job id").with_job(id),
                );
            }
            let written = job.clone();
            if self
                .conn
                .call(move |c| queries::replace_if_unchanged(c, &text, &written))
                .await?
            {
                return Ok(job);
            }
        }
        Err(Error::new(ErrorKind::StoreUnavailable, "the job kept changing; retry").with_job(id))
    }

    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        let (owner, id) = (owner.to_owned(), id.to_owned());
        self.conn
            .call(move |c| queries::release_job(c, &owner, &id, release))
            .await
    }

    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        let (owner, batch) = (owner.to_owned(), releases.to_vec());
        match self
            .conn
            .call(move |c| queries::release_jobs(c, &owner, &batch))
            .await
        {
            Ok(results) => results,
            Err(e) => releases
                .iter()
                .map(|JobRelease { id, .. }| {
                    Err(Error::new(e.kind(), e.message())
                        .set_temporary(e.is_retryable())
                        .with_job(id))
                })
                .collect(),
        }
    }

    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let keys = keys.to_vec();
        self.conn
            .call(move |c| journal::finish_hand_offs(c, &keys))
            .await
    }

    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let (owner, keys) = (owner.to_owned(), keys.to_vec());
        self.conn
            .call(move |c| journal::renew_hand_offs(c, &owner, &keys, deadline))
            .await
    }

    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HandOff>> {
        let owner = owner.to_owned();
        self.conn
            .call(move |c| journal::claim_stale_hand_offs(c, &owner, now, limit, lease))
            .await
    }

    async fn record_run(&self, record: RunRecord) -> Result<()> {
        let keep = self.config.history_limit;
        if keep == 0 {
            return Ok(());
        }
        // The records of runs ending meanwhile go in the same transaction:
        // one commit and one trip to the connection's thread per batch.
        self.history
            .submit(record, |batch| {
                self.conn
                    .call(move |c| queries::record_runs(c, &batch, keep))
            })
            .await
    }

    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        let id = id.to_owned();
        self.conn
            .call(move |c| queries::run_history(c, &id, limit))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::{SqliteStore, JOURNAL_SIZE_LIMIT, WAL_AUTOCHECKPOINT_PAGES};
    use crate::SqliteConfig;

    async fn pragma(store: &SqliteStore, name: &'static str) -> i64 {
        store
            .conn
            .call(move |c| {
                c.pragma_query_value(None, name, |row| row.get::<_, i64>(0))
                    .map_err(crate::queries::sql_error)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_file_database_checkpoints_every_10000_pages_and_trims_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("chime.db")).unwrap();
        assert_eq!(
            (
                pragma(&store, "wal_autocheckpoint").await,
                pragma(&store, "journal_size_limit").await
            ),
            (WAL_AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT)
        );
    }

    #[tokio::test]
    async fn a_file_database_caches_8_mib_of_pages_unless_configured_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let default = SqliteStore::open(dir.path().join("a.db")).unwrap();
        // SQLite reports a size set in KiB as its negative.
        assert_eq!(pragma(&default, "cache_size").await, -8 * 1024);
        let config = SqliteConfig::file(dir.path().join("b.db")).page_cache_kib(512);
        let small = SqliteStore::with_config(config).unwrap();
        assert_eq!(pragma(&small, "cache_size").await, -512);
    }
}
