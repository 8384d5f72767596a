//! `and` / `or` triggers: coincidence search, bounded give-up, merging,
//! storage through the registry, and a scheduler run.
//!
//! Calendar facts (by hand): 2026-01-01 is a Thursday. The 1st of Feb, Mar
//! and Nov 2026 are Sundays, so Feb 13, Mar 13 and Nov 13 are Fridays; Apr 1
//! is a Wednesday (13th = Monday), May 1 a Friday (13th = Wednesday), Jun 1
//! a Monday (Sat), Jul 1 a Wednesday (Mon), Aug 1 a Saturday (Thu), Sep 1 a
//! Tuesday (Sun), Oct 1 a Thursday (Tue): 2026's Friday-the-13ths are Feb,
//! Mar and Nov.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::Europe;
use chime::trigger::{
    AndTrigger, CronTrigger, DateTrigger, IntervalTrigger, OrTrigger, Trigger, TriggerRegistry,
    TriggerSpec,
};
use chime::{ErrorKind, NewJob};

use crate::harness::{at, harness};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn fires(trigger: &dyn Trigger, now: &str, n: usize) -> Vec<DateTime<Utc>> {
    let now = t(now);
    let mut out = Vec::new();
    let mut prev = None;
    while out.len() < n {
        match trigger.next_fire_time(prev, now) {
            Some(next) => {
                out.push(next);
                prev = Some(next);
            }
            None => break,
        }
    }
    out
}

fn ts(list: &[&str]) -> Vec<DateTime<Utc>> {
    list.iter().map(|s| t(s)).collect()
}

fn cron(expr: &str) -> Arc<dyn Trigger> {
    Arc::new(CronTrigger::crontab(expr).unwrap())
}

fn interval(secs: u64, start: &str) -> Arc<dyn Trigger> {
    Arc::new(
        IntervalTrigger::seconds(secs)
            .unwrap()
            .starting_at(t(start)),
    )
}

#[test]
fn and_of_day_13_and_friday_is_friday_the_13th() {
    // A crontab with both day fields restricted would OR them (Vixie rule);
    // an And of two cron triggers intersects them.
    let and = AndTrigger::new(vec![cron("0 0 13 * *"), cron("0 0 * * fri")]).unwrap();
    assert_eq!(
        fires(&and, "2026-01-01T00:00:00Z", 3),
        ts(&[
            "2026-02-13T00:00:00Z",
            "2026-03-13T00:00:00Z",
            "2026-11-13T00:00:00Z",
        ])
    );
}

#[test]
fn and_of_an_interval_and_a_cron_window() {
    // Every 10 minutes from midnight, only in the 09:xx hour (London, GMT in
    // January): 09:00, 09:10, …, 09:50, then 09:00 the next day.
    let window: Arc<dyn Trigger> = Arc::new(
        CronTrigger::crontab("* 9 * * *")
            .unwrap()
            .timezone(Europe::London),
    );
    let and = AndTrigger::new(vec![interval(600, "2026-01-01T00:00:00Z"), window]).unwrap();
    assert_eq!(
        fires(&and, "2026-01-01T00:00:00Z", 7),
        ts(&[
            "2026-01-01T09:00:00Z",
            "2026-01-01T09:10:00Z",
            "2026-01-01T09:20:00Z",
            "2026-01-01T09:30:00Z",
            "2026-01-01T09:40:00Z",
            "2026-01-01T09:50:00Z",
            "2026-01-02T09:00:00Z",
        ])
    );
    // Strictly after an off-grid previous time.
    assert_eq!(
        and.next_fire_time(Some(t("2026-01-01T09:05:00Z")), t("2026-01-01T00:00:00Z")),
        Some(t("2026-01-01T09:10:00Z"))
    );
    assert_eq!(
        and.describe(),
        format!(
            "every 10m and {}",
            CronTrigger::crontab("* 9 * * *")
                .unwrap()
                .timezone(Europe::London)
                .describe()
        )
    );
}

#[test]
fn and_of_triggers_that_never_coincide_returns_none_promptly() {
    // Even and odd seconds never meet: APScheduler #361 hangs here.
    let started = Instant::now();
    let and = AndTrigger::new(vec![
        interval(2, "2026-01-01T00:00:00Z"),
        interval(2, "2026-01-01T00:00:01Z"),
    ])
    .unwrap();
    assert_eq!(and.next_fire_time(None, t("2026-01-01T00:00:00Z")), None);
    // 09:00 and 10:00 daily never meet either.
    let and = AndTrigger::new(vec![cron("0 9 * * *"), cron("0 10 * * *")]).unwrap();
    assert_eq!(and.next_fire_time(None, t("2026-01-01T00:00:00Z")), None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn and_stops_when_a_child_ends() {
    // Daily at 09:00 and every hour, but the hourly one ends Jan 2 12:00:
    // Jan 1 09:00 and Jan 2 09:00 only.
    let hourly: Arc<dyn Trigger> = Arc::new(
        IntervalTrigger::seconds(3600)
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"))
            .ending_at(t("2026-01-02T12:00:00Z")),
    );
    let and = AndTrigger::new(vec![cron("0 9 * * *"), hourly]).unwrap();
    assert_eq!(
        fires(&and, "2026-01-01T00:00:00Z", 5),
        ts(&["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z"])
    );
    assert_eq!(and.end_date(), Some(t("2026-01-02T12:00:00Z")));
}

#[test]
fn or_merges_schedules_and_fires_shared_instants_once() {
    // 09:00 on weekdays or 11:00 at weekends, from Thursday Jan 1 2026.
    let or = OrTrigger::new(vec![cron("0 9 * * mon-fri"), cron("0 11 * * sat,sun")]).unwrap();
    assert_eq!(
        fires(&or, "2026-01-01T00:00:00Z", 5),
        ts(&[
            "2026-01-01T09:00:00Z",
            "2026-01-02T09:00:00Z",
            "2026-01-03T11:00:00Z",
            "2026-01-04T11:00:00Z",
            "2026-01-05T09:00:00Z",
        ])
    );
    // Every 10 s or every 15 s from 00:00:00: 0, 10, 15, 20, 30 (once), 40, 45.
    let or = OrTrigger::new(vec![
        interval(10, "2026-01-01T00:00:00Z"),
        interval(15, "2026-01-01T00:00:00Z"),
    ])
    .unwrap();
    assert_eq!(
        fires(&or, "2026-01-01T00:00:00Z", 7),
        ts(&[
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:10Z",
            "2026-01-01T00:00:15Z",
            "2026-01-01T00:00:20Z",
            "2026-01-01T00:00:30Z",
            "2026-01-01T00:00:40Z",
            "2026-01-01T00:00:45Z",
        ])
    );
}

#[test]
fn or_with_a_one_shot_child_keeps_it_after_other_fires() {
    // A date at 00:00:25 among every-10-s fires: 0, 10, 20, 25, 30. The date
    // child must still fire after the interval child fired at 20.
    let or = OrTrigger::new(vec![
        interval(10, "2026-01-01T00:00:00Z"),
        Arc::new(DateTrigger::new(t("2026-01-01T00:00:25Z"))),
    ])
    .unwrap();
    assert_eq!(
        fires(&or, "2026-01-01T00:00:00Z", 5),
        ts(&[
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:10Z",
            "2026-01-01T00:00:20Z",
            "2026-01-01T00:00:25Z",
            "2026-01-01T00:00:30Z",
        ])
    );
    // Only dates: ends when they are used up.
    let dates = OrTrigger::new(vec![
        Arc::new(DateTrigger::new(t("2026-01-02T00:00:00Z"))),
        Arc::new(DateTrigger::new(t("2026-01-01T00:00:00Z"))),
    ])
    .unwrap();
    assert_eq!(
        fires(&dates, "2025-12-01T00:00:00Z", 5),
        ts(&["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"])
    );
}

#[test]
fn combinator_specs_round_trip_through_the_registry() {
    let json = serde_json::json!({
        "kind": "or",
        "triggers": [
            {"kind": "and", "triggers": [
                {"kind": "cron", "crontab": "0 0 13 * *"},
                {"kind": "cron", "crontab": "0 0 * * fri"}
            ]},
            {"kind": "date", "run_date": "2026-01-05T00:00:00Z"}
        ],
        "jitter": "30s"
    });
    let spec = TriggerSpec::from_value(json.clone()).unwrap();
    let trig = TriggerRegistry::with_builtins().decode(&spec).unwrap();
    assert_eq!(trig.kind(), "or");
    assert_eq!(trig.jitter(), Some(Duration::from_secs(30)));
    assert_eq!(serde_json::to_value(trig.to_spec().unwrap()).unwrap(), json);
    // Jan 5 (the date), then the Friday-the-13ths.
    assert_eq!(
        fires(trig.as_ref(), "2026-01-01T00:00:00Z", 3),
        ts(&[
            "2026-01-05T00:00:00Z",
            "2026-02-13T00:00:00Z",
            "2026-03-13T00:00:00Z",
        ])
    );
}

#[test]
fn invalid_combinator_specs_are_errors() {
    let registry = TriggerRegistry::with_builtins();
    let decode = |json: serde_json::Value| {
        registry
            .decode(&TriggerSpec::from_value(json).unwrap())
            .unwrap_err()
    };
    let empty = decode(serde_json::json!({"kind": "and", "triggers": []}));
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    assert!(empty.message().contains("empty"), "{empty}");
    let empty = decode(serde_json::json!({"kind": "or", "triggers": []}));
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    let unknown = decode(serde_json::json!({"kind": "or", "triggers": [{"kind": "lunar"}]}));
    assert_eq!(unknown.kind(), ErrorKind::UnknownTrigger);
    assert!(unknown.message().contains("lunar"), "{unknown}");
    let bad_child = decode(
        serde_json::json!({"kind": "and", "triggers": [{"kind": "interval", "every": "0s"}]}),
    );
    assert_eq!(bad_child.kind(), ErrorKind::InvalidInput);
    let missing = decode(serde_json::json!({"kind": "and"}));
    assert_eq!(missing.kind(), ErrorKind::UnknownTrigger);
}

#[tokio::test(start_paused = true)]
async fn an_or_job_runs_at_each_childs_times() {
    // Test clock at 2026-01-01T00:00:00Z (t0). Or of a date at t0 + 90 s and
    // an interval every 60 s; the interval has no start, so the scheduler
    // anchors it at add time + 60 s (t0 + 60). Fires: 60, 90, 120, 180.
    let h = harness();
    let or = OrTrigger::new(vec![
        Arc::new(IntervalTrigger::seconds(60).unwrap()),
        Arc::new(DateTrigger::new(at(90))),
    ])
    .unwrap();
    h.scheduler
        .add_job(NewJob::new("record", or).id("either"))
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    h.run_until(at(181)).await;
    assert_eq!(h.fires("either"), vec![at(60), at(90), at(120), at(180)]);
}
