//! chime-executor-process: jobs in child processes, for isolation and hard
//! timeouts (Unix only).
//!
//! [`ProcessExecutor`] runs two kinds of task:
//!
//! - **Command mode** — the built-in `command` task ([`command_task`],
//!   registered under [`COMMAND_TASK`] = `"command"`) runs an external
//!   program per run, described by the job's [`CommandSpec`] arguments
//!   (`{"argv": [...], "env": {...}, "cwd": "...", "timeout": "30s",
//!   "shell": null}`): no shell unless the job sets `"shell": true`, stdin
//!   closed, stdout and stderr captured up to a limit with their tails in
//!   the outcome message (hence in `Event::JobError` and the run history).
//!   The exit status decides: 0 is success, another status an error, death
//!   by a signal a crash (`killed by signal SIGSEGV`), a program that does
//!   not exist an error naming it.
//! - **Task mode** — tasks registered with [`WorkerTasks`] run in a pool of
//!   long-lived worker processes of your own binary. Call
//!   [`worker_main`] first thing in `main`: it returns at once in a normal
//!   start, and serves runs in a process the pool started (recognised by
//!   the [`WORKER_ENV`] environment variable). The pool sends (task name,
//!   args, context) as one JSON line on the worker's stdin and reads the
//!   outcome from its stdout. A task that returns an error or panics is an
//!   `Error`/`Panic` outcome and the worker carries on; one that aborts,
//!   segfaults or exits takes down only its worker — reported as `Crash`
//!   with the signal (or `Error` with the exit status) — and one that
//!   outlives the timeout is stopped (`Timeout`). Lost workers are replaced
//!   by fresh ones; the scheduler is unaffected.
//!
//!   Workers have no scheduler, so worker tasks get a [`WorkerContext`] (task
//!   name, job id, store, fire times, args) instead of a `TaskContext`, and
//!   are registered through their own API ([`WorkerTasks::register`]);
//!   [`WorkerTasks::install`] puts placeholders under the same names into the
//!   scheduler's task registry, which the executor recognises.
//!
//! Every child (a command, a worker) is started as the leader of a new
//! process group. A timeout sends SIGTERM to the whole group, then SIGKILL
//! after a grace period ([`ProcessExecutor::with_kill_grace`], default 5 s),
//! so grandchildren die too. At shutdown the executor waits for running
//! jobs up to the deadline, then kills what is left (reported as
//! `Cancelled`).
//!
//! ```no_run
//! use std::time::Duration;
//! use chime_core::{AsyncScheduler, NewJob};
//! use chime_core::trigger::IntervalTrigger;
//! use chime_executor_process::{
//!     register_command_task, worker_main, CommandSpec, ProcessExecutor, WorkerContext, WorkerTasks,
//! };
//!
//! /// The tasks that run in worker processes; built the same way on both sides.
//! fn worker_tasks() -> WorkerTasks {
//!     let tasks = WorkerTasks::new();
//!     tasks
//!         .register("thumbnail", |ctx: WorkerContext, path: String| -> Result<(), String> {
//!             // a crash in an image library here only takes down this worker
//!             eprintln!("job {}: thumbnail of {path}", ctx.job_id);
//!             Ok(())
//!         })
//!         .expect("valid task name");
//!     tasks
//! }
//!
//! #[tokio::main]
//! async fn main() -> chime_core::Result<()> {
//!     let tasks = worker_tasks();
//!     worker_main(&tasks); // returns unless this process is a worker
//!
//!     let processes = ProcessExecutor::new(4)
//!         .with_worker_tasks(tasks.clone())
//!         .with_timeout(Duration::from_secs(300));
//! # let store = chime_store_memory::MemoryStore::new();
//!     let scheduler = AsyncScheduler::builder()
//!         .store("default", store)
//!         .executor("process", processes)
//!         .build()?;
//!     tasks.install(scheduler.tasks())?;
//!     register_command_task(scheduler.tasks())?;
//!     scheduler.start().await?;
//!
//!     scheduler
//!         .add_job(NewJob::new("thumbnail", IntervalTrigger::seconds(60)?)
//!             .args("/srv/img/new.png")
//!             .executor("process"))
//!         .await?;
//!     let backup = CommandSpec::new(["pg_dump", "-f", "/backup/app.sql", "app"])
//!         .timeout(Duration::from_secs(1800));
//!     scheduler
//!         .add_job(NewJob::new("command", IntervalTrigger::seconds(86_400)?)
//!             .args(backup)
//!             .executor("process"))
//!         .await?;
//!     tokio::time::sleep(Duration::from_secs(3600)).await;
//!     scheduler.shutdown().await
//! }
//! ```

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg(unix)]

mod command;
mod output;
mod pool;
mod sys;
mod worker;

pub use command::{
    command_task, register_command_task, run_command, CommandOptions, CommandSpec, COMMAND_TASK,
};
pub use pool::ProcessExecutor;
pub use sys::signal_name;
pub use worker::{worker_main, WorkerContext, WorkerTasks, WORKER_ENV};
