//! The store's data: packed jobs by id, their trigger specs, and an
//! ordered index of when each job can next be acquired.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use chime_core::job::{Job, PackedJob};
use chime_core::store::index_micros;
use chime_core::ArcStr;
use chrono::{DateTime, Utc};

use crate::slots::{NotInserted, Slots};
use crate::specs::Specs;

/// Index key: when the job can next be acquired, then higher priority
/// first, then the job's slot (see [`Slots`]). A slot number rather than
/// the id: comparing ids read each id's heap string, a cache miss per
/// comparison among the many jobs due at one instant (at a million jobs,
/// a fifth of the time to add one). The time is in whole microseconds,
/// rounded up ([`index_micros`]: never early), so that a key is 16 bytes
/// (a `DateTime` takes 12 and would make it 20).
pub(crate) type DueKey = (i64, Reverse<i32>, u32);

/// Why [`State::put_new`] added nothing.
#[derive(Debug)]
pub(crate) enum NewJobRefused {
    /// A job with this id is there already.
    Exists(ArcStr),
    /// The store holds as many jobs as it can number.
    Full,
}

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

/// A stored job: packed (see [`PackedJob`]), its trigger spec by number
/// (see [`Specs`]) and its lease.
#[derive(Debug)]
pub(crate) struct Entry {
    pub job: PackedJob,
    spec: u32,
    /// The id's hash as [`Slots`](crate::slots::Slots) keeps it (set when
    /// the entry goes in): growing the id table re-reads it here instead
    /// of hashing every id again. It fills what was padding.
    id_hash: u32,
    pub lease: Option<Box<Lease>>,
}

impl Entry {
    pub fn new(job: PackedJob, spec: u32, lease: Option<Box<Lease>>) -> Self {
        Entry {
            job,
            spec,
            id_hash: 0,
            lease,
        }
    }

    /// The id hash [`Slots`](crate::slots::Slots) set.
    pub fn id_hash(&self) -> u32 {
        self.id_hash
    }

    /// Set by [`Slots`](crate::slots::Slots) only, as the entry goes in.
    pub(crate) fn set_id_hash(&mut self, id_hash: u32) {
        self.id_hash = id_hash;
    }

    /// When the job can next be acquired: its next run time, or later while
    /// leased; `None` when paused.
    fn due_at(&self) -> Option<(i64, Reverse<i32>)> {
        let next = self.job.next_run_time()?;
        let at = match &self.lease {
            Some(lease) => next.max(lease.expires_at),
            None => next,
        };
        Some((index_micros(at), Reverse(self.job.priority())))
    }
}

/// The jobs (see [`Slots`]), their trigger specs (see [`Specs`]) and the
/// due index.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub jobs: Slots,
    pub due: BTreeSet<DueKey>,
    specs: Specs,
}

impl State {
    /// Inserts or replaces a job, keeping the index in step.
    ///
    /// It can fail only for a new id (a replaced job frees the slot and
    /// spec number its replacement takes), so nothing stored is lost.
    pub fn put(&mut self, job: Job, lease: Option<Box<Lease>>) -> Result<(), NewJobRefused> {
        self.take(&job.id);
        self.place(job, lease)
    }

    /// Inserts a job whose id may not be taken yet, keeping the index in
    /// step; a job with this id already there is left as it was.
    pub fn put_new(&mut self, job: Job) -> Result<(), NewJobRefused> {
        self.place(job, None)
    }

    /// Packs `job` into a new slot and indexes it, unless its id is taken.
    fn place(&mut self, job: Job, lease: Option<Box<Lease>>) -> Result<(), NewJobRefused> {
        let (job, spec) = PackedJob::pack(job);
        let spec = self.specs.share(spec).map_err(|_| NewJobRefused::Full)?;
        let entry = Entry::new(job, spec, lease);
        let due = entry.due_at();
        match self.jobs.insert_new(entry) {
            Ok(slot) => {
                if let Some((at, priority)) = due {
                    self.due.insert((at, priority, slot));
                }
                Ok(())
            }
            Err(refused) => {
                self.specs.forget(spec);
                Err(match refused {
                    NotInserted::Exists(entry) => NewJobRefused::Exists(entry.job.id().clone()),
                    NotInserted::Full => NewJobRefused::Full,
                })
            }
        }
    }

    /// Removes a job, keeping the index in step; returns its lease, if it
    /// was there.
    pub fn take(&mut self, id: &str) -> Option<Option<Box<Lease>>> {
        let (slot, entry) = self.jobs.remove(id)?;
        if let Some((at, priority)) = entry.due_at() {
            self.due.remove(&(at, priority, slot));
        }
        self.specs.forget(entry.spec);
        Some(entry.lease)
    }

    /// The job `id` as a [`Job`].
    pub fn job(&self, id: &str) -> Option<Job> {
        self.job_at(self.jobs.slot_of(id)?)
    }

    /// The job in `slot` as a [`Job`].
    pub fn job_at(&self, slot: u32) -> Option<Job> {
        self.unpack(self.jobs.at(slot)?)
    }

    /// Every job, in no particular order.
    pub fn all_jobs(&self) -> Vec<Job> {
        self.jobs.iter().filter_map(|e| self.unpack(e)).collect()
    }

    fn unpack(&self, entry: &Entry) -> Option<Job> {
        let spec = self.specs.get(entry.spec)?;
        Some(entry.job.unpack(spec.clone()))
    }

    /// Changes an entry in place (its lease, its times), moving it in the
    /// index if its due position changed; the job's id must stay the same.
    /// Returns whether there is such a job.
    pub fn update(&mut self, id: &str, change: impl FnOnce(&mut Entry)) -> bool {
        match self.jobs.slot_of(id) {
            Some(slot) => self.update_at(slot, change),
            None => false,
        }
    }

    /// [`State::update`] of the job in `slot`.
    pub fn update_at(&mut self, slot: u32, change: impl FnOnce(&mut Entry)) -> bool {
        let State { jobs, due, .. } = self;
        let Some(entry) = jobs.at_mut(slot) else {
            return false;
        };
        let before = entry.due_at();
        change(entry);
        let after = entry.due_at();
        if before != after {
            if let Some((at, priority)) = before {
                due.remove(&(at, priority, slot));
            }
            if let Some((at, priority)) = after {
                due.insert((at, priority, slot));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::State;
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

    fn spec_of(state: &State, id: &str) -> u32 {
        match state.jobs.get(id) {
            Some(entry) => entry.spec,
            None => panic!("no job {id}"),
        }
    }

    #[test]
    fn jobs_on_one_schedule_share_its_spec_until_the_last_is_gone() {
        let mut state = State::default();
        let (a, b) = (job("a", "0 2 * * *"), job("b", "0 2 * * *"));
        for job in [a.clone(), b, job("c", "0 3 * * *")] {
            state.put(job, None).unwrap();
        }
        assert_eq!(spec_of(&state, "a"), spec_of(&state, "b"));
        assert_ne!(spec_of(&state, "a"), spec_of(&state, "c"));
        assert_eq!(state.specs.len(), 2);
        // Each job comes back whole, its spec included.
        assert_eq!(state.job("a"), Some(a.clone()));

        // Replacing a job with itself does not count it twice.
        state.put(a, None).unwrap();
        state.take("a");
        assert_eq!(state.specs.len(), 2, "b still uses the 02:00 spec");
        state.take("b");
        assert_eq!(state.specs.len(), 1);
        state.take("c");
        assert_eq!(state.specs.len(), 0);
        // A freed number is used again.
        state.put(job("d", "0 4 * * *"), None).unwrap();
        assert!(spec_of(&state, "d") < 2);
    }

    #[test]
    fn a_refused_new_job_changes_nothing() {
        let mut state = State::default();
        state.put_new(job("a", "0 2 * * *")).unwrap();
        let before = (state.specs.len(), state.due.len(), state.job("a"));
        // Same id, another schedule: refused, and its spec is not kept.
        match state.put_new(job("a", "0 5 * * *")) {
            Err(super::NewJobRefused::Exists(id)) => assert_eq!(id.as_str(), "a"),
            other => panic!("expected Exists, got {other:?}"),
        }
        assert_eq!((state.specs.len(), state.due.len(), state.job("a")), before);
    }

    /// W4's memory per job rests on this size (BENCHMARKS.md, and the
    /// `w4-floor` bench models an entry of it).
    #[test]
    fn an_entry_is_112_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry>(), 112);
    }
}
