//! `date`: fires once, at a given instant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Trigger, TriggerSpec};
use crate::error::Result;

/// Fires exactly once, at `run_date`.
///
/// Added with a run date already in the past, it never fires: the scheduler
/// refuses such a job with a clear error rather than dropping it silently.
///
/// ```
/// use chime_core::trigger::{DateTrigger, Trigger};
/// let at = "2026-05-01T09:00:00Z".parse().unwrap();
/// let trigger = DateTrigger::new(at);
/// assert_eq!(trigger.next_fire_time(None, at), Some(at));
/// assert_eq!(trigger.next_fire_time(Some(at), at), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTrigger {
    run_date: DateTime<Utc>,
}

impl DateTrigger {
    /// The kind name: `"date"`.
    pub const KIND: &'static str = "date";

    /// Fires once at `run_date`.
    pub fn new(run_date: DateTime<Utc>) -> Self {
        DateTrigger { run_date }
    }

    /// The instant it fires.
    pub fn run_date(&self) -> DateTime<Utc> {
        self.run_date
    }

    /// Decodes a stored spec.
    pub fn from_spec(spec: &TriggerSpec) -> Result<Self> {
        spec.decode(1)
    }
}

impl Trigger for DateTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match previous {
            None if self.run_date >= now => Some(self.run_date),
            _ => None,
        }
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        TriggerSpec::new(Self::KIND, self)
    }

    fn describe(&self) -> String {
        format!("once at {}", self.run_date.to_rfc3339())
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        Some(self.run_date)
    }
}
