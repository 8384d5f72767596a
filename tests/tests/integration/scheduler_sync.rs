//! The synchronous schedulers, on real (not paused) time. They wait for
//! events, never for a fixed time.

use std::sync::mpsc;
use std::time::Duration;

use chime::job::NextRun;
use chime::store::MemoryStore;
use chime::trigger::IntervalTrigger;
use chime::{
    AsyncScheduler, BackgroundScheduler, BlockingScheduler, Event, EventMask, NewJob,
    SchedulerState, TaskContext,
};

const PATIENCE: Duration = Duration::from_secs(30);

#[test]
fn background_scheduler_runs_jobs_on_its_own_thread() {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let builder = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_blocking("ping", move |ctx: TaskContext, n: u32| {
            tx.send((
                ctx.job_id.clone(),
                n,
                std::thread::current().name().map(str::to_owned),
            ))
            .map_err(|e| e.to_string())
        });
    let scheduler = BackgroundScheduler::start(builder).unwrap();
    let handle = scheduler.handle().clone();
    assert_eq!(handle.state(), SchedulerState::Running);
    handle
        .scheduler()
        .add_listener(EventMask::JOB_EXECUTED, move |e| {
            let _ = done_tx.send(e.job_id().map(str::to_owned));
        });
    handle
        .add_job(
            NewJob::new("ping", IntervalTrigger::seconds(3600).unwrap())
                .id("bg")
                .args(7)
                .next_run(NextRun::At(handle.scheduler().now())),
        )
        .unwrap();
    let (id, n, thread) = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!((id.as_str(), n), ("bg", 7));
    assert_ne!(thread.as_deref(), Some("main"));
    // Once the run is reported done, "run now" may start it again at once
    // (max_instances is 1).
    assert_eq!(
        done_rx.recv_timeout(PATIENCE).unwrap().as_deref(),
        Some("bg")
    );
    handle.run_job("bg").unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap().0, "bg");
    let job = handle.get_job("bg").unwrap().unwrap();
    assert!(job.job.next_run_time.is_some());
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(handle.state(), SchedulerState::Shutdown);
    // The handle outlives the scheduler and answers with an error, not a hang.
    let err = handle
        .add_job(NewJob::new("ping", IntervalTrigger::seconds(1).unwrap()))
        .unwrap_err();
    assert_eq!(err.kind(), chime::ErrorKind::Shutdown);
}

#[test]
fn blocking_scheduler_runs_until_a_job_shuts_it_down() {
    let builder = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("stop", |ctx: TaskContext, _: ()| async move {
            ctx.scheduler.shutdown().await
        });
    let scheduler = BlockingScheduler::new(builder).unwrap();
    let handle = scheduler.handle();
    let (tx, rx) = mpsc::channel();
    handle
        .scheduler()
        .add_listener(EventMask::JOB_EXECUTED, move |e| {
            if let Event::JobExecuted { job_id, .. } = e {
                let _ = tx.send(job_id.clone());
            }
        });
    // Added before run(): the handle works before the scheduler starts.
    handle
        .add_job(
            NewJob::new("stop", IntervalTrigger::seconds(3600).unwrap())
                .id("stopper")
                .next_run(NextRun::At(handle.scheduler().now())),
        )
        .unwrap();
    // A watchdog, so a job that never fires fails the test instead of
    // hanging it.
    let watchdog = handle.clone();
    std::thread::spawn(move || {
        std::thread::sleep(PATIENCE);
        let _ = watchdog.shutdown(Duration::from_secs(1));
    });
    scheduler.run().unwrap();
    assert_eq!(handle.state(), SchedulerState::Shutdown);
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "stopper");
}

#[test]
fn async_scheduler_works_on_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let scheduler = AsyncScheduler::builder()
            .store("default", MemoryStore::new())
            .task_async("noop", |_: TaskContext, _: ()| async {})
            .build()
            .unwrap();
        let mut events = scheduler.subscribe();
        scheduler.start().await.unwrap();
        scheduler
            .add_job(NewJob::new("noop", IntervalTrigger::seconds(1).unwrap()).id("n"))
            .await
            .unwrap();
        loop {
            if let Event::JobExecuted { job_id, .. } = events.recv().await.unwrap() {
                assert_eq!(job_id, "n");
                break;
            }
        }
        scheduler.shutdown().await.unwrap();
    });
}
