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
}

impl StoreCapabilities {
    /// A store that keeps jobs in process memory only.
    pub fn in_memory() -> Self {
        StoreCapabilities {
            persistent: false,
            shared: false,
            notifies: false,
            history: true,
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
