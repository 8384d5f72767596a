//! Late runs: misfire grace time, coalescing, max_instances, jitter and
//! wall-clock jumps.

use std::time::Duration;

use chime::chrono::TimeDelta;
use chime::trigger::IntervalTrigger;
use chime::{Event, NewJob};

use crate::harness::{at, harness, t0};

fn every_10s() -> IntervalTrigger {
    IntervalTrigger::seconds(10).unwrap().starting_at(at(10))
}

#[tokio::test(start_paused = true)]
async fn runs_later_than_the_grace_time_are_missed_and_reported() {
    let mut h = harness();
    h.scheduler
        .add_job(
            NewJob::new("record", every_10s())
                .id("j")
                .misfire_grace_time(Some(Duration::from_secs(15)))
                .coalesce(true),
        )
        .await
        .unwrap();
    // The scheduler starts 42 s in: fires at 10 and 20 are more than 15 s
    // late (missed); 30 and 40 are within the grace time (one coalesced run).
    h.run_until(at(42)).await;
    h.scheduler.start().await.unwrap();
    let missed = h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    assert_eq!(
        missed,
        Event::JobMissed {
            job_id: "j".into(),
            store: "default".into(),
            scheduled_run_times: vec![at(10), at(20)],
            more_not_listed: false,
        }
    );
    h.run_until(at(55)).await;
    let seen = h.seen();
    assert_eq!(seen[0].times, vec![at(30), at(40)]);
    assert_eq!(seen[0].scheduled, at(40));
    assert_eq!(seen[0].started, at(42));
    assert_eq!(
        h.fires("j"),
        vec![at(40), at(50)],
        "back on the grid after catching up"
    );
}

#[tokio::test(start_paused = true)]
async fn without_coalesce_every_fire_in_the_grace_window_runs_in_order() {
    let h = harness();
    h.scheduler
        .add_job(
            NewJob::new("record", every_10s())
                .id("j")
                .misfire_grace_time(None)
                .coalesce(false),
        )
        .await
        .unwrap();
    h.run_until(at(35)).await;
    h.scheduler.start().await.unwrap();
    h.run_until(at(41)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(20), at(30), at(40)]);
}

#[tokio::test(start_paused = true)]
async fn default_grace_time_does_not_drop_slightly_late_runs() {
    let h = harness();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("j"))
        .await
        .unwrap();
    // Start 3 s after the first fire: APScheduler's 1 s default would drop it.
    h.run_until(at(13)).await;
    h.scheduler.start().await.unwrap();
    h.run_until(at(21)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(20)]);
}

#[tokio::test(start_paused = true)]
async fn a_long_downtime_is_skipped_not_replayed() {
    let mut h = harness();
    h.scheduler
        .add_job(
            NewJob::new(
                "record",
                IntervalTrigger::seconds(1).unwrap().starting_at(at(1)),
            )
            .id("fast")
            .misfire_grace_time(Some(Duration::from_secs(5))),
        )
        .await
        .unwrap();
    // A day of downtime is 86,400 fires; the scheduler lists a bounded
    // number as missed and catches up in one step.
    h.run_until(at(86_400)).await;
    h.scheduler.start().await.unwrap();
    let missed = h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    match missed {
        Event::JobMissed {
            scheduled_run_times,
            more_not_listed,
            ..
        } => {
            assert!(more_not_listed);
            assert_eq!(scheduled_run_times[0], at(1));
            assert!(scheduled_run_times.len() <= 1000);
        }
        other => panic!("{other:?}"),
    }
    h.run_until(at(86_402) + TimeDelta::milliseconds(500)).await;
    // Inside the 5 s window at 86,400: 86,395..=86,400, coalesced into one
    // run; then 86,401 and 86,402 on time.
    let seen = h.seen();
    assert_eq!(seen[0].times, (86_395..=86_400).map(at).collect::<Vec<_>>());
    assert_eq!(h.fires("fast"), vec![at(86_400), at(86_401), at(86_402)]);
}

#[tokio::test(start_paused = true)]
async fn max_instances_skips_runs_while_one_is_still_going() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    // Each run sleeps 25 s; fires every 10 s.
    h.scheduler
        .add_job(
            NewJob::new("sleep", every_10s())
                .id("slow")
                .args(25)
                .max_instances(1),
        )
        .await
        .unwrap();
    let event = h
        .wait_for(|e| matches!(e, Event::JobMaxInstancesReached { .. }))
        .await;
    assert_eq!(
        event,
        Event::JobMaxInstancesReached {
            job_id: "slow".into(),
            store: "default".into(),
            scheduled_run_times: vec![at(20)],
        }
    );
    h.run_until(at(64)).await;
    // Run 10 ends at 35, so 20 and 30 are skipped; 40 runs (ends 65); 50, 60 skipped.
    assert_eq!(h.fires("slow"), vec![at(10)]);
    h.run_until(at(66)).await;
    assert_eq!(h.fires("slow"), vec![at(10), at(40)]);
}

#[tokio::test(start_paused = true)]
async fn max_instances_above_one_allows_overlap_up_to_the_cap() {
    let mut h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new("sleep", every_10s())
                .id("slow")
                .args(25)
                .max_instances(2),
        )
        .await
        .unwrap();
    // Runs take 25 s and start every 10 s; two may overlap. 10 (ends 35)
    // and 20 (ends 45) overlap; at 30 both still run, so 30 is skipped; 40
    // starts (20 is still going, 10 is done) and ends at 65.
    let event = h
        .wait_for(|e| matches!(e, Event::JobMaxInstancesReached { .. }))
        .await;
    assert!(
        matches!(event, Event::JobMaxInstancesReached { ref scheduled_run_times, .. } if *scheduled_run_times == vec![at(30)]),
        "{event:?}"
    );
    h.run_until(at(66)).await;
    assert_eq!(h.fires("slow"), vec![at(10), at(20), at(40)]);
}

#[tokio::test(start_paused = true)]
async fn jitter_delays_runs_without_drifting_the_schedule() {
    let h = harness();
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s().with_jitter(Duration::from_secs(4))).id("jit"))
        .await
        .unwrap();
    h.run_until(at(100)).await;
    let seen = h.seen();
    assert_eq!(seen.len(), 9, "fires 10..=90");
    for (k, run) in seen.iter().enumerate() {
        let fire = at(10 * (k as i64 + 1));
        assert_eq!(run.scheduled, fire, "the schedule never drifts");
        let delay = run.started - fire;
        assert!(
            delay >= TimeDelta::zero() && delay <= TimeDelta::seconds(4),
            "delay {delay}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_wall_clock_jump_forward_is_noticed_within_max_sleep() {
    let mut h = crate::harness::builder_with(|b| b.max_sleep(Duration::from_secs(5)));
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(
            NewJob::new(
                "record",
                IntervalTrigger::seconds(3600)
                    .unwrap()
                    .starting_at(at(3600)),
            )
            .id("hourly")
            .misfire_grace_time(Some(Duration::from_secs(60))),
        )
        .await
        .unwrap();
    // The wall clock jumps 2 h ahead (a suspend, an NTP step); tokio's timer
    // for the 1 h sleep has not fired, but the 5 s cap notices the jump.
    h.clock.jump(TimeDelta::hours(2));
    let missed = h.wait_for(|e| matches!(e, Event::JobMissed { .. })).await;
    assert!(
        matches!(missed, Event::JobMissed { ref scheduled_run_times, .. } if *scheduled_run_times == vec![at(3600)]),
        "{missed:?}"
    );
    // 7200 is inside the grace window at the time it was noticed.
    h.wait_for(|e| matches!(e, Event::JobExecuted { .. })).await;
    assert_eq!(h.fires("hourly"), vec![at(7200)]);
    assert!(h.clock_now() - t0() <= TimeDelta::seconds(7200 + 5));
}

#[tokio::test(start_paused = true)]
async fn a_wall_clock_jump_backward_never_runs_a_fire_twice() {
    let h = crate::harness::builder_with(|b| b.max_sleep(Duration::from_secs(5)));
    h.scheduler.start().await.unwrap();
    h.scheduler
        .add_job(NewJob::new("record", every_10s()).id("j"))
        .await
        .unwrap();
    h.run_until(at(25)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(20)]);
    // The wall clock steps back 15 s (25 → 10): the fires at 10 and 20 have
    // run; the next is still 30, reached 20 s of real time later.
    h.clock.jump(TimeDelta::seconds(-15));
    tokio::time::sleep(Duration::from_secs(19)).await;
    assert_eq!(
        h.fires("j"),
        vec![at(10), at(20)],
        "nothing re-ran after the jump back"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.fires("j"), vec![at(10), at(20), at(30)]);
}
