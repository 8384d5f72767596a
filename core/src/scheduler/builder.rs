//! Assembling a scheduler.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{AsyncScheduler, SchedulerConfig};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::executor::{Executor, TokioExecutor};
use crate::job::JobDefaults;
use crate::store::JobStore;
use crate::task::{TaskContext, TaskOutput, TaskRegistry};
use crate::trigger::{Trigger, TriggerRegistry, TriggerSpec};

/// Builds an [`AsyncScheduler`]: stores, executors, tasks, trigger kinds and
/// settings. The first store added is also used when a job names none only
/// if it is called `"default"`; jobs name their store (default `"default"`).
/// An executor `"default"` (a [`TokioExecutor`]) is added unless you add one.
#[derive(Debug)]
#[must_use]
pub struct SchedulerBuilder {
    config: SchedulerConfig,
    clock: Arc<dyn Clock>,
    stores: Vec<(String, Arc<dyn JobStore>)>,
    executors: Vec<(String, Arc<dyn Executor>)>,
    tasks: TaskRegistry,
    triggers: TriggerRegistry,
    errors: Vec<Error>,
}

impl Default for SchedulerBuilder {
    fn default() -> Self {
        SchedulerBuilder {
            config: SchedulerConfig::default(),
            clock: Arc::new(SystemClock),
            stores: Vec::new(),
            executors: Vec::new(),
            tasks: TaskRegistry::new(),
            triggers: TriggerRegistry::with_builtins(),
            errors: Vec::new(),
        }
    }
}

impl SchedulerBuilder {
    /// A builder with default settings and no stores.
    pub fn new() -> Self {
        SchedulerBuilder::default()
    }

    /// Adds a job store under `alias`.
    pub fn store(self, alias: impl Into<String>, store: impl JobStore) -> Self {
        self.store_arc(alias, Arc::new(store))
    }

    /// Adds a job store you keep a handle to (an `Arc`) under `alias`.
    pub fn store_arc(mut self, alias: impl Into<String>, store: Arc<dyn JobStore>) -> Self {
        let alias = alias.into();
        if self.stores.iter().any(|(a, _)| *a == alias) {
            self.errors.push(Error::invalid(format!(
                "store: alias '{alias}' is used twice"
            )));
        } else {
            self.stores.push((alias, store));
        }
        self
    }

    /// Adds an executor under `alias`.
    pub fn executor(mut self, alias: impl Into<String>, executor: impl Executor) -> Self {
        let alias = alias.into();
        if self.executors.iter().any(|(a, _)| *a == alias) {
            self.errors.push(Error::invalid(format!(
                "executor: alias '{alias}' is used twice"
            )));
        } else {
            self.executors.push((alias, Arc::new(executor)));
        }
        self
    }

    /// Registers an async task under `name`.
    pub fn task_async<A, F, Fut, O>(self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: TaskOutput,
    {
        let result = self.tasks.register_async(name, f);
        self.record(result)
    }

    /// Registers a blocking task under `name`.
    pub fn task_blocking<A, F, O>(self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> O + Send + Sync + 'static,
        O: TaskOutput,
    {
        let result = self.tasks.register_blocking(name, f);
        self.record(result)
    }

    /// Uses a prepared (possibly shared) task registry.
    pub fn tasks(mut self, tasks: TaskRegistry) -> Self {
        self.tasks = tasks;
        self
    }

    /// Registers a custom trigger kind.
    pub fn trigger_kind<F>(mut self, kind: &str, decoder: F) -> Self
    where
        F: Fn(&TriggerSpec, &TriggerRegistry) -> Result<Arc<dyn Trigger>> + Send + Sync + 'static,
    {
        self.triggers.register(kind, decoder);
        self
    }

    /// Replaces all settings.
    pub fn config(mut self, config: SchedulerConfig) -> Self {
        self.config = config;
        self
    }

    /// Default time zone for triggers that name none.
    pub fn timezone(mut self, timezone: chrono_tz::Tz) -> Self {
        self.config.timezone = timezone;
        self
    }

    /// Defaults for job options.
    pub fn job_defaults(mut self, defaults: JobDefaults) -> Self {
        self.config.job_defaults = defaults;
        self
    }

    /// The longest sleep between looks at the stores.
    pub fn max_sleep(mut self, max_sleep: Duration) -> Self {
        self.config.max_sleep = max_sleep;
        self
    }

    /// How far ahead of their fire time jobs are dispatched (see
    /// [`SchedulerConfig::dispatch_ahead`]).
    pub fn dispatch_ahead(mut self, ahead: Duration) -> Self {
        self.config.dispatch_ahead = ahead;
        self
    }

    /// Reads time from `clock` (tests use [`TestClock`](crate::clock::TestClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn record(mut self, result: Result<()>) -> Self {
        if let Err(e) = result {
            self.errors.push(e);
        }
        self
    }

    /// Checks the settings and builds the scheduler (not started yet).
    pub fn build(mut self) -> Result<AsyncScheduler> {
        if let Some(err) = self.errors.into_iter().next() {
            return Err(err);
        }
        if self.stores.is_empty() {
            return Err(Error::invalid(
                "no job store: add one with .store(\"default\", MemoryStore::new())",
            ));
        }
        let c = &self.config;
        if c.batch_size == 0 {
            return Err(Error::invalid("batch_size: must be at least 1"));
        }
        for (name, value) in [
            ("max_sleep", c.max_sleep),
            ("poll_interval", c.poll_interval),
            ("lease_duration", c.lease_duration),
        ] {
            if value.is_zero() {
                return Err(Error::invalid(format!("{name}: must be longer than zero")));
            }
        }
        if c.dispatch_ahead >= c.lease_duration {
            return Err(Error::invalid(
                "dispatch_ahead: must be shorter than lease_duration",
            ));
        }
        if !self.executors.iter().any(|(a, _)| a == "default") {
            self.executors
                .push(("default".into(), Arc::new(TokioExecutor::default())));
        }
        Ok(AsyncScheduler::from_parts(super::Parts {
            config: self.config,
            clock: self.clock,
            stores: self.stores,
            executors: self.executors,
            tasks: self.tasks,
            triggers: self.triggers,
        }))
    }
}
