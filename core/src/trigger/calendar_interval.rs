//! `calendar_interval`: every N years/months/weeks/days at a wall-clock time.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

use super::{ResolveContext, Trigger, TriggerSpec};
use crate::duration;
use crate::error::{Error, Result};

/// The last year a calendar-interval trigger fires in.
const MAX_YEAR: i32 = 9999;
/// The longest period accepted, in months (9999 years).
const MAX_MONTHS: u64 = 9999 * 12;
/// The longest period accepted, in days (about 9999 years).
const MAX_DAYS: u64 = 3_652_059;
/// Bound on the candidate walk around the arithmetic estimate. The estimate
/// is off by a handful of periods at most; the bound only guards against
/// bugs and pathological zones.
const SEARCH_LIMIT: u32 = 1_000;

/// What a monthly or yearly [`CalendarIntervalTrigger`] does when its day of
/// the month does not exist in a target month (the 31st in April, Feb 29 in
/// a common year).
///
/// Either way, every fire date is computed from the anchor date
/// (`anchor + k × period`), never from the previous fire: a trigger
/// anchored on Jan 31 that clamps to Feb 28 fires on Mar 31 again, not on
/// Mar 28.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthEnd {
    /// Fire on the last day of the shorter month (Jan 31 + 1 month = Feb 28,
    /// or Feb 29 in a leap year; Feb 29 + 1 year = Feb 28). The default:
    /// every period has exactly one fire.
    #[default]
    Clamp,
    /// Skip the periods whose month lacks the day, as APScheduler 4 does
    /// (monthly from Jan 31 fires Jan 31, Mar 31, May 31, …; yearly from
    /// Feb 29 fires in leap years only).
    Skip,
}

impl MonthEnd {
    fn is_clamp(&self) -> bool {
        *self == MonthEnd::Clamp
    }
}

/// Fires every N years, months, weeks and/or days at a wall-clock
/// `hour:minute:second` in a time zone, keeping that local time across
/// daylight-saving changes.
///
/// - **Anchor.** The `k`-th fire date is the start date's calendar date (in
///   the trigger's zone) plus `k × period`, `k = 0, 1, 2, …`; months and years
///   are added first, then weeks and days. The first fire is the first such
///   date, at the wall time, that is `>= start_date`. Without a start date the
///   scheduler anchors the trigger at the moment the job is added (see
///   [`Trigger::resolve`]); used on its own, an unanchored trigger counts
///   from the local date of the reference time (`previous`, else `now`).
/// - **Month ends.** See [`MonthEnd`]: by default a day that a month lacks is
///   clamped to the month's last day (Jan 31 + 1 month = Feb 28), computed
///   from the anchor, so March fires on the 31st again.
/// - **Daylight saving.** A wall time in a spring-forward gap fires at the
///   first instant after the gap (02:30 on a day when 02:00 jumps to 03:00
///   fires at 03:00); a wall time that occurs twice fires at its first
///   occurrence.
/// - **Bounds.** `start_date` and `end_date` are inclusive; the schedule ends
///   with year 9999.
/// - The time zone defaults to the scheduler's (UTC outside a scheduler).
///
/// Stored as `{"kind": "calendar_interval", "months": 1, "hour": 9,
/// "minute": 0, "second": 0, "timezone": "Europe/London", "start_date":
/// "2026-01-31T00:00:00Z"}` (zero period fields are left out; `month_end`
/// appears only when it is `"skip"`).
///
/// ```
/// use chime_core::trigger::{CalendarIntervalTrigger, Trigger};
/// let start = "2026-01-31T00:00:00Z".parse().unwrap();
/// let monthly = CalendarIntervalTrigger::months(1).unwrap()
///     .at(9, 0, 0).unwrap()
///     .timezone(chime_core::chrono_tz::Europe::London)
///     .starting_at(start);
/// let first = monthly.next_fire_time(None, start).unwrap();
/// assert_eq!(first, "2026-01-31T09:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// // February has no 31st: the last day of February instead.
/// let second = monthly.next_fire_time(Some(first), first).unwrap();
/// assert_eq!(second, "2026-02-28T09:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// // Back on the 31st in March: 09:00 BST (the clocks went forward on Mar 29).
/// let third = monthly.next_fire_time(Some(second), second).unwrap();
/// assert_eq!(third, "2026-03-31T08:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarIntervalTrigger {
    #[serde(default, skip_serializing_if = "is_zero")]
    years: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    months: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    weeks: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    days: u32,
    #[serde(default)]
    hour: u32,
    #[serde(default)]
    minute: u32,
    #[serde(default)]
    second: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<Tz>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_date: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "duration::serde_text_opt",
        skip_serializing_if = "Option::is_none"
    )]
    jitter: Option<Duration>,
    #[serde(default, skip_serializing_if = "MonthEnd::is_clamp")]
    month_end: MonthEnd,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One candidate of the schedule.
enum Slot {
    /// The `k`-th fire instant.
    Fire(DateTime<Utc>),
    /// The `k`-th period has no fire ([`MonthEnd::Skip`]).
    Skip,
    /// Past year 9999: no fires from here on.
    End,
}

impl CalendarIntervalTrigger {
    /// The kind name: `"calendar_interval"`.
    pub const KIND: &'static str = "calendar_interval";

    /// Fires every `years` years + `months` months + `weeks` weeks + `days`
    /// days, at midnight until [`at`](Self::at) says otherwise. A zero period
    /// (all four zero) is an [`InvalidInput`](crate::ErrorKind::InvalidInput)
    /// error, and so is a period longer than 9999 years.
    pub fn new(years: u32, months: u32, weeks: u32, days: u32) -> Result<Self> {
        let trigger = CalendarIntervalTrigger {
            years,
            months,
            weeks,
            days,
            hour: 0,
            minute: 0,
            second: 0,
            timezone: None,
            start_date: None,
            end_date: None,
            jitter: None,
            month_end: MonthEnd::Clamp,
        };
        trigger.check()?;
        Ok(trigger)
    }

    /// Every `n` years.
    pub fn years(n: u32) -> Result<Self> {
        CalendarIntervalTrigger::new(n, 0, 0, 0)
    }

    /// Every `n` months.
    pub fn months(n: u32) -> Result<Self> {
        CalendarIntervalTrigger::new(0, n, 0, 0)
    }

    /// Every `n` weeks.
    pub fn weeks(n: u32) -> Result<Self> {
        CalendarIntervalTrigger::new(0, 0, n, 0)
    }

    /// Every `n` days.
    pub fn days(n: u32) -> Result<Self> {
        CalendarIntervalTrigger::new(0, 0, 0, n)
    }

    /// Fires at `hour:minute:second` wall-clock time (default 00:00:00);
    /// out-of-range values are an [`InvalidInput`](crate::ErrorKind::InvalidInput) error
    /// naming the field (`hour: 24 is out of range 0-23`).
    pub fn at(mut self, hour: u32, minute: u32, second: u32) -> Result<Self> {
        self.hour = hour;
        self.minute = minute;
        self.second = second;
        self.check()?;
        Ok(self)
    }

    /// Evaluates the wall-clock time in `timezone`.
    pub fn timezone(mut self, timezone: Tz) -> Self {
        self.timezone = Some(timezone);
        self
    }

    /// Anchors the schedule at `start`'s date (in the trigger's zone) and
    /// never fires before `start` (inclusive).
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.start_date = Some(start);
        self
    }

    /// Never fires after `end` (inclusive).
    pub fn ending_at(mut self, end: DateTime<Utc>) -> Self {
        self.end_date = Some(end);
        self
    }

    /// Delays each fire by a random amount in `[0, jitter]`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Chooses what happens to a day of the month that a target month lacks.
    pub fn month_end(mut self, rule: MonthEnd) -> Self {
        self.month_end = rule;
        self
    }

    /// The wall-clock time of day it fires at.
    pub fn time(&self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour, self.minute, self.second).unwrap_or(NaiveTime::MIN)
    }

    /// The period as `(years, months, weeks, days)`.
    pub fn period(&self) -> (u32, u32, u32, u32) {
        (self.years, self.months, self.weeks, self.days)
    }

    /// The time zone, if one was set.
    pub fn zone(&self) -> Option<Tz> {
        self.timezone
    }

    /// The anchor / inclusive start, if set.
    pub fn start_date(&self) -> Option<DateTime<Utc>> {
        self.start_date
    }

    /// The month-end rule.
    pub fn month_end_rule(&self) -> MonthEnd {
        self.month_end
    }

    /// Decodes a stored spec, checking it the way [`new`](Self::new) and
    /// [`at`](Self::at) do (a zero period is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error).
    pub fn from_spec(spec: &TriggerSpec) -> Result<Self> {
        let trigger: CalendarIntervalTrigger = spec.decode(1)?;
        trigger.check()?;
        Ok(trigger)
    }

    fn check(&self) -> Result<()> {
        if self.years == 0 && self.months == 0 && self.weeks == 0 && self.days == 0 {
            return Err(Error::invalid(
                "calendar_interval: the period must be longer than zero \
                 (give years, months, weeks or days)",
            ));
        }
        let months = u64::from(self.years) * 12 + u64::from(self.months);
        if months > MAX_MONTHS {
            return Err(Error::invalid(format!(
                "calendar_interval: {} years and {} months is too long (at most 9999 years)",
                self.years, self.months
            )));
        }
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        if days > MAX_DAYS {
            return Err(Error::invalid(format!(
                "calendar_interval: {} weeks and {} days is too long (at most {MAX_DAYS} days)",
                self.weeks, self.days
            )));
        }
        for (name, value, max) in [
            ("hour", self.hour, 23),
            ("minute", self.minute, 59),
            ("second", self.second, 59),
        ] {
            if value > max {
                return Err(Error::invalid(format!(
                    "calendar_interval: {name}: {value} is out of range 0-{max}"
                )));
            }
        }
        Ok(())
    }

    fn tz(&self) -> Tz {
        self.timezone.unwrap_or(chrono_tz::UTC)
    }

    fn months_per_step(&self) -> i64 {
        i64::from(self.years) * 12 + i64::from(self.months)
    }

    fn days_per_step(&self) -> i64 {
        i64::from(self.weeks) * 7 + i64::from(self.days)
    }

    /// The `k`-th fire date: `anchor + k × months`, with the month-end rule,
    /// then `+ k × days`.
    fn date_of(&self, anchor: NaiveDate, k: i64) -> Option<std::result::Result<NaiveDate, ()>> {
        let months = self.months_per_step().checked_mul(k)?;
        let index =
            (i64::from(anchor.year()) * 12 + i64::from(anchor.month0())).checked_add(months)?;
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
        if year > MAX_YEAR {
            return None;
        }
        let last = days_in_month(year, month);
        let day = if anchor.day() <= last {
            anchor.day()
        } else {
            match self.month_end {
                MonthEnd::Clamp => last,
                MonthEnd::Skip => return Some(Err(())),
            }
        };
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let days = u64::try_from(self.days_per_step().checked_mul(k)?).ok()?;
        let date = date.checked_add_days(Days::new(days))?;
        if date.year() > MAX_YEAR {
            return None;
        }
        Some(Ok(date))
    }

    /// The `k`-th fire instant.
    fn slot(&self, anchor: NaiveDate, k: i64, tz: Tz) -> Slot {
        match self.date_of(anchor, k) {
            None => Slot::End,
            Some(Err(())) => Slot::Skip,
            Some(Ok(date)) => match localize(tz, date, self.time()) {
                Some(fire) => Slot::Fire(fire),
                None => Slot::Skip,
            },
        }
    }

    /// A `k` at or a few periods below the first candidate on or after
    /// `target`, computed arithmetically (no walk over the periods).
    fn estimate(&self, anchor: NaiveDate, target: NaiveDate) -> i64 {
        let elapsed = i128::from((target - anchor).num_days());
        if elapsed <= 0 {
            return 0;
        }
        // A Gregorian month averages 146097 / 4800 days (400 years).
        let per_step_4800 =
            i128::from(self.months_per_step()) * 146_097 + i128::from(self.days_per_step()) * 4800;
        if per_step_4800 <= 0 {
            return 0;
        }
        let k = (elapsed * 4800) / per_step_4800;
        i64::try_from(k)
            .unwrap_or(i64::MAX)
            .saturating_sub(1)
            .max(0)
    }

    /// The first fire `>= bound` (`> bound` when `strict`) of the schedule
    /// anchored at `anchor`.
    fn search(
        &self,
        anchor: NaiveDate,
        bound: DateTime<Utc>,
        strict: bool,
        tz: Tz,
    ) -> Option<DateTime<Utc>> {
        let qualifies = |x: DateTime<Utc>| if strict { x > bound } else { x >= bound };
        let target = bound.with_timezone(&tz).date_naive();
        let mut k = self.estimate(anchor, target);
        // Fire instants never decrease with k: step back over candidates
        // that already qualify (or have no fire) to reach the first one.
        for _ in 0..SEARCH_LIMIT {
            if k == 0 {
                break;
            }
            match self.slot(anchor, k - 1, tz) {
                Slot::Fire(x) if !qualifies(x) => break,
                _ => k -= 1,
            }
        }
        for _ in 0..SEARCH_LIMIT {
            match self.slot(anchor, k, tz) {
                Slot::Fire(x) if qualifies(x) => return Some(x),
                Slot::End => return None,
                _ => k = k.checked_add(1)?,
            }
        }
        None
    }

    fn period_text(&self) -> String {
        let parts: Vec<(u32, &str)> = [
            (self.years, "year"),
            (self.months, "month"),
            (self.weeks, "week"),
            (self.days, "day"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect();
        match parts.as_slice() {
            [(1, unit)] => (*unit).to_owned(),
            _ => parts
                .iter()
                .map(|(n, unit)| {
                    if *n == 1 {
                        format!("1 {unit}")
                    } else {
                        format!("{n} {unit}s")
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Days in `month` of `year` (proleptic Gregorian).
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

/// The instant of wall time `date time` in `tz`: the first occurrence of a
/// repeated wall time, the first instant after the gap for a missing one.
pub(crate) fn localize(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(x) => Some(x.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => GapInfo::new(&naive, &tz)
            .and_then(|gap| gap.end)
            .map(|end| end.with_timezone(&Utc)),
    }
}

impl fmt::Display for CalendarIntervalTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "every {} at {:02}:{:02}",
            self.period_text(),
            self.hour,
            self.minute
        )?;
        if self.second != 0 {
            write!(f, ":{:02}", self.second)?;
        }
        if let Some(tz) = self.timezone {
            write!(f, ", {}", tz.name())?;
        }
        Ok(())
    }
}

impl Trigger for CalendarIntervalTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let tz = self.tz();
        let local_date = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let (anchor, bound, strict) = match (self.start_date, previous) {
            (Some(start), None) => (local_date(start), now.max(start), false),
            (Some(start), Some(prev)) if prev < start => (local_date(start), start, false),
            (Some(start), Some(prev)) => (local_date(start), prev, true),
            (None, None) => (local_date(now), now, false),
            (None, Some(prev)) => (local_date(prev), prev, true),
        };
        let next = self.search(anchor, bound, strict, tz)?;
        match self.end_date {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        TriggerSpec::new(Self::KIND, self)
    }

    fn describe(&self) -> String {
        self.to_string()
    }

    fn jitter(&self) -> Option<Duration> {
        self.jitter
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.end_date
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        if self.timezone.is_some() && self.start_date.is_some() {
            return None;
        }
        let mut resolved = self.clone();
        resolved.timezone = Some(self.timezone.unwrap_or(context.timezone));
        resolved.start_date = Some(self.start_date.unwrap_or(context.now));
        Some(Box::new(resolved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn zero_and_overlong_periods_and_bad_times_are_refused() {
        let err = CalendarIntervalTrigger::new(0, 0, 0, 0).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.message().contains("longer than zero"), "{err}");
        assert!(CalendarIntervalTrigger::years(10_000).is_err());
        assert!(CalendarIntervalTrigger::new(9999, 12, 0, 0).is_err());
        assert!(CalendarIntervalTrigger::days(u32::MAX).is_err());
        let err = CalendarIntervalTrigger::days(1)
            .unwrap()
            .at(24, 0, 0)
            .unwrap_err();
        assert!(
            err.message().contains("hour: 24 is out of range 0-23"),
            "{err}"
        );
        assert!(CalendarIntervalTrigger::days(1)
            .unwrap()
            .at(0, 60, 0)
            .is_err());
        assert!(CalendarIntervalTrigger::days(1)
            .unwrap()
            .at(0, 0, 60)
            .is_err());
    }

    #[test]
    fn month_arithmetic_clamps_from_the_anchor() {
        let trig = CalendarIntervalTrigger::months(1).unwrap();
        let anchor = d(2026, 1, 31);
        let dates: Vec<NaiveDate> = (0..4)
            .map(|k| trig.date_of(anchor, k).unwrap().unwrap())
            .collect();
        assert_eq!(
            dates,
            vec![
                d(2026, 1, 31),
                d(2026, 2, 28),
                d(2026, 3, 31),
                d(2026, 4, 30)
            ]
        );
        // Leap year: Jan 31 2028 + 1 month = Feb 29.
        assert_eq!(
            trig.date_of(d(2028, 1, 31), 1).unwrap().unwrap(),
            d(2028, 2, 29)
        );
        // Negative offsets never happen, but month index arithmetic is euclidean.
        assert_eq!(trig.date_of(anchor, 11).unwrap().unwrap(), d(2026, 12, 31));
        assert_eq!(trig.date_of(anchor, 12).unwrap().unwrap(), d(2027, 1, 31));
    }

    #[test]
    fn month_arithmetic_can_skip() {
        let trig = CalendarIntervalTrigger::months(1)
            .unwrap()
            .month_end(MonthEnd::Skip);
        let anchor = d(2026, 1, 31);
        assert!(matches!(trig.date_of(anchor, 1), Some(Err(()))));
        assert_eq!(trig.date_of(anchor, 2).unwrap().unwrap(), d(2026, 3, 31));
    }

    #[test]
    fn months_then_days() {
        // 1 month + 1 week per step: k = 2 is anchor + 2 months + 14 days.
        let trig = CalendarIntervalTrigger::new(0, 1, 1, 0).unwrap();
        assert_eq!(
            trig.date_of(d(2026, 1, 10), 2).unwrap().unwrap(),
            d(2026, 3, 24)
        );
    }

    #[test]
    fn the_end_is_year_9999() {
        let trig = CalendarIntervalTrigger::years(1000).unwrap();
        assert!(trig.date_of(d(2026, 1, 1), 7).is_some());
        assert!(trig.date_of(d(2026, 1, 1), 8).is_none());
        let trig = trig.starting_at(t("2026-01-01T00:00:00Z"));
        assert_eq!(
            trig.next_fire_time(Some(t("9026-01-01T00:00:00Z")), t("2026-01-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn estimate_lands_within_a_few_periods_of_the_answer() {
        for (trig, anchor, target) in [
            (
                CalendarIntervalTrigger::months(1).unwrap(),
                d(2026, 1, 31),
                d(2526, 7, 15),
            ),
            (
                CalendarIntervalTrigger::months(7).unwrap(),
                d(2000, 2, 29),
                d(9000, 1, 1),
            ),
            (
                CalendarIntervalTrigger::days(3).unwrap(),
                d(1970, 1, 1),
                d(2026, 5, 5),
            ),
            (
                CalendarIntervalTrigger::new(1, 1, 1, 1).unwrap(),
                d(1999, 12, 31),
                d(2400, 2, 29),
            ),
        ] {
            let k = trig.estimate(anchor, target);
            let at_k = trig.date_of(anchor, k).unwrap().unwrap();
            assert!(at_k <= target, "{at_k} > {target}");
            let ahead = trig.date_of(anchor, k + 4).unwrap().unwrap();
            assert!(ahead >= target, "{ahead} < {target}");
        }
    }

    #[test]
    fn far_future_queries_are_arithmetic() {
        // Daily at 12:00 UTC from 2026: asking about the year 9000 must not
        // walk 2.5 million days (SEARCH_LIMIT would make it return None).
        let trig = CalendarIntervalTrigger::days(1)
            .unwrap()
            .at(12, 0, 0)
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"));
        assert_eq!(
            trig.next_fire_time(None, t("9000-06-01T13:00:00Z")),
            Some(t("9000-06-02T12:00:00Z"))
        );
    }

    /// The search agrees with the definition walked one period at a time.
    #[test]
    fn search_matches_a_step_by_step_walk() {
        let zones = [
            London,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Australia::Sydney,
            chrono_tz::UTC,
        ];
        let periods = [
            (0, 1, 0, 0),
            (0, 2, 0, 0),
            (1, 1, 0, 0),
            (1, 0, 0, 0),
            (0, 0, 2, 0),
            (0, 0, 0, 3),
            (0, 1, 0, 3),
        ];
        let anchors = [
            "2024-01-31T00:00:00Z",
            "2024-02-29T12:00:00Z",
            "2026-03-15T23:30:00Z",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut random = move |n: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            i64::try_from(seed % u64::try_from(n).unwrap()).unwrap()
        };
        for (i, &(y, m, w, dd)) in periods.iter().enumerate() {
            for (j, anchor) in anchors.iter().enumerate() {
                let tz = zones[(i + j) % zones.len()];
                for rule in [MonthEnd::Clamp, MonthEnd::Skip] {
                    let trig = CalendarIntervalTrigger::new(y, m, w, dd)
                        .unwrap()
                        .at(u32::try_from(random(24)).unwrap(), 30, 0)
                        .unwrap()
                        .timezone(tz)
                        .month_end(rule)
                        .starting_at(t(anchor));
                    let start = t(anchor);
                    let anchor_date = start.with_timezone(&tz).date_naive();
                    for _ in 0..20 {
                        let now = start + chrono::TimeDelta::seconds(random(6 * 365 * 86_400));
                        let walk = (0..1000)
                            .filter_map(|k| match trig.slot(anchor_date, k, tz) {
                                Slot::Fire(x) => Some(x),
                                _ => None,
                            })
                            .find(|x| *x >= now && *x >= start);
                        assert_eq!(trig.next_fire_time(None, now), walk, "{trig:?} {now}");
                        if let Some(prev) = walk {
                            let after = (0..1000)
                                .filter_map(|k| match trig.slot(anchor_date, k, tz) {
                                    Slot::Fire(x) => Some(x),
                                    _ => None,
                                })
                                .find(|x| *x > prev);
                            assert_eq!(trig.next_fire_time(Some(prev), now), after);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unanchored_counts_from_the_reference_date() {
        let trig = CalendarIntervalTrigger::days(2)
            .unwrap()
            .at(9, 0, 0)
            .unwrap()
            .timezone(London);
        // Before 09:00: today. After: in two days.
        assert_eq!(
            trig.next_fire_time(None, t("2026-01-10T08:00:00Z")),
            Some(t("2026-01-10T09:00:00Z"))
        );
        assert_eq!(
            trig.next_fire_time(None, t("2026-01-10T10:00:00Z")),
            Some(t("2026-01-12T09:00:00Z"))
        );
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-12T09:00:00Z")), t("2026-01-12T09:00:00Z")),
            Some(t("2026-01-14T09:00:00Z"))
        );
    }

    #[test]
    fn describe_reads_as_english() {
        let trig = CalendarIntervalTrigger::months(1)
            .unwrap()
            .at(9, 0, 0)
            .unwrap()
            .timezone(London);
        assert_eq!(trig.describe(), "every month at 09:00, Europe/London");
        let trig = CalendarIntervalTrigger::new(1, 0, 2, 0)
            .unwrap()
            .at(17, 49, 5)
            .unwrap();
        assert_eq!(trig.describe(), "every 1 year 2 weeks at 17:49:05");
        let trig = CalendarIntervalTrigger::days(3).unwrap();
        assert_eq!(trig.describe(), "every 3 days at 00:00");
    }

    #[test]
    fn resolve_fills_zone_and_anchor_only_when_missing() {
        let ctx = ResolveContext::new(t("2026-01-01T00:00:00Z"), London);
        let trig = CalendarIntervalTrigger::days(1).unwrap();
        let resolved = trig.resolve(&ctx).unwrap();
        let json = serde_json::to_value(resolved.to_spec().unwrap()).unwrap();
        assert_eq!(json["timezone"], "Europe/London");
        assert_eq!(json["start_date"], "2026-01-01T00:00:00Z");
        let full = trig
            .timezone(chrono_tz::Asia::Tokyo)
            .starting_at(t("2025-01-01T00:00:00Z"));
        assert!(full.resolve(&ctx).is_none());
    }
}
