//! Shared set-up: a scheduler on a test clock with recording tasks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chime::chrono::{DateTime, TimeDelta, Utc};
use chime::clock::TestClock;
use chime::store::MemoryStore;
use chime::{AsyncScheduler, Event, SchedulerBuilder, TaskContext};
use tokio::sync::broadcast;

/// The instant every test clock starts at.
pub fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// `t0 + secs`.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

/// One observed run.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub job_id: String,
    pub scheduled: DateTime<Utc>,
    pub times: Vec<DateTime<Utc>>,
    pub started: DateTime<Utc>,
}

pub struct Harness {
    pub scheduler: AsyncScheduler,
    pub clock: Arc<TestClock>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub events: broadcast::Receiver<Event>,
}

impl Harness {
    /// Runs recorded so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Scheduled times recorded so far for one job.
    pub fn fires(&self, job_id: &str) -> Vec<DateTime<Utc>> {
        self.seen()
            .into_iter()
            .filter(|s| s.job_id == job_id)
            .map(|s| s.scheduled)
            .collect()
    }

    /// Waits (in virtual time, at most 1 hour) for the first event matching `pred`.
    pub async fn wait_for(&mut self, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = Duration::from_secs(3600);
        tokio::time::timeout(deadline, async {
            loop {
                match self.events.recv().await {
                    Ok(event) if pred(&event) => return event,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("event stream ended: {e}"),
                }
            }
        })
        .await
        .expect("the awaited event did not come within an hour of virtual time")
    }

    /// Lets virtual time pass until `t`.
    pub async fn run_until(&self, t: DateTime<Utc>) {
        let left = (t - self.clock_now()).to_std().unwrap_or_default();
        tokio::time::sleep(left).await;
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use chime::clock::Clock;
        self.clock.now()
    }
}

fn record(seen: &Arc<Mutex<Vec<Seen>>>, ctx: &TaskContext) {
    seen.lock().unwrap().push(Seen {
        job_id: ctx.job_id.to_string(),
        scheduled: ctx.scheduled_run_time,
        times: ctx.scheduled_run_times.clone(),
        started: ctx.scheduler.now(),
    });
}

/// A scheduler (not started) on a memory store and a test clock at [`t0`],
/// with tasks `record` (records the run), `sleep` (sleeps `args` seconds,
/// then records), `panic`, `fail` and `blocking_record`.
pub fn builder_with(configure: impl FnOnce(SchedulerBuilder) -> SchedulerBuilder) -> Harness {
    let clock = Arc::new(TestClock::new(t0()));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let s1 = Arc::clone(&seen);
    let s2 = Arc::clone(&seen);
    let s3 = Arc::clone(&seen);
    let builder = AsyncScheduler::builder()
        .clock(clock.clone())
        .store("default", MemoryStore::new())
        .task_async("record", move |ctx: TaskContext, _: serde_json::Value| {
            let seen = Arc::clone(&s1);
            async move { record(&seen, &ctx) }
        })
        .task_async("sleep", move |ctx: TaskContext, secs: u64| {
            let seen = Arc::clone(&s2);
            async move {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                record(&seen, &ctx);
            }
        })
        .task_async("panic", |_ctx: TaskContext, _: ()| async move {
            if true {
                panic!("task blew up");
            }
        })
        .task_async("fail", |_ctx: TaskContext, _: ()| async move {
            Err::<(), _>("disk full")
        })
        .task_blocking("blocking_record", move |ctx: TaskContext, _: ()| {
            record(&s3, &ctx);
        });
    let scheduler = configure(builder).build().expect("scheduler builds");
    let events = scheduler.subscribe();
    Harness {
        scheduler,
        clock,
        seen,
        events,
    }
}

/// [`builder_with`] with no extra configuration.
pub fn harness() -> Harness {
    builder_with(|b| b)
}
