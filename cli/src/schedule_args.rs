//! Turning schedule options (`--cron`, `--field`, `--interval`, `--at`,
//! `--calendar`, `--tz`, `--start-date`, `--end-date`) into a trigger.

use std::sync::Arc;

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::Tz;
use chime::trigger::{CronFields, CronTrigger, DateTrigger, IntervalTrigger, Trigger};
use chime::Error;

use crate::args::ScheduleArgs;
use crate::time_arg::{parse_time, parse_zone};

/// A trigger built from the command line, with the zone it was read in.
pub struct BuiltSchedule {
    pub trigger: Arc<dyn Trigger>,
    pub tz: Tz,
}

/// Builds the trigger the options describe. `reference` anchors an interval
/// without a start date (first fire = reference + interval) and a calendar
/// interval without one (its dates count from the reference's date).
pub fn build(
    args: &ScheduleArgs,
    reference: DateTime<Utc>,
    jitter: Option<std::time::Duration>,
) -> Result<BuiltSchedule, Error> {
    let tz = parse_zone(args.tz.as_deref().unwrap_or("UTC"))?;
    let given = [
        args.cron.is_some(),
        !args.fields.is_empty(),
        args.interval.is_some(),
        args.at.is_some(),
        args.calendar.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(Error::invalid(
            "give exactly one of --cron, --field, --interval, --at or --calendar",
        ));
    }
    let start = args
        .start_date
        .as_deref()
        .map(|t| parse_time("--start-date", t, tz))
        .transpose()?;
    let end = args
        .end_date
        .as_deref()
        .map(|t| parse_time("--end-date", t, tz))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            return Err(Error::invalid(format!(
                "--end-date: {} is before --start-date {}",
                e.to_rfc3339(),
                s.to_rfc3339()
            )));
        }
    }

    let trigger: Arc<dyn Trigger> = if let Some(expr) = &args.cron {
        let mut t = CronTrigger::crontab(expr)
            .map_err(|e| prefixed("--cron", e))?
            .timezone(tz);
        if let Some(s) = start {
            t = t.starting_at(s);
        }
        if let Some(e) = end {
            t = t.ending_at(e);
        }
        Arc::new(t)
    } else if !args.fields.is_empty() {
        let fields = parse_fields(&args.fields)?;
        let mut t = CronTrigger::from_fields(fields)
            .map_err(|e| prefixed("--field", e))?
            .timezone(tz);
        if let Some(s) = start {
            t = t.starting_at(s);
        }
        if let Some(e) = end {
            t = t.ending_at(e);
        }
        Arc::new(t)
    } else if let Some(text) = &args.interval {
        let every = chime::duration::parse(text).map_err(|e| prefixed("--interval", e))?;
        let mut t = IntervalTrigger::new(every).map_err(|e| prefixed("--interval", e))?;
        let anchor = match start {
            Some(s) => s,
            None => reference
                .checked_add_signed(chime::chrono::TimeDelta::from_std(every).unwrap_or_default())
                .ok_or_else(|| Error::invalid("--interval: too long"))?,
        };
        t = t.starting_at(anchor);
        if let Some(j) = jitter {
            t = t.with_jitter(j);
        }
        if let Some(e) = end {
            t = t.ending_at(e);
        }
        Arc::new(t)
    } else if let Some(text) = &args.at {
        let at = parse_time("--at", text, tz)?;
        if start.is_some_and(|s| at < s) || end.is_some_and(|e| at > e) {
            return Err(Error::invalid(
                "--at: the time is outside --start-date/--end-date",
            ));
        }
        Arc::new(DateTrigger::new(at))
    } else if let Some(spec) = &args.calendar {
        crate::calendar_arg::build(spec, tz, start.unwrap_or(reference), end, jitter)?
    } else {
        return Err(Error::invalid("no schedule given"));
    };
    Ok(BuiltSchedule { trigger, tz })
}

fn prefixed(option: &str, err: Error) -> Error {
    Error::invalid(format!("{option}: {}", err.message()))
}

/// Reads `NAME=EXPR` pairs into APScheduler cron fields.
fn parse_fields(pairs: &[String]) -> Result<CronFields, Error> {
    let mut fields = CronFields::default();
    for pair in pairs {
        let Some((name, expr)) = pair.split_once('=') else {
            return Err(Error::invalid(format!(
                "--field: '{pair}' is not NAME=EXPR (e.g. hour=9)"
            )));
        };
        let slot = match name.trim() {
            "year" => &mut fields.year,
            "month" => &mut fields.month,
            "day" => &mut fields.day,
            "week" => &mut fields.week,
            "day_of_week" => &mut fields.day_of_week,
            "hour" => &mut fields.hour,
            "minute" => &mut fields.minute,
            "second" => &mut fields.second,
            other => {
                return Err(Error::invalid(format!(
                    "--field: unknown field '{other}' (year, month, day, week, day_of_week, hour, minute, second)"
                )))
            }
        };
        if slot.is_some() {
            return Err(Error::invalid(format!(
                "--field: '{}' is given twice",
                name.trim()
            )));
        }
        *slot = Some(expr.trim().to_owned());
    }
    Ok(fields)
}
