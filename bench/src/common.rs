//! What every workload shares: the JSON line, versions, process CPU time,
//! RSS, percentiles and small helpers.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// The workspace root (the bench crate's parent directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Versions of what is measured: the chime workspace version and commit, the
/// compiler and the build profile.
pub fn versions() -> Value {
    let git = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace_root())
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    json!({
        "chime": env!("CARGO_PKG_VERSION"),
        "git": git,
        "rustc": env!("CHIME_BENCH_RUSTC"),
        "profile": env!("CHIME_BENCH_PROFILE"),
    })
}

/// The machine: CPU count and model, memory.
pub fn host() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| status_field(&m, "MemTotal:"));
    json!({"nproc": nproc, "cpu": model, "mem_total_kb": mem_kb})
}

/// A correctness check result: its name and whether it held.
pub type Checks = Vec<(String, bool)>;

/// Prints the workload's one JSON line and returns whether every check held.
pub fn emit(workload: &str, parameters: Value, results: Value, checks: &Checks) -> bool {
    let ok = checks.iter().all(|(_, held)| *held);
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, held)| !*held)
        .map(|(name, _)| name.as_str())
        .collect();
    let mut line = Map::new();
    line.insert("workload".into(), json!(workload));
    line.insert("parameters".into(), parameters);
    line.insert("versions".into(), versions());
    line.insert("host".into(), host());
    line.insert("results".into(), results);
    line.insert("ok".into(), json!(ok));
    line.insert("failed_checks".into(), json!(failed));
    println!("{}", Value::Object(line));
    ok
}

/// User + system CPU time of the whole process so far (getrusage).
pub fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full `rusage` into the pointer we pass,
    // which points to writable, properly aligned memory of that type.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage returned 0, so it initialised the struct (and it
    // was zeroed before).
    let usage = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn status_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l[name.len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Current and peak resident set size of this process, in kB
/// (`VmRSS`, `VmHWM` from /proc/self/status).
#[derive(Debug, Clone, Copy)]
pub struct Rss {
    /// Resident now (kB).
    pub now_kb: u64,
    /// Peak since start or the last [`reset_peak_rss`] (kB).
    pub peak_kb: u64,
}

/// Reads [`Rss`] (zeros where /proc is not available).
pub fn rss() -> Rss {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Rss {
        now_kb: status_field(&status, "VmRSS:").unwrap_or(0),
        peak_kb: status_field(&status, "VmHWM:").unwrap_or(0),
    }
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux: writes 5 to
/// /proc/self/clear_refs). Returns whether that worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Summary of a sample: nearest-rank p50/p99 and max, in the sample's unit.
pub fn summary(samples: &mut [f64]) -> Value {
    if samples.is_empty() {
        return json!({"n": 0});
    }
    samples.sort_by(f64::total_cmp);
    json!({
        "n": samples.len(),
        "min": round3(samples[0]),
        "p50": round3(percentile(samples, 50.0)),
        "p99": round3(percentile(samples, 99.0)),
        "max": round3(samples[samples.len() - 1]),
    })
}

/// Nearest-rank percentile of a sorted, non-empty sample.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median of a sample (sorts it); 0 for an empty one.
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// Rounds to three decimals (for readable JSON).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Milliseconds of a duration, as a float.
pub fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// Sleeps (async) until the wall-clock instant `at`.
pub async fn sleep_until(at: chrono::DateTime<chrono::Utc>) {
    let wait = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::sleep(wait).await;
}

/// The Redis URL from the option or `CHIME_TEST_REDIS_URL`.
pub fn redis_url(option: Option<String>) -> Option<String> {
    option
        .or_else(|| std::env::var("CHIME_TEST_REDIS_URL").ok())
        .filter(|s| !s.is_empty())
}

/// A unique key prefix / file name part for this run.
pub fn run_tag() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    )
}

/// The id of the floors' job `i` (`w5-mongo-floor`, `w5-redis-floor`).
pub fn floor_id(i: usize) -> String {
    format!("job-{i:07}")
}

/// The floors' record text of job `i`: ~350 bytes, shaped like a W5 job's.
pub fn floor_record(i: usize) -> String {
    format!(
        r#"{{"args":{i},"coalesce":true,"executor":"default","id":"{}","max_instances":1,"misfire_grace_time":"1m","name":"noop","next_run_time":"2026-12-04T18:00:00Z","priority":0,"task":"noop","trigger":{{"every":"1h","kind":"interval","start_date":"2026-12-04T18:00:00Z"}},"trigger_time":"2026-12-04T18:00:00Z","version":1}}"#,
        floor_id(i)
    )
}

/// The sizes of a W5 floor (`w5-mongo-floor`, `w5-redis-floor`).
#[derive(Debug, clap::Args)]
pub struct FloorSize {
    /// Jobs in the store.
    #[arg(long, default_value_t = 100_000)]
    pub jobs: usize,
    /// Due jobs claimed per round.
    #[arg(long, default_value_t = 1_000)]
    pub claimed: usize,
    /// Jobs per command or script call (the scheduler's default batch size).
    #[arg(long, default_value_t = chime::SchedulerConfig::default().batch_size)]
    pub batch: usize,
    /// Rounds (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}
