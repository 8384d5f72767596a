//! The thread-pool executor: outcomes, the concurrency bound, back-pressure,
//! timeouts, shutdown, and a scheduler routing jobs to it.
//!
//! The pool runs tasks on OS threads, which tokio's paused clock cannot see,
//! so these tests run in real time. They never sleep to let something
//! happen: tasks block on gates the test opens, and the test awaits
//! outcomes, signals and events.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

use chime_core::chrono::{TimeDelta, Utc};
use chime_core::executor::{Executor, Outcome};
use chime_core::job::NewJob;
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskFn};
use chime_core::trigger::DateTrigger;
use chime_core::{AsyncScheduler, Event};
use chime_executor_threads::ThreadPoolExecutor;
use chime_store_memory::MemoryStore;
use tokio::sync::mpsc;

/// A scheduler that is never started, only there to build contexts.
fn context(job_id: &str) -> TaskContext {
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .build()
        .unwrap();
    TaskContext::new(
        job_id,
        "default",
        vec![Utc::now()],
        serde_json::Value::Null,
        scheduler,
    )
}

fn blocking(f: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> TaskFn {
    TaskFn::from_blocking(move |_ctx: TaskContext, _: serde_json::Value| f())
}

/// A gate tasks wait on until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, cv) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
    }

    fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

/// A task that says it started, then waits for the gate.
fn gated(name: &'static str, started: mpsc::UnboundedSender<&'static str>, gate: Gate) -> TaskFn {
    blocking(move || {
        let _ = started.send(name);
        gate.wait();
        Ok(())
    })
}

/// Polls the runtime (no sleeping) until `cond` holds; panics after many rounds.
async fn settle(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never happened: {what}");
}

/// Waits (bounded, real time) for something a pool thread does on its own
/// after the last signal the test can observe.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn blocking_tasks_run_on_pool_threads_and_errors_are_reported() {
    let pool = ThreadPoolExecutor::new(2).with_thread_name("crunch");
    let name = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&name);
    let task = blocking(move || {
        *seen.lock().unwrap() = std::thread::current().name().unwrap_or("").to_owned();
        Ok(())
    });
    assert_eq!(pool.execute(task, context("a")).await, Outcome::success());
    assert!(name.lock().unwrap().starts_with("crunch-"), "{name:?}");

    let failing = blocking(|| Err("disk full".to_owned()));
    let outcome = pool.execute(failing, context("b")).await;
    assert_eq!(outcome, Outcome::failure(RunOutcome::Error, "disk full"));

    // Typed arguments are decoded; bad ones are a clear error.
    let typed = TaskFn::from_blocking(
        |_ctx: TaskContext, n: u32| if n > 1 { Ok(()) } else { Err("small") },
    );
    let outcome = pool.execute(typed, context("c")).await;
    assert_eq!(outcome.kind, RunOutcome::Error);
    assert!(outcome
        .message
        .unwrap()
        .contains("invalid arguments for job 'c'"));
}

#[tokio::test]
async fn a_panic_is_a_panic_outcome_and_the_pool_keeps_its_size() {
    let pool = ThreadPoolExecutor::new(2);
    for i in 0..5 {
        let task = blocking(move || panic!("task {i} blew up"));
        let outcome = pool.execute(task, context("p")).await;
        assert_eq!(outcome.kind, RunOutcome::Panic);
        assert_eq!(
            outcome.message.as_deref(),
            Some(format!("task {i} blew up").as_str())
        );
    }
    assert!(pool.threads() <= 2);
    // Both threads are still there: two runs can meet at a barrier.
    let barrier = Arc::new(Barrier::new(2));
    let runs = (0..2).map(|_| {
        let barrier = Arc::clone(&barrier);
        pool.execute(
            blocking(move || {
                barrier.wait();
                Ok(())
            }),
            context("b"),
        )
    });
    for outcome in join_all(runs.collect()).await {
        assert_eq!(outcome, Outcome::success());
    }
    assert_eq!(pool.threads(), 2);
}

/// A minimal `join_all` (keeps the dev-dependencies small).
async fn join_all<F: std::future::Future<Output = Outcome>>(futures: Vec<F>) -> Vec<Outcome> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<Outcome>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, slot) in pinned.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(outcome) => *slot = Some(outcome),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_bound_is_honoured_under_load() {
    const THREADS: usize = 3;
    let pool = ThreadPoolExecutor::new(THREADS).with_queue_capacity(2);
    let current = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    // Runs meet in groups of THREADS: each group proves THREADS ran at
    // once, and a pool running more would push `max` over the bound before
    // the barrier.
    let barrier = Arc::new(Barrier::new(THREADS));
    let task = {
        let (current, max, barrier) =
            (Arc::clone(&current), Arc::clone(&max), Arc::clone(&barrier));
        blocking(move || {
            let now = current.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            barrier.wait();
            current.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    };
    let mut handles = Vec::new();
    for i in 0..THREADS * 8 {
        let (pool, task) = (pool.clone(), task.clone());
        handles.push(tokio::spawn(async move {
            pool.execute(task, context(&format!("load-{i}"))).await
        }));
    }
    for handle in handles {
        assert_eq!(handle.await.unwrap(), Outcome::success());
    }
    assert_eq!(max.load(Ordering::SeqCst), THREADS);
    assert_eq!(pool.threads(), THREADS);
    assert_eq!(pool.queued(), 0);
}

#[tokio::test]
async fn a_full_queue_makes_execute_wait_for_a_slot() {
    let pool = ThreadPoolExecutor::new(1).with_queue_capacity(1);
    let gate = Gate::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let order = Arc::new(Mutex::new(Vec::new()));
    let recorded = |name: &'static str| {
        let order = Arc::clone(&order);
        blocking(move || {
            order.lock().unwrap().push(name);
            Ok(())
        })
    };

    let a = tokio::spawn({
        let pool = pool.clone();
        let task = gated("a", started_tx.clone(), gate.clone());
        async move { pool.execute(task, context("a")).await }
    });
    assert_eq!(started.recv().await, Some("a"));
    let b = tokio::spawn({
        let (pool, task) = (pool.clone(), recorded("b"));
        async move { pool.execute(task, context("b")).await }
    });
    settle("b is queued", || pool.queued() == 1).await;
    let c = tokio::spawn({
        let (pool, task) = (pool.clone(), recorded("c"));
        async move { pool.execute(task, context("c")).await }
    });
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    // The one thread is busy and the one queue place is taken: c waits
    // for a slot instead of growing the queue.
    assert_eq!(pool.queued(), 1);
    assert!(!c.is_finished());

    gate.open();
    for run in [a, b, c] {
        assert_eq!(run.await.unwrap(), Outcome::success());
    }
    assert_eq!(*order.lock().unwrap(), vec!["b", "c"]);
}

#[tokio::test]
async fn a_run_outliving_its_timeout_is_reported_and_its_thread_replaced() {
    let pool = ThreadPoolExecutor::new(1).with_timeout(Duration::from_millis(200));
    let gate = Gate::default();
    let returned = Arc::new(AtomicBool::new(false));
    let stuck = {
        let (gate, returned) = (gate.clone(), Arc::clone(&returned));
        blocking(move || {
            gate.wait();
            returned.store(true, Ordering::SeqCst);
            Ok(())
        })
    };
    let outcome = pool.execute(stuck, context("stuck")).await;
    assert_eq!(outcome.kind, RunOutcome::Timeout);
    let message = outcome.message.unwrap();
    assert!(message.contains("timed out after 200ms"), "{message}");
    assert!(message.contains("cannot be killed"), "{message}");
    assert_eq!((pool.threads(), pool.stuck_threads()), (0, 1));

    // The slot was given back and a replacement thread runs the next job.
    let outcome = pool.execute(blocking(|| Ok(())), context("next")).await;
    assert_eq!(outcome, Outcome::success());
    assert_eq!((pool.threads(), pool.stuck_threads()), (1, 1));

    // The stuck thread finishes its task on its own, then leaves.
    gate.open();
    eventually("the stuck thread exits", || pool.stuck_threads() == 0).await;
    assert!(returned.load(Ordering::SeqCst));
    assert_eq!(pool.threads(), 1);
}

#[tokio::test]
async fn async_tasks_are_driven_on_a_pool_thread() {
    let pool = ThreadPoolExecutor::new(1).with_thread_name("async-pool");
    let name = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&name);
    let task = TaskFn::from_async(move |ctx: TaskContext, _: serde_json::Value| {
        let seen = Arc::clone(&seen);
        async move {
            tokio::task::yield_now().await;
            *seen.lock().unwrap() = std::thread::current().name().unwrap_or("").to_owned();
            if ctx.job_id == "async" {
                Ok(())
            } else {
                Err("wrong job")
            }
        }
    });
    assert_eq!(
        pool.execute(task, context("async")).await,
        Outcome::success()
    );
    assert!(name.lock().unwrap().starts_with("async-pool-"));

    let panicking = TaskFn::from_async(|_ctx: TaskContext, _: serde_json::Value| async move {
        if true {
            panic!("async boom");
        }
    });
    let outcome = pool.execute(panicking, context("p")).await;
    assert_eq!(outcome, Outcome::failure(RunOutcome::Panic, "async boom"));
}

#[tokio::test]
async fn shutdown_waits_for_running_jobs_and_then_refuses_work() {
    let pool = ThreadPoolExecutor::new(2);
    let gate = Gate::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let pool = pool.clone();
        let task = gated("running", started_tx, gate.clone());
        async move { pool.execute(task, context("running")).await }
    });
    assert_eq!(started.recv().await, Some("running"));

    let shutdown = tokio::spawn({
        let pool = pool.clone();
        async move { pool.shutdown(Duration::from_secs(30)).await }
    });
    settle("shutdown has begun", || {
        format!("{pool:?}").contains("closed: true")
    })
    .await;
    let late = tokio::spawn({
        let pool = pool.clone();
        async move { pool.execute(blocking(|| Ok(())), context("late")).await }
    });
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the running job"
    );

    gate.open();
    assert_eq!(running.await.unwrap(), Outcome::success());
    shutdown.await.unwrap();
    let late = late.await.unwrap();
    assert_eq!(late.kind, RunOutcome::Cancelled, "{late:?}");
    eventually("threads exit after shutdown", || pool.threads() == 0).await;
}

#[tokio::test]
async fn shutdown_returns_at_its_deadline_while_a_job_keeps_running() {
    let pool = ThreadPoolExecutor::new(1);
    let gate = Gate::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let pool = pool.clone();
        let task = gated("slow", started_tx, gate.clone());
        async move { pool.execute(task, context("slow")).await }
    });
    assert_eq!(started.recv().await, Some("slow"));

    let begun = Instant::now();
    pool.shutdown(Duration::from_millis(200)).await;
    let waited = begun.elapsed();
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // A thread cannot be killed: the run is still going and still reports.
    assert!(!running.is_finished());
    gate.open();
    assert_eq!(running.await.unwrap(), Outcome::success());
    eventually("the thread exits", || pool.threads() == 0).await;
}

#[tokio::test]
async fn a_queued_run_whose_caller_gave_up_is_skipped() {
    let pool = ThreadPoolExecutor::new(1).with_queue_capacity(4);
    let gate = Gate::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let first = tokio::spawn({
        let pool = pool.clone();
        let task = gated("first", started_tx, gate.clone());
        async move { pool.execute(task, context("first")).await }
    });
    assert_eq!(started.recv().await, Some("first"));
    let ran = Arc::new(AtomicBool::new(false));
    let dropped = tokio::spawn({
        let pool = pool.clone();
        let ran = Arc::clone(&ran);
        let task = blocking(move || {
            ran.store(true, Ordering::SeqCst);
            Ok(())
        });
        async move { pool.execute(task, context("dropped")).await }
    });
    settle("the second run is queued", || pool.queued() == 1).await;
    dropped.abort();
    let _ = dropped.await;
    gate.open();
    assert_eq!(first.await.unwrap(), Outcome::success());
    // Runs are taken in order: once this one ran, the dropped one was passed.
    assert_eq!(
        pool.execute(blocking(|| Ok(())), context("after")).await,
        Outcome::success()
    );
    assert!(!ran.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_routes_jobs_to_the_pool_and_reports_their_failures() {
    let pool = ThreadPoolExecutor::new(2).with_thread_name("sched-pool");
    let thread_name = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&thread_name);
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .executor("threads", pool.clone())
        .task_blocking("explode", |_ctx: TaskContext, _: ()| {
            if true {
                panic!("kaboom in a pool thread");
            }
        })
        .task_blocking("fine", move |_ctx: TaskContext, _: ()| {
            *seen.lock().unwrap() = std::thread::current().name().unwrap_or("").to_owned();
        })
        .build()
        .unwrap();
    let mut events = scheduler.subscribe();
    scheduler.start().await.unwrap();
    let soon = scheduler.now() + TimeDelta::milliseconds(50);
    for (id, task) in [("boom", "explode"), ("ok", "fine")] {
        scheduler
            .add_job(
                NewJob::new(task, DateTrigger::new(soon))
                    .id(id)
                    .executor("threads"),
            )
            .await
            .unwrap();
    }
    let (mut error, mut executed) = (None, false);
    tokio::time::timeout(Duration::from_secs(10), async {
        while error.is_none() || !executed {
            match events.recv().await.unwrap() {
                Event::JobError {
                    job_id,
                    outcome,
                    error: text,
                    ..
                } => {
                    assert_eq!(job_id, "boom");
                    error = Some((outcome, text));
                }
                Event::JobExecuted { job_id, .. } => {
                    assert_eq!(job_id, "ok");
                    executed = true;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("both runs are reported");
    assert_eq!(
        error,
        Some((RunOutcome::Panic, "kaboom in a pool thread".to_owned()))
    );
    assert!(thread_name.lock().unwrap().starts_with("sched-pool-"));
    scheduler.shutdown().await.unwrap();
    eventually("the scheduler shut the pool down", || pool.threads() == 0).await;
}
