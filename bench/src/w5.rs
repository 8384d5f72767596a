//! W5 stores: batch add rate, acquiring 1,000 due jobs among 100,000 in the
//! scheduler's batch size, and a scheduler start-up on the full store
//! (measured in a fresh child process: time and RSS).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chime::chrono::{DateTime, TimeDelta, Utc};
use chime::job::{Job, JobDefaults, NewJob};
use chime::store::{
    AcquiredJobs, HandOff, HandOffKey, JobEdit, JobList, JobRelease, JobStore, Release, Released,
    RunRecord, StoreCapabilities,
};
use chime::trigger::IntervalTrigger;
use chime::{AsyncScheduler, SchedulerConfig, TaskContext};
use rand::Rng;
use serde_json::{json, Value};

use crate::common::{emit, median, ms, round3, rss, Checks};
use crate::stores::{spec_for, Location, StoreSpec};

/// W5 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jobs added to each store.
    #[arg(long, default_value_t = 100_000)]
    pub jobs: usize,
    /// How many of them are due for the acquisition test.
    #[arg(long, default_value_t = 1_000)]
    pub due: usize,
    /// Jobs per `add_jobs` call.
    #[arg(long, default_value_t = 10_000)]
    pub chunk: usize,
    /// Acquire-all-due rounds (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Stores to measure (comma-separated: sqlite, redis, mongo).
    #[arg(long, default_value = "sqlite,redis,mongo")]
    pub stores: String,
    /// Redis URL (default: $CHIME_TEST_REDIS_URL; skipped when neither is set).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// MongoDB URL (default: $CHIME_TEST_MONGO_URL).
    #[arg(long)]
    pub mongo_url: Option<String>,
}

const OWNER: &str = "chime-bench";

fn job(i: usize, next: DateTime<Utc>, now: DateTime<Utc>) -> Result<Job, String> {
    let trigger = IntervalTrigger::seconds(3600)
        .map_err(|e| e.to_string())?
        .starting_at(next);
    NewJob::new("noop", trigger)
        .id(format!("job-{i:07}"))
        .args(i)
        .into_job(now, &JobDefaults::default(), chrono_tz::UTC)
        .map_err(|e| e.to_string())
}

async fn bench_store(spec: &StoreSpec, args: &Args, checks: &mut Checks) -> Result<Value, String> {
    let kind = spec.kind();
    let store = spec.open().await?;
    store.remove_all_jobs().await.map_err(|e| e.to_string())?;
    let base = DateTime::from_timestamp(Utc::now().timestamp(), 0).ok_or("time out of range")?;
    let due_at = base + TimeDelta::hours(1);
    let stride = (args.jobs / args.due.max(1)).max(1);
    let mut rng = rand::rng();
    let mut due_count = 0;
    let mut chunks: Vec<Vec<Job>> = Vec::new();
    let mut current = Vec::with_capacity(args.chunk);
    for i in 0..args.jobs {
        let next = if i % stride == 0 && due_count < args.due {
            due_count += 1;
            due_at
        } else {
            base + TimeDelta::hours(2) + TimeDelta::seconds(rng.random_range(0..86_400))
        };
        current.push(job(i, next, base)?);
        if current.len() == args.chunk.max(1) {
            chunks.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }

    let begin = Instant::now();
    for chunk in chunks {
        store
            .add_jobs(chunk, false)
            .await
            .map_err(|e| e.to_string())?;
    }
    let add = begin.elapsed();

    // Acquire every due job in batches of the scheduler's default size,
    // then release them back to the same due time; repeat.
    let batch = SchedulerConfig::default().batch_size;
    let lease = SchedulerConfig::default().lease_duration;
    let now = due_at + TimeDelta::minutes(1);
    let (mut acquire_ms, mut release_ms, mut first_batch_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut all_acquired = true;
    for _ in 0..args.rounds.max(1) {
        let mut acquired = Vec::with_capacity(due_count);
        let begin = Instant::now();
        loop {
            let got = store
                .acquire_due_jobs(OWNER, now, batch, lease)
                .await
                .map_err(|e| e.to_string())?;
            if acquired.is_empty() {
                first_batch_ms.push(ms(begin.elapsed()));
            }
            let n = got.jobs.len();
            acquired.extend(got.jobs);
            if n < batch || acquired.len() >= due_count {
                break;
            }
        }
        acquire_ms.push(ms(begin.elapsed()));
        all_acquired &= acquired.len() == due_count;
        // Released as the scheduler does it: one `release_jobs` call per
        // acquired batch.
        let begin = Instant::now();
        for chunk in acquired.chunks(batch) {
            let releases: Vec<JobRelease> = chunk
                .iter()
                .map(|job| {
                    JobRelease::new(
                        job.id.clone(),
                        Release::Reschedule {
                            next_run_time: due_at,
                            trigger_time: due_at,
                        },
                    )
                })
                .collect();
            for result in store.release_jobs(OWNER, &releases).await {
                result.map_err(|e| e.to_string())?;
            }
        }
        release_ms.push(ms(begin.elapsed()));
    }
    checks.push((
        format!("{kind}: acquired all {due_count} due jobs"),
        all_acquired,
    ));

    // A scheduler start-up on the full store, in a fresh process.
    let startup = startup_in_child(spec).await;
    if let Err(e) = &startup {
        eprintln!("w5 {kind}: start-up probe: {e}");
    }
    checks.push((format!("{kind}: start-up probe ran"), startup.is_ok()));
    spec.cleanup(Some(&store)).await;

    Ok(json!({
        "store": kind,
        "jobs": args.jobs,
        "add_ms": ms(add),
        "add_jobs_per_s": round3(args.jobs as f64 / add.as_secs_f64().max(1e-9)),
        "due": due_count,
        "batch_size": batch,
        "acquire_all_due_ms": round3(median(&mut acquire_ms)),
        "acquire_all_due_ms_rounds": acquire_ms,
        "acquire_first_batch_ms": round3(median(&mut first_batch_ms)),
        "release_all_due_ms": round3(median(&mut release_ms)),
        "startup": startup.unwrap_or_else(|e| json!({"error": e})),
    }))
}

async fn startup_in_child(spec: &StoreSpec) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new(exe)
        .arg("startup-probe")
        .args(spec.to_args())
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).map_err(|e| format!("bad probe output {text:?}: {e}"))
}

/// Runs W5; returns whether every check held.
pub async fn run(args: Args) -> Result<bool, String> {
    let mut checks = Checks::new();
    let mut results = Vec::new();
    for name in args
        .stores
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let spec = match spec_for(name, "w5", args.redis_url.clone(), args.mongo_url.clone())? {
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
        "jobs": args.jobs, "due": args.due, "chunk": args.chunk, "rounds": args.rounds,
        "stores": args.stores,
        "add": "JobStore::add_jobs per chunk",
        "acquire": "acquire_due_jobs(limit = SchedulerConfig::default().batch_size) until all due are claimed; then release_jobs per acquired batch (reschedule)",
    });
    Ok(emit("w5", parameters, json!({"stores": results}), &checks))
}

/// Options of the hidden start-up probe.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The store.
    #[command(flatten)]
    pub location: Location,
}

/// Delegates to a store and notes when the scheduler first asks it for due
/// jobs and for its earliest next run time.
#[derive(Debug)]
struct Probe {
    inner: Arc<dyn JobStore>,
    first_acquire: OnceLock<Instant>,
    first_earliest: OnceLock<Instant>,
}

#[async_trait]
impl JobStore for Probe {
    fn capabilities(&self) -> StoreCapabilities {
        self.inner.capabilities()
    }
    async fn add_job(&self, job: Job, replace: bool) -> chime::Result<()> {
        self.inner.add_job(job, replace).await
    }
    async fn add_jobs(&self, jobs: Vec<Job>, replace: bool) -> chime::Result<()> {
        self.inner.add_jobs(jobs, replace).await
    }
    async fn get_job(&self, id: &str) -> chime::Result<Option<Job>> {
        self.inner.get_job(id).await
    }
    async fn list_jobs(&self) -> chime::Result<JobList> {
        self.inner.list_jobs().await
    }
    async fn update_job(&self, job: Job) -> chime::Result<()> {
        self.inner.update_job(job).await
    }
    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> chime::Result<Job> {
        self.inner.modify_job(id, edit).await
    }
    async fn remove_job(&self, id: &str) -> chime::Result<()> {
        self.inner.remove_job(id).await
    }
    async fn remove_all_jobs(&self) -> chime::Result<()> {
        self.inner.remove_all_jobs().await
    }
    async fn earliest_next_run_time(&self) -> chime::Result<Option<DateTime<Utc>>> {
        let r = self.inner.earliest_next_run_time().await;
        let _ = self.first_earliest.set(Instant::now());
        r
    }
    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> chime::Result<AcquiredJobs> {
        let r = self.inner.acquire_due_jobs(owner, now, limit, lease).await;
        let _ = self.first_acquire.set(Instant::now());
        r
    }
    async fn release_job(
        &self,
        owner: &str,
        id: &str,
        release: Release,
    ) -> chime::Result<Released> {
        self.inner.release_job(owner, id, release).await
    }
    async fn release_jobs(
        &self,
        owner: &str,
        releases: &[JobRelease],
    ) -> Vec<chime::Result<Released>> {
        self.inner.release_jobs(owner, releases).await
    }
    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> chime::Result<()> {
        self.inner.finish_hand_offs(keys).await
    }
    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> chime::Result<()> {
        self.inner.renew_hand_offs(owner, keys, deadline).await
    }
    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> chime::Result<Vec<HandOff>> {
        self.inner
            .claim_stale_hand_offs(owner, now, limit, lease)
            .await
    }
    fn change_feed(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.inner.change_feed()
    }
    async fn record_run(&self, record: RunRecord) -> chime::Result<()> {
        self.inner.record_run(record).await
    }
    async fn run_history(&self, id: &str, limit: usize) -> chime::Result<Vec<RunRecord>> {
        self.inner.run_history(id, limit).await
    }
}

/// The hidden start-up probe: opens the store, starts a scheduler on it and
/// prints (one JSON object) how long until its first acquisition and first
/// earliest-next-run-time query, the RSS then, and a full `list_jobs`.
pub async fn probe(args: ProbeArgs) -> Result<bool, String> {
    let spec = StoreSpec::from_args(&args.location)?;
    let rss0 = rss();
    let begin = Instant::now();
    let inner = spec.open().await?;
    let opened = begin.elapsed();
    let probe = Arc::new(Probe {
        inner: Arc::clone(&inner),
        first_acquire: OnceLock::new(),
        first_earliest: OnceLock::new(),
    });
    let scheduler = AsyncScheduler::builder()
        .store_arc("default", probe.clone())
        .task_async("noop", |_ctx: TaskContext, _: usize| async {})
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    scheduler.start().await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while probe.first_earliest.get().is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let since = |t: Option<&Instant>| t.map_or(-1.0, |t| ms(t.saturating_duration_since(started)));
    let first_acquire_ms = since(probe.first_acquire.get());
    let first_earliest_ms = since(probe.first_earliest.get());
    let rss_started = rss();
    let begin = Instant::now();
    let listed = inner.list_jobs().await.map_err(|e| e.to_string())?;
    let list = begin.elapsed();
    let rss_listed = rss();
    scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        json!({
            "open_ms": ms(opened),
            "start_to_first_acquire_ms": first_acquire_ms,
            "start_to_first_earliest_ms": first_earliest_ms,
            "open_to_first_earliest_ms": round3(ms(opened) + first_earliest_ms),
            "rss_at_exec_kb": rss0.now_kb,
            "rss_started_kb": rss_started.now_kb,
            "list_jobs_ms": ms(list),
            "listed": listed.jobs.len(),
            "rss_after_list_kb": rss_listed.now_kb,
            "rss_peak_kb": rss_listed.peak_kb,
        })
    );
    Ok(true)
}
