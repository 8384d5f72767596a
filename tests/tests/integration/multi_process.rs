//! Several scheduler processes on one store (an SQLite file, and the
//! Redis and MongoDB servers of the test command): each (job, fire time)
//! runs exactly once, jobs survive SIGKILL, and leases of a dead process are
//! taken over when they expire. These run in real time (a few seconds each)
//! because they are about real processes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use chime::chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chime::job::{Job, JobDefaults, NewJob};
use chime::store::{JobStore, SqliteStore};
use chime::trigger::IntervalTrigger;
use chime_tests::node_logs::{self, Report, Run};

fn read_runs(log_dir: &Path) -> Vec<Run> {
    node_logs::read_runs(log_dir).unwrap()
}

fn read_reports(log_dir: &Path) -> Vec<Report> {
    node_logs::read_reports(log_dir).unwrap()
}

/// Where the processes keep their jobs.
enum Backend {
    Sqlite(std::path::PathBuf),
    Redis { url: String, prefix: String },
    Mongo { url: String, database: String },
}

impl Backend {
    fn node_args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(path) => vec!["--db".into(), path.display().to_string()],
            Backend::Redis { url, prefix } => vec![
                "--store".into(),
                url.clone(),
                "--prefix".into(),
                prefix.clone(),
            ],
            Backend::Mongo { url, database } => vec![
                "--store".into(),
                url.clone(),
                "--database".into(),
                database.clone(),
            ],
        }
    }

    async fn open(&self) -> Box<dyn JobStore> {
        match self {
            Backend::Sqlite(path) => Box::new(SqliteStore::open(path).unwrap()),
            Backend::Redis { url, prefix } => Box::new(
                chime::store::RedisStore::connect(
                    chime::store::redis::RedisConfig::new(url).prefix(prefix),
                )
                .await
                .unwrap(),
            ),
            Backend::Mongo { url, database } => Box::new(
                chime::store::MongoStore::connect(
                    chime::store::mongo::MongoConfig::new(url).database(database),
                )
                .await
                .unwrap(),
            ),
        }
    }
}

fn node(backend: &Backend, logs: &Path, run_for: Duration, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chime-test-node"))
        .args(backend.node_args())
        .arg("--log-dir")
        .arg(logs)
        .arg("--run-for")
        .arg(run_for.as_secs_f64().to_string())
        .args(extra)
        .spawn()
        .expect("start chime-test-node")
}

/// `count` jobs firing every second from `start` to `start + (fires-1) s`.
fn seed(backend: &Backend, count: usize, start: DateTime<Utc>, fires: i64, coalesce: bool) {
    let jobs: Vec<Job> = (0..count)
        .map(|i| {
            let trigger = IntervalTrigger::seconds(1)
                .unwrap()
                .starting_at(start)
                .ending_at(start + TimeDelta::seconds(fires - 1));
            NewJob::new("append", trigger)
                .id(format!("job-{i:03}"))
                .coalesce(coalesce)
                .misfire_grace_time(None)
                .into_job(Utc::now(), &JobDefaults::default(), chime::chrono_tz::UTC)
                .unwrap()
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        backend.open().await.add_jobs(jobs, false).await.unwrap();
    });
}

fn whole_second_after(secs: i64) -> DateTime<Utc> {
    (Utc::now() + TimeDelta::seconds(secs))
        .duration_trunc(TimeDelta::seconds(1))
        .unwrap()
}

fn wait_ok(mut child: Child) {
    let status = child.wait().unwrap();
    assert!(status.success(), "node exited with {status}");
}

/// Three processes share 200 jobs firing every second for 10 s.
fn three_processes_share_the_work(backend: &Backend, logs: &Path) {
    let start = whole_second_after(3);
    // No coalescing: a node that is late runs each fire on its own, so
    // every (job, fire) must show up as a run of its own exactly once.
    seed(backend, 200, start, 10, false);
    let run_for = (start + TimeDelta::seconds(12) - Utc::now())
        .to_std()
        .unwrap_or_default();
    let nodes: Vec<Child> = (0..3).map(|_| node(backend, logs, run_for, &[])).collect();
    nodes.into_iter().for_each(wait_ok);

    let runs = read_runs(logs);
    let mut seen: BTreeMap<(String, i64), usize> = BTreeMap::new();
    for run in &runs {
        for t in &run.times {
            *seen.entry((run.job.clone(), *t)).or_default() += 1;
        }
    }
    let doubles: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubles.is_empty(), "fires run more than once: {doubles:?}");
    let expected: BTreeSet<(String, i64)> = (0..200)
        .flat_map(|i| {
            (0..10).map(move |k| {
                (
                    format!("job-{i:03}"),
                    (start + TimeDelta::seconds(k)).timestamp_millis(),
                )
            })
        })
        .collect();
    let got: BTreeSet<(String, i64)> = seen.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).take(5).collect();
    assert!(
        missing.is_empty(),
        "fires never run: {missing:?} (of {})",
        expected.len() - got.len()
    );
    let pids: BTreeSet<u32> = runs.iter().map(|r| r.pid).collect();
    assert!(
        pids.len() >= 2,
        "the work was shared between processes: {pids:?}"
    );
}

fn dirs() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    (dir, logs)
}

#[test]
fn three_processes_on_sqlite_run_every_fire_exactly_once() {
    let (dir, logs) = dirs();
    three_processes_share_the_work(&Backend::Sqlite(dir.path().join("jobs.db")), &logs);
}

#[test]
fn three_processes_on_redis_run_every_fire_exactly_once() {
    let Some(url) = crate::redis_store::redis_url() else {
        return;
    };
    let (_dir, logs) = dirs();
    let prefix = crate::redis_store::unique_prefix("three");
    three_processes_share_the_work(&Backend::Redis { url, prefix }, &logs);
}

#[test]
fn three_processes_on_mongodb_run_every_fire_exactly_once() {
    let Some(url) = crate::mongo_store::mongo_url() else {
        return;
    };
    let (_dir, logs) = dirs();
    let database = crate::mongo_store::unique_database("three");
    three_processes_share_the_work(&Backend::Mongo { url, database }, &logs);
}

#[test]
fn jobs_survive_sigkill_and_missed_fires_are_coalesced_on_restart() {
    let (dir, logs) = dirs();
    let db = dir.path().join("jobs.db");
    let backend = Backend::Sqlite(db.clone());
    let start = whole_second_after(2);
    seed(&backend, 20, start, 1000, true);
    // A short lease: the restarted node finds the killed one's journal
    // entries stale within its 2 s of life.
    let mut first = node(&backend, &logs, Duration::from_secs(120), &["--lease", "1"]);
    // Let it run a few rounds, then kill it hard.
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    while read_runs(&logs).len() < 60 {
        assert!(
            std::time::Instant::now() < give_up,
            "the first node did not get going"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first node exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let killed_at = Utc::now();
    // The outage: several fires pass with no scheduler.
    std::thread::sleep(Duration::from_secs(3));
    wait_ok(node(
        &backend,
        &logs,
        Duration::from_secs(2),
        &["--lease", "1"],
    ));

    let runs = read_runs(&logs);
    let reports = read_reports(&logs);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored =
        runtime.block_on(async { SqliteStore::open(&db).unwrap().list_jobs().await.unwrap() });
    assert_eq!(stored.jobs.len(), 20, "every job survived the kill");
    let pids: Vec<u32> = runs
        .iter()
        .map(|r| r.pid)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(pids.len(), 2);
    for i in 0..20 {
        let job = format!("job-{i:03}");
        let mut times: Vec<i64> = runs
            .iter()
            .filter(|r| r.job == job)
            .flat_map(|r| r.times.clone())
            .collect();
        times.sort();
        let dup = times.windows(2).any(|w| w[0] == w[1]);
        assert!(!dup, "{job}: a fire ran twice: {times:?}");
        // Every grid second from the start to the last run ran, or — for
        // runs the kill interrupted — was reported by the next node, found
        // in the dispatch journal. Nothing is lost silently.
        let first_ms = start.timestamp_millis();
        let last_ms = *times.last().unwrap();
        let grid: Vec<i64> = (first_ms..=last_ms).step_by(1000).collect();
        let interrupted: Vec<i64> = reports
            .iter()
            .filter(|r| r.job == job && r.kind == "interrupted")
            .flat_map(|r| r.times.clone())
            .collect();
        let lost: Vec<i64> = grid
            .iter()
            .filter(|t| !times.contains(t) && !interrupted.contains(t))
            .copied()
            .collect();
        assert!(
            lost.is_empty(),
            "{job}: fires neither run nor reported: {lost:?}"
        );
        for t in &interrupted {
            assert!(
                (t - killed_at.timestamp_millis()).abs() <= 2000,
                "{job}: fire {t} reported interrupted away from the kill"
            );
        }
    }
    let coalesced = runs.iter().filter(|r| r.times.len() >= 3).count();
    assert!(coalesced >= 20, "after the 3 s outage each job's first run stands for the missed fires ({coalesced} coalesced runs)");
}

#[test]
fn a_dead_processs_leases_are_taken_over_when_they_expire() {
    let (dir, logs) = dirs();
    let backend = Backend::Sqlite(dir.path().join("jobs.db"));
    let start = whole_second_after(2);
    seed(&backend, 10, start, 1000, true);
    // The first node acquires the due jobs with a 3 s lease and dies at once.
    let mut doomed = node(
        &backend,
        &logs,
        Duration::from_secs(60),
        &["--lease", "3", "--die-after-acquire"],
    );
    let status = doomed.wait().unwrap();
    assert!(!status.success(), "the node was meant to die");
    wait_ok(node(
        &backend,
        &logs,
        (start + TimeDelta::seconds(6) - Utc::now())
            .to_std()
            .unwrap_or_default(),
        &[],
    ));

    let runs = read_runs(&logs);
    assert!(
        runs.iter().all(|r| r.pid != doomed.id()),
        "the dead node ran nothing"
    );
    for i in 0..10 {
        let job = format!("job-{i:03}");
        let mine: Vec<&Run> = runs.iter().filter(|r| r.job == job).collect();
        let first = mine
            .iter()
            .min_by_key(|r| r.started_ms)
            .expect("the job ran after the takeover");
        assert_eq!(
            first.times[0],
            start.timestamp_millis(),
            "{job}: the leased fire was not lost"
        );
        // A scheduler looks `dispatch_ahead` (100 ms by default) into the
        // future, lease expiries included: a takeover may come that much
        // early (the dead owner's release would fail then, never run twice).
        assert!(
            first.started_ms >= start.timestamp_millis() + 3000 - 100 - 50,
            "{job}: taken over before the lease expired"
        );
        assert!(
            first.times.len() >= 3,
            "{job}: the fires during the lease were coalesced into the takeover run"
        );
    }
}
