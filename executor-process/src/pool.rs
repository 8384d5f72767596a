//! The process executor: the `command` task and a pool of worker processes.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chime_core::executor::{Executor, Outcome};
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskFn};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Semaphore;

use crate::command::{
    is_command_task, run_command_with, terminate_group, CommandOptions, CommandSpec,
};
use crate::sys::{describe_exit, kill_group};
use crate::worker::{Hello, Reply, Request, WorkerContext, WorkerTasks, PROTOCOL, WORKER_ENV};

/// Longest line read from a worker.
const MAX_LINE: u64 = 1024 * 1024;

/// Runs jobs in child processes: the built-in `command` task (an external
/// program per run) and tasks registered with [`WorkerTasks`] (in a pool of
/// long-lived worker processes of your own binary). See the
/// [crate documentation](crate).
///
/// At most `max_concurrency` runs go at once (commands and worker runs
/// together; further runs wait for a slot), so the pool never holds more
/// than that many workers. Workers are started on demand and reused; a
/// worker that crashes, exits or outlives its timeout is discarded and a
/// fresh one is started for the next run.
///
/// Cheap to clone (clones share the pool). Configure with the `with_*`
/// methods before first use: each returns a new, unused pool.
///
/// ```
/// use std::time::Duration;
/// use chime_executor_process::ProcessExecutor;
/// let commands = ProcessExecutor::new(4)
///     .with_timeout(Duration::from_secs(600))
///     .with_kill_grace(Duration::from_secs(10));
/// assert_eq!(commands.max_concurrency(), 4);
/// ```
#[derive(Clone)]
pub struct ProcessExecutor {
    config: Arc<Config>,
    pool: Arc<Pool>,
}

#[derive(Debug, Clone)]
struct Config {
    max_concurrency: usize,
    options: CommandOptions,
    tasks: Option<WorkerTasks>,
    program: Option<PathBuf>,
    args: Vec<OsString>,
    startup_timeout: Duration,
}

struct Pool {
    slots: Arc<Semaphore>,
    permits: u32,
    idle: Mutex<Vec<Worker>>,
    /// Process groups of runs going on now.
    busy: Mutex<HashSet<u32>>,
    closed: AtomicBool,
    killing: AtomicBool,
    started: AtomicU64,
    lost: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProcessExecutor {
    /// An executor running at most `max_concurrency` runs at once (at
    /// least 1), for the `command` task only until
    /// [`with_worker_tasks`](Self::with_worker_tasks) is called.
    pub fn new(max_concurrency: usize) -> Self {
        Self::from_config(Config {
            max_concurrency,
            options: CommandOptions::default(),
            tasks: None,
            program: None,
            args: Vec::new(),
            startup_timeout: Duration::from_secs(10),
        })
    }

    /// Also runs the tasks of `tasks`, in worker processes.
    pub fn with_worker_tasks(self, tasks: WorkerTasks) -> Self {
        self.reconfigure(|c| c.tasks = Some(tasks))
    }

    /// The program started as a worker (default: this process's own
    /// executable, `std::env::current_exe()`); it must call
    /// [`worker_main`](crate::worker_main) first thing in `main`.
    pub fn with_worker_program(self, program: impl Into<PathBuf>) -> Self {
        self.reconfigure(|c| c.program = Some(program.into()))
    }

    /// Arguments the worker program is started with (default: none).
    pub fn with_worker_args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args = args.into_iter().map(Into::into).collect();
        self.reconfigure(|c| c.args = args)
    }

    /// A timeout for every worker run, and for commands whose spec sets
    /// none. The process group is sent SIGTERM, then SIGKILL after the
    /// grace period.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.reconfigure(|c| c.options.default_timeout = Some(timeout))
    }

    /// The time between SIGTERM and SIGKILL (default 5 s).
    pub fn with_kill_grace(self, grace: Duration) -> Self {
        self.reconfigure(|c| c.options.kill_grace = grace)
    }

    /// Bytes kept of the end of a command's stdout and of its stderr
    /// (default 16 KiB each).
    pub fn with_output_limit(self, bytes: usize) -> Self {
        self.reconfigure(|c| c.options.output_limit = bytes)
    }

    /// How long a new worker may take to announce itself (default 10 s).
    pub fn with_startup_timeout(self, timeout: Duration) -> Self {
        self.reconfigure(|c| c.startup_timeout = timeout)
    }

    fn reconfigure(self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.config).clone();
        change(&mut config);
        Self::from_config(config)
    }

    fn from_config(mut config: Config) -> Self {
        let max = Semaphore::MAX_PERMITS.min(u32::MAX as usize);
        config.max_concurrency = config.max_concurrency.clamp(1, max);
        let pool = Pool {
            slots: Arc::new(Semaphore::new(config.max_concurrency)),
            permits: u32::try_from(config.max_concurrency).unwrap_or(u32::MAX),
            idle: Mutex::new(Vec::new()),
            busy: Mutex::new(HashSet::new()),
            closed: AtomicBool::new(false),
            killing: AtomicBool::new(false),
            started: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        };
        ProcessExecutor {
            config: Arc::new(config),
            pool: Arc::new(pool),
        }
    }

    /// The bound on concurrent runs (and on worker processes).
    pub fn max_concurrency(&self) -> usize {
        self.config.max_concurrency
    }

    /// The timeout of worker runs and of commands that set none.
    pub fn timeout(&self) -> Option<Duration> {
        self.config.options.default_timeout
    }

    /// Worker processes started so far.
    pub fn workers_started(&self) -> u64 {
        self.pool.started.load(Ordering::SeqCst)
    }

    /// Worker processes lost so far: crashed, exited, or stopped after a
    /// timeout (each is replaced by a fresh one when the next run needs it).
    pub fn workers_lost(&self) -> u64 {
        self.pool.lost.load(Ordering::SeqCst)
    }

    /// Worker processes waiting for a run.
    pub fn idle_workers(&self) -> usize {
        lock(&self.pool.idle).len()
    }

    /// Runs `spec` as a `command` run of this executor would (honouring
    /// its concurrency bound, timeout, grace period and output limit).
    pub async fn run_command(&self, spec: &CommandSpec) -> Outcome {
        let Ok(_permit) = Arc::clone(&self.pool.slots).acquire_owned().await else {
            return shut_down();
        };
        if self.pool.closed.load(Ordering::SeqCst) {
            return shut_down();
        }
        self.command(spec).await
    }

    async fn command(&self, spec: &CommandSpec) -> Outcome {
        let busy = BusyGuard::new(&self.pool);
        let outcome =
            run_command_with(spec, &self.config.options, &|pgid| busy.set(pgid), &|_| {}).await;
        drop(busy);
        self.cancelled_if_killed(outcome)
    }

    /// Runs killed by a shutdown deadline are cancelled, not crashed.
    fn cancelled_if_killed(&self, outcome: Outcome) -> Outcome {
        if outcome.kind != RunOutcome::Success && self.pool.killing.load(Ordering::SeqCst) {
            let detail = outcome.message.unwrap_or_default();
            return Outcome::failure(
                RunOutcome::Cancelled,
                format!("killed at executor shutdown: {detail}"),
            );
        }
        outcome
    }

    async fn take_worker(&self) -> Result<Worker, String> {
        loop {
            let Some(mut worker) = lock(&self.pool.idle).pop() else {
                break;
            };
            if matches!(worker.child.try_wait(), Ok(None)) {
                return Ok(worker);
            }
            self.pool.lost.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(
                pid = worker.pid,
                "an idle worker process died; starting another"
            );
        }
        self.spawn_worker().await
    }

    async fn spawn_worker(&self) -> Result<Worker, String> {
        let program = match &self.config.program {
            Some(program) => program.clone(),
            None => std::env::current_exe()
                .map_err(|e| format!("cannot find this program to start it as a worker: {e}"))?,
        };
        let shown = program.display().to_string();
        let mut child = tokio::process::Command::new(&program)
            .args(&self.config.args)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start worker program '{shown}': {e}"))?;
        let (Some(pid), Some(stdin), Some(stdout)) =
            (child.id(), child.stdin.take(), child.stdout.take())
        else {
            return Err(format!(
                "worker program '{shown}' started without its pipes"
            ));
        };
        let mut worker = Worker {
            child,
            pid,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            next_id: 1,
        };
        self.pool.started.fetch_add(1, Ordering::SeqCst);
        let not_a_worker = |detail: String| {
            format!(
                "worker program '{shown}' did not start as a chime worker ({detail}); \
                 it must call chime_executor_process::worker_main(&tasks) first thing in main"
            )
        };
        match tokio::time::timeout(self.config.startup_timeout, worker.read_line()).await {
            Err(_) => Err(not_a_worker(format!(
                "no greeting within {}",
                chime_core::duration::format(self.config.startup_timeout)
            ))),
            Ok(Err(e)) => Err(not_a_worker(e.to_string())),
            Ok(Ok(None)) => Err(not_a_worker("it closed its output".to_owned())),
            Ok(Ok(Some(line))) => match serde_json::from_str::<Hello>(&line) {
                Ok(hello) if hello.chime_worker == PROTOCOL => {
                    tracing::debug!(pid, "worker process started");
                    Ok(worker)
                }
                Ok(hello) => Err(not_a_worker(format!(
                    "protocol version {} instead of {PROTOCOL}",
                    hello.chime_worker
                ))),
                Err(_) => Err(not_a_worker(format!("it printed {:?}", shorten(&line)))),
            },
        }
    }

    async fn in_worker(&self, name: String, context: TaskContext) -> Outcome {
        let request = WorkerContext::new(&name, &context);
        let mut failures = 0;
        let (mut worker, id) = loop {
            let mut worker = match self.take_worker().await {
                Ok(worker) => worker,
                Err(message) => return Outcome::failure(RunOutcome::Error, message),
            };
            let id = worker.next_id;
            worker.next_id += 1;
            let line = match serde_json::to_string(&Request {
                id,
                context: request.clone(),
            }) {
                Ok(line) => line,
                Err(e) => {
                    self.give_back(worker);
                    return Outcome::failure(
                        RunOutcome::Error,
                        format!("could not encode the run for a worker: {e}"),
                    );
                }
            };
            match worker.send(line).await {
                Ok(()) => break (worker, id),
                // It died before taking the run: nothing ran, try a fresh one.
                Err(e) => {
                    self.pool.lost.fetch_add(1, Ordering::SeqCst);
                    failures += 1;
                    if failures >= 2 {
                        return Outcome::failure(
                            RunOutcome::Error,
                            format!("could not hand task '{name}' to a worker process: {e}"),
                        );
                    }
                }
            }
        };
        let pid = worker.pid;
        let busy = BusyGuard::new(&self.pool);
        busy.set(pid);
        let limit = self.config.options.default_timeout;
        let reply = match limit {
            Some(limit) => tokio::time::timeout(limit, worker.read_line()).await.ok(),
            None => Some(worker.read_line().await),
        };
        let outcome = match reply {
            Some(Ok(Some(line))) => match serde_json::from_str::<Reply>(&line) {
                Ok(reply) if reply.id == id => {
                    drop(busy);
                    self.give_back(worker);
                    return Outcome {
                        kind: reply.outcome,
                        message: reply.message,
                    };
                }
                _ => {
                    self.discard(worker);
                    Outcome::failure(
                        RunOutcome::Error,
                        format!(
                            "worker process {pid} running task '{name}' sent an unexpected reply \
                             ({:?}); it is replaced",
                            shorten(&line)
                        ),
                    )
                }
            },
            Some(Ok(None)) | Some(Err(_)) => {
                // Its end of the pipe closed: the worker died.
                let status =
                    match tokio::time::timeout(self.config.options.kill_grace, worker.child.wait())
                        .await
                    {
                        Ok(Ok(status)) => Some(status),
                        _ => None,
                    };
                self.discard(worker);
                let what = match status.and_then(describe_exit) {
                    Some((kind, text)) => (kind, text),
                    None => (RunOutcome::Error, "stopped answering".to_owned()),
                };
                Outcome::failure(
                    what.0,
                    format!(
                        "worker process {pid} running task '{name}' {}; it is replaced",
                        what.1
                    ),
                )
            }
            None => {
                let sent =
                    terminate_group(&mut worker.child, pid, self.config.options.kill_grace).await;
                self.discard(worker);
                Outcome::failure(
                    RunOutcome::Timeout,
                    format!(
                        "task '{name}' timed out after {}; its worker process {pid} was sent {sent} \
                         (with its process group) and is replaced",
                        chime_core::duration::format(limit.unwrap_or_default())
                    ),
                )
            }
        };
        drop(busy);
        self.cancelled_if_killed(outcome)
    }

    fn give_back(&self, worker: Worker) {
        if !self.pool.closed.load(Ordering::SeqCst) {
            lock(&self.pool.idle).push(worker);
        }
    }

    fn discard(&self, worker: Worker) {
        // Whatever it left behind in its group goes with it.
        kill_group(worker.pid, libc::SIGKILL);
        self.pool.lost.fetch_add(1, Ordering::SeqCst);
        drop(worker);
    }
}

impl Default for ProcessExecutor {
    /// One run per CPU at most.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ProcessExecutor::new(cpus)
    }
}

impl fmt::Debug for ProcessExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessExecutor")
            .field("max_concurrency", &self.config.max_concurrency)
            .field("timeout", &self.config.options.default_timeout)
            .field("worker_tasks", &self.config.tasks)
            .field("workers_started", &self.workers_started())
            .field("workers_lost", &self.workers_lost())
            .field("idle_workers", &self.idle_workers())
            .finish()
    }
}

fn shut_down() -> Outcome {
    Outcome::failure(RunOutcome::Cancelled, "the process executor is shut down")
}

fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[async_trait]
impl Executor for ProcessExecutor {
    async fn execute(&self, task: TaskFn, context: TaskContext) -> Outcome {
        let worker_task = if is_command_task(&task) {
            None
        } else {
            match self.config.tasks.as_ref().and_then(|t| t.name_of(&task)) {
                Some(name) => Some(name),
                None => {
                    return Outcome::failure(
                        RunOutcome::Error,
                        format!(
                            "job '{}': the process executor runs only the `command` task and \
                             tasks registered with its WorkerTasks; run this task on another executor",
                            context.job_id
                        ),
                    )
                }
            }
        };
        let Ok(_permit) = Arc::clone(&self.pool.slots).acquire_owned().await else {
            return shut_down();
        };
        if self.pool.closed.load(Ordering::SeqCst) {
            return shut_down();
        }
        match worker_task {
            Some(name) => self.in_worker(name, context).await,
            None => match serde_json::from_value::<CommandSpec>(context.args.clone()) {
                Ok(spec) => self.command(&spec).await,
                Err(e) => Outcome::failure(
                    RunOutcome::Error,
                    format!("invalid arguments for job '{}': {e}", context.job_id),
                ),
            },
        }
    }

    async fn shutdown(&self, timeout: Duration) {
        self.pool.closed.store(true, Ordering::SeqCst);
        let all = self.pool.slots.acquire_many(self.pool.permits);
        tokio::pin!(all);
        if tokio::time::timeout(timeout, &mut all).await.is_err() {
            // The deadline passed: stop what still runs.
            self.pool.killing.store(true, Ordering::SeqCst);
            let groups: Vec<u32> = lock(&self.pool.busy).iter().copied().collect();
            tracing::warn!(
                runs = groups.len(),
                "process executor shutdown deadline passed; killing running jobs"
            );
            for pgid in groups {
                kill_group(pgid, libc::SIGKILL);
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), &mut all).await;
        }
        self.pool.slots.close();
        let idle: Vec<Worker> = std::mem::take(&mut *lock(&self.pool.idle));
        for mut worker in idle {
            // Closing its stdin ends a worker; give it a moment, then kill.
            worker.stdin = None;
            let _ = tokio::time::timeout(Duration::from_secs(1), worker.child.wait()).await;
        }
    }
}

/// Keeps a running process group listed for shutdown while a run goes on.
struct BusyGuard<'a> {
    pool: &'a Pool,
    pgid: Mutex<Option<u32>>,
}

impl<'a> BusyGuard<'a> {
    fn new(pool: &'a Pool) -> Self {
        BusyGuard {
            pool,
            pgid: Mutex::new(None),
        }
    }

    fn set(&self, pgid: u32) {
        *lock(&self.pgid) = Some(pgid);
        lock(&self.pool.busy).insert(pgid);
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        if let Some(pgid) = lock(&self.pgid).take() {
            lock(&self.pool.busy).remove(&pgid);
        }
    }
}

/// One worker process and its pipes.
struct Worker {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Worker {
    async fn send(&mut self, mut line: String) -> std::io::Result<()> {
        line.push('\n');
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(std::io::Error::other("the worker's input is closed"));
        };
        stdin.write_all(line.as_bytes()).await?;
        stdin.flush().await
    }

    /// The next line, or `None` at end of output.
    async fn read_line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        let read = (&mut self.stdout)
            .take(MAX_LINE)
            .read_line(&mut line)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        if !line.ends_with('\n') {
            return Err(std::io::Error::other(
                "a line from the worker was cut off or too long",
            ));
        }
        Ok(Some(line))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            kill_group(self.pid, libc::SIGKILL);
        }
    }
}
