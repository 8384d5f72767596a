//! The `JobStore` implementation.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chime_core::error::{Error, ErrorKind, Result};
use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, JobEdit, JobList, JobRelease, JobStore, Release, Released, RunRecord,
    StoreCapabilities,
};
use chime_core::ArcStr;
use chrono::{DateTime, TimeDelta, Utc};

use crate::history::History;
use crate::state::{Lease, NewJobRefused, State};

/// A job store in process memory. See the [crate documentation](crate).
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    history: Mutex<History>,
}

impl MemoryStore {
    /// Runs of each job kept in history by default.
    pub const DEFAULT_HISTORY: usize = 20;

    /// An empty store keeping the last 20 runs of each job.
    pub fn new() -> Self {
        MemoryStore::with_history(Self::DEFAULT_HISTORY)
    }

    /// An empty store keeping the last `runs` runs of each job (0: none).
    pub fn with_history(runs: usize) -> Self {
        MemoryStore {
            state: Mutex::new(State::default()),
            history: Mutex::new(History::new(runs)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

/// Ends `owner`'s lease on `id` under the state lock (see
/// [`JobStore::release_job`]).
fn release_locked(state: &mut State, owner: &str, id: &str, release: Release) -> Result<Released> {
    let (held, rescheduled) = match state.jobs.get(id) {
        None => return Err(Error::job_not_found(id)),
        Some(entry) => match &entry.lease {
            Some(lease) => (
                *lease.owner == *owner,
                lease.acquired_next != entry.job.next_run_time(),
            ),
            None => (false, false),
        },
    };
    if !held {
        return Err(Error::new(
            ErrorKind::LeaseLost,
            format!("owner '{owner}' does not hold the lease"),
        )
        .with_job(id));
    }
    if rescheduled {
        // Paused, resumed or rescheduled while leased: that wins.
        state.update(id, |entry| entry.lease = None);
        return Ok(Released::KeptUpdate);
    }
    match release {
        Release::Reschedule {
            next_run_time,
            trigger_time,
        } => {
            state.update(id, |entry| {
                entry.lease = None;
                entry.job.set_next_run_time(Some(next_run_time));
                entry.job.set_trigger_time(Some(trigger_time));
            });
        }
        Release::Remove => {
            state.take(id);
        }
    }
    Ok(Released::Applied)
}

fn refused(why: NewJobRefused) -> Error {
    match why {
        NewJobRefused::Exists(id) => conflict(&id),
        NewJobRefused::Full => Error::new(
            ErrorKind::NotSupported,
            "the memory store is full: it holds at most 2^32 jobs",
        ),
    }
}

fn conflict(id: &str) -> Error {
    Error::new(ErrorKind::Conflict, "a job with this id already exists").with_job(id)
}

#[async_trait]
impl JobStore for MemoryStore {
    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::in_memory()
    }

    async fn add_job(&self, job: Job, replace_existing: bool) -> Result<()> {
        let mut state = self.state();
        if replace_existing {
            return state.put(job, None).map_err(refused);
        }
        state.put_new(job).map_err(refused)
    }

    async fn add_jobs(&self, jobs: Vec<Job>, replace_existing: bool) -> Result<()> {
        let mut state = self.state();
        if replace_existing {
            for job in jobs {
                state.put(job, None).map_err(refused)?;
            }
            return Ok(());
        }
        // Each insert checks its own id (a job stored before, or earlier in
        // the batch); on the first refusal the batch's jobs come out again,
        // so a refused batch adds nothing (the slots and spec numbers it
        // used go on the free lists).
        let ids: Vec<ArcStr> = jobs.iter().map(|job| job.id.clone()).collect();
        for (added, job) in jobs.into_iter().enumerate() {
            if let Err(why) = state.put_new(job) {
                let earlier = ids.get(..added).unwrap_or_default();
                for id in earlier.iter().rev() {
                    state.take(id);
                }
                return Err(match why {
                    NewJobRefused::Exists(id) if earlier.contains(&id) => {
                        Error::new(ErrorKind::Conflict, "the batch holds this id twice")
                            .with_job(&id)
                    }
                    why => refused(why),
                });
            }
        }
        Ok(())
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        Ok(self.state().job(id))
    }

    async fn list_jobs(&self) -> Result<JobList> {
        let jobs = self.state().all_jobs();
        let mut list = JobList {
            jobs,
            unreadable: Vec::new(),
        };
        list.sort();
        Ok(list)
    }

    async fn update_job(&self, job: Job) -> Result<()> {
        let mut state = self.state();
        let Some(lease) = state.take(&job.id) else {
            return Err(Error::job_not_found(&job.id));
        };
        state.put(job, lease).map_err(refused)
    }

    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        let mut state = self.state();
        let Some(mut job) = state.job(id) else {
            return Err(Error::job_not_found(id));
        };
        edit(&mut job)?;
        let Some(lease) = state.take(id) else {
            return Err(Error::job_not_found(id));
        };
        state.put(job.clone(), lease).map_err(refused)?;
        Ok(job)
    }

    async fn remove_job(&self, id: &str) -> Result<()> {
        if self.state().take(id).is_none() {
            return Err(Error::job_not_found(id));
        }
        self.history().forget(id);
        Ok(())
    }

    async fn remove_all_jobs(&self) -> Result<()> {
        *self.state() = State::default();
        self.history().clear();
        Ok(())
    }

    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .state()
            .due
            .first()
            .and_then(|(at, _, _)| DateTime::from_timestamp_micros(*at)))
    }

    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        let lease =
            TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: duration too long"))?;
        let expires_at = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut state = self.state();
        let now = now.timestamp_micros();
        let due_slots: Vec<u32> = state
            .due
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .take(limit)
            .map(|(_, _, slot)| *slot)
            .collect();
        let owner = ArcStr::from(owner);
        let mut jobs = Vec::with_capacity(due_slots.len());
        for slot in due_slots {
            let leased = state.update_at(slot, |entry| {
                entry.lease = Some(Box::new(Lease {
                    owner: owner.clone(),
                    expires_at,
                    acquired_next: entry.job.next_run_time(),
                }));
            });
            if let Some(job) = leased.then(|| state.job_at(slot)).flatten() {
                jobs.push(job);
            }
        }
        Ok(AcquiredJobs {
            jobs,
            unreadable: Vec::new(),
        })
    }

    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        let released = release_locked(&mut self.state(), owner, id, release);
        if matches!(release, Release::Remove) && matches!(released, Ok(Released::Applied)) {
            self.history().forget(id);
        }
        released
    }

    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        let results: Vec<Result<Released>> = {
            let mut state = self.state();
            releases
                .iter()
                .map(|entry| release_locked(&mut state, owner, &entry.id, entry.release))
                .collect()
        };
        let mut history = self.history();
        for (entry, result) in releases.iter().zip(&results) {
            if matches!(entry.release, Release::Remove) && matches!(result, Ok(Released::Applied)) {
                history.forget(&entry.id);
            }
        }
        results
    }

    async fn record_run(&self, record: RunRecord) -> Result<()> {
        // Runs of jobs that are gone (a one-shot job's last run) are not
        // kept: nobody can ask for them and they would pile up.
        if !self.state().jobs.contains(record.job_id.as_str()) {
            return Ok(());
        }
        self.history().record(record);
        Ok(())
    }

    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        Ok(self.history().last(id, limit))
    }
}
