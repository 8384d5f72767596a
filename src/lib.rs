//! # chime
//!
//! A job scheduler for Rust: APScheduler's four components — triggers, job
//! stores, executors and schedulers — async-first on tokio, with persistent
//! stores that several processes can share without running a job twice.
//!
//! This crate is a facade: everything of `chime-core` is re-exported at the
//! top level, and backends are switched on by cargo features and re-exported
//! under [`store`] and [`executor`]:
//!
//! | feature | default | gives |
//! |---|---|---|
//! | `memory` | yes | [`store::MemoryStore`] |
//! | `sql` | yes | [`store::SqliteStore`] |
//! | `threads` | yes | [`executor::ThreadPoolExecutor`]: a bounded pool of OS threads for blocking jobs |
//! | `redis` | no | `store::RedisStore` (needs a Redis server) |
//! | `process` | no | `executor::ProcessExecutor` (Unix): jobs in child processes, the `command` task |
//! | `mongo` | no | `store::MongoStore` (needs a MongoDB deployment) |
//! | `full` | no | all of the above |
//!
//! ```
//! use chime::{AsyncScheduler, NewJob, TaskContext};
//! use chime::store::MemoryStore;
//! use chime::trigger::IntervalTrigger;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> chime::Result<()> {
//! let scheduler = AsyncScheduler::builder()
//!     .store("default", MemoryStore::new())
//!     .task_async("greet", |ctx: TaskContext, name: String| async move {
//!         println!("hello {name} ({} at {})", ctx.job_id, ctx.scheduled_run_time);
//!     })
//!     .build()?;
//! scheduler.start().await?;
//! scheduler
//!     .add_job(NewJob::new("greet", IntervalTrigger::seconds(10)?).id("greeter").args("world"))
//!     .await?;
//! scheduler.shutdown().await?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use chime_core::*;

/// The README's examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Job stores: the contract and every backend compiled in.
pub mod store {
    pub use chime_core::store::*;

    #[cfg(feature = "memory")]
    pub use chime_store_memory::MemoryStore;

    #[cfg(feature = "sql")]
    pub use chime_store_sql::SqliteStore;

    /// The SQLite store and its settings (feature `sql`).
    #[cfg(feature = "sql")]
    pub mod sql {
        pub use chime_store_sql::*;
    }

    #[cfg(feature = "redis")]
    pub use chime_store_redis::RedisStore;

    /// The Redis store and its settings (feature `redis`).
    #[cfg(feature = "redis")]
    pub mod redis {
        pub use chime_store_redis::*;
    }

    #[cfg(feature = "mongo")]
    pub use chime_store_mongo::MongoStore;

    /// The MongoDB store and its settings (feature `mongo`).
    #[cfg(feature = "mongo")]
    pub mod mongo {
        pub use chime_store_mongo::*;
    }

    /// The in-memory store (feature `memory`).
    #[cfg(feature = "memory")]
    pub mod memory {
        pub use chime_store_memory::*;
    }
}

/// Executors: the contract, the built-in tokio executor and every backend
/// compiled in.
pub mod executor {
    pub use chime_core::executor::*;

    #[cfg(feature = "threads")]
    pub use chime_executor_threads::ThreadPoolExecutor;

    /// The thread-pool executor for blocking jobs (feature `threads`).
    #[cfg(feature = "threads")]
    pub mod threads {
        pub use chime_executor_threads::*;
    }

    #[cfg(all(feature = "process", unix))]
    pub use chime_executor_process::{CommandSpec, ProcessExecutor};

    /// The process executor (feature `process`, Unix): the `command` task
    /// for external programs, and worker processes of your own binary
    /// (call [`process::worker_main`] first thing in `main`).
    #[cfg(all(feature = "process", unix))]
    pub mod process {
        pub use chime_executor_process::*;
    }
}
