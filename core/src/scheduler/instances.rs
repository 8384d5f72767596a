//! Counting the running instances of each job.
//!
//! A run takes an [`InstanceSlot`] when it starts and frees it when it ends
//! (or is dropped). Taking a slot looks the job up under a lock; freeing
//! one is a single atomic decrement on the job's counter, which the slot
//! holds. A job's counter stays in the map at zero, so a job that runs
//! again and again (the common case) finds it there instead of inserting
//! and removing an entry per run; counters at zero are swept out when the
//! map has doubled since the last sweep, which keeps it bounded by the jobs
//! that ran recently.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use arcstr::ArcStr;

use super::job_map::JobMap;

/// Counters kept before the first sweep.
const FIRST_SWEEP_AT: usize = 1024;

/// Running instances per (store, job id).
#[derive(Debug)]
pub(crate) struct InstanceCounter {
    counts: Mutex<Counts>,
}

#[derive(Debug)]
struct Counts {
    /// Only ever increased under the lock; decreased by [`InstanceSlot`]s
    /// without it.
    running: JobMap<Arc<AtomicU32>>,
    /// Counters at zero are swept out when the map reaches this size.
    sweep_at: usize,
}

impl Default for InstanceCounter {
    fn default() -> Self {
        InstanceCounter {
            counts: Mutex::new(Counts {
                running: JobMap::default(),
                sweep_at: FIRST_SWEEP_AT,
            }),
        }
    }
}

/// One running instance of a job: frees its place when dropped.
#[derive(Debug)]
pub(crate) struct InstanceSlot(Arc<AtomicU32>);

impl Drop for InstanceSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InstanceCounter {
    /// Takes a slot if fewer than `max` runs are going; `None` otherwise.
    pub fn try_acquire(&self, store: &str, job_id: &ArcStr, max: u32) -> Option<InstanceSlot> {
        let mut counts = super::lock(&self.counts);
        if let Some(running) = counts.running.get(store, job_id) {
            // Increments happen only here, under the lock; a slot freed
            // meanwhile only lowers the count, so the check cannot let more
            // than `max` through.
            if running.load(Ordering::Acquire) >= max {
                return None;
            }
            running.fetch_add(1, Ordering::AcqRel);
            return Some(InstanceSlot(Arc::clone(running)));
        }
        if max == 0 {
            return None;
        }
        if counts.running.len() >= counts.sweep_at {
            counts
                .running
                .retain(|running| running.load(Ordering::Acquire) > 0);
            counts.sweep_at = (counts.running.len() * 2).max(FIRST_SWEEP_AT);
        }
        let running = Arc::new(AtomicU32::new(1));
        counts.running.insert(store, job_id, Arc::clone(&running));
        Some(InstanceSlot(running))
    }

    /// Counters held (running or at zero, not yet swept).
    #[cfg(test)]
    fn counters(&self) -> usize {
        super::lock(&self.counts).running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{InstanceCounter, FIRST_SWEEP_AT};
    use arcstr::ArcStr;

    #[test]
    fn at_most_max_slots_are_taken_and_a_dropped_slot_frees_its_place() {
        let counter = InstanceCounter::default();
        let job = ArcStr::from("j");
        let first = counter.try_acquire("s", &job, 2);
        let second = counter.try_acquire("s", &job, 2);
        assert!(first.is_some() && second.is_some());
        assert!(counter.try_acquire("s", &job, 2).is_none());
        // Counted per store.
        assert!(counter.try_acquire("other", &job, 2).is_some());
        drop(first);
        let third = counter.try_acquire("s", &job, 2);
        assert!(third.is_some());
        assert!(counter.try_acquire("s", &job, 2).is_none());
        drop((second, third));
        assert!(counter.try_acquire("s", &job, 1).is_some());
        assert!(counter.try_acquire("s", &ArcStr::from("k"), 0).is_none());
    }

    #[test]
    fn idle_counters_are_swept_but_running_ones_are_kept() {
        let counter = InstanceCounter::default();
        let busy = ArcStr::from("busy");
        let running = counter.try_acquire("s", &busy, 1);
        assert!(running.is_some());
        for n in 0..FIRST_SWEEP_AT * 3 {
            let id = ArcStr::from(format!("job-{n}"));
            assert!(counter.try_acquire("s", &id, 1).is_some());
        }
        // Every finished job's counter was swept at some point: the map
        // stays within twice what is live since the last sweep.
        assert!(counter.counters() <= FIRST_SWEEP_AT * 2);
        // The running job's count survived the sweeps.
        assert!(counter.try_acquire("s", &busy, 1).is_none());
        drop(running);
        assert!(counter.try_acquire("s", &busy, 1).is_some());
    }
}
