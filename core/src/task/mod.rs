//! Tasks: the functions jobs run, registered with the scheduler by name.
//!
//! A persistent job cannot hold a closure, so it names its task; the
//! scheduler looks the name up in its [`TaskRegistry`] when the job fires.
//! Tasks are async functions (run on the tokio runtime) or blocking functions
//! (run on a thread where blocking is allowed), taking a [`TaskContext`] and
//! typed arguments decoded from the job's JSON `args`.

mod context;
mod function;
mod registry;

pub use context::TaskContext;
pub use function::{TaskError, TaskFn, TaskOutput, TaskResult};
pub use registry::TaskRegistry;
