//! [`CronTrigger`]: a cron schedule plus time zone, bounds and jitter.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CronFields, CronSchedule};
use crate::duration;
use crate::error::{Error, ErrorKind, Result};
use crate::trigger::{ResolveContext, Trigger, TriggerSpec};

/// How the schedule was written, kept so the stored spec reads as the user
/// wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expression {
    Crontab(String),
    Fields(CronFields),
}

/// The stored form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    #[serde(flatten)]
    expression: Expression,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<chrono_tz::Tz>,
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

/// Fires when a cron schedule matches, in its time zone (the scheduler's
/// when none is given; UTC outside a scheduler), between the inclusive
/// `start_date` and `end_date`.
///
/// Stored as `{"kind": "cron", "crontab": "30 2 * * *", "timezone":
/// "Europe/Helsinki"}` or `{"kind": "cron", "fields": {"hour": "2",
/// "minute": "30"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CronTrigger {
    schedule: CronSchedule,
    stored: StoredEq,
}

/// `Stored` with equality (CronFields has it; chrono-tz has it).
#[derive(Debug, Clone)]
struct StoredEq(Stored);

impl PartialEq for StoredEq {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        a.expression == b.expression
            && a.timezone == b.timezone
            && a.start_date == b.start_date
            && a.end_date == b.end_date
            && a.jitter == b.jitter
    }
}

fn cron_error(err: super::CronError) -> Error {
    Error::new(ErrorKind::InvalidInput, err.to_string())
}

impl CronTrigger {
    /// The kind name: `"cron"`.
    pub const KIND: &'static str = "cron";

    /// From a crontab string (`"30 2 * * *"`, `"0 0 L * *"`, `"@daily"`).
    pub fn crontab(expression: &str) -> Result<Self> {
        let schedule = CronSchedule::parse_crontab(expression).map_err(cron_error)?;
        Ok(CronTrigger::with(
            schedule,
            Expression::Crontab(expression.trim().to_owned()),
        ))
    }

    /// From APScheduler keyword fields.
    pub fn from_fields(fields: CronFields) -> Result<Self> {
        let schedule = CronSchedule::from_fields(&fields).map_err(cron_error)?;
        Ok(CronTrigger::with(schedule, Expression::Fields(fields)))
    }

    fn with(schedule: CronSchedule, expression: Expression) -> Self {
        CronTrigger {
            schedule,
            stored: StoredEq(Stored {
                expression,
                timezone: None,
                start_date: None,
                end_date: None,
                jitter: None,
            }),
        }
    }

    /// Evaluates the schedule in `timezone`.
    pub fn timezone(mut self, timezone: chrono_tz::Tz) -> Self {
        self.stored.0.timezone = Some(timezone);
        self
    }

    /// Never fires before `start` (inclusive).
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.stored.0.start_date = Some(start);
        self
    }

    /// Never fires after `end` (inclusive).
    pub fn ending_at(mut self, end: DateTime<Utc>) -> Self {
        self.stored.0.end_date = Some(end);
        self
    }

    /// Delays each fire by a random amount in `[0, jitter]`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.stored.0.jitter = Some(jitter);
        self
    }

    /// The parsed schedule.
    pub fn schedule(&self) -> &CronSchedule {
        &self.schedule
    }

    /// The time zone, if one was set.
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.stored.0.timezone
    }

    /// Decodes a stored spec.
    pub fn from_spec(spec: &TriggerSpec) -> Result<Self> {
        let stored: Stored = spec.decode(1)?;
        let schedule = match &stored.expression {
            Expression::Crontab(text) => CronSchedule::parse_crontab(text),
            Expression::Fields(fields) => CronSchedule::from_fields(fields),
        }
        .map_err(|e| {
            Error::new(
                ErrorKind::UnknownTrigger,
                format!("invalid 'cron' trigger: {e}"),
            )
        })?;
        Ok(CronTrigger {
            schedule,
            stored: StoredEq(stored),
        })
    }

    fn tz(&self) -> chrono_tz::Tz {
        self.stored.0.timezone.unwrap_or(chrono_tz::UTC)
    }
}

impl Trigger for CronTrigger {
    fn kind(&self) -> &str {
        Self::KIND
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let tz = self.tz();
        let start = self.stored.0.start_date;
        let next = match previous {
            None => {
                let from = start.map_or(now, |s| s.max(now));
                self.schedule.next_at_or_after(from, tz)?
            }
            Some(prev) => {
                let next = self.schedule.next_after(prev, tz)?;
                match start {
                    Some(s) if next < s => self.schedule.next_at_or_after(s, tz)?,
                    _ => next,
                }
            }
        };
        match self.stored.0.end_date {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        TriggerSpec::new(Self::KIND, &self.stored.0)
    }

    fn describe(&self) -> String {
        let mut text = self.schedule.describe();
        if let Some(tz) = self.stored.0.timezone {
            text.push_str(", ");
            text.push_str(tz.name());
        }
        text
    }

    fn jitter(&self) -> Option<Duration> {
        self.stored.0.jitter
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.stored.0.end_date
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        if self.stored.0.timezone.is_some() {
            return None;
        }
        Some(Box::new(self.clone().timezone(context.timezone)))
    }
}
