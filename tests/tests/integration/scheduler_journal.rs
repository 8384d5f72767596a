//! The dispatch journal end to end (SQLite, virtual time): runs handed to
//! a scheduler that stopped are reported as interrupted by a live one and
//! never run again; a scheduler's own finished runs leave nothing behind.

use std::sync::Arc;
use std::time::Duration;

use chime::store::{HandOff, JobRelease, JobStore, Release, RunOutcome, SqliteStore};
use chime::trigger::IntervalTrigger;
use chime::{Event, NewJob};

use crate::harness::{at, builder_with};

#[tokio::test(start_paused = true)]
async fn runs_of_a_stopped_scheduler_are_reported_interrupted_and_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("jobs.db")).unwrap());
    let mut h = builder_with(|b| b.store_arc("sql", store.clone()));
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(10).unwrap())
                .id("j")
                .store("sql"),
        )
        .await
        .unwrap();
    // Another scheduler ("gone") claims the fire at 10 s, releases the job
    // to 20 s with the hand-off of that fire, and dies before running it.
    let lease = Duration::from_secs(30);
    let acquired = store
        .acquire_due_jobs("gone", at(10), 10, lease)
        .await
        .unwrap();
    assert_eq!(acquired.jobs.len(), 1);
    let release = JobRelease::new(
        "j",
        Release::Reschedule {
            next_run_time: at(20),
            trigger_time: at(20),
        },
    )
    .with_hand_off(HandOff::new(
        "j",
        at(10),
        "gone",
        vec![at(10)],
        Vec::new(),
        at(40),
    ));
    for result in store.release_jobs("gone", &[release]).await {
        result.unwrap();
    }

    h.scheduler.start().await.unwrap();
    let event = h
        .wait_for(|e| matches!(e, Event::JobInterrupted { .. }))
        .await;
    let reported_at = h.clock_now();
    match event {
        Event::JobInterrupted {
            job_id,
            store,
            scheduled_run_times,
            owner,
        } => {
            assert_eq!(
                (job_id.as_str(), store.as_str(), owner.as_str()),
                ("j", "sql", "gone")
            );
            assert_eq!(scheduled_run_times, vec![at(10)]);
        }
        other => panic!("{other:?}"),
    }
    let upkeep = chime::chrono::TimeDelta::seconds(10); // a third of the lease
    assert!(
        reported_at >= at(40) && reported_at <= at(40) + upkeep,
        "reported at {reported_at}: after the entry's deadline, within one upkeep period"
    );
    h.run_until(at(65)).await;
    assert_eq!(
        h.fires("j"),
        vec![at(20), at(30), at(40), at(50), at(60)],
        "the interrupted fire is not run again; the schedule goes on"
    );
    let history = store.run_history("j", 100).await.unwrap();
    assert!(
        history
            .iter()
            .any(|r| r.scheduled_run_time == at(10) && r.outcome == RunOutcome::Interrupted),
        "the interruption is in the run history: {history:?}"
    );
    h.scheduler.shutdown().await.unwrap();

    // Nothing is left in the journal: the report cleared the stale entry
    // and every run of the live scheduler cleared its own.
    let left = store
        .claim_stale_hand_offs("probe", at(100_000), 100, lease)
        .await
        .unwrap();
    assert!(left.is_empty(), "journal entries left behind: {left:?}");
}

#[tokio::test(start_paused = true)]
async fn missed_fires_are_recorded_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("jobs.db")).unwrap());
    let mut h = builder_with(|b| b.store_arc("sql", store.clone()));
    // Due at 10 s with a 1 s grace time; the scheduler starts at 30 s.
    h.scheduler
        .add_job(
            NewJob::new(
                "record",
                IntervalTrigger::seconds(100).unwrap().starting_at(at(10)),
            )
            .id("late")
            .coalesce(false)
            .misfire_grace_time(Some(Duration::from_secs(1)))
            .store("sql"),
        )
        .await
        .unwrap();
    h.run_until(at(30)).await;
    h.scheduler.start().await.unwrap();
    h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    h.run_until(at(40)).await;
    let history = store.run_history("late", 10).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(
        (history[0].scheduled_run_time, history[0].outcome),
        (at(10), RunOutcome::Missed)
    );
    assert!(h.fires("late").is_empty());
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_long_downtime_writes_only_the_newest_missed_fires_to_history() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        chime::store::sql::SqliteConfig::file(dir.path().join("jobs.db")).history_limit(1000);
    let store = Arc::new(SqliteStore::with_config(config).unwrap());
    let mut h = builder_with(|b| b.store_arc("sql", store.clone()));
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(1).unwrap())
                .id("frequent")
                .coalesce(false)
                .misfire_grace_time(Some(Duration::from_secs(1)))
                .store("sql"),
        )
        .await
        .unwrap();
    // Down for 200 s: ~200 fires are past their grace time at start-up.
    h.run_until(at(200)).await;
    h.scheduler.start().await.unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    let Event::JobMissed {
        scheduled_run_times,
        ..
    } = event
    else {
        unreachable!()
    };
    assert!(
        scheduled_run_times.len() > 150,
        "the event lists every missed fire ({})",
        scheduled_run_times.len()
    );
    h.run_until(at(200) + chime::chrono::TimeDelta::milliseconds(500))
        .await;
    let missed: Vec<_> = store
        .run_history("frequent", 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.outcome == RunOutcome::Missed)
        .map(|r| r.scheduled_run_time)
        .collect();
    let newest: Vec<_> = scheduled_run_times.iter().rev().take(20).copied().collect();
    assert_eq!(
        missed, newest,
        "history gets the newest 20 (newest first), not one write per missed fire"
    );
    h.scheduler.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_long_run_stays_claimed_while_its_scheduler_is_paused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("jobs.db")).unwrap());
    let mut h = builder_with(|b| b.store_arc("sql", store.clone()));
    h.scheduler
        .add_job(
            NewJob::new("sleep", chime::trigger::DateTrigger::new(at(5)))
                .id("long")
                .args(100u64)
                .store("sql"),
        )
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    h.wait_for(|e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    // Paused mid-run: the scheduler starts nothing new, but its run goes
    // on, and its journal entry must not look like a dead scheduler's.
    h.scheduler.pause().unwrap();
    let lease = Duration::from_secs(30);
    for t in [40, 70, 100] {
        h.run_until(at(t)).await;
        let stale = store
            .claim_stale_hand_offs("another", h.clock_now(), 100, lease)
            .await
            .unwrap();
        assert!(
            stale.is_empty(),
            "at {t} s the paused scheduler's running job was taken for interrupted: {stale:?}"
        );
    }
    h.run_until(at(110)).await;
    assert_eq!(h.fires("long"), vec![at(5)], "the run finished");
    h.scheduler.resume().unwrap();
    h.scheduler.shutdown().await.unwrap();
    let left = store
        .claim_stale_hand_offs("probe", at(100_000), 100, lease)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
