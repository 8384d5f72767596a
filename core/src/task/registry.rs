//! The name → task function table.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};

use arcstr::ArcStr;
use serde::de::DeserializeOwned;

use super::{TaskContext, TaskFn, TaskOutput};
use crate::error::{Error, Result};

/// Task functions by name. Cheap to clone (shared).
///
/// ```
/// use chime_core::task::{TaskContext, TaskRegistry};
/// let tasks = TaskRegistry::new();
/// tasks.register_async("greet", |_ctx: TaskContext, name: String| async move {
///     println!("hello, {name}");
/// }).unwrap();
/// assert!(tasks.get("greet").is_some());
/// ```
#[derive(Clone, Default)]
pub struct TaskRegistry {
    /// Looked up on every run and every add: a fast, randomly seeded hasher.
    tasks: Arc<RwLock<HashMap<ArcStr, TaskFn, foldhash::fast::RandomState>>>,
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        TaskRegistry::default()
    }

    /// Registers (or replaces) a task function under `name`.
    pub fn register(&self, name: impl Into<String>, task: TaskFn) -> Result<()> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(Error::invalid("task: the task name must not be empty"));
        }
        let mut tasks = self.tasks.write().unwrap_or_else(|p| p.into_inner());
        tasks.insert(name.into(), task);
        Ok(())
    }

    /// Registers an async task taking typed arguments.
    pub fn register_async<A, F, Fut, O>(&self, name: impl Into<String>, f: F) -> Result<()>
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: TaskOutput,
    {
        self.register(name, TaskFn::from_async(f))
    }

    /// Registers a blocking task taking typed arguments.
    pub fn register_blocking<A, F, O>(&self, name: impl Into<String>, f: F) -> Result<()>
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(TaskContext, A) -> O + Send + Sync + 'static,
        O: TaskOutput,
    {
        self.register(name, TaskFn::from_blocking(f))
    }

    /// Removes a task; jobs naming it are kept and reported until it returns.
    pub fn unregister(&self, name: &str) -> bool {
        let mut tasks = self.tasks.write().unwrap_or_else(|p| p.into_inner());
        tasks.remove(name).is_some()
    }

    /// The task registered under `name`.
    pub fn get(&self, name: &str) -> Option<TaskFn> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        tasks.get(name).cloned()
    }

    /// The registration's own copy of `name`, if it is registered: jobs
    /// naming the task share it instead of each holding a copy.
    pub(crate) fn shared_name(&self, name: &str) -> Option<ArcStr> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        tasks.get_key_value(name).map(|(name, _)| name.clone())
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let tasks = self.tasks.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = tasks.keys().map(ArcStr::to_string).collect();
        names.sort();
        names
    }
}

impl fmt::Debug for TaskRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRegistry")
            .field("tasks", &self.names())
            .finish()
    }
}
