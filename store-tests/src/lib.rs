//! # chime-store-tests
//!
//! The conformance kit for [`JobStore`] implementations. Every store in the
//! chime workspace runs it, and so can yours: implement [`StoreHarness`]
//! (how to make a fresh store, and optionally how to plant a raw record)
//! and call [`run_all`] from one test.
//!
//! ```no_run
//! use std::sync::Arc;
//! use chime_core::JobStore;
//! use chime_store_tests::{run_all, StoreHarness};
//!
//! struct MyHarness;
//!
//! #[async_trait::async_trait]
//! impl StoreHarness for MyHarness {
//!     async fn new_store(&self) -> Arc<dyn JobStore> {
//!         # unimplemented!()
//!         // Arc::new(MyStore::connect("…").await.unwrap())
//!     }
//! }
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn my_store_conforms() {
//!     run_all(&MyHarness).await;
//! }
//! ```
//!
//! The checks panic with a message naming the broken promise, like any
//! test assertion. Each check is also public, for running one at a time.
//! See `STORES.md` in the repository for the whole contract.
//!
//! [`JobStore`]: chime_core::JobStore

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod checks;
mod harness;
mod sample;

pub use checks::*;
pub use harness::{RawRecord, StoreHarness};
pub use sample::{at, sample_job, T0};

/// Runs every check against fresh stores from `harness`.
pub async fn run_all(harness: &dyn StoreHarness) {
    add_get_and_round_trip(harness).await;
    add_conflict_and_replace(harness).await;
    add_jobs_is_all_or_nothing(harness).await;
    list_order(harness).await;
    update_and_remove(harness).await;
    modify_job_is_atomic(harness).await;
    earliest_next_run_time(harness).await;
    acquire_due_jobs_order_and_limit(harness).await;
    leases_exclude_until_expiry(harness).await;
    release_reschedules_or_removes(harness).await;
    release_jobs_reports_each_entry(harness).await;
    update_keeps_the_lease(harness).await;
    foreign_tasks_and_trigger_kinds_are_kept(harness).await;
    unreadable_records_are_reported_and_kept(harness).await;
    concurrent_acquirers_claim_each_job_once(harness).await;
    run_history(harness).await;
    hand_offs_are_recorded_with_releases(harness).await;
    finished_hand_offs_are_removed(harness).await;
    renewed_hand_offs_stay_fresh(harness).await;
    concurrent_claimers_claim_each_entry_once(harness).await;
}
