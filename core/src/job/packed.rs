//! A job packed for stores that keep many jobs in memory.

use std::collections::BTreeMap;
use std::time::Duration;

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Job;
use crate::trigger::TriggerSpec;

/// Marks "no misfire grace time": never a sub-second nanosecond count.
const NO_GRACE: u32 = u32::MAX;

/// A [`Job`] without its trigger spec, packed for a store that keeps many
/// jobs in memory: the store keeps each distinct spec once and the packed
/// jobs beside it.
///
/// Most jobs have no arguments, no labels and a name that is their task's,
/// so those are kept only when present: a packed job is 96 bytes where a
/// `Job` is 168. [`unpack`](Self::unpack) gives back an equal `Job`.
///
/// ```
/// use chime_core::job::{JobDefaults, NewJob, PackedJob};
/// use chime_core::trigger::IntervalTrigger;
/// let now = "2026-01-01T00:00:00Z".parse().unwrap();
/// let job = NewJob::new("report", IntervalTrigger::seconds(60).unwrap())
///     .id("r1")
///     .into_job(now, &JobDefaults::default(), chrono_tz::UTC)
///     .unwrap();
/// let (packed, spec) = PackedJob::pack(job.clone());
/// assert_eq!(packed.id().as_str(), "r1");
/// assert_eq!(packed.unpack(spec), job);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PackedJob {
    id: ArcStr,
    /// `None`: the task's name.
    name: Option<ArcStr>,
    task: ArcStr,
    executor: ArcStr,
    /// `None`: JSON `null`.
    args: Option<Box<Value>>,
    /// `None`: no labels. Boxed on purpose: 8 bytes per job, where an
    /// empty map inline is 24.
    #[allow(clippy::box_collection)]
    labels: Option<Box<BTreeMap<String, String>>>,
    /// The misfire grace time as seconds and nanoseconds (12 bytes, where
    /// `Option<Duration>` is 16); nanoseconds [`NO_GRACE`]: none.
    misfire_secs: u64,
    misfire_nanos: u32,
    next_run_time: Option<DateTime<Utc>>,
    trigger_time: Option<DateTime<Utc>>,
    priority: i32,
    max_instances: u32,
    coalesce: bool,
}

impl PackedJob {
    /// Packs `job`, handing back its trigger spec.
    pub fn pack(job: Job) -> (PackedJob, TriggerSpec) {
        // Every field, by name: a field added to `Job` fails to compile
        // here until it is packed too.
        let Job {
            id,
            name,
            task,
            args,
            trigger,
            executor,
            misfire_grace_time,
            coalesce,
            max_instances,
            priority,
            next_run_time,
            trigger_time,
            labels,
        } = job;
        let packed = PackedJob {
            name: (name != task).then_some(name),
            id,
            task,
            executor,
            args: (!args.is_null()).then(|| Box::new(args)),
            labels: (!labels.is_empty()).then(|| Box::new(labels)),
            misfire_secs: misfire_grace_time.map_or(0, |grace| grace.as_secs()),
            misfire_nanos: misfire_grace_time.map_or(NO_GRACE, |grace| grace.subsec_nanos()),
            next_run_time,
            trigger_time,
            priority,
            max_instances,
            coalesce,
        };
        (packed, trigger)
    }

    /// The job again, with `trigger` as its spec.
    pub fn unpack(&self, trigger: TriggerSpec) -> Job {
        Job {
            id: self.id.clone(),
            name: self.name.clone().unwrap_or_else(|| self.task.clone()),
            task: self.task.clone(),
            args: self.args.as_deref().cloned().unwrap_or(Value::Null),
            trigger,
            executor: self.executor.clone(),
            misfire_grace_time: (self.misfire_nanos != NO_GRACE)
                .then(|| Duration::new(self.misfire_secs, self.misfire_nanos)),
            coalesce: self.coalesce,
            max_instances: self.max_instances,
            priority: self.priority,
            next_run_time: self.next_run_time,
            trigger_time: self.trigger_time,
            labels: self.labels.as_deref().cloned().unwrap_or_default(),
        }
    }

    /// The job's id.
    pub fn id(&self) -> &ArcStr {
        &self.id
    }

    /// The job's priority.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The job's next run time (`None`: paused).
    pub fn next_run_time(&self) -> Option<DateTime<Utc>> {
        self.next_run_time
    }

    /// Sets the job's next run time.
    pub fn set_next_run_time(&mut self, at: Option<DateTime<Utc>>) {
        self.next_run_time = at;
    }

    /// The trigger fire time the next run stands for (see [`Job`]).
    pub fn trigger_time(&self) -> Option<DateTime<Utc>> {
        self.trigger_time
    }

    /// Sets the trigger fire time of the next run.
    pub fn set_trigger_time(&mut self, at: Option<DateTime<Utc>>) {
        self.trigger_time = at;
    }
}

#[cfg(test)]
mod tests {
    use super::PackedJob;
    use crate::job::{Job, JobDefaults, NewJob};
    use crate::trigger::CronTrigger;

    fn job(configure: impl FnOnce(NewJob) -> NewJob) -> Job {
        let now = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
        let trigger = CronTrigger::crontab("0 2 * * *").unwrap_or_else(|e| panic!("{e}"));
        configure(NewJob::new("task", trigger).id("j"))
            .into_job(now, &JobDefaults::default(), chrono_tz::UTC)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_field_comes_back() {
        let plain = job(|j| j);
        let full = job(|j| {
            j.name("nightly")
                .args(serde_json::json!({"to": "ops"}))
                .label("team", "ops")
                .executor("threads")
                .priority(-3)
                .max_instances(4)
                .coalesce(false)
                .misfire_grace_time(None)
        });
        for original in [plain, full] {
            let (packed, spec) = PackedJob::pack(original.clone());
            assert_eq!(packed.unpack(spec), original);
        }
    }

    #[test]
    fn a_packed_job_is_smaller_than_a_job() {
        assert!(std::mem::size_of::<PackedJob>() <= 96);
        assert!(std::mem::size_of::<PackedJob>() < std::mem::size_of::<Job>());
    }

    #[test]
    fn times_can_change_in_place() {
        let original = job(|j| j);
        let (mut packed, spec) = PackedJob::pack(original.clone());
        let later = original
            .next_run_time
            .map(|t| t + chrono::TimeDelta::days(1));
        packed.set_next_run_time(later);
        packed.set_trigger_time(later);
        let back = packed.unpack(spec);
        assert_eq!((back.next_run_time, back.trigger_time), (later, later));
    }
}
