//! Job management on a scheduler: add, get, list, modify, reschedule, pause,
//! resume, run now, remove.

use arcstr::ArcStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::jitter::jittered;
use super::{read, AsyncScheduler, SchedulerState};
use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, EventMask};
use crate::job::{Job, JobChanges, NewJob};
use crate::store::{JobEdit, JobStore, RunRecord};
use crate::trigger::{DateTrigger, ResolveContext, Trigger};

/// A job and the alias of the store that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledJob {
    /// Store alias.
    pub store: String,
    /// The job.
    pub job: Job,
}

/// Which jobs [`AsyncScheduler::list_jobs`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this store.
    pub store: Option<String>,
    /// Only paused (`Some(true)`) or only scheduled (`Some(false)`) jobs.
    pub paused: Option<bool>,
}

impl JobFilter {
    /// Every job.
    pub fn all() -> Self {
        JobFilter::default()
    }

    /// Only jobs in `store`.
    pub fn store(mut self, store: impl Into<String>) -> Self {
        self.store = Some(store.into());
        self
    }

    /// Only paused or only scheduled jobs.
    pub fn paused(mut self, paused: bool) -> Self {
        self.paused = Some(paused);
        self
    }
}

impl AsyncScheduler {
    fn store(&self, alias: &str) -> Result<Arc<dyn JobStore>> {
        read(&self.inner.stores)
            .iter()
            .find(|(a, _)| a == alias)
            .map(|(_, s)| Arc::clone(s))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no store with alias '{alias}'"),
                )
            })
    }

    fn stores(&self) -> Vec<(String, Arc<dyn JobStore>)> {
        read(&self.inner.stores).clone()
    }

    fn check_open(&self) -> Result<()> {
        match self.state() {
            SchedulerState::ShuttingDown | SchedulerState::Shutdown => Err(Error::new(
                ErrorKind::Shutdown,
                "the scheduler is shut down",
            )),
            _ => Ok(()),
        }
    }

    fn changed(&self, event: Event) {
        self.inner.events.emit(event);
        self.inner.wakeup.notify_one();
    }

    /// Adds a job and returns its record. The task must be registered and the
    /// trigger must fire at least once; with `replace_existing` a job with the
    /// same id is replaced, otherwise that is an [`ErrorKind::Conflict`] error.
    pub async fn add_job(&self, new_job: NewJob) -> Result<Job> {
        self.check_open()?;
        let Some(task) = self.inner.tasks.shared_name(&new_job.task) else {
            return Err(Error::new(
                ErrorKind::UnknownTask,
                format!("task '{}' is not registered", new_job.task),
            ));
        };
        let alias = new_job.store.clone();
        let replace = new_job.replace_existing;
        let store = self.store(&alias)?;
        let mut job = new_job.into_job_with_task(
            self.now(),
            &self.inner.config.job_defaults,
            self.inner.config.timezone,
            Some(task.clone()),
        )?;
        self.inner.share_names(&mut job, task);
        store
            .add_job(job.clone(), replace)
            .await
            .map_err(|e| e.with_store(&alias))?;
        tracing::info!(job_id = %job.id, store = %alias, next_run_time = ?job.next_run_time, "job added");
        self.changed(Event::JobAdded {
            job_id: job.id.to_string(),
            store: alias.to_string(),
        });
        Ok(job)
    }

    /// Adds many jobs at once and returns their records, in order: the way
    /// to load thousands of jobs (an import, a generated schedule). Every
    /// job is checked first — an unregistered task, an invalid option or a
    /// trigger that never fires fails the whole call and adds nothing — then
    /// each store gets its jobs in one [`JobStore::add_jobs`] call (one
    /// transaction where the store has them; all or nothing on a conflict
    /// within a store), and the scheduler is woken once.
    ///
    /// ```no_run
    /// # use chime_core::{AsyncScheduler, NewJob, trigger::CronTrigger};
    /// # async fn load(scheduler: &AsyncScheduler) -> chime_core::Result<()> {
    /// // One daily report per shop, spread over the 6 o'clock hour.
    /// let jobs = (0..1000u32)
    ///     .map(|shop| {
    ///         let trigger = CronTrigger::crontab(&format!("{} 6 * * *", shop % 60))?;
    ///         Ok(NewJob::new("report", trigger).id(format!("report-{shop}")).args(shop))
    ///     })
    ///     .collect::<chime_core::Result<Vec<_>>>()?;
    /// let added = scheduler.add_jobs(jobs).await?;
    /// assert_eq!(added.len(), 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn add_jobs(&self, new_jobs: Vec<NewJob>) -> Result<Vec<Job>> {
        self.check_open()?;
        let now = self.now();
        // (store alias, replace_existing) -> positions in `jobs`, in order.
        let mut groups: Vec<((ArcStr, bool), Vec<usize>)> = Vec::new();
        let mut jobs = Vec::with_capacity(new_jobs.len());
        for new_job in new_jobs {
            let Some(task) = self.inner.tasks.shared_name(&new_job.task) else {
                let error = Error::new(
                    ErrorKind::UnknownTask,
                    format!("task '{}' is not registered", new_job.task),
                );
                return Err(match new_job.job_id() {
                    Some(id) => error.with_job(id),
                    None => error,
                });
            };
            let key = (new_job.store.clone(), new_job.replace_existing);
            let mut job = new_job.into_job_with_task(
                now,
                &self.inner.config.job_defaults,
                self.inner.config.timezone,
                Some(task.clone()),
            )?;
            self.inner.share_names(&mut job, task);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, positions)) => positions.push(jobs.len()),
                None => groups.push((key, vec![jobs.len()])),
            }
            jobs.push(job);
        }
        let stores = groups
            .iter()
            .map(|((alias, _), _)| self.store(alias))
            .collect::<Result<Vec<_>>>()?;
        for (((alias, replace), positions), store) in groups.iter().zip(stores) {
            let batch: Vec<Job> = positions.iter().map(|&i| jobs[i].clone()).collect();
            store
                .add_jobs(batch, *replace)
                .await
                .map_err(|e| e.with_store(alias))?;
            tracing::info!(store = %alias, jobs = positions.len(), "jobs added");
            if self.inner.events.wants(EventMask::JOB_ADDED) {
                for &i in positions {
                    self.inner.events.emit(Event::JobAdded {
                        job_id: jobs[i].id.to_string(),
                        store: alias.to_string(),
                    });
                }
            }
        }
        self.inner.wakeup.notify_one();
        Ok(jobs)
    }

    /// Runs registered task `task` once, `delay` from now (like Python's
    /// `threading.Timer`); the job is removed after it runs.
    pub async fn run_after<A: Serialize>(
        &self,
        delay: Duration,
        task: &str,
        args: A,
    ) -> Result<Job> {
        let delay = TimeDelta::from_std(delay).map_err(|_| Error::invalid("delay: too long"))?;
        let at = self
            .now()
            .checked_add_signed(delay)
            .ok_or_else(|| Error::invalid("delay: too long"))?;
        self.add_job(NewJob::new(task, DateTrigger::new(at)).args(args))
            .await
    }

    /// The job with `id`, searching the stores in the order they were added.
    pub async fn get_job(&self, id: &str) -> Result<Option<ScheduledJob>> {
        for (alias, store) in self.stores() {
            if let Some(job) = store.get_job(id).await.map_err(|e| e.with_store(&alias))? {
                return Ok(Some(ScheduledJob { store: alias, job }));
            }
        }
        Ok(None)
    }

    /// Which store holds `id`: its alias, the store, and the job — `None`
    /// when the record exists but cannot be read by this build.
    async fn locate(&self, id: &str) -> Result<(String, Arc<dyn JobStore>, Option<Job>)> {
        for (alias, store) in self.stores() {
            match store.get_job(id).await {
                Ok(Some(job)) => return Ok((alias, store, Some(job))),
                Ok(None) => {}
                Err(e) if e.kind() == ErrorKind::UnreadableRecord => {
                    return Ok((alias, store, None))
                }
                Err(e) => return Err(e.with_store(&alias)),
            }
        }
        Err(Error::job_not_found(id))
    }

    async fn find(&self, id: &str) -> Result<(String, Arc<dyn JobStore>, Job)> {
        match self.locate(id).await? {
            (alias, store, Some(job)) => Ok((alias, store, job)),
            (alias, _, None) => Err(Error::new(
                ErrorKind::UnreadableRecord,
                "this build cannot read the job's record; it can only be removed",
            )
            .with_job(id)
            .with_store(alias)),
        }
    }

    /// Applies `edit` to job `id` atomically in its store.
    async fn edit(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        let (alias, store, _) = self.find(id).await?;
        let job = store
            .modify_job(id, edit)
            .await
            .map_err(|e| e.with_store(&alias))?;
        self.changed(Event::JobModified {
            job_id: job.id.to_string(),
            store: alias,
        });
        Ok(job)
    }

    /// Jobs matching `filter`, store by store, each in the store's order
    /// (next run time, ties by id, paused last).
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<ScheduledJob>> {
        let mut out = Vec::new();
        for (alias, store) in self.stores() {
            if filter.store.as_ref().is_some_and(|s| *s != alias) {
                continue;
            }
            let list = store.list_jobs().await.map_err(|e| e.with_store(&alias))?;
            for record in &list.unreadable {
                self.inner
                    .report_unusable(&alias, &record.job_id, &record.reason);
            }
            out.extend(
                list.jobs
                    .into_iter()
                    .filter(|j| filter.paused.is_none_or(|p| p == j.is_paused()))
                    .map(|job| ScheduledJob {
                        store: alias.clone(),
                        job,
                    }),
            );
        }
        Ok(out)
    }

    /// Changes a job's options (atomically: a run released meanwhile is
    /// never rewound).
    pub async fn modify_job(&self, id: &str, changes: JobChanges) -> Result<Job> {
        self.check_open()?;
        self.edit(id, &|job| changes.clone().apply(job)).await
    }

    /// Gives a job a new trigger; its next run time is computed from now.
    pub async fn reschedule_job(&self, id: &str, trigger: impl Trigger + 'static) -> Result<Job> {
        self.check_open()?;
        let now = self.now();
        let context = ResolveContext::new(now, self.inner.config.timezone);
        let resolved = trigger.resolve(&context);
        let trigger: &dyn Trigger = match &resolved {
            Some(t) => t.as_ref(),
            None => &trigger,
        };
        let spec = trigger.to_spec()?;
        let fire = trigger.next_fire_time(None, now).ok_or_else(|| {
            Error::invalid(format!("trigger ({}) will never fire", trigger.describe())).with_job(id)
        })?;
        let next = jittered(trigger, fire);
        self.edit(id, &|job| {
            job.trigger = spec.clone();
            job.trigger_time = Some(fire);
            job.next_run_time = Some(next);
            Ok(())
        })
        .await
    }

    /// Pauses a job: it keeps its trigger but has no next run time.
    pub async fn pause_job(&self, id: &str) -> Result<Job> {
        self.check_open()?;
        self.edit(id, &|job| {
            job.next_run_time = None;
            job.trigger_time = None;
            Ok(())
        })
        .await
    }

    /// Resumes a paused job from now: the next fire time `>=` now. A job
    /// whose trigger will never fire again is removed.
    pub async fn resume_job(&self, id: &str) -> Result<Option<Job>> {
        self.check_open()?;
        let (alias, store, job) = self.find(id).await?;
        let trigger = self
            .inner
            .triggers
            .decode(&job.trigger)
            .map_err(|e| e.with_job(id))?;
        match trigger.next_fire_time(None, self.now()) {
            Some(fire) => {
                let next = jittered(trigger.as_ref(), fire);
                self.edit(id, &|job| {
                    job.trigger_time = Some(fire);
                    job.next_run_time = Some(next);
                    Ok(())
                })
                .await
                .map(Some)
            }
            None => {
                self.remove_from(&alias, store.as_ref(), id).await?;
                Ok(None)
            }
        }
    }

    /// Runs a job now, once, without changing its schedule (subject to
    /// `max_instances`). Returns the fire time given to the run.
    pub async fn run_job(&self, id: &str) -> Result<DateTime<Utc>> {
        self.check_open()?;
        let (alias, _store, job) = self.find(id).await?;
        let Some(runnable) = self.inner.runnable(&alias, &job) else {
            return Err(Error::new(
                ErrorKind::UnknownTask,
                "this scheduler cannot run the job (see its JobUnusable event)",
            )
            .with_job(id));
        };
        let now = self.now();
        self.inner.submit(
            &ArcStr::from(alias.as_str()),
            &job,
            runnable,
            vec![vec![now]],
            None,
            None,
        );
        Ok(now)
    }

    async fn remove_from(&self, alias: &str, store: &dyn JobStore, id: &str) -> Result<()> {
        store
            .remove_job(id)
            .await
            .map_err(|e| e.with_store(alias))?;
        tracing::info!(job_id = id, store = alias, "job removed");
        self.changed(Event::JobRemoved {
            job_id: id.to_owned(),
            store: alias.to_owned(),
        });
        Ok(())
    }

    /// Removes a job (also one whose record this build cannot read).
    pub async fn remove_job(&self, id: &str) -> Result<()> {
        let (alias, store, _) = self.locate(id).await?;
        self.remove_from(&alias, store.as_ref(), id).await
    }

    /// Removes every job, of one store or of all (a `JobRemoved` event for
    /// each).
    pub async fn remove_all_jobs(&self, store: Option<&str>) -> Result<()> {
        for (alias, s) in self.stores() {
            if store.is_some_and(|only| only != alias) {
                continue;
            }
            let list = s.list_jobs().await.map_err(|e| e.with_store(&alias))?;
            s.remove_all_jobs()
                .await
                .map_err(|e| e.with_store(&alias))?;
            let ids = list.jobs.into_iter().map(|j| j.id.to_string());
            for job_id in ids.chain(list.unreadable.into_iter().map(|u| u.job_id)) {
                self.inner.events.emit(Event::JobRemoved {
                    job_id,
                    store: alias.clone(),
                });
            }
        }
        self.inner.wakeup.notify_one();
        Ok(())
    }

    /// The last `limit` runs of job `id`, newest first, from its store's
    /// history ([`ErrorKind::NotSupported`] if the store keeps none).
    pub async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        let (alias, store, _) = self.find(id).await?;
        store
            .run_history(id, limit)
            .await
            .map_err(|e| e.with_store(&alias))
    }
}
