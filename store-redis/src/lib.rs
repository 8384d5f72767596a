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
//!   for an owner with a lease, release (a compare-and-set on the record;
//!   a whole batch of releases in one call).
//! - A dispatch journal ([`HandOff`]; capability `journal`): a release
//!   records its hand-off in the same script call, only when it ends the
//!   lease. Under the prefix: `:handoffs` (hash, `job_id \x1f fire-time
//!   micros` → entry JSON), `:handoff_holders` (hash, same field → deadline
//!   micros in 18 digits ++ owner), `:handoff_deadlines` (sorted set of the
//!   fields scored by deadline micros) and `:handoffs_of:<owner>` (set of
//!   the fields an owner holds, so a renewal touches only its own).
//!   [`remove_all_jobs`] leaves the journal alone: its entries are fires
//!   already handed to runs, still to be finished or reported.
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
//! [`HandOff`]: chime_core::store::HandOff
//! [`remove_all_jobs`]: chime_core::JobStore::remove_all_jobs

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod encoding;
mod journal;
mod keys;
mod notify;
mod scripts;
mod store;

pub use config::RedisConfig;
pub use store::RedisStore;
