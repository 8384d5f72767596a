//! Jobs: the stored record ([`Job`]), how to describe a new one ([`NewJob`])
//! and how to change one ([`JobChanges`]).

mod changes;
mod id;
mod new_job;
mod packed;
mod recent_texts;
mod record;
mod record_time;

pub use changes::JobChanges;
pub use id::validate_job_id;
pub use new_job::{JobDefaults, NewJob, NextRun, MAX_ARGS_BYTES};
pub use packed::PackedJob;
pub use record::RECORD_VERSION;

use std::collections::BTreeMap;
use std::time::Duration;

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration;
use crate::trigger::TriggerSpec;

/// A scheduled job, as every store keeps it.
///
/// A job names its task (registered with the scheduler by name), carries the
/// task's JSON arguments and a trigger spec, and the options that govern how
/// late or how often it may run. See [`record`](Job::to_record) for the
/// versioned storage format. Lease bookkeeping is kept by each store beside
/// the record, not in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Unique within its store.
    pub id: ArcStr,
    /// A human-readable name (defaults to the task name).
    pub name: ArcStr,
    /// The registered task this job runs.
    pub task: ArcStr,
    /// The task's arguments.
    #[serde(default)]
    pub args: serde_json::Value,
    /// When the job fires.
    pub trigger: TriggerSpec,
    /// The alias of the executor that runs it.
    pub executor: ArcStr,
    /// How late a run may start and still run; `None` = however late.
    #[serde(with = "duration::serde_text_opt")]
    pub misfire_grace_time: Option<Duration>,
    /// Whether several missed runs are merged into one.
    pub coalesce: bool,
    /// How many runs of this job may be in progress at once in one scheduler.
    pub max_instances: u32,
    /// Among jobs due at the same instant, higher priority is dispatched first.
    #[serde(default)]
    pub priority: i32,
    /// The instant the job is next due (jitter included); `None` = paused.
    pub next_run_time: Option<DateTime<Utc>>,
    /// The trigger's own fire time behind `next_run_time` (without jitter);
    /// the next fire is computed from it, so jitter never drifts a schedule.
    #[serde(default)]
    pub trigger_time: Option<DateTime<Utc>>,
    /// Free-form key/value labels for tools (the `chime` daemon marks the
    /// jobs that come from its configuration file with them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Job {
    /// Whether the job is paused (has no next run time).
    pub fn is_paused(&self) -> bool {
        self.next_run_time.is_none()
    }

    /// The scheduled fire time of the next run: the trigger time when known,
    /// else the next run time.
    pub fn scheduled_fire_time(&self) -> Option<DateTime<Utc>> {
        self.trigger_time.or(self.next_run_time)
    }
}
