//! The SQL behind each store operation. Every function runs on the
//! connection thread; operations that read then write use one
//! `BEGIN IMMEDIATE` transaction, so other processes cannot interleave.

use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, JobList, JobRelease, Release, Released, RunOutcome, RunRecord,
};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, Utc};
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::time_column::{from_column, to_column};

/// An SQLite failure as a store error; busy/locked/IO errors are temporary.
pub(crate) fn sql_error(e: rusqlite::Error) -> Error {
    let temporary = matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::DiskFull
        )
    );
    Error::new(ErrorKind::StoreUnavailable, "SQLite operation failed")
        .with_source(e)
        .set_temporary(temporary)
}

/// `execute` and `query_row` through the connection's statement cache: the
/// store runs the same few statements for every job, and preparing each
/// anew was a seventh of the release path's time.
pub(crate) trait CachedStatements {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)
}

use chime_core::store::decode_record as decode;

fn insert(tx: &Transaction<'_>, job: &Job, replace: bool) -> Result<()> {
    let text = job.to_record()?;
    if !replace {
        let exists: Option<i64> = tx
            .query_row_cached(
                "SELECT 1 FROM chime_jobs WHERE id = ?1",
                [job.id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error)?;
        if exists.is_some() {
            return Err(
                Error::new(ErrorKind::Conflict, "a job with this id already exists")
                    .with_job(&job.id),
            );
        }
    }
    let next = job.next_run_time.map(to_column);
    tx.execute_cached(
        "INSERT OR REPLACE INTO chime_jobs
             (id, record, next_run_time, priority, lease_owner, lease_expires, lease_next, available_at)
         VALUES (?1, ?2, ?3, ?4, NULL, NULL, NULL, ?3)",
        params![job.id.as_str(), text, next, job.priority],
    )
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn add_jobs(conn: &mut Connection, jobs: &[Job], replace: bool) -> Result<()> {
    let tx = immediate(conn)?;
    for job in jobs {
        insert(&tx, job, replace)?;
    }
    tx.commit().map_err(sql_error)
}

pub(crate) fn get_job(conn: &mut Connection, id: &str) -> Result<Option<Job>> {
    let text: Option<String> = conn
        .query_row_cached("SELECT record FROM chime_jobs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql_error)?;
    match text {
        None => Ok(None),
        Some(text) => decode(id, &text)
            .map(Some)
            .map_err(|u| Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(id)),
    }
}

pub(crate) fn list_jobs(conn: &mut Connection) -> Result<JobList> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, record FROM chime_jobs
             ORDER BY next_run_time IS NULL, next_run_time, id",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(sql_error)?;
    let mut list = JobList::default();
    for row in rows {
        let (id, text) = row.map_err(sql_error)?;
        match decode(&id, &text) {
            Ok(job) => list.jobs.push(job),
            Err(u) => list.unreadable.push(u),
        }
    }
    Ok(list)
}

pub(crate) fn update_job(conn: &mut Connection, job: &Job) -> Result<()> {
    let tx = immediate(conn)?;
    let lease_expires: Option<Option<i64>> = tx
        .query_row_cached(
            "SELECT lease_expires FROM chime_jobs WHERE id = ?1",
            [job.id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    let Some(lease_expires) = lease_expires else {
        return Err(Error::job_not_found(&job.id));
    };
    write_job(&tx, job, lease_expires)?;
    tx.commit().map_err(sql_error)
}

/// The raw record text of job `id`.
pub(crate) fn get_record(conn: &mut Connection, id: &str) -> Result<Option<String>> {
    conn.query_row_cached("SELECT record FROM chime_jobs WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
    .map_err(sql_error)
}

/// Writes `job` if the stored record is still `expected`; `false` if it
/// changed meanwhile (the caller reads again and retries).
pub(crate) fn replace_if_unchanged(
    conn: &mut Connection,
    expected: &str,
    job: &Job,
) -> Result<bool> {
    let tx = immediate(conn)?;
    let row: Option<(String, Option<i64>)> = tx
        .query_row_cached(
            "SELECT record, lease_expires FROM chime_jobs WHERE id = ?1",
            [job.id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql_error)?;
    let Some((current, lease_expires)) = row else {
        return Err(Error::job_not_found(&job.id));
    };
    if current != expected {
        return Ok(false);
    }
    write_job(&tx, job, lease_expires)?;
    tx.commit().map_err(sql_error)?;
    Ok(true)
}

/// Rewrites a job's record and index columns, keeping its lease.
fn write_job(tx: &Transaction<'_>, job: &Job, lease_expires: Option<i64>) -> Result<()> {
    let next = job.next_run_time.map(to_column);
    let available = match (next, lease_expires) {
        (Some(n), Some(l)) => Some(n.max(l)),
        (n, _) => n,
    };
    tx.execute_cached(
        "UPDATE chime_jobs SET record = ?2, next_run_time = ?3, priority = ?4, available_at = ?5
         WHERE id = ?1",
        params![
            job.id.as_str(),
            job.to_record()?,
            next,
            job.priority,
            available
        ],
    )
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn remove_job(conn: &mut Connection, id: &str) -> Result<()> {
    let tx = immediate(conn)?;
    let removed = tx
        .execute_cached("DELETE FROM chime_jobs WHERE id = ?1", [id])
        .map_err(sql_error)?;
    if removed == 0 {
        return Err(Error::job_not_found(id));
    }
    tx.execute_cached("DELETE FROM chime_runs WHERE job_id = ?1", [id])
        .map_err(sql_error)?;
    tx.commit().map_err(sql_error)
}

pub(crate) fn remove_all_jobs(conn: &mut Connection) -> Result<()> {
    let tx = immediate(conn)?;
    tx.execute_batch("DELETE FROM chime_jobs; DELETE FROM chime_runs;")
        .map_err(sql_error)?;
    tx.commit().map_err(sql_error)
}

pub(crate) fn earliest_next_run_time(conn: &mut Connection) -> Result<Option<DateTime<Utc>>> {
    let micros: Option<i64> = conn
        .query_row_cached(
            "SELECT available_at FROM chime_jobs WHERE available_at IS NOT NULL
             ORDER BY available_at LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    Ok(micros.and_then(from_column))
}

pub(crate) fn acquire_due_jobs(
    conn: &mut Connection,
    owner: &str,
    now: DateTime<Utc>,
    limit: usize,
    lease_expires: DateTime<Utc>,
) -> Result<AcquiredJobs> {
    let now = now.timestamp_micros();
    let expires = to_column(lease_expires);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let tx = immediate(conn)?;
    let due: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT id, record FROM chime_jobs
                 WHERE available_at IS NOT NULL AND available_at <= ?1
                 ORDER BY available_at, priority DESC, id
                 LIMIT ?2",
            )
            .map_err(sql_error)?;
        let rows = stmt
            .query_map(params![now, limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql_error)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql_error)?
    };
    if !due.is_empty() {
        // One statement leases the whole batch (ids passed as a JSON array).
        let ids: Vec<&str> = due.iter().map(|(id, _)| id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode the batch of ids").with_source(e)
        })?;
        tx.prepare_cached(
            "UPDATE chime_jobs
             SET lease_owner = ?2, lease_expires = ?3, lease_next = next_run_time,
                 available_at = MAX(COALESCE(next_run_time, ?3), ?3)
             WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .and_then(|mut lease| lease.execute(params![ids, owner, expires]))
        .map_err(sql_error)?;
    }
    tx.commit().map_err(sql_error)?;
    let mut acquired = AcquiredJobs::default();
    for (id, text) in due {
        match decode(&id, &text) {
            Ok(job) => acquired.jobs.push(job),
            Err(u) => acquired.unreadable.push(u),
        }
    }
    Ok(acquired)
}

/// One release inside the caller's transaction.
fn release_in(tx: &Transaction<'_>, owner: &str, id: &str, release: Release) -> Result<Released> {
    type LeaseRow = (Option<String>, String, Option<i64>, Option<i64>);
    let row: Option<LeaseRow> = tx
        .query_row_cached(
            "SELECT lease_owner, record, next_run_time, lease_next FROM chime_jobs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql_error)?;
    let Some((lease_owner, text, next_now, next_acquired)) = row else {
        return Err(Error::job_not_found(id));
    };
    if lease_owner.as_deref() != Some(owner) {
        return Err(Error::new(
            ErrorKind::LeaseLost,
            format!("owner '{owner}' does not hold the lease"),
        )
        .with_job(id));
    }
    if next_now != next_acquired {
        // Paused, resumed or rescheduled while leased: that wins.
        tx.execute_cached(
            "UPDATE chime_jobs SET lease_owner = NULL, lease_expires = NULL, lease_next = NULL,
                 available_at = next_run_time
             WHERE id = ?1",
            [id],
        )
        .map_err(sql_error)?;
        return Ok(Released::KeptUpdate);
    }
    match release {
        Release::Reschedule {
            next_run_time,
            trigger_time,
        } => {
            let mut job = decode(id, &text)
                .map_err(|u| Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(id))?;
            job.next_run_time = Some(next_run_time);
            job.trigger_time = Some(trigger_time);
            let next = to_column(next_run_time);
            tx.execute_cached(
                "UPDATE chime_jobs SET record = ?2, next_run_time = ?3, available_at = ?3,
                     lease_owner = NULL, lease_expires = NULL, lease_next = NULL
                 WHERE id = ?1",
                params![id, job.to_record()?, next],
            )
            .map_err(sql_error)?;
        }
        Release::Remove => {
            tx.execute_cached("DELETE FROM chime_jobs WHERE id = ?1", [id])
                .map_err(sql_error)?;
            tx.execute_cached("DELETE FROM chime_runs WHERE job_id = ?1", [id])
                .map_err(sql_error)?;
        }
    }
    Ok(Released::Applied)
}

pub(crate) fn release_job(
    conn: &mut Connection,
    owner: &str,
    id: &str,
    release: Release,
) -> Result<Released> {
    let tx = immediate(conn)?;
    let released = release_in(&tx, owner, id, release)?;
    tx.commit().map_err(sql_error)?;
    Ok(released)
}

/// Several releases in one transaction; a database failure fails them all
/// (nothing is committed), a job that is gone or not ours fails only itself.
pub(crate) fn release_jobs(
    conn: &mut Connection,
    owner: &str,
    releases: &[JobRelease],
) -> Result<Vec<Result<Released>>> {
    let tx = immediate(conn)?;
    let mut results = Vec::with_capacity(releases.len());
    for entry in releases {
        let result = release_in(&tx, owner, &entry.id, entry.release);
        if let (Ok(_), Some(hand_off)) = (&result, &entry.hand_off) {
            crate::journal::record_hand_off(&tx, hand_off)?;
        }
        match result {
            Err(e)
                if !matches!(
                    e.kind(),
                    ErrorKind::LeaseLost | ErrorKind::NotFound | ErrorKind::UnreadableRecord
                ) =>
            {
                return Err(e);
            }
            result => results.push(result),
        }
    }
    tx.commit().map_err(sql_error)?;
    Ok(results)
}

fn outcome_text(outcome: RunOutcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".to_owned())
}

pub(crate) fn record_run(conn: &mut Connection, record: &RunRecord, keep: usize) -> Result<()> {
    if keep == 0 {
        return Ok(());
    }
    let tx = immediate(conn)?;
    let exists: Option<i64> = tx
        .query_row_cached(
            "SELECT 1 FROM chime_jobs WHERE id = ?1",
            [record.job_id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    if exists.is_none() {
        // The job is gone (a one-shot job's last run): nobody can ask.
        return Ok(());
    }
    tx.execute_cached(
        "INSERT INTO chime_runs (job_id, scheduled_run_time, started_at, finished_at, outcome, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            record.job_id.as_str(),
            to_column(record.scheduled_run_time),
            to_column(record.started_at),
            to_column(record.finished_at),
            outcome_text(record.outcome),
            record.message,
        ],
    )
    .map_err(sql_error)?;
    tx.execute_cached(
        "DELETE FROM chime_runs WHERE job_id = ?1 AND seq NOT IN
             (SELECT seq FROM chime_runs WHERE job_id = ?1 ORDER BY seq DESC LIMIT ?2)",
        params![
            record.job_id.as_str(),
            i64::try_from(keep).unwrap_or(i64::MAX)
        ],
    )
    .map_err(sql_error)?;
    tx.commit().map_err(sql_error)
}

pub(crate) fn run_history(conn: &mut Connection, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT scheduled_run_time, started_at, finished_at, outcome, message
             FROM chime_runs WHERE job_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map(params![id, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(sql_error)?;
    let mut runs = Vec::new();
    for row in rows {
        let (scheduled, started, finished, outcome, message) = row.map_err(sql_error)?;
        let bad = |what: &str| {
            Error::new(
                ErrorKind::UnreadableRecord,
                format!("run history: bad {what}"),
            )
            .with_job(id)
        };
        let outcome: RunOutcome =
            serde_json::from_value(serde_json::Value::String(outcome.clone()))
                .map_err(|_| bad("outcome"))?;
        runs.push(RunRecord::new(
            id,
            from_column(scheduled).ok_or_else(|| bad("time"))?,
            from_column(started).ok_or_else(|| bad("time"))?,
            from_column(finished).ok_or_else(|| bad("time"))?,
            outcome,
            message,
        ));
    }
    Ok(runs)
}
