//! # chime-store-mongo
//!
//! [`MongoStore`]: a job store on MongoDB, safe for many scheduler processes.
//!
//! - One document per job in a configurable database and collection
//!   (defaults: the URL's database, else `chime`; collection `jobs`), with
//!   the job id as `_id`. The versioned record text (`Job::to_record`) is
//!   kept verbatim, so every job round-trips exactly and records this build
//!   cannot read are reported and kept. Beside it: the next run time (Int64
//!   microseconds, null when paused), the priority, the lease (owner,
//!   expiry, next run time at acquisition) and `avail`, the instant the job
//!   can next be acquired (`max(next run time, lease expiry)`).
//! - One compound index `{avail: 1, priority: -1, _id: 1}`, created at
//!   [`connect`](MongoStore::connect) (idempotent; no per-operation index
//!   work), serves due-job acquisition and the earliest next run time.
//! - Every operation that two schedulers may race on is atomic. Acquisition
//!   claims a batch with one `update_many` whose filter only matches an
//!   available document and which marks what it claimed with a token of its
//!   own, so no job is handed to two owners; `release_job` and
//!   update-by-edit (`modify_job`) are compare-and-set on the record text
//!   (and the lease). On replica sets and sharded clusters, batch adds run
//!   in one multi-document transaction. Batch releases (`release_jobs`, what
//!   the scheduler uses) are concurrent compare-and-sets, never a
//!   transaction: a scheduler killed inside one would leave its jobs locked
//!   for every other scheduler until the server's transaction lifetime
//!   limit (60 s).
//! - Run history is bounded per job, in the collection `<collection>.runs`.
//! - The dispatch journal ([`HandOff`]; capability `journal`) lives in
//!   `<collection>.handoffs`, indexed by deadline and by owner. A batch
//!   release records its hand-offs *before* its compare-and-sets and
//!   withdraws those of releases that failed, so a crash in between reports
//!   a fire twice but never loses it (see `store/release.rs`). Replica sets
//!   and sharded clusters have the journal; a standalone server has none
//!   (the capability is off and hand-offs are ignored).
//! - On a replica set or sharded cluster, a change stream on the jobs
//!   collection wakes the schedulers when another process adds, changes or
//!   removes jobs ([`change_feed`]); on a standalone server there is no
//!   feed and schedulers poll.
//! - URLs `mongodb://…` and `mongodb+srv://…` (feature `srv`, on by
//!   default; TLS with feature `tls`, on by default); credentials never
//!   appear in logs, errors or `Debug`.
//!
//! ```no_run
//! # async fn demo() -> chime_core::Result<()> {
//! use chime_store_mongo::{MongoConfig, MongoStore};
//! let store = MongoStore::connect(
//!     MongoConfig::new("mongodb://127.0.0.1:27017/?replicaSet=rs0")
//!         .database("billing")
//!         .collection("jobs"),
//! )
//! .await?;
//! # Ok(()) }
//! ```
//!
//! [`change_feed`]: chime_core::JobStore::change_feed
//! [`HandOff`]: chime_core::store::HandOff

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod document;
mod error;
mod feed;
mod replica_set;
mod store;

pub use config::MongoConfig;
pub use replica_set::initiate_replica_set;
pub use store::MongoStore;
