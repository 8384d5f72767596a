//! Random delays on fire times.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;

use crate::trigger::Trigger;

/// `fire` delayed by a random amount in `[0, trigger.jitter()]`, never past
/// the trigger's end date. The trigger's schedule is computed from the
/// undelayed `fire`, so jitter never accumulates.
pub(crate) fn jittered(trigger: &dyn Trigger, fire: DateTime<Utc>) -> DateTime<Utc> {
    let Some(jitter) = trigger.jitter() else {
        return fire;
    };
    let max = u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX);
    if max == 0 {
        return fire;
    }
    let delay = rand::rng().random_range(0..=max);
    let delay = TimeDelta::nanoseconds(i64::try_from(delay).unwrap_or(i64::MAX));
    let mut due = fire.checked_add_signed(delay).unwrap_or(fire);
    if let Some(end) = trigger.end_date() {
        if due > end {
            due = end.max(fire);
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::IntervalTrigger;
    use std::time::Duration;

    #[test]
    fn stays_within_the_jitter_and_the_end_date() {
        let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let trig = IntervalTrigger::seconds(60)
            .unwrap()
            .starting_at(start)
            .ending_at(start + TimeDelta::seconds(65))
            .with_jitter(Duration::from_secs(30));
        for _ in 0..200 {
            let due = jittered(&trig, start);
            assert!(due >= start && due <= start + TimeDelta::seconds(30));
            let last = start + TimeDelta::seconds(60);
            let due = jittered(&trig, last);
            assert!(
                due >= last && due <= start + TimeDelta::seconds(65),
                "{due}"
            );
        }
    }
}
