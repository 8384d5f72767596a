//! # chime-store-redis
//!
//! [`RedisStore`]: a job store on Redis, safe for many scheduler processes.
//!
//! - Layout under a configurable key prefix (default `chime`), so several
//!   independent scheduler groups can share one Redis: a hash of job
//!   records, a hash of index data (priority, next run time), a hash of
//!   leases, a lexicographically sorted set of "due" entries
//!   (`available-at:priority:id`, so due jobs come out earliest first,
//!   higher priority first) and a bounded list of runs per job.
//! - Every multi-key operation is one Lua script, so it is atomic on the
//!   server: add (batch, all or nothing), update, remove, acquire due jobs
//!   for an owner with a lease, release (a compare-and-set on the record).
//! - A connection manager reconnects by itself; the scheduler retries a
//!   store that fails with backoff.
//! - Job changes are published on `<prefix>:changes`; every store subscribes
//!   and wakes its schedulers at once ([`change_feed`]).
//! - URLs `redis://[user:password@]host:port/db` (and `rediss://` with the
//!   `tls` feature); credentials never appear in logs, errors or `Debug`.
//!
//! ```no_run
//! # async fn demo() -> chime_core::Result<()> {
//! use chime_store_redis::{RedisConfig, RedisStore};
//! let store = RedisStore::connect(RedisConfig::new("redis://127.0.0.1:6379/0").prefix("billing")).await?;
//! # Ok(()) }
//! ```
//!
//! [`change_feed`]: chime_core::JobStore::change_feed

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod encoding;
mod keys;
mod notify;
mod scripts;
mod store;

pub use config::RedisConfig;
pub use store::RedisStore;
