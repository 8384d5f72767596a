//! Task mode, worker side: the tasks a worker process can run, and the
//! `worker_main` hook.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use chime_core::chrono::{DateTime, Utc};
use chime_core::executor::panic_message;
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskError, TaskFn, TaskOutput, TaskRegistry, TaskResult};
use chime_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::command::same_fn;

/// The environment variable that marks a process as a worker; the pool sets
/// it on the processes it starts.
pub const WORKER_ENV: &str = "CHIME_PROCESS_WORKER";

/// The version of the line protocol between pool and worker.
pub(crate) const PROTOCOL: u32 = 1;

/// Longest error message a worker sends back.
const MAX_MESSAGE: usize = 64 * 1024;

/// What a task running in a worker process is told. Narrower than
/// [`TaskContext`]: a worker has no scheduler, so there is no scheduler
/// handle — only the job, its fire times and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkerContext {
    /// The task name the job names.
    pub task: String,
    /// The job's id.
    pub job_id: String,
    /// The alias of the store holding the job.
    pub store: String,
    /// The fire time this run is for (the latest one, when runs were coalesced).
    pub scheduled_run_time: DateTime<Utc>,
    /// Every fire time this run stands for, oldest first.
    pub scheduled_run_times: Vec<DateTime<Utc>>,
    /// The job's arguments.
    pub args: serde_json::Value,
}

impl WorkerContext {
    /// A context for one run (what the pool sends to a worker).
    pub fn new(task: impl Into<String>, context: &TaskContext) -> Self {
        WorkerContext {
            task: task.into(),
            job_id: context.job_id.to_string(),
            store: context.store.to_string(),
            scheduled_run_time: context.scheduled_run_time,
            scheduled_run_times: context.scheduled_run_times.clone(),
            args: context.args.clone(),
        }
    }
}

type WorkerFn = dyn Fn(WorkerContext) -> TaskResult + Send + Sync;

#[derive(Clone)]
struct Entry {
    run: Arc<WorkerFn>,
    /// What the scheduler's registry holds under the same name.
    stub: TaskFn,
}

/// The tasks that run in worker processes, by name.
///
/// Build the same `WorkerTasks` in the scheduler process and in the
/// workers — typically with one function called in both — since workers
/// are the same binary: the scheduler side uses it to know which names go to
/// workers ([`install`](Self::install) them into the scheduler's task
/// registry), the worker side to run them ([`worker_main`]).
///
/// ```
/// use chime_executor_process::{WorkerContext, WorkerTasks};
/// let tasks = WorkerTasks::new();
/// tasks.register("resize", |ctx: WorkerContext, path: String| -> Result<(), String> {
///     println!("{}: resizing {path}", ctx.job_id); // goes to stderr in a worker
///     Ok(())
/// }).unwrap();
/// assert_eq!(tasks.names(), ["resize"]);
/// ```
#[derive(Clone, Default)]
pub struct WorkerTasks {
    tasks: Arc<RwLock<HashMap<String, Entry>>>,
}

impl WorkerTasks {
    /// No tasks yet.
    pub fn new() -> Self {
        WorkerTasks::default()
    }

    /// Registers (or replaces) a blocking task taking typed arguments.
    pub fn register<A, F, O>(&self, name: impl Into<String>, f: F) -> Result<()>
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(WorkerContext, A) -> O + Send + Sync + 'static,
        O: TaskOutput,
    {
        self.insert(
            name.into(),
            Arc::new(move |ctx: WorkerContext| {
                let args = decode_args(&ctx)?;
                f(ctx, args).into_task_result()
            }),
        )
    }

    /// Registers (or replaces) an async task; in the worker it runs on a
    /// current-thread tokio runtime made for the run.
    pub fn register_async<A, F, Fut, O>(&self, name: impl Into<String>, f: F) -> Result<()>
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(WorkerContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + 'static,
        O: TaskOutput,
    {
        self.insert(
            name.into(),
            Arc::new(move |ctx: WorkerContext| {
                let args = decode_args(&ctx)?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| TaskError(format!("could not start a tokio runtime: {e}")))?;
                runtime.block_on(f(ctx, args)).into_task_result()
            }),
        )
    }

    fn insert(&self, name: String, run: Arc<WorkerFn>) -> Result<()> {
        if name.trim().is_empty() {
            return Err(Error::invalid("task: the task name must not be empty"));
        }
        let message = format!(
            "task '{name}' runs in worker processes: its jobs must name a ProcessExecutor \
             that has these worker tasks (e.g. .executor(\"process\"))"
        );
        let stub = TaskFn::Blocking(Arc::new(move |_ctx: TaskContext| {
            Err(TaskError(message.clone()))
        }));
        let mut tasks = self.tasks.write().unwrap_or_else(|p| p.into_inner());
        tasks.insert(name, Entry { run, stub });
        Ok(())
    }

    /// Registers every worker task in the scheduler's `registry` under its
    /// name, so jobs naming them are accepted; the [`ProcessExecutor`]
    /// recognises them and sends their runs to a worker.
    ///
    /// [`ProcessExecutor`]: crate::ProcessExecutor
    pub fn install(&self, registry: &TaskRegistry) -> Result<()> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        for (name, entry) in tasks.iter() {
            registry.register(name.clone(), entry.stub.clone())?;
        }
        Ok(())
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = tasks.keys().cloned().collect();
        names.sort();
        names
    }

    /// The name of the worker task whose stub `task` is.
    pub(crate) fn name_of(&self, task: &TaskFn) -> Option<String> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        tasks
            .iter()
            .find(|(_, entry)| same_fn(&entry.stub, task))
            .map(|(name, _)| name.clone())
    }

    fn get(&self, name: &str) -> Option<Arc<WorkerFn>> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        tasks.get(name).map(|entry| Arc::clone(&entry.run))
    }
}

impl fmt::Debug for WorkerTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerTasks")
            .field("tasks", &self.names())
            .finish()
    }
}

fn decode_args<A: DeserializeOwned>(ctx: &WorkerContext) -> std::result::Result<A, TaskError> {
    serde_json::from_value(ctx.args.clone())
        .map_err(|e| TaskError(format!("invalid arguments for job '{}': {e}", ctx.job_id)))
}

/// The first line a worker writes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub chime_worker: u32,
    pub pid: u32,
}

/// One run, pool to worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub id: u64,
    pub context: WorkerContext,
}

/// How it went, worker to pool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub id: u64,
    pub outcome: RunOutcome,
    pub message: Option<String>,
}

/// The hook that turns your binary into a worker process: call it first
/// thing in `main`, with the same [`WorkerTasks`] the scheduler side uses.
///
/// In a normal start it returns at once and does nothing. In a process the
/// [`ProcessExecutor`](crate::ProcessExecutor) started (the environment
/// variable [`WORKER_ENV`] is set) it never returns: it serves runs —
/// one at a time, as newline-delimited JSON on its stdin and stdout — until
/// the pool closes its stdin, then exits the process. Inside a worker,
/// anything the task prints to stdout goes to stderr (which the worker
/// shares with the scheduler process), and stdin reads as empty.
///
/// ```no_run
/// use chime_executor_process::{worker_main, WorkerContext, WorkerTasks};
///
/// fn tasks() -> WorkerTasks {
///     let tasks = WorkerTasks::new();
///     tasks.register("render", |_ctx: WorkerContext, page: u32| {
///         // isolated: a crash here takes down only this worker
///         let _ = page;
///     }).unwrap();
///     tasks
/// }
///
/// fn main() {
///     worker_main(&tasks()); // returns unless this process is a worker
///     // … build the scheduler with a ProcessExecutor, as usual …
/// }
/// ```
pub fn worker_main(tasks: &WorkerTasks) {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    // Programs the tasks start are not workers.
    std::env::remove_var(WORKER_ENV);
    let code = match serve(tasks) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("chime worker {}: {e}", std::process::id());
            1
        }
    };
    std::process::exit(code);
}

fn serve(tasks: &WorkerTasks) -> std::io::Result<()> {
    let (requests, replies) = crate::sys::take_protocol_pipes()?;
    let mut replies = std::io::BufWriter::new(replies);
    let hello = Hello {
        chime_worker: PROTOCOL,
        pid: std::process::id(),
    };
    send(&mut replies, &hello)?;
    for line in BufReader::new(requests).lines() {
        let line = line?;
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(request) => run(tasks, request),
            Err(e) => Reply {
                id: 0,
                outcome: RunOutcome::Error,
                message: Some(format!("the worker could not read its request: {e}")),
            },
        };
        send(&mut replies, &reply)?;
    }
    Ok(())
}

fn send<T: Serialize>(out: &mut impl Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn run(tasks: &WorkerTasks, request: Request) -> Reply {
    let id = request.id;
    let name = request.context.task.clone();
    let Some(task) = tasks.get(&name) else {
        return Reply {
            id,
            outcome: RunOutcome::Error,
            message: Some(format!(
                "task '{name}' is not registered in the worker process \
                 (is the worker the same build as the scheduler?)"
            )),
        };
    };
    let context = request.context;
    let (outcome, message) = match std::panic::catch_unwind(AssertUnwindSafe(|| task(context))) {
        Ok(Ok(())) => (RunOutcome::Success, None),
        Ok(Err(e)) => (RunOutcome::Error, Some(e.0)),
        Err(payload) => (RunOutcome::Panic, Some(panic_message(&*payload))),
    };
    Reply {
        id,
        outcome,
        message: message.map(truncate),
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" …(truncated)");
    }
    text
}
