//! A small scheduler process for the multi-process tests: runs an
//! `AsyncScheduler` on a store (an SQLite file, Redis or MongoDB) for a while, with a task `append` that
//! records each run as one line in its own log file:
//! `job_id pid started_ms t1,t2,…` (the scheduled times the run stands for,
//! in Unix milliseconds).
//!
//! Usage: `chime-test-node (--db PATH | --store URL [--prefix P] [--database D])
//!         --log-dir DIR --run-for SECS [--lease SECS] [--die-after-acquire]
//!         [--work-ms MS]`
//! (`--store` takes `sqlite://path`, `redis://host:port` with a key prefix,
//! or `mongodb://…` / `mongodb+srv://…` with a database).
//!
//! With `--work-ms` each run goes on that long after logging its start (a
//! job that takes time, so a kill can land in the middle of runs).
//!
//! With `--die-after-acquire` the process aborts right after its first
//! acquisition that returned jobs, still holding their leases.
//!
//! Fires reported instead of run go to `node-PID.reports`, one line each:
//! `missed|interrupted|skipped job_id t1,t2,…` (Unix ms), written when the
//! event is emitted.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chime::chrono::{DateTime, Utc};
use chime::job::Job;
use chime::store::mongo::MongoConfig;
use chime::store::redis::RedisConfig;
use chime::store::{
    AcquiredJobs, HandOff, HandOffKey, JobEdit, JobList, JobRelease, JobStore, MongoStore,
    RedisStore, Release, Released, RunRecord, SqliteStore, StoreCapabilities,
};
use chime::{AsyncScheduler, Event, EventMask, Result, SchedulerConfig, TaskContext};

struct Options {
    store: String,
    prefix: String,
    database: String,
    log_dir: PathBuf,
    run_for: Duration,
    lease: Option<Duration>,
    die_after_acquire: bool,
    /// How long each run goes on after logging its start.
    work: Duration,
}

fn parse() -> std::result::Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut store, mut log_dir, mut run_for, mut lease, mut die) = (None, None, None, None, false);
    let mut prefix = "chime".to_owned();
    let mut database = "chime".to_owned();
    let mut work = Duration::ZERO;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--db" => store = Some(format!("sqlite://{}", value()?)),
            "--store" => store = Some(value()?),
            "--prefix" => prefix = value()?,
            "--database" => database = value()?,
            "--log-dir" => log_dir = Some(PathBuf::from(value()?)),
            "--run-for" => {
                run_for = Some(Duration::from_secs_f64(
                    value()?.parse().map_err(|e| format!("--run-for: {e}"))?,
                ))
            }
            "--lease" => {
                lease = Some(Duration::from_secs_f64(
                    value()?.parse().map_err(|e| format!("--lease: {e}"))?,
                ))
            }
            "--die-after-acquire" => die = true,
            "--work-ms" => {
                work =
                    Duration::from_millis(value()?.parse().map_err(|e| format!("--work-ms: {e}"))?)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        store: store.ok_or("--db or --store is required")?,
        prefix,
        database,
        log_dir: log_dir.ok_or("--log-dir is required")?,
        run_for: run_for.ok_or("--run-for is required")?,
        lease,
        die_after_acquire: die,
        work,
    })
}

/// Delegates to the real store, but aborts the process right after
/// acquiring jobs: a scheduler dying while it holds leases.
#[derive(Debug)]
struct DieAfterAcquire(Arc<dyn JobStore>);

#[async_trait]
impl JobStore for DieAfterAcquire {
    fn capabilities(&self) -> StoreCapabilities {
        self.0.capabilities()
    }
    async fn add_job(&self, job: Job, replace: bool) -> Result<()> {
        self.0.add_job(job, replace).await
    }
    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        self.0.get_job(id).await
    }
    async fn list_jobs(&self) -> Result<JobList> {
        self.0.list_jobs().await
    }
    async fn update_job(&self, job: Job) -> Result<()> {
        self.0.update_job(job).await
    }
    async fn remove_job(&self, id: &str) -> Result<()> {
        self.0.remove_job(id).await
    }
    async fn remove_all_jobs(&self) -> Result<()> {
        self.0.remove_all_jobs().await
    }
    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.0.earliest_next_run_time().await
    }
    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        let acquired = self.0.acquire_due_jobs(owner, now, limit, lease).await?;
        if !acquired.jobs.is_empty() {
            std::process::abort();
        }
        Ok(acquired)
    }
    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        self.0.modify_job(id, edit).await
    }
    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        self.0.release_job(owner, id, release).await
    }
    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        self.0.release_jobs(owner, releases).await
    }
    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> Result<()> {
        self.0.finish_hand_offs(keys).await
    }
    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        self.0.renew_hand_offs(owner, keys, deadline).await
    }
    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HandOff>> {
        self.0.claim_stale_hand_offs(owner, now, limit, lease).await
    }
    async fn record_run(&self, record: RunRecord) -> Result<()> {
        self.0.record_run(record).await
    }
    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        self.0.run_history(id, limit).await
    }
    fn change_feed(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.0.change_feed()
    }
}

async fn run(options: Options) -> Result<()> {
    let real: Arc<dyn JobStore> = if options.store.starts_with("mongodb") {
        Arc::new(
            MongoStore::connect(MongoConfig::new(&options.store).database(&options.database))
                .await?,
        )
    } else if options.store.starts_with("redis") {
        Arc::new(
            RedisStore::connect(RedisConfig::new(&options.store).prefix(&options.prefix)).await?,
        )
    } else {
        Arc::new(SqliteStore::from_url(&options.store)?)
    };
    let store: Arc<dyn JobStore> = if options.die_after_acquire {
        Arc::new(DieAfterAcquire(real))
    } else {
        real
    };
    let pid = std::process::id();
    let path = options.log_dir.join(format!("node-{pid}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| chime::Error::invalid(format!("cannot open {}: {e}", path.display())))?;
    let log = Arc::new(Mutex::new(log));
    let mut config = SchedulerConfig::default();
    config.poll_interval = Duration::from_millis(200);
    if let Some(lease) = options.lease {
        config.lease_duration = lease;
    }
    let work = options.work;
    let scheduler = AsyncScheduler::builder()
        .config(config)
        .store_arc("default", store)
        .task_blocking("append", move |ctx: TaskContext, _: serde_json::Value| {
            let times: Vec<String> = ctx
                .scheduled_run_times
                .iter()
                .map(|t| t.timestamp_millis().to_string())
                .collect();
            let line = format!(
                "{} {pid} {} {}\n",
                ctx.job_id,
                Utc::now().timestamp_millis(),
                times.join(",")
            );
            {
                let mut file = log.lock().map_err(|_| "log lock poisoned".to_owned())?;
                file.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
            }
            std::thread::sleep(work);
            Ok::<(), String>(())
        })
        .build()?;
    let reports_path = options.log_dir.join(format!("node-{pid}.reports"));
    let reports = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&reports_path)
        .map_err(|e| {
            chime::Error::invalid(format!("cannot open {}: {e}", reports_path.display()))
        })?;
    let reports = Mutex::new(reports);
    scheduler.add_listener(
        EventMask::JOB_MISSED | EventMask::JOB_INTERRUPTED | EventMask::JOB_MAX_INSTANCES,
        move |event| {
            let (kind, job_id, times) = match event {
                Event::JobMissed {
                    job_id,
                    scheduled_run_times,
                    ..
                } => ("missed", job_id, scheduled_run_times),
                Event::JobInterrupted {
                    job_id,
                    scheduled_run_times,
                    ..
                } => ("interrupted", job_id, scheduled_run_times),
                Event::JobMaxInstancesReached {
                    job_id,
                    scheduled_run_times,
                    ..
                } => ("skipped", job_id, scheduled_run_times),
                _ => return,
            };
            let times: Vec<String> = times
                .iter()
                .map(|t| t.timestamp_millis().to_string())
                .collect();
            let line = format!("{kind} {job_id} {}\n", times.join(","));
            if let Ok(mut file) = reports.lock() {
                let _ = file.write_all(line.as_bytes());
            }
        },
    );
    scheduler.start().await?;
    tokio::time::sleep(options.run_for).await;
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("chime-test-node: {e}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chime-test-node: {e}");
            ExitCode::FAILURE
        }
    }
}
