//! Triggers decide when a job fires.
//!
//! A trigger is a value: it turns into a [`TriggerSpec`] (a JSON object with a
//! `kind` name) that stores keep, and a [`TriggerRegistry`] turns specs back
//! into triggers. Custom trigger kinds plug in by registering a decoder under
//! a new kind name.

mod calendar_interval;
mod combinators;
pub mod cron;
mod date;
mod every;
mod interval;
mod random_interval;
mod registry;
mod spec;
mod spec_text;

pub use calendar_interval::{CalendarIntervalTrigger, MonthEnd};
pub use combinators::{AndTrigger, OrTrigger};
pub use cron::{CronFields, CronTrigger};
pub use date::DateTrigger;
pub use every::{every, Every, EveryTrigger};
pub use interval::IntervalTrigger;
pub use random_interval::RandomIntervalTrigger;
pub use registry::{TriggerDecoder, TriggerRegistry};
pub use spec::TriggerSpec;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Result;

/// Decides when a job fires.
///
/// The contract is APScheduler's, made precise:
///
/// - `next_fire_time(None, now)` is the earliest fire time `>= now`;
/// - `next_fire_time(Some(previous), now)` is the earliest fire time strictly
///   after `previous` (`now` is the current time, which a trigger may use but
///   must not let move the schedule);
/// - `None` means the trigger will never fire again.
///
/// Triggers must be pure functions of their configuration and these two
/// arguments (randomised triggers aside), because the scheduler skips over
/// missed fires with `next_fire_time(None, now)`.
///
/// ```
/// use chime_core::trigger::{IntervalTrigger, Trigger};
/// use std::time::Duration;
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// let every_10s = IntervalTrigger::new(Duration::from_secs(10)).unwrap().starting_at(start);
/// let first = every_10s.next_fire_time(None, start).unwrap();
/// assert_eq!(first, start);
/// let second = every_10s.next_fire_time(Some(first), start).unwrap();
/// assert_eq!((second - first).num_seconds(), 10);
/// ```
pub trait Trigger: Send + Sync + fmt::Debug {
    /// The kind name under which this trigger's spec is stored (`"interval"`).
    fn kind(&self) -> &str;

    /// The next fire time; see the trait documentation for the contract.
    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>>;

    /// The storable form of this trigger.
    fn to_spec(&self) -> Result<TriggerSpec>;

    /// An English description for logs and the CLI ("every 10 seconds").
    fn describe(&self) -> String;

    /// The maximum random delay added to each fire time, if any. The delay is
    /// drawn anew per fire and never moves the schedule itself.
    fn jitter(&self) -> Option<Duration> {
        None
    }

    /// The inclusive end of the trigger's schedule, if any; jitter never
    /// delays a fire past it.
    fn end_date(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// Fills in what depends on when and where the trigger is added, such as
    /// an omitted start date (an interval anchors at "now + interval") or time
    /// zone (the scheduler's). Returns `None` when nothing needs filling in.
    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        let _ = context;
        None
    }
}

/// What a trigger may need to know when a job is added; see [`Trigger::resolve`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ResolveContext {
    /// The instant the job is added.
    pub now: DateTime<Utc>,
    /// The scheduler's default time zone.
    pub timezone: chrono_tz::Tz,
}

impl ResolveContext {
    /// A context for a job added at `now` on a scheduler in `timezone`.
    pub fn new(now: DateTime<Utc>, timezone: chrono_tz::Tz) -> Self {
        ResolveContext { now, timezone }
    }
}

/// One spec of every built-in trigger kind, with their optional parts set
/// (for tests that go over every kind).
#[cfg(test)]
pub(crate) fn built_in_samples() -> Vec<TriggerSpec> {
    use std::sync::Arc;
    use std::time::Duration;
    let at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let triggers: Vec<Arc<dyn Trigger>> = vec![
        Arc::new(CronTrigger::crontab("30 4 * * 1-5").unwrap()),
        Arc::new(DateTrigger::new(at)),
        Arc::new(IntervalTrigger::seconds(90).unwrap()),
        Arc::new(CalendarIntervalTrigger::months(1).unwrap()),
        Arc::new(
            RandomIntervalTrigger::new(Duration::from_secs(10), Duration::from_secs(20)).unwrap(),
        ),
        every(3).days().at("09:30").build_arc().unwrap(),
        Arc::new(
            AndTrigger::new(vec![
                Arc::new(IntervalTrigger::seconds(60).unwrap()),
                Arc::new(CronTrigger::crontab("* 9-17 * * *").unwrap()),
            ])
            .unwrap(),
        ),
        Arc::new(
            OrTrigger::new(vec![
                Arc::new(DateTrigger::new(at)),
                Arc::new(CronTrigger::crontab("0 0 1 * *").unwrap()),
            ])
            .unwrap(),
        ),
    ];
    triggers.iter().map(|t| t.to_spec().unwrap()).collect()
}
