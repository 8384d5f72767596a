//! Decoded triggers, kept between fires of the same job.
//!
//! Decoding a stored trigger (parsing a cron expression, say) costs more
//! than computing its next fire; a job that fires every second would pay it
//! every second. The cache keys a job by store and id and keeps the spec it
//! decoded, so a changed trigger is decoded afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::trigger::{Trigger, TriggerRegistry, TriggerSpec};

/// Entries kept before the cache starts over (a bound, not a tuning knob:
/// jobs that are gone would otherwise stay forever).
const MAX_ENTRIES: usize = 100_000;

type Entry = (TriggerSpec, Arc<dyn Trigger>);

/// Store alias and job id → the last decoded trigger.
#[derive(Default)]
pub(crate) struct TriggerCache {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl TriggerCache {
    /// The trigger of `spec` for job `job_id` in `store`, decoded once.
    pub fn decode(
        &self,
        registry: &TriggerRegistry,
        store: &str,
        job_id: &str,
        spec: &TriggerSpec,
    ) -> Result<Arc<dyn Trigger>> {
        let key = (store.to_owned(), job_id.to_owned());
        {
            let entries = super::lock(&self.entries);
            if let Some((cached_spec, trigger)) = entries.get(&key) {
                if cached_spec == spec {
                    return Ok(Arc::clone(trigger));
                }
            }
        }
        let trigger = registry.decode(spec)?;
        let mut entries = super::lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (spec.clone(), Arc::clone(&trigger)));
        Ok(trigger)
    }

    /// Forgets a job (removed, or its trigger exhausted).
    pub fn forget(&self, store: &str, job_id: &str) {
        super::lock(&self.entries).remove(&(store.to_owned(), job_id.to_owned()));
    }
}

impl std::fmt::Debug for TriggerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerCache")
            .field("entries", &super::lock(&self.entries).len())
            .finish()
    }
}
