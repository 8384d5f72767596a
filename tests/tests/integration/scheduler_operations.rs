//! Managing jobs on a running scheduler.

use std::time::Duration;

use chime::chrono::TimeDelta;
use chime::job::NextRun;
use chime::trigger::{DateTrigger, IntervalTrigger};
use chime::{ErrorKind, Event, JobChanges, JobFilter, NewJob};

use crate::harness::{at, harness};

fn every_10s() -> IntervalTrigger {
    IntervalTrigger::seconds(10).unwrap().starting_at(at(10))
}

#[tokio::test(start_paused = true)]
async fn paused_jobs_do_not_run_and_resume_from_now() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("j"))
        .await
        .unwrap();
    h.run_until(at(15)).await;
    let paused = h.scheduler.pause_job("j").await.unwrap();
    assert!(paused.is_paused());
    h.run_until(at(45)).await;
    assert_eq!(h.fires("j"), vec![at(10)]);
    let resumed = h.scheduler.resume_job("j").await.unwrap().unwrap();
    // Resumed at 45: the next slot on the grid is 50; nothing is replayed.
    assert_eq!(resumed.next_run_time, Some(at(50)));
    h.run_until(at(55)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(50)]);
}

#[tokio::test(start_paused = true)]
async fn jobs_added_paused_wait_for_resume() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    let job = h
        .scheduler
        .add_job(NewJob::new("record", every_10s()).id("p").paused())
        .await
        .unwrap();
    assert_eq!(job.next_run_time, None);
    h.run_until(at(25)).await;
    assert!(h.fires("p").is_empty());
    let paused = h
        .scheduler
        .list_jobs(&JobFilter::all().paused(true))
        .await
        .unwrap();
    assert_eq!(paused.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn pausing_the_scheduler_holds_every_job_and_resuming_applies_misfire_rules() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", every_10s())
                .id("j")
                .misfire_grace_time(Some(Duration::from_secs(5))),
        )
        .await
        .unwrap();
    h.run_until(at(12)).await;
    h.scheduler.pause().unwrap();
    h.run_until(at(38)).await;
    assert_eq!(h.fires("j"), vec![at(10)]);
    h.scheduler.resume().unwrap();
    // At 38: 20 is 18 s late (missed); 30 is 8 s late (missed, grace 5 s).
    let missed = h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    assert!(
        matches!(missed, Event::JobMissed { ref scheduled_run_times, .. } if *scheduled_run_times == vec![at(20), at(30)])
    );
    h.run_until(at(41)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(40)]);
}

#[tokio::test(start_paused = true)]
async fn run_now_runs_once_without_moving_the_schedule() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("j"))
        .await
        .unwrap();
    h.run_until(at(3)).await;
    let fired = h.scheduler.run_job("j").await.unwrap();
    assert_eq!(fired, at(3));
    h.run_until(at(11)).await;
    assert_eq!(h.fires("j"), vec![at(3), at(10)]);
    let err = h.scheduler.run_job("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(start_paused = true)]
async fn modify_changes_options_and_keeps_the_schedule() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("j"))
        .await
        .unwrap();
    let job = h
        .scheduler
        .modify_job(
            "j",
            JobChanges::new()
                .name("renamed")
                .max_instances(4)
                .args(serde_json::json!({"x": 1})),
        )
        .await
        .unwrap();
    assert_eq!(job.name, "renamed");
    assert_eq!(job.max_instances, 4);
    assert_eq!(job.args, serde_json::json!({"x": 1}));
    assert_eq!(job.next_run_time, Some(at(10)));
    let stored = h.scheduler.get_job("j").await.unwrap().unwrap();
    assert_eq!(stored.job, job);
    let err = h
        .scheduler
        .modify_job("j", JobChanges::new().max_instances(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        h.scheduler
            .get_job("j")
            .await
            .unwrap()
            .unwrap()
            .job
            .max_instances,
        4,
        "a bad change changes nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn reschedule_replaces_the_trigger_and_wakes_the_scheduler() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", IntervalTrigger::seconds(3600).unwrap()).id("j"))
        .await
        .unwrap();
    h.run_until(at(5)).await;
    // The loop sleeps toward 3600; rescheduling to every 2 s must wake it.
    let job = h
        .scheduler
        .reschedule_job("j", IntervalTrigger::seconds(2).unwrap())
        .await
        .unwrap();
    assert_eq!(job.next_run_time, Some(at(7)));
    h.run_until(at(12)).await;
    assert_eq!(h.fires("j"), vec![at(7), at(9), at(11)]);
}

#[tokio::test(start_paused = true)]
async fn adding_a_job_wakes_a_sleeping_scheduler() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(3000))).id("late"))
        .await
        .unwrap();
    h.run_until(at(1)).await;
    h.scheduler
        .add_job(NewJob::new("record", DateTrigger::new(at(2))).id("soon"))
        .await
        .unwrap();
    h.run_until(at(3)).await;
    assert_eq!(h.fires("soon"), vec![at(2)]);
    assert_eq!(h.seen()[0].started, at(2));
}

#[tokio::test(start_paused = true)]
async fn list_orders_by_next_run_then_id_with_paused_last() {
    let h = harness();
    for (id, when) in [("c", 30), ("b", 20), ("a", 30), ("d", 10)] {
        h.scheduler
            .add_job(NewJob::new("record", DateTrigger::new(at(when))).id(id))
            .await
            .unwrap();
    }
    h.scheduler
        .add_job(
            NewJob::new("record", DateTrigger::new(at(5)))
                .id("paused-b")
                .paused(),
        )
        .await
        .unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", DateTrigger::new(at(5)))
                .id("paused-a")
                .next_run(NextRun::Paused),
        )
        .await
        .unwrap();
    let ids: Vec<String> = h
        .scheduler
        .list_jobs(&JobFilter::all())
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.job.id.to_string())
        .collect();
    assert_eq!(ids, vec!["d", "b", "a", "c", "paused-a", "paused-b"]);
    let scheduled = h
        .scheduler
        .list_jobs(&JobFilter::all().paused(false))
        .await
        .unwrap();
    assert_eq!(scheduled.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn remove_and_remove_all() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("a"))
        .await
        .unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("b"))
        .await
        .unwrap();
    h.scheduler.remove_job("a").await.unwrap();
    assert_eq!(
        h.scheduler.remove_job("a").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    h.run_until(at(11)).await;
    assert!(h.fires("a").is_empty());
    assert_eq!(h.fires("b"), vec![at(10)]);
    h.scheduler.remove_all_jobs(None).await.unwrap();
    h.run_until(at(31)).await;
    assert_eq!(h.fires("b"), vec![at(10)]);
    assert!(h
        .scheduler
        .list_jobs(&JobFilter::all())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(start_paused = true)]
async fn replace_existing_swaps_the_job_and_conflicts_are_errors() {
    let h = harness();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("x"))
        .await
        .unwrap();
    let err = h
        .scheduler
        .add_job(NewJob::new("record", every_10s()).id("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.job_id(), Some("x"));
    let job = h
        .scheduler
        .add_job(
            NewJob::new("record", DateTrigger::new(at(99)))
                .id("x")
                .replace_existing(true),
        )
        .await
        .unwrap();
    assert_eq!(job.next_run_time, Some(at(99)));
    assert_eq!(
        h.scheduler
            .list_jobs(&JobFilter::all())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn explicit_first_run_time_then_the_trigger() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", every_10s())
                .id("j")
                .next_run(NextRun::At(at(1))),
        )
        .await
        .unwrap();
    h.run_until(at(21)).await;
    assert_eq!(h.fires("j"), vec![at(1), at(10), at(20)]);
    let _ = TimeDelta::zero();
}

#[tokio::test(start_paused = true)]
async fn a_batch_of_jobs_is_added_in_order_announced_and_run() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    let jobs = (0..50)
        .map(|i| NewJob::new("record", DateTrigger::new(at(10 + i % 5))).id(format!("b{i}")))
        .collect();
    let added = h.scheduler.add_jobs(jobs).await.unwrap();
    let ids: Vec<String> = added.iter().map(|j| j.id.to_string()).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("b{i}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(added[7].next_run_time, Some(at(12)));
    // One JobAdded event per job.
    for i in 0..50 {
        let event = h.wait_for(|e| matches!(e, Event::JobAdded { .. })).await;
        let Event::JobAdded { job_id, store } = event else {
            unreachable!()
        };
        assert_eq!((job_id, store), (format!("b{i}"), "default".to_owned()));
    }
    h.run_until(at(20)).await;
    for i in 0..50 {
        assert_eq!(h.fires(&format!("b{i}")), vec![at(10 + i % 5)], "job b{i}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_batch_with_one_bad_job_adds_nothing() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    let good = |id: &str| NewJob::new("record", every_10s()).id(id);
    // An unregistered task, named in the error.
    let err = h
        .scheduler
        .add_jobs(vec![
            good("g1"),
            NewJob::new("no-such-task", every_10s()).id("bad"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownTask);
    assert_eq!(err.job_id(), Some("bad"));
    // A trigger that never fires.
    let err = h
        .scheduler
        .add_jobs(vec![
            good("g2"),
            NewJob::new("record", DateTrigger::new(at(-5))).id("past"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.job_id(), Some("past"));
    // The same id twice in one store.
    let err = h
        .scheduler
        .add_jobs(vec![good("g3"), good("g3")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let all = h.scheduler.list_jobs(&JobFilter::all()).await.unwrap();
    assert!(all.is_empty(), "nothing was added: {all:?}");
}
