//! chime-executor-threads: a bounded pool of OS threads for blocking jobs.
//!
//! [`ThreadPoolExecutor`] runs task functions on a fixed number of OS
//! threads of its own (default: the number of CPUs), so blocking jobs —
//! compression, file crunching, synchronous database drivers — never
//! occupy tokio's workers or its blocking pool.
//!
//! - **Bounded queue with back-pressure**: at most `threads` runs execute and
//!   at most `queue_capacity` more wait in the queue; further calls to
//!   [`Executor::execute`] wait (asynchronously) for a slot.
//! - **Blocking and async tasks**: [`TaskFn::Blocking`] runs directly on a
//!   pool thread (inside the caller's tokio runtime context, so
//!   `Handle::current()` works as on `spawn_blocking`). [`TaskFn::Async`]
//!   is *accepted*: the pool thread drives the future to completion with
//!   `Handle::block_on` on the runtime that called `execute` (or on a small
//!   current-thread runtime of its own when there is none). It occupies the
//!   thread for the whole run, so prefer the core `TokioExecutor` for async
//!   tasks that mostly wait.
//! - **Panics** become [`RunOutcome::Panic`] with the panic message; the
//!   thread survives and the pool keeps its size.
//! - **Per-run timeout** ([`ThreadPoolExecutor::with_timeout`]): a run that
//!   is still going when the timeout passes is reported as
//!   [`RunOutcome::Timeout`] at once, which also frees the job's
//!   `max_instances` slot in the scheduler. **A thread cannot be killed**:
//!   the task keeps running until it returns on its own. Its thread is taken
//!   out of the pool (counted by [`ThreadPoolExecutor::stuck_threads`]) and a
//!   replacement is started when work needs it, so the pool keeps its
//!   capacity; the stuck thread exits when its task returns, and its late
//!   result is logged and dropped. Use the process executor
//!   (chime-executor-process) when a run must really be stopped.
//! - **Graceful shutdown** ([`Executor::shutdown`]): stops taking work, lets
//!   running and queued runs finish up to the deadline, then returns; later
//!   calls to `execute` report [`RunOutcome::Cancelled`].
//!
//! ```
//! use std::time::Duration;
//! use chime_core::AsyncScheduler;
//! use chime_core::job::NewJob;
//! use chime_core::trigger::IntervalTrigger;
//! use chime_core::TaskContext;
//! use chime_executor_threads::ThreadPoolExecutor;
//!
//! # fn store() -> impl chime_core::JobStore { chime_store_memory::MemoryStore::new() }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> chime_core::Result<()> {
//! let pool = ThreadPoolExecutor::new(4)
//!     .with_queue_capacity(16)
//!     .with_timeout(Duration::from_secs(600));
//! let scheduler = AsyncScheduler::builder()
//!     .store("default", store())
//!     .executor("threads", pool)
//!     .task_blocking("compress", |_ctx: TaskContext, path: String| {
//!         // blocking work on a pool thread
//!         let _ = path;
//!     })
//!     .build()?;
//! scheduler
//!     .add_job(
//!         NewJob::new("compress", IntervalTrigger::seconds(3600)?)
//!             .args("/var/log/app.log")
//!             .executor("threads"),
//!     )
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Note for tests on tokio's paused clock: the runtime does not know that a
//! pool thread is busy, so while it waits for one, paused time may
//! auto-advance to the next timer. Test runs with timeouts on this executor
//! in real time.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

use std::collections::VecDeque;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chime_core::executor::{panic_message, Executor, Outcome};
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskFn, TaskResult};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// The run waits in the queue.
const QUEUED: u8 = 0;
/// A pool thread is running it.
const RUNNING: u8 = 1;
/// It finished and its outcome was (or is being) sent.
const DONE: u8 = 2;
/// It outlived its timeout; its thread is out of the pool.
const ABANDONED: u8 = 3;

/// A fixed-size pool of OS threads for blocking tasks, with a bounded queue,
/// back-pressure, panic isolation, an optional per-run timeout and graceful
/// shutdown. See the [crate documentation](crate) for the details.
///
/// Cheap to clone: clones share the pool (keep one to read its counters
/// after handing the executor to a scheduler). Threads are started on
/// demand, up to [`size`](Self::size), and stay until the pool shuts down
/// or the last handle is dropped. Configure with the `with_*` methods before
/// first use: each returns a new, unused pool.
///
/// ```
/// use std::time::Duration;
/// use chime_executor_threads::ThreadPoolExecutor;
/// let pool = ThreadPoolExecutor::new(4).with_queue_capacity(16).with_timeout(Duration::from_secs(30));
/// assert_eq!((pool.size(), pool.queue_capacity()), (4, 16));
/// assert_eq!(pool.timeout(), Some(Duration::from_secs(30)));
/// ```
#[derive(Clone)]
pub struct ThreadPoolExecutor {
    config: Config,
    pool: Arc<Pool>,
}

#[derive(Debug, Clone)]
struct Config {
    threads: usize,
    queue_capacity: usize,
    timeout: Option<Duration>,
    thread_name: String,
}

/// The shared part of a pool; dropping the last handle closes it.
struct Pool {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    permits: u32,
}

/// What the pool threads share with the handles.
struct Shared {
    state: Mutex<State>,
    work: Condvar,
    size: usize,
    thread_name: String,
}

struct State {
    queue: VecDeque<Job>,
    /// Threads in the pool (busy or idle), not counting stuck ones.
    live: usize,
    /// Threads waiting for work.
    idle: usize,
    /// Threads still running a task that outlived its timeout.
    stuck: usize,
    /// No new work; threads exit once the queue is empty.
    closed: bool,
    next_thread: u64,
}

/// One run handed to the pool.
struct Job {
    task: TaskFn,
    context: TaskContext,
    runtime: Option<Handle>,
    run: Arc<RunState>,
    started: oneshot::Sender<()>,
    result: oneshot::Sender<Outcome>,
}

/// What the thread and the waiting `execute` call share about one run.
struct RunState {
    status: AtomicU8,
    /// The queue/thread slot; released when the run ends or is abandoned.
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ThreadPoolExecutor {
    /// A pool of `threads` OS threads (at least 1) with a queue of as many
    /// waiting runs, no timeout.
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        Self::from_config(Config {
            threads,
            queue_capacity: threads,
            timeout: None,
            thread_name: "chime-pool".to_owned(),
        })
    }

    /// The number of threads the machine can run at once (1 if unknown).
    pub fn default_size() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }

    /// The same pool settings with at most `capacity` runs waiting for a
    /// thread (0: `execute` waits until a thread is free).
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity;
        Self::from_config(self.config)
    }

    /// The same pool settings with a timeout per run, counted from the
    /// moment a thread starts it. See the [crate documentation](crate):
    /// the run is reported as timed out, but its thread keeps running it.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        Self::from_config(self.config)
    }

    /// The same pool settings with threads named `{prefix}-{n}`
    /// (default `chime-pool`).
    pub fn with_thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.config.thread_name = prefix.into();
        Self::from_config(self.config)
    }

    fn from_config(config: Config) -> Self {
        let max = Semaphore::MAX_PERMITS.min(u32::MAX as usize);
        let threads = config.threads.clamp(1, max / 2);
        let queue_capacity = config.queue_capacity.min(max / 2);
        let permits = threads + queue_capacity;
        let config = Config {
            threads,
            queue_capacity,
            ..config
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                live: 0,
                idle: 0,
                stuck: 0,
                closed: false,
                next_thread: 1,
            }),
            work: Condvar::new(),
            size: threads,
            thread_name: config.thread_name.clone(),
        });
        let pool = Pool {
            shared,
            slots: Arc::new(Semaphore::new(permits)),
            permits: u32::try_from(permits).unwrap_or(u32::MAX),
        };
        ThreadPoolExecutor {
            config,
            pool: Arc::new(pool),
        }
    }

    /// The number of threads running tasks at most at once.
    pub fn size(&self) -> usize {
        self.config.threads
    }

    /// How many runs may wait for a thread before `execute` waits too.
    pub fn queue_capacity(&self) -> usize {
        self.config.queue_capacity
    }

    /// The per-run timeout, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.config.timeout
    }

    /// Threads currently in the pool, busy or idle (at most [`size`](Self::size);
    /// threads are started on demand).
    pub fn threads(&self) -> usize {
        lock(&self.pool.shared.state).live
    }

    /// Threads taken out of the pool because their task outlived the
    /// timeout and is still running.
    pub fn stuck_threads(&self) -> usize {
        lock(&self.pool.shared.state).stuck
    }

    /// Runs waiting in the queue for a thread.
    pub fn queued(&self) -> usize {
        lock(&self.pool.shared.state).queue.len()
    }
}

impl Default for ThreadPoolExecutor {
    /// A pool with one thread per CPU ([`default_size`](Self::default_size)).
    fn default() -> Self {
        ThreadPoolExecutor::new(Self::default_size())
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.pool.shared.state);
        f.debug_struct("ThreadPoolExecutor")
            .field("size", &self.config.threads)
            .field("queue_capacity", &self.config.queue_capacity)
            .field("timeout", &self.config.timeout)
            .field("threads", &state.live)
            .field("stuck_threads", &state.stuck)
            .field("queued", &state.queue.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.close();
        self.slots.close();
    }
}

impl Shared {
    fn close(&self) {
        lock(&self.state).closed = true;
        self.work.notify_all();
    }

    /// Queues a run and makes sure a thread will pick it up.
    fn submit(self: &Arc<Self>, job: Job) -> Result<(), Outcome> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(shut_down());
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            self.work.notify_one();
        }
        if let Err(error) = self.ensure_threads(&mut state) {
            if state.live == 0 {
                // Nobody would ever run it.
                state.queue.pop_back();
                return Err(Outcome::failure(
                    RunOutcome::Error,
                    format!("the thread pool could not start a thread: {error}"),
                ));
            }
            tracing::warn!(%error, "thread pool could not start another thread; runs wait for a busy one");
        }
        Ok(())
    }

    /// Starts threads while more runs wait than threads are idle, up to the size.
    fn ensure_threads(self: &Arc<Self>, state: &mut State) -> std::io::Result<()> {
        while state.queue.len() > state.idle && state.live < self.size {
            let id = state.next_thread;
            let shared = Arc::clone(self);
            std::thread::Builder::new()
                .name(format!("{}-{id}", self.thread_name))
                .spawn(move || shared.thread_main())?;
            state.next_thread += 1;
            state.live += 1;
        }
        Ok(())
    }

    /// Takes the thread of a timed-out run out of the pool.
    fn abandon(self: &Arc<Self>, run: &RunState) {
        drop(lock(&run.permit).take());
        let mut state = lock(&self.state);
        state.live = state.live.saturating_sub(1);
        state.stuck += 1;
        let stuck = state.stuck;
        if let Err(error) = self.ensure_threads(&mut state) {
            tracing::warn!(%error, "thread pool could not start a replacement thread");
        }
        drop(state);
        tracing::warn!(
            stuck,
            "a run outlived its timeout; its thread cannot be killed and leaves the pool"
        );
    }

    fn thread_main(self: Arc<Self>) {
        let mut own_runtime: Option<tokio::runtime::Runtime> = None;
        loop {
            let job = {
                let mut state = lock(&self.state);
                loop {
                    if let Some(job) = state.queue.pop_front() {
                        break Some(job);
                    }
                    if state.closed {
                        state.live = state.live.saturating_sub(1);
                        break None;
                    }
                    state.idle += 1;
                    state = self.work.wait(state).unwrap_or_else(|p| p.into_inner());
                    state.idle -= 1;
                }
            };
            let Some(job) = job else { return };
            if !run_job(job, &mut own_runtime) {
                let mut state = lock(&self.state);
                state.stuck = state.stuck.saturating_sub(1);
                return;
            }
        }
    }
}

fn shut_down() -> Outcome {
    Outcome::failure(RunOutcome::Cancelled, "the thread pool is shut down")
}

fn from_result(result: TaskResult) -> Outcome {
    match result {
        Ok(()) => Outcome::success(),
        Err(e) => Outcome::failure(RunOutcome::Error, e.0),
    }
}

fn catch(run: impl FnOnce() -> TaskResult) -> Outcome {
    match std::panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => from_result(result),
        Err(payload) => Outcome::failure(RunOutcome::Panic, panic_message(&*payload)),
    }
}

/// Runs one job on the current pool thread. Returns false when the run was
/// abandoned (timed out): the thread must leave the pool.
fn run_job(job: Job, own_runtime: &mut Option<tokio::runtime::Runtime>) -> bool {
    let Job {
        task,
        context,
        runtime,
        run,
        started,
        result,
    } = job;
    // Nobody waits for it any more (the scheduler cancelled the run): skip it.
    if result.is_closed() {
        return true;
    }
    if run
        .status
        .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return true;
    }
    let _ = started.send(());
    let outcome = match task {
        TaskFn::Blocking(f) => {
            let _entered = runtime.as_ref().map(Handle::enter);
            catch(|| f(context))
        }
        TaskFn::Async(f) => match &runtime {
            Some(handle) => catch(|| handle.block_on(f(context))),
            None => {
                if own_runtime.is_none() {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => *own_runtime = Some(rt),
                        Err(e) => {
                            let message =
                                format!("could not start a runtime for the async task: {e}");
                            return finish(
                                &run,
                                result,
                                Outcome::failure(RunOutcome::Error, message),
                            );
                        }
                    }
                }
                match own_runtime.as_ref() {
                    Some(rt) => {
                        let outcome = catch(|| rt.block_on(f(context)));
                        if outcome.kind == RunOutcome::Panic {
                            // Start afresh after a panic unwound through it.
                            *own_runtime = None;
                        }
                        outcome
                    }
                    None => Outcome::failure(RunOutcome::Error, "no runtime for the async task"),
                }
            }
        },
    };
    finish(&run, result, outcome)
}

/// Reports the outcome unless the run was abandoned meanwhile.
fn finish(run: &RunState, result: oneshot::Sender<Outcome>, outcome: Outcome) -> bool {
    match run
        .status
        .compare_exchange(RUNNING, DONE, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => {
            drop(lock(&run.permit).take());
            let _ = result.send(outcome);
            true
        }
        Err(_) => {
            tracing::warn!(outcome = ?outcome.kind, message = ?outcome.message, "a run that had timed out finished; its outcome is dropped and its thread exits");
            false
        }
    }
}

#[async_trait]
impl Executor for ThreadPoolExecutor {
    async fn execute(&self, task: TaskFn, context: TaskContext) -> Outcome {
        let Ok(permit) = Arc::clone(&self.pool.slots).acquire_owned().await else {
            return shut_down();
        };
        let run = Arc::new(RunState {
            status: AtomicU8::new(QUEUED),
            permit: Mutex::new(Some(permit)),
        });
        let (started_tx, started_rx) = oneshot::channel();
        let (result_tx, mut result_rx) = oneshot::channel();
        let job = Job {
            task,
            context,
            runtime: Handle::try_current().ok(),
            run: Arc::clone(&run),
            started: started_tx,
            result: result_tx,
        };
        if let Err(outcome) = self.pool.shared.submit(job) {
            return outcome;
        }
        if started_rx.await.is_err() {
            return Outcome::failure(
                RunOutcome::Cancelled,
                "the thread pool stopped before the run started",
            );
        }
        let received = match self.config.timeout {
            None => result_rx.await,
            Some(limit) => match tokio::time::timeout(limit, &mut result_rx).await {
                Ok(received) => received,
                Err(_) => {
                    if run
                        .status
                        .compare_exchange(RUNNING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        self.pool.shared.abandon(&run);
                        return Outcome::failure(
                            RunOutcome::Timeout,
                            format!(
                                "timed out after {}; a thread cannot be killed, so the task keeps \
                                 running on a thread taken out of the pool until it returns",
                                chime_core::duration::format(limit)
                            ),
                        );
                    }
                    // It finished just as the timeout passed.
                    result_rx.await
                }
            },
        };
        received.unwrap_or_else(|_| {
            Outcome::failure(
                RunOutcome::Error,
                "the pool thread running the task stopped without reporting an outcome",
            )
        })
    }

    async fn shutdown(&self, timeout: Duration) {
        self.pool.shared.close();
        // Holding every slot means every queued and running run has ended
        // (timed-out runs gave their slot back when they were abandoned).
        let all = self.pool.slots.acquire_many(self.pool.permits);
        if tokio::time::timeout(timeout, all).await.is_err() {
            tracing::warn!("thread pool shut down with runs still going; their threads finish them in the background");
        }
        self.pool.slots.close();
    }
}
