//! Decoded triggers, kept between fires of the same job.
//!
//! Decoding a stored trigger (parsing a cron expression, say) costs more
//! than computing its next fire; a job that fires every second would pay it
//! every second. The cache keys a job by store and id and keeps the spec it
//! decoded, so a changed trigger is decoded afresh. Jobs whose trigger is
//! exhausted (one-shot jobs) are never cached.

use std::sync::{Arc, Mutex};

use arcstr::ArcStr;

use super::job_map::JobMap;
use crate::trigger::{Trigger, TriggerSpec};

/// Entries kept before the cache starts over (a bound, not a tuning knob:
/// jobs that are gone would otherwise stay forever).
const MAX_ENTRIES: usize = 100_000;

type Entry = (TriggerSpec, Arc<dyn Trigger>);

/// Store alias and job id → the last decoded trigger.
#[derive(Default)]
pub(crate) struct TriggerCache {
    entries: Mutex<JobMap<Entry>>,
}

impl TriggerCache {
    /// The cached trigger of job `job_id` in `store`, if it was decoded from `spec`.
    pub fn get(&self, store: &str, job_id: &str, spec: &TriggerSpec) -> Option<Arc<dyn Trigger>> {
        let entries = super::lock(&self.entries);
        match entries.get(store, job_id) {
            Some((cached_spec, trigger)) if cached_spec == spec => Some(Arc::clone(trigger)),
            _ => None,
        }
    }

    /// Keeps `trigger`, decoded from `spec`, for the job's next fires.
    pub fn insert(
        &self,
        store: &str,
        job_id: &ArcStr,
        spec: &TriggerSpec,
        trigger: &Arc<dyn Trigger>,
    ) {
        let mut entries = super::lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(store, job_id, (spec.clone(), Arc::clone(trigger)));
    }

    /// Forgets a job (removed, or its trigger exhausted).
    pub fn forget(&self, store: &str, job_id: &str) {
        super::lock(&self.entries).remove(store, job_id);
    }
}

impl std::fmt::Debug for TriggerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerCache")
            .field("entries", &super::lock(&self.entries).len())
            .finish()
    }
}
