//! The values passed across the store contract.

use chrono::{DateTime, Utc};

use crate::job::Job;

/// What a store can do, so callers ask instead of discovering by error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StoreCapabilities {
    /// Jobs survive the process.
    pub persistent: bool,
    /// Several processes may share the store safely (leases are atomic
    /// across processes).
    pub shared: bool,
    /// The store wakes other schedulers on changes; when `shared` without
    /// `notifies`, schedulers poll it at their poll interval.
    pub notifies: bool,
    /// The store keeps run history.
    pub history: bool,
    /// The store keeps a dispatch journal ([`HandOff`](super::HandOff)):
    /// fires handed to runs survive the scheduler that took them.
    pub journal: bool,
}

impl StoreCapabilities {
    /// A store that keeps jobs in process memory only.
    pub fn in_memory() -> Self {
        StoreCapabilities {
            persistent: false,
            shared: false,
            notifies: false,
            history: true,
            journal: false,
        }
    }

    /// Sets `persistent`.
    pub fn persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }

    /// Sets `shared`.
    pub fn shared(mut self, yes: bool) -> Self {
        self.shared = yes;
        self
    }

    /// Sets `notifies`.
    pub fn notifies(mut self, yes: bool) -> Self {
        self.notifies = yes;
        self
    }

    /// Sets `history`.
    pub fn history(mut self, yes: bool) -> Self {
        self.history = yes;
        self
    }

    /// Sets `journal`.
    pub fn journal(mut self, yes: bool) -> Self {
        self.journal = yes;
        self
    }
}

/// A stored record the store could not decode: reported, skipped, kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRecord {
    /// The record's job id.
    pub job_id: String,
    /// Why it could not be read.
    pub reason: String,
}

/// All jobs of a store, and the records it could not read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobList {
    /// Readable jobs, by next run time, ties by id, paused last.
    pub jobs: Vec<Job>,
    /// Records that could not be decoded.
    pub unreadable: Vec<UnreadableRecord>,
}

impl JobList {
    /// Adds a stored record: decoded into `jobs`, or reported in
    /// `unreadable` (see [`decode_record`]).
    pub fn push_record(&mut self, id: &str, text: &str) {
        match decode_record(id, text) {
            Ok(job) => self.jobs.push(job),
            Err(unreadable) => self.unreadable.push(unreadable),
        }
    }

    /// Puts the jobs in the contract's order — next run time ascending,
    /// ties by id, paused last by id — and the unreadable records by id.
    ///
    /// An unstable sort: a store's ids are unique, so no two entries
    /// compare equal and the order is the same as a stable sort's, without
    /// the stable sort's scratch copy of the list (8 MB at 100,000 jobs).
    pub fn sort(&mut self) {
        self.jobs
            .sort_unstable_by(|a, b| match (a.next_run_time, b.next_run_time) {
                (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.id.cmp(&b.id)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.id.cmp(&b.id),
            });
        self.unreadable
            .sort_unstable_by(|a, b| a.job_id.cmp(&b.job_id));
    }
}

/// Decodes record `text` stored under job id `id`: the job, or why it
/// cannot be used (not a record, a newer format, or a record of another id).
///
/// ```
/// use chime_core::store::decode_record;
/// let bad = decode_record("nightly", "{not json").unwrap_err();
/// assert_eq!(bad.job_id, "nightly");
/// ```
pub fn decode_record(id: &str, text: &str) -> Result<Job, UnreadableRecord> {
    let unreadable = |reason: String| UnreadableRecord {
        job_id: id.to_owned(),
        reason,
    };
    match Job::from_record(text) {
        Ok(job) if job.id == id => Ok(job),
        Ok(job) => Err(unreadable(format!(
            "record holds id '{}' but is stored under '{id}'",
            job.id
        ))),
        Err(e) => Err(unreadable(e.message().to_owned())),
    }
}

/// The result of [`JobStore::acquire_due_jobs`](super::JobStore::acquire_due_jobs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AcquiredJobs {
    /// Claimed jobs, earliest due first, higher priority first on ties.
    pub jobs: Vec<Job>,
    /// Due records that could not be decoded; they are leased like the
    /// others (so they are not reported on every poll) and left for a build
    /// that can read them.
    pub unreadable: Vec<UnreadableRecord>,
}

/// How a lease ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Keep the job with a new next run time and trigger time.
    Reschedule {
        /// When the job is next due (jitter included).
        next_run_time: DateTime<Utc>,
        /// The trigger's fire time behind it.
        trigger_time: DateTime<Utc>,
    },
    /// The trigger is exhausted: remove the job.
    Remove,
}

/// What [`JobStore::release_job`](super::JobStore::release_job) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// The release was applied: the job was rescheduled or removed.
    Applied,
    /// The job's schedule was changed by an update while it was leased
    /// (paused, resumed, rescheduled); that change was kept and only the
    /// lease ended.
    KeptUpdate,
}

/// An edit applied to a job by [`JobStore::modify_job`](super::JobStore::modify_job).
pub type JobEdit<'a> = &'a (dyn Fn(&mut Job) -> crate::error::Result<()> + Send + Sync);
