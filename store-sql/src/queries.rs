//! The SQL behind each store operation. Every function runs on the
//! connection thread; operations that read then write use one
//! `BEGIN IMMEDIATE` transaction, so other processes cannot interleave.

use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, JobList, JobRelease, Release, Released, RunOutcome, RunRecord, UnreadableRecord,
};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::due_index::{claim_batch, clear_lease, due_at, job_place, move_due, Claim, JobPlace};
use crate::record_column::{column_text, lossy_id, read_record, text_of};
use crate::time_column::{from_column, to_column};

/// An SQLite failure as a store error; busy/locked/IO errors are temporary.
pub(crate) fn sql_error(e: rusqlite::Error) -> Error {
    let temporary = matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                // SQLITE_PROTOCOL: in WAL mode, a transaction lost the race
                // for the log's locks to other processes for ~10 s and gave
                // up; the next attempt normally succeeds.
                | ErrorCode::FileLockingProtocolFailed
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
    let old = job_place(tx, &job.id)?;
    if let Some(old) = &old {
        if !replace {
            return Err(
                Error::new(ErrorKind::Conflict, "a job with this id already exists")
                    .with_job(&job.id),
            );
        }
        move_due(tx, &job.id, old.due(), None)?;
    }
    // A new or replacing job starts unleased, at its own next run time; a
    // lease row left without its job (a schema-2 process removing one
    // after the migration) must not pass to a new job of that id.
    clear_lease(tx, &job.id)?;
    let next = job.next_run_time.map(to_column);
    tx.execute_cached(
        "INSERT OR REPLACE INTO chime_jobs (id, record, next_run_time, priority)
         VALUES (?1, ?2, ?3, ?4)",
        params![job.id.as_str(), text, next, job.priority],
    )
    .map_err(sql_error)?;
    move_due(
        tx,
        &job.id,
        None,
        next.map(|at| (at, i64::from(job.priority))),
    )
}

pub(crate) fn add_jobs(conn: &mut Connection, jobs: &[Job], replace: bool) -> Result<()> {
    let tx = immediate(conn)?;
    for job in jobs {
        insert(&tx, job, replace)?;
    }
    tx.commit().map_err(sql_error)
}

pub(crate) fn get_job(conn: &mut Connection, id: &str) -> Result<Option<Job>> {
    match read_record(conn, id)? {
        None => Ok(None),
        Some(text) => decode(id, &text)
            .map(Some)
            .map_err(|u| Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(id)),
    }
}

pub(crate) fn list_jobs(conn: &mut Connection) -> Result<JobList> {
    // In table order, put in the contract's order after decoding (as the
    // other stores do): an `ORDER BY` here sorted every row with its record
    // text, more than the sorter's memory at 100,000 jobs, so SQLite wrote
    // and read back temporary files — half the listing's time.
    let mut stmt = conn
        .prepare_cached("SELECT id, record FROM chime_jobs")
        .map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let mut list = JobList::default();
    while let Some(row) = rows.next().map_err(sql_error)? {
        // Read in place, not copied out: each text is decoded once. A
        // row whose id or record is not text is one unreadable record.
        let id = row.get_ref(0).map_err(sql_error)?;
        let record = row.get_ref(1).map_err(sql_error)?;
        match (text_of("id", id), column_text(record)) {
            (Ok(id), Ok(text)) => list.push_record(id, text),
            (Ok(_), Err(reason)) | (Err(reason), _) => list.unreadable.push(UnreadableRecord {
                job_id: lossy_id(id),
                reason,
            }),
        }
    }
    list.sort();
    Ok(list)
}

pub(crate) fn update_job(conn: &mut Connection, job: &Job) -> Result<()> {
    let tx = immediate(conn)?;
    let Some(place) = job_place(&tx, &job.id)? else {
        return Err(Error::job_not_found(&job.id));
    };
    write_job(&tx, job, &place)?;
    tx.commit().map_err(sql_error)
}

/// The raw record text of job `id`.
pub(crate) fn get_record(conn: &mut Connection, id: &str) -> Result<Option<String>> {
    read_record(conn, id)
}

/// Writes `job` if the stored record is still `expected`; `false` if it
/// changed meanwhile (the caller reads again and retries).
pub(crate) fn replace_if_unchanged(
    conn: &mut Connection,
    expected: &str,
    job: &Job,
) -> Result<bool> {
    let tx = immediate(conn)?;
    let current = read_record(&tx, &job.id)?;
    let (Some(current), Some(place)) = (current, job_place(&tx, &job.id)?) else {
        return Err(Error::job_not_found(&job.id));
    };
    if current != expected {
        return Ok(false);
    }
    write_job(&tx, job, &place)?;
    tx.commit().map_err(sql_error)?;
    Ok(true)
}

/// Rewrites a job's record and columns, keeping its lease; `place` is
/// where it stood before.
fn write_job(tx: &Transaction<'_>, job: &Job, place: &JobPlace) -> Result<()> {
    let next = job.next_run_time.map(to_column);
    tx.execute_cached(
        "UPDATE chime_jobs SET record = ?2, next_run_time = ?3, priority = ?4 WHERE id = ?1",
        params![job.id.as_str(), job.to_record()?, next, job.priority],
    )
    .map_err(sql_error)?;
    let moved = JobPlace {
        next_run_time: next,
        priority: i64::from(job.priority),
        lease: place.lease.clone(),
    };
    move_due(tx, &job.id, place.due(), moved.due())
}

pub(crate) fn remove_job(conn: &mut Connection, id: &str) -> Result<()> {
    let tx = immediate(conn)?;
    let Some(place) = job_place(&tx, id)? else {
        return Err(Error::job_not_found(id));
    };
    delete_job(&tx, id, &place)?;
    tx.commit().map_err(sql_error)
}

pub(crate) fn remove_all_jobs(conn: &mut Connection) -> Result<()> {
    let tx = immediate(conn)?;
    tx.execute_batch(
        "DELETE FROM chime_jobs; DELETE FROM chime_runs;
         DELETE FROM chime_due; DELETE FROM chime_leases;",
    )
    .map_err(sql_error)?;
    tx.commit().map_err(sql_error)
}

pub(crate) fn earliest_next_run_time(conn: &mut Connection) -> Result<Option<DateTime<Utc>>> {
    let micros: Option<i64> = conn
        .query_row_cached(
            "SELECT available_at FROM chime_due ORDER BY available_at LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    Ok(micros.and_then(from_column))
}

/// A job and everything it keeps: its row, its due row, its lease and its
/// run history.
fn delete_job(tx: &Transaction<'_>, id: &str, place: &JobPlace) -> Result<()> {
    move_due(tx, id, place.due(), None)?;
    if place.lease.is_some() {
        clear_lease(tx, id)?;
    }
    tx.execute_cached("DELETE FROM chime_jobs WHERE id = ?1", [id])
        .map_err(sql_error)?;
    tx.execute_cached("DELETE FROM chime_runs WHERE job_id = ?1", [id])
        .map_err(sql_error)?;
    Ok(())
}

/// A `LIMIT` to write into a statement's text, at least `limit`. A bound
/// `LIMIT ?` makes SQLite re-plan the statement on every call; a literal
/// does not, and rounding up to a power of two keeps the statement cache
/// to a few variants (the caller stops reading at `limit`).
fn literal_limit(limit: usize) -> usize {
    limit
        .checked_next_power_of_two()
        .unwrap_or(usize::MAX >> 1)
        .min(i64::MAX as usize)
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
    let tx = immediate(conn)?;
    let mut claims = Vec::new();
    let mut texts = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached(&format!(
                "SELECT d.available_at, d.neg_priority, d.id, j.record, j.next_run_time,
                        j.priority, l.expires
                 FROM chime_due d LEFT JOIN chime_jobs j ON j.id = d.id
                     LEFT JOIN chime_leases l ON l.id = d.id
                 WHERE d.available_at <= ?1
                 ORDER BY d.available_at, d.neg_priority, d.id
                 LIMIT {}",
                // Room for stray rows on top of `limit` live claims.
                literal_limit(limit.saturating_mul(2))
            ))
            .map_err(sql_error)?;
        let mut rows = stmt.query([now]).map_err(sql_error)?;
        // Only live claims count towards the limit: stray rows dropped on
        // the way do not shorten the batch (they sort among the live ones,
        // so every row scanned up to the last is still cut as one range).
        // More than `limit` strays among the first 2 × `limit` rows still
        // do, for one batch: they are deleted with it, and the next
        // acquisition finds the live rows behind them.
        let mut live = 0;
        while live < limit {
            let Some(row) = rows.next().map_err(sql_error)? else {
                break;
            };
            // NULL: the job is gone (a stray due row). Not text: claimed,
            // then reported as unreadable like a record that is not JSON.
            let text = match row.get_ref(3).map_err(sql_error)? {
                ValueRef::Null => None,
                value => Some(column_text(value).map(str::to_owned)),
            };
            let place = JobPlace {
                next_run_time: row.get(4).map_err(sql_error)?,
                priority: row
                    .get::<_, Option<i64>>(5)
                    .map_err(sql_error)?
                    .unwrap_or(0),
                lease: None,
            };
            let lease_expires: Option<i64> = row.get(6).map_err(sql_error)?;
            let mut claim = Claim {
                available_at: row.get(0).map_err(sql_error)?,
                neg_priority: row.get(1).map_err(sql_error)?,
                id: row.get(2).map_err(sql_error)?,
                next_run_time: place.next_run_time,
                stale: false,
            };
            // The row must be where the job's own state puts it; any other
            // (its job gone, or a second row for one job) is dropped.
            let expected =
                due_at(place.next_run_time, lease_expires).map(|at| (at, -place.priority));
            claim.stale =
                text.is_none() || expected != Some((claim.available_at, claim.neg_priority));
            if claim.stale {
                tracing::warn!(job_id = %claim.id, "dropping a due entry that does not match its job");
            } else {
                live += 1;
            }
            texts.push(text.filter(|_| !claim.stale));
            claims.push(claim);
        }
    }
    claim_batch(&tx, &claims, owner, expires)?;
    tx.commit().map_err(sql_error)?;
    // Decoded after the commit: other processes wait for the write lock.
    let mut acquired = AcquiredJobs::default();
    for (claim, text) in claims.iter().zip(texts) {
        let decoded = match text {
            None => continue,
            Some(Ok(text)) => decode(&claim.id, &text),
            Some(Err(reason)) => Err(UnreadableRecord {
                job_id: claim.id.clone(),
                reason,
            }),
        };
        match decoded {
            Ok(job) => acquired.jobs.push(job),
            Err(u) => acquired.unreadable.push(u),
        }
    }
    Ok(acquired)
}

/// One release inside the caller's transaction.
fn release_in(tx: &Transaction<'_>, owner: &str, id: &str, release: Release) -> Result<Released> {
    let Some(place) = job_place(tx, id)? else {
        return Err(Error::job_not_found(id));
    };
    let Some(lease) = place.lease.as_ref().filter(|lease| lease.owner == owner) else {
        return Err(Error::new(
            ErrorKind::LeaseLost,
            format!("owner '{owner}' does not hold the lease"),
        )
        .with_job(id));
    };
    if place.next_run_time != lease.next_run_time {
        // Paused, resumed or rescheduled while leased: that wins.
        clear_lease(tx, id)?;
        let unleased = place.next_run_time.map(|at| (at, place.priority));
        move_due(tx, id, place.due(), unleased)?;
        return Ok(Released::KeptUpdate);
    }
    match release {
        Release::Reschedule {
            next_run_time,
            trigger_time,
        } => {
            let Some(text) = read_record(tx, id)? else {
                return Err(Error::job_not_found(id));
            };
            let mut job = decode(id, &text)
                .map_err(|u| Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(id))?;
            job.next_run_time = Some(next_run_time);
            job.trigger_time = Some(trigger_time);
            let next = to_column(next_run_time);
            tx.execute_cached(
                "UPDATE chime_jobs SET record = ?2, next_run_time = ?3 WHERE id = ?1",
                params![id, job.to_record()?, next],
            )
            .map_err(sql_error)?;
            clear_lease(tx, id)?;
            move_due(tx, id, place.due(), Some((next, place.priority)))?;
        }
        Release::Remove => delete_job(tx, id, &place)?,
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

/// Records `records` in one transaction (the store batches the records
/// of runs ending together: see `GroupCommit`); runs of jobs that are gone
/// are dropped. Each job keeps its newest `keep` runs.
pub(crate) fn record_runs(conn: &mut Connection, records: &[RunRecord], keep: usize) -> Result<()> {
    if keep == 0 || records.is_empty() {
        return Ok(());
    }
    let tx = immediate(conn)?;
    for record in records {
        record_run_in(&tx, record, keep)?;
    }
    tx.commit().map_err(sql_error)
}

fn record_run_in(tx: &Transaction<'_>, record: &RunRecord, keep: usize) -> Result<()> {
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
    // The limit is written into the text: bound, it re-plans every call.
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    tx.execute_cached(
        &format!(
            "DELETE FROM chime_runs WHERE job_id = ?1 AND seq NOT IN
                 (SELECT seq FROM chime_runs WHERE job_id = ?1 ORDER BY seq DESC LIMIT {keep})"
        ),
        params![record.job_id.as_str()],
    )
    .map_err(sql_error)?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::sql_error;
    use rusqlite::ffi;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn contention_errors_are_worth_retrying_and_a_corrupt_file_is_not() {
        for code in [ffi::SQLITE_BUSY, ffi::SQLITE_LOCKED, ffi::SQLITE_PROTOCOL] {
            assert!(sql_error(failure(code)).is_retryable(), "code {code}");
        }
        for code in [
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_CONSTRAINT,
            ffi::SQLITE_READONLY,
        ] {
            assert!(!sql_error(failure(code)).is_retryable(), "code {code}");
        }
    }
}
