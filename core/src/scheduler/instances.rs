//! Counting the running instances of each job.

use std::sync::Mutex;

use arcstr::ArcStr;

use super::job_map::JobMap;

/// Running instances per (store, job id); a job with none has no entry.
#[derive(Debug, Default)]
pub(crate) struct InstanceCounter {
    counts: Mutex<JobMap<u32>>,
}

impl InstanceCounter {
    /// Takes a slot if fewer than `max` runs are going; false otherwise.
    pub fn try_acquire(&self, store: &str, job_id: &ArcStr, max: u32) -> bool {
        let mut counts = super::lock(&self.counts);
        match counts.get_mut(store, job_id) {
            Some(count) if *count >= max => false,
            Some(count) => {
                *count += 1;
                true
            }
            None if max == 0 => false,
            None => {
                counts.insert(store, job_id, 1);
                true
            }
        }
    }

    /// Frees a slot.
    pub fn release(&self, store: &str, job_id: &str) {
        let mut counts = super::lock(&self.counts);
        if let Some(count) = counts.get_mut(store, job_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(store, job_id);
            }
        }
    }
}
