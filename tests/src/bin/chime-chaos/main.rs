//! The chaos suite: three scheduler processes (`chime-test-node`) share one
//! store while one of them, picked at random, is killed with SIGKILL and
//! restarted every few seconds, and the store's server is itself killed
//! and restarted once. Jobs fire every second and log each run; afterwards
//! a checker accounts for every fire of the window and the stored records.
//!
//! ```text
//! chime-chaos [--stores sqlite,redis,mongo] [--seconds 60] [--jobs 100]
//!             [--seed N] [--keep]
//! ```
//!
//! Prints one summary line per store and exits non-zero if any promise
//! broke: a duplicate run, a fire neither run nor reported, a report that
//! contradicts the log, a lost or changed job record. `redis-server` and
//! `mongod` come from `PATH` (or `CHIME_TEST_REDIS_SERVER`,
//! `CHIME_TEST_MONGOD`); `scripts/chaos.sh` builds and runs it.

mod backend;
mod checker;

use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use chime::chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chime::job::{Job, JobDefaults, NewJob};
use chime::trigger::IntervalTrigger;
use chime_tests::node_logs;

use backend::{Backend, Kind};

/// The scheduler lease the nodes use: short, so a killed node's jobs are
/// taken over (and its journal entries found stale) within seconds.
const LEASE_SECS: &str = "2";
/// How long each run takes after logging its start: kills land in the
/// middle of runs, whose journal entries the next nodes must report.
const WORK_MS: &str = "300";
/// How late a fire may run; later ones are missed (and reported).
const GRACE: Duration = Duration::from_secs(5);
/// How long the nodes keep running after the chaos window, so that the
/// last killed node's leases expire and its journal entries are reported.
const TAIL: Duration = Duration::from_secs(10);

struct Options {
    stores: Vec<Kind>,
    seconds: u64,
    jobs: usize,
    seed: u64,
    keep: bool,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        stores: vec![Kind::Sqlite, Kind::Redis, Kind::Mongo],
        seconds: 60,
        jobs: 100,
        seed: Utc::now().timestamp_micros() as u64,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--stores" => {
                options.stores = value()?
                    .split(',')
                    .map(Kind::parse)
                    .collect::<Result<_, _>>()?
            }
            "--seconds" => {
                options.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--jobs" => options.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--keep" => options.keep = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.seconds < 10 {
        return Err("--seconds must be at least 10".into());
    }
    Ok(options)
}

fn node_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let node = exe.with_file_name("chime-test-node");
    if node.exists() {
        Ok(node)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo build -p chime-tests --bins`",
            node.display()
        ))
    }
}

/// The jobs of a run: every second from `start`, each fire its own run.
fn chaos_jobs(count: usize, start: DateTime<Utc>) -> Result<Vec<Job>, String> {
    (0..count)
        .map(|i| {
            let trigger = IntervalTrigger::seconds(1)
                .map_err(|e| e.to_string())?
                .starting_at(start);
            NewJob::new("append", trigger)
                .id(format!("chaos-{i:03}"))
                .coalesce(false)
                .misfire_grace_time(Some(GRACE))
                .args(serde_json::json!({ "n": i }))
                .into_job(Utc::now(), &JobDefaults::default(), chime::chrono_tz::UTC)
                .map_err(|e| e.to_string())
        })
        .collect()
}

struct Nodes {
    binary: PathBuf,
    args: Vec<String>,
    logs: PathBuf,
    end: Instant,
    children: Vec<Child>,
}

impl Nodes {
    fn spawn(&self) -> Result<Child, String> {
        let run_for = self.end.saturating_duration_since(Instant::now());
        Command::new(&self.binary)
            .args(&self.args)
            .arg("--log-dir")
            .arg(&self.logs)
            .args(["--lease", LEASE_SECS, "--work-ms", WORK_MS, "--run-for"])
            .arg(run_for.as_secs_f64().to_string())
            .env("RUST_LOG", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))
    }

    fn kill(&mut self, index: usize) -> Result<(), String> {
        let child = &mut self.children[index];
        child.kill().map_err(|e| e.to_string())?;
        child.wait().map_err(|e| e.to_string())?;
        Ok(())
    }

    fn wait_all(&mut self) -> Result<(), String> {
        for child in &mut self.children {
            let status = child.wait().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("a node exited with {status}"));
            }
        }
        Ok(())
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How long until the next kill: 1–3 s; half the time moved to just after a
/// whole second, when the nodes are acquiring, releasing and starting that
/// second's fires — the moments a kill can interrupt a hand-off.
fn kill_delay(rng: &mut fastrand::Rng) -> Duration {
    let delay = Duration::from_millis(rng.u64(1000..3000));
    if !rng.bool() {
        return delay;
    }
    let at = Utc::now() + TimeDelta::from_std(delay).unwrap_or_default();
    let Ok(second) = at.duration_trunc(TimeDelta::seconds(1)) else {
        return delay;
    };
    let target = second + TimeDelta::milliseconds(rng.i64(0..200));
    (target - Utc::now()).to_std().unwrap_or(delay)
}

/// One chaos run on one store; returns whether it passed.
fn run_store(kind: Kind, options: &Options, rng: &mut fastrand::Rng) -> Result<bool, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("chime-chaos-{}-", kind.name()))
        .tempdir()
        .map_err(|e| e.to_string())?;
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut backend = Backend::start(kind, dir.path())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;

    let start = (Utc::now() + TimeDelta::seconds(3))
        .duration_trunc(TimeDelta::seconds(1))
        .map_err(|e| e.to_string())?;
    let seeded = chaos_jobs(options.jobs, start)?;
    runtime.block_on(async {
        let store = backend.open().await?;
        store
            .add_jobs(seeded.clone(), false)
            .await
            .map_err(|e| format!("seeding: {e}"))
    })?;

    let window = Duration::from_secs(options.seconds);
    let until_start = (start - Utc::now()).to_std().unwrap_or_default();
    let chaos_end = Instant::now() + until_start + window;
    let mut nodes = Nodes {
        binary: node_binary()?,
        args: backend.node_args(),
        logs: logs.clone(),
        end: chaos_end + TAIL,
        children: Vec::new(),
    };
    for _ in 0..3 {
        let child = nodes.spawn()?;
        nodes.children.push(child);
    }

    // The chaos: kill a random node every 1–3 s and restart it a moment
    // later; halfway through, kill and restart the store's server.
    let (mut kills, mut server_restarts) = (0, 0);
    let halfway = Instant::now() + until_start + window / 2;
    while Instant::now() < chaos_end {
        std::thread::sleep(kill_delay(rng));
        if Instant::now() >= chaos_end {
            break;
        }
        let victim = rng.usize(0..nodes.children.len());
        nodes.kill(victim)?;
        kills += 1;
        std::thread::sleep(Duration::from_millis(rng.u64(0..1000)));
        if backend.has_server() && server_restarts == 0 && Instant::now() >= halfway {
            backend.restart_server()?;
            server_restarts += 1;
        }
        nodes.children[victim] = nodes.spawn()?;
    }
    nodes.wait_all()?;

    // The check: every fire of the window, and the records.
    let runs = node_logs::read_runs(&logs)?;
    let reports = node_logs::read_reports(&logs)?;
    let ids: Vec<String> = seeded.iter().map(|j| j.id.to_string()).collect();
    let first_ms = start.timestamp_millis();
    let last_ms = first_ms + (options.seconds as i64 - 1) * 1000;
    let tally = checker::check(&ids, first_ms, last_ms, &runs, &reports);
    let (lost, changed, unreadable) = runtime.block_on(async {
        let store = backend.open().await?;
        let list = store.list_jobs().await.map_err(|e| e.to_string())?;
        let mut lost = 0;
        let mut changed = 0;
        for job in &seeded {
            match list.jobs.iter().find(|j| j.id == job.id) {
                None => lost += 1,
                Some(stored) => {
                    if stored.trigger != job.trigger
                        || stored.args != job.args
                        || stored.task != job.task
                        || stored.coalesce != job.coalesce
                        || stored.misfire_grace_time != job.misfire_grace_time
                    {
                        changed += 1;
                    }
                }
            }
        }
        Ok::<_, String>((lost, changed, list.unreadable.len()))
    })?;
    let passed = tally.passed() && lost == 0 && changed == 0 && unreadable == 0;
    println!(
        "chaos store={} seconds={} jobs={} kills={} server_restarts={} fires={} ran={} missed={} skipped={} interrupted={} interrupted_ran={} duplicates={} unexplained={} false_reports={} stray_runs={} records_lost={} records_changed={} records_unreadable={} result={}",
        kind.name(),
        options.seconds,
        options.jobs,
        kills,
        server_restarts,
        tally.fires,
        tally.ran,
        tally.missed,
        tally.skipped,
        tally.interrupted,
        tally.interrupted_ran,
        tally.duplicates,
        tally.unexplained,
        tally.false_reports,
        tally.stray_runs,
        lost,
        changed,
        unreadable,
        if passed { "PASS" } else { "FAIL" },
    );
    for example in &tally.examples {
        eprintln!("  {example}");
    }
    if options.keep || !passed {
        let kept: PathBuf = dir.keep();
        eprintln!("  logs kept in {}", kept.display());
    }
    Ok(passed)
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("chime-chaos: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!("chime-chaos: seed {}", options.seed);
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let mut all_passed = true;
    for &kind in &options.stores {
        match run_store(kind, &options, &mut rng) {
            Ok(passed) => all_passed &= passed,
            Err(e) => {
                eprintln!("chime-chaos: {}: {e}", kind.name());
                all_passed = false;
            }
        }
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
