//! W2 burst: many one-shot jobs due at the same instant on the memory store
//! and the default executor — add rate, how many ran, and how late.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chime::chrono::{TimeDelta, Utc};
use chime::job::NewJob;
use chime::store::MemoryStore;
use chime::trigger::DateTrigger;
use chime::{AsyncScheduler, TaskContext};
use serde_json::json;

use crate::common::{emit, ms, round3, summary, Checks};

/// W2 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One-shot jobs, all due at the same instant T.
    #[arg(long, default_value_t = 10_000)]
    pub jobs: usize,
    /// T is this many seconds after the start.
    #[arg(long, default_value_t = 3.0)]
    pub delay: f64,
    /// Give up waiting this many seconds after T.
    #[arg(long, default_value_t = 20.0)]
    pub timeout: f64,
}

fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Runs W2; returns whether every check held.
pub async fn run(args: Args) -> Result<bool, String> {
    let started: Arc<Vec<AtomicI64>> =
        Arc::new((0..args.jobs).map(|_| AtomicI64::new(0)).collect());
    let record = Arc::clone(&started);
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("noop", move |_ctx: TaskContext, i: usize| {
            let at = now_ns();
            if let Some(slot) = record.get(i) {
                slot.store(at, Ordering::Relaxed);
            }
            async {}
        })
        .build()
        .map_err(|e| e.to_string())?;
    scheduler.start().await.map_err(|e| e.to_string())?;

    let t = Utc::now() + TimeDelta::milliseconds((args.delay * 1000.0) as i64);
    // The jobs that run are added in one `add_jobs` call (building the
    // `NewJob`s included in the time).
    let begin = Instant::now();
    let jobs: Vec<NewJob> = (0..args.jobs)
        .map(|i| NewJob::new("noop", DateTrigger::new(t)).args(i))
        .collect();
    scheduler.add_jobs(jobs).await.map_err(|e| e.to_string())?;
    let batch = begin.elapsed();
    let added_before_t = Utc::now() < t;

    let deadline = t + TimeDelta::milliseconds((args.timeout * 1000.0) as i64);
    loop {
        let ran = started
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) != 0)
            .count();
        if ran == args.jobs || Utc::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;

    let t_ns = t.timestamp_nanos_opt().unwrap_or(0);
    let mut lateness_ms: Vec<f64> = started
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .filter(|&s| s != 0)
        .map(|s| (s - t_ns) as f64 / 1e6)
        .collect();
    let ran = lateness_ms.len();
    let early = lateness_ms.iter().filter(|&&l| l < 0.0).count();
    let last_start_ms = lateness_ms.iter().copied().fold(f64::MIN, f64::max);

    // The one-at-a-time path: the same jobs through `add_job` in a loop, on
    // a second scheduler of the same build that is not started (its jobs
    // are due in an hour and never run).
    let looped = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("noop", |_ctx: TaskContext, _i: usize| async {})
        .build()
        .map_err(|e| e.to_string())?;
    let due = Utc::now() + TimeDelta::hours(1);
    let begin = Instant::now();
    for i in 0..args.jobs {
        looped
            .add_job(NewJob::new("noop", DateTrigger::new(due)).args(i))
            .await
            .map_err(|e| e.to_string())?;
    }
    let add = begin.elapsed();

    let checks: Checks = vec![
        ("all jobs ran".into(), ran == args.jobs),
        ("no job started before T".into(), early == 0),
        ("jobs were added before T".into(), added_before_t),
    ];
    let per_s = |d: Duration| round3(args.jobs as f64 / d.as_secs_f64().max(1e-9));
    let results = json!({
        "add_ms": ms(add),
        "add_jobs_per_s": per_s(add),
        "add_batch_ms": ms(batch),
        "add_batch_jobs_per_s": per_s(batch),
        "ran": ran,
        "t_to_last_start_ms": if ran > 0 { round3(last_start_ms) } else { -1.0 },
        "lateness_ms": summary(&mut lateness_ms),
    });
    let parameters = json!({
        "jobs": args.jobs, "delay_s": args.delay, "store": "memory", "executor": "default (TokioExecutor)",
        "add": "batch (the jobs that run): AsyncScheduler::add_jobs, one call; loop: AsyncScheduler::add_job per job on a second, unstarted scheduler",
    });
    Ok(emit("w2", parameters, results, &checks))
}
