//! The fluent `every(…)` builder: which trigger each schedule becomes, what
//! it stores, when it fires, and its errors; plus the random-interval trigger.
//!
//! Calendar facts (by hand): 2026-01-01 is a Thursday, so Jan 5 and Jan 19
//! are Mondays and Jun 1 2026 is a Monday too (Jan 1 + 151 days, and
//! 151 = 21·7 + 4). London is on BST (UTC+1) from Mar 29 to Oct 25 2026; New York is on
//! EST (UTC-5) in January.

use std::time::Duration;

use chime::chrono::{DateTime, TimeDelta, Utc};
use chime::chrono_tz::{America, Europe};
use chime::trigger::{every, EveryTrigger, Trigger, TriggerRegistry};
use chime::{ErrorKind, NewJob};

use crate::harness::{at, harness};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn json(trigger: &dyn Trigger) -> serde_json::Value {
    serde_json::to_value(trigger.to_spec().unwrap()).unwrap()
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

/// The stored form decodes back to a trigger that stores identically.
fn round_trips(trigger: &dyn Trigger) {
    let spec = trigger.to_spec().unwrap();
    let back = TriggerRegistry::with_builtins().decode(&spec).unwrap();
    assert_eq!(back.kind(), trigger.kind());
    assert_eq!(json(back.as_ref()), json(trigger));
}

#[test]
fn plain_counts_become_interval_triggers() {
    let ten_s = every(10).seconds().build().unwrap();
    assert!(matches!(ten_s, EveryTrigger::Interval(_)));
    assert_eq!(
        json(&ten_s),
        serde_json::json!({"kind": "interval", "every": "10s"})
    );
    let two_h = every(2).hours().build().unwrap();
    assert_eq!(
        json(&two_h),
        serde_json::json!({"kind": "interval", "every": "2h"})
    );
    // A day without .at() is 24 hours of absolute time.
    let day = every(1).day().build().unwrap();
    assert_eq!(day.kind(), "interval");
    let every_text = json(&day)["every"].as_str().unwrap().to_owned();
    assert_eq!(
        chime::duration::parse(&every_text).unwrap(),
        Duration::from_secs(86_400)
    );
    // Anchored and bounded: t, t+2h, t+4h (end inclusive), then nothing. The
    // zone is irrelevant to absolute intervals and is not stored.
    let bounded = every(2)
        .hours()
        .starting(t("2026-01-01T00:00:00Z"))
        .until(t("2026-01-01T04:00:00Z"))
        .tz(Europe::London)
        .build()
        .unwrap();
    assert_eq!(
        fires(&bounded, "2026-01-01T00:00:00Z", 5),
        vec![
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T02:00:00Z"),
            t("2026-01-01T04:00:00Z")
        ]
    );
    assert!(json(&bounded).get("timezone").is_none());
    for trig in [ten_s, two_h, day, bounded] {
        round_trips(&trig);
    }
}

#[test]
fn days_and_weeks_at_a_time_become_calendar_intervals() {
    let daily = every(1).day().at("17:49").build().unwrap();
    assert!(matches!(daily, EveryTrigger::CalendarInterval(_)));
    assert_eq!(
        json(&daily),
        serde_json::json!({"kind": "calendar_interval", "days": 1, "hour": 17, "minute": 49, "second": 0})
    );
    // 10:30:15 London on Jul 1 2026 (BST) = 09:30:15Z, then daily.
    let with_seconds = every(1)
        .day()
        .at("10:30:15")
        .tz(Europe::London)
        .starting(t("2026-07-01T00:00:00Z"))
        .build()
        .unwrap();
    assert_eq!(
        fires(&with_seconds, "2026-06-01T00:00:00Z", 2),
        vec![t("2026-07-01T09:30:15Z"), t("2026-07-02T09:30:15Z")]
    );
    // Every 2 weeks at 08:00 New York from Monday Jan 5 00:00 EST (05:00Z):
    // Jan 5, Jan 19, Feb 2 at 08:00 EST = 13:00Z.
    let fortnightly = every(2)
        .weeks()
        .at("08:00")
        .tz(America::New_York)
        .starting(t("2026-01-05T05:00:00Z"))
        .until(t("2026-02-02T13:00:00Z"))
        .build()
        .unwrap();
    assert_eq!(
        fires(&fortnightly, "2026-01-01T00:00:00Z", 5),
        vec![
            t("2026-01-05T13:00:00Z"),
            t("2026-01-19T13:00:00Z"),
            t("2026-02-02T13:00:00Z")
        ]
    );
    let stored = json(&fortnightly);
    assert_eq!(stored["weeks"], 2);
    assert_eq!(stored["timezone"], "America/New_York");
    assert_eq!(stored["end_date"], "2026-02-02T13:00:00Z");
    for trig in [daily, with_seconds, fortnightly] {
        round_trips(&trig);
    }
}

#[test]
fn weekdays_become_cron_fields() {
    let monday = every(1).monday().at("09:00").build().unwrap();
    assert!(matches!(monday, EveryTrigger::Cron(_)));
    assert_eq!(
        json(&monday),
        serde_json::json!({"kind": "cron", "fields": {
            "day_of_week": "mon", "hour": "9", "minute": "0", "second": "0"
        }})
    );
    // From Thursday Jan 1 (UTC): Monday Jan 5 09:00, then Jan 12.
    assert_eq!(
        fires(&monday, "2026-01-01T00:00:00Z", 2),
        vec![t("2026-01-05T09:00:00Z"), t("2026-01-12T09:00:00Z")]
    );
    // In London in summer: Monday Jun 1 09:00 BST = 08:00Z.
    let summer = every(1)
        .monday()
        .at("09:00")
        .tz(Europe::London)
        .build()
        .unwrap();
    assert_eq!(
        summer.next_fire_time(None, t("2026-06-01T00:00:00Z")),
        Some(t("2026-06-01T08:00:00Z"))
    );
    // Without .at(): midnight. Sunday Jan 4 00:00Z is the first from Jan 1.
    let sunday = every(1).sunday().build().unwrap();
    assert_eq!(
        sunday.next_fire_time(None, t("2026-01-01T00:00:00Z")),
        Some(t("2026-01-04T00:00:00Z"))
    );
    for trig in [monday, summer, sunday] {
        round_trips(&trig);
    }
}

#[test]
fn hours_and_minutes_at_a_minute_or_second_become_cron() {
    // Every hour at :30 → 01:30 after 00:40; every minute at :15 → 00:01:15
    // after 00:00:20.
    let hourly = every(1).hour().at(":30").build().unwrap();
    assert_eq!(
        hourly.next_fire_time(None, t("2026-01-01T00:40:00Z")),
        Some(t("2026-01-01T01:30:00Z"))
    );
    let hourly_mm_ss = every(1).hour().at("05:30").build().unwrap();
    assert_eq!(
        hourly_mm_ss.next_fire_time(None, t("2026-01-01T00:40:00Z")),
        Some(t("2026-01-01T01:05:30Z"))
    );
    let minutely = every(1).minute().at(":15").build().unwrap();
    assert_eq!(
        minutely.next_fire_time(None, t("2026-01-01T00:00:20Z")),
        Some(t("2026-01-01T00:01:15Z"))
    );
    // A count above 1 steps like cron's */n: every 6 hours at :00 → 00, 06,
    // 12, 18.
    let six_hourly = every(6).hours().at(":00").build().unwrap();
    assert_eq!(
        fires(&six_hourly, "2026-01-01T00:00:01Z", 4),
        vec![
            t("2026-01-01T06:00:00Z"),
            t("2026-01-01T12:00:00Z"),
            t("2026-01-01T18:00:00Z"),
            t("2026-01-02T00:00:00Z")
        ]
    );
    for trig in [hourly, hourly_mm_ss, minutely, six_hourly] {
        round_trips(&trig);
    }
}

#[test]
fn to_makes_a_random_interval() {
    let random = every(5).to(10).seconds().build().unwrap();
    assert!(matches!(random, EveryTrigger::RandomInterval(_)));
    assert_eq!(
        json(&random),
        serde_json::json!({"kind": "random_interval", "min": "5s", "max": "10s"})
    );
    round_trips(&random);
    let start = t("2026-01-01T00:00:00Z");
    let mut prev = start;
    for _ in 0..100 {
        let next = random.next_fire_time(Some(prev), start).unwrap();
        let gap = next - prev;
        assert!(
            gap >= TimeDelta::seconds(5) && gap <= TimeDelta::seconds(10),
            "{gap}"
        );
        prev = next;
    }
    let minutes = every(1).to(3).minutes().build().unwrap();
    assert_eq!(json(&minutes)["min"], "1m");
    assert_eq!(json(&minutes)["max"], "3m");
    // A random interval never fires past its end date.
    let ending = every(5)
        .to(10)
        .seconds()
        .until(t("2026-01-01T00:00:04Z"))
        .build()
        .unwrap();
    assert_eq!(ending.next_fire_time(None, start), None);
}

#[test]
fn mistakes_are_invalid_input_errors_quoting_the_text() {
    let cases: Vec<(chime::Result<EveryTrigger>, &str)> = vec![
        (
            every(1).day().at("25:00").build(),
            "hour: 25 is out of range 0-23",
        ),
        (every(1).day().at("25:00").build(), "25:00"),
        (every(1).day().at("9am").build(), "9am"),
        (
            every(1).day().at("10:61").build(),
            "minute: 61 is out of range 0-59",
        ),
        (every(1).monday().at("24:00").build(), "24:00"),
        (
            every(10).seconds().at("10:00").build(),
            ".seconds().at(\"10:00\")",
        ),
        (every(1).hour().at("30").build(), "\"30\""),
        (every(1).minute().at("15").build(), "\"15\""),
        (every(5).to(3).seconds().build(), "to(3)"),
        (every(5).to(10).days().at("10:00").build(), "10:00"),
        (every(1).to(2).monday().build(), "monday"),
        (every(0).seconds().build(), "every(0)"),
        (every(2).monday().build(), "every(2).monday()"),
        (every(3).build(), "no unit"),
        (every(1).day().hours().build(), ".days() and .hours()"),
    ];
    for (result, needle) in cases {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains(needle), "{needle:?} not in {err}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_random_interval_job_fires_within_its_bounds() {
    // From t0, every 5-10 s: over 60 s at least 5 and at most 12 fires, each
    // 5-10 s after the one before (the first 5-10 s after t0).
    let h = harness();
    let trigger = every(5).to(10).seconds().build().unwrap();
    h.scheduler
        .add_job(NewJob::new("record", trigger).id("jittery"))
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    h.run_until(at(60)).await;
    let fires = h.fires("jittery");
    assert!((5..=12).contains(&fires.len()), "{fires:?}");
    let mut prev = at(0);
    for fire in fires {
        let gap = fire - prev;
        assert!(
            gap >= TimeDelta::seconds(5) && gap <= TimeDelta::seconds(10),
            "{gap}"
        );
        prev = fire;
    }
}
