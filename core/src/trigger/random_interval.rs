//! `random_interval`: fires after a random delay, drawn anew each time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Trigger, TriggerSpec};
use crate::duration;
use crate::error::{Error, Result};

/// Fires after a random delay between `min` and `max` (inclusive, uniform,
/// nanosecond resolution), drawn anew for every fire: the next fire is the
/// previous one (or, for the first, the current time or the start date,
/// whichever is later) plus a fresh random delay. This is `schedule`'s
/// `every(5).to(10).seconds`.
///
/// Unlike the other built-in triggers it is not a pure function of its
/// arguments: asking twice gives two different answers. `start_date` and
/// `end_date` are inclusive bounds.
///
/// Stored as `{"kind": "random_interval", "min": "5s", "max": "10s"}`.
///
/// ```
/// use chime_core::trigger::{RandomIntervalTrigger, Trigger};
/// use std::time::Duration;
/// let t = RandomIntervalTrigger::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
/// let now: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
/// let next = t.next_fire_time(None, now).unwrap();
/// let waited = (next - now).num_milliseconds();
/// assert!((5_000..=10_000).contains(&waited));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomIntervalTrigger {
    #[serde(with = "duration::serde_text")]
    min: Duration,
    #[serde(with = "duration::serde_text")]
    max: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_date: Option<DateTime<Utc>>,
}

impl RandomIntervalTrigger {
    /// The kind name: `"random_interval"`.
    pub const KIND: &'static str = "random_interval";

    /// Fires after a random delay in `[min, max]` each time. `min` must be
    /// longer than zero and at most `max`; both must fit in a `TimeDelta`.
    pub fn new(min: Duration, max: Duration) -> Result<Self> {
        let trigger = RandomIntervalTrigger {
            min,
            max,
            start_date: None,
            end_date: None,
        };
        trigger.check()?;
        Ok(trigger)
    }

    /// Never fires before `start` (inclusive): the first delay counts from
    /// `start` when it is later than the current time.
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.start_date = Some(start);
        self
    }

    /// Never fires after `end` (inclusive).
    pub fn ending_at(mut self, end: DateTime<Utc>) -> Self {
        self.end_date = Some(end);
        self
    }

    /// The shortest delay.
    pub fn min(&self) -> Duration {
        self.min
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// Decodes a stored spec, checking it the way [`new`](Self::new) does.
    pub fn from_spec(spec: &TriggerSpec) -> Result<Self> {
        let trigger: RandomIntervalTrigger = spec.decode(1)?;
        trigger.check()?;
        Ok(trigger)
    }

    fn check(&self) -> Result<()> {
        if self.min.is_zero() {
            return Err(Error::invalid(
                "random_interval: min must be longer than zero",
            ));
        }
        if self.max < self.min {
            return Err(Error::invalid(format!(
                "random_interval: max ({}) is shorter than min ({})",
                duration::format(self.max),
                duration::format(self.min)
            )));
        }
        if TimeDelta::from_std(self.max).is_err() || u64::try_from(self.max.as_nanos()).is_err() {
            return Err(Error::invalid(format!(
                "random_interval: max ({}) is too long",
                duration::format(self.max)
            )));
        }
        Ok(())
    }

    fn delay(&self) -> TimeDelta {
        let lo = u64::try_from(self.min.as_nanos()).unwrap_or(u64::MAX);
        let hi = u64::try_from(self.max.as_nanos())
            .unwrap_or(u64::MAX)
            .max(lo);
        let nanos = rand::rng().random_range(lo..=hi);
        TimeDelta::from_std(Duration::from_nanos(nanos)).unwrap_or(TimeDelta::MAX)
    }
}

impl Trigger for RandomIntervalTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let base = previous.unwrap_or(now);
        let base = match self.start_date {
            Some(start) if start > base => start,
            _ => base,
        };
        let next = base.checked_add_signed(self.delay())?;
        match self.end_date {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        TriggerSpec::new(Self::KIND, self)
    }

    fn describe(&self) -> String {
        format!(
            "every {} to {} (random)",
            duration::format(self.min),
            duration::format(self.max)
        )
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.end_date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn bad_bounds_are_refused() {
        assert!(RandomIntervalTrigger::new(Duration::ZERO, Duration::from_secs(1)).is_err());
        let err = RandomIntervalTrigger::new(Duration::from_secs(10), Duration::from_secs(5))
            .unwrap_err();
        assert!(err.message().contains("shorter than min"), "{err}");
        assert!(RandomIntervalTrigger::new(Duration::from_secs(1), Duration::MAX).is_err());
    }

    #[test]
    fn delays_stay_within_bounds_and_vary() {
        let trig =
            RandomIntervalTrigger::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
        let start = t("2026-01-01T00:00:00Z");
        let mut prev = start;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let next = trig.next_fire_time(Some(prev), start).unwrap();
            let gap = next - prev;
            assert!(gap >= TimeDelta::seconds(5) && gap <= TimeDelta::seconds(10));
            seen.insert(gap);
            prev = next;
        }
        assert!(seen.len() > 100);
    }

    #[test]
    fn equal_bounds_are_a_fixed_interval() {
        let trig =
            RandomIntervalTrigger::new(Duration::from_secs(7), Duration::from_secs(7)).unwrap();
        let now = t("2026-01-01T00:00:00Z");
        assert_eq!(
            trig.next_fire_time(None, now),
            Some(t("2026-01-01T00:00:07Z"))
        );
    }

    #[test]
    fn start_and_end_bound_the_fires() {
        let trig = RandomIntervalTrigger::new(Duration::from_secs(1), Duration::from_secs(2))
            .unwrap()
            .starting_at(t("2026-01-01T01:00:00Z"))
            .ending_at(t("2026-01-01T01:00:01Z"));
        let now = t("2026-01-01T00:00:00Z");
        for _ in 0..50 {
            // Counting from the start: 01:00:01..=01:00:02; past the end → None.
            if let Some(next) = trig.next_fire_time(None, now) {
                assert_eq!(next, t("2026-01-01T01:00:01Z"));
            }
        }
        assert_eq!(
            trig.next_fire_time(Some(t("2026-01-01T01:00:01Z")), now),
            None
        );
    }
}
