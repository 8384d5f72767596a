//! Counting the running instances of each job.

use std::collections::HashMap;
use std::sync::Mutex;

/// Running instances per (store, job id).
#[derive(Debug, Default)]
pub(crate) struct InstanceCounter {
    counts: Mutex<HashMap<(String, String), u32>>,
}

impl InstanceCounter {
    /// Takes a slot if fewer than `max` runs are going; false otherwise.
    pub fn try_acquire(&self, store: &str, job_id: &str, max: u32) -> bool {
        let mut counts = super::lock(&self.counts);
        let count = counts
            .entry((store.to_owned(), job_id.to_owned()))
            .or_insert(0);
        if *count >= max {
            return false;
        }
        *count += 1;
        true
    }

    /// Frees a slot.
    pub fn release(&self, store: &str, job_id: &str) {
        let mut counts = super::lock(&self.counts);
        let key = (store.to_owned(), job_id.to_owned());
        if let Some(count) = counts.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }
}
