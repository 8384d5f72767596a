//! Schedulers tie triggers, stores, executors and tasks together.
//!
//! - [`AsyncScheduler`] runs inside your tokio runtime (current-thread
//!   runtimes included);
//! - [`BlockingScheduler`] owns a runtime and runs until stopped;
//! - [`BackgroundScheduler`] runs on a thread of its own and is driven
//!   through a synchronous [`SchedulerHandle`].

mod builder;
mod config;
mod dispatch;
pub(crate) mod fire_plan;
mod instances;
pub(crate) mod jitter;
mod job_map;
mod journal;
mod launcher;
mod operations;
mod run_loop;
mod sync_handle;
mod trigger_cache;

pub use builder::SchedulerBuilder;
pub use config::SchedulerConfig;
pub use operations::{JobFilter, ScheduledJob};
pub use sync_handle::{BackgroundScheduler, BlockingScheduler, SchedulerHandle};

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, EventBus, EventMask, ListenerId};
use crate::executor::Executor;
use crate::store::JobStore;
use crate::task::TaskRegistry;
use crate::trigger::TriggerRegistry;
use instances::InstanceCounter;

/// Where a scheduler is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchedulerState {
    /// Built, not started: jobs can be added, none run.
    Stopped,
    /// Running jobs.
    Running,
    /// Started, but not running jobs until resumed.
    Paused,
    /// Shutting down: no new runs; waiting for running ones.
    ShuttingDown,
    /// Shut down for good.
    Shutdown,
}

pub(crate) struct Parts {
    pub config: SchedulerConfig,
    pub clock: Arc<dyn Clock>,
    pub stores: Vec<(String, Arc<dyn JobStore>)>,
    pub executors: Vec<(String, Arc<dyn Executor>)>,
    pub tasks: TaskRegistry,
    pub triggers: TriggerRegistry,
}

pub(crate) struct Inner {
    pub config: SchedulerConfig,
    pub clock: Arc<dyn Clock>,
    pub stores: RwLock<Vec<(String, Arc<dyn JobStore>)>>,
    /// Looked up on every run: a fast hasher (aliases come from the user's
    /// own configuration).
    pub executors: RwLock<HashMap<ArcStr, Arc<dyn Executor>, foldhash::fast::RandomState>>,
    pub tasks: TaskRegistry,
    pub triggers: TriggerRegistry,
    pub events: EventBus,
    pub wakeup: Notify,
    pub state: watch::Sender<SchedulerState>,
    /// Identifies this scheduler instance as a lease owner.
    pub owner: String,
    pub instances: InstanceCounter,
    pub runs: TaskTracker,
    pub cancel_runs: CancellationToken,
    /// Runs dispatched ahead, waiting for their instant.
    pub launcher: launcher::Launcher,
    pub loop_task: Mutex<Option<JoinHandle<()>>>,
    /// Jobs already reported as unusable, so they are reported once.
    pub reported_unusable: Mutex<HashSet<(String, String)>>,
    /// Decoded triggers of recently fired jobs.
    pub trigger_cache: trigger_cache::TriggerCache,
    /// This scheduler's dispatch journal entries, per store.
    pub journal: journal::JournalBook,
}

/// An async scheduler running on the caller's tokio runtime. Cheap to clone:
/// clones share one scheduler.
///
/// ```
/// use chime_core::{AsyncScheduler, job::NewJob, trigger::IntervalTrigger, task::TaskContext};
/// # use chime_core::store::*; use chime_core::job::Job; use chime_core::Result;
/// # use async_trait::async_trait; use std::time::Duration; use chrono::{DateTime, Utc};
/// # #[derive(Debug)] struct NoStore;
/// # #[async_trait] impl JobStore for NoStore {
/// #   fn capabilities(&self) -> StoreCapabilities { StoreCapabilities::in_memory() }
/// #   async fn add_job(&self, _: Job, _: bool) -> Result<()> { Ok(()) }
/// #   async fn get_job(&self, _: &str) -> Result<Option<Job>> { Ok(None) }
/// #   async fn list_jobs(&self) -> Result<JobList> { Ok(JobList::default()) }
/// #   async fn update_job(&self, _: Job) -> Result<()> { Ok(()) }
/// #   async fn remove_job(&self, _: &str) -> Result<()> { Ok(()) }
/// #   async fn remove_all_jobs(&self) -> Result<()> { Ok(()) }
/// #   async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> { Ok(None) }
/// #   async fn acquire_due_jobs(&self, _: &str, _: DateTime<Utc>, _: usize, _: Duration) -> Result<AcquiredJobs> { Ok(AcquiredJobs::default()) }
/// #   async fn release_job(&self, _: &str, _: &str, _: Release) -> Result<Released> { Ok(Released::Applied) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> chime_core::Result<()> {
/// # let store = NoStore; // in real code: chime::store::MemoryStore::new()
/// let scheduler = AsyncScheduler::builder()
///     .store("default", store)
///     .task_async("tick", |ctx: TaskContext, _: ()| async move {
///         println!("tick for {} at {}", ctx.job_id, ctx.scheduled_run_time);
///     })
///     .build()?;
/// scheduler.start().await?;
/// scheduler.add_job(NewJob::new("tick", IntervalTrigger::seconds(10)?).id("ticker")).await?;
/// scheduler.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AsyncScheduler {
    pub(crate) inner: Arc<Inner>,
}

impl AsyncScheduler {
    /// Starts building a scheduler.
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder::new()
    }

    pub(crate) fn from_parts(parts: Parts) -> Self {
        let (state, _) = watch::channel(SchedulerState::Stopped);
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let events = EventBus::new(parts.config.event_capacity);
        AsyncScheduler {
            inner: Arc::new(Inner {
                config: parts.config,
                clock: parts.clock,
                stores: RwLock::new(parts.stores),
                executors: RwLock::new(
                    parts
                        .executors
                        .into_iter()
                        .map(|(alias, executor)| (ArcStr::from(alias), executor))
                        .collect(),
                ),
                tasks: parts.tasks,
                triggers: parts.triggers,
                events,
                wakeup: Notify::new(),
                state,
                owner,
                instances: InstanceCounter::default(),
                runs: TaskTracker::new(),
                cancel_runs: CancellationToken::new(),
                launcher: launcher::Launcher::default(),
                loop_task: Mutex::new(None),
                reported_unusable: Mutex::new(HashSet::new()),
                trigger_cache: trigger_cache::TriggerCache::default(),
                journal: journal::JournalBook::default(),
            }),
        }
    }

    /// Starts processing jobs on the current tokio runtime.
    pub async fn start(&self) -> Result<()> {
        let mut started = false;
        self.inner.state.send_if_modified(|state| {
            if *state == SchedulerState::Stopped {
                *state = SchedulerState::Running;
                started = true;
                true
            } else {
                false
            }
        });
        if !started {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("cannot start a scheduler that is {:?}", self.state()),
            ));
        }
        let stores: Vec<Arc<dyn JobStore>> = read(&self.inner.stores)
            .iter()
            .map(|(_, s)| Arc::clone(s))
            .collect();
        for store in &stores {
            run_loop::forward_store_changes(&self.inner, store);
        }
        journal::start_journal_keeper(&self.inner);
        let inner = Arc::clone(&self.inner);
        let handle = tokio::spawn(run_loop::run_loop(inner));
        *lock(&self.inner.loop_task) = Some(handle);
        tracing::info!(owner = %self.inner.owner, "scheduler started");
        self.inner.events.emit(Event::SchedulerStarted);
        Ok(())
    }

    /// The current state.
    pub fn state(&self) -> SchedulerState {
        *self.inner.state.borrow()
    }

    /// Waits until the scheduler is shut down (by any handle).
    pub async fn wait_for_shutdown(&self) {
        let mut rx = self.inner.state.subscribe();
        let _ = rx.wait_for(|s| *s == SchedulerState::Shutdown).await;
    }

    /// Stops running jobs until [`resume`](Self::resume); jobs keep their
    /// schedule (fires that pass meanwhile follow the misfire rules).
    pub fn pause(&self) -> Result<()> {
        self.switch(SchedulerState::Running, SchedulerState::Paused)?;
        self.inner.events.emit(Event::SchedulerPaused);
        Ok(())
    }

    /// Resumes after [`pause`](Self::pause).
    pub fn resume(&self) -> Result<()> {
        self.switch(SchedulerState::Paused, SchedulerState::Running)?;
        self.inner.events.emit(Event::SchedulerResumed);
        Ok(())
    }

    fn switch(&self, from: SchedulerState, to: SchedulerState) -> Result<()> {
        let mut ok = false;
        self.inner.state.send_if_modified(|state| {
            if *state == from {
                *state = to;
                ok = true;
            }
            ok
        });
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "cannot go from {:?} to {to:?}",
                self.state()
            )))
        }
    }

    /// Shuts down, waiting for running jobs up to the configured
    /// `shutdown_timeout`.
    pub async fn shutdown(&self) -> Result<()> {
        self.shutdown_with_timeout(self.inner.config.shutdown_timeout)
            .await
    }

    /// Shuts down: stops acquiring jobs, waits up to `timeout` for running
    /// jobs, then cancels async runs still going (blocking ones cannot be
    /// interrupted and are left to finish). Idempotent.
    ///
    /// Called from inside a running job, the shutdown proceeds in the
    /// background and this returns at once (waiting would wait for itself).
    pub async fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        if dispatch::in_job_run() {
            let this = self.clone();
            tokio::spawn(async move {
                let _ = this.shutdown_now(timeout).await;
            });
            return Ok(());
        }
        self.shutdown_now(timeout).await
    }

    async fn shutdown_now(&self, timeout: std::time::Duration) -> Result<()> {
        let mut proceed = false;
        self.inner.state.send_if_modified(|state| match state {
            SchedulerState::ShuttingDown | SchedulerState::Shutdown => false,
            _ => {
                *state = SchedulerState::ShuttingDown;
                proceed = true;
                true
            }
        });
        if !proceed {
            self.wait_for_shutdown().await;
            return Ok(());
        }
        tracing::info!("scheduler shutting down");
        self.inner.wakeup.notify_one();
        let loop_task = lock(&self.inner.loop_task).take();
        if let Some(handle) = loop_task {
            let _ = handle.await;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        self.inner.runs.close();
        if tokio::time::timeout_at(deadline, self.inner.runs.wait())
            .await
            .is_err()
        {
            tracing::warn!("jobs still running at the shutdown deadline are cancelled");
            self.inner.cancel_runs.cancel();
            let grace = std::time::Duration::from_secs(1);
            let _ = tokio::time::timeout(grace, self.inner.runs.wait()).await;
        }
        let executors: Vec<Arc<dyn Executor>> =
            read(&self.inner.executors).values().cloned().collect();
        for executor in executors {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            executor.shutdown(left).await;
        }
        self.inner.state.send_replace(SchedulerState::Shutdown);
        self.inner.events.emit(Event::SchedulerShutdown);
        tracing::info!("scheduler shut down");
        Ok(())
    }

    /// A stream of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Calls `listener` for each event in `mask`.
    pub fn add_listener<F>(&self, mask: EventMask, listener: F) -> ListenerId
    where
        F: Fn(&Event) + Send + Sync + 'static,
    {
        self.inner.events.add_listener(mask, listener)
    }

    /// Removes a listener.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.events.remove_listener(id)
    }

    /// The task registry; tasks may be registered while running.
    pub fn tasks(&self) -> &TaskRegistry {
        &self.inner.tasks
    }

    /// The current time by this scheduler's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The settings.
    pub fn config(&self) -> &SchedulerConfig {
        &self.inner.config
    }

    /// This scheduler's lease owner id.
    pub fn owner_id(&self) -> &str {
        &self.inner.owner
    }

    /// Adds a store at run time.
    pub fn add_store(&self, alias: impl Into<String>, store: Arc<dyn JobStore>) -> Result<()> {
        let alias = alias.into();
        {
            let mut stores = write(&self.inner.stores);
            if stores.iter().any(|(a, _)| *a == alias) {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("store alias '{alias}' is already in use"),
                ));
            }
            stores.push((alias.clone(), Arc::clone(&store)));
        }
        if matches!(
            self.state(),
            SchedulerState::Running | SchedulerState::Paused
        ) {
            run_loop::forward_store_changes(&self.inner, &store);
            journal::start_journal_keeper(&self.inner);
        }
        self.inner.events.emit(Event::StoreAdded { store: alias });
        self.inner.wakeup.notify_one();
        Ok(())
    }

    /// Removes a store (its jobs stay in it, unscheduled by this scheduler).
    pub fn remove_store(&self, alias: &str) -> Result<()> {
        {
            let mut stores = write(&self.inner.stores);
            let before = stores.len();
            stores.retain(|(a, _)| a != alias);
            if stores.len() == before {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("no store with alias '{alias}'"),
                ));
            }
        }
        self.inner.events.emit(Event::StoreRemoved {
            store: alias.to_owned(),
        });
        Ok(())
    }

    /// Adds an executor at run time.
    pub fn add_executor(
        &self,
        alias: impl Into<String>,
        executor: Arc<dyn Executor>,
    ) -> Result<()> {
        let alias: String = alias.into();
        let mut executors = write(&self.inner.executors);
        if executors.contains_key(alias.as_str()) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("executor alias '{alias}' is already in use"),
            ));
        }
        executors.insert(alias.into(), executor);
        Ok(())
    }
}

impl fmt::Debug for AsyncScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stores: Vec<String> = read(&self.inner.stores)
            .iter()
            .map(|(a, _)| a.clone())
            .collect();
        f.debug_struct("AsyncScheduler")
            .field("owner", &self.inner.owner)
            .field("state", &self.state())
            .field("stores", &stores)
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}
