//! Schedulers for synchronous code: [`BlockingScheduler`] (runs until
//! stopped) and [`BackgroundScheduler`] (runs on a thread of its own), both
//! driven through a [`SchedulerHandle`].

use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::runtime::Runtime;

use super::{AsyncScheduler, JobFilter, ScheduledJob, SchedulerBuilder, SchedulerState};
use crate::error::{Error, ErrorKind, Result};
use crate::job::{Job, JobChanges, NewJob};
use crate::store::RunRecord;
use crate::trigger::Trigger;

/// A synchronous handle to a scheduler running on its own runtime. Cheap to
/// clone; usable from any thread that is not one of that runtime's async
/// workers (from async code, use [`scheduler`](Self::scheduler) instead).
///
/// Each call blocks until the scheduler's runtime has done the work, so
/// never call it from an event listener or an async task of the same
/// scheduler: that waits for itself. (Blocking tasks are fine: they run on
/// their own threads.)
#[derive(Clone, Debug)]
pub struct SchedulerHandle {
    scheduler: AsyncScheduler,
    runtime: tokio::runtime::Handle,
}

impl SchedulerHandle {
    fn call<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(AsyncScheduler) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let future = f(self.scheduler.clone());
        self.runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv()
            .map_err(|_| Error::new(ErrorKind::Shutdown, "the scheduler's runtime has stopped"))?
    }

    /// The async scheduler behind this handle.
    pub fn scheduler(&self) -> &AsyncScheduler {
        &self.scheduler
    }

    /// The scheduler's state.
    pub fn state(&self) -> SchedulerState {
        self.scheduler.state()
    }

    /// See [`AsyncScheduler::add_job`].
    pub fn add_job(&self, job: NewJob) -> Result<Job> {
        self.call(|s| async move { s.add_job(job).await })
    }

    /// See [`AsyncScheduler::add_jobs`].
    pub fn add_jobs(&self, jobs: Vec<NewJob>) -> Result<Vec<Job>> {
        self.call(|s| async move { s.add_jobs(jobs).await })
    }

    /// See [`AsyncScheduler::get_job`].
    pub fn get_job(&self, id: &str) -> Result<Option<ScheduledJob>> {
        let id = id.to_owned();
        self.call(|s| async move { s.get_job(&id).await })
    }

    /// See [`AsyncScheduler::list_jobs`].
    pub fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<ScheduledJob>> {
        let filter = filter.clone();
        self.call(|s| async move { s.list_jobs(&filter).await })
    }

    /// See [`AsyncScheduler::modify_job`].
    pub fn modify_job(&self, id: &str, changes: JobChanges) -> Result<Job> {
        let id = id.to_owned();
        self.call(|s| async move { s.modify_job(&id, changes).await })
    }

    /// See [`AsyncScheduler::reschedule_job`].
    pub fn reschedule_job(&self, id: &str, trigger: impl Trigger + 'static) -> Result<Job> {
        let id = id.to_owned();
        self.call(|s| async move { s.reschedule_job(&id, trigger).await })
    }

    /// See [`AsyncScheduler::pause_job`].
    pub fn pause_job(&self, id: &str) -> Result<Job> {
        let id = id.to_owned();
        self.call(|s| async move { s.pause_job(&id).await })
    }

    /// See [`AsyncScheduler::resume_job`].
    pub fn resume_job(&self, id: &str) -> Result<Option<Job>> {
        let id = id.to_owned();
        self.call(|s| async move { s.resume_job(&id).await })
    }

    /// See [`AsyncScheduler::run_job`].
    pub fn run_job(&self, id: &str) -> Result<DateTime<Utc>> {
        let id = id.to_owned();
        self.call(|s| async move { s.run_job(&id).await })
    }

    /// See [`AsyncScheduler::remove_job`].
    pub fn remove_job(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.call(|s| async move { s.remove_job(&id).await })
    }

    /// See [`AsyncScheduler::remove_all_jobs`].
    pub fn remove_all_jobs(&self, store: Option<&str>) -> Result<()> {
        let store = store.map(str::to_owned);
        self.call(|s| async move { s.remove_all_jobs(store.as_deref()).await })
    }

    /// See [`AsyncScheduler::run_after`].
    pub fn run_after<A: serde::Serialize>(
        &self,
        delay: Duration,
        task: &str,
        args: A,
    ) -> Result<Job> {
        let task = task.to_owned();
        let args = serde_json::to_value(args)
            .map_err(|e| Error::invalid(format!("args: cannot serialize: {e}")))?;
        self.call(|s| async move { s.run_after(delay, &task, args).await })
    }

    /// See [`AsyncScheduler::run_history`].
    pub fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        let id = id.to_owned();
        self.call(|s| async move { s.run_history(&id, limit).await })
    }

    /// See [`AsyncScheduler::pause`].
    pub fn pause(&self) -> Result<()> {
        self.scheduler.pause()
    }

    /// See [`AsyncScheduler::resume`].
    pub fn resume(&self) -> Result<()> {
        self.scheduler.resume()
    }

    /// Shuts the scheduler down, waiting up to `timeout` for running jobs.
    pub fn shutdown(&self, timeout: Duration) -> Result<()> {
        self.call(move |s| async move { s.shutdown_with_timeout(timeout).await })
    }
}

fn own_runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("chime-scheduler")
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot create the scheduler's runtime").with_source(e)
        })
}

/// A scheduler that owns its runtime and runs on the calling thread until it
/// is shut down (through a [`SchedulerHandle`], or by a job).
///
/// ```
/// # use chime_core::{AsyncScheduler, BlockingScheduler};
/// # fn demo(builder: chime_core::SchedulerBuilder) -> chime_core::Result<()> {
/// let scheduler = BlockingScheduler::new(builder)?;
/// let handle = scheduler.handle();
/// std::thread::spawn(move || {
///     // ... later, from anywhere:
///     let _ = handle.shutdown(std::time::Duration::from_secs(10));
/// });
/// scheduler.run()?; // returns once shut down
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BlockingScheduler {
    runtime: Option<Runtime>,
    handle: SchedulerHandle,
}

impl BlockingScheduler {
    /// Builds the scheduler on a runtime of its own.
    pub fn new(builder: SchedulerBuilder) -> Result<Self> {
        let runtime = own_runtime()?;
        let scheduler = builder.build()?;
        let handle = SchedulerHandle {
            scheduler,
            runtime: runtime.handle().clone(),
        };
        Ok(BlockingScheduler {
            runtime: Some(runtime),
            handle,
        })
    }

    /// A handle for adding jobs and stopping the scheduler; works before and
    /// during [`run`](Self::run).
    pub fn handle(&self) -> SchedulerHandle {
        self.handle.clone()
    }

    /// Starts the scheduler and blocks until it has shut down.
    pub fn run(mut self) -> Result<()> {
        let runtime = self
            .runtime
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "runtime already taken"))?;
        let scheduler = self.handle.scheduler.clone();
        let result = runtime.block_on(async move {
            scheduler.start().await?;
            scheduler.wait_for_shutdown().await;
            Ok(())
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        result
    }
}

impl Drop for BlockingScheduler {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A scheduler running on a thread of its own, driven through a synchronous
/// handle. Dropping it shuts it down (waiting up to the configured
/// `shutdown_timeout`).
///
/// ```no_run
/// # use chime_core::{BackgroundScheduler, job::NewJob, trigger::IntervalTrigger};
/// # fn demo(builder: chime_core::SchedulerBuilder) -> chime_core::Result<()> {
/// let scheduler = BackgroundScheduler::start(builder)?;
/// scheduler.handle().add_job(NewJob::new("tick", IntervalTrigger::seconds(5)?))?;
/// // ... the program goes on; jobs run in the background ...
/// scheduler.shutdown(std::time::Duration::from_secs(10))?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BackgroundScheduler {
    handle: SchedulerHandle,
    thread: Option<JoinHandle<Result<()>>>,
}

impl BackgroundScheduler {
    /// Builds the scheduler and starts it on a new thread.
    pub fn start(builder: SchedulerBuilder) -> Result<Self> {
        let blocking = BlockingScheduler::new(builder)?;
        let handle = blocking.handle();
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("chime-background".into())
            .spawn(move || {
                let _ = started_tx.send(());
                blocking.run()
            })
            .map_err(|e| {
                Error::new(ErrorKind::Internal, "cannot start the scheduler thread").with_source(e)
            })?;
        let _ = started_rx.recv();
        let mut state = handle.scheduler.inner.state.subscribe();
        let waited = handle.call(move |_| async move {
            let _ = state.wait_for(|s| *s != SchedulerState::Stopped).await;
            Ok(())
        });
        waited?;
        Ok(BackgroundScheduler {
            handle,
            thread: Some(thread),
        })
    }

    /// The synchronous handle.
    pub fn handle(&self) -> &SchedulerHandle {
        &self.handle
    }

    /// Shuts down, waiting up to `timeout` for running jobs, and joins the thread.
    pub fn shutdown(mut self, timeout: Duration) -> Result<()> {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let result = self.handle.shutdown(timeout);
        let joined = thread
            .join()
            .map_err(|_| Error::new(ErrorKind::Internal, "the scheduler thread panicked"))?;
        result.and(joined)
    }
}

impl Drop for BackgroundScheduler {
    fn drop(&mut self) {
        let timeout = self.handle.scheduler.config().shutdown_timeout;
        if let Err(error) = self.stop(timeout) {
            tracing::warn!(%error, "background scheduler did not shut down cleanly");
        }
    }
}
