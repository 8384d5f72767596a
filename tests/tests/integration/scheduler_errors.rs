//! Bad input gets a clear error and changes nothing; unusable jobs are
//! reported and kept.

use chime::job::Job;
use chime::trigger::{DateTrigger, IntervalTrigger, TriggerSpec};
use chime::{ErrorKind, Event, JobFilter, NewJob};

use crate::harness::{at, harness};

#[tokio::test(start_paused = true)]
async fn adding_rejects_bad_jobs_with_clear_errors() {
    let h = harness();
    let cases: Vec<(NewJob, ErrorKind, &str)> = vec![
        (
            NewJob::new("no_such_task", DateTrigger::new(at(5))),
            ErrorKind::UnknownTask,
            "no_such_task",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(-5))),
            ErrorKind::InvalidInput,
            "never fire",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).id(""),
            ErrorKind::InvalidInput,
            "empty",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).id("tab\there"),
            ErrorKind::InvalidInput,
            "control",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).id(" padded"),
            ErrorKind::InvalidInput,
            "white space",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).id("x".repeat(300)),
            ErrorKind::InvalidInput,
            "longer",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).args("x".repeat(2 << 20)),
            ErrorKind::InvalidInput,
            "larger than the limit",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).max_instances(0),
            ErrorKind::InvalidInput,
            "max_instances",
        ),
        (
            NewJob::new("record", DateTrigger::new(at(5))).store("elsewhere"),
            ErrorKind::NotFound,
            "elsewhere",
        ),
        (
            NewJob::new(
                "record",
                IntervalTrigger::seconds(10)
                    .unwrap()
                    .starting_at(at(100))
                    .ending_at(at(50)),
            ),
            ErrorKind::InvalidInput,
            "never fire",
        ),
    ];
    for (job, kind, text) in cases {
        let shown = format!("{job:?}");
        let err = h.scheduler.add_job(job).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{shown}: {err}");
        assert!(
            err.to_string().contains(text),
            "{shown}: '{err}' should mention '{text}'"
        );
    }
    assert!(h
        .scheduler
        .list_jobs(&JobFilter::all())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(start_paused = true)]
async fn odd_but_valid_ids_are_fine() {
    let h = harness();
    for id in [
        "ünïcødé",
        "with spaces inside",
        "slash/and:colon",
        "emoji-⏰",
        "'quotes\"",
    ] {
        h.scheduler
            .add_job(NewJob::new("record", DateTrigger::new(at(5))).id(id))
            .await
            .unwrap();
        assert_eq!(h.scheduler.get_job(id).await.unwrap().unwrap().job.id, id);
    }
}

#[tokio::test(start_paused = true)]
async fn bad_args_fail_the_run_not_the_scheduler() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    // `sleep` takes a number of seconds.
    h.scheduler
        .add_job(
            NewJob::new("sleep", DateTrigger::new(at(1)))
                .id("typo")
                .args("ten"),
        )
        .await
        .unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobError { .. })).await;
    match event {
        Event::JobError { job_id, error, .. } => {
            assert_eq!(job_id, "typo");
            assert!(error.contains("invalid arguments"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_whose_task_is_gone_is_reported_once_and_kept() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", IntervalTrigger::seconds(10).unwrap()).id("orphan"))
        .await
        .unwrap();
    // A newer build no longer has the task.
    assert!(h.scheduler.tasks().unregister("record"));
    let event = h.wait_for(|e| matches!(e, Event::JobUnusable { .. })).await;
    match event {
        Event::JobUnusable { job_id, reason, .. } => {
            assert_eq!(job_id, "orphan");
            assert!(reason.contains("'record' is not registered"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    h.run_until(at(300)).await;
    let job = h.scheduler.get_job("orphan").await.unwrap();
    assert!(
        job.is_some(),
        "the job must be kept for a build that has the task"
    );
    assert!(h.fires("orphan").is_empty());
    // Reported once, not on every look.
    let mut more = 0;
    while let Ok(e) = h.events.try_recv() {
        if matches!(e, Event::JobUnusable { .. }) {
            more += 1;
        }
    }
    assert_eq!(more, 0);
}

#[tokio::test(start_paused = true)]
async fn a_job_whose_trigger_kind_is_unknown_is_reported_and_kept() {
    let mut h = harness();
    let mut job: Job = NewJob::new("record", DateTrigger::new(at(1)))
        .id("martian")
        .into_job(at(0), &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    job.trigger =
        TriggerSpec::from_value(serde_json::json!({"kind": "lunar", "phase": "full"})).unwrap();
    // Written by another build straight into the shared store.
    let store = chime::store::MemoryStore::new();
    chime::JobStore::add_job(&store, job, false).await.unwrap();
    h.scheduler
        .add_store("other", std::sync::Arc::new(store))
        .unwrap();
    h.scheduler.start().await.unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobUnusable { .. })).await;
    assert!(
        matches!(event, Event::JobUnusable { ref reason, ref store, .. } if reason.contains("lunar") && store == "other"),
        "{event:?}"
    );
    h.run_until(at(60)).await;
    assert!(h.scheduler.get_job("martian").await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_job_naming_a_missing_executor_is_reported_and_kept() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("record", DateTrigger::new(at(1)))
                .id("j")
                .executor("gpu"),
        )
        .await
        .unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobUnusable { .. })).await;
    assert!(
        matches!(event, Event::JobUnusable { ref reason, .. } if reason.contains("'gpu'")),
        "{event:?}"
    );
    assert!(h.scheduler.get_job("j").await.unwrap().is_some());
}

#[tokio::test]
async fn building_without_a_store_is_an_error() {
    let err = chime::AsyncScheduler::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no job store"));
    let err = chime::AsyncScheduler::builder()
        .store("default", chime::store::MemoryStore::new())
        .store("default", chime::store::MemoryStore::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("used twice"));
}

#[tokio::test]
async fn start_twice_and_pause_before_start_are_errors() {
    let h = harness();
    assert!(h.scheduler.pause().is_err());
    h.scheduler.start().await.unwrap();
    assert!(h.scheduler.start().await.is_err());
    h.scheduler.shutdown().await.unwrap();
    // Shutting down twice is fine.
    h.scheduler.shutdown().await.unwrap();
}
