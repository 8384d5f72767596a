//! Executors run a job's task and report how the run ended.

mod panic_message;
mod tokio_executor;

pub use panic_message::panic_message;
pub use tokio_executor::TokioExecutor;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::RunOutcome;
use crate::task::{TaskContext, TaskFn};

/// How one run ended, with the error text or output tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Success, error, panic, timeout, crash or cancelled.
    pub kind: RunOutcome,
    /// Error text, panic message or output tail.
    pub message: Option<String>,
}

impl Outcome {
    /// A successful run.
    pub fn success() -> Self {
        Outcome {
            kind: RunOutcome::Success,
            message: None,
        }
    }

    /// A failed run of `kind` with a message.
    pub fn failure(kind: RunOutcome, message: impl Into<String>) -> Self {
        Outcome {
            kind,
            message: Some(message.into()),
        }
    }
}

/// Runs tasks. An executor bounds its own concurrency: `execute` waits for a
/// free slot, runs the task to the end and reports the outcome. A task that
/// fails in any way (error, panic, timeout, crash) is an [`Outcome`], never a
/// failure of the executor or the scheduler.
#[async_trait]
pub trait Executor: Send + Sync + fmt::Debug + 'static {
    /// Runs `task` with `context` once a slot is free and returns how it ended.
    async fn execute(&self, task: TaskFn, context: TaskContext) -> Outcome;

    /// Stops taking work and waits up to `timeout` for running tasks.
    async fn shutdown(&self, timeout: Duration) {
        let _ = timeout;
    }
}
