//! Scheduler events: a broadcast stream and listeners with a mask.

mod bus;
mod kind;

pub use bus::{EventBus, ListenerId};
pub use kind::EventMask;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::RunOutcome;

/// Something that happened in a scheduler.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The scheduler started.
    SchedulerStarted,
    /// The scheduler shut down.
    SchedulerShutdown,
    /// Job processing was paused.
    SchedulerPaused,
    /// Job processing was resumed.
    SchedulerResumed,
    /// A store was added.
    StoreAdded {
        /// Store alias.
        store: String,
    },
    /// A store was removed.
    StoreRemoved {
        /// Store alias.
        store: String,
    },
    /// A store operation failed; the scheduler retries after `retry_in`
    /// while the other stores keep running.
    StoreError {
        /// Store alias.
        store: String,
        /// What failed.
        error: String,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// A job was added.
    JobAdded {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
    },
    /// A job was changed (options, trigger, paused or resumed).
    JobModified {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
    },
    /// A job was removed (explicitly, or after its last run).
    JobRemoved {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
    },
    /// A run was handed to an executor.
    JobSubmitted {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The fire times this run stands for (several when coalesced).
        scheduled_run_times: Vec<DateTime<Utc>>,
    },
    /// A run finished successfully.
    JobExecuted {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The fire time of the run.
        scheduled_run_time: DateTime<Utc>,
        /// When it started.
        started_at: DateTime<Utc>,
        /// How long it took.
        duration: Duration,
    },
    /// A run failed: error, panic, timeout, crash or cancellation.
    JobError {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The fire time of the run.
        scheduled_run_time: DateTime<Utc>,
        /// When it started.
        started_at: DateTime<Utc>,
        /// How long it took.
        duration: Duration,
        /// How it failed.
        outcome: RunOutcome,
        /// The error text.
        error: String,
    },
    /// Fires were missed (later than the misfire grace time) and not run.
    JobMissed {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The missed fire times, oldest first.
        scheduled_run_times: Vec<DateTime<Utc>>,
        /// More fires were missed than listed (a long downtime of a frequent
        /// trigger is skipped over, not enumerated).
        more_not_listed: bool,
    },
    /// A run was skipped because `max_instances` runs were already going.
    JobMaxInstancesReached {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The fire times that were skipped.
        scheduled_run_times: Vec<DateTime<Utc>>,
    },
    /// Runs were handed to a scheduler that stopped (killed, crashed, or
    /// shut down past its timeout) before they ended: found in the store's
    /// dispatch journal by a live scheduler. Each may have run in part, in
    /// full, or not at all; none is run again.
    JobInterrupted {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// The fire times handed to the stopped scheduler's runs.
        scheduled_run_times: Vec<DateTime<Utc>>,
        /// The owner id of the scheduler that stopped.
        owner: String,
    },
    /// A job cannot be run by this scheduler (unreadable record, unknown
    /// task, trigger kind or executor). It is kept in its store.
    JobUnusable {
        /// Job id.
        job_id: String,
        /// Store alias.
        store: String,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// The mask bit of this event's kind.
    pub fn mask(&self) -> EventMask {
        match self {
            Event::SchedulerStarted => EventMask::SCHEDULER_STARTED,
            Event::SchedulerShutdown => EventMask::SCHEDULER_SHUTDOWN,
            Event::SchedulerPaused => EventMask::SCHEDULER_PAUSED,
            Event::SchedulerResumed => EventMask::SCHEDULER_RESUMED,
            Event::StoreAdded { .. } => EventMask::STORE_ADDED,
            Event::StoreRemoved { .. } => EventMask::STORE_REMOVED,
            Event::StoreError { .. } => EventMask::STORE_ERROR,
            Event::JobAdded { .. } => EventMask::JOB_ADDED,
            Event::JobModified { .. } => EventMask::JOB_MODIFIED,
            Event::JobRemoved { .. } => EventMask::JOB_REMOVED,
            Event::JobSubmitted { .. } => EventMask::JOB_SUBMITTED,
            Event::JobExecuted { .. } => EventMask::JOB_EXECUTED,
            Event::JobError { .. } => EventMask::JOB_ERROR,
            Event::JobMissed { .. } => EventMask::JOB_MISSED,
            Event::JobMaxInstancesReached { .. } => EventMask::JOB_MAX_INSTANCES,
            Event::JobUnusable { .. } => EventMask::JOB_UNUSABLE,
            Event::JobInterrupted { .. } => EventMask::JOB_INTERRUPTED,
        }
    }

    /// The job id, for job events.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Event::JobAdded { job_id, .. }
            | Event::JobModified { job_id, .. }
            | Event::JobRemoved { job_id, .. }
            | Event::JobSubmitted { job_id, .. }
            | Event::JobExecuted { job_id, .. }
            | Event::JobError { job_id, .. }
            | Event::JobMissed { job_id, .. }
            | Event::JobMaxInstancesReached { job_id, .. }
            | Event::JobUnusable { job_id, .. }
            | Event::JobInterrupted { job_id, .. } => Some(job_id),
            _ => None,
        }
    }
}
