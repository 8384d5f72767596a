//! The process executor: commands, worker processes, crashes, timeouts,
//! process groups, the concurrency bound, shutdown, and a scheduler routing
//! jobs to it.
//!
//! Processes live in real time, so these tests do too; every timeout is
//! short (at most 2 s) and every wait is bounded.

#[path = "../src/bin/chime-process-test-worker/tasks.rs"]
#[allow(dead_code)]
mod worker_tasks;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chime_core::chrono::{TimeDelta, Utc};
use chime_core::executor::{Executor, Outcome, TokioExecutor};
use chime_core::job::NewJob;
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskFn, TaskRegistry};
use chime_core::trigger::DateTrigger;
use chime_core::{AsyncScheduler, Event};
use chime_executor_process::{
    command_task, register_command_task, CommandSpec, ProcessExecutor, WorkerTasks,
};
use chime_store_memory::MemoryStore;
use serde_json::{json, Value};

const WORKER: &str = env!("CARGO_BIN_EXE_chime-process-test-worker");

fn context(job_id: &str, args: Value) -> TaskContext {
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .build()
        .unwrap();
    TaskContext::new(job_id, "default", vec![Utc::now()], args, scheduler)
}

/// A scratch directory of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chime-process-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The scheduler-side worker tasks and the task functions a scheduler's
/// registry would hand to the executor.
struct Workers {
    tasks: WorkerTasks,
    registry: TaskRegistry,
}

impl Workers {
    fn new() -> Self {
        let tasks = worker_tasks::worker_tasks();
        let registry = TaskRegistry::new();
        tasks.install(&registry).unwrap();
        register_command_task(&registry).unwrap();
        Workers { tasks, registry }
    }

    fn task(&self, name: &str) -> TaskFn {
        self.registry.get(name).unwrap()
    }

    fn executor(&self, max: usize) -> ProcessExecutor {
        ProcessExecutor::new(max)
            .with_worker_tasks(self.tasks.clone())
            .with_worker_program(WORKER)
    }
}

async fn run_command(executor: &ProcessExecutor, spec: Value) -> Outcome {
    executor.execute(command_task(), context("cmd", spec)).await
}

fn message(outcome: &Outcome) -> &str {
    outcome.message.as_deref().unwrap_or_default()
}

/// Whether process `pid` is gone (a zombie waiting for its parent counts
/// as gone: it runs no more).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (at most 2 s) for process `pid` to be gone.
async fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still running");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (at most 5 s) for a file a child writes when it has started.
async fn read_when_written(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.trim().is_empty() {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} was never written",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------- commands

#[test]
fn command_specs_read_from_job_arguments() {
    let spec: CommandSpec = serde_json::from_value(json!({
        "argv": ["pg_dump", "app"], "env": {"PGHOST": "db"}, "cwd": "/backup",
        "timeout": "30s", "shell": null
    }))
    .unwrap();
    assert_eq!(
        spec,
        CommandSpec::new(["pg_dump", "app"])
            .env("PGHOST", "db")
            .cwd("/backup")
            .timeout(Duration::from_secs(30))
    );
    assert!(!spec.uses_shell());
    let seconds: CommandSpec =
        serde_json::from_value(json!({"argv": ["x"], "timeout": 2.5})).unwrap();
    assert_eq!(seconds.timeout, Some(Duration::from_millis(2500)));
    let typo = serde_json::from_value::<CommandSpec>(json!({"argv": ["x"], "shel": true}));
    assert!(typo
        .unwrap_err()
        .to_string()
        .contains("unknown field `shel`"));
    // It round-trips through the job's stored arguments.
    let back: CommandSpec = serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
}

#[tokio::test]
async fn a_command_succeeds_and_its_output_is_kept() {
    let executor = ProcessExecutor::new(2);
    let outcome = run_command(&executor, json!({"argv": ["echo", "hello", "world"]})).await;
    assert_eq!(outcome.kind, RunOutcome::Success, "{outcome:?}");
    assert_eq!(message(&outcome), "--- stdout ---\nhello world");
}

#[tokio::test]
async fn the_exit_status_decides_and_the_output_tails_are_reported() {
    let executor = ProcessExecutor::new(2);
    let outcome = run_command(
        &executor,
        json!({"argv": ["sh", "-c", "echo progress; echo 'disk full' >&2; exit 3"]}),
    )
    .await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert_eq!(
        message(&outcome),
        "command 'sh' exited with status 3\n--- stderr ---\ndisk full\n--- stdout ---\nprogress"
    );
}

#[tokio::test]
async fn a_program_that_does_not_exist_is_a_clear_error_naming_it() {
    let executor = ProcessExecutor::new(1);
    let outcome = run_command(&executor, json!({"argv": ["chime-no-such-program", "-x"]})).await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert_eq!(
        message(&outcome),
        "command 'chime-no-such-program' not found (no such file, or not in PATH)"
    );
    let outcome = run_command(&executor, json!({"argv": ["true"], "cwd": "/no/such/dir"})).await;
    assert_eq!(
        message(&outcome),
        "command 'true': working directory '/no/such/dir' does not exist"
    );
    let outcome = run_command(&executor, json!({"argv": []})).await;
    assert_eq!(message(&outcome), "command: argv is empty");
    let outcome = run_command(&executor, json!({"program": "ls"})).await;
    assert!(
        message(&outcome).starts_with("invalid arguments for job 'cmd'"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn there_is_no_shell_unless_the_job_asks_for_one() {
    let executor = ProcessExecutor::new(1);
    let plain = run_command(&executor, json!({"argv": ["echo $((1+2)) > /dev/null"]})).await;
    assert_eq!(plain.kind, RunOutcome::Error);
    assert!(message(&plain).contains("not found"), "{plain:?}");
    let shell = run_command(
        &executor,
        json!({"argv": ["echo $((1+2)) \"$1\"", "first arg"], "shell": true}),
    )
    .await;
    assert_eq!(shell.kind, RunOutcome::Success, "{shell:?}");
    assert_eq!(message(&shell), "--- stdout ---\n3 first arg");
}

#[tokio::test]
async fn env_cwd_apply_and_stdin_is_closed() {
    let executor = ProcessExecutor::new(1).with_timeout(Duration::from_secs(2));
    // `cat` would wait forever on an open stdin.
    let outcome = run_command(
        &executor,
        json!({"argv": ["sh", "-c", "cat; echo \"$GREETING\"; pwd"], "env": {"GREETING": "hi"}, "cwd": "/"}),
    )
    .await;
    assert_eq!(outcome.kind, RunOutcome::Success, "{outcome:?}");
    assert_eq!(message(&outcome), "--- stdout ---\nhi\n/");
}

#[tokio::test]
async fn output_far_beyond_the_limit_keeps_only_its_tail() {
    let executor = ProcessExecutor::new(1).with_output_limit(1000);
    let script = "head -c 5000000 /dev/zero | tr '\\0' x; echo; echo END; head -c 3000000 /dev/zero | tr '\\0' e >&2; exit 1";
    let outcome = run_command(&executor, json!({"argv": ["sh", "-c", script]})).await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    let text = message(&outcome);
    assert!(
        text.len() < 2300,
        "the message is bounded: {} bytes",
        text.len()
    );
    assert!(
        text.contains("--- stderr (last 1000 of 3000000 bytes) ---"),
        "{text}"
    );
    assert!(
        text.contains("--- stdout (last 1000 of 5000005 bytes) ---"),
        "{text}"
    );
    assert!(text.ends_with("xxx\nEND"), "the very end is kept");
}

#[tokio::test]
async fn a_command_killed_by_a_signal_is_a_crash_naming_it() {
    let executor = ProcessExecutor::new(1);
    let outcome = run_command(&executor, json!({"argv": ["sh", "-c", "kill -SEGV $$"]})).await;
    assert_eq!(outcome.kind, RunOutcome::Crash);
    assert!(
        message(&outcome).starts_with("command 'sh' killed by signal SIGSEGV"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_timeout_stops_the_whole_process_group_grandchildren_included() {
    let dir = scratch("timeout-group");
    let pidfile = dir.join("pid");
    let executor = ProcessExecutor::new(1).with_kill_grace(Duration::from_millis(300));
    let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
    let begun = Instant::now();
    let outcome = run_command(
        &executor,
        json!({"argv": ["sh", "-c", script], "timeout": "300ms"}),
    )
    .await;
    assert_eq!(outcome.kind, RunOutcome::Timeout, "{outcome:?}");
    assert_eq!(
        message(&outcome),
        "command 'sh' timed out after 300ms; its process group was sent SIGTERM"
    );
    assert!(begun.elapsed() < Duration::from_secs(2));
    let grandchild: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_gone(grandchild).await;

    // Processes that ignore SIGTERM get SIGKILL after the grace period.
    let script = format!(
        "trap '' TERM; sleep 60 & echo $! > {}; wait",
        pidfile.display()
    );
    let outcome = run_command(
        &executor,
        json!({"argv": ["sh", "-c", script], "timeout": "300ms"}),
    )
    .await;
    assert_eq!(outcome.kind, RunOutcome::Timeout, "{outcome:?}");
    assert!(
        message(&outcome).ends_with("was sent SIGTERM, then SIGKILL"),
        "{outcome:?}"
    );
    let grandchild: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_gone(grandchild).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_command_task_also_runs_on_other_executors() {
    let executor = TokioExecutor::new(1);
    let ok = executor
        .execute(command_task(), context("a", json!({"argv": ["true"]})))
        .await;
    assert_eq!(ok, Outcome::success());
    let failed = executor
        .execute(
            command_task(),
            context("b", json!({"argv": ["sh", "-c", "exit 7"]})),
        )
        .await;
    assert_eq!(
        failed,
        Outcome::failure(RunOutcome::Error, "command 'sh' exited with status 7")
    );
}

// ------------------------------------------------------------ worker tasks

#[tokio::test]
async fn worker_tasks_succeed_fail_and_panic_in_one_worker() {
    let workers = Workers::new();
    let executor = workers.executor(1);
    let ok = executor
        .execute(workers.task("ok"), context("ok", json!({})))
        .await;
    assert_eq!(ok, Outcome::success());
    let failed = executor
        .execute(
            workers.task("fail"),
            context("f", json!({"why": "no input"})),
        )
        .await;
    assert_eq!(
        failed,
        Outcome::failure(RunOutcome::Error, "failed: no input")
    );
    let panicked = executor
        .execute(workers.task("panic"), context("p", json!({})))
        .await;
    assert_eq!(
        panicked,
        Outcome::failure(RunOutcome::Panic, "worker task panicked in job p")
    );
    let async_ok = executor
        .execute(workers.task("async_ok"), context("a", json!({})))
        .await;
    assert_eq!(async_ok, Outcome::success());
    // A caught panic does not cost the worker.
    assert_eq!(
        (executor.workers_started(), executor.workers_lost()),
        (1, 0)
    );
    assert_eq!(executor.idle_workers(), 1);
}

#[tokio::test]
async fn an_abort_is_a_crash_with_sigabrt() {
    let workers = Workers::new();
    let executor = workers.executor(1);
    let outcome = executor
        .execute(workers.task("abort"), context("a", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Crash, "{outcome:?}");
    let text = message(&outcome);
    assert!(text.starts_with("worker process "), "{text}");
    assert!(
        text.contains("running task 'abort' killed by signal SIGABRT"),
        "{text}"
    );
    assert!(text.ends_with("; it is replaced"), "{text}");
}

#[tokio::test]
async fn a_segfault_is_a_crash_with_sigsegv() {
    let workers = Workers::new();
    let executor = workers.executor(1);
    let outcome = executor
        .execute(workers.task("segv"), context("s", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Crash, "{outcome:?}");
    assert!(
        message(&outcome).contains("running task 'segv' killed by signal SIGSEGV"),
        "{outcome:?}"
    );
    // The next run gets a fresh worker.
    let ok = executor
        .execute(workers.task("ok"), context("ok", json!({})))
        .await;
    assert_eq!(ok, Outcome::success());
    assert_eq!(
        (executor.workers_started(), executor.workers_lost()),
        (2, 1)
    );
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_its_timeout() {
    let workers = Workers::new();
    let executor = workers
        .executor(1)
        .with_timeout(Duration::from_millis(300))
        .with_kill_grace(Duration::from_millis(300));
    let begun = Instant::now();
    let outcome = executor
        .execute(workers.task("spin"), context("loop", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Timeout, "{outcome:?}");
    let text = message(&outcome);
    assert!(
        text.starts_with("task 'spin' timed out after 300ms; its worker process "),
        "{text}"
    );
    assert!(
        text.ends_with("was sent SIGTERM (with its process group) and is replaced"),
        "{text}"
    );
    assert!(begun.elapsed() < Duration::from_secs(2));
    let ok = executor
        .execute(workers.task("ok"), context("ok", json!({})))
        .await;
    assert_eq!(ok, Outcome::success());
    assert_eq!(
        (executor.workers_started(), executor.workers_lost()),
        (2, 1)
    );
}

#[tokio::test]
async fn a_grandchild_of_a_worker_dies_with_it() {
    let dir = scratch("worker-grandchild");
    let pidfile = dir.join("pid");
    let workers = Workers::new();
    let executor = workers
        .executor(1)
        .with_timeout(Duration::from_millis(500))
        .with_kill_grace(Duration::from_millis(300));
    let outcome = executor
        .execute(
            workers.task("grandchild"),
            context("g", json!({"pidfile": pidfile.display().to_string()})),
        )
        .await;
    assert_eq!(outcome.kind, RunOutcome::Timeout, "{outcome:?}");
    let grandchild: u32 = read_when_written(&pidfile).await.trim().parse().unwrap();
    assert_gone(grandchild).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_crashed_worker_is_replaced_with_no_lost_or_duplicated_run() {
    let dir = scratch("replaced");
    let log = dir.join("runs.log");
    let log_arg = log.display().to_string();
    let workers = Workers::new();
    let executor = workers.executor(1);
    let plan = [
        ("ok", RunOutcome::Success),
        ("abort", RunOutcome::Crash),
        ("ok", RunOutcome::Success),
        ("segv", RunOutcome::Crash),
        ("ok", RunOutcome::Success),
        ("exit", RunOutcome::Error),
        ("ok", RunOutcome::Success),
        ("panic", RunOutcome::Panic),
        ("ok", RunOutcome::Success),
        ("abort", RunOutcome::Crash),
        ("ok", RunOutcome::Success),
        ("ok", RunOutcome::Success),
    ];
    let mut expected_log = Vec::new();
    for (i, (task, expected)) in plan.iter().enumerate() {
        let job = format!("run-{i}");
        let args = json!({"log": log_arg, "code": 3});
        let outcome = executor
            .execute(workers.task(task), context(&job, args))
            .await;
        assert_eq!(outcome.kind, *expected, "{job} ({task}): {outcome:?}");
        if *task == "exit" {
            assert!(
                message(&outcome).contains("exited with status 3"),
                "{outcome:?}"
            );
        }
        if *task == "ok" {
            expected_log.push(job);
        }
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(' ').unwrap()).collect();
    let jobs: Vec<&str> = lines.iter().map(|(job, _)| *job).collect();
    assert_eq!(
        jobs, expected_log,
        "every successful run exactly once, in order"
    );
    // abort, segv, exit, abort: four workers lost, each replaced.
    assert_eq!(
        (executor.workers_started(), executor.workers_lost()),
        (5, 4)
    );
    let pids: std::collections::BTreeSet<&str> = lines.iter().map(|(_, pid)| *pid).collect();
    assert_eq!(pids.len(), 5, "runs after each crash ran in a fresh worker");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_bound_is_honoured_under_load() {
    const BOUND: usize = 2;
    let dir = scratch("bound");
    let counter = dir.join("counter");
    std::fs::write(&counter, [0u8; 16]).unwrap();
    let workers = Workers::new();
    let executor = workers.executor(BOUND);
    let mut runs = Vec::new();
    for i in 0..BOUND * 5 {
        let executor = executor.clone();
        let task = workers.task("concurrency");
        let args = json!({"counter": counter.display().to_string(), "bound": BOUND});
        runs.push(tokio::spawn(async move {
            executor
                .execute(task, context(&format!("load-{i}"), args))
                .await
        }));
    }
    for run in runs {
        assert_eq!(run.await.unwrap(), Outcome::success());
    }
    let bytes = std::fs::read(&counter).unwrap();
    let cell = |i: usize| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!(cell(0), 0, "every run left");
    assert_eq!(
        cell(1),
        BOUND as u64,
        "at most (and at some point exactly) {BOUND} at once"
    );
    assert_eq!(executor.workers_started(), BOUND as u64);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn shutdown_waits_for_running_jobs_then_kills_them_at_the_deadline() {
    let dir = scratch("shutdown");
    let workers = Workers::new();

    // Within the deadline: the run finishes normally.
    let executor = workers.executor(2);
    let quick = tokio::spawn({
        let executor = executor.clone();
        async move {
            run_command(
                &executor,
                json!({"argv": ["sh", "-c", "sleep 0.2; echo done"]}),
            )
            .await
        }
    });
    tokio::task::yield_now().await;
    executor.shutdown(Duration::from_secs(2)).await;
    let quick = quick.await.unwrap();
    assert_eq!(quick.kind, RunOutcome::Success, "{quick:?}");

    // Past the deadline: a worker task and a command are killed, with their
    // process groups, and reported as cancelled.
    let executor = workers.executor(2);
    let pidfile = dir.join("pid");
    let marker = dir.join("marker");
    let worker_run = tokio::spawn({
        let (executor, task) = (executor.clone(), workers.task("grandchild"));
        let args = json!({"pidfile": pidfile.display().to_string()});
        async move { executor.execute(task, context("w", args)).await }
    });
    let command_run = tokio::spawn({
        let executor = executor.clone();
        let script = format!("echo $$ > {}; exec sleep 60", marker.display());
        async move { run_command(&executor, json!({"argv": ["sh", "-c", script]})).await }
    });
    let grandchild: u32 = read_when_written(&pidfile).await.trim().parse().unwrap();
    let command_pid: u32 = read_when_written(&marker).await.trim().parse().unwrap();
    let begun = Instant::now();
    executor.shutdown(Duration::from_millis(300)).await;
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "{:?}",
        begun.elapsed()
    );
    for run in [worker_run, command_run] {
        let outcome = run.await.unwrap();
        assert_eq!(outcome.kind, RunOutcome::Cancelled, "{outcome:?}");
        assert!(
            message(&outcome).starts_with("killed at executor shutdown"),
            "{outcome:?}"
        );
    }
    assert_gone(grandchild).await;
    assert_gone(command_pid).await;
    let late = executor
        .execute(workers.task("ok"), context("late", json!({})))
        .await;
    assert_eq!(
        late,
        Outcome::failure(RunOutcome::Cancelled, "the process executor is shut down")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_program_that_is_not_a_worker_and_a_foreign_task_are_errors() {
    let workers = Workers::new();
    let executor = workers
        .executor(1)
        .with_worker_program("/bin/echo")
        .with_worker_args(["hello"]);
    let outcome = executor
        .execute(workers.task("ok"), context("x", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert_eq!(
        message(&outcome),
        "worker program '/bin/echo' did not start as a chime worker (it printed \"hello\\n\"); \
         it must call chime_executor_process::worker_main(&tasks) first thing in main"
    );

    let foreign = TaskFn::from_blocking(|_ctx: TaskContext, _: Value| {});
    let outcome = workers
        .executor(1)
        .execute(foreign, context("y", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert!(
        message(&outcome).contains("runs only the `command` task"),
        "{outcome:?}"
    );

    // A worker task's placeholder run on another executor says where it belongs.
    let outcome = TokioExecutor::new(1)
        .execute(workers.task("ok"), context("z", json!({})))
        .await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert!(
        message(&outcome).contains("runs in worker processes"),
        "{outcome:?}"
    );
}

// --------------------------------------------------------------- scheduler

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_routes_jobs_to_the_process_executor_and_reports_failures() {
    let workers = Workers::new();
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .executor("process", workers.executor(2))
        .build()
        .unwrap();
    workers.tasks.install(scheduler.tasks()).unwrap();
    register_command_task(scheduler.tasks()).unwrap();
    let mut events = scheduler.subscribe();
    scheduler.start().await.unwrap();
    let soon = scheduler.now() + TimeDelta::milliseconds(50);
    let jobs = [
        NewJob::new("segv", DateTrigger::new(soon)).id("crashy"),
        NewJob::new("command", DateTrigger::new(soon))
            .id("backup")
            .args(json!({"argv": ["sh", "-c", "echo 'no space left' >&2; exit 4"]})),
        NewJob::new("ok", DateTrigger::new(soon))
            .id("fine")
            .args(json!({})),
    ];
    for job in jobs {
        scheduler.add_job(job.executor("process")).await.unwrap();
    }
    let mut errors = std::collections::BTreeMap::new();
    let mut executed = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while errors.len() < 2 || executed.is_empty() {
            match events.recv().await.unwrap() {
                Event::JobError {
                    job_id,
                    outcome,
                    error,
                    ..
                } => {
                    errors.insert(job_id, (outcome, error));
                }
                Event::JobExecuted { job_id, .. } => executed.push(job_id),
                _ => {}
            }
        }
    })
    .await
    .expect("every run is reported");
    assert_eq!(executed, ["fine"]);
    let (kind, text) = &errors["crashy"];
    assert_eq!(*kind, RunOutcome::Crash);
    assert!(text.contains("killed by signal SIGSEGV"), "{text}");
    let (kind, text) = &errors["backup"];
    assert_eq!(*kind, RunOutcome::Error);
    assert_eq!(
        text,
        "command 'sh' exited with status 4\n--- stderr ---\nno space left"
    );
    scheduler.shutdown().await.unwrap();
}
