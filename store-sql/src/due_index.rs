//! The `chime_due` and `chime_leases` tables: which jobs can be handed out,
//! in acquisition order, and who holds which lease.
//!
//! A job's due row is a function of its next run time, its priority and
//! its lease (if any): [`due_at`]. Every write that changes one of those
//! moves the row with [`move_due`], inside the same transaction, so the
//! table never disagrees with the jobs. An acquisition then touches only
//! the front of `chime_due` and the small `chime_leases` table, never the
//! wide job rows.

use chime_core::Result;
use rusqlite::{params, OptionalExtension, Transaction};

use crate::queries::{sql_error, CachedStatements};

/// Where a job sits in the due order: its next run time, or while leased
/// the later of that and the lease's expiry (it is somebody's until then);
/// `None` (not due ever) while paused.
pub(crate) fn due_at(next_run_time: Option<i64>, lease_expires: Option<i64>) -> Option<i64> {
    match (next_run_time, lease_expires) {
        (Some(next), Some(expires)) => Some(next.max(expires)),
        (next, _) => next,
    }
}

/// A job's place in `chime_due`: (available at, priority).
pub(crate) type DuePlace = Option<(i64, i64)>;

/// Moves job `id`'s due row from `from` to `to` (either may be absent).
/// A row already at `to` can only be this job's own (the key holds the
/// id), so it is replaced rather than failing the write.
pub(crate) fn move_due(tx: &Transaction<'_>, id: &str, from: DuePlace, to: DuePlace) -> Result<()> {
    if from == to {
        return Ok(());
    }
    if let Some((at, priority)) = from {
        tx.execute_cached(
            "DELETE FROM chime_due WHERE available_at = ?1 AND neg_priority = ?2 AND id = ?3",
            params![at, -priority, id],
        )
        .map_err(sql_error)?;
    }
    if let Some((at, priority)) = to {
        tx.execute_cached(
            "INSERT OR REPLACE INTO chime_due (available_at, neg_priority, id) VALUES (?1, ?2, ?3)",
            params![at, -priority, id],
        )
        .map_err(sql_error)?;
    }
    Ok(())
}

/// What a job's row says about its scheduling: enough to find its due row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobPlace {
    /// The job's next run time column.
    pub next_run_time: Option<i64>,
    /// The job's priority column.
    pub priority: i64,
    /// The lease on it, if any.
    pub lease: Option<Lease>,
}

/// A row of `chime_leases`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    /// Who holds it.
    pub owner: String,
    /// When it lapses.
    pub expires: i64,
    /// The job's next run time when it was acquired.
    pub next_run_time: Option<i64>,
}

impl JobPlace {
    /// The job's current due row.
    pub fn due(&self) -> DuePlace {
        due_at(
            self.next_run_time,
            self.lease.as_ref().map(|lease| lease.expires),
        )
        .map(|at| (at, self.priority))
    }
}

/// Job `id`'s place, or `None` if there is no such job.
///
/// Two plain lookups rather than one join: SQLite re-plans a join each
/// time its parameter is re-bound, which cost more than the query.
pub(crate) fn job_place(tx: &Transaction<'_>, id: &str) -> Result<Option<JobPlace>> {
    let row: Option<(Option<i64>, i64)> = tx
        .query_row_cached(
            "SELECT next_run_time, priority FROM chime_jobs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql_error)?;
    let Some((next_run_time, priority)) = row else {
        return Ok(None);
    };
    let lease = tx
        .query_row_cached(
            "SELECT owner, expires, next_run_time FROM chime_leases WHERE id = ?1",
            [id],
            |r| {
                Ok(Lease {
                    owner: r.get(0)?,
                    expires: r.get(1)?,
                    next_run_time: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(sql_error)?;
    Ok(Some(JobPlace {
        next_run_time,
        priority,
        lease,
    }))
}

/// One acquired job: its due row before the claim, and its next run time.
pub(crate) struct Claim {
    /// The due row's available time.
    pub available_at: i64,
    /// The due row's `neg_priority`.
    pub neg_priority: i64,
    /// The job.
    pub id: String,
    /// The job's next run time column.
    pub next_run_time: Option<i64>,
    /// The row is not the job's (its job row is gone, or the job's state
    /// puts it elsewhere): it is dropped, not leased.
    pub stale: bool,
}

/// Leases the `claims` (the first due rows in key order, up to and
/// including the last one) to `owner` until `expires`: the claimed rows
/// are cut from the front of `chime_due` as one key range, then each is
/// re-inserted at its leased place and its lease written (taking over
/// one that lapsed). Stale claims only lose their due row.
pub(crate) fn claim_batch(
    tx: &Transaction<'_>,
    claims: &[Claim],
    owner: &str,
    expires: i64,
) -> Result<()> {
    let Some(last) = claims.last() else {
        return Ok(());
    };
    tx.execute_cached(
        "DELETE FROM chime_due WHERE (available_at, neg_priority, id) <= (?1, ?2, ?3)",
        params![last.available_at, last.neg_priority, last.id],
    )
    .map_err(sql_error)?;
    // Both statements taken from the cache once for the whole batch: a
    // lookup hashes the SQL text and puts the statement back each time.
    let mut insert_due = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO chime_due (available_at, neg_priority, id) VALUES (?1, ?2, ?3)",
        )
        .map_err(sql_error)?;
    let mut insert_lease = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO chime_leases (id, owner, expires, next_run_time)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sql_error)?;
    for claim in claims.iter().filter(|claim| !claim.stale) {
        if let Some(at) = due_at(claim.next_run_time, Some(expires)) {
            insert_due
                .execute(params![at, claim.neg_priority, claim.id])
                .map_err(sql_error)?;
        }
        insert_lease
            .execute(params![claim.id, owner, expires, claim.next_run_time])
            .map_err(sql_error)?;
    }
    Ok(())
}

/// Drops the lease on job `id` (if any).
pub(crate) fn clear_lease(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute_cached("DELETE FROM chime_leases WHERE id = ?1", [id])
        .map_err(sql_error)?;
    Ok(())
}
