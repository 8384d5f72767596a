//! Integration tests for the cron engine. Expected values come from calendar
//! reasoning (noted in comments), never from running the implementation.
//!
//! Calendar facts used throughout (2026): Jan 1 is a Thursday; the 1st of each
//! month falls on: Jan Thu, Feb Sun, Mar Sun, Apr Wed, May Fri, Jun Mon,
//! Jul Wed, Aug Sat, Sep Tue, Oct Thu, Nov Sun, Dec Tue; 2027-01-01 is a Friday.

use chime::chrono::{DateTime, TimeZone, Utc};
use chime::chrono_tz::{self, Tz};
use chime::trigger::cron::{CronError, CronFields, CronSchedule};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn day(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    utc(y, mo, d, 0, 0, 0)
}

fn cron(expr: &str) -> CronSchedule {
    CronSchedule::parse_crontab(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// First `n` fire times at or after `start`, chained with `next_after`.
fn fires(s: &CronSchedule, start: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut next = s.next_at_or_after(start, tz);
    while let Some(t) = next {
        out.push(t);
        if out.len() == n {
            break;
        }
        next = s.next_after(t, tz);
    }
    out
}

fn fires_utc(expr: &str, start: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    fires(&cron(expr), start, chrono_tz::UTC, n)
}

fn fields(pairs: &[(&str, &str)]) -> CronFields {
    let mut f = CronFields::default();
    for (k, v) in pairs {
        let v = Some(v.to_string());
        match *k {
            "year" => f.year = v,
            "month" => f.month = v,
            "day" => f.day = v,
            "week" => f.week = v,
            "day_of_week" => f.day_of_week = v,
            "hour" => f.hour = v,
            "minute" => f.minute = v,
            "second" => f.second = v,
            other => panic!("unknown field {other}"),
        }
    }
    f
}

fn sched(pairs: &[(&str, &str)]) -> CronSchedule {
    CronSchedule::from_fields(&fields(pairs)).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

fn fields_fires(pairs: &[(&str, &str)], start: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    fires(&sched(pairs), start, chrono_tz::UTC, n)
}

// ---------------------------------------------------------------- crontab grammar

#[test]
fn weekday_range_example() {
    // 2026-01-02 is a Friday; next weekday 02:30 after noon is Monday the 5th.
    assert_eq!(
        fires_utc("30 2 * * mon-fri", utc(2026, 1, 2, 12, 0, 0), 2),
        vec![utc(2026, 1, 5, 2, 30, 0), utc(2026, 1, 6, 2, 30, 0)]
    );
}

#[test]
fn star_step_minutes() {
    assert_eq!(
        fires_utc("*/15 * * * *", utc(2026, 1, 1, 12, 7, 30), 3),
        vec![
            utc(2026, 1, 1, 12, 15, 0),
            utc(2026, 1, 1, 12, 30, 0),
            utc(2026, 1, 1, 12, 45, 0)
        ]
    );
}

#[test]
fn every_second_handles_subsecond_reference() {
    let s = cron("* * * * * *");
    let t = utc(2026, 1, 1, 12, 0, 0) + chrono::Duration::milliseconds(500);
    assert_eq!(
        s.next_at_or_after(t, chrono_tz::UTC),
        Some(utc(2026, 1, 1, 12, 0, 1))
    );
    assert_eq!(
        s.next_at_or_after(utc(2026, 1, 1, 12, 0, 0), chrono_tz::UTC),
        Some(utc(2026, 1, 1, 12, 0, 0))
    );
    assert_eq!(
        s.next_after(utc(2026, 1, 1, 12, 0, 0), chrono_tz::UTC),
        Some(utc(2026, 1, 1, 12, 0, 1))
    );
    assert_eq!(
        s.next_after(t, chrono_tz::UTC),
        Some(utc(2026, 1, 1, 12, 0, 1))
    );
}

#[test]
fn six_field_seconds() {
    assert_eq!(
        fires_utc("15,45 * * * * *", utc(2026, 1, 1, 12, 0, 20), 3),
        vec![
            utc(2026, 1, 1, 12, 0, 45),
            utc(2026, 1, 1, 12, 1, 15),
            utc(2026, 1, 1, 12, 1, 45)
        ]
    );
}

#[test]
fn seven_field_year() {
    assert_eq!(
        fires_utc("0 0 0 1 1 * 2030", day(2026, 1, 1), 3),
        vec![day(2030, 1, 1)]
    );
    assert_eq!(
        fires_utc("0 0 0 1 1 * 2027-2031/2", day(2026, 1, 1), 5),
        vec![day(2027, 1, 1), day(2029, 1, 1), day(2031, 1, 1)]
    );
    assert_eq!(
        fires_utc("0 0 0 1 1 * 2040,2028", day(2026, 1, 1), 5),
        vec![day(2028, 1, 1), day(2040, 1, 1)]
    );
    assert_eq!(
        fires_utc("0 0 0 1 1 * *", day(2026, 1, 2), 1),
        vec![day(2027, 1, 1)]
    );
}

#[test]
fn single_range_step_and_lists() {
    // a/s = a-max/s: minutes 5, 25, 45.
    assert_eq!(
        fires_utc("5/20 * * * *", utc(2026, 1, 1, 10, 0, 0), 4),
        vec![
            utc(2026, 1, 1, 10, 5, 0),
            utc(2026, 1, 1, 10, 25, 0),
            utc(2026, 1, 1, 10, 45, 0),
            utc(2026, 1, 1, 11, 5, 0)
        ]
    );
    // a-b/s: minutes 10, 20, 30.
    assert_eq!(
        fires_utc("10-30/10 * * * *", utc(2026, 1, 1, 10, 0, 0), 4),
        vec![
            utc(2026, 1, 1, 10, 10, 0),
            utc(2026, 1, 1, 10, 20, 0),
            utc(2026, 1, 1, 10, 30, 0),
            utc(2026, 1, 1, 11, 10, 0)
        ]
    );
    // hours 9, 13, 17.
    assert_eq!(
        fires_utc("0 9-17/4 * * *", day(2026, 1, 1), 4),
        vec![
            utc(2026, 1, 1, 9, 0, 0),
            utc(2026, 1, 1, 13, 0, 0),
            utc(2026, 1, 1, 17, 0, 0),
            utc(2026, 1, 2, 9, 0, 0)
        ]
    );
    // a-b range.
    assert_eq!(
        fires_utc("0 22-23 * * *", day(2026, 1, 1), 3),
        vec![
            utc(2026, 1, 1, 22, 0, 0),
            utc(2026, 1, 1, 23, 0, 0),
            utc(2026, 1, 2, 22, 0, 0)
        ]
    );
    // Lists mixing forms.
    assert_eq!(
        fires_utc("0,30 8,20-21 * * *", day(2026, 1, 1), 7),
        vec![
            utc(2026, 1, 1, 8, 0, 0),
            utc(2026, 1, 1, 8, 30, 0),
            utc(2026, 1, 1, 20, 0, 0),
            utc(2026, 1, 1, 20, 30, 0),
            utc(2026, 1, 1, 21, 0, 0),
            utc(2026, 1, 1, 21, 30, 0),
            utc(2026, 1, 2, 8, 0, 0)
        ]
    );
}

#[test]
fn question_mark_is_star() {
    // Mondays in Jan 2026: 5, 12.
    assert_eq!(
        fires_utc("0 12 ? * mon", day(2026, 1, 1), 2),
        vec![utc(2026, 1, 5, 12, 0, 0), utc(2026, 1, 12, 12, 0, 0)]
    );
    assert_eq!(cron("0 12 ? * mon"), cron("0 12 * * 1"));
}

#[test]
fn month_and_weekday_names() {
    assert_eq!(
        fires_utc("0 0 1 jan,JUL *", day(2026, 1, 2), 2),
        vec![day(2026, 7, 1), day(2027, 1, 1)]
    );
    assert_eq!(
        fires_utc("0 0 1 Mar-May *", day(2026, 1, 2), 4),
        vec![
            day(2026, 3, 1),
            day(2026, 4, 1),
            day(2026, 5, 1),
            day(2027, 3, 1)
        ]
    );
    // Sat Jan 3, Sun Jan 4, Sat Jan 10.
    assert_eq!(
        fires_utc("0 0 * * sat,SUN", day(2026, 1, 1), 3),
        vec![day(2026, 1, 3), day(2026, 1, 4), day(2026, 1, 10)]
    );
    // 7 and 0 are both Sunday.
    assert_eq!(cron("0 0 * * 7"), cron("0 0 * * 0"));
    assert_eq!(cron("0 0 * * 7"), cron("0 0 * * sun"));
    assert_eq!(cron("0 0 * * 5-7"), cron("0 0 * * 0,5,6"));
}

#[test]
fn macros() {
    assert_eq!(cron("@yearly"), cron("0 0 1 1 *"));
    assert_eq!(cron("@annually"), cron("0 0 1 1 *"));
    assert_eq!(cron("@monthly"), cron("0 0 1 * *"));
    assert_eq!(cron("@weekly"), cron("0 0 * * 0"));
    assert_eq!(cron("@daily"), cron("0 0 * * *"));
    assert_eq!(cron("@midnight"), cron("0 0 * * *"));
    assert_eq!(cron("@hourly"), cron("0 * * * *"));
    assert_eq!(cron("@DAILY"), cron("0 0 * * *"));
    // First Sunday of 2026 is Jan 4.
    assert_eq!(
        fires_utc("@weekly", day(2026, 1, 1), 1),
        vec![day(2026, 1, 4)]
    );
    assert_eq!(
        fires_utc("@yearly", day(2026, 1, 2), 1),
        vec![day(2027, 1, 1)]
    );
    assert_eq!(
        fires_utc("@monthly", day(2026, 1, 2), 1),
        vec![day(2026, 2, 1)]
    );
    assert_eq!(
        fires_utc("@hourly", utc(2026, 1, 1, 10, 0, 1), 1),
        vec![utc(2026, 1, 1, 11, 0, 0)]
    );
    assert!(cron("@hourly").is_wildcard());
    assert!(!cron("@daily").is_wildcard());
}

#[test]
fn wildcard_classification() {
    assert!(cron("* * * * *").is_wildcard());
    assert!(cron("*/5 3 * * *").is_wildcard());
    assert!(cron("0 */2 * * *").is_wildcard());
    assert!(cron("0 ? * * *").is_wildcard());
    assert!(!cron("30 2 * * *").is_wildcard());
    assert!(!cron("0 0-23 * * *").is_wildcard());
    assert!(!cron("0,30 1 * * *").is_wildcard());
    assert!(!cron("* 30 2 * * *").is_wildcard()); // seconds field does not count
}

// ---------------------------------------------------------------- L, W, #

#[test]
fn last_day_of_month_and_leap_years() {
    assert_eq!(
        fires_utc("0 0 L * *", day(2026, 1, 15), 4),
        vec![
            day(2026, 1, 31),
            day(2026, 2, 28),
            day(2026, 3, 31),
            day(2026, 4, 30)
        ]
    );
    // 2024 and 2000 are leap years, 2100 is not.
    assert_eq!(
        fires_utc("0 0 L 2 *", day(2024, 1, 1), 1),
        vec![day(2024, 2, 29)]
    );
    assert_eq!(
        fires_utc("0 0 L 2 *", day(2000, 1, 1), 1),
        vec![day(2000, 2, 29)]
    );
    assert_eq!(
        fires_utc("0 0 L 2 *", day(2100, 1, 1), 1),
        vec![day(2100, 2, 28)]
    );
}

#[test]
fn last_weekday_of_month() {
    // Jan 31 2026 Sat -> Fri 30; Feb 28 Sat -> Fri 27; Mar 31 Tue; Apr 30 Thu;
    // May 31 Sun -> Fri 29.
    assert_eq!(
        fires_utc("0 0 LW * *", day(2026, 1, 1), 5),
        vec![
            day(2026, 1, 30),
            day(2026, 2, 27),
            day(2026, 3, 31),
            day(2026, 4, 30),
            day(2026, 5, 29)
        ]
    );
}

#[test]
fn nearest_weekday() {
    // Jan 15 2026 Thu; Feb 15 Sun -> Mon 16; Mar 15 Sun -> Mon 16; Apr 15 Wed.
    assert_eq!(
        fires_utc("0 0 15W * *", day(2026, 1, 1), 4),
        vec![
            day(2026, 1, 15),
            day(2026, 2, 16),
            day(2026, 3, 16),
            day(2026, 4, 15)
        ]
    );
    // Aug 15 2026 is a Saturday -> Friday 14.
    assert_eq!(
        fires_utc("0 0 15W * *", day(2026, 8, 1), 1),
        vec![day(2026, 8, 14)]
    );
    // Aug 1 2026 is a Saturday: 1W never goes back into July -> Monday Aug 3.
    // Sep 1 Tue; Oct 1 Thu; Nov 1 Sun -> Mon Nov 2.
    assert_eq!(
        fires_utc("0 0 1W * *", day(2026, 7, 15), 4),
        vec![
            day(2026, 8, 3),
            day(2026, 9, 1),
            day(2026, 10, 1),
            day(2026, 11, 2)
        ]
    );
    // May 31 2026 is a Sunday: 31W never goes into June -> Friday May 29.
    // April has 30 days, so 31W does not fire in April; June neither.
    // Jul 31 2026 is a Friday.
    assert_eq!(
        fires_utc("0 0 31W * *", day(2026, 4, 1), 2),
        vec![day(2026, 5, 29), day(2026, 7, 31)]
    );
    // February never has a 30th.
    assert_eq!(
        fires_utc("0 0 30W 2 *", day(2026, 1, 1), 1),
        Vec::<DateTime<Utc>>::new()
    );
}

#[test]
fn last_and_nth_weekday() {
    // Last Friday: Jan 30, Feb 27, Mar 27 (Mar 1 is Sunday, Fridays 6..27).
    assert_eq!(
        fires_utc("0 0 * * 5L", day(2026, 1, 1), 3),
        vec![day(2026, 1, 30), day(2026, 2, 27), day(2026, 3, 27)]
    );
    assert_eq!(cron("0 0 * * 5L"), cron("0 0 * * FRIL"));
    // Third Friday: Jan (Fridays 2, 9, 16) -> 16; Feb (6, 13, 20) -> 20; Mar -> 20.
    assert_eq!(
        fires_utc("0 0 * * 5#3", day(2026, 1, 1), 3),
        vec![day(2026, 1, 16), day(2026, 2, 20), day(2026, 3, 20)]
    );
    assert_eq!(cron("0 0 * * 5#3"), cron("0 0 * * fri#3"));
    // Fifth Friday: Jan 30 (2, 9, 16, 23, 30); Feb/Mar/Apr have four;
    // May 1 is a Friday -> May 29; June four; Jul 31 (3, 10, 17, 24, 31).
    assert_eq!(
        fires_utc("0 0 * * 5#5", day(2026, 1, 1), 3),
        vec![day(2026, 1, 30), day(2026, 5, 29), day(2026, 7, 31)]
    );
}

// ---------------------------------------------------------------- Vixie day rule

#[test]
fn vixie_or_when_both_restricted() {
    // 13th OR Friday: Fri Jan 2, Fri Jan 9, Tue Jan 13, Fri Jan 16.
    assert_eq!(
        fires_utc("0 0 13 * 5", day(2026, 1, 1), 4),
        vec![
            day(2026, 1, 2),
            day(2026, 1, 9),
            day(2026, 1, 13),
            day(2026, 1, 16)
        ]
    );
    // 1-31/2 does not start with '*': odd days OR Monday (Mon Jan 12 is even).
    assert_eq!(
        fires_utc("0 0 1-31/2 * 1", day(2026, 1, 1), 8),
        vec![
            day(2026, 1, 1),
            day(2026, 1, 3),
            day(2026, 1, 5),
            day(2026, 1, 7),
            day(2026, 1, 9),
            day(2026, 1, 11),
            day(2026, 1, 12),
            day(2026, 1, 13)
        ]
    );
}

#[test]
fn vixie_and_when_a_field_starts_with_star() {
    // */2 starts with '*': odd days AND Monday. Mondays Jan 2026: 5, 12, 19, 26
    // -> 5, 19; Feb: 2, 9, 16, 23 -> 9, 23.
    assert_eq!(
        fires_utc("0 0 */2 * 1", day(2026, 1, 1), 4),
        vec![
            day(2026, 1, 5),
            day(2026, 1, 19),
            day(2026, 2, 9),
            day(2026, 2, 23)
        ]
    );
    // dow */2 = Sun, Tue, Thu, Sat AND dom 1-10.
    assert_eq!(
        fires_utc("0 0 1-10 * */2", day(2026, 1, 1), 6),
        vec![
            day(2026, 1, 1),  // Thu
            day(2026, 1, 3),  // Sat
            day(2026, 1, 4),  // Sun
            day(2026, 1, 6),  // Tue
            day(2026, 1, 8),  // Thu
            day(2026, 1, 10)  // Sat
        ]
    );
    // dow '*' / '?': only the 13th.
    assert_eq!(
        fires_utc("0 0 13 * *", day(2026, 1, 1), 2),
        vec![day(2026, 1, 13), day(2026, 2, 13)]
    );
    assert_eq!(
        fires_utc("0 0 13 * ?", day(2026, 1, 1), 2),
        vec![day(2026, 1, 13), day(2026, 2, 13)]
    );
}

#[test]
fn friday_13th_fields_form_is_and() {
    // Months starting on Sunday in 2026: Feb, Mar, Nov.
    assert_eq!(
        fields_fires(&[("day", "13"), ("day_of_week", "fri")], day(2026, 1, 1), 3),
        vec![day(2026, 2, 13), day(2026, 3, 13), day(2026, 11, 13)]
    );
}

// ---------------------------------------------------------------- Feb 29, never-firing

#[test]
fn february_29() {
    assert_eq!(
        fires_utc("0 0 29 2 *", day(2025, 1, 1), 1),
        vec![day(2028, 2, 29)]
    );
    // 2100 is not a leap year.
    assert_eq!(
        fires_utc("0 0 29 2 *", day(2096, 3, 1), 1),
        vec![day(2104, 2, 29)]
    );
    assert_eq!(
        fires_utc("0 0 29 2 *", day(1999, 3, 1), 1),
        vec![day(2000, 2, 29)]
    );
    // No leap year in 2025-2027.
    assert_eq!(
        fires_utc("0 0 0 29 2 * 2025-2027", day(2025, 1, 1), 1),
        Vec::<DateTime<Utc>>::new()
    );
}

#[test]
fn february_29_on_a_friday() {
    // Feb 29 weekdays: 2024 Thu, then +5 per 4 years (1461 days = 208w + 5d):
    // 2028 Tue, 2032 Sun, 2036 Fri, 2040 Wed, 2044 Mon, 2048 Sat, 2052 Thu,
    // 2056 Tue, 2060 Sun, 2064 Fri.
    assert_eq!(
        fields_fires(
            &[("month", "2"), ("day", "29"), ("day_of_week", "fri")],
            day(2025, 1, 1),
            2
        ),
        vec![day(2036, 2, 29), day(2064, 2, 29)]
    );
}

#[test]
fn never_firing_schedules_return_none_promptly() {
    let start = std::time::Instant::now();
    for expr in [
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 *",
        "0 0 30W 2 *",
        "0 0 31 2 *",
        "0 0 0 1 1 * 1970",
    ] {
        assert_eq!(
            cron(expr).next_at_or_after(day(2026, 1, 1), chrono_tz::UTC),
            None,
            "{expr}"
        );
    }
    assert_eq!(
        fields_fires(&[("month", "feb"), ("day", "31")], day(2026, 1, 1), 1),
        Vec::<DateTime<Utc>>::new()
    );
    // ISO week 1 never touches June (found by the 400-year bound).
    assert_eq!(
        fields_fires(&[("month", "6"), ("week", "1")], day(2026, 1, 1), 1),
        Vec::<DateTime<Utc>>::new()
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn nothing_after_year_9999() {
    assert_eq!(
        fires_utc("0 0 1 1 *", day(9999, 6, 1), 1),
        Vec::<DateTime<Utc>>::new()
    );
    assert_eq!(
        fires_utc("0 0 31 12 *", utc(9999, 12, 30, 0, 0, 0), 2),
        vec![day(9999, 12, 31)]
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    for expr in ["* * * * * *", "30 2 * * *", "0 0 29 2 *"] {
        let s = cron(expr);
        for tz in [
            chrono_tz::UTC,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Niue,
        ] {
            assert_eq!(s.next_at_or_after(DateTime::<Utc>::MAX_UTC, tz), None);
            assert_eq!(s.next_after(DateTime::<Utc>::MAX_UTC, tz), None);
            // Only "does not panic" is required here.
            let _ = s.next_at_or_after(DateTime::<Utc>::MIN_UTC, tz);
        }
    }
    // Before 1970 is fine (no year field restriction).
    assert_eq!(
        fires_utc("0 0 1 1 *", day(1900, 6, 1), 1),
        vec![day(1901, 1, 1)]
    );
}

// ---------------------------------------------------------------- fields form

#[test]
fn fields_defaulting() {
    // day=1, minute=20: hour/month/year default to '*', second to 0.
    let s = sched(&[("day", "1"), ("minute", "20")]);
    assert!(s.is_wildcard());
    let f = fires(&s, day(2026, 1, 1), chrono_tz::UTC, 25);
    assert_eq!(f[0], utc(2026, 1, 1, 0, 20, 0));
    assert_eq!(f[1], utc(2026, 1, 1, 1, 20, 0));
    assert_eq!(f[23], utc(2026, 1, 1, 23, 20, 0));
    assert_eq!(f[24], utc(2026, 2, 1, 0, 20, 0));
    // hour=2 alone: 02:00:00 every day; fixed-time.
    let s = sched(&[("hour", "2")]);
    assert!(!s.is_wildcard());
    assert_eq!(
        fires(&s, day(2026, 1, 1), chrono_tz::UTC, 2),
        vec![utc(2026, 1, 1, 2, 0, 0), utc(2026, 1, 2, 2, 0, 0)]
    );
    // Nothing given: every second.
    let s = sched(&[]);
    assert!(s.is_wildcard());
    let t = utc(2026, 1, 1, 12, 0, 0) + chrono::Duration::milliseconds(300);
    assert_eq!(
        fires(&s, t, chrono_tz::UTC, 2),
        vec![utc(2026, 1, 1, 12, 0, 1), utc(2026, 1, 1, 12, 0, 2)]
    );
    // year alone: Jan 1 00:00:00 of that year only.
    assert_eq!(
        fields_fires(&[("year", "2027")], day(2026, 1, 1), 2),
        vec![day(2027, 1, 1)]
    );
    // month alone: day 1, 00:00:00.
    assert_eq!(
        fields_fires(&[("month", "jun")], day(2026, 1, 1), 2),
        vec![day(2026, 6, 1), day(2027, 6, 1)]
    );
    assert!(sched(&[("hour", "*/2"), ("minute", "0")]).is_wildcard());
    assert!(sched(&[("minute", "*/5")]).is_wildcard());
    assert!(!sched(&[("hour", "2"), ("minute", "30")]).is_wildcard());
}

#[test]
fn fields_grammar() {
    // */a
    assert_eq!(
        fields_fires(&[("minute", "*/20")], utc(2026, 1, 1, 10, 5, 0), 3),
        vec![
            utc(2026, 1, 1, 10, 20, 0),
            utc(2026, 1, 1, 10, 40, 0),
            utc(2026, 1, 1, 11, 0, 0)
        ]
    );
    // a-b/c
    assert_eq!(
        fields_fires(&[("hour", "9-17/4"), ("minute", "0")], day(2026, 1, 1), 4),
        vec![
            utc(2026, 1, 1, 9, 0, 0),
            utc(2026, 1, 1, 13, 0, 0),
            utc(2026, 1, 1, 17, 0, 0),
            utc(2026, 1, 2, 9, 0, 0)
        ]
    );
    // a/c = a-max/c: seconds 5, 25, 45.
    assert_eq!(
        fields_fires(&[("second", "5/20")], utc(2026, 1, 1, 10, 0, 0), 4),
        vec![
            utc(2026, 1, 1, 10, 0, 5),
            utc(2026, 1, 1, 10, 0, 25),
            utc(2026, 1, 1, 10, 0, 45),
            utc(2026, 1, 1, 10, 1, 5)
        ]
    );
    // a-b and lists.
    assert_eq!(
        fields_fires(&[("hour", "1-2,5"), ("minute", "0")], day(2026, 1, 1), 4),
        vec![
            utc(2026, 1, 1, 1, 0, 0),
            utc(2026, 1, 1, 2, 0, 0),
            utc(2026, 1, 1, 5, 0, 0),
            utc(2026, 1, 2, 1, 0, 0)
        ]
    );
    // Month names and ranges.
    assert_eq!(
        fields_fires(&[("month", "jan,JUL")], day(2026, 1, 2), 2),
        vec![day(2026, 7, 1), day(2027, 1, 1)]
    );
    assert_eq!(
        fields_fires(&[("month", "nov-dec")], day(2026, 1, 2), 3),
        vec![day(2026, 11, 1), day(2026, 12, 1), day(2027, 11, 1)]
    );
}

#[test]
fn fields_day_of_week_is_monday_based() {
    // 2026-01-02 is a Friday.
    let start = utc(2026, 1, 2, 12, 0, 0);
    assert_eq!(
        fields_fires(&[("day_of_week", "mon-fri")], start, 2),
        vec![day(2026, 1, 5), day(2026, 1, 6)]
    );
    assert_eq!(
        fields_fires(&[("day_of_week", "0")], start, 1),
        vec![day(2026, 1, 5)]
    );
    assert_eq!(
        fields_fires(&[("day_of_week", "6")], start, 1),
        vec![day(2026, 1, 4)]
    );
    assert_eq!(
        fields_fires(&[("day_of_week", "SUN")], start, 1),
        vec![day(2026, 1, 4)]
    );
    assert_eq!(
        fields_fires(&[("day_of_week", "5-6")], start, 2),
        vec![day(2026, 1, 3), day(2026, 1, 4)]
    );
}

#[test]
fn fields_day_expressions() {
    let start = day(2026, 1, 1);
    assert_eq!(
        fields_fires(&[("day", "last")], start, 2),
        vec![day(2026, 1, 31), day(2026, 2, 28)]
    );
    assert_eq!(
        fields_fires(&[("day", "last fri")], start, 2),
        vec![day(2026, 1, 30), day(2026, 2, 27)]
    );
    assert_eq!(
        fields_fires(&[("day", "3rd fri")], start, 2),
        vec![day(2026, 1, 16), day(2026, 2, 20)]
    );
    assert_eq!(
        fields_fires(&[("day", "5th Fri")], start, 2),
        vec![day(2026, 1, 30), day(2026, 5, 29)]
    );
    // First Monday: Jan 5, Feb 2; second Tuesday: Jan 13, Feb 10; fourth Sunday:
    // Jan 25, Feb 22.
    assert_eq!(
        fields_fires(&[("day", "1st mon")], start, 2),
        vec![day(2026, 1, 5), day(2026, 2, 2)]
    );
    assert_eq!(
        fields_fires(&[("day", "2nd tue")], start, 2),
        vec![day(2026, 1, 13), day(2026, 2, 10)]
    );
    assert_eq!(
        fields_fires(&[("day", "4th sun")], start, 2),
        vec![day(2026, 1, 25), day(2026, 2, 22)]
    );
    assert_eq!(
        fields_fires(&[("day", "1,last")], day(2026, 1, 2), 3),
        vec![day(2026, 1, 31), day(2026, 2, 1), day(2026, 2, 28)]
    );
    assert_eq!(
        fields_fires(&[("day", "10-20/5")], start, 4),
        vec![
            day(2026, 1, 10),
            day(2026, 1, 15),
            day(2026, 1, 20),
            day(2026, 2, 10)
        ]
    );
}

#[test]
fn iso_weeks() {
    // 2026 starts on a Thursday, so it has 53 ISO weeks; week 53 is
    // Mon 2026-12-28 .. Sun 2027-01-03. The next 53-week year is 2032 (starts on
    // Thursday); its week 53 starts Monday 2032-12-27.
    let f = fields_fires(&[("week", "53")], day(2026, 1, 1), 8);
    assert_eq!(
        f,
        vec![
            day(2026, 12, 28),
            day(2026, 12, 29),
            day(2026, 12, 30),
            day(2026, 12, 31),
            day(2027, 1, 1),
            day(2027, 1, 2),
            day(2027, 1, 3),
            day(2032, 12, 27)
        ]
    );
    // Week 1 of 2026 is Mon 2025-12-29 .. Sun 2026-01-04 (contains Jan 1, a
    // Thursday); week 1 of 2027 starts Monday 2027-01-04.
    assert_eq!(
        fields_fires(&[("week", "1")], day(2025, 12, 1), 2),
        vec![day(2025, 12, 29), day(2025, 12, 30)]
    );
    assert_eq!(
        fields_fires(&[("week", "1")], day(2026, 6, 1), 1),
        vec![day(2027, 1, 4)]
    );
    // week + day_of_week: Sunday of week 1 of 2026 is Jan 4.
    assert_eq!(
        fields_fires(
            &[("week", "1"), ("day_of_week", "sun")],
            day(2025, 12, 1),
            1
        ),
        vec![day(2026, 1, 4)]
    );
}

// ---------------------------------------------------------------- DST

fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

#[test]
fn helsinki_gap_example() {
    // 2026-03-29 03:00 EET -> 04:00 EEST (01:00Z).
    let s = cron("30 3 * * *");
    assert_eq!(
        fires(&s, day(2026, 3, 28), tz("Europe/Helsinki"), 3),
        vec![
            utc(2026, 3, 28, 1, 30, 0), // 03:30 EET
            utc(2026, 3, 29, 1, 0, 0),  // gap: first instant after it, 04:00 EEST
            utc(2026, 3, 30, 0, 30, 0)  // 03:30 EEST
        ]
    );
}

#[test]
fn london_spring_forward() {
    // 2026-03-29 01:00 GMT -> 02:00 BST at 01:00Z (last Sunday of March).
    let london = tz("Europe/London");
    assert_eq!(
        fires(&cron("30 1 * * *"), day(2026, 3, 28), london, 3),
        vec![
            utc(2026, 3, 28, 1, 30, 0),
            utc(2026, 3, 29, 1, 0, 0),
            utc(2026, 3, 30, 0, 30, 0)
        ]
    );
    // Two matches inside one gap collapse into a single fire.
    assert_eq!(
        fires(&cron("0,30 1 * * *"), day(2026, 3, 29), london, 3),
        vec![
            utc(2026, 3, 29, 1, 0, 0),
            utc(2026, 3, 30, 0, 0, 0),
            utc(2026, 3, 30, 0, 30, 0)
        ]
    );
    // Querying exactly at the post-gap instant still yields the collapsed fire.
    let s = cron("30 1 * * *");
    assert_eq!(
        s.next_at_or_after(utc(2026, 3, 29, 1, 0, 0), london),
        Some(utc(2026, 3, 29, 1, 0, 0))
    );
    assert_eq!(
        s.next_after(utc(2026, 3, 29, 1, 0, 0), london),
        Some(utc(2026, 3, 30, 0, 30, 0))
    );
    // Wildcard: no ticks in the gap.
    assert_eq!(
        fires(&cron("*/30 * * * *"), day(2026, 3, 29), london, 4),
        vec![
            utc(2026, 3, 29, 0, 0, 0),  // 00:00 GMT
            utc(2026, 3, 29, 0, 30, 0), // 00:30 GMT
            utc(2026, 3, 29, 1, 0, 0),  // 02:00 BST
            utc(2026, 3, 29, 1, 30, 0)  // 02:30 BST
        ]
    );
}

#[test]
fn london_fall_back() {
    // 2026-10-25 02:00 BST -> 01:00 GMT at 01:00Z; 01:00-01:59 happen twice.
    let london = tz("Europe/London");
    assert_eq!(
        fires(&cron("30 1 * * *"), utc(2026, 10, 24, 12, 0, 0), london, 2),
        vec![
            utc(2026, 10, 25, 0, 30, 0), // 01:30 BST only
            utc(2026, 10, 26, 1, 30, 0)  // 01:30 GMT next day
        ]
    );
    // Starting inside the second pass: the repeated 01:00 does not fire.
    assert_eq!(
        cron("0 1 * * *").next_at_or_after(utc(2026, 10, 25, 1, 0, 0), london),
        Some(utc(2026, 10, 26, 1, 0, 0))
    );
    assert_eq!(
        fires(&cron("*/30 * * * *"), utc(2026, 10, 25, 0, 0, 0), london, 5),
        vec![
            utc(2026, 10, 25, 0, 0, 0),  // 01:00 BST
            utc(2026, 10, 25, 0, 30, 0), // 01:30 BST
            utc(2026, 10, 25, 1, 0, 0),  // 01:00 GMT
            utc(2026, 10, 25, 1, 30, 0), // 01:30 GMT
            utc(2026, 10, 25, 2, 0, 0)   // 02:00 GMT
        ]
    );
    // From inside the first pass (01:45 BST), the next tick is 01:00 GMT.
    assert_eq!(
        cron("*/30 * * * *").next_at_or_after(utc(2026, 10, 25, 0, 45, 0), london),
        Some(utc(2026, 10, 25, 1, 0, 0))
    );
}

#[test]
fn new_york_spring_forward() {
    // 2026-03-08 (second Sunday) 02:00 EST -> 03:00 EDT at 07:00Z.
    let ny = tz("America/New_York");
    assert_eq!(
        fires(&cron("*/15 * * * *"), utc(2026, 3, 8, 6, 30, 0), ny, 4),
        vec![
            utc(2026, 3, 8, 6, 30, 0), // 01:30 EST
            utc(2026, 3, 8, 6, 45, 0), // 01:45 EST
            utc(2026, 3, 8, 7, 0, 0),  // 03:00 EDT
            utc(2026, 3, 8, 7, 15, 0)  // 03:15 EDT
        ]
    );
    assert_eq!(
        fires(&cron("30 2 * * *"), day(2026, 3, 7), ny, 3),
        vec![
            utc(2026, 3, 7, 7, 30, 0), // 02:30 EST
            utc(2026, 3, 8, 7, 0, 0),  // gap -> 03:00 EDT
            utc(2026, 3, 9, 6, 30, 0)  // 02:30 EDT
        ]
    );
    // Far future (beyond 2037): 2050-01-01 is a Saturday (2026 Thu + 24 years
    // + 6 leap days = +30 ≡ +2), so March 1 2050 is a Tuesday and the second
    // Sunday is March 13: 02:30 falls in the gap -> 03:00 EDT = 07:00Z.
    assert_eq!(
        fires(&cron("30 2 * * *"), day(2050, 3, 13), ny, 1),
        vec![utc(2050, 3, 13, 7, 0, 0)]
    );
    // @hourly (wildcard): 01:00 EST, 03:00 EDT, 04:00 EDT.
    assert_eq!(
        fires(&cron("@hourly"), utc(2026, 3, 8, 6, 0, 0), ny, 3),
        vec![
            utc(2026, 3, 8, 6, 0, 0),
            utc(2026, 3, 8, 7, 0, 0),
            utc(2026, 3, 8, 8, 0, 0)
        ]
    );
    // `0 0-23` is fixed-time: 02:00 is gap-shifted to 03:00 EDT, which
    // coincides with the 03:00 match (one fire).
    assert_eq!(
        fires(&cron("0 0-23 * * *"), utc(2026, 3, 8, 6, 0, 0), ny, 3),
        vec![
            utc(2026, 3, 8, 6, 0, 0),
            utc(2026, 3, 8, 7, 0, 0),
            utc(2026, 3, 8, 8, 0, 0)
        ]
    );
}

#[test]
fn new_york_fall_back() {
    // 2026-11-01 (first Sunday) 02:00 EDT -> 01:00 EST at 06:00Z.
    let ny = tz("America/New_York");
    let s = cron("30 1 * * *");
    assert_eq!(
        fires(&s, day(2026, 10, 31), ny, 3),
        vec![
            utc(2026, 10, 31, 5, 30, 0), // 01:30 EDT
            utc(2026, 11, 1, 5, 30, 0),  // 01:30 EDT (first occurrence only)
            utc(2026, 11, 2, 6, 30, 0)   // 01:30 EST
        ]
    );
    assert_eq!(
        s.next_after(utc(2026, 11, 1, 5, 30, 0), ny),
        Some(utc(2026, 11, 2, 6, 30, 0))
    );
    assert_eq!(
        fires(&cron("*/15 * * * *"), utc(2026, 11, 1, 5, 0, 0), ny, 9),
        vec![
            utc(2026, 11, 1, 5, 0, 0),  // 01:00 EDT
            utc(2026, 11, 1, 5, 15, 0), // 01:15 EDT
            utc(2026, 11, 1, 5, 30, 0), // 01:30 EDT
            utc(2026, 11, 1, 5, 45, 0), // 01:45 EDT
            utc(2026, 11, 1, 6, 0, 0),  // 01:00 EST
            utc(2026, 11, 1, 6, 15, 0), // 01:15 EST
            utc(2026, 11, 1, 6, 30, 0), // 01:30 EST
            utc(2026, 11, 1, 6, 45, 0), // 01:45 EST
            utc(2026, 11, 1, 7, 0, 0)   // 02:00 EST
        ]
    );
    // Fixed-time hourly list: the repeated 01:00 EST (06:00Z) is skipped.
    assert_eq!(
        fires(&cron("0 0-23 * * *"), utc(2026, 11, 1, 4, 0, 0), ny, 3),
        vec![
            utc(2026, 11, 1, 4, 0, 0), // 00:00 EDT
            utc(2026, 11, 1, 5, 0, 0), // 01:00 EDT
            utc(2026, 11, 1, 7, 0, 0)  // 02:00 EST
        ]
    );
    // Wildcard @hourly fires in both passes.
    assert_eq!(
        fires(&cron("@hourly"), utc(2026, 11, 1, 5, 0, 0), ny, 3),
        vec![
            utc(2026, 11, 1, 5, 0, 0),
            utc(2026, 11, 1, 6, 0, 0),
            utc(2026, 11, 1, 7, 0, 0)
        ]
    );
}

#[test]
fn sydney_transitions() {
    // Fall back: first Sunday of April, 2026-04-05 03:00 AEDT (+11) -> 02:00
    // AEST (+10) at 2026-04-04 16:00Z. Spring forward: first Sunday of October,
    // 2026-10-04 02:00 AEST -> 03:00 AEDT at 2026-10-03 16:00Z.
    let syd = tz("Australia/Sydney");
    assert_eq!(
        fires(&cron("30 2 * * *"), day(2026, 4, 3), syd, 3),
        vec![
            utc(2026, 4, 3, 15, 30, 0), // Apr 4 02:30 +11
            utc(2026, 4, 4, 15, 30, 0), // Apr 5 02:30 +11 (first occurrence)
            utc(2026, 4, 5, 16, 30, 0)  // Apr 6 02:30 +10
        ]
    );
    assert_eq!(
        fires(&cron("0,30 * * * *"), utc(2026, 4, 4, 15, 0, 0), syd, 5),
        vec![
            utc(2026, 4, 4, 15, 0, 0),  // 02:00 +11
            utc(2026, 4, 4, 15, 30, 0), // 02:30 +11
            utc(2026, 4, 4, 16, 0, 0),  // 02:00 +10
            utc(2026, 4, 4, 16, 30, 0), // 02:30 +10
            utc(2026, 4, 4, 17, 0, 0)   // 03:00 +10
        ]
    );
    assert_eq!(
        fires(&cron("30 2 * * *"), day(2026, 10, 2), syd, 3),
        vec![
            utc(2026, 10, 2, 16, 30, 0), // Oct 3 02:30 +10
            utc(2026, 10, 3, 16, 0, 0),  // Oct 4 gap -> 03:00 +11
            utc(2026, 10, 4, 15, 30, 0)  // Oct 5 02:30 +11
        ]
    );
    assert_eq!(
        fires(&cron("0,30 * * * *"), utc(2026, 10, 3, 15, 0, 0), syd, 4),
        vec![
            utc(2026, 10, 3, 15, 0, 0),  // 01:00 +10
            utc(2026, 10, 3, 15, 30, 0), // 01:30 +10
            utc(2026, 10, 3, 16, 0, 0),  // 03:00 +11
            utc(2026, 10, 3, 16, 30, 0)  // 03:30 +11
        ]
    );
}

#[test]
fn lord_howe_half_hour_transitions() {
    // Fall back: 2026-04-05 02:00 (+11) -> 01:30 (+10:30) at 2026-04-04 15:00Z;
    // 01:30-01:59 happen twice. Spring forward: 2026-10-04 02:00 (+10:30) ->
    // 02:30 (+11) at 2026-10-03 15:30Z; 02:00-02:29 do not exist.
    let lh = tz("Australia/Lord_Howe");
    assert_eq!(
        fires(&cron("45 1 * * *"), day(2026, 4, 3), lh, 3),
        vec![
            utc(2026, 4, 3, 14, 45, 0), // Apr 4 01:45 +11
            utc(2026, 4, 4, 14, 45, 0), // Apr 5 01:45 +11 (first occurrence)
            utc(2026, 4, 5, 15, 15, 0)  // Apr 6 01:45 +10:30
        ]
    );
    assert_eq!(
        fires(&cron("*/15 * * * *"), utc(2026, 4, 4, 14, 30, 0), lh, 6),
        vec![
            utc(2026, 4, 4, 14, 30, 0), // 01:30 +11
            utc(2026, 4, 4, 14, 45, 0), // 01:45 +11
            utc(2026, 4, 4, 15, 0, 0),  // 01:30 +10:30
            utc(2026, 4, 4, 15, 15, 0), // 01:45 +10:30
            utc(2026, 4, 4, 15, 30, 0), // 02:00 +10:30
            utc(2026, 4, 4, 15, 45, 0)  // 02:15 +10:30
        ]
    );
    assert_eq!(
        fires(&cron("15 2 * * *"), day(2026, 10, 2), lh, 3),
        vec![
            utc(2026, 10, 2, 15, 45, 0), // Oct 3 02:15 +10:30
            utc(2026, 10, 3, 15, 30, 0), // Oct 4 gap -> 02:30 +11
            utc(2026, 10, 4, 15, 15, 0)  // Oct 5 02:15 +11
        ]
    );
    assert_eq!(
        fires(&cron("0,15 2 * * *"), utc(2026, 10, 3, 12, 0, 0), lh, 2),
        vec![
            utc(2026, 10, 3, 15, 30, 0), // both in the gap: one fire
            utc(2026, 10, 4, 15, 0, 0)   // Oct 5 02:00 +11
        ]
    );
    assert_eq!(
        fires(&cron("*/15 * * * *"), utc(2026, 10, 3, 15, 0, 0), lh, 4),
        vec![
            utc(2026, 10, 3, 15, 0, 0),  // 01:30 +10:30
            utc(2026, 10, 3, 15, 15, 0), // 01:45 +10:30
            utc(2026, 10, 3, 15, 30, 0), // 02:30 +11
            utc(2026, 10, 3, 15, 45, 0)  // 02:45 +11
        ]
    );
}

#[test]
fn fields_form_dst_classes() {
    // hour=1, minute=30 is fixed-time: fires once in the New York overlap.
    let ny = tz("America/New_York");
    let s = sched(&[("hour", "1"), ("minute", "30")]);
    assert_eq!(
        fires(&s, utc(2026, 11, 1, 0, 0, 0), ny, 2),
        vec![utc(2026, 11, 1, 5, 30, 0), utc(2026, 11, 2, 6, 30, 0)]
    );
    // minute=30 alone: hour defaults to '*', so wildcard: both passes.
    let s = sched(&[("minute", "30")]);
    assert_eq!(
        fires(&s, utc(2026, 11, 1, 5, 0, 0), ny, 3),
        vec![
            utc(2026, 11, 1, 5, 30, 0),
            utc(2026, 11, 1, 6, 30, 0),
            utc(2026, 11, 1, 7, 30, 0)
        ]
    );
}

// ---------------------------------------------------------------- errors

fn err(expr: &str) -> CronError {
    CronSchedule::parse_crontab(expr).unwrap_err()
}

fn fields_err(pairs: &[(&str, &str)]) -> CronError {
    CronSchedule::from_fields(&fields(pairs)).unwrap_err()
}

#[test]
fn crontab_errors() {
    assert_eq!(err(""), CronError::Empty);
    assert_eq!(err("   "), CronError::Empty);
    assert!(matches!(
        err("* * * *"),
        CronError::FieldCount { found: 4, .. }
    ));
    assert!(matches!(
        err("* * * * * * * *"),
        CronError::FieldCount { found: 8, .. }
    ));
    assert_eq!(
        err("0 24 * * *").to_string(),
        "hour: 24 is out of range 0-23"
    );
    assert_eq!(err("0 24 * * *").field(), Some("hour"));
    assert_eq!(
        err("60 * * * *").to_string(),
        "minute: 60 is out of range 0-59"
    );
    assert_eq!(
        err("60 * * * * *").to_string(),
        "second: 60 is out of range 0-59"
    );
    assert_eq!(
        err("0 0 32 * *").to_string(),
        "day-of-month: 32 is out of range 1-31"
    );
    assert_eq!(
        err("0 0 0 * *").to_string(),
        "day-of-month: 0 is out of range 1-31"
    );
    assert_eq!(
        err("0 0 * 13 *").to_string(),
        "month: 13 is out of range 1-12"
    );
    assert_eq!(
        err("0 0 * * 8").to_string(),
        "day-of-week: 8 is out of range 0-7"
    );
    assert_eq!(
        err("0 0 * * 5#6").to_string(),
        "day-of-week: 6 is out of range 1-5"
    );
    assert_eq!(
        err("0 0 0 1 1 * 1969").to_string(),
        "year: 1969 is out of range 1970-9999"
    );
    assert!(matches!(
        err("*/0 * * * *"),
        CronError::BadStep {
            field: "minute",
            ..
        }
    ));
    assert!(matches!(err("1-5/x * * * *"), CronError::BadStep { .. }));
    assert!(matches!(
        err("5-1 * * * *"),
        CronError::ReversedRange {
            field: "minute",
            ..
        }
    ));
    assert!(matches!(
        err("0 0 * * fri-mon"),
        CronError::ReversedRange { .. }
    ));
    let e = err("0 0 * foo *");
    assert!(matches!(e, CronError::UnknownName { field: "month", .. }));
    assert!(e.to_string().contains("\"foo\""));
    assert!(matches!(err("@fortnightly"), CronError::UnknownMacro(_)));
    assert!(matches!(err("@reboot"), CronError::UnknownMacro(_)));
    assert!(matches!(
        err("1,,2 * * * *"),
        CronError::EmptyElement {
            field: "minute",
            ..
        }
    ));
    assert!(matches!(
        err("0 L * * *"),
        CronError::UnknownName { field: "hour", .. }
    ));
    assert!(matches!(err("0 0 * * 1W"), CronError::Invalid { .. }));
    assert!(matches!(err("0 0 xW * *"), CronError::Invalid { .. }));
    assert!(matches!(err("0 0 1.5 * *"), CronError::Invalid { .. }));
    assert!(matches!(
        err("99999999999 * * * *"),
        CronError::OutOfRange { .. }
    ));
}

#[test]
fn fields_errors() {
    assert_eq!(
        fields_err(&[("hour", "24")]).to_string(),
        "hour: 24 is out of range 0-23"
    );
    assert_eq!(
        fields_err(&[("day_of_week", "7")]).to_string(),
        "day_of_week: 7 is out of range 0-6"
    );
    assert_eq!(
        fields_err(&[("week", "54")]).to_string(),
        "week: 54 is out of range 1-53"
    );
    assert_eq!(
        fields_err(&[("year", "99")]).to_string(),
        "year: 99 is out of range 1970-9999"
    );
    assert!(matches!(
        fields_err(&[("day", "6th fri")]),
        CronError::Invalid { field: "day", .. }
    ));
    assert!(matches!(
        fields_err(&[("day", "1st fryday")]),
        CronError::UnknownName { field: "day", .. }
    ));
    assert!(matches!(
        fields_err(&[("minute", "*/0")]),
        CronError::BadStep { .. }
    ));
    assert!(matches!(
        fields_err(&[("month", "dec-jan")]),
        CronError::ReversedRange { .. }
    ));
    assert!(matches!(
        fields_err(&[("second", "")]),
        CronError::EmptyElement { .. }
    ));
    // `?` is crontab-only.
    assert!(fields_err(&[("minute", "?")]).field() == Some("minute"));
}

// ---------------------------------------------------------------- describe

#[test]
fn descriptions() {
    assert_eq!(
        cron("30 2 * * 1-5").describe(),
        "at 02:30, Monday through Friday"
    );
    assert_eq!(cron("*/15 * * * *").describe(), "every 15 minutes");
    assert_eq!(cron("@daily").describe(), "at 00:00");
    assert_eq!(cron("* * * * *").describe(), "every minute");
    assert_eq!(cron("* * * * * *").describe(), "every second");
    assert_eq!(cron("0 9,17 * * *").describe(), "at 09:00 and 17:00");
    assert_eq!(
        cron("30 * * * *").describe(),
        "at minute 30 past every hour"
    );
    assert_eq!(
        cron("0 0 1 1 *").describe(),
        "at 00:00, on day 1 of the month, in January"
    );
    assert_eq!(
        cron("0 0 13 * 5").describe(),
        "at 00:00, on day 13 of the month or only on Friday"
    );
    assert_eq!(
        cron("0 0 L * *").describe(),
        "at 00:00, on the last day of the month"
    );
    assert_eq!(
        cron("0 0 * * 5#3").describe(),
        "at 00:00, on the third Friday of the month"
    );
    assert_eq!(
        cron("0 0 * * 6,0").describe(),
        "at 00:00, on Saturday and Sunday"
    );
    assert_eq!(
        sched(&[("week", "53")]).describe(),
        "at 00:00, in ISO week 53"
    );
    assert_eq!(
        sched(&[("day", "last fri,1st mon")]).describe(),
        "at 00:00, on the first Monday of the month or on the last Friday of the month"
    );
    assert_eq!(
        sched(&[("day", "13"), ("day_of_week", "fri")]).describe(),
        "at 00:00, on day 13 of the month, only on Friday"
    );
    assert_eq!(
        cron("0 0 0 1 1 * 2027-2031/2").describe(),
        "at 00:00, on day 1 of the month, in January, every 2 years from 2027 through 2031"
    );
    assert_eq!(
        cron("0 0 0 1 1 * 2027").describe(),
        "at 00:00, on day 1 of the month, in January, in 2027"
    );
}

// ---------------------------------------------------------------- properties

mod props {
    use super::*;
    use chime::chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, Timelike, Weekday};
    use proptest::prelude::*;

    /// A generated field: its text and the values it allows.
    #[derive(Clone, Debug)]
    struct Gen {
        text: String,
        values: Vec<u32>,
    }

    fn numeric(min: u32, max: u32) -> impl Strategy<Value = Gen> {
        let item = prop_oneof![
            Just(Gen {
                text: "*".into(),
                values: (min..=max).collect()
            }),
            (1..=max.max(2) / 2).prop_map(move |s| Gen {
                text: format!("*/{s}"),
                values: (min..=max).step_by(s as usize).collect()
            }),
            (min..=max).prop_map(|a| Gen {
                text: a.to_string(),
                values: vec![a]
            }),
            (min..=max, min..=max).prop_map(|(a, b)| {
                let (a, b) = (a.min(b), a.max(b));
                Gen {
                    text: format!("{a}-{b}"),
                    values: (a..=b).collect(),
                }
            }),
            (min..=max, min..=max, 1u32..8).prop_map(|(a, b, s)| {
                let (a, b) = (a.min(b), a.max(b));
                Gen {
                    text: format!("{a}-{b}/{s}"),
                    values: (a..=b).step_by(s as usize).collect(),
                }
            }),
            (min..=max, 1u32..20).prop_map(move |(a, s)| Gen {
                text: format!("{a}/{s}"),
                values: (a..=max).step_by(s as usize).collect()
            }),
        ];
        prop::collection::vec(item, 1..3).prop_map(|items| Gen {
            text: items
                .iter()
                .map(|i| i.text.clone())
                .collect::<Vec<_>>()
                .join(","),
            values: items.iter().flat_map(|i| i.values.clone()).collect(),
        })
    }

    #[derive(Clone, Debug)]
    enum DomItem {
        Star,
        Nums(Gen),
        Last,
        LastWeekday,
        Nearest(u32),
    }

    #[derive(Clone, Debug)]
    enum DowItem {
        Star,
        Nums(Gen),
        Last(u32),
        Nth(u32, u32),
    }

    fn dom() -> impl Strategy<Value = DomItem> {
        prop_oneof![
            Just(DomItem::Star),
            numeric(1, 31).prop_map(DomItem::Nums),
            Just(DomItem::Last),
            Just(DomItem::LastWeekday),
            (1u32..=31).prop_map(DomItem::Nearest),
        ]
    }

    fn dow() -> impl Strategy<Value = DowItem> {
        prop_oneof![
            Just(DowItem::Star),
            numeric(0, 7).prop_map(DowItem::Nums),
            (0u32..=7).prop_map(DowItem::Last),
            (0u32..=7, 1u32..=5).prop_map(|(w, k)| DowItem::Nth(w, k)),
        ]
    }

    fn dom_text(d: &DomItem) -> String {
        match d {
            DomItem::Star => "*".into(),
            DomItem::Nums(g) => g.text.clone(),
            DomItem::Last => "L".into(),
            DomItem::LastWeekday => "LW".into(),
            DomItem::Nearest(n) => format!("{n}W"),
        }
    }

    fn dow_text(d: &DowItem) -> String {
        match d {
            DowItem::Star => "*".into(),
            DowItem::Nums(g) => g.text.clone(),
            DowItem::Last(w) => format!("{w}L"),
            DowItem::Nth(w, k) => format!("{w}#{k}"),
        }
    }

    fn month_len(y: i32, m: u32) -> u32 {
        let next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        next.unwrap().pred_opt().unwrap().day()
    }

    fn is_workday(date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    fn dom_matches(d: &DomItem, date: NaiveDate) -> bool {
        let (y, m, day) = (date.year(), date.month(), date.day());
        let len = month_len(y, m);
        match d {
            DomItem::Star => true,
            DomItem::Nums(g) => g.values.contains(&day),
            DomItem::Last => day == len,
            DomItem::LastWeekday => {
                // Latest workday in the month.
                (1..=len)
                    .rev()
                    .find(|x| is_workday(NaiveDate::from_ymd_opt(y, m, *x).unwrap()))
                    == Some(day)
            }
            DomItem::Nearest(n) => {
                if *n > len {
                    return false;
                }
                // Closest workday within the month; ties impossible except
                // that a Saturday prefers Friday (distance 1 both ways never
                // happens: Sat's neighbours are Fri and Sun).
                let target = (1..=len)
                    .filter(|x| is_workday(NaiveDate::from_ymd_opt(y, m, *x).unwrap()))
                    .min_by_key(|x| (x.abs_diff(*n), *x))
                    .unwrap();
                target == day
            }
        }
    }

    fn dow_matches(d: &DowItem, date: NaiveDate) -> bool {
        let wd = date.weekday().num_days_from_sunday();
        let len = month_len(date.year(), date.month());
        match d {
            DowItem::Star => true,
            DowItem::Nums(g) => g.values.iter().any(|v| v % 7 == wd),
            DowItem::Last(w) => w % 7 == wd && date.day() + 7 > len,
            DowItem::Nth(w, k) => w % 7 == wd && (date.day() - 1) / 7 + 1 == *k,
        }
    }

    #[derive(Clone, Debug)]
    struct Expr {
        second: Gen,
        minute: Gen,
        hour: Gen,
        dom: DomItem,
        month: Gen,
        dow: DowItem,
    }

    impl Expr {
        fn text(&self) -> String {
            format!(
                "{} {} {} {} {} {}",
                self.second.text,
                self.minute.text,
                self.hour.text,
                dom_text(&self.dom),
                self.month.text,
                dow_text(&self.dow)
            )
        }

        fn matches(&self, t: NaiveDateTime) -> bool {
            let date = t.date();
            let dom_star = matches!(self.dom, DomItem::Star)
                || matches!(&self.dom, DomItem::Nums(g) if g.text.starts_with('*'));
            let dow_star = matches!(self.dow, DowItem::Star)
                || matches!(&self.dow, DowItem::Nums(g) if g.text.starts_with('*'));
            let a = dom_matches(&self.dom, date);
            let b = dow_matches(&self.dow, date);
            let day_ok = if dom_star || dow_star { a && b } else { a || b };
            day_ok
                && self.second.values.contains(&t.second())
                && self.minute.values.contains(&t.minute())
                && self.hour.values.contains(&t.hour())
                && self.month.values.contains(&t.month())
        }

        fn wildcard(&self) -> bool {
            self.minute.text.starts_with('*') || self.hour.text.starts_with('*')
        }
    }

    fn expr() -> impl Strategy<Value = Expr> {
        (
            prop_oneof![
                Just(Gen {
                    text: "0".into(),
                    values: vec![0]
                }),
                numeric(0, 59)
            ],
            numeric(0, 59),
            numeric(0, 23),
            dom(),
            numeric(1, 12),
            dow(),
        )
            .prop_map(|(second, minute, hour, dom, month, dow)| Expr {
                second,
                minute,
                hour,
                dom,
                month,
                dow,
            })
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(chrono_tz::UTC),
            Just(chrono_tz::Europe::London),
            Just(chrono_tz::America::New_York),
            Just(chrono_tz::Australia::Sydney),
            Just(chrono_tz::Australia::Lord_Howe),
        ]
    }

    /// Either any instant 2000-2040, or one within 3 hours of a 2026 DST
    /// transition of the test zones.
    fn instant() -> impl Strategy<Value = i64> {
        let transitions: Vec<i64> = [
            utc(2026, 3, 29, 1, 0, 0),   // London spring
            utc(2026, 10, 25, 1, 0, 0),  // London autumn
            utc(2026, 3, 8, 7, 0, 0),    // New York spring
            utc(2026, 11, 1, 6, 0, 0),   // New York autumn
            utc(2026, 4, 4, 16, 0, 0),   // Sydney autumn
            utc(2026, 10, 3, 16, 0, 0),  // Sydney spring
            utc(2026, 4, 4, 15, 0, 0),   // Lord Howe autumn
            utc(2026, 10, 3, 15, 30, 0), // Lord Howe spring
        ]
        .iter()
        .map(|t| t.timestamp())
        .collect();
        prop_oneof![
            946_684_800i64..2_208_988_800,
            (prop::sample::select(transitions), -10_800i64..10_800).prop_map(|(t, d)| t + d),
        ]
    }

    /// Whether instant `i` is a fire of `e` in `tz` by the DST rules, checked
    /// directly: the wall time matches and, for fixed-time schedules, `i` is
    /// the first occurrence of that wall time.
    fn is_direct_fire(e: &Expr, i: DateTime<Utc>, tz: Tz) -> bool {
        let local = i.with_timezone(&tz).naive_local();
        if !e.matches(local) {
            return false;
        }
        if e.wildcard() {
            return true;
        }
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc) == i,
            _ => true,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn crontab_parser_never_panics(s in ".{0,40}", t in "[0-9*/,LW#?a-zA-Z@ -]{0,40}") {
            let _ = CronSchedule::parse_crontab(&s);
            if let Ok(sched) = CronSchedule::parse_crontab(&t) {
                let _ = sched.describe();
                let _ = sched.next_at_or_after(utc(2026, 1, 1, 0, 0, 0), chrono_tz::Europe::London);
            }
        }

        #[test]
        fn fields_parser_never_panics_on_arbitrary_text(
            v in prop::collection::vec(proptest::option::of(".{0,16}"), 8),
        ) {
            let f = CronFields {
                year: v[0].clone(),
                month: v[1].clone(),
                day: v[2].clone(),
                week: v[3].clone(),
                day_of_week: v[4].clone(),
                hour: v[5].clone(),
                minute: v[6].clone(),
                second: v[7].clone(),
            };
            let _ = CronSchedule::from_fields(&f);
        }

        #[test]
        fn fields_parser_never_panics(
            v in prop::collection::vec(proptest::option::of("[0-9*/,a-z -]{0,12}"), 8),
        ) {
            let f = CronFields {
                year: v[0].clone(),
                month: v[1].clone(),
                day: v[2].clone(),
                week: v[3].clone(),
                day_of_week: v[4].clone(),
                hour: v[5].clone(),
                minute: v[6].clone(),
                second: v[7].clone(),
            };
            if let Ok(sched) = CronSchedule::from_fields(&f) {
                let _ = sched.describe();
                let _ = sched.next_at_or_after(utc(2026, 1, 1, 0, 0, 0), chrono_tz::America::New_York);
            }
        }

        #[test]
        fn fires_increase_and_match(e in expr(), secs in instant(), tz in zone()) {
            let text = e.text();
            let s = CronSchedule::parse_crontab(&text).unwrap();
            prop_assert_eq!(s.is_wildcard(), e.wildcard());
            let start = DateTime::from_timestamp(secs, 0).unwrap();
            let mut prev: Option<DateTime<Utc>> = None;
            let mut next = s.next_at_or_after(start, tz);
            for _ in 0..6 {
                let Some(f) = next else { break };
                prop_assert!(f >= start);
                if let Some(p) = prev {
                    prop_assert!(f > p, "{} not after {} for {}", f, p, text);
                }
                let local = f.with_timezone(&tz).naive_local();
                if !e.matches(local) {
                    // Only allowed for a fixed-time schedule's gap-shifted
                    // fire: the wall clock jumped forward exactly at `f`.
                    let before = f - chrono::Duration::seconds(1);
                    let jumped = tz.offset_from_utc_datetime(&before.naive_utc()).fix()
                        != tz.offset_from_utc_datetime(&f.naive_utc()).fix()
                        && before.with_timezone(&tz).naive_local() + chrono::Duration::seconds(1) < local;
                    prop_assert!(!s.is_wildcard() && jumped, "{} local {} does not match {}", f, local, text);
                }
                if !s.is_wildcard() {
                    // Fixed-time: never the second occurrence of a wall time.
                    if let chrono::LocalResult::Ambiguous(first, _) = tz.from_local_datetime(&local) {
                        prop_assert_eq!(first.with_timezone(&Utc), f);
                    }
                }
                // Brute force (minute resolution, schedules with second 0):
                // no direct fire was skipped between the previous fire (or the
                // start) and this one, if they are less than 3 days apart.
                let from = prev.map_or(start, |p| p + chrono::Duration::seconds(1));
                if e.second.text == "0" && f - from <= chrono::Duration::days(3) {
                    let mut i = DateTime::from_timestamp((from.timestamp() + 59).div_euclid(60) * 60, 0).unwrap();
                    while i < f {
                        prop_assert!(!is_direct_fire(&e, i, tz), "skipped {} before {} for {} in {}", i, f, text, tz);
                        i += chrono::Duration::minutes(1);
                    }
                }
                prev = Some(f);
                next = s.next_after(f, tz);
            }
        }
    }
}

#[test]
fn day_of_month_letters_are_case_insensitive() {
    for (lower, upper) in [
        ("0 0 l * *", "0 0 L * *"),
        ("0 0 lw * *", "0 0 LW * *"),
        ("0 0 15w * *", "0 0 15W * *"),
        ("0 0 1,lW * *", "0 0 1,LW * *"),
    ] {
        assert_eq!(
            CronSchedule::parse_crontab(lower).unwrap(),
            CronSchedule::parse_crontab(upper).unwrap(),
            "{lower}"
        );
    }
    assert!(matches!(
        err("0 0 w * *"),
        CronError::Invalid {
            field: "day-of-month",
            ..
        }
    ));
}

#[test]
fn a_lone_star_means_what_star_slash_one_means_in_every_field() {
    let star = CronSchedule::parse_crontab("* * * * * *").unwrap();
    for expr in [
        "*/1 * * * * *",
        "* */1 * * * *",
        "* * */1 * * *",
        "* * * */1 * *",
        "* * * * */1 *",
        "* * * * * */1",
        "? ? ? ? ? ?",
    ] {
        assert_eq!(CronSchedule::parse_crontab(expr).unwrap(), star, "{expr}");
    }
}
