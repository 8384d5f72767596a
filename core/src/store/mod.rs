//! The job store contract.
//!
//! A [`JobStore`] keeps job records and hands due jobs to schedulers. It is
//! async and object-safe (`Arc<dyn JobStore>`), and every implementation —
//! in this workspace or a third party's — is held to one conformance suite.
//!
//! # Leases (several schedulers on one store)
//!
//! [`acquire_due_jobs`](JobStore::acquire_due_jobs) atomically claims due jobs
//! for one owner (a scheduler instance) for a lease duration; a job under an
//! unexpired lease is handed to nobody else. The owner computes the job's
//! next run time and [`release_job`](JobStore::release_job)s it with that
//! time (or removes it when its trigger is exhausted). If the owner dies, the
//! lease expires and another scheduler acquires the job; misfire rules then
//! decide what runs.

mod group_commit;
mod hand_off;
mod history;
mod time_index;
mod types;

pub use group_commit::GroupCommit;
pub use hand_off::{HandOff, HandOffKey, JobRelease};
pub use history::{RunOutcome, RunRecord, RUN_HISTORY_WRITE_TIMEOUT};
pub use time_index::index_micros;
pub use types::{
    decode_record, AcquiredJobs, JobEdit, JobList, Release, Released, StoreCapabilities,
    UnreadableRecord,
};

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;

/// Keeps jobs. See the [module documentation](self) for the lease protocol.
///
/// Ordering promises: [`list_jobs`](Self::list_jobs) returns jobs by next run
/// time ascending, ties by id, paused jobs last (by id);
/// [`acquire_due_jobs`](Self::acquire_due_jobs) hands out the earliest due
/// first and, among jobs due at the same instant, higher priority first.
///
/// Records a store cannot decode are never deleted by it: they are reported
/// ([`UnreadableRecord`], or an [`ErrorKind::UnreadableRecord`] error from
/// [`get_job`](Self::get_job)) and kept.
#[async_trait]
pub trait JobStore: Send + Sync + fmt::Debug + 'static {
    /// What this store can do.
    fn capabilities(&self) -> StoreCapabilities;

    /// Adds a job. With `replace_existing` an existing job with the same id is
    /// replaced (its lease is dropped); otherwise that is an
    /// [`ErrorKind::Conflict`] error.
    async fn add_job(&self, job: Job, replace_existing: bool) -> Result<()>;

    /// Adds several jobs, in one transaction where the store has them; all
    /// or nothing on a conflict.
    async fn add_jobs(&self, jobs: Vec<Job>, replace_existing: bool) -> Result<()> {
        for job in jobs {
            self.add_job(job, replace_existing).await?;
        }
        Ok(())
    }

    /// The job with `id`, if any.
    async fn get_job(&self, id: &str) -> Result<Option<Job>>;

    /// All jobs (in the documented order) plus the records that could not be read.
    async fn list_jobs(&self) -> Result<JobList>;

    /// Replaces an existing job's record (same id); [`ErrorKind::NotFound`]
    /// if there is none. A lease on the job is kept (see
    /// [`release_job`](Self::release_job) for how the two meet).
    async fn update_job(&self, job: Job) -> Result<()>;

    /// Changes job `id` atomically: reads its current record, applies
    /// `edit` and writes the result back (keeping any lease, as
    /// [`update_job`](Self::update_job) does), so a concurrent release is
    /// never overwritten with stale data. Returns the changed job;
    /// [`ErrorKind::NotFound`] if there is none; an error from `edit` leaves
    /// the job as it was.
    ///
    /// The default reads and then updates, which is not atomic: stores that
    /// several schedulers share must override it.
    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        let mut job = self
            .get_job(id)
            .await?
            .ok_or_else(|| Error::job_not_found(id))?;
        edit(&mut job)?;
        self.update_job(job.clone()).await?;
        Ok(job)
    }

    /// Removes a job; [`ErrorKind::NotFound`] if there is none.
    async fn remove_job(&self, id: &str) -> Result<()>;

    /// Removes every job (unreadable records included: this is explicit).
    async fn remove_all_jobs(&self) -> Result<()>;

    /// The earliest instant at which [`acquire_due_jobs`](Self::acquire_due_jobs)
    /// could return a job: the smallest next run time among unleased jobs and
    /// `max(next run time, lease expiry)` among leased ones; `None` when no
    /// job is scheduled.
    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>>;

    /// Atomically claims up to `limit` jobs due at `now` (next run time
    /// `<= now`, not paused, not under another owner's unexpired lease) for
    /// `owner`, leasing each until `now + lease`.
    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs>;

    /// Ends `owner`'s lease on job `id`: reschedules it or removes it.
    /// [`ErrorKind::LeaseLost`] if `owner` does not hold the lease (it expired
    /// and another owner took the job); [`ErrorKind::NotFound`] if the job is gone.
    ///
    /// The release applies to the job's *current* record: if it was updated
    /// while leased, the update's other changes are kept. If the update
    /// changed the job's schedule (its next run time differs from when it
    /// was acquired: paused, resumed, rescheduled), the update wins and the
    /// lease just ends — a job paused while it was running stays paused.
    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released>;

    /// Ends several of `owner`'s leases: one result per entry, in order,
    /// each as [`release_job`](Self::release_job) would give it. Stores that
    /// can do it in one transaction or round trip override this (the
    /// scheduler releases a whole acquired batch at once); the default
    /// releases one by one.
    ///
    /// Stores with the `journal` capability record each entry's
    /// [`hand_off`](JobRelease::hand_off) in the dispatch journal in the
    /// same atomic step as its release, and only when the release
    /// succeeds (see [`HandOff`]). The default ignores hand-offs.
    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        let mut results = Vec::with_capacity(releases.len());
        for entry in releases {
            results.push(self.release_job(owner, &entry.id, entry.release).await);
        }
        results
    }

    /// Removes journal entries whose runs ended (stores with the `journal`
    /// capability). Keys with no entry are ignored.
    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> Result<()> {
        let _ = keys;
        Err(not_supported("finish_hand_offs", self))
    }

    /// Moves the deadline of the journal entries `keys` that `owner` still
    /// holds to `deadline` (stores with the `journal` capability): the
    /// owner is alive and those runs go on. Entries of other keys — ones
    /// another scheduler claimed, or ones whose release the owner saw fail
    /// although the store applied it — are left to go stale and be reported.
    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        let _ = (owner, keys, deadline);
        Err(not_supported("renew_hand_offs", self))
    }

    /// Atomically claims up to `limit` journal entries whose deadline is
    /// before `now` for `owner`, moving their deadline to `now + lease`, and
    /// returns them as they were (with the owner that stopped). Two
    /// claimers never get the same entry while the claim lasts (stores with
    /// the `journal` capability).
    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HandOff>> {
        let _ = (owner, now, limit, lease);
        Err(not_supported("claim_stale_hand_offs", self))
    }

    /// A feed that changes whenever another process changes this store's
    /// jobs, for stores that can notify (capability `notifies`); schedulers
    /// wake on it instead of waiting for their next poll. `None` (the
    /// default) for stores that cannot.
    fn change_feed(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// Records one finished run (stores with the `history` capability).
    async fn record_run(&self, record: RunRecord) -> Result<()> {
        let _ = record;
        Err(not_supported("record_run", self))
    }

    /// The last runs of job `id`, newest first (stores with the `history` capability).
    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        let _ = (id, limit);
        Err(not_supported("run_history", self))
    }
}

/// Releases each entry with [`JobStore::release_job`], all at once rather
/// than one after the other: for network stores whose releases are
/// independent compare-and-sets, the round trips overlap. Use it as the
/// body of [`JobStore::release_jobs`] when a store has no batch operation.
pub async fn release_concurrently<S: JobStore + ?Sized>(
    store: &S,
    owner: &str,
    releases: &[JobRelease],
) -> Vec<Result<Released>> {
    futures::future::join_all(
        releases
            .iter()
            .map(|entry| store.release_job(owner, &entry.id, entry.release)),
    )
    .await
}

fn not_supported<S: JobStore + ?Sized>(operation: &str, store: &S) -> Error {
    Error::new(
        ErrorKind::NotSupported,
        format!("{operation} is not supported by {store:?}"),
    )
}
