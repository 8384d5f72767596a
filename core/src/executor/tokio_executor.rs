//! The default executor: async tasks on the tokio runtime, blocking tasks on
//! tokio's blocking thread pool.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::Semaphore;

use super::{panic_message, Executor, Outcome};
use crate::store::RunOutcome;
use crate::task::{TaskContext, TaskFn};

/// Runs async tasks as tokio tasks and blocking tasks with
/// `spawn_blocking`, at most `max_concurrency` at a time (further runs wait
/// for a slot). A panicking task becomes a [`RunOutcome::Panic`] outcome.
///
/// ```
/// use chime_core::executor::TokioExecutor;
/// let executor = TokioExecutor::new(50);
/// assert_eq!(executor.max_concurrency(), 50);
/// ```
#[derive(Debug, Clone)]
pub struct TokioExecutor {
    slots: Arc<Semaphore>,
    max_concurrency: usize,
}

impl TokioExecutor {
    /// The default bound on concurrent runs.
    pub const DEFAULT_CONCURRENCY: usize = 100;

    /// An executor running at most `max_concurrency` tasks at once (at least 1).
    pub fn new(max_concurrency: usize) -> Self {
        let max_concurrency = max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        TokioExecutor {
            slots: Arc::new(Semaphore::new(max_concurrency)),
            max_concurrency,
        }
    }

    /// The concurrency bound.
    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency
    }
}

impl Default for TokioExecutor {
    fn default() -> Self {
        TokioExecutor::new(Self::DEFAULT_CONCURRENCY)
    }
}

fn from_result(result: crate::task::TaskResult) -> Outcome {
    match result {
        Ok(()) => Outcome::success(),
        Err(e) => Outcome::failure(RunOutcome::Error, e.0),
    }
}

#[async_trait]
impl Executor for TokioExecutor {
    async fn execute(&self, task: TaskFn, context: TaskContext) -> Outcome {
        let Ok(_permit) = self.slots.acquire().await else {
            return Outcome::failure(RunOutcome::Cancelled, "executor is shut down");
        };
        match task {
            TaskFn::Async(f) => match AssertUnwindSafe(f(context)).catch_unwind().await {
                Ok(result) => from_result(result),
                Err(payload) => Outcome::failure(RunOutcome::Panic, panic_message(&*payload)),
            },
            TaskFn::Blocking(f) => match tokio::task::spawn_blocking(move || f(context)).await {
                Ok(result) => from_result(result),
                Err(join_error) => match join_error.try_into_panic() {
                    Ok(payload) => Outcome::failure(RunOutcome::Panic, panic_message(&*payload)),
                    Err(other) => Outcome::failure(RunOutcome::Cancelled, other.to_string()),
                },
            },
        }
    }

    async fn shutdown(&self, timeout: Duration) {
        let all = u32::try_from(self.max_concurrency).unwrap_or(u32::MAX);
        // Waiting for every slot means every running task has finished.
        let _ = tokio::time::timeout(timeout, self.slots.acquire_many(all)).await;
        self.slots.close();
    }
}
