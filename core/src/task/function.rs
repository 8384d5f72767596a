//! Task functions and their results.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use super::TaskContext;

/// Why a task run failed, as text for events and run history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TaskError(pub String);

/// What a task function returns after conversion.
pub type TaskResult = Result<(), TaskError>;

/// What a task may return: `()` or any `Result<T, E: Display>`.
pub trait TaskOutput: Send + 'static {
    /// Converts the return value into success or an error message.
    fn into_task_result(self) -> TaskResult;
}

impl TaskOutput for () {
    fn into_task_result(self) -> TaskResult {
        Ok(())
    }
}

impl<T: Send + 'static, E: fmt::Display + Send + 'static> TaskOutput for Result<T, E> {
    fn into_task_result(self) -> TaskResult {
        self.map(|_| ()).map_err(|e| TaskError(e.to_string()))
    }
}

type AsyncFn = dyn Fn(TaskContext) -> BoxFuture<'static, TaskResult> + Send + Sync;
type BlockingFn = dyn Fn(TaskContext) -> TaskResult + Send + Sync;

/// A registered task function: async or blocking.
#[derive(Clone)]
pub enum TaskFn {
    /// Runs as a future on the tokio runtime.
    Async(Arc<AsyncFn>),
    /// Runs on a thread where blocking is allowed.
    Blocking(Arc<BlockingFn>),
}

fn decode_args<A: DeserializeOwned>(ctx: &TaskContext) -> Result<A, TaskError> {
    serde_json::from_value(ctx.args.clone())
        .map_err(|e| TaskError(format!("invalid arguments for job '{}': {e}", ctx.job_id)))
}

impl TaskFn {
    /// Wraps an async function taking the context and typed arguments
    /// (use `serde_json::Value` for raw JSON, `()` for none).
    pub fn from_async<A, F, Fut, O>(f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: TaskOutput,
    {
        let f = Arc::new(f);
        TaskFn::Async(Arc::new(move |ctx: TaskContext| {
            let f = Arc::clone(&f);
            Box::pin(async move {
                let args: A = decode_args(&ctx)?;
                f(ctx, args).await.into_task_result()
            })
        }))
    }

    /// Wraps a blocking function taking the context and typed arguments.
    pub fn from_blocking<A, F, O>(f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> O + Send + Sync + 'static,
        O: TaskOutput,
    {
        TaskFn::Blocking(Arc::new(move |ctx: TaskContext| {
            let args: A = decode_args(&ctx)?;
            f(ctx, args).into_task_result()
        }))
    }

    /// Whether the function blocks (needs a thread of its own).
    pub fn is_blocking(&self) -> bool {
        matches!(self, TaskFn::Blocking(_))
    }
}

impl fmt::Debug for TaskFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFn::Async(_) => f.write_str("TaskFn::Async"),
            TaskFn::Blocking(_) => f.write_str("TaskFn::Blocking"),
        }
    }
}
