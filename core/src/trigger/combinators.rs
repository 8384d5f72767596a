//! `and` / `or`: triggers combined from other triggers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{ResolveContext, Trigger, TriggerRegistry, TriggerSpec};
use crate::duration;
use crate::error::{Error, Result};

/// The stored form of both combinators.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    triggers: Vec<TriggerSpec>,
    #[serde(
        default,
        with = "duration::serde_text_opt",
        skip_serializing_if = "Option::is_none"
    )]
    jitter: Option<Duration>,
}

/// The last year a combination searches in.
const MAX_YEAR: i32 = 9999;

/// How children are asked: the earliest fire `>= from` (`None` as the
/// previous fire time, so a child's answer never depends on which child
/// fired last).
fn child_next(child: &dyn Trigger, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    child.next_fire_time(None, from)
}

/// The instant just after `t` (1 ns later): `>= after(t)` means `> t`.
fn after(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    t.checked_add_signed(TimeDelta::nanoseconds(1))
}

fn check_children(kind: &str, triggers: &[Arc<dyn Trigger>]) -> Result<()> {
    if triggers.is_empty() {
        return Err(Error::invalid(format!(
            "{kind}: needs at least one trigger (the list is empty)"
        )));
    }
    Ok(())
}

fn to_spec(
    kind: &str,
    triggers: &[Arc<dyn Trigger>],
    jitter: Option<Duration>,
) -> Result<TriggerSpec> {
    let triggers = triggers
        .iter()
        .map(|t| t.to_spec())
        .collect::<Result<Vec<_>>>()?;
    TriggerSpec::new(kind, &Stored { triggers, jitter })
}

/// Decoded children and jitter.
type Decoded = (Vec<Arc<dyn Trigger>>, Option<Duration>);

fn from_spec(spec: &TriggerSpec, registry: &TriggerRegistry) -> Result<Decoded> {
    let stored: Stored = spec.decode(1)?;
    let triggers = stored
        .triggers
        .iter()
        .map(|child| registry.decode(child))
        .collect::<Result<Vec<_>>>()?;
    check_children(spec.kind(), &triggers)?;
    Ok((triggers, stored.jitter))
}

fn resolve_children(
    triggers: &[Arc<dyn Trigger>],
    context: &ResolveContext,
) -> Option<Vec<Arc<dyn Trigger>>> {
    let mut changed = false;
    let resolved = triggers
        .iter()
        .map(|child| match child.resolve(context) {
            Some(r) => {
                changed = true;
                Arc::from(r)
            }
            None => Arc::clone(child),
        })
        .collect();
    changed.then_some(resolved)
}

fn describe(triggers: &[Arc<dyn Trigger>], word: &str) -> String {
    triggers
        .iter()
        .map(|t| t.describe())
        .collect::<Vec<_>>()
        .join(word)
}

/// Fires at the instants when *all* of its triggers fire.
///
/// The search asks every trigger for its next fire time at or after a
/// candidate instant and moves the candidate to the latest answer until all
/// agree. Triggers that never coincide would make that search endless
/// (APScheduler issue #361), so it gives up after
/// [`MAX_ITERATIONS`](Self::MAX_ITERATIONS) rounds (or past year 9999) and
/// reports that the trigger will not fire again.
///
/// Children are asked for "the earliest fire at or after t", so the
/// children should be anchored (the scheduler anchors them when the job is
/// added, see [`Trigger::resolve`]). A random-interval child makes little
/// sense here. The children's own jitter is ignored; the combination has its
/// own. Stored as `{"kind": "and", "triggers": [spec, spec, …]}`.
///
/// ```
/// use std::sync::Arc;
/// use chime_core::trigger::{AndTrigger, CronTrigger, IntervalTrigger, Trigger};
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// // Every 10 minutes from midnight, but only during the 09:xx hour.
/// let every_10m = IntervalTrigger::seconds(600).unwrap().starting_at(start);
/// let nine_oclock_hour = CronTrigger::crontab("* 9 * * *").unwrap();
/// let both = AndTrigger::new(vec![Arc::new(every_10m), Arc::new(nine_oclock_hour)]).unwrap();
/// let first = both.next_fire_time(None, start).unwrap();
/// assert_eq!(first, "2026-01-01T09:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// let second = both.next_fire_time(Some(first), first).unwrap();
/// assert_eq!(second, "2026-01-01T09:10:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct AndTrigger {
    triggers: Vec<Arc<dyn Trigger>>,
    jitter: Option<Duration>,
}

impl AndTrigger {
    /// The kind name: `"and"`.
    pub const KIND: &'static str = "and";

    /// The most rounds the coincidence search runs before giving up.
    pub const MAX_ITERATIONS: u32 = 100_000;

    /// Combines `triggers`; an empty list is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn new(triggers: Vec<Arc<dyn Trigger>>) -> Result<Self> {
        check_children(Self::KIND, &triggers)?;
        Ok(AndTrigger {
            triggers,
            jitter: None,
        })
    }

    /// Delays each fire by a random amount in `[0, jitter]`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// The combined triggers.
    pub fn triggers(&self) -> &[Arc<dyn Trigger>] {
        &self.triggers
    }

    /// Decodes a stored spec, decoding the children with `registry`.
    pub fn from_spec(spec: &TriggerSpec, registry: &TriggerRegistry) -> Result<Self> {
        let (triggers, jitter) = from_spec(spec, registry)?;
        Ok(AndTrigger { triggers, jitter })
    }

    /// The first instant `>= from` at which every child fires.
    fn first_common(&self, mut from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        for _ in 0..Self::MAX_ITERATIONS {
            if from.year() > MAX_YEAR {
                return None;
            }
            let mut earliest: Option<DateTime<Utc>> = None;
            let mut latest: Option<DateTime<Utc>> = None;
            for child in &self.triggers {
                let next = child_next(child.as_ref(), from)?;
                earliest = Some(earliest.map_or(next, |e| e.min(next)));
                latest = Some(latest.map_or(next, |l| l.max(next)));
            }
            let (earliest, latest) = (earliest?, latest?);
            if earliest == latest {
                return Some(latest);
            }
            from = latest;
        }
        None
    }
}

impl Trigger for AndTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let from = match previous {
            Some(prev) => after(prev)?,
            None => now,
        };
        self.first_common(from)
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        to_spec(Self::KIND, &self.triggers, self.jitter)
    }

    fn describe(&self) -> String {
        describe(&self.triggers, " and ")
    }

    fn jitter(&self) -> Option<Duration> {
        self.jitter
    }

    /// The earliest of the children's end dates: none fires after it.
    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.triggers.iter().filter_map(|t| t.end_date()).min()
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        let triggers = resolve_children(&self.triggers, context)?;
        Some(Box::new(AndTrigger {
            triggers,
            jitter: self.jitter,
        }))
    }
}

/// Fires whenever *any* of its triggers fires: the earliest of the
/// children's next fire times. Instants where several children fire at once
/// fire once.
///
/// Children are asked for "the earliest fire at or after t" (just after the
/// previous fire, whichever child produced it), so the children should be
/// anchored (the scheduler anchors them when the job is added, see
/// [`Trigger::resolve`]). The children's own jitter is ignored; the
/// combination has its own. Stored as `{"kind": "or", "triggers": [spec,
/// spec, …]}`.
///
/// ```
/// use std::sync::Arc;
/// use chime_core::trigger::{CronTrigger, OrTrigger, Trigger};
/// // 09:00 on weekdays, 11:00 at weekends.
/// let weekdays = CronTrigger::crontab("0 9 * * mon-fri").unwrap();
/// let weekends = CronTrigger::crontab("0 11 * * sat,sun").unwrap();
/// let either = OrTrigger::new(vec![Arc::new(weekdays), Arc::new(weekends)]).unwrap();
/// // Friday 2026-01-02 10:00 → Saturday 11:00.
/// let friday = "2026-01-02T10:00:00Z".parse().unwrap();
/// let next = either.next_fire_time(None, friday).unwrap();
/// assert_eq!(next, "2026-01-03T11:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct OrTrigger {
    triggers: Vec<Arc<dyn Trigger>>,
    jitter: Option<Duration>,
}

impl OrTrigger {
    /// The kind name: `"or"`.
    pub const KIND: &'static str = "or";

    /// Combines `triggers`; an empty list is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn new(triggers: Vec<Arc<dyn Trigger>>) -> Result<Self> {
        check_children(Self::KIND, &triggers)?;
        Ok(OrTrigger {
            triggers,
            jitter: None,
        })
    }

    /// Delays each fire by a random amount in `[0, jitter]`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// The combined triggers.
    pub fn triggers(&self) -> &[Arc<dyn Trigger>] {
        &self.triggers
    }

    /// Decodes a stored spec, decoding the children with `registry`.
    pub fn from_spec(spec: &TriggerSpec, registry: &TriggerRegistry) -> Result<Self> {
        let (triggers, jitter) = from_spec(spec, registry)?;
        Ok(OrTrigger { triggers, jitter })
    }
}

impl Trigger for OrTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let from = match previous {
            Some(prev) => after(prev)?,
            None => now,
        };
        self.triggers
            .iter()
            .filter_map(|child| child_next(child.as_ref(), from))
            .min()
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        to_spec(Self::KIND, &self.triggers, self.jitter)
    }

    fn describe(&self) -> String {
        describe(&self.triggers, " or ")
    }

    fn jitter(&self) -> Option<Duration> {
        self.jitter
    }

    /// The latest of the children's end dates, if every child has one.
    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.triggers
            .iter()
            .map(|t| t.end_date())
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        let triggers = resolve_children(&self.triggers, context)?;
        Some(Box::new(OrTrigger {
            triggers,
            jitter: self.jitter,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{DateTrigger, IntervalTrigger};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn every(secs: u64, start: &str) -> Arc<dyn Trigger> {
        Arc::new(
            IntervalTrigger::seconds(secs)
                .unwrap()
                .starting_at(t(start)),
        )
    }

    #[test]
    fn empty_lists_are_refused() {
        let err = AndTrigger::new(vec![]).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(OrTrigger::new(vec![]).is_err());
    }

    #[test]
    fn and_finds_the_common_multiple() {
        // Every 6 s and every 10 s from the same start: every 30 s.
        let and = AndTrigger::new(vec![
            every(6, "2026-01-01T00:00:00Z"),
            every(10, "2026-01-01T00:00:00Z"),
        ])
        .unwrap();
        let now = t("2026-01-01T00:00:01Z");
        let first = and.next_fire_time(None, now).unwrap();
        assert_eq!(first, t("2026-01-01T00:00:30Z"));
        assert_eq!(
            and.next_fire_time(Some(first), now),
            Some(t("2026-01-01T00:01:00Z"))
        );
    }

    #[test]
    fn and_gives_up_on_triggers_that_never_coincide() {
        let and = AndTrigger::new(vec![
            every(2, "2026-01-01T00:00:00Z"),
            every(2, "2026-01-01T00:00:01Z"),
        ])
        .unwrap();
        assert_eq!(and.next_fire_time(None, t("2026-01-01T00:00:00Z")), None);
    }

    #[test]
    fn or_takes_the_earliest_and_is_strictly_after_previous() {
        let or = OrTrigger::new(vec![
            every(10, "2026-01-01T00:00:00Z"),
            every(15, "2026-01-01T00:00:00Z"),
            Arc::new(DateTrigger::new(t("2026-01-01T00:00:12Z"))),
        ])
        .unwrap();
        let mut prev = None;
        let mut fires = vec![];
        let now = t("2026-01-01T00:00:00Z");
        for _ in 0..6 {
            let next = or.next_fire_time(prev, now).unwrap();
            fires.push(next);
            prev = Some(next);
        }
        let secs: Vec<i64> = fires.iter().map(|f| (*f - now).num_seconds()).collect();
        assert_eq!(secs, vec![0, 10, 12, 15, 20, 30]);
    }

    #[test]
    fn end_dates_combine() {
        let ending = |end: &str| -> Arc<dyn Trigger> {
            Arc::new(IntervalTrigger::seconds(1).unwrap().ending_at(t(end)))
        };
        let open: Arc<dyn Trigger> = Arc::new(IntervalTrigger::seconds(1).unwrap());
        let both = vec![
            ending("2026-01-02T00:00:00Z"),
            ending("2026-01-03T00:00:00Z"),
        ];
        assert_eq!(
            AndTrigger::new(both.clone()).unwrap().end_date(),
            Some(t("2026-01-02T00:00:00Z"))
        );
        assert_eq!(
            OrTrigger::new(both.clone()).unwrap().end_date(),
            Some(t("2026-01-03T00:00:00Z"))
        );
        let mixed = vec![both[0].clone(), open];
        assert_eq!(
            AndTrigger::new(mixed.clone()).unwrap().end_date(),
            Some(t("2026-01-02T00:00:00Z"))
        );
        assert_eq!(OrTrigger::new(mixed).unwrap().end_date(), None);
    }
}
