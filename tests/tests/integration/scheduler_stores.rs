//! Several stores: one failing store is retried with backoff while the
//! others keep running, and nothing in it is lost.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chime::chrono::{DateTime, Utc};
use chime::job::Job;
use chime::store::{
    AcquiredJobs, JobEdit, JobList, JobStore, MemoryStore, Release, Released, StoreCapabilities,
};
use chime::trigger::IntervalTrigger;
use chime::{Error, ErrorKind, Event, NewJob, Result};

use crate::harness::{at, builder_with};

/// A memory store that can be switched off, like a server going away.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
    acquisitions: AtomicUsize,
}

impl FlakyStore {
    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            Err(Error::new(
                ErrorKind::StoreUnavailable,
                "connection refused",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl JobStore for FlakyStore {
    fn capabilities(&self) -> StoreCapabilities {
        self.inner.capabilities()
    }
    async fn add_job(&self, job: Job, replace: bool) -> Result<()> {
        self.check()?;
        self.inner.add_job(job, replace).await
    }
    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        self.check()?;
        self.inner.get_job(id).await
    }
    async fn list_jobs(&self) -> Result<JobList> {
        self.check()?;
        self.inner.list_jobs().await
    }
    async fn update_job(&self, job: Job) -> Result<()> {
        self.check()?;
        self.inner.update_job(job).await
    }
    async fn remove_job(&self, id: &str) -> Result<()> {
        self.check()?;
        self.inner.remove_job(id).await
    }
    async fn remove_all_jobs(&self) -> Result<()> {
        self.check()?;
        self.inner.remove_all_jobs().await
    }
    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.check()?;
        self.inner.earliest_next_run_time().await
    }
    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        self.acquisitions.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.inner.acquire_due_jobs(owner, now, limit, lease).await
    }
    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        self.check()?;
        self.inner.modify_job(id, edit).await
    }
    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        self.check()?;
        self.inner.release_job(owner, id, release).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_store_is_retried_while_the_others_keep_running() {
    let flaky = Arc::new(FlakyStore::default());
    let mut h = builder_with(|b| b.store_arc("flaky", flaky.clone()));
    let every_10s = || IntervalTrigger::seconds(10).unwrap().starting_at(at(10));
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("steady"))
        .await
        .unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", every_10s())
                .id("fragile")
                .store("flaky"),
        )
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    h.run_until(at(15)).await;
    flaky.down.store(true, Ordering::SeqCst);

    let mut delays = Vec::new();
    while delays.len() < 3 {
        if let Event::StoreError {
            store,
            retry_in,
            error,
        } = h.wait_for(|e| matches!(e, Event::StoreError { .. })).await
        {
            assert_eq!(store, "flaky");
            assert!(error.contains("connection refused"), "{error}");
            delays.push(retry_in);
        }
    }
    assert!(
        delays.windows(2).all(|w| w[1] > w[0]),
        "backoff grows: {delays:?}"
    );

    h.run_until(at(42)).await;
    assert_eq!(
        h.fires("steady"),
        vec![at(10), at(20), at(30), at(40)],
        "the healthy store never stopped"
    );
    assert_eq!(h.fires("fragile"), vec![at(10)]);

    flaky.down.store(false, Ordering::SeqCst);
    h.wait_for(|e| matches!(e, Event::JobExecuted { job_id, .. } if job_id == "fragile"))
        .await;
    let run = h
        .seen()
        .into_iter()
        .filter(|s| s.job_id == "fragile")
        .nth(1)
        .unwrap();
    // One coalesced run (default grace 60 s) stands for every fire of the
    // outage up to when the store came back: nothing lost, nothing doubled.
    let expected: Vec<_> = (2..)
        .map(|k| at(10 * k))
        .take_while(|t| *t <= run.started)
        .collect();
    assert_eq!(run.times, expected);
    assert!(
        run.started <= at(42 + 60),
        "retried within the maximum backoff"
    );
    assert!(h.scheduler.get_job("fragile").await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_store_is_not_polled() {
    let store = Arc::new(FlakyStore::default());
    let h = builder_with(|b| {
        b.store_arc("watched", store.clone())
            .max_sleep(Duration::from_secs(60))
    });
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(3600).unwrap())
                .id("hourly")
                .store("watched"),
        )
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    // Ten idle minutes: the loop sleeps toward the job (capped at 60 s), so
    // it looks about ten times, not once per second or millisecond.
    h.run_until(at(600) + chime::chrono::TimeDelta::milliseconds(500))
        .await;
    let looks = store.acquisitions.load(Ordering::SeqCst);
    assert!(
        (10..=12).contains(&looks),
        "{looks} acquisitions in 10 idle minutes"
    );
    // The job still fires on time after the idle stretch.
    h.run_until(at(3601)).await;
    assert_eq!(h.fires("hourly"), vec![at(3600)]);
}

#[tokio::test(start_paused = true)]
async fn waiting_to_retry_a_failing_store_does_not_poll_the_others() {
    let healthy = Arc::new(FlakyStore::default());
    let failing = Arc::new(FlakyStore::default());
    failing.down.store(true, Ordering::SeqCst);
    let h = builder_with(|b| {
        b.store_arc("healthy", healthy.clone())
            .store_arc("failing", failing.clone())
            .max_sleep(Duration::from_secs(60))
    });
    h.scheduler.start().await.unwrap();
    // Two minutes of retries (backoff 1, 2, 4 … 60 s): each retry is one
    // look at every store, not a look every millisecond before it.
    h.run_until(at(120)).await;
    let retries = failing.acquisitions.load(Ordering::SeqCst);
    let looks = healthy.acquisitions.load(Ordering::SeqCst);
    assert!((5..=9).contains(&retries), "{retries} retries in 2 minutes");
    assert!(
        looks <= retries + 4,
        "{looks} looks at the healthy store for {retries} retries of the failing one"
    );
}
