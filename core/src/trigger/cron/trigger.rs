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

/// The spec of a crontab trigger, written directly: the same text as
/// [`TriggerSpec::new`] writes (compact, keys in order), without building a
/// JSON map first. A bulk add spends a fifth of each job's time on that map
/// otherwise.
fn crontab_spec(text: &str, stored: &Stored) -> Result<TriggerSpec> {
    fn field<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) -> Result<()> {
        if out.len() > 1 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *out, value).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode a trigger spec").with_source(e)
        })
    }
    // Every field named, so a field added to `Stored` does not compile
    // until it is written here too.
    let Stored {
        expression: _,
        timezone,
        start_date,
        end_date,
        jitter,
    } = stored;
    thread_local! {
        /// The text is written here, then copied once into the spec's
        /// shared string: a bulk add writes one spec per job, and a fresh
        /// buffer per spec was an allocation (and a free) per job.
        static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let written = TEXT.try_with(|buffer| {
        // Not re-entered: nothing below writes another crontab spec.
        let mut out = buffer.try_borrow_mut().map_err(|_| {
            Error::new(
                ErrorKind::Internal,
                "a crontab spec is already being written",
            )
        })?;
        out.clear();
        out.push(b'{');
        // Keys in `str` order: crontab, end_date, jitter, kind, start_date, timezone.
        field(&mut out, "crontab", text)?;
        if let Some(end) = end_date {
            field(&mut out, "end_date", end)?;
        }
        if let Some(jitter) = jitter {
            field(&mut out, "jitter", &duration::format(*jitter))?;
        }
        field(&mut out, "kind", CronTrigger::KIND)?;
        if let Some(start) = start_date {
            field(&mut out, "start_date", start)?;
        }
        if let Some(zone) = timezone {
            field(&mut out, "timezone", zone)?;
        }
        out.push(b'}');
        let json = std::str::from_utf8(&out).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode a trigger spec").with_source(e)
        })?;
        Ok(TriggerSpec::from_canonical_text(CronTrigger::KIND, json))
    });
    // The buffer is gone only while the thread's locals are being dropped
    // (a job added from another local's destructor): say so, don't panic.
    written.unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Internal,
            "a crontab spec cannot be written while the thread is exiting",
        ))
    })
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
        match &self.stored.0.expression {
            Expression::Crontab(text) => crontab_spec(text, &self.stored.0),
            Expression::Fields(_) => TriggerSpec::new(Self::KIND, &self.stored.0),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Every combination of the optional fields, and texts that need
    /// escaping in JSON.
    fn crontab_triggers() -> Vec<CronTrigger> {
        let mut all = Vec::new();
        for text in ["30 2 * * *", "@daily", "0\t2 * * 1-5", "0 0 L * *"] {
            for mask in 0..16u8 {
                let mut trigger = CronTrigger::crontab(text).unwrap();
                if mask & 1 != 0 {
                    trigger = trigger.timezone(chrono_tz::Europe::Helsinki);
                }
                if mask & 2 != 0 {
                    trigger = trigger.starting_at(at("2026-03-29T00:00:00Z"));
                }
                if mask & 4 != 0 {
                    trigger = trigger.ending_at(at("2027-01-01T12:30:00.250Z"));
                }
                if mask & 8 != 0 {
                    trigger = trigger.with_jitter(Duration::from_millis(1500));
                }
                all.push(trigger);
            }
        }
        all
    }

    #[test]
    fn a_crontab_spec_is_the_text_the_generic_encoder_writes() {
        for trigger in crontab_triggers() {
            let direct = trigger.to_spec().unwrap();
            let generic = TriggerSpec::new(CronTrigger::KIND, &trigger.stored.0).unwrap();
            assert_eq!(direct.as_json(), generic.as_json());
            assert_eq!(direct.kind(), "cron");
            assert_eq!(direct.version(), 1);
            // And it reads back as the same trigger.
            assert_eq!(CronTrigger::from_spec(&direct).unwrap(), trigger);
        }
    }

    #[test]
    fn spec_keys_are_in_order_in_every_build() {
        let trigger = CronTrigger::crontab("30 2 * * *")
            .unwrap()
            .timezone(chrono_tz::UTC);
        assert_eq!(
            trigger.to_spec().unwrap().as_json(),
            r#"{"crontab":"30 2 * * *","kind":"cron","timezone":"UTC"}"#
        );
        let fields = CronFields {
            month: Some("1".into()),
            hour: Some("2".into()),
            ..CronFields::default()
        };
        let text = CronTrigger::from_fields(fields)
            .unwrap()
            .to_spec()
            .unwrap()
            .as_json()
            .to_owned();
        assert_eq!(text, r#"{"fields":{"hour":"2","month":"1"},"kind":"cron"}"#);
    }
}
