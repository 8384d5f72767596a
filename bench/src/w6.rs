//! W6 shared store: several scheduler processes (this binary re-executed
//! as hidden `w6-worker`s) on one store; every fire must run exactly once.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chime::chrono::{DateTime, TimeDelta, Utc};
use chime::job::{JobDefaults, NewJob};
use chime::trigger::IntervalTrigger;
use chime::{AsyncScheduler, TaskContext};
use serde_json::{json, Value};

use crate::common::{emit, round3, run_tag, summary, Checks};
use crate::stores::{spec_for, Location, StoreSpec};

/// W6 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Interval jobs, each firing every second.
    #[arg(long, default_value_t = 1_000)]
    pub jobs: usize,
    /// Seconds of firing (fires per job).
    #[arg(long, default_value_t = 30)]
    pub seconds: i64,
    /// Scheduler processes sharing the store.
    #[arg(long, default_value_t = 3)]
    pub workers: usize,
    /// Seconds between adding the jobs and the first fire (worker start-up).
    #[arg(long, default_value_t = 4)]
    pub lead: i64,
    /// Stores to measure (comma-separated: sqlite, redis, mongo).
    #[arg(long, default_value = "sqlite,redis,mongo")]
    pub stores: String,
    /// Redis URL (default: $CHIME_TEST_REDIS_URL; skipped when neither is set).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// MongoDB URL (default: $CHIME_TEST_MONGO_URL; skipped when neither is set).
    #[arg(long)]
    pub mongo_url: Option<String>,
}

async fn bench_store(spec: &StoreSpec, args: &Args, checks: &mut Checks) -> Result<Value, String> {
    let kind = spec.kind();
    let store = spec.open().await?;
    store.remove_all_jobs().await.map_err(|e| e.to_string())?;
    let now = Utc::now();
    let t0 =
        DateTime::from_timestamp(now.timestamp() + 1 + args.lead, 0).ok_or("time out of range")?;
    let last = t0 + TimeDelta::seconds(args.seconds - 1);
    let mut jobs = Vec::with_capacity(args.jobs);
    for i in 0..args.jobs {
        let trigger = IntervalTrigger::new(Duration::from_secs(1))
            .map_err(|e| e.to_string())?
            .starting_at(t0)
            .ending_at(last);
        jobs.push(
            NewJob::new("append", trigger)
                .id(format!("job-{i:05}"))
                .args(i)
                .into_job(now, &JobDefaults::default(), chrono_tz::UTC)
                .map_err(|e| e.to_string())?,
        );
    }
    store
        .add_jobs(jobs, false)
        .await
        .map_err(|e| e.to_string())?;
    if Utc::now() >= t0 {
        return Err("adding the jobs took longer than the lead time".into());
    }

    let dir = std::env::temp_dir().join(format!("chime-bench-w6-{}", run_tag()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let until = last + TimeDelta::milliseconds(2500);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut children = Vec::new();
    for k in 0..args.workers {
        let child = tokio::process::Command::new(&exe)
            .arg("w6-worker")
            .args(spec.to_args())
            .arg("--log")
            .arg(dir.join(format!("worker-{k}.log")))
            .arg("--until-ms")
            .arg(until.timestamp_millis().to_string())
            .spawn()
            .map_err(|e| e.to_string())?;
        children.push(child);
    }
    let mut worker_failures = 0;
    for mut child in children {
        match child.wait().await {
            Ok(status) if status.success() => {}
            _ => worker_failures += 1,
        }
    }

    // (job, scheduled ms) -> times run; per-worker run counts; lateness.
    let mut seen: HashMap<(usize, i64), u32> = HashMap::new();
    let mut per_worker = Vec::new();
    let mut lateness_ms = Vec::new();
    for k in 0..args.workers {
        let path = dir.join(format!("worker-{k}.log"));
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = 0;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let mut parts = line.split_whitespace().map(str::parse::<i64>);
            let (Some(Ok(job)), Some(Ok(sched)), Some(Ok(start))) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("{}: bad line {line:?}", path.display()));
            };
            *seen.entry((job as usize, sched)).or_default() += 1;
            lateness_ms.push((start - sched) as f64);
            lines += 1;
        }
        per_worker.push(lines);
    }
    let _ = std::fs::remove_dir_all(&dir);
    spec.cleanup(Some(&store)).await;

    let t0_ms = t0.timestamp_millis();
    let expected = args.jobs * args.seconds.max(0) as usize;
    let mut misses = 0;
    for job in 0..args.jobs {
        for k in 0..args.seconds.max(0) {
            if !seen.contains_key(&(job, t0_ms + k * 1000)) {
                misses += 1;
            }
        }
    }
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    let unexpected = seen
        .keys()
        .filter(|(job, sched)| {
            *job >= args.jobs
                || *sched < t0_ms
                || *sched > last.timestamp_millis()
                || (sched - t0_ms) % 1000 != 0
        })
        .count();
    let distinct = seen.len();
    checks.push((format!("{kind}: no duplicates"), duplicates == 0));
    checks.push((format!("{kind}: no misses"), misses == 0));
    checks.push((
        format!("{kind}: workers exited cleanly"),
        worker_failures == 0,
    ));
    Ok(json!({
        "store": kind,
        "expected_fires": expected,
        "fires": distinct,
        "fires_per_s": round3(distinct as f64 / args.seconds.max(1) as f64),
        "duplicates": duplicates,
        "misses": misses,
        "unexpected": unexpected,
        "runs_per_worker": per_worker,
        "worker_failures": worker_failures,
        "lateness_ms": summary(&mut lateness_ms),
    }))
}

/// Runs W6; returns whether every check held.
pub async fn run(args: Args) -> Result<bool, String> {
    let mut checks = Checks::new();
    let mut results = Vec::new();
    for name in args
        .stores
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let spec = match spec_for(name, "w6", args.redis_url.clone(), args.mongo_url.clone())? {
            Ok(spec) => spec,
            Err(why) => {
                results.push(json!({"store": name, "skipped": why}));
                continue;
            }
        };
        match bench_store(&spec, &args, &mut checks).await {
            Ok(r) => results.push(r),
            Err(e) => {
                spec.cleanup(None).await;
                return Err(format!("{name}: {e}"));
            }
        }
    }
    let parameters = json!({
        "jobs": args.jobs, "interval_s": 1, "seconds": args.seconds, "workers": args.workers,
        "stores": args.stores, "scheduler_config": "default",
    });
    Ok(emit("w6", parameters, json!({"stores": results}), &checks))
}

/// Options of the hidden W6 worker process.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The store.
    #[command(flatten)]
    pub location: Location,
    /// This worker's log: one `job scheduled_ms started_ms` line per fire.
    #[arg(long)]
    pub log: PathBuf,
    /// Stop at this Unix time (ms).
    #[arg(long)]
    pub until_ms: i64,
}

/// The hidden W6 worker: a default-configured scheduler on the shared
/// store until `--until-ms`, logging every fire it runs.
pub async fn worker(args: WorkerArgs) -> Result<bool, String> {
    // The scheduler's warnings (a failing store, a store call retried) on
    // stderr, so a stall in a run shows its cause; RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let spec = StoreSpec::from_args(&args.location)?;
    let store = spec.open().await?;
    let file =
        std::fs::File::create(&args.log).map_err(|e| format!("{}: {e}", args.log.display()))?;
    let log = Arc::new(Mutex::new(BufWriter::new(file)));
    let writer = Arc::clone(&log);
    let scheduler = AsyncScheduler::builder()
        .store_arc("default", store)
        .task_async("append", move |ctx: TaskContext, job: usize| {
            let started = Utc::now().timestamp_millis();
            if let Ok(mut log) = writer.lock() {
                for t in &ctx.scheduled_run_times {
                    let _ = writeln!(log, "{job} {} {started}", t.timestamp_millis());
                }
            }
            async {}
        })
        .build()
        .map_err(|e| e.to_string())?;
    scheduler.start().await.map_err(|e| e.to_string())?;
    let until = DateTime::from_timestamp_millis(args.until_ms).ok_or("--until-ms out of range")?;
    crate::common::sleep_until(until).await;
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let mut log = log.lock().map_err(|_| "log lock poisoned")?;
    log.flush().map_err(|e| e.to_string())?;
    Ok(true)
}
