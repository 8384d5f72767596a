//! The store's data: jobs by id plus an ordered index of when each job can
//! next be acquired.

use std::cmp::Reverse;
use std::collections::{hash_map, BTreeSet, HashMap};

use chime_core::job::Job;
use chime_core::trigger::TriggerSpec;
use chime_core::ArcStr;
use chrono::{DateTime, Utc};

use crate::slots::{Slots, SlotsFull};

/// Index key: when the job can next be acquired, then higher priority
/// first, then id (the job's own id: the map's key, the index key and the
/// record share one allocation).
pub(crate) type DueKey = (DateTime<Utc>, Reverse<i32>, ArcStr);

/// A lease, boxed in its entry: most jobs are not leased most of the time,
/// and an inline lease would cost every job its size.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub owner: ArcStr,
    pub expires_at: DateTime<Utc>,
    /// The job's next run time when it was acquired; if an update changed
    /// it, the release must not undo that.
    pub acquired_next: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub job: Job,
    pub lease: Option<Box<Lease>>,
}

impl Entry {
    pub fn new(job: Job, lease: Option<Box<Lease>>) -> Self {
        Entry { job, lease }
    }

    /// When the job can next be acquired: its next run time, or later while
    /// leased; `None` when paused.
    fn due_at(&self) -> Option<(DateTime<Utc>, Reverse<i32>)> {
        let next = self.job.next_run_time?;
        let at = match &self.lease {
            Some(lease) => next.max(lease.expires_at),
            None => next,
        };
        Some((at, Reverse(self.job.priority)))
    }
}

/// The jobs (see [`Slots`]) and the due index.
///
/// Equal trigger specs share one text: jobs on the same schedule are
/// common ("every hour", "daily at 02:00"), and each spec's text is
/// otherwise tens of bytes per job. `specs` counts the jobs using each.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub jobs: Slots,
    pub due: BTreeSet<DueKey>,
    specs: HashMap<TriggerSpec, usize, foldhash::fast::RandomState>,
}

impl State {
    /// Inserts or replaces an entry, keeping the index in step.
    pub fn put(&mut self, mut entry: Entry) -> Result<(), SlotsFull> {
        self.take(&entry.job.id);
        match self.specs.entry(entry.job.trigger.clone()) {
            hash_map::Entry::Occupied(mut shared) => {
                *shared.get_mut() += 1;
                entry.job.trigger = shared.key().clone();
            }
            hash_map::Entry::Vacant(new) => {
                new.insert(1);
            }
        }
        let due = entry
            .due_at()
            .map(|(at, priority)| (at, priority, entry.job.id.clone()));
        let spec = entry.job.trigger.clone();
        if let Err(full) = self.jobs.insert(entry) {
            self.forget_spec(&spec);
            return Err(full);
        }
        if let Some(key) = due {
            self.due.insert(key);
        }
        Ok(())
    }

    /// Removes an entry, keeping the index in step.
    pub fn take(&mut self, id: &str) -> Option<Entry> {
        let entry = self.jobs.remove(id)?;
        if let Some((at, priority)) = entry.due_at() {
            self.due.remove(&(at, priority, entry.job.id.clone()));
        }
        self.forget_spec(&entry.job.trigger);
        Some(entry)
    }

    /// One job fewer uses `spec`.
    fn forget_spec(&mut self, spec: &TriggerSpec) {
        if let Some(users) = self.specs.get_mut(spec) {
            *users -= 1;
            if *users == 0 {
                self.specs.remove(spec);
            }
        }
    }

    /// Changes an entry in place (its lease, its times), moving it in the
    /// index if its due position changed; the job's id must stay the same.
    /// Returns the changed entry, or `None` if there is no such job.
    pub fn update(&mut self, id: &str, change: impl FnOnce(&mut Entry)) -> Option<&Entry> {
        let State { jobs, due, .. } = self;
        let entry = jobs.get_mut(id)?;
        let key = entry.job.id.clone();
        let before = entry.due_at();
        change(entry);
        let after = entry.due_at();
        if before != after {
            if let Some((at, priority)) = before {
                due.remove(&(at, priority, key.clone()));
            }
            if let Some((at, priority)) = after {
                due.insert((at, priority, key));
            }
        }
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, State};
    use chime_core::job::{Job, JobDefaults, NewJob};
    use chime_core::trigger::CronTrigger;
    use chrono::{DateTime, Utc};

    fn job(id: &str, expr: &str) -> Job {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
        let trigger = CronTrigger::crontab(expr).unwrap_or_else(|e| panic!("{e}"));
        NewJob::new("task", trigger)
            .id(id)
            .into_job(now, &JobDefaults::default(), chime_core::chrono_tz::UTC)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn text_of(state: &State, id: &str) -> *const u8 {
        match state.jobs.get(id) {
            Some(entry) => entry.job.trigger.as_json().as_ptr(),
            None => panic!("no job {id}"),
        }
    }

    #[test]
    fn jobs_on_one_schedule_share_its_text_until_the_last_is_gone() {
        let mut state = State::default();
        // Built apart: two copies of the same text until stored.
        let (a, b) = (job("a", "0 2 * * *"), job("b", "0 2 * * *"));
        assert_ne!(a.trigger.as_json().as_ptr(), b.trigger.as_json().as_ptr());
        for entry in [a, b, job("c", "0 3 * * *")] {
            state.put(Entry::new(entry, None)).unwrap();
        }
        assert_eq!(text_of(&state, "a"), text_of(&state, "b"));
        assert_ne!(text_of(&state, "a"), text_of(&state, "c"));
        assert_eq!(state.specs.len(), 2);

        // Replacing a job with itself does not count it twice.
        state.put(Entry::new(job("a", "0 2 * * *"), None)).unwrap();
        state.take("a");
        let b = state.jobs.get("b").map(|e| e.job.trigger.clone());
        assert_eq!(b.and_then(|spec| state.specs.get(&spec).copied()), Some(1));
        state.take("b");
        state.take("c");
        assert!(state.specs.is_empty(), "{:?}", state.specs);
    }
}
