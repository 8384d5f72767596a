//! W4 idle scale: a million daily cron jobs on the memory store — add rate,
//! resident memory per job, and CPU while nothing is due.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chime::chrono::{Timelike, Utc};
use chime::job::NewJob;
use chime::store::MemoryStore;
use chime::trigger::CronTrigger;
use chime::{AsyncScheduler, TaskContext};
use rand::Rng;
use serde_json::json;

use crate::common::{cpu_time, emit, ms, reset_peak_rss, round3, rss, Checks};

/// W4 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Daily cron jobs at random times of day.
    #[arg(long, default_value_t = 1_000_000)]
    pub jobs: usize,
    /// Seconds of the idle window measured after adding.
    #[arg(long, default_value_t = 10.0)]
    pub idle_seconds: f64,
    /// Jobs per `AsyncScheduler::add_jobs` call; 0 adds them one at a time
    /// with `add_job`.
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
}

/// Runs W4; returns whether every check held.
pub async fn run(args: Args) -> Result<bool, String> {
    let fires = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&fires);
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("noop", move |_ctx: TaskContext, _: ()| {
            counter.fetch_add(1, Ordering::Relaxed);
            async {}
        })
        .build()
        .map_err(|e| e.to_string())?;
    scheduler.start().await.map_err(|e| e.to_string())?;

    // Random minute of the day, avoiding the hour from now so the idle window
    // is idle (1,000,000 jobs over 1,440 minutes is ~700 per minute).
    let now = Utc::now();
    let now_minute = now.hour() * 60 + now.minute();
    let mut rng = rand::rng();
    let before = rss();
    let peak_reset = reset_peak_rss();
    let begin = Instant::now();
    let mut pending = Vec::with_capacity(args.batch);
    for added in 1..=args.jobs {
        let minute_of_day = (now_minute + 60 + rng.random_range(0..1380)) % 1440;
        let expr = format!("{} {} * * *", minute_of_day % 60, minute_of_day / 60);
        let trigger = CronTrigger::crontab(&expr).map_err(|e| e.to_string())?;
        let job = NewJob::new("noop", trigger);
        if args.batch == 0 {
            scheduler.add_job(job).await.map_err(|e| e.to_string())?;
            continue;
        }
        pending.push(job);
        if pending.len() == args.batch || added == args.jobs {
            let batch = std::mem::replace(&mut pending, Vec::with_capacity(args.batch));
            scheduler.add_jobs(batch).await.map_err(|e| e.to_string())?;
        }
    }
    let add = begin.elapsed();
    let after = rss();
    let peak_base = if peak_reset {
        before.now_kb
    } else {
        before.peak_kb
    };

    // Let allocator and runtime settle, then measure the idle window.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fires0 = fires.load(Ordering::Relaxed);
    let cpu0 = cpu_time();
    let wall0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.idle_seconds)).await;
    let cpu = cpu_time().saturating_sub(cpu0);
    let wall = wall0.elapsed();
    let idle_fires = fires.load(Ordering::Relaxed) - fires0;
    let rss_idle = rss();
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;

    let jobs = args.jobs.max(1) as f64;
    let per_job = |kb: u64, base: u64| round3(kb.saturating_sub(base) as f64 * 1024.0 / jobs);
    let checks: Checks = vec![("no fires in the idle window".into(), idle_fires == 0)];
    let results = json!({
        "add_ms": ms(add),
        "add_jobs_per_s": round3(args.jobs as f64 / add.as_secs_f64().max(1e-9)),
        "rss_before_kb": before.now_kb,
        "rss_after_add_kb": after.now_kb,
        "rss_peak_kb": after.peak_kb,
        "peak_reset": peak_reset,
        "peak_rss_bytes_per_job": per_job(after.peak_kb, peak_base),
        "rss_bytes_per_job": per_job(after.now_kb, before.now_kb),
        "rss_after_idle_kb": rss_idle.now_kb,
        "idle_window_ms": ms(wall),
        "idle_cpu_ms": ms(cpu),
        "idle_cpu_pct_of_one_core": round3(cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9) * 100.0),
        "idle_fires": idle_fires,
    });
    let parameters = json!({
        "jobs": args.jobs, "idle_seconds": args.idle_seconds, "store": "memory",
        "trigger": "crontab 'M H * * *', a random minute of the day outside the next hour",
        "add": if args.batch == 0 {
            "AsyncScheduler::add_job in a loop (scheduler running)".to_owned()
        } else {
            format!("AsyncScheduler::add_jobs, {} jobs per call (scheduler running); each job's crontab parsed in the timed loop", args.batch)
        },
    });
    Ok(emit("w4", parameters, results, &checks))
}
