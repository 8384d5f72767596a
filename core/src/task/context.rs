//! What a running task is told.

use std::fmt;

use arcstr::ArcStr;
use chrono::{DateTime, Utc};

use crate::scheduler::AsyncScheduler;

/// The context a task runs with: which job, which fire time, the job's
/// arguments and a handle to the scheduler.
///
/// The scheduler handle is safe to use from inside a task: adding, changing
/// or removing jobs never waits on the running task. (Shutting the scheduler
/// down from inside a task with a deadline waits for that task too, so it
/// only returns when the deadline passes; call it without awaiting, e.g. from
/// a spawned task.)
#[derive(Clone)]
#[non_exhaustive]
pub struct TaskContext {
    /// The job's id.
    pub job_id: ArcStr,
    /// The alias of the store holding the job.
    pub store: ArcStr,
    /// The fire time this run is for (the latest one, when runs were coalesced).
    pub scheduled_run_time: DateTime<Utc>,
    /// Every fire time this run stands for, oldest first: just
    /// `scheduled_run_time` unless missed runs were coalesced into this one.
    pub scheduled_run_times: Vec<DateTime<Utc>>,
    /// The job's arguments.
    pub args: serde_json::Value,
    /// The scheduler running the job.
    pub scheduler: AsyncScheduler,
}

impl TaskContext {
    /// A context for one run.
    pub fn new(
        job_id: impl Into<ArcStr>,
        store: impl Into<ArcStr>,
        scheduled_run_times: Vec<DateTime<Utc>>,
        args: serde_json::Value,
        scheduler: AsyncScheduler,
    ) -> Self {
        let scheduled_run_time = scheduled_run_times
            .last()
            .copied()
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        TaskContext {
            job_id: job_id.into(),
            store: store.into(),
            scheduled_run_time,
            scheduled_run_times,
            args,
            scheduler,
        }
    }
}

impl fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("job_id", &self.job_id)
            .field("store", &self.store)
            .field("scheduled_run_time", &self.scheduled_run_time)
            .field("scheduled_run_times", &self.scheduled_run_times)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}
