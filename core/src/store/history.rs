//! Run history records.

use std::time::Duration;

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long the stores' batched run-history writes (see
/// [`GroupCommit::with_write_timeout`](super::GroupCommit::with_write_timeout))
/// may take before their runs give up on them: far more than a write of
/// thousands of records takes, so only a store that stopped answering
/// reaches it. Until then, every run that ends waits behind that write.
pub const RUN_HISTORY_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Finished successfully.
    Success,
    /// Returned an error.
    Error,
    /// Panicked.
    Panic,
    /// Outlived its timeout.
    Timeout,
    /// Its process died (signal, abort).
    Crash,
    /// Cancelled at shutdown.
    Cancelled,
    /// Not run: the fire missed its grace time (a report, not a run).
    Missed,
    /// Not run: the job already had `max_instances` runs going.
    Skipped,
    /// Handed to a scheduler that stopped before the run ended: it may have
    /// run in part, in full, or not at all (see the dispatch journal).
    Interrupted,
}

impl RunOutcome {
    /// Whether the run succeeded.
    pub fn is_success(self) -> bool {
        self == RunOutcome::Success
    }
}

/// One finished run of a job, or one fire that was not run (outcomes
/// [`Missed`](RunOutcome::Missed), [`Skipped`](RunOutcome::Skipped),
/// [`Interrupted`](RunOutcome::Interrupted): their `started_at` and
/// `finished_at` are when it was noticed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunRecord {
    /// The job.
    pub job_id: ArcStr,
    /// The fire time the run was for.
    pub scheduled_run_time: DateTime<Utc>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: RunOutcome,
    /// The error text or output tail, if any.
    pub message: Option<String>,
}

impl RunRecord {
    /// A record of one run.
    pub fn new(
        job_id: impl Into<ArcStr>,
        scheduled_run_time: DateTime<Utc>,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        outcome: RunOutcome,
        message: Option<String>,
    ) -> Self {
        RunRecord {
            job_id: job_id.into(),
            scheduled_run_time,
            started_at,
            finished_at,
            outcome,
            message,
        }
    }
}
