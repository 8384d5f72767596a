//! `interval`: fires every fixed amount of elapsed (absolute) time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{ResolveContext, Trigger, TriggerSpec};
use crate::duration;
use crate::error::{Error, Result};

/// Fires at `start_date + k × interval` for k = 0, 1, 2, … up to `end_date`
/// (inclusive). Intervals are absolute durations: a daylight-saving change
/// does not stretch or shrink them (use a calendar-interval trigger to keep a
/// wall-clock time).
///
/// Without an explicit start date, the scheduler anchors the trigger at
/// "when the job is added + interval". A start date in the past is aligned to
/// the next slot: after downtime the trigger resumes on its grid, it does not
/// burst through the missed slots.
///
/// ```
/// use chime_core::trigger::{IntervalTrigger, Trigger};
/// use std::time::Duration;
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// let t = IntervalTrigger::new(Duration::from_secs(60)).unwrap().starting_at(start);
/// let now = "2026-01-01T00:02:30Z".parse().unwrap();
/// // Past start: aligned to the next slot at 00:03:00.
/// assert_eq!(t.next_fire_time(None, now), Some("2026-01-01T00:03:00Z".parse().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalTrigger {
    #[serde(with = "duration::serde_text")]
    every: Duration,
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
}

impl IntervalTrigger {
    /// The kind name: `"interval"`.
    pub const KIND: &'static str = "interval";

    /// Fires every `every`; zero is refused.
    pub fn new(every: Duration) -> Result<Self> {
        if every.is_zero() {
            return Err(Error::invalid(
                "interval: the interval must be longer than zero",
            ));
        }
        if TimeDelta::from_std(every).is_err() {
            return Err(Error::invalid(format!(
                "interval: {} is too long",
                duration::format(every)
            )));
        }
        Ok(IntervalTrigger {
            every,
            start_date: None,
            end_date: None,
            jitter: None,
        })
    }

    /// Every `n` seconds.
    pub fn seconds(n: u64) -> Result<Self> {
        IntervalTrigger::new(Duration::from_secs(n))
    }

    /// Anchors the schedule: fires at `start + k × interval`.
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.start_date = Some(start);
        self
    }

    /// Stops after `end` (inclusive).
    pub fn ending_at(mut self, end: DateTime<Utc>) -> Self {
        self.end_date = Some(end);
        self
    }

    /// Delays each fire by a random amount in `[0, jitter]`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.every
    }

    /// The anchor, if set.
    pub fn start_date(&self) -> Option<DateTime<Utc>> {
        self.start_date
    }

    /// Decodes a stored spec, checking it the way [`new`](Self::new) does.
    pub fn from_spec(spec: &TriggerSpec) -> Result<Self> {
        let decoded: IntervalTrigger = spec.decode(1)?;
        let checked = IntervalTrigger::new(decoded.every)?;
        Ok(IntervalTrigger {
            every: checked.every,
            ..decoded
        })
    }

    fn step(&self) -> TimeDelta {
        TimeDelta::from_std(self.every).unwrap_or(TimeDelta::MAX)
    }

    /// The first slot `start + k × step` that is `>= at` (or `> at` when
    /// `strict`).
    fn slot_from(
        &self,
        start: DateTime<Utc>,
        at: DateTime<Utc>,
        strict: bool,
    ) -> Option<DateTime<Utc>> {
        if at < start || (!strict && at == start) {
            return Some(start);
        }
        // Exact nanosecond arithmetic in i128: no overflow for anchors
        // centuries away or intervals of centuries.
        let nanos = |d: TimeDelta| {
            i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
        };
        let step = nanos(self.step());
        let elapsed = nanos(at - start);
        let mut k = elapsed / step;
        if strict || elapsed % step != 0 {
            k += 1;
        }
        let offset = k.checked_mul(step)?;
        let secs = i64::try_from(offset.div_euclid(1_000_000_000)).ok()?;
        let subsec = u32::try_from(offset.rem_euclid(1_000_000_000)).ok()?;
        start.checked_add_signed(TimeDelta::new(secs, subsec)?)
    }

    fn within_end(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.end_date {
            Some(end) if t > end => None,
            _ => Some(t),
        }
    }
}

impl Trigger for IntervalTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let next = match (self.start_date, previous) {
            (Some(start), None) => self.slot_from(start, now, false),
            (Some(start), Some(prev)) => self.slot_from(start, prev, true),
            (None, None) => now.checked_add_signed(self.step()),
            (None, Some(prev)) => prev.checked_add_signed(self.step()),
        }?;
        self.within_end(next)
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        TriggerSpec::new(Self::KIND, self)
    }

    fn describe(&self) -> String {
        format!("every {}", duration::format(self.every))
    }

    fn jitter(&self) -> Option<Duration> {
        self.jitter
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.end_date
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        if self.start_date.is_some() {
            return None;
        }
        let start = context.now.checked_add_signed(self.step())?;
        Some(Box::new(self.clone().starting_at(start)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn zero_interval_is_refused() {
        assert!(IntervalTrigger::new(Duration::ZERO).is_err());
    }

    #[test]
    fn fires_on_the_grid_from_the_start_date() {
        let trig = IntervalTrigger::seconds(90)
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"));
        // Before the start: the start itself.
        assert_eq!(
            trig.next_fire_time(None, t("2025-12-31T00:00:00Z")),
            Some(t("2026-01-01T00:00:00Z"))
        );
        // Exactly on a slot: that slot (>= now).
        assert_eq!(
            trig.next_fire_time(None, t("2026-01-01T00:03:00Z")),
            Some(t("2026-01-01T00:03:00Z"))
        );
        // Strictly after a previous fire, even an off-grid one.
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-01T00:03:00Z")), t("2026-01-01T00:00:00Z")),
            Some(t("2026-01-01T00:04:30Z"))
        );
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-01T00:03:10Z")), t("2026-01-01T00:00:00Z")),
            Some(t("2026-01-01T00:04:30Z"))
        );
    }

    #[test]
    fn a_past_start_is_aligned_not_replayed() {
        let trig = IntervalTrigger::seconds(3600)
            .unwrap()
            .starting_at(t("2020-01-01T00:30:00Z"));
        assert_eq!(
            trig.next_fire_time(None, t("2026-06-01T12:00:01Z")),
            Some(t("2026-06-01T12:30:00Z"))
        );
    }

    #[test]
    fn anchors_and_intervals_centuries_long_do_not_overflow() {
        // Hourly from 1700: 2026-01-01T00:30 is between slots; the next is
        // 01:00 (the grid is on whole hours, 1700-01-01 being at 00:00).
        let trig = IntervalTrigger::seconds(3600)
            .unwrap()
            .starting_at(t("1700-01-01T00:00:00Z"));
        assert_eq!(
            trig.next_fire_time(None, t("2026-01-01T00:30:00Z")),
            Some(t("2026-01-01T01:00:00Z"))
        );
        // Every 400 Gregorian years (146,097 days exactly) from 1600.
        let trig = IntervalTrigger::new(Duration::from_secs(146_097 * 86_400))
            .unwrap()
            .starting_at(t("1600-03-01T00:00:00Z"));
        assert_eq!(
            trig.next_fire_time(None, t("2026-01-01T00:00:00Z")),
            Some(t("2400-03-01T00:00:00Z"))
        );
    }

    #[test]
    fn end_date_is_inclusive() {
        let trig = IntervalTrigger::seconds(10)
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"))
            .ending_at(t("2026-01-01T00:00:20Z"));
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-01T00:00:10Z")), t("2026-01-01T00:00:10Z")),
            Some(t("2026-01-01T00:00:20Z"))
        );
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-01T00:00:20Z")), t("2026-01-01T00:00:20Z")),
            None
        );
    }

    #[test]
    fn spec_round_trip_is_readable_text() {
        let trig = IntervalTrigger::new(Duration::from_secs(5400))
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"))
            .with_jitter(Duration::from_secs(5));
        let spec = trig.to_spec().unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["kind"], "interval");
        assert_eq!(json["every"], "1h 30m");
        assert_eq!(json["jitter"], "5s");
        assert_eq!(IntervalTrigger::from_spec(&spec).unwrap(), trig);
    }

    #[test]
    fn a_stored_zero_interval_is_an_error_not_a_hang() {
        let spec = TriggerSpec::from_value(serde_json::json!({"kind": "interval", "every": "0s"}))
            .unwrap();
        assert!(IntervalTrigger::from_spec(&spec).is_err());
    }
}
