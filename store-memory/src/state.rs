//! The store's data: jobs by id plus an ordered index of when each job can
//! next be acquired.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use chime_core::job::Job;
use chime_core::ArcStr;
use chrono::{DateTime, Utc};

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

/// Entries are boxed: the map's table then holds a pointer per slot, not a
/// whole job, so its empty slots and its growth (old and new tables live
/// at once while it resizes) cost little — with a million jobs, inline
/// entries made the table alone ~600 bytes per job.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub jobs: HashMap<ArcStr, Box<Entry>, foldhash::fast::RandomState>,
    pub due: BTreeSet<DueKey>,
}

impl State {
    /// Inserts or replaces an entry, keeping the index in step.
    pub fn put(&mut self, entry: Entry) {
        self.take(&entry.job.id);
        let id = entry.job.id.clone();
        if let Some((at, priority)) = entry.due_at() {
            self.due.insert((at, priority, id.clone()));
        }
        self.jobs.insert(id, Box::new(entry));
    }

    /// Removes an entry, keeping the index in step.
    pub fn take(&mut self, id: &str) -> Option<Entry> {
        let (key, entry) = self.jobs.remove_entry(id)?;
        if let Some((at, priority)) = entry.due_at() {
            self.due.remove(&(at, priority, key));
        }
        Some(*entry)
    }

    /// Changes an entry in place (its lease, its times), moving it in the
    /// index if its due position changed; the job's id must stay the same.
    /// Returns the changed entry, or `None` if there is no such job.
    pub fn update(&mut self, id: &str, change: impl FnOnce(&mut Entry)) -> Option<&Entry> {
        let key = self.jobs.get_key_value(id)?.0.clone();
        let State { jobs, due } = self;
        let entry = jobs.get_mut(id)?;
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
