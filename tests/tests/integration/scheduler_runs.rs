//! Jobs fire when their triggers say, and every outcome is an event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chime::executor::TokioExecutor;
use chime::store::RunOutcome;
use chime::trigger::{DateTrigger, IntervalTrigger};
use chime::{Event, NewJob, SchedulerState, TaskContext};

use crate::harness::{at, builder_with, harness, t0};

#[tokio::test(start_paused = true)]
async fn interval_job_fires_exactly_on_its_grid() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", IntervalTrigger::seconds(10).unwrap()).id("tick"))
        .await
        .unwrap();
    h.run_until(at(45)).await;
    // Anchored at "added + 10 s": 10, 20, 30, 40.
    assert_eq!(h.fires("tick"), vec![at(10), at(20), at(30), at(40)]);
    for seen in h.seen() {
        assert_eq!(
            seen.started, seen.scheduled,
            "ran late under a paused clock"
        );
    }
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn one_shot_job_runs_once_and_is_removed() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(5))).id("once"))
        .await
        .unwrap();
    h.wait_for(|e| matches!(e, Event::JobRemoved { job_id, .. } if job_id == "once"))
        .await;
    h.run_until(at(60)).await;
    assert_eq!(h.fires("once"), vec![at(5)]);
    assert!(h.scheduler.get_job("once").await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn run_after_is_a_one_shot_timer() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    let job = h
        .scheduler
        .run_after(Duration::from_secs(3), "record", serde_json::json!({}))
        .await
        .unwrap();
    h.run_until(at(10)).await;
    assert_eq!(h.fires(&job.id), vec![at(3)]);
    assert!(h.scheduler.get_job(&job.id).await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn events_follow_a_run_from_add_to_outcome() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(1))).id("e"))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while !(kinds.iter().any(|e| matches!(e, Event::JobRemoved { .. }))
        && kinds.iter().any(|e| matches!(e, Event::JobExecuted { .. })))
    {
        kinds.push(h.wait_for(|e| e.job_id() == Some("e")).await);
    }
    let position = |f: fn(&Event) -> bool| kinds.iter().position(f).unwrap();
    assert!(
        position(|e| matches!(e, Event::JobSubmitted { .. }))
            < position(|e| matches!(e, Event::JobExecuted { .. }))
    );
    // Dispatched ahead, the one-shot job leaves its store (JobRemoved) when
    // it is handed out, before its instant; it is submitted at the instant.
    assert!(
        position(|e| matches!(e, Event::JobRemoved { .. }))
            < position(|e| matches!(e, Event::JobSubmitted { .. }))
    );
    assert!(matches!(kinds[0], Event::JobAdded { .. }), "{kinds:?}");
    assert!(kinds.iter().any(|e| matches!(e, Event::JobSubmitted { scheduled_run_times, .. } if *scheduled_run_times == vec![at(1)])));
    assert!(kinds.iter().any(|e| matches!(e, Event::JobExecuted { scheduled_run_time, started_at, .. } if *scheduled_run_time == at(1) && *started_at == at(1))));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_task_is_an_error_event_and_the_scheduler_goes_on() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("panic", IntervalTrigger::seconds(10).unwrap()).id("bad"))
        .await
        .unwrap();
    h.scheduler
        .add_job(NewJob::new("record", IntervalTrigger::seconds(10).unwrap()).id("good"))
        .await
        .unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    match event {
        Event::JobError {
            job_id,
            outcome,
            error,
            ..
        } => {
            assert_eq!(job_id, "bad");
            assert_eq!(outcome, RunOutcome::Panic);
            assert!(error.contains("task blew up"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    h.run_until(at(35)).await;
    assert_eq!(h.fires("good"), vec![at(10), at(20), at(30)]);
    assert_eq!(h.scheduler.state(), SchedulerState::Running);
    // The panicking job keeps its schedule too.
    let bad = h.scheduler.get_job("bad").await.unwrap().unwrap();
    assert_eq!(bad.job.next_run_time, Some(at(40)));
}

#[tokio::test(start_paused = true)]
async fn a_failing_task_reports_its_error_text_and_history_keeps_it() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("fail", IntervalTrigger::seconds(10).unwrap()).id("f"))
        .await
        .unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    assert!(
        matches!(event, Event::JobError { outcome: RunOutcome::Error, ref error, .. } if error == "disk full")
    );
    h.run_until(at(25)).await;
    let history = h.scheduler.run_history("f", 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].scheduled_run_time, at(20), "newest first");
    assert_eq!(history[1].scheduled_run_time, at(10));
    assert!(history
        .iter()
        .all(|r| r.outcome == RunOutcome::Error && r.message.as_deref() == Some("disk full")));
}

#[tokio::test(start_paused = true)]
async fn blocking_tasks_run_off_the_async_workers() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("blocking_record", DateTrigger::new(at(2))).id("b"))
        .await
        .unwrap();
    h.run_until(at(3)).await;
    assert_eq!(h.fires("b"), vec![at(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_can_add_a_job_from_inside_a_job() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = Arc::clone(&seen);
    let mut h = builder_with(|b| {
        b.task_async("spawner", |ctx: TaskContext, _: ()| async move {
            ctx.scheduler
                .add_job(
                    NewJob::new(
                        "child",
                        DateTrigger::new(
                            ctx.scheduled_run_time + chime::chrono::TimeDelta::seconds(1),
                        ),
                    )
                    .id("child-job"),
                )
                .await
                .map(|_| ())
        })
        .task_async("child", move |ctx: TaskContext, _: ()| {
            let s = Arc::clone(&s);
            async move {
                s.lock()
                    .unwrap()
                    .push(format!("{} {}", ctx.job_id, ctx.scheduled_run_time))
            }
        })
    });
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("spawner", DateTrigger::new(at(5))).id("parent"))
        .await
        .unwrap();
    h.wait_for(|e| matches!(e, Event::JobExecuted { job_id, .. } if job_id == "child-job"))
        .await;
    assert_eq!(*seen.lock().unwrap(), vec![format!("child-job {}", at(6))]);
}

#[tokio::test(start_paused = true)]
async fn higher_priority_is_dispatched_first_among_jobs_due_together() {
    let order: Arc<Mutex<Vec<String>>> = Arc::default();
    let o = Arc::clone(&order);
    let h = builder_with(|b| {
        b.executor("default", TokioExecutor::new(1)).task_async(
            "note",
            move |ctx: TaskContext, _: ()| {
                let o = Arc::clone(&o);
                async move { o.lock().unwrap().push(ctx.job_id.to_string()) }
            },
        )
    });
    for (id, priority) in [("low", -5), ("mid", 0), ("high", 10), ("mid2", 0)] {
        h.scheduler
            .add_job(
                NewJob::new("note", DateTrigger::new(at(5)))
                    .id(id)
                    .priority(priority),
            )
            .await
            .unwrap();
    }
    h.scheduler.start().await.unwrap();
    h.run_until(at(6)).await;
    assert_eq!(*order.lock().unwrap(), vec!["high", "mid", "mid2", "low"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_a_running_job() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("sleep", DateTrigger::new(at(1)))
                .id("slow")
                .args(20),
        )
        .await
        .unwrap();
    h.wait_for(|e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.scheduler
        .shutdown_with_timeout(Duration::from_secs(60))
        .await
        .unwrap();
    // The job finished (20 s of virtual time) before shutdown returned.
    assert_eq!(h.fires("slow"), vec![at(1)]);
    assert_eq!(h.clock_now(), at(21));
    assert_eq!(h.scheduler.state(), SchedulerState::Shutdown);
    let err = h
        .scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(100))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), chime::ErrorKind::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_jobs_still_running_at_the_deadline() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("sleep", DateTrigger::new(at(1)))
                .id("endless")
                .args(100_000),
        )
        .await
        .unwrap();
    h.wait_for(|e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    assert!(h.fires("endless").is_empty());
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    assert!(
        matches!(
            event,
            Event::JobError {
                outcome: RunOutcome::Cancelled,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(
        h.clock_now() < at(10),
        "shutdown took {}",
        h.clock_now() - t0()
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_does_not_start_a_run_queued_behind_a_cancelled_one() {
    let mut h = builder_with(|b| b.executor("single", TokioExecutor::new(1)));
    h.scheduler.start().await.unwrap();
    // "endless" holds the executor's only slot; "queued" waits for it.
    for (id, task, due) in [("endless", "sleep", at(1)), ("queued", "record", at(2))] {
        h.scheduler
            .add_job(
                NewJob::new(task, DateTrigger::new(due))
                    .id(id)
                    .args(100_000)
                    .executor("single"),
            )
            .await
            .unwrap();
    }
    h.wait_for(|e| matches!(e, Event::JobSubmitted { job_id, .. } if job_id == "queued"))
        .await;
    h.scheduler
        .shutdown_with_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    // Cancelling "endless" frees the slot, but "queued" must not take it.
    assert!(h.fires("queued").is_empty(), "a run started after shutdown");
    let mut cancelled = Vec::new();
    while cancelled.len() < 2 {
        if let Event::JobError {
            job_id,
            outcome: RunOutcome::Cancelled,
            ..
        } = h.wait_for(|e| matches!(e, Event::JobError { .. })).await
        {
            cancelled.push(job_id);
        }
    }
    cancelled.sort();
    assert_eq!(cancelled, ["endless", "queued"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_from_inside_a_job_does_not_deadlock() {
    let mut h = builder_with(|b| {
        b.task_async("stopper", |ctx: TaskContext, _: ()| async move {
            ctx.scheduler.shutdown().await
        })
    });
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("stopper", DateTrigger::new(at(2))))
        .await
        .unwrap();
    h.wait_for(|e| matches!(e, Event::SchedulerShutdown)).await;
    assert_eq!(h.scheduler.state(), SchedulerState::Shutdown);
    assert!(h.clock_now() < at(5));
}

/// A custom trigger kind: fires at the top of every other minute.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct EveryOtherMinute {
    offset_secs: i64,
}

impl chime::trigger::Trigger for EveryOtherMinute {
    fn kind(&self) -> &str {
        "every_other_minute"
    }
    fn next_fire_time(
        &self,
        previous: Option<chime::chrono::DateTime<chime::chrono::Utc>>,
        now: chime::chrono::DateTime<chime::chrono::Utc>,
    ) -> Option<chime::chrono::DateTime<chime::chrono::Utc>> {
        let after = match previous {
            Some(p) => p.timestamp() + 1,
            None => now.timestamp() + i64::from(now.timestamp_subsec_nanos() > 0),
        };
        let period = 120;
        let base = after - self.offset_secs;
        let next = base.div_euclid(period) * period
            + if base.rem_euclid(period) == 0 {
                0
            } else {
                period
            };
        chime::chrono::DateTime::from_timestamp(next + self.offset_secs, 0)
    }
    fn to_spec(&self) -> chime::Result<chime::trigger::TriggerSpec> {
        chime::trigger::TriggerSpec::new("every_other_minute", self)
    }
    fn describe(&self) -> String {
        "every other minute".into()
    }
}

#[tokio::test(start_paused = true)]
async fn custom_trigger_kinds_plug_in_by_name() {
    let h = builder_with(|b| {
        b.trigger_kind("every_other_minute", |spec, _registry| {
            let trigger: EveryOtherMinute = spec.decode(1)?;
            Ok(Arc::new(trigger) as Arc<dyn chime::trigger::Trigger>)
        })
    });
    let job = h
        .scheduler
        .add_job(NewJob::new("record", EveryOtherMinute { offset_secs: 30 }).id("custom"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&job.trigger).unwrap(),
        serde_json::json!({"kind": "every_other_minute", "offset_secs": 30})
    );
    h.scheduler.start().await.unwrap();
    h.run_until(at(400)).await;
    // 2026-01-01T00:00:00Z is a multiple of 120 s, so the grid is :30 past
    // every even minute: 30, 150, 270, 390.
    assert_eq!(h.fires("custom"), vec![at(30), at(150), at(270), at(390)]);
}

#[tokio::test(start_paused = true)]
async fn jobs_run_on_the_executor_they_name() {
    let h = builder_with(|b| b.executor("single", TokioExecutor::new(1)));
    h.scheduler.start().await.unwrap();
    // Two slow jobs on a one-slot executor run one after the other; on the
    // default executor they would overlap.
    for id in ["a", "b"] {
        h.scheduler
            .add_job(
                NewJob::new("sleep", DateTrigger::new(at(1)))
                    .id(id)
                    .args(10)
                    .executor("single"),
            )
            .await
            .unwrap();
    }
    h.run_until(at(25)).await;
    let mut ends: Vec<_> = h.seen().into_iter().map(|s| s.started).collect();
    ends.sort();
    assert_eq!(
        ends,
        vec![at(11), at(21)],
        "the second waited for the only slot"
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_is_dispatched_ahead_and_starts_at_its_instant_not_before() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    // 300 one-shot jobs (three batches) due at the same instant.
    let jobs = (0..300)
        .map(|i| NewJob::new("record", DateTrigger::new(at(10))).id(format!("burst-{i}")))
        .collect();
    h.scheduler.add_jobs(jobs).await.unwrap();
    let just_before = at(10) - chime::chrono::TimeDelta::milliseconds(40);
    h.run_until(just_before).await;
    // Handed out already (one-shot jobs leave their store when released),
    // but nothing has started.
    assert!(h.seen().is_empty(), "a run started before its instant");
    let left = h
        .scheduler
        .list_jobs(&chime::JobFilter::all())
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "the burst was not dispatched ahead: {} left",
        left.len()
    );
    h.run_until(at(11)).await;
    let seen = h.seen();
    assert_eq!(seen.len(), 300);
    assert!(
        seen.iter().all(|s| s.started == at(10)),
        "every run starts at exactly its instant"
    );
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn later_fires_of_a_fast_job_are_never_handed_out_early() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    // Fires every 30 ms: three fall inside the 100 ms look-ahead at once.
    let trigger = IntervalTrigger::new(Duration::from_millis(30))
        .unwrap()
        .starting_at(at(1));
    h.scheduler
        .add_job(NewJob::new("record", trigger).id("fast").coalesce(false))
        .await
        .unwrap();
    h.run_until(at(2)).await;
    let seen = h.seen();
    assert!(seen.len() >= 30, "only {} runs", seen.len());
    for s in &seen {
        assert_eq!(s.times.len(), 1, "one fire per run");
        assert_eq!(
            s.started, s.scheduled,
            "each run starts at its own fire time"
        );
    }
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_a_run_handed_out_ahead_start_at_its_instant() {
    let h = handed_out_ahead("waiting").await;
    // The fire is handed off (the job has left its store): shutdown waits
    // for it like for any run in progress, and it starts on time.
    h.scheduler.shutdown().await.unwrap();
    let seen = h.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].job_id.as_str(), seen[0].started),
        ("waiting", at(10))
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_handed_out_ahead_is_cancelled_at_once_when_shutdown_runs_out_of_time() {
    let mut h = handed_out_ahead("waiting").await;
    // The run waits for its instant, 40 ms away; shutdown has no time
    // left: cancelling the runs releases it at once, and it reports itself
    // cancelled without starting.
    h.scheduler
        .shutdown_with_timeout(Duration::ZERO)
        .await
        .unwrap();
    assert!(
        h.fires("waiting").is_empty(),
        "a run started after shutdown"
    );
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    assert!(
        matches!(
            &event,
            Event::JobError { job_id, outcome: RunOutcome::Cancelled, .. } if job_id == "waiting"
        ),
        "{event:?}"
    );
    assert!(
        h.clock_now() < at(10),
        "the cancelled run was held until its instant"
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_handed_out_ahead_is_skipped_if_the_previous_one_is_still_going_at_its_instant() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    // Every second, each run takes 3 s, one instance at a time.
    h.scheduler
        .add_job(
            NewJob::new(
                "sleep",
                IntervalTrigger::seconds(1).unwrap().starting_at(at(1)),
            )
            .id("slow")
            .args(3)
            .max_instances(1),
        )
        .await
        .unwrap();
    let event = h
        .wait_for(|e| matches!(e, Event::JobMaxInstancesReached { .. }))
        .await;
    let Event::JobMaxInstancesReached {
        scheduled_run_times,
        ..
    } = event
    else {
        unreachable!()
    };
    // Skipped at its own instant (2 s), not when it was handed out.
    assert_eq!(scheduled_run_times, vec![at(2)]);
    assert_eq!(h.clock_now(), at(2));
    h.scheduler.shutdown().await.unwrap();
}

#[test]
fn dispatch_ahead_must_be_shorter_than_the_lease() {
    let mut config = chime::SchedulerConfig::default();
    config.lease_duration = Duration::from_secs(1);
    let result = chime::AsyncScheduler::builder()
        .store("default", chime::store::MemoryStore::new())
        .config(config)
        .dispatch_ahead(Duration::from_secs(1))
        .build();
    let err = result.expect_err("refused");
    assert!(err.message().contains("dispatch_ahead"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_run_handed_out_ahead_is_not_held_back_by_a_clock_step_backwards() {
    let h = handed_out_ahead("stepped").await;
    // Handed out already; now the wall clock steps back an hour.
    h.clock.jump(chime::chrono::TimeDelta::hours(-1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = h.seen();
    assert_eq!(
        seen.len(),
        1,
        "the run waited for the wall clock to catch up"
    );
    assert_eq!(seen[0].scheduled, at(10));
}

#[tokio::test(start_paused = true)]
async fn a_run_handed_out_ahead_waits_out_a_wall_clock_that_runs_slow() {
    let h = handed_out_ahead("slewed").await;
    // Handed out already; the wall clock then loses 4 ms against the
    // monotonic one (as under NTP slewing). The run still never sees a
    // time before its instant.
    h.clock.jump(chime::chrono::TimeDelta::milliseconds(-4));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = h.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].scheduled, seen[0].started), (at(10), at(10)));
}

#[tokio::test(start_paused = true)]
async fn a_burst_starts_every_run_before_reporting_any() {
    type Shared = Arc<Mutex<Option<tokio::sync::broadcast::Receiver<Event>>>>;
    let events: Shared = Arc::default();
    let reported_before_start: Arc<Mutex<Vec<usize>>> = Arc::default();
    let (e, r) = (Arc::clone(&events), Arc::clone(&reported_before_start));
    let h = builder_with(move |b| {
        b.task_async("count", move |_ctx: TaskContext, _: ()| {
            // How many runs had been reported (JobExecuted) when this one
            // started.
            let mut reported = 0;
            if let Some(rx) = e.lock().unwrap().as_mut() {
                while let Ok(event) = rx.try_recv() {
                    reported += usize::from(matches!(event, Event::JobExecuted { .. }));
                }
            }
            r.lock().unwrap().push(reported);
            async {}
        })
    });
    *events.lock().unwrap() = Some(h.scheduler.subscribe());
    h.scheduler.start().await.unwrap();
    let jobs = (0..50)
        .map(|i| NewJob::new("count", DateTrigger::new(at(10))).id(format!("b-{i}")))
        .collect();
    h.scheduler.add_jobs(jobs).await.unwrap();
    h.run_until(at(11)).await;
    let seen = reported_before_start.lock().unwrap().clone();
    assert_eq!(seen.len(), 50);
    // Each run's history and events wait until the runs due with it have
    // started: none is held up by the others' bookkeeping.
    assert_eq!(seen.iter().sum::<usize>(), 0, "{seen:?}");
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_system_clock_a_run_handed_out_ahead_never_starts_before_its_instant() {
    use chime::chrono::{TimeDelta, Utc};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let scheduler = chime::AsyncScheduler::builder()
        .store("default", chime::store::MemoryStore::new())
        .task_async("stamp", move |ctx: TaskContext, _: ()| {
            let _ = tx.send((ctx.scheduled_run_time, Utc::now()));
            async {}
        })
        .build()
        .unwrap();
    scheduler.start().await.unwrap();
    // Due 300 ms from now: handed out 100 ms ahead, then waiting on the
    // real timer and the precise last stretch.
    let due = Utc::now() + TimeDelta::milliseconds(300);
    let jobs = (0..20)
        .map(|i| NewJob::new("stamp", DateTrigger::new(due)).id(format!("s-{i}")))
        .collect();
    scheduler.add_jobs(jobs).await.unwrap();
    for _ in 0..20 {
        let (scheduled, started) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("every run starts")
            .expect("the task is registered");
        assert_eq!(scheduled, due);
        assert!(
            started >= due,
            "started {started}, before its instant {due}"
        );
    }
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_wall_clock_that_stays_behind_holds_a_run_only_once() {
    let h = handed_out_ahead("lagging").await;
    // The wall clock loses 4 ms: at its instant (by the monotonic clock)
    // the run waits 4 ms more…
    h.clock.jump(chime::chrono::TimeDelta::milliseconds(-4));
    tokio::time::sleep(Duration::from_millis(41)).await;
    assert!(h.seen().is_empty());
    // …and the clock loses 4 ms again meanwhile: the run is not held again.
    h.clock.jump(chime::chrono::TimeDelta::milliseconds(-4));
    tokio::time::sleep(Duration::from_millis(4)).await;
    let seen = h.seen();
    assert_eq!(seen.len(), 1, "held a second time");
    assert_eq!(seen[0].scheduled, at(10));
}

#[test]
fn a_busy_blocking_pool_does_not_hold_runs_handed_out_ahead() {
    use chime::chrono::{TimeDelta, Utc};
    // One blocking thread, taken by a blocking job for the whole test: the
    // launcher's precise last stretch cannot get a thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (taken, mut pool_taken) = tokio::sync::oneshot::channel::<()>();
        let blocker = tokio::task::spawn_blocking(move || {
            let _ = taken.send(());
            let _ = held.recv();
        });
        (&mut pool_taken).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let scheduler = chime::AsyncScheduler::builder()
            .store("default", chime::store::MemoryStore::new())
            .task_async("stamp", move |ctx: TaskContext, _: ()| {
                let _ = tx.send(ctx.scheduled_run_time);
                async {}
            })
            .build()
            .unwrap();
        scheduler.start().await.unwrap();
        let due = Utc::now() + TimeDelta::milliseconds(300);
        scheduler
            .add_job(NewJob::new("stamp", DateTrigger::new(due)).id("on-time"))
            .await
            .unwrap();
        let ran = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        // Free the pool before asserting, so the runtime can shut down.
        let _ = release.send(());
        blocker.await.unwrap();
        assert_eq!(
            ran.expect("the run waited for the blocking pool"),
            Some(due)
        );
        scheduler.shutdown().await.unwrap();
    });
}

/// A started scheduler whose one-shot job `id`, due at `at(10)`, has been
/// handed out ahead: the clock stands 40 ms before its instant.
async fn handed_out_ahead(id: &str) -> crate::harness::Harness {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(10))).id(id))
        .await
        .unwrap();
    h.run_until(at(10) - chime::chrono::TimeDelta::milliseconds(40))
        .await;
    h
}

/// An executor (user code) that panics on its first run instead of
/// reporting an outcome, then runs tasks normally.
#[derive(Debug)]
struct PanicsOnce {
    panicked: std::sync::atomic::AtomicBool,
    then: TokioExecutor,
}

#[async_trait::async_trait]
impl chime::executor::Executor for PanicsOnce {
    async fn execute(
        &self,
        task: chime::task::TaskFn,
        context: TaskContext,
    ) -> chime::executor::Outcome {
        if !self
            .panicked
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("the executor itself failed");
        }
        self.then.execute(task, context).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_whose_executor_panics_is_a_panic_outcome_and_frees_its_instance_slot() {
    let mut h = builder_with(|b| {
        b.executor(
            "flaky",
            PanicsOnce {
                panicked: Default::default(),
                then: TokioExecutor::new(4),
            },
        )
    });
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(10).unwrap())
                .id("tick")
                .executor("flaky")
                .max_instances(1),
        )
        .await
        .unwrap();
    // Reported like a panicking task: an error event and a history record.
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    let Event::JobError {
        scheduled_run_time,
        outcome,
        error,
        ..
    } = event
    else {
        unreachable!()
    };
    assert_eq!(
        (scheduled_run_time, outcome),
        (at(10), RunOutcome::Panic),
        "{error}"
    );
    assert!(error.contains("the executor itself failed"), "{error}");
    h.run_until(at(35)).await;
    // Its instance slot was freed too, so the job is not stuck at "maximum
    // instances running" for good: the next runs go through the executor.
    assert_eq!(h.fires("tick"), vec![at(20), at(30)]);
    let history = h.scheduler.run_history("tick", 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].outcome, RunOutcome::Panic);
    h.scheduler.shutdown().await.unwrap();
}
