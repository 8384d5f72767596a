//! W3 steady: interval jobs every second for a window — fires, lateness and
//! the process's CPU time over the window.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chime::chrono::{DateTime, TimeDelta, Utc};
use chime::job::NewJob;
use chime::store::MemoryStore;
use chime::trigger::IntervalTrigger;
use chime::{AsyncScheduler, TaskContext};
use serde_json::json;

use crate::common::{cpu_time, emit, ms, round3, sleep_until, summary, Checks};

/// W3 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Interval jobs, each firing every second.
    #[arg(long, default_value_t = 1_000)]
    pub jobs: usize,
    /// Seconds of firing (fires per job).
    #[arg(long, default_value_t = 20)]
    pub seconds: i64,
}

/// One run: job index, scheduled time (ns), start (ns).
type Run = (usize, i64, i64);

/// Runs W3; returns whether every check held.
pub async fn run(args: Args) -> Result<bool, String> {
    let runs: Arc<Mutex<Vec<Run>>> = Arc::new(Mutex::new(Vec::with_capacity(
        args.jobs * args.seconds.max(0) as usize * 2,
    )));
    let record = Arc::clone(&runs);
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("tick", move |ctx: TaskContext, i: usize| {
            let at = Utc::now().timestamp_nanos_opt().unwrap_or(0);
            if let Ok(mut runs) = record.lock() {
                for t in &ctx.scheduled_run_times {
                    runs.push((i, t.timestamp_nanos_opt().unwrap_or(0), at));
                }
            }
            async {}
        })
        .build()
        .map_err(|e| e.to_string())?;
    scheduler.start().await.map_err(|e| e.to_string())?;

    // First fire on a whole second, at least 2 s from now.
    let now = Utc::now();
    let t0 = DateTime::from_timestamp(now.timestamp() + 3, 0).ok_or("time out of range")?;
    let last = t0 + TimeDelta::seconds(args.seconds - 1);
    for i in 0..args.jobs {
        let trigger = IntervalTrigger::new(Duration::from_secs(1))
            .map_err(|e| e.to_string())?
            .starting_at(t0)
            .ending_at(last);
        scheduler
            .add_job(NewJob::new("tick", trigger).args(i))
            .await
            .map_err(|e| e.to_string())?;
    }
    if Utc::now() >= t0 {
        return Err("adding the jobs took longer than the lead time".into());
    }
    // The CPU window: `seconds` long, centred on the fire instants.
    let window_start = t0 - TimeDelta::milliseconds(500);
    let window_end = window_start + TimeDelta::seconds(args.seconds);
    sleep_until(window_start).await;
    let cpu0 = cpu_time();
    let wall0 = std::time::Instant::now();
    sleep_until(window_end).await;
    let cpu = cpu_time().saturating_sub(cpu0);
    let wall = wall0.elapsed();
    // Stragglers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;

    let runs = runs.lock().map_err(|_| "run log poisoned")?.clone();
    let expected = args.jobs * args.seconds.max(0) as usize;
    let mut seen = std::collections::HashSet::new();
    let mut duplicates = 0;
    let mut lateness_ms = Vec::with_capacity(runs.len());
    // Per instant: the first start (how late the burst began) and the last.
    let mut bursts: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for &(i, sched, start) in &runs {
        if !seen.insert((i, sched)) {
            duplicates += 1;
        }
        lateness_ms.push((start - sched) as f64 / 1e6);
        let burst = bursts.entry(sched).or_insert((start, start));
        burst.0 = burst.0.min(start);
        burst.1 = burst.1.max(start);
    }
    let mut first_ms: Vec<f64> = bursts.iter().map(|(s, b)| (b.0 - s) as f64 / 1e6).collect();
    let mut spread_ms: Vec<f64> = bursts.values().map(|b| (b.1 - b.0) as f64 / 1e6).collect();
    let fired = seen.len();
    let cpu_pct = cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9) * 100.0;
    let checks: Checks = vec![
        ("every fire ran".into(), fired == expected),
        ("no fire ran twice".into(), duplicates == 0),
    ];
    let results = json!({
        "expected_fires": expected,
        "fires": fired,
        "duplicates": duplicates,
        "lateness_ms": summary(&mut lateness_ms),
        "first_start_per_instant_ms": summary(&mut first_ms),
        "first_to_last_start_per_instant_ms": summary(&mut spread_ms),
        "cpu_ms": ms(cpu),
        "window_ms": ms(wall),
        "cpu_pct_of_one_core": round3(cpu_pct),
    });
    let parameters = json!({
        "jobs": args.jobs, "interval_s": 1, "seconds": args.seconds,
        "store": "memory", "executor": "default (TokioExecutor)",
    });
    Ok(emit("w3", parameters, results, &checks))
}
