//! # chime-core
//!
//! The core of [chime](https://example.invalid/chime), a job scheduler for
//! Rust: the [`trigger::Trigger`], [`store::JobStore`] and
//! [`executor::Executor`] contracts, the job model, tasks, events,
//! errors and the schedulers. Backends (stores, executors) live in their own
//! crates; the `chime` facade crate re-exports them behind features.
//!
//! Start with [`AsyncScheduler::builder`].

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod clock;
pub mod duration;
pub mod error;
pub mod event;
pub mod executor;
pub mod job;
pub mod scheduler;
pub mod store;
pub mod task;
pub mod trigger;

pub use error::{Error, ErrorKind, Result};
pub use event::{Event, EventMask};
pub use job::{Job, JobChanges, NewJob};
pub use scheduler::{
    AsyncScheduler, BackgroundScheduler, BlockingScheduler, JobFilter, ScheduledJob,
    SchedulerBuilder, SchedulerConfig, SchedulerHandle, SchedulerState,
};
pub use store::JobStore;
pub use task::TaskContext;

/// The shared, cheaply cloned string type of job ids and names: cloning
/// one is a reference-count increment, and a job's task, name and executor
/// name share one allocation with the scheduler's registrations.
pub use arcstr::ArcStr;
/// The `chrono` version chime's types use.
pub use chrono;
/// The `chrono-tz` version chime's time zones come from.
pub use chrono_tz;
