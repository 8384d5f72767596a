//! `CalendarIntervalTrigger`: month ends, leap years, daylight saving in
//! Europe/London and America/New_York, bounds, storage, and a scheduler run.
//!
//! Calendar facts used below (derived by hand, not from the code):
//! - 2026-01-01 is a Thursday, so Feb 1 and Mar 1 2026 are Sundays, Mar 8 is
//!   the second Sunday of March, Mar 29 the last; Oct 1 2026 is a Thursday,
//!   so Oct 25 is the last Sunday of October and Nov 1 the first Sunday of
//!   November.
//! - Europe/London: GMT (UTC+0) in winter, BST (UTC+1) from the last Sunday
//!   of March 01:00 UTC (wall clock 01:00 → 02:00) to the last Sunday of
//!   October 01:00 UTC (wall clock 02:00 BST → 01:00 GMT, so 01:00-01:59
//!   happens twice).
//! - America/New_York: EST (UTC-5); EDT (UTC-4) from the second Sunday of
//!   March at 02:00 local (→ 03:00) to the first Sunday of November at 02:00
//!   EDT (→ 01:00 EST, so 01:00-01:59 happens twice).
//! - Leap years: divisible by 4, except centuries not divisible by 400 (2000
//!   and 2400 are leap years, 2100-2300 are not).

use std::time::Duration;

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::{America, Australia, Europe, UTC};
use chime::trigger::{
    every, CalendarIntervalTrigger, MonthEnd, Trigger, TriggerRegistry, TriggerSpec,
};
use chime::{ErrorKind, NewJob};

use crate::harness::{at, builder_with};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The first `n` fires from `now`: the first >= now, then each strictly
/// after the previous.
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

#[test]
fn monthly_from_jan_31_clamps_to_the_month_end_and_returns_to_the_31st() {
    // Monthly at 09:00 London anchored on Jan 31 2026. Rule (clamp): a month
    // without a 31st fires on its last day; dates come from the anchor, so
    // after Feb 28 comes Mar 31, not Mar 28. 09:00 GMT = 09:00Z in winter,
    // 09:00 BST = 08:00Z from Mar 29 to Oct 24; Oct 31 is GMT again.
    let trig = CalendarIntervalTrigger::months(1)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(Europe::London)
        .starting_at(t("2026-01-31T00:00:00Z"));
    assert_eq!(
        fires(&trig, "2026-01-01T00:00:00Z", 14),
        ts(&[
            "2026-01-31T09:00:00Z",
            "2026-02-28T09:00:00Z",
            "2026-03-31T08:00:00Z",
            "2026-04-30T08:00:00Z",
            "2026-05-31T08:00:00Z",
            "2026-06-30T08:00:00Z",
            "2026-07-31T08:00:00Z",
            "2026-08-31T08:00:00Z",
            "2026-09-30T08:00:00Z",
            "2026-10-31T09:00:00Z",
            "2026-11-30T09:00:00Z",
            "2026-12-31T09:00:00Z",
            "2027-01-31T09:00:00Z",
            "2027-02-28T09:00:00Z",
        ])
    );
    // 2028 is a leap year: Jan 31 2028 + 1 month clamps to Feb 29.
    assert_eq!(
        trig.next_fire_time(Some(t("2028-01-31T09:00:00Z")), t("2028-01-31T09:00:00Z")),
        Some(t("2028-02-29T09:00:00Z"))
    );
}

#[test]
fn monthly_from_jan_31_can_skip_short_months_instead() {
    // Rule (skip, APScheduler 4's): only months with a 31st: Jan, Mar, May,
    // Jul, Aug, Oct, Dec. In UTC, so no DST shifts.
    let trig = CalendarIntervalTrigger::months(1)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .month_end(MonthEnd::Skip)
        .timezone(UTC)
        .starting_at(t("2026-01-31T00:00:00Z"));
    assert_eq!(
        fires(&trig, "2026-01-01T00:00:00Z", 8),
        ts(&[
            "2026-01-31T09:00:00Z",
            "2026-03-31T09:00:00Z",
            "2026-05-31T09:00:00Z",
            "2026-07-31T09:00:00Z",
            "2026-08-31T09:00:00Z",
            "2026-10-31T09:00:00Z",
            "2026-12-31T09:00:00Z",
            "2027-01-31T09:00:00Z",
        ])
    );
    // Asking from inside a skipped month lands on the next month with a 31st.
    assert_eq!(
        trig.next_fire_time(None, t("2026-04-01T00:00:00Z")),
        Some(t("2026-05-31T09:00:00Z"))
    );
    let spec = serde_json::to_value(trig.to_spec().unwrap()).unwrap();
    assert_eq!(spec["month_end"], "skip");
}

#[test]
fn yearly_from_feb_29() {
    // Clamp: Feb 29 2024 + 1 year = Feb 28 2025 (2025-2027 are common years),
    // Feb 29 again in 2028.
    let clamp = CalendarIntervalTrigger::years(1)
        .unwrap()
        .at(12, 0, 0)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2024-02-29T00:00:00Z"));
    assert_eq!(
        fires(&clamp, "2024-01-01T00:00:00Z", 5),
        ts(&[
            "2024-02-29T12:00:00Z",
            "2025-02-28T12:00:00Z",
            "2026-02-28T12:00:00Z",
            "2027-02-28T12:00:00Z",
            "2028-02-29T12:00:00Z",
        ])
    );
    // Skip: leap years only; 2100 is not one, so 2096 is followed by 2104.
    let skip = clamp.clone().month_end(MonthEnd::Skip);
    assert_eq!(
        fires(&skip, "2024-01-01T00:00:00Z", 3),
        ts(&[
            "2024-02-29T12:00:00Z",
            "2028-02-29T12:00:00Z",
            "2032-02-29T12:00:00Z",
        ])
    );
    assert_eq!(
        skip.next_fire_time(None, t("2096-03-01T00:00:00Z")),
        Some(t("2104-02-29T12:00:00Z"))
    );
    // Every 100 years from Feb 29 2000: 2100, 2200, 2300 have no Feb 29.
    let century = CalendarIntervalTrigger::years(100)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2000-02-29T00:00:00Z"));
    assert_eq!(
        fires(&century, "2000-01-01T00:00:00Z", 3),
        ts(&[
            "2000-02-29T00:00:00Z",
            "2100-02-28T00:00:00Z",
            "2200-02-28T00:00:00Z",
        ])
    );
    let century_skip = century.month_end(MonthEnd::Skip);
    assert_eq!(
        fires(&century_skip, "2000-01-01T00:00:00Z", 2),
        ts(&["2000-02-29T00:00:00Z", "2400-02-29T00:00:00Z"])
    );
}

#[test]
fn london_spring_forward_gap_fires_at_the_first_instant_after_it() {
    // Daily at 01:30 London. Mar 28 (GMT): 01:30Z. Mar 29: 01:00 GMT jumps to
    // 02:00 BST, so 01:30 does not exist: fire at the first instant after the
    // gap, 02:00 BST = 01:00Z. Mar 30 (BST): 00:30Z.
    let trig = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(1, 30, 0)
        .unwrap()
        .timezone(Europe::London)
        .starting_at(t("2026-03-28T00:00:00Z"));
    assert_eq!(
        fires(&trig, "2026-03-28T00:00:00Z", 3),
        ts(&[
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z",
        ])
    );
    // 01:00 itself is the first missing wall time: also 02:00 BST.
    let one = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(1, 0, 0)
        .unwrap()
        .timezone(Europe::London)
        .starting_at(t("2026-03-29T00:00:00Z"));
    assert_eq!(
        one.next_fire_time(None, t("2026-03-29T00:00:00Z")),
        Some(t("2026-03-29T01:00:00Z"))
    );
    // 00:59:59 still exists (GMT).
    let before = one.at(0, 59, 59).unwrap();
    assert_eq!(
        before.next_fire_time(None, t("2026-03-29T00:00:00Z")),
        Some(t("2026-03-29T00:59:59Z"))
    );
}

#[test]
fn london_fall_back_overlap_fires_once_at_the_first_occurrence() {
    // Daily at 01:30 London. Oct 24 (BST): 00:30Z. Oct 25: 01:30 happens at
    // 00:30Z (BST) and again at 01:30Z (GMT): fire at the first only. Oct 26
    // (GMT): 01:30Z.
    let trig = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(1, 30, 0)
        .unwrap()
        .timezone(Europe::London)
        .starting_at(t("2026-10-24T00:00:00Z"));
    assert_eq!(
        fires(&trig, "2026-10-24T00:00:00Z", 3),
        ts(&[
            "2026-10-24T00:30:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
        ])
    );
    // Asked between the two occurrences, the next fire is the next day's.
    assert_eq!(
        trig.next_fire_time(None, t("2026-10-25T01:00:00Z")),
        Some(t("2026-10-26T01:30:00Z"))
    );
}

#[test]
fn new_york_gap_and_overlap() {
    // Daily at 02:30 New York around Mar 8 2026 (02:00 EST → 03:00 EDT):
    // Mar 7 02:30 EST = 07:30Z; Mar 8 gap → 03:00 EDT = 07:00Z; Mar 9 02:30
    // EDT = 06:30Z.
    let gap = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(2, 30, 0)
        .unwrap()
        .timezone(America::New_York)
        .starting_at(t("2026-03-07T00:00:00Z"));
    assert_eq!(
        fires(&gap, "2026-03-07T00:00:00Z", 3),
        ts(&[
            "2026-03-07T07:30:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:30:00Z",
        ])
    );
    // Weekly on Sundays at 02:30 from Sunday Mar 1: same rule on Mar 8.
    let weekly = CalendarIntervalTrigger::weeks(1)
        .unwrap()
        .at(2, 30, 0)
        .unwrap()
        .timezone(America::New_York)
        .starting_at(t("2026-03-01T07:30:00Z"));
    assert_eq!(
        fires(&weekly, "2026-02-01T00:00:00Z", 3),
        ts(&[
            "2026-03-01T07:30:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-15T06:30:00Z",
        ])
    );
    // Daily at 01:30 around Nov 1 2026 (02:00 EDT → 01:00 EST): Oct 31 01:30
    // EDT = 05:30Z; Nov 1 first occurrence (EDT) = 05:30Z, not 06:30Z; Nov 2
    // 01:30 EST = 06:30Z.
    let overlap = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(1, 30, 0)
        .unwrap()
        .timezone(America::New_York)
        .starting_at(t("2026-10-31T00:00:00Z"));
    assert_eq!(
        fires(&overlap, "2026-10-31T00:00:00Z", 3),
        ts(&[
            "2026-10-31T05:30:00Z",
            "2026-11-01T05:30:00Z",
            "2026-11-02T06:30:00Z",
        ])
    );
}

#[test]
fn lord_howe_half_hour_shifts() {
    // Australia/Lord_Howe: UTC+10:30 standard, UTC+11 in summer; the clocks
    // move by 30 minutes at 02:00 local on the first Sunday of October (→
    // 02:30; Oct 1 2026 is a Thursday, so Oct 4) and of April (→ 01:30;
    // Apr 1 2026 is a Wednesday, so Apr 5).
    // Daily 02:15: Oct 3 at +10:30 = Oct 2 15:45Z; Oct 4 falls in the gap →
    // 02:30 (+11) = Oct 3 15:30Z; Oct 5 at +11 = Oct 4 15:15Z.
    let gap = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(2, 15, 0)
        .unwrap()
        .timezone(Australia::Lord_Howe)
        .starting_at(t("2026-10-02T00:00:00Z"));
    assert_eq!(
        fires(&gap, "2026-10-01T00:00:00Z", 3),
        ts(&[
            "2026-10-02T15:45:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-04T15:15:00Z",
        ])
    );
    // Daily 01:45: Apr 4 at +11 = Apr 3 14:45Z; Apr 5 has 01:45 twice (+11
    // then +10:30): the first, Apr 4 14:45Z; Apr 6 at +10:30 = Apr 5 15:15Z.
    let overlap = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(1, 45, 0)
        .unwrap()
        .timezone(Australia::Lord_Howe)
        .starting_at(t("2026-04-03T00:00:00Z"));
    assert_eq!(
        fires(&overlap, "2026-04-01T00:00:00Z", 3),
        ts(&[
            "2026-04-03T14:45:00Z",
            "2026-04-04T14:45:00Z",
            "2026-04-05T15:15:00Z",
        ])
    );
}

#[test]
fn start_and_end_are_inclusive_and_the_first_fire_is_at_or_after_now() {
    // Every 2 days at 09:00 UTC anchored on Jan 10 2026 (09:00Z exactly).
    let trig = CalendarIntervalTrigger::days(2)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2026-01-10T09:00:00Z"))
        .ending_at(t("2026-01-14T09:00:00Z"));
    // The start itself is a fire.
    assert_eq!(
        fires(&trig, "2026-01-01T00:00:00Z", 5),
        ts(&[
            "2026-01-10T09:00:00Z",
            "2026-01-12T09:00:00Z",
            "2026-01-14T09:00:00Z",
        ])
    );
    // now exactly on a fire: that fire; one second later: the next one.
    assert_eq!(
        trig.next_fire_time(None, t("2026-01-12T09:00:00Z")),
        Some(t("2026-01-12T09:00:00Z"))
    );
    assert_eq!(
        trig.next_fire_time(None, t("2026-01-12T09:00:01Z")),
        Some(t("2026-01-14T09:00:00Z"))
    );
    // Start at 10:00 on the anchor day: that day's 09:00 is before the start,
    // so the first fire is two days later, still on the anchor's grid.
    let late = CalendarIntervalTrigger::days(2)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2026-01-10T10:00:00Z"));
    assert_eq!(
        fires(&late, "2026-01-01T00:00:00Z", 2),
        ts(&["2026-01-12T09:00:00Z", "2026-01-14T09:00:00Z"])
    );
}

#[test]
fn far_future_queries_are_computed_not_stepped() {
    // Monthly on the 31st at 09:00 UTC from Jan 2026, asked 100 years (1,200
    // periods) later: Mar 31 2126 from mid-March, Apr 30 2126 from April.
    let trig = CalendarIntervalTrigger::months(1)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2026-01-31T00:00:00Z"));
    assert_eq!(
        trig.next_fire_time(None, t("2126-03-15T00:00:00Z")),
        Some(t("2126-03-31T09:00:00Z"))
    );
    assert_eq!(
        trig.next_fire_time(None, t("2126-04-01T00:00:00Z")),
        Some(t("2126-04-30T09:00:00Z"))
    );
    // Strictly after a previous fire far away.
    assert_eq!(
        trig.next_fire_time(Some(t("2126-04-30T09:00:00Z")), t("2026-01-01T00:00:00Z")),
        Some(t("2126-05-31T09:00:00Z"))
    );
    // Every day from 2026, asked in 9999 (about 2.9 million periods later):
    // Dec 31 9999 09:00 is the last fire.
    let daily = CalendarIntervalTrigger::days(1)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2026-01-01T00:00:00Z"));
    assert_eq!(
        daily.next_fire_time(None, t("9999-12-31T08:00:00Z")),
        Some(t("9999-12-31T09:00:00Z"))
    );
    assert_eq!(daily.next_fire_time(None, t("9999-12-31T10:00:00Z")), None);
}

#[test]
fn spec_is_human_readable_and_round_trips_through_the_registry() {
    let json = serde_json::json!({
        "kind": "calendar_interval",
        "months": 1,
        "hour": 9,
        "minute": 0,
        "second": 0,
        "timezone": "Europe/London",
        "start_date": "2026-01-31T00:00:00Z"
    });
    let spec = TriggerSpec::from_value(json.clone()).unwrap();
    let decoded = TriggerRegistry::with_builtins().decode(&spec).unwrap();
    assert_eq!(decoded.kind(), "calendar_interval");
    assert_eq!(decoded.describe(), "every month at 09:00, Europe/London");
    // Same schedule as the hand-built trigger (see the month-end test).
    assert_eq!(
        decoded.next_fire_time(Some(t("2026-01-31T09:00:00Z")), t("2026-01-31T09:00:00Z")),
        Some(t("2026-02-28T09:00:00Z"))
    );
    let built = CalendarIntervalTrigger::months(1)
        .unwrap()
        .at(9, 0, 0)
        .unwrap()
        .timezone(Europe::London)
        .starting_at(t("2026-01-31T00:00:00Z"));
    assert_eq!(
        serde_json::to_value(built.to_spec().unwrap()).unwrap(),
        json
    );
    assert_eq!(
        serde_json::to_value(decoded.to_spec().unwrap()).unwrap(),
        json
    );
    // Everything set, including jitter and the skip rule.
    let full = CalendarIntervalTrigger::new(1, 2, 3, 4)
        .unwrap()
        .at(23, 59, 59)
        .unwrap()
        .timezone(America::New_York)
        .starting_at(t("2026-01-01T00:00:00Z"))
        .ending_at(t("2030-01-01T00:00:00Z"))
        .with_jitter(Duration::from_secs(30))
        .month_end(MonthEnd::Skip);
    let spec = full.to_spec().unwrap();
    let back = CalendarIntervalTrigger::from_spec(&spec).unwrap();
    assert_eq!(back, full);
    let decoded = TriggerRegistry::with_builtins().decode(&spec).unwrap();
    assert_eq!(decoded.jitter(), Some(Duration::from_secs(30)));
    assert_eq!(decoded.end_date(), Some(t("2030-01-01T00:00:00Z")));
}

#[test]
fn invalid_specs_are_errors() {
    let registry = TriggerRegistry::with_builtins();
    let decode = |json: serde_json::Value| {
        registry
            .decode(&TriggerSpec::from_value(json).unwrap())
            .unwrap_err()
    };
    let zero = decode(serde_json::json!({"kind": "calendar_interval", "hour": 9}));
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);
    assert!(zero.message().contains("longer than zero"), "{zero}");
    let hour = decode(serde_json::json!({"kind": "calendar_interval", "days": 1, "hour": 24}));
    assert_eq!(hour.kind(), ErrorKind::InvalidInput);
    assert!(
        hour.message().contains("hour: 24 is out of range 0-23"),
        "{hour}"
    );
    let typo = decode(serde_json::json!({"kind": "calendar_interval", "day": 1}));
    assert_eq!(typo.kind(), ErrorKind::UnknownTrigger);
    let zone = decode(
        serde_json::json!({"kind": "calendar_interval", "days": 1, "timezone": "Mars/Olympus"}),
    );
    assert_eq!(zone.kind(), ErrorKind::UnknownTrigger);
    let err = CalendarIntervalTrigger::new(0, 0, 0, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test(start_paused = true)]
async fn a_calendar_interval_job_fires_at_the_wall_clock_time_in_the_schedulers_zone() {
    // The test clock starts 2026-01-01T00:00:00Z. The scheduler's zone is New
    // York (EST, UTC-5 in January); `every(1).day().at("09:00")` builds a
    // calendar_interval without zone or start, so the scheduler fills in its
    // zone and anchors it at the add time: 09:00 EST = 14:00Z on Jan 1, then
    // Jan 2.
    let h = builder_with(|b| b.timezone(America::New_York));
    let trigger = every(1).day().at("09:00").build().unwrap();
    let job = h
        .scheduler
        .add_job(NewJob::new("record", trigger).id("morning"))
        .await
        .unwrap();
    assert_eq!(job.next_run_time, Some(at(14 * 3600)));
    let spec = serde_json::to_value(&job.trigger).unwrap();
    assert_eq!(spec["kind"], "calendar_interval");
    assert_eq!(spec["timezone"], "America/New_York");
    assert_eq!(spec["start_date"], "2026-01-01T00:00:00Z");
    h.scheduler.start().await.unwrap();
    h.run_until(at(86_400 + 14 * 3600 + 60)).await;
    assert_eq!(
        h.fires("morning"),
        vec![at(14 * 3600), at(86_400 + 14 * 3600)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_monthly_job_on_the_31st_runs_on_feb_28() {
    // Monthly at 00:00 UTC anchored on Jan 31 2026 (= t0 + 30 days): fires
    // Jan 31 and Feb 28 (t0 + 58 days).
    let h = builder_with(|b| b);
    let trigger = CalendarIntervalTrigger::months(1)
        .unwrap()
        .timezone(UTC)
        .starting_at(t("2026-01-31T00:00:00Z"));
    h.scheduler
        .add_job(NewJob::new("record", trigger).id("month-end"))
        .await
        .unwrap();
    h.scheduler.start().await.unwrap();
    h.run_until(at(59 * 86_400)).await;
    assert_eq!(h.fires("month-end"), vec![at(30 * 86_400), at(58 * 86_400)]);
}
