//! End-to-end tests of the `chime` binary. Expected fire times are worked
//! out from the calendar and the zones' daylight-saving rules (see comments).

use std::process::{Command, Output};
use std::time::Duration;

fn chime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(args)
        .output()
        .expect("the chime binary runs")
}

fn lines(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts a usage error: status 2 and exactly one line on stderr containing `text`.
fn usage_error(args: &[&str], text: &str) {
    let out = chime(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got: {stderr}"
    );
    assert!(
        stderr.contains(text),
        "{args:?}: '{stderr}' should contain '{text}'"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn next_prints_rfc3339_with_the_offset_of_each_instant() {
    // Helsinki moves from +02:00 to +03:00 at 03:00 local on 2026-03-29 (the
    // last Sunday of March); 02:30 that night is still +02:00.
    let out = chime(&[
        "next",
        "--cron",
        "30 2 * * *",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-03-29T00:00:00+02:00",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-03-29T02:30:00+02:00",
            "2026-03-30T02:30:00+03:00",
            "2026-03-31T02:30:00+03:00"
        ]
    );
}

#[test]
fn a_fixed_time_inside_the_gap_fires_at_the_first_instant_after_it() {
    // 03:30 does not exist in Helsinki on 2026-03-29 (03:00 -> 04:00).
    let out = chime(&[
        "next",
        "--cron",
        "30 3 * * *",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-03-28T12:00:00+02:00",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-03-29T04:00:00+03:00", "2026-03-30T03:30:00+03:00"]
    );
}

#[test]
fn overlap_fixed_time_fires_once_wildcard_fires_in_both_passes() {
    // New York falls back from 02:00 EDT to 01:00 EST on 2026-11-01 (the
    // first Sunday of November): 01:00-01:59 happens twice.
    let out = chime(&[
        "next",
        "--cron",
        "30 1 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2026-10-31T12:00:00-04:00",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    );
    let out = chime(&[
        "next",
        "--cron",
        "*/30 1 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2026-11-01T00:45:00-04:00",
        "-n",
        "4",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00"
        ]
    );
}

#[test]
fn fields_form_takes_repeated_field_options() {
    // 3rd Friday at 09:00 UTC: Jan 2026 starts on a Thursday (Fridays 2, 9,
    // 16); Feb and Mar start on a Sunday (Fridays 6, 13, 20).
    let out = chime(&[
        "next",
        "--field",
        "day=3rd fri",
        "--field",
        "hour=9",
        "--from",
        "2026-01-01T00:00:00Z",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-01-16T09:00:00+00:00",
            "2026-02-20T09:00:00+00:00",
            "2026-03-20T09:00:00+00:00"
        ]
    );
}

#[test]
fn intervals_anchor_at_from_plus_interval_or_at_the_start_date() {
    let out = chime(&[
        "next",
        "--interval",
        "1h30m",
        "--from",
        "2026-01-01T00:00:00Z",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T01:30:00+00:00", "2026-01-01T03:00:00+00:00"]
    );
    // Slots 00:00, 00:45, 01:30, 02:15…; the first at or after 01:00 is 01:30.
    let out = chime(&[
        "next",
        "--interval",
        "45m",
        "--start-date",
        "2026-01-01T00:00:00Z",
        "--from",
        "2026-01-01T01:00:00Z",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T01:30:00+00:00", "2026-01-01T02:15:00+00:00"]
    );
}

#[test]
fn at_fires_once_and_local_times_use_the_zone() {
    // London is on BST (+01:00) in June.
    let out = chime(&[
        "next",
        "--at",
        "2026-06-01 12:00",
        "--tz",
        "Europe/London",
        "--from",
        "2026-01-01",
        "-n",
        "3",
    ]);
    assert_eq!(lines(&out), ["2026-06-01T12:00:00+01:00"]);
}

#[test]
fn end_date_bounds_the_output_and_never_firing_prints_nothing() {
    let out = chime(&[
        "next",
        "--cron",
        "0 12 * * *",
        "--from",
        "2026-01-01T00:00:00Z",
        "--end-date",
        "2026-01-02T12:00:00Z",
        "-n",
        "5",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T12:00:00+00:00", "2026-01-02T12:00:00+00:00"]
    );
    let out = chime(&[
        "next",
        "--cron",
        "0 0 30 2 *",
        "--from",
        "2026-01-01T00:00:00Z",
    ]);
    assert!(lines(&out).is_empty());
}

#[test]
fn describe_comes_first() {
    let out = chime(&[
        "next",
        "--describe",
        "--cron",
        "30 2 * * mon-fri",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-01-02T12:00:00+02:00",
        "-n",
        "1",
    ]);
    // Friday Jan 2 noon -> Monday Jan 5 02:30.
    assert_eq!(
        lines(&out),
        [
            "at 02:30, Monday through Friday, Europe/Helsinki",
            "2026-01-05T02:30:00+02:00"
        ]
    );
}

#[test]
fn invalid_input_is_one_line_and_status_2() {
    usage_error(
        &["next", "--cron", "0 24 * * *"],
        "hour: 24 is out of range 0-23",
    );
    usage_error(
        &["next", "--cron", "0 0 * * *", "--tz", "Mars/Olympus"],
        "Mars/Olympus",
    );
    usage_error(&["next"], "exactly one of");
    usage_error(
        &["next", "--cron", "* * * * *", "--interval", "5m"],
        "cannot be used with",
    );
    usage_error(&["next", "--interval", "0s"], "--interval");
    usage_error(&["next", "--interval", "soon"], "--interval: duration");
    usage_error(&["next", "--field", "hours=9"], "unknown field 'hours'");
    usage_error(&["next", "--field", "hour"], "NAME=EXPR");
    usage_error(
        &["next", "--cron", "@daily", "--from", "yesterday"],
        "--from: 'yesterday'",
    );
    usage_error(
        &[
            "next",
            "--cron",
            "@daily",
            "--start-date",
            "2026-02-01",
            "--end-date",
            "2026-01-01",
        ],
        "before --start-date",
    );
    usage_error(&["next", "--cron", "@daily", "-n", "many"], "many");
    usage_error(&["frobnicate"], "frobnicate");
}

#[test]
fn calendar_intervals_keep_the_wall_clock_and_clamp_month_ends() {
    // Anchored on Jan 31 (the --from date) at 09:00 London time; Jan 31
    // 09:00 is before --from (12:00), so the first fire is the next month:
    // Feb has no 31st (clamped to the 28th, 2026 is not a leap year), then
    // back to the 31st in March, which is on BST (+01:00) since Mar 29.
    let out = chime(&[
        "next",
        "--calendar",
        "1 month at 09:00",
        "--tz",
        "Europe/London",
        "--from",
        "2026-01-31T12:00:00Z",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-02-28T09:00:00+00:00",
            "2026-03-31T09:00:00+01:00",
            "2026-04-30T09:00:00+01:00"
        ]
    );
    usage_error(
        &["next", "--calendar", "1 fortnight"],
        "unknown unit 'fortnight'",
    );
}

// ---------------------------------------------------------------------------
// The daemon and `chime jobs`, end to end on the real binary. These run in
// real time (a daemon is a real process); every wait has a deadline.

mod daemon {
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    pub struct Daemon {
        child: Child,
        pub log: PathBuf,
    }

    impl Daemon {
        pub fn start(config: &Path) -> Daemon {
            let log = config.with_extension("log");
            let child = Command::new(env!("CARGO_BIN_EXE_chime"))
                .args(["run", "--config"])
                .arg(config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("start chime run");
            Daemon { child, log }
        }

        /// Sends SIGTERM and waits for the exit status.
        pub fn terminate(mut self) -> std::process::ExitStatus {
            let pid = self.child.id().to_string();
            Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status;
                }
                assert!(
                    Instant::now() < deadline,
                    "the daemon did not stop; log:\n{}",
                    self.logs()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        pub fn logs(&self) -> String {
            std::fs::read_to_string(&self.log).unwrap_or_default()
        }
    }

    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Waits (up to `secs`) until `check` holds.
    pub fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn lines_in(path: &Path) -> usize {
        std::fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// A config in `dir` with an SQLite store there, `text` (top-level
    /// keys and `[[job]]` tables) and a fast poll.
    pub fn config(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("chime.toml");
        std::fs::write(
            &path,
            format!(
                "store = \"sqlite://jobs.db\"\n{text}\n[scheduler]\npoll_interval = \"100ms\"\n"
            ),
        )
        .unwrap();
        path
    }
}

use daemon::{config, eventually, lines_in, Daemon};

fn chime_jobs(config: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["jobs", "--config"];
    let config = config.to_str().unwrap();
    all.push(config);
    all.extend_from_slice(args);
    chime(&all)
}

#[test]
fn config_jobs_fire_and_sigterm_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let cfg = config(
        dir.path(),
        &format!(
            "[[job]]\nid = \"tick\"\nshell = \"echo run >> '{}'\"\ninterval = \"1s\"\n",
            out.display()
        ),
    );
    let daemon = Daemon::start(&cfg);
    eventually(20, "two runs of the config job", || lines_in(&out) >= 2);
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "a clean exit on SIGTERM");
}

#[test]
fn a_job_added_by_another_process_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("added.txt");
    let cfg = config(dir.path(), "");
    let daemon = Daemon::start(&cfg);
    eventually(20, "the daemon to start", || {
        daemon.logs().contains("chime is running")
    });
    let added = chime_jobs(
        &cfg,
        &[
            "add",
            "--id",
            "late",
            "--interval",
            "1h",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
    );
    assert!(lines(&added)[0].starts_with("added job 'late'"));
    let ran = chime_jobs(&cfg, &["run", "late"]);
    assert_eq!(
        lines(&ran),
        ["job 'late' is due now; a running daemon starts it"]
    );
    eventually(20, "the daemon to run the added job", || marker.exists());
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn sigterm_waits_for_the_running_job() {
    let dir = tempfile::tempdir().unwrap();
    let (started, done) = (dir.path().join("started"), dir.path().join("done"));
    let cfg = config(
        dir.path(),
        &format!(
            "[[job]]\nid = \"slow\"\nshell = \"touch '{}'; sleep 2; touch '{}'\"\ninterval = \"1s\"\nmax_instances = 1\n",
            started.display(),
            done.display()
        ),
    );
    let daemon = Daemon::start(&cfg);
    eventually(20, "the slow job to start", || started.exists());
    assert!(!done.exists());
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(
        done.exists(),
        "shutdown waited for the running job to finish"
    );
}

#[test]
fn runtime_jobs_survive_a_restart_and_missed_runs_are_coalesced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ticks.txt");
    let cfg = config(dir.path(), "");
    let daemon = Daemon::start(&cfg);
    eventually(20, "the daemon to start", || {
        daemon.logs().contains("chime is running")
    });
    let script = format!("date +%s.%N >> '{}'", out.display());
    let added = chime_jobs(
        &cfg,
        &[
            "add",
            "--id",
            "tick",
            "--interval",
            "1s",
            "--shell",
            &script,
        ],
    );
    assert!(added.status.success());
    eventually(20, "two ticks", || lines_in(&out) >= 2);
    assert_eq!(daemon.terminate().code(), Some(0));
    let before = lines_in(&out);
    // Down for a few fires.
    std::thread::sleep(Duration::from_millis(3500));
    let restart = Daemon::start(&cfg);
    eventually(20, "a tick after the restart", || lines_in(&out) > before);
    std::thread::sleep(Duration::from_millis(600));
    let list = chime_jobs(&cfg, &["list", "--json"]);
    let jobs: serde_json::Value =
        serde_json::from_slice(&list.stdout).expect("--json output parses");
    assert_eq!(
        jobs[0]["id"], "tick",
        "the run-time job survived the restart"
    );
    assert_eq!(jobs[0]["from_config"], false);
    assert_eq!(restart.terminate().code(), Some(0));
    // The ~3 missed fires ran once (coalesced), not as a burst of 3: at
    // most the catch-up run and one regular tick fall in the first 0.9 s.
    let stamps: Vec<f64> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let after = &stamps[before..];
    let burst = after.iter().filter(|t| **t - after[0] < 0.9).count();
    assert!(
        burst <= 2,
        "no burst of catch-up runs after the restart: {after:?}"
    );
    let history = chime_jobs(&cfg, &["history", "tick", "--json"]);
    let runs: serde_json::Value =
        serde_json::from_slice(&history.stdout).expect("history --json parses");
    assert!(
        runs.as_array().unwrap().len() >= stamps.len().min(20),
        "history keeps the runs"
    );
    assert_eq!(runs[0]["outcome"], "success");
}

#[test]
fn jobs_commands_work_without_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "timezone = \"Europe/Helsinki\"\n");
    // The config's zone is the default for schedules added at run time.
    let added = chime_jobs(
        &cfg,
        &[
            "add",
            "--id",
            "report",
            "--name",
            "Daily report",
            "--cron",
            "30 2 * * *",
            "--",
            "echo",
            "hi",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let list = |cfg| {
        let out = chime_jobs(cfg, &["list", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let jobs = list(&cfg);
    assert_eq!(jobs[0]["name"], "Daily report");
    assert_eq!(jobs[0]["trigger"], "at 02:30, Europe/Helsinki");
    assert!(jobs[0]["next_run_time"]
        .as_str()
        .unwrap()
        .ends_with("T02:30:00+02:00"));
    assert!(chime_jobs(&cfg, &["pause", "report"]).status.success());
    assert_eq!(list(&cfg)[0]["paused"], true);
    assert!(chime_jobs(&cfg, &["resume", "report"]).status.success());
    assert_eq!(list(&cfg)[0]["paused"], false);
    let table = chime_jobs(&cfg, &["list"]);
    assert!(
        lines(&table)[1].starts_with("report "),
        "{:?}",
        lines(&table)
    );
    assert!(chime_jobs(&cfg, &["remove", "report"]).status.success());
    assert_eq!(list(&cfg), serde_json::json!([]));
    let missing = chime_jobs(&cfg, &["remove", "report"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no job with this id"));
    let bad = chime_jobs(&cfg, &["add", "--cron", "61 * * * *", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2));
    let no_program = chime_jobs(&cfg, &["add", "--cron", "@daily"]);
    assert_eq!(no_program.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_program.stderr).contains("needs a command"));
}

#[test]
fn a_bad_config_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("store = \"sqlite://x.db\"\nmax_sleepz = 3\n", ":2:", "max_sleepz"),
        ("[defaults]\nmax_instances = \"two\"\n", ":2:", "max_instances"),
        ("[[job]]\nid = \"a\"\ncommand = [\"true\"]\ncron = \"0 24 * * *\"\n", ":1:", "hour: 24 is out of range 0-23"),
        ("\n[[job]]\nid = \"b\"\ncron = \"@daily\"\n", ":2:", "needs a command"),
        ("[[job]]\nid = \"c\"\ncommand = [\"true\"]\ninterval = \"1m\"\n[[job]]\nid = \"c\"\ncommand = [\"true\"]\ninterval = \"2m\"\n", ":5:", "used by another"),
        ("timezone = \"Mars/Base\"\n", ":1:", "timezone"),
        ("[[job]]\nid = \"d\"\ncommand = [\"true\"]\n", ":1:", "exactly one of"),
    ];
    for (text, line, needle) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = chime(&["run", "--config", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("chime: ") && last.contains(&format!("bad.toml{line}")),
            "{text:?}: {stderr}"
        );
        assert!(
            last.contains(needle),
            "{text:?}: '{last}' should mention {needle}"
        );
    }
    let out = chime(&[
        "run",
        "--config",
        dir.path().join("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the config file"));
}

#[test]
fn config_jobs_are_upserted_and_removed_with_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let job = |id: &str, every: &str| {
        format!("[[job]]\nid = \"{id}\"\ncommand = [\"true\"]\ninterval = \"{every}\"\n")
    };
    let cfg = config(dir.path(), &(job("keep", "1h") + &job("drop", "1h")));
    let first = Daemon::start(&cfg);
    eventually(20, "the daemon to start", || {
        first.logs().contains("chime is running")
    });
    assert_eq!(first.terminate().code(), Some(0));
    assert!(chime_jobs(
        &cfg,
        &["add", "--id", "mine", "--interval", "1h", "--", "true"]
    )
    .status
    .success());
    let before: serde_json::Value =
        serde_json::from_slice(&chime_jobs(&cfg, &["list", "--json"]).stdout).unwrap();
    let keep_next = before
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "keep")
        .unwrap()["next_run_time"]
        .clone();
    // The config drops "drop" and changes nothing about "keep".
    let cfg = config(dir.path(), &job("keep", "1h"));
    let second = Daemon::start(&cfg);
    eventually(20, "the daemon to start", || {
        second.logs().contains("chime is running")
    });
    assert_eq!(second.terminate().code(), Some(0));
    let after: serde_json::Value =
        serde_json::from_slice(&chime_jobs(&cfg, &["list", "--json"]).stdout).unwrap();
    let ids: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"keep") && ids.contains(&"mine") && !ids.contains(&"drop"),
        "{ids:?}"
    );
    let keep = after
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "keep")
        .unwrap();
    assert_eq!(
        keep["next_run_time"], keep_next,
        "an unchanged config job keeps its schedule"
    );
}

#[test]
fn jobs_commands_work_on_redis_and_mongodb_stores() {
    let urls: Vec<String> = [
        std::env::var("CHIME_TEST_REDIS_URL")
            .ok()
            .map(|u| format!("{}/7", u.trim_end_matches("/0").trim_end_matches('/'))),
        std::env::var("CHIME_TEST_MONGO_URL").ok().map(|u| {
            // mongodb://host:port/?options → a database of this test's own.
            let (base, query) = u.split_once('?').unwrap_or((u.as_str(), ""));
            let sep = if query.is_empty() { "" } else { "?" };
            format!("{}/chime_cli_test{sep}{query}", base.trim_end_matches('/'))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if urls.is_empty() {
        eprintln!("skipping: no CHIME_TEST_REDIS_URL or CHIME_TEST_MONGO_URL (scripts/test.sh starts both)");
        return;
    }
    for url in urls {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("chime.toml");
        std::fs::write(&cfg, format!("store = \"{url}\"\n")).unwrap();
        let added = chime_jobs(
            &cfg,
            &[
                "add",
                "--id",
                "remote",
                "--replace",
                "--interval",
                "1h",
                "--",
                "true",
            ],
        );
        assert!(
            added.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        let list = chime_jobs(&cfg, &["list", "--json"]);
        let jobs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert!(
            jobs.as_array().unwrap().iter().any(|j| j["id"] == "remote"),
            "{url}: {jobs}"
        );
        assert!(
            chime_jobs(&cfg, &["remove", "remote"]).status.success(),
            "{url}"
        );
    }
}

/// The fuzz targets' bodies (`fuzz/`), replayed here on their corpus so
/// every input that ever crashed one stays fixed without nightly.
#[path = "../../fuzz/src/bodies.rs"]
mod fuzz_bodies;

#[test]
fn fuzz_corpus_replays_without_a_panic() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    type Body = fn(&[u8]);
    let targets: [(&str, Body); 4] = [
        ("cron_crontab", fuzz_bodies::cron_crontab),
        ("cron_fields", fuzz_bodies::cron_fields),
        ("config", fuzz_bodies::config),
        ("job_record", fuzz_bodies::job_record),
    ];
    for (name, body) in targets {
        let dir = corpus.join(name);
        let inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(!inputs.is_empty(), "{name}: no corpus in {}", dir.display());
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let replay = std::panic::catch_unwind(|| body(&data));
            assert!(replay.is_ok(), "{name} panicked on {}", input.display());
        }
    }
}
