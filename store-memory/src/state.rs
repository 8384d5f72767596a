//! The store's data: jobs by id plus an ordered index of when each job can
//! next be acquired.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use chime_core::job::Job;
use chrono::{DateTime, Utc};

/// Index key: when the job can next be acquired, then higher priority
/// first, then id.
pub(crate) type DueKey = (DateTime<Utc>, Reverse<i32>, String);

#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub owner: String,
    pub expires_at: DateTime<Utc>,
    /// The job's next run time when it was acquired; if an update changed
    /// it, the release must not undo that.
    pub acquired_next: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub job: Job,
    pub lease: Option<Lease>,
}

impl Entry {
    /// When the job can next be acquired: its next run time, or later while
    /// leased; `None` when paused.
    pub fn due_key(&self) -> Option<DueKey> {
        let next = self.job.next_run_time?;
        let at = match &self.lease {
            Some(lease) => next.max(lease.expires_at),
            None => next,
        };
        Some((at, Reverse(self.job.priority), self.job.id.clone()))
    }
}

/// Entries are boxed: the map's table then holds a pointer per slot, not a
/// whole job, so its empty slots and its growth (old and new tables live
/// at once while it resizes) cost little — with a million jobs, inline
/// entries made the table alone ~600 bytes per job.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub jobs: HashMap<String, Box<Entry>>,
    pub due: BTreeSet<DueKey>,
}

impl State {
    /// Inserts or replaces an entry, keeping the index in step.
    pub fn put(&mut self, entry: Entry) {
        let id = entry.job.id.clone();
        self.take(&id);
        if let Some(key) = entry.due_key() {
            self.due.insert(key);
        }
        self.jobs.insert(id, Box::new(entry));
    }

    /// Removes an entry, keeping the index in step.
    pub fn take(&mut self, id: &str) -> Option<Entry> {
        let entry = self.jobs.remove(id)?;
        if let Some(key) = entry.due_key() {
            self.due.remove(&key);
        }
        Some(*entry)
    }
}
