//! What a server outage must leave behind, checked the same way for every
//! networked store (`redis_store.rs`, `mongo_store.rs`).

use chime::chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// A run: job id, the fire times it stands for, when it started.
pub type RunSeen = (String, Vec<DateTime<Utc>>, DateTime<Utc>);

/// Checks the runs of an outage test: `memory_job` (on a memory store
/// beside the failing one) fired every second of the outage from `down_at`
/// to `up_at`; `job` (on the failing store, every second from `start`) ran
/// every fire exactly once up to its last run, but for at most the one in
/// flight at the kill, with the outage's fires coalesced into one run.
pub fn check_outage_runs(
    seen: &[RunSeen],
    server: &str,
    memory_job: &str,
    job: &str,
    start: DateTime<Utc>,
    down_at: DateTime<Utc>,
    up_at: DateTime<Utc>,
) {
    // The memory store never stopped: a run for every second of the outage.
    let memory: Vec<DateTime<Utc>> = seen
        .iter()
        .filter(|r| r.0 == memory_job)
        .flat_map(|r| r.1.clone())
        .collect();
    let mut t = down_at.duration_trunc(TimeDelta::seconds(1)).unwrap() + TimeDelta::seconds(1);
    while t < up_at {
        assert!(
            memory.contains(&t),
            "the memory store missed {t} during the {server} outage ({down_at} to {up_at}); its runs: {:?}",
            seen.iter().filter(|r| r.0 == memory_job).map(|r| (&r.1, r.2)).collect::<Vec<_>>()
        );
        t += TimeDelta::seconds(1);
    }
    // The failing store: every fire from the start to the last one ran
    // exactly once, the outage's fires coalesced into one run after it.
    let mut times: Vec<DateTime<Utc>> = seen
        .iter()
        .filter(|r| r.0 == job)
        .flat_map(|r| r.1.clone())
        .collect();
    let total = times.len();
    times.sort();
    times.dedup();
    assert_eq!(times.len(), total, "no fire ran twice");
    let last = *times.last().unwrap();
    let grid: Vec<DateTime<Utc>> = (0..)
        .map(|k| start + TimeDelta::seconds(k))
        .take_while(|t| *t <= last)
        .collect();
    // At most the fire in flight at the kill may be lost (runs are released
    // before they execute).
    let lost: Vec<_> = grid.iter().filter(|t| !times.contains(t)).collect();
    assert!(lost.len() <= 1, "fires lost: {lost:?}");
    let coalesced = seen.iter().filter(|r| r.0 == job && r.1.len() >= 3).count();
    assert_eq!(
        coalesced, 1,
        "one run after the outage stands for its fires"
    );
}

/// One outage test's scheduler: a memory store and the store under test
/// side by side, a job firing every second in each (`in-memory` and
/// `in-<alias>`), every run recorded.
pub struct OutageRun {
    scheduler: chime::AsyncScheduler,
    seen: std::sync::Arc<std::sync::Mutex<Vec<RunSeen>>>,
    events: tokio::sync::broadcast::Receiver<chime::Event>,
    alias: String,
    job: String,
    start: DateTime<Utc>,
}

impl OutageRun {
    /// Starts the scheduler and waits for two runs on the store under test.
    pub async fn start(alias: &str, store: impl chime::store::JobStore) -> OutageRun {
        use chime::trigger::IntervalTrigger;
        use chime::{AsyncScheduler, NewJob, TaskContext};
        let seen: std::sync::Arc<std::sync::Mutex<Vec<RunSeen>>> = Default::default();
        let s = std::sync::Arc::clone(&seen);
        let scheduler = AsyncScheduler::builder()
            .store("default", chime::store::MemoryStore::new())
            .store(alias, store)
            .task_async("record", move |ctx: TaskContext, _: ()| {
                let s = std::sync::Arc::clone(&s);
                async move {
                    s.lock().unwrap().push((
                        ctx.job_id.to_string(),
                        ctx.scheduled_run_times.clone(),
                        Utc::now(),
                    ))
                }
            })
            .build()
            .unwrap();
        let events = scheduler.subscribe();
        let start = (Utc::now() + TimeDelta::seconds(1))
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap();
        let every_second = || IntervalTrigger::seconds(1).unwrap().starting_at(start);
        let job = format!("in-{alias}");
        scheduler
            .add_job(NewJob::new("record", every_second()).id("in-memory"))
            .await
            .unwrap();
        scheduler
            .add_job(NewJob::new("record", every_second()).id(&job).store(alias))
            .await
            .unwrap();
        scheduler.start().await.unwrap();
        let mut run = OutageRun {
            scheduler,
            seen,
            events,
            alias: alias.to_owned(),
            job,
            start,
        };
        while run.runs() < 2 {
            run.next_event(10, "runs before the outage").await;
        }
        run
    }

    /// Runs of the job on the store under test so far.
    fn runs(&self) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|r| r.0 == self.job).count()
    }

    async fn next_event(&mut self, secs: u64, what: &str) -> chime::Event {
        let wait = std::time::Duration::from_secs(secs);
        tokio::time::timeout(wait, self.events.recv())
            .await
            .expect(what)
            .unwrap()
    }

    /// Waits until the scheduler reports the store under test failing.
    pub async fn wait_for_store_error(&mut self) {
        loop {
            if let chime::Event::StoreError { store, error, .. } =
                self.next_event(15, "a store error").await
            {
                if store == self.alias {
                    eprintln!("store error during the outage: {error}");
                    return;
                }
            }
        }
    }

    /// Waits for a run on the store under test after the outage, shuts the
    /// scheduler down and checks every run (see [`check_outage_runs`]).
    pub async fn finish(mut self, server: &str, down_at: DateTime<Utc>, up_at: DateTime<Utc>) {
        let before = self.runs();
        while self.runs() <= before {
            self.next_event(30, "runs after the outage").await;
        }
        // The scheduler's loop may have been held up by a call to the
        // unreachable server: wait until the memory job has caught up to
        // the end of the outage before shutting down.
        let caught_up = |seen: &[RunSeen]| {
            seen.iter()
                .any(|r| r.0 == "in-memory" && r.1.iter().any(|t| *t >= up_at))
        };
        while !caught_up(&self.seen.lock().unwrap()) {
            self.next_event(10, "the memory job after the outage").await;
        }
        self.scheduler.shutdown().await.unwrap();
        let seen = self.seen.lock().unwrap().clone();
        check_outage_runs(
            &seen,
            server,
            "in-memory",
            &self.job,
            self.start,
            down_at,
            up_at,
        );
    }
}
