//! What a store author provides to the kit.

use std::sync::Arc;

use async_trait::async_trait;
use chime_core::JobStore;
use chrono::{DateTime, Utc};

/// A record planted below the store's encoding, to check how the store
/// treats data it cannot read.
#[derive(Debug, Clone)]
pub struct RawRecord<'a> {
    /// The job id to store it under.
    pub id: &'a str,
    /// The next run time to index it by (so it is due for acquisition).
    pub next_run_time: Option<DateTime<Utc>>,
    /// The record text, as the store would keep an encoded job.
    pub text: &'a str,
}

/// How the kit gets stores to test.
#[async_trait]
pub trait StoreHarness: Send + Sync {
    /// A new, empty store. Called once per check.
    async fn new_store(&self) -> Arc<dyn JobStore>;

    /// Writes `record` straight into `store`'s storage, bypassing the job
    /// encoding. Return `false` (the default) if the store cannot hold
    /// undecodable data at all (an in-memory store of decoded jobs); the
    /// unreadable-record check is then skipped.
    async fn plant_raw_record(&self, store: &Arc<dyn JobStore>, record: RawRecord<'_>) -> bool {
        let _ = (store, record);
        false
    }
}
