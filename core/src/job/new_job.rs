//! Describing a job to add.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{validate_job_id, Job};
use crate::duration;
use crate::error::{Error, ErrorKind, Result};
use crate::scheduler::jitter::jittered;
use crate::trigger::{ResolveContext, Trigger};

/// Defaults for the job options a [`NewJob`] leaves unset.
///
/// The default `misfire_grace_time` is 60 seconds (Quartz's misfire
/// threshold): a run that starts a few milliseconds or seconds late still
/// runs — APScheduler 3's 1-second default dropping runs under load is one of
/// its most reported problems — while a run missed by more than a minute
/// (the process was down) is reported as missed instead of surprising
/// anyone. `coalesce` defaults to `true`, `max_instances` to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct JobDefaults {
    /// Default grace time; `None` = run however late.
    #[serde(with = "duration::serde_text_opt")]
    pub misfire_grace_time: Option<Duration>,
    /// Default for merging missed runs into one.
    pub coalesce: bool,
    /// Default concurrent runs per job.
    pub max_instances: u32,
}

impl Default for JobDefaults {
    fn default() -> Self {
        JobDefaults {
            misfire_grace_time: Some(Duration::from_secs(60)),
            coalesce: true,
            max_instances: 1,
        }
    }
}

/// When a new job first runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextRun {
    /// As the trigger says (the default).
    FromTrigger,
    /// At this instant, then as the trigger says.
    At(DateTime<Utc>),
    /// Added paused.
    Paused,
}

/// A job to add: the task name, its trigger and options.
///
/// ```
/// use chime_core::job::NewJob;
/// use chime_core::trigger::IntervalTrigger;
/// let job = NewJob::new("send_report", IntervalTrigger::seconds(3600).unwrap())
///     .id("hourly-report")
///     .args(serde_json::json!({"to": "ops@example.com"}))
///     .max_instances(2);
/// assert_eq!(job.job_id(), Some("hourly-report"));
/// ```
#[derive(Clone)]
pub struct NewJob {
    pub(crate) id: Option<String>,
    name: Option<String>,
    pub(crate) task: String,
    args: std::result::Result<serde_json::Value, String>,
    pub(crate) trigger: Arc<dyn Trigger>,
    executor: ArcStr,
    misfire_grace_time: Option<Option<Duration>>,
    coalesce: Option<bool>,
    max_instances: Option<u32>,
    priority: i32,
    next_run: NextRun,
    pub(crate) store: ArcStr,
    pub(crate) replace_existing: bool,
    labels: std::collections::BTreeMap<String, String>,
}

impl NewJob {
    /// A job running the registered task `task` whenever `trigger` fires.
    pub fn new(task: impl Into<String>, trigger: impl Trigger + 'static) -> Self {
        NewJob::with_trigger(task, Arc::new(trigger))
    }

    /// Like [`new`](Self::new) with an already shared trigger.
    pub fn with_trigger(task: impl Into<String>, trigger: Arc<dyn Trigger>) -> Self {
        NewJob {
            id: None,
            name: None,
            task: task.into(),
            args: Ok(serde_json::Value::Null),
            trigger,
            // Static strings: the usual aliases cost no allocation per job.
            executor: arcstr::literal!("default"),
            misfire_grace_time: None,
            coalesce: None,
            max_instances: None,
            priority: 0,
            next_run: NextRun::FromTrigger,
            store: arcstr::literal!("default"),
            replace_existing: false,
            labels: std::collections::BTreeMap::new(),
        }
    }

    /// Sets the id (unique per store; a random one is generated otherwise).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The id, if one was set.
    pub fn job_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Sets a human-readable name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the task's arguments (anything serializable to JSON).
    pub fn args<T: Serialize>(mut self, args: T) -> Self {
        self.args = serde_json::to_value(args).map_err(|e| e.to_string());
        self
    }

    /// Runs the job on the executor with this alias (default `"default"`).
    pub fn executor(mut self, executor: impl Into<String>) -> Self {
        self.executor = ArcStr::from(executor.into());
        self
    }

    /// Keeps the job in the store with this alias (default `"default"`).
    pub fn store(mut self, store: impl Into<String>) -> Self {
        self.store = ArcStr::from(store.into());
        self
    }

    /// How late a run may start; `None` = however late.
    pub fn misfire_grace_time(mut self, grace: Option<Duration>) -> Self {
        self.misfire_grace_time = Some(grace);
        self
    }

    /// Whether several missed runs are merged into one.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = Some(coalesce);
        self
    }

    /// Concurrent runs allowed (at least 1).
    pub fn max_instances(mut self, max: u32) -> Self {
        self.max_instances = Some(max);
        self
    }

    /// Dispatch priority among jobs due at the same instant (higher first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Sets when the job first runs.
    pub fn next_run(mut self, next_run: NextRun) -> Self {
        self.next_run = next_run;
        self
    }

    /// Adds the job paused.
    pub fn paused(self) -> Self {
        self.next_run(NextRun::Paused)
    }

    /// Sets a label (free-form key/value metadata kept with the job).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Replaces an existing job with the same id instead of failing.
    pub fn replace_existing(mut self, replace: bool) -> Self {
        self.replace_existing = replace;
        self
    }

    /// Turns the description into a job record as of `now`: resolves the
    /// trigger's defaults, computes the first run time and checks every
    /// option. A trigger that will never fire is an error (a date in the
    /// past, an end date before the start).
    pub fn into_job(
        self,
        now: DateTime<Utc>,
        defaults: &JobDefaults,
        timezone: chrono_tz::Tz,
    ) -> Result<Job> {
        self.into_job_with_task(now, defaults, timezone, None)
    }

    /// [`into_job`](Self::into_job), the task name taken from `shared` (the
    /// scheduler's registered copy of the same name) when given, instead
    /// of a new copy per job.
    pub(crate) fn into_job_with_task(
        self,
        now: DateTime<Utc>,
        defaults: &JobDefaults,
        timezone: chrono_tz::Tz,
        shared: Option<ArcStr>,
    ) -> Result<Job> {
        debug_assert!(shared.as_deref().is_none_or(|name| name == self.task));
        let id = match self.id {
            Some(id) => ArcStr::from(id),
            None => {
                let mut text = uuid::Uuid::encode_buffer();
                ArcStr::from(&*uuid::Uuid::new_v4().simple().encode_lower(&mut text))
            }
        };
        validate_job_id(&id)?;
        let fail = |e: Error| e.with_job(id.clone());
        if self.task.trim().is_empty() {
            return Err(fail(Error::invalid(
                "task: the task name must not be empty",
            )));
        }
        let args = self
            .args
            .map_err(|e| fail(Error::invalid(format!("args: cannot serialize: {e}"))))?;
        check_args_size(&args).map_err(fail)?;
        let max_instances = self.max_instances.unwrap_or(defaults.max_instances);
        if max_instances == 0 {
            return Err(fail(Error::invalid("max_instances: must be at least 1")));
        }
        let context = ResolveContext::new(now, timezone);
        let resolved = self.trigger.resolve(&context);
        let trigger: &dyn Trigger = match &resolved {
            Some(t) => t.as_ref(),
            None => self.trigger.as_ref(),
        };
        let spec = trigger.to_spec().map_err(fail)?;
        let (next_run_time, trigger_time) = match self.next_run {
            NextRun::Paused => (None, None),
            NextRun::At(at) => (Some(at), None),
            NextRun::FromTrigger => match trigger.next_fire_time(None, now) {
                Some(fire) => (Some(jittered(trigger, fire)), Some(fire)),
                None => {
                    return Err(fail(Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "trigger ({}) will never fire after {}",
                            trigger.describe(),
                            now.to_rfc3339()
                        ),
                    )))
                }
            },
        };
        let task = shared.unwrap_or_else(|| ArcStr::from(self.task));
        Ok(Job {
            name: self.name.map_or_else(|| task.clone(), ArcStr::from),
            id,
            task,
            args,
            trigger: spec,
            executor: self.executor,
            misfire_grace_time: self
                .misfire_grace_time
                .unwrap_or(defaults.misfire_grace_time),
            coalesce: self.coalesce.unwrap_or(defaults.coalesce),
            max_instances,
            priority: self.priority,
            next_run_time,
            trigger_time,
            labels: self.labels,
        })
    }
}

/// The largest job arguments accepted, serialized (1 MiB): a job record is
/// read on every fire and listed by tools; bulk data belongs elsewhere
/// (pass a path or a key).
pub const MAX_ARGS_BYTES: usize = 1 << 20;

/// Refuses arguments larger than [`MAX_ARGS_BYTES`] once serialized.
pub(crate) fn check_args_size(args: &serde_json::Value) -> Result<()> {
    if args.is_null() {
        return Ok(());
    }
    let size = serde_json::to_vec(args)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_ARGS_BYTES {
        return Err(Error::invalid(format!(
            "args: {size} bytes serialized is larger than the limit of {MAX_ARGS_BYTES}; pass a reference (a path, a key) instead"
        )));
    }
    Ok(())
}

impl fmt::Debug for NewJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewJob")
            .field("id", &self.id)
            .field("task", &self.task)
            .field("trigger", &self.trigger)
            .field("store", &self.store)
            .field("executor", &self.executor)
            .finish_non_exhaustive()
    }
}
