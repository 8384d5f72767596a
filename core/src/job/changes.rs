//! Changing a job's options.

use std::time::Duration;

use serde::Serialize;

use super::Job;
use crate::error::{Error, Result};

/// The options of a job to change; unset fields stay as they are. Use the
/// scheduler's `reschedule_job` to change the trigger and `pause_job` /
/// `resume_job` for the next run time.
///
/// ```
/// use chime_core::job::JobChanges;
/// let changes = JobChanges::new().name("nightly export").max_instances(2);
/// # let _ = changes;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct JobChanges {
    name: Option<String>,
    args: Option<std::result::Result<serde_json::Value, String>>,
    executor: Option<String>,
    misfire_grace_time: Option<Option<Duration>>,
    coalesce: Option<bool>,
    max_instances: Option<u32>,
    priority: Option<i32>,
}

impl JobChanges {
    /// No changes yet.
    pub fn new() -> Self {
        JobChanges::default()
    }

    /// New name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// New arguments.
    pub fn args<T: Serialize>(mut self, args: T) -> Self {
        self.args = Some(serde_json::to_value(args).map_err(|e| e.to_string()));
        self
    }

    /// New executor alias.
    pub fn executor(mut self, executor: impl Into<String>) -> Self {
        self.executor = Some(executor.into());
        self
    }

    /// New grace time.
    pub fn misfire_grace_time(mut self, grace: Option<Duration>) -> Self {
        self.misfire_grace_time = Some(grace);
        self
    }

    /// New coalesce setting.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = Some(coalesce);
        self
    }

    /// New instance limit (at least 1).
    pub fn max_instances(mut self, max: u32) -> Self {
        self.max_instances = Some(max);
        self
    }

    /// New priority.
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Applies the changes to `job`, checking them first; on error `job` is
    /// left untouched.
    pub fn apply(self, job: &mut Job) -> Result<()> {
        if self.max_instances == Some(0) {
            return Err(Error::invalid("max_instances: must be at least 1").with_job(&job.id));
        }
        let args = match self.args {
            Some(Ok(args)) => {
                super::new_job::check_args_size(&args).map_err(|e| e.with_job(&job.id))?;
                Some(args)
            }
            Some(Err(e)) => {
                return Err(Error::invalid(format!("args: cannot serialize: {e}")).with_job(&job.id))
            }
            None => None,
        };
        if let Some(name) = self.name {
            job.name = name.into();
        }
        if let Some(args) = args {
            job.args = args;
        }
        if let Some(executor) = self.executor {
            job.executor = executor.into();
        }
        if let Some(grace) = self.misfire_grace_time {
            job.misfire_grace_time = grace;
        }
        if let Some(coalesce) = self.coalesce {
            job.coalesce = coalesce;
        }
        if let Some(max) = self.max_instances {
            job.max_instances = max;
        }
        if let Some(priority) = self.priority {
            job.priority = priority;
        }
        Ok(())
    }
}
