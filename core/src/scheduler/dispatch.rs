//! From a due job to finished runs: acquisition, misfire planning, release,
//! submission to an executor, and outcome reporting.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use arcstr::ArcStr;
use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt;

use super::fire_plan::plan_fires;
use super::instances::InstanceSlot;
use super::jitter::jittered;
use super::{lock, read, AsyncScheduler, Inner};
use crate::error::{ErrorKind, Result};
use crate::event::{Event, EventMask};
use crate::executor::{panic_message, Executor, Outcome};
use crate::job::Job;
use crate::store::{
    HandOff, HandOffKey, JobRelease, JobStore, Release, Released, RunOutcome, RunRecord,
};
use crate::task::{TaskContext, TaskFn};

tokio::task_local! {
    static IN_JOB_RUN: ();
}

/// Whether the current task is a job run of some scheduler.
pub(crate) fn in_job_run() -> bool {
    IN_JOB_RUN.try_with(|_| ()).is_ok()
}

/// What one look at a store found.
pub(crate) struct StoreTick {
    /// The store's earliest next run time after the look.
    pub next_run_time: Option<DateTime<Utc>>,
    /// A full batch was acquired: more may be due right now.
    pub more_due: bool,
}

/// A due job, planned and waiting for its release.
pub(crate) struct Prepared {
    job: Job,
    runnable: Runnable,
    plan: super::fire_plan::FirePlan,
    release: Release,
    /// The trigger fire time the release moves the job past.
    fire_time: DateTime<Utc>,
    /// The journal entry recorded with the release (journal stores only).
    hand_off: Option<HandOffKey>,
    /// When the run may start: the job's due instant, if that is still
    /// ahead (the job was dispatched ahead of it).
    start_at: Option<DateTime<Utc>>,
}

/// A job that passed the checks and can run here.
pub(crate) struct Runnable {
    pub task: TaskFn,
    pub executor: Arc<dyn Executor>,
}

impl Inner {
    /// Acquires and dispatches due jobs of one store.
    pub(crate) async fn process_store(
        self: &Arc<Self>,
        alias: &str,
        store: &dyn JobStore,
        now: DateTime<Utc>,
    ) -> Result<StoreTick> {
        let batch = self.config.batch_size;
        // Jobs due within `dispatch_ahead` are taken now; their runs wait
        // for their instant (see `submit`).
        let horizon = TimeDelta::from_std(self.config.dispatch_ahead)
            .ok()
            .and_then(|ahead| now.checked_add_signed(ahead))
            .unwrap_or(now);
        let acquired = store
            .acquire_due_jobs(&self.owner, horizon, batch, self.config.lease_duration)
            .await
            .map_err(|e| e.with_store(alias))?;
        let more_due = acquired.jobs.len() + acquired.unreadable.len() >= batch;
        for record in &acquired.unreadable {
            self.report_unusable(alias, &record.job_id, &record.reason);
        }
        // Plan every job of the batch, release them all in one store call,
        // then start the runs. One job's failure (a busy store on its
        // release) does not hold back the rest; the first error is reported
        // after.
        let journal = store.capabilities().journal;
        let deadline = self.lease_deadline(now);
        let mut prepared: Vec<Prepared> = Vec::with_capacity(acquired.jobs.len());
        let mut releases: Vec<JobRelease> = Vec::with_capacity(acquired.jobs.len());
        for job in acquired.jobs {
            let Some(mut planned) = self.prepare_due_job(alias, job, now) else {
                continue;
            };
            let mut entry = JobRelease::new(planned.job.id.clone(), planned.release);
            let plan = &planned.plan;
            if journal && (!plan.runs.is_empty() || !plan.missed.is_empty()) {
                let hand_off = HandOff::new(
                    planned.job.id.clone(),
                    planned.fire_time,
                    self.owner.clone(),
                    plan.runs.iter().flatten().copied().collect(),
                    plan.missed.clone(),
                    deadline,
                );
                planned.hand_off = Some(hand_off.key());
                entry = entry.with_hand_off(hand_off);
            }
            releases.push(entry);
            prepared.push(planned);
        }
        let results = if releases.is_empty() {
            Vec::new()
        } else {
            store.release_jobs(&self.owner, &releases).await
        };
        if journal {
            let applied = prepared
                .iter()
                .zip(&results)
                .filter(|(_, result)| result.is_ok())
                .filter_map(|(p, _)| p.hand_off.clone());
            self.journal.started(alias, applied);
        }
        let mut first_error = None;
        // One shared copy of the alias for every run of the batch.
        let shared_alias = ArcStr::from(alias);
        for (prepared, result) in prepared.into_iter().zip(results) {
            if let Err(error) = self.start_due_job(&shared_alias, prepared, result) {
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        let next_run_time = store
            .earliest_next_run_time()
            .await
            .map_err(|e| e.with_store(alias))?;
        Ok(StoreTick {
            next_run_time,
            more_due,
        })
    }

    /// Points a new job's task, default name and executor at the
    /// scheduler's own copies of those names (`task` is the registered
    /// task's), so a million jobs of one task hold one copy, not a million.
    pub(crate) fn share_names(&self, job: &mut Job, task: ArcStr) {
        if job.name == job.task {
            job.name = task.clone();
        }
        job.task = task;
        if let Some((alias, _)) = read(&self.executors).get_key_value(job.executor.as_str()) {
            job.executor = alias.clone();
        }
    }

    /// Looks up what a job needs to run here; reports it when something is missing.
    pub(crate) fn runnable(&self, alias: &str, job: &Job) -> Option<Runnable> {
        let Some(task) = self.tasks.get(&job.task) else {
            let reason = format!("task '{}' is not registered with this scheduler", job.task);
            self.report_unusable(alias, &job.id, &reason);
            return None;
        };
        let executor = read(&self.executors).get(job.executor.as_str()).cloned();
        let Some(executor) = executor else {
            let reason = format!("executor '{}' is not configured", job.executor);
            self.report_unusable(alias, &job.id, &reason);
            return None;
        };
        Some(Runnable { task, executor })
    }

    /// Plans a due job: what runs, what is missed, how its lease ends.
    /// `None` when the job cannot be run here (reported, left leased).
    fn prepare_due_job(
        self: &Arc<Self>,
        alias: &str,
        job: Job,
        now: DateTime<Utc>,
    ) -> Option<Prepared> {
        let cached = self.trigger_cache.get(alias, &job.id, &job.trigger);
        let from_cache = cached.is_some();
        let trigger = match cached.map_or_else(|| self.triggers.decode(&job.trigger), Ok) {
            Ok(trigger) => trigger,
            Err(e) => {
                self.report_unusable(alias, &job.id, e.message());
                return None;
            }
        };
        // Left leased when unusable: looked at again when the lease expires,
        // and free for another scheduler that can run it.
        let runnable = self.runnable(alias, &job)?;
        self.clear_unusable(alias, &job.id);
        let first = job.scheduled_fire_time().unwrap_or(now);
        // Lateness of the first fire counts from when it was due (its
        // jittered time), so jitter never makes a run "late".
        let first_due = job.next_run_time.unwrap_or(first).max(first);
        let plan = plan_fires(
            trigger.as_ref(),
            first,
            first_due,
            now,
            job.misfire_grace_time,
            job.coalesce,
        );
        let release = match plan.next {
            Some(fire) => Release::Reschedule {
                next_run_time: jittered(trigger.as_ref(), fire),
                trigger_time: fire,
            },
            None => Release::Remove,
        };
        if !from_cache && plan.next.is_some() {
            // Only a trigger that fires again is worth keeping.
            self.trigger_cache
                .insert(alias, &job.id, &job.trigger, &trigger);
        }
        Some(Prepared {
            job,
            runnable,
            plan,
            release,
            fire_time: first,
            hand_off: None,
            start_at: (first_due > now).then_some(first_due),
        })
    }

    /// Reports and starts a planned job once its release is known.
    fn start_due_job(
        self: &Arc<Self>,
        alias: &ArcStr,
        prepared: Prepared,
        released: Result<Released>,
    ) -> Result<()> {
        let Prepared {
            job,
            runnable,
            plan,
            release,
            hand_off,
            start_at,
            ..
        } = prepared;
        let released = match released {
            Ok(released) => released,
            Err(e) if matches!(e.kind(), ErrorKind::LeaseLost | ErrorKind::NotFound) => {
                tracing::debug!(job_id = %job.id, store = %alias, error = %e, "job changed hands before release; not running it");
                return Ok(());
            }
            Err(e) => return Err(e.with_store(alias).with_job(&job.id)),
        };
        let missed = !plan.missed.is_empty() || plan.more_missed;
        if missed {
            self.announce_missed(alias, &job.id, &plan.missed, plan.more_missed);
        }
        // The history writes of a miss (and the journal removal of a
        // hand-off with no runs) happen off the dispatch path: after a
        // downtime they must not hold up the other due jobs.
        let finish_now = if plan.runs.is_empty() {
            hand_off.clone()
        } else {
            None
        };
        if missed || finish_now.is_some() {
            self.report_not_run(
                alias,
                &job.id,
                plan.missed.clone(),
                RunOutcome::Missed,
                finish_now,
            );
        }
        if !plan.runs.is_empty() {
            self.submit(alias, &job, runnable, plan.runs, hand_off, start_at);
        }
        if release == Release::Remove {
            self.trigger_cache.forget(alias, &job.id);
        }
        if release == Release::Remove
            && released == Released::Applied
            && self.events.wants(EventMask::JOB_REMOVED)
        {
            self.events.emit(Event::JobRemoved {
                job_id: job.id.to_string(),
                store: alias.to_string(),
            });
        }
        Ok(())
    }

    /// Submits runs (executed one after the other, as one instance) unless
    /// the job already has `max_instances` runs going. `hand_off` is the
    /// journal entry to remove once the runs end; with `start_at` the runs
    /// wait for that instant (a job dispatched ahead of its fire time).
    pub(crate) fn submit(
        self: &Arc<Self>,
        alias: &ArcStr,
        job: &Job,
        runnable: Runnable,
        runs: Vec<Vec<DateTime<Utc>>>,
        hand_off: Option<HandOffKey>,
        start_at: Option<DateTime<Utc>>,
    ) {
        let wait = start_at
            .and_then(|at| (at - self.clock.now()).to_std().ok())
            .filter(|wait| !wait.is_zero());
        // A run dispatched ahead takes its instance slot at its instant, as
        // if it had been dispatched then: the job's previous run may well
        // end before.
        let mut slot = None;
        if wait.is_none() {
            slot = self.start_instance(alias, &job.id, job.max_instances, &runs, &hand_off);
            if slot.is_none() {
                return;
            }
            self.announce_submitted(alias, &job.id, &runs);
        }
        let inner = Arc::clone(self);
        let alias = alias.clone();
        let job_id = job.id.clone();
        let args = job.args.clone();
        let max_instances = job.max_instances;
        let launched_later = wait.is_some();
        // A run dispatched ahead is spawned now and waits on its instant's
        // gate (one timer for every run waiting: see `launcher`).
        let gate = match start_at {
            Some(at) if launched_later => Some(self.gate_at(at)),
            _ => None,
        };
        let run_all = async move {
            if let Some(gate) = gate {
                gate.cancelled().await;
            }
            if launched_later {
                slot = inner.start_instance(&alias, &job_id, max_instances, &runs, &hand_off);
                if slot.is_none() {
                    return;
                }
                inner.announce_submitted(&alias, &job_id, &runs);
            }
            let last = runs.len().saturating_sub(1);
            for (index, times) in runs.into_iter().enumerate() {
                let context = TaskContext::new(
                    job_id.clone(),
                    alias.clone(),
                    times,
                    args.clone(),
                    AsyncScheduler {
                        inner: Arc::clone(&inner),
                    },
                );
                let scheduled = context.scheduled_run_time;
                let started_at = inner.clock.now();
                // An executor is user code too: one that panics instead of
                // reporting an outcome fails this run like a panicking task.
                let run =
                    AssertUnwindSafe(runnable.executor.execute(runnable.task.clone(), context))
                        .catch_unwind();
                let outcome = tokio::select! {
                    // Cancellation first: a run queued behind one that was
                    // cancelled at shutdown does not start at all.
                    biased;
                    _ = inner.cancel_runs.cancelled() => {
                        Outcome::failure(RunOutcome::Cancelled, "cancelled at scheduler shutdown")
                    }
                    outcome = run => outcome.unwrap_or_else(|payload| {
                        Outcome::failure(RunOutcome::Panic, panic_message(&*payload))
                    }),
                };
                // The bookkeeping below (history, events, journal) goes
                // behind the runs queued on this worker: of a burst due at
                // one instant, the last run starts sooner by what the
                // others' bookkeeping costs (best effort: another worker
                // may still take it earlier).
                tokio::task::yield_now().await;
                if index == last {
                    // Free the slot before reporting, so whoever reacts to
                    // the outcome event may start the job again at once.
                    slot.take();
                }
                inner
                    .finish_run(&alias, &job_id, scheduled, started_at, outcome)
                    .await;
            }
            if let Some(key) = hand_off {
                inner.finish_hand_off(&alias, key).await;
            }
        };
        self.runs.spawn(IN_JOB_RUN.scope((), run_all));
    }

    /// Takes an instance slot for the job's runs (freed when dropped); when
    /// `max_instances` runs are already going, reports the runs skipped
    /// instead (and finishes their hand-off) and returns `None`.
    fn start_instance(
        self: &Arc<Self>,
        alias: &ArcStr,
        job_id: &ArcStr,
        max_instances: u32,
        runs: &[Vec<DateTime<Utc>>],
        hand_off: &Option<HandOffKey>,
    ) -> Option<InstanceSlot> {
        if let Some(slot) = self.instances.try_acquire(alias, job_id, max_instances) {
            return Some(slot);
        }
        let times: Vec<DateTime<Utc>> = runs.iter().flatten().copied().collect();
        tracing::warn!(job_id = %job_id, store = %alias, max_instances, "run skipped: maximum instances already running");
        self.events.emit(Event::JobMaxInstancesReached {
            job_id: job_id.to_string(),
            store: alias.to_string(),
            scheduled_run_times: times.clone(),
        });
        self.report_not_run(alias, job_id, times, RunOutcome::Skipped, hand_off.clone());
        None
    }

    /// `JobSubmitted` for each run, when someone listens.
    fn announce_submitted(&self, alias: &str, job_id: &str, runs: &[Vec<DateTime<Utc>>]) {
        if self.events.wants(EventMask::JOB_SUBMITTED) {
            for times in runs {
                self.events.emit(Event::JobSubmitted {
                    job_id: job_id.to_owned(),
                    store: alias.to_owned(),
                    scheduled_run_times: times.clone(),
                });
            }
        }
    }

    /// Writes the history records of fires that did not run (`outcome`:
    /// missed or skipped), then removes their journal entry `finish` —
    /// in a task of its own, off the dispatch path.
    fn report_not_run(
        self: &Arc<Self>,
        alias: &ArcStr,
        job_id: &ArcStr,
        times: Vec<DateTime<Utc>>,
        outcome: RunOutcome,
        finish: Option<HandOffKey>,
    ) {
        let inner = Arc::clone(self);
        let (alias, job_id) = (alias.clone(), job_id.clone());
        self.runs.spawn(async move {
            if let Some(store) = inner.store_by_alias(&alias) {
                inner
                    .record_not_run(&alias, store.as_ref(), &job_id, &times, outcome)
                    .await;
            }
            if let Some(key) = finish {
                inner.finish_hand_off(&alias, key).await;
            }
        });
    }

    async fn finish_run(
        &self,
        alias: &str,
        job_id: &ArcStr,
        scheduled_run_time: DateTime<Utc>,
        started_at: DateTime<Utc>,
        outcome: Outcome,
    ) {
        let finished_at = self.clock.now();
        let duration = (finished_at - started_at).to_std().unwrap_or_default();
        match outcome.kind {
            RunOutcome::Success => {
                tracing::debug!(job_id = %job_id, store = alias, ?duration, "job ran");
                // Nobody listening: skip building the event.
                if self.events.wants(EventMask::JOB_EXECUTED) {
                    self.events.emit(Event::JobExecuted {
                        job_id: job_id.to_string(),
                        store: alias.to_string(),
                        scheduled_run_time,
                        started_at,
                        duration,
                    });
                }
            }
            kind => {
                let error = outcome.message.clone().unwrap_or_default();
                tracing::warn!(job_id = %job_id, store = alias, outcome = ?kind, %error, "job failed");
                self.events.emit(Event::JobError {
                    job_id: job_id.to_string(),
                    store: alias.to_string(),
                    scheduled_run_time,
                    started_at,
                    duration,
                    outcome: kind,
                    error,
                });
            }
        }
        if let Some(store) = self.store_by_alias(alias) {
            if store.capabilities().history {
                let record = RunRecord::new(
                    job_id.clone(),
                    scheduled_run_time,
                    started_at,
                    finished_at,
                    outcome.kind,
                    outcome.message,
                );
                if let Err(error) = store.record_run(record).await {
                    tracing::warn!(job_id = %job_id, store = alias, %error, "could not record run history");
                }
            }
        }
    }

    /// Reports a job this scheduler cannot run, once until it becomes usable.
    pub(crate) fn report_unusable(&self, alias: &str, job_id: &str, reason: &str) {
        let first = lock(&self.reported_unusable).insert((alias.to_owned(), job_id.to_owned()));
        if first {
            tracing::error!(
                job_id,
                store = alias,
                reason,
                "job cannot be run by this scheduler; it is kept in its store"
            );
            self.events.emit(Event::JobUnusable {
                job_id: job_id.to_owned(),
                store: alias.to_string(),
                reason: reason.to_owned(),
            });
        }
    }

    fn clear_unusable(&self, alias: &str, job_id: &str) {
        let mut reported = lock(&self.reported_unusable);
        if !reported.is_empty() {
            reported.remove(&(alias.to_owned(), job_id.to_owned()));
        }
    }
}
