//! A fluent builder in the style of Python's `schedule` library:
//! `every(10).seconds()`, `every(1).day().at("17:49")`,
//! `every(1).monday().at("09:00")`, `every(5).to(10).seconds()`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::{
    CalendarIntervalTrigger, CronFields, CronTrigger, IntervalTrigger, RandomIntervalTrigger,
    ResolveContext, Trigger, TriggerSpec,
};
use crate::error::{Error, Result};

/// Starts a schedule that repeats every `count` units; finish it with a unit
/// (`.seconds()`, `.day()`, `.monday()`, …), optional refinements, and
/// [`build`](Every::build).
///
/// Python's `every()` without a count is `every(1)` here.
///
/// ```
/// use chime_core::trigger::{every, Trigger};
/// let daily = every(1).day().at("17:49").tz(chime_core::chrono_tz::Europe::Paris).build().unwrap();
/// assert_eq!(daily.kind(), "calendar_interval");
/// assert_eq!(daily.describe(), "every day at 17:49, Europe/Paris");
/// let err = every(1).day().at("25:00").build().unwrap_err();
/// assert!(err.message().contains("25:00"));
/// ```
pub fn every(count: u32) -> Every {
    Every {
        count,
        upper: None,
        unit: None,
        unit_twice: None,
        at: None,
        until: None,
        starting: None,
        timezone: None,
    }
}

/// The unit of an [`Every`] schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Weekday(Weekday),
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
            Unit::Days => "days",
            Unit::Weeks => "weeks",
            Unit::Weekday(day) => match day {
                Weekday::Mon => "monday",
                Weekday::Tue => "tuesday",
                Weekday::Wed => "wednesday",
                Weekday::Thu => "thursday",
                Weekday::Fri => "friday",
                Weekday::Sat => "saturday",
                Weekday::Sun => "sunday",
            },
        }
    }

    fn seconds(self) -> u64 {
        match self {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            Unit::Hours => 3600,
            Unit::Days => 86_400,
            Unit::Weeks | Unit::Weekday(_) => 604_800,
        }
    }
}

/// A schedule under construction; see [`every`].
///
/// [`build`](Self::build) picks an ordinary trigger, so the result is stored
/// and persisted like any other:
///
/// | schedule | trigger |
/// |---|---|
/// | `every(n).seconds()` / `.minutes()` / `.hours()` / `.days()` / `.weeks()` | [`IntervalTrigger`] (absolute time, anchored when the job is added) |
/// | `every(n).days().at("HH:MM[:SS]")`, `every(n).weeks().at(…)` | [`CalendarIntervalTrigger`] (wall clock, DST-safe; counted from the day the job is added) |
/// | `every(1).monday()` … `.sunday()`, optionally `.at("HH:MM[:SS]")` (default midnight) | [`CronTrigger`] (`day_of_week`, `hour`, `minute`, `second`) |
/// | `every(1).hour().at("MM:SS")` or `.at(":MM")`; `every(1).minute().at(":SS")` | [`CronTrigger`]; with a count above 1 the hours/minutes step like cron's `*/n` (aligned to 00) |
/// | `every(a).to(b).seconds()` (any unit but weekdays, no `.at`) | [`RandomIntervalTrigger`] between `a` and `b` units |
///
/// Singular and plural unit names are interchangeable. `.until(t)` sets an
/// inclusive end date, `.starting(t)` a start date (the anchor of interval
/// and calendar schedules), `.tz(zone)` the zone of wall-clock times (the
/// scheduler's when not given; absolute intervals ignore it). Every mistake
/// (a zero count, no unit or two units, an `.at` text that does not fit the
/// unit, `.to` below the count) is an
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) error from `build`
/// quoting the offending text.
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the trigger"]
pub struct Every {
    count: u32,
    upper: Option<u32>,
    unit: Option<Unit>,
    unit_twice: Option<(Unit, Unit)>,
    at: Option<String>,
    until: Option<DateTime<Utc>>,
    starting: Option<DateTime<Utc>>,
    timezone: Option<Tz>,
}

macro_rules! unit_methods {
    ($($(#[$doc:meta])* $name:ident => $unit:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self) -> Self {
                self.unit($unit)
            }
        )*
    };
}

impl Every {
    fn unit(mut self, unit: Unit) -> Self {
        match self.unit {
            Some(first) if self.unit_twice.is_none() => self.unit_twice = Some((first, unit)),
            Some(_) => {}
            None => self.unit = Some(unit),
        }
        self
    }

    unit_methods! {
        /// Unit: seconds.
        seconds => Unit::Seconds;
        /// Unit: seconds (same as [`seconds`](Self::seconds)).
        second => Unit::Seconds;
        /// Unit: minutes.
        minutes => Unit::Minutes;
        /// Unit: minutes (same as [`minutes`](Self::minutes)).
        minute => Unit::Minutes;
        /// Unit: hours.
        hours => Unit::Hours;
        /// Unit: hours (same as [`hours`](Self::hours)).
        hour => Unit::Hours;
        /// Unit: days.
        days => Unit::Days;
        /// Unit: days (same as [`days`](Self::days)).
        day => Unit::Days;
        /// Unit: weeks.
        weeks => Unit::Weeks;
        /// Unit: weeks (same as [`weeks`](Self::weeks)).
        week => Unit::Weeks;
        /// Every Monday (the count must be 1).
        monday => Unit::Weekday(Weekday::Mon);
        /// Every Tuesday (the count must be 1).
        tuesday => Unit::Weekday(Weekday::Tue);
        /// Every Wednesday (the count must be 1).
        wednesday => Unit::Weekday(Weekday::Wed);
        /// Every Thursday (the count must be 1).
        thursday => Unit::Weekday(Weekday::Thu);
        /// Every Friday (the count must be 1).
        friday => Unit::Weekday(Weekday::Fri);
        /// Every Saturday (the count must be 1).
        saturday => Unit::Weekday(Weekday::Sat);
        /// Every Sunday (the count must be 1).
        sunday => Unit::Weekday(Weekday::Sun);
    }

    /// Makes the interval random: between the count and `upper` units,
    /// drawn anew for every fire.
    pub fn to(mut self, upper: u32) -> Self {
        self.upper = Some(upper);
        self
    }

    /// The time of day (`"HH:MM"` or `"HH:MM:SS"` for days, weeks and
    /// weekdays), minute of the hour (`"MM:SS"` or `":MM"` for hours) or
    /// second of the minute (`":SS"` for minutes).
    pub fn at(mut self, time: &str) -> Self {
        self.at = Some(time.to_owned());
        self
    }

    /// Never fires after `end` (inclusive).
    pub fn until(mut self, end: DateTime<Utc>) -> Self {
        self.until = Some(end);
        self
    }

    /// Never fires before `start` (inclusive); interval and calendar
    /// schedules count their periods from it.
    pub fn starting(mut self, start: DateTime<Utc>) -> Self {
        self.starting = Some(start);
        self
    }

    /// Evaluates wall-clock times (`.at`, weekdays) in `zone`.
    pub fn tz(mut self, zone: Tz) -> Self {
        self.timezone = Some(zone);
        self
    }

    /// Picks and builds the trigger; see the type documentation.
    pub fn build(self) -> Result<EveryTrigger> {
        let count = self.count;
        if count == 0 {
            return Err(Error::invalid("every(0): the count must be at least 1"));
        }
        if let Some((first, second)) = self.unit_twice {
            return Err(Error::invalid(format!(
                "every({count}): two units given, .{}() and .{}()",
                first.name(),
                second.name()
            )));
        }
        let Some(unit) = self.unit else {
            return Err(Error::invalid(format!(
                "every({count}): no unit given (call .seconds(), .minutes(), .hours(), \
                 .days(), .weeks() or a weekday such as .monday())"
            )));
        };
        if let Some(upper) = self.upper {
            return self.random(unit, upper).map(EveryTrigger::RandomInterval);
        }
        match (unit, self.at.as_deref()) {
            (Unit::Weekday(day), at) => self
                .weekday(day, at)
                .map(|c| EveryTrigger::Cron(Box::new(c))),
            (Unit::Seconds, Some(at)) => Err(Error::invalid(format!(
                "every({count}).seconds().at(\"{at}\"): .at() needs minutes, hours, days, \
                 weeks or a weekday"
            ))),
            (Unit::Minutes, Some(at)) => {
                let second = parse_second(at, count)?;
                let fields = CronFields {
                    minute: Some(step("*", count, 59, at, unit)?),
                    second: Some(second.to_string()),
                    ..CronFields::default()
                };
                self.cron(fields).map(|c| EveryTrigger::Cron(Box::new(c)))
            }
            (Unit::Hours, Some(at)) => {
                let (minute, second) = parse_minute_second(at, count)?;
                let fields = CronFields {
                    hour: Some(step("*", count, 23, at, unit)?),
                    minute: Some(minute.to_string()),
                    second: Some(second.to_string()),
                    ..CronFields::default()
                };
                self.cron(fields).map(|c| EveryTrigger::Cron(Box::new(c)))
            }
            (Unit::Days | Unit::Weeks, Some(at)) => {
                let (hour, minute, second) = parse_time_of_day(at, unit, count)?;
                let base = if unit == Unit::Days {
                    CalendarIntervalTrigger::days(count)
                } else {
                    CalendarIntervalTrigger::weeks(count)
                }?;
                let mut trigger = base.at(hour, minute, second)?;
                if let Some(zone) = self.timezone {
                    trigger = trigger.timezone(zone);
                }
                if let Some(start) = self.starting {
                    trigger = trigger.starting_at(start);
                }
                if let Some(end) = self.until {
                    trigger = trigger.ending_at(end);
                }
                Ok(EveryTrigger::CalendarInterval(trigger))
            }
            (_, None) => {
                let secs = u64::from(count) * unit.seconds();
                let mut trigger = IntervalTrigger::new(Duration::from_secs(secs))?;
                if let Some(start) = self.starting {
                    trigger = trigger.starting_at(start);
                }
                if let Some(end) = self.until {
                    trigger = trigger.ending_at(end);
                }
                Ok(EveryTrigger::Interval(trigger))
            }
        }
    }

    /// Like [`build`](Self::build), as a shared trait object.
    pub fn build_arc(self) -> Result<Arc<dyn Trigger>> {
        self.build().map(EveryTrigger::into_arc)
    }

    fn random(&self, unit: Unit, upper: u32) -> Result<RandomIntervalTrigger> {
        let count = self.count;
        let name = unit.name();
        if let Unit::Weekday(_) = unit {
            return Err(Error::invalid(format!(
                "every({count}).to({upper}).{name}(): a random interval needs seconds, \
                 minutes, hours, days or weeks"
            )));
        }
        if let Some(at) = &self.at {
            return Err(Error::invalid(format!(
                "every({count}).to({upper}).{name}().at(\"{at}\"): a random interval \
                 cannot have a fixed time"
            )));
        }
        if upper < count {
            return Err(Error::invalid(format!(
                "every({count}).to({upper}): the upper bound {upper} is smaller than {count}"
            )));
        }
        let min = Duration::from_secs(u64::from(count) * unit.seconds());
        let max = Duration::from_secs(u64::from(upper) * unit.seconds());
        let mut trigger = RandomIntervalTrigger::new(min, max)?;
        if let Some(start) = self.starting {
            trigger = trigger.starting_at(start);
        }
        if let Some(end) = self.until {
            trigger = trigger.ending_at(end);
        }
        Ok(trigger)
    }

    fn weekday(&self, day: Weekday, at: Option<&str>) -> Result<CronTrigger> {
        let count = self.count;
        let name = Unit::Weekday(day).name();
        if count != 1 {
            return Err(Error::invalid(format!(
                "every({count}).{name}(): weekday schedules repeat every week; use every(1)"
            )));
        }
        let (hour, minute, second) = match at {
            Some(at) => parse_time_of_day(at, Unit::Weekday(day), count)?,
            None => (0, 0, 0),
        };
        let short = &name[..3];
        let fields = CronFields {
            day_of_week: Some(short.to_owned()),
            hour: Some(hour.to_string()),
            minute: Some(minute.to_string()),
            second: Some(second.to_string()),
            ..CronFields::default()
        };
        self.cron(fields)
    }

    fn cron(&self, fields: CronFields) -> Result<CronTrigger> {
        let mut trigger = CronTrigger::from_fields(fields)?;
        if let Some(zone) = self.timezone {
            trigger = trigger.timezone(zone);
        }
        if let Some(start) = self.starting {
            trigger = trigger.starting_at(start);
        }
        if let Some(end) = self.until {
            trigger = trigger.ending_at(end);
        }
        Ok(trigger)
    }
}

/// `*` for a count of 1, `*/count` otherwise (at most `max`).
fn step(star: &str, count: u32, max: u32, at: &str, unit: Unit) -> Result<String> {
    if count == 1 {
        return Ok(star.to_owned());
    }
    if count > max {
        return Err(Error::invalid(format!(
            "every({count}).{}().at(\"{at}\"): with .at() the count must be at most {max}",
            unit.name()
        )));
    }
    Ok(format!("{star}/{count}"))
}

/// A number of 1 or 2 ASCII digits (exactly 2 when `two_digits`) in
/// `0..=max`.
fn number(text: &str, two_digits: bool, field: &str, max: u32, at: &str) -> Result<u32> {
    let digits_ok = text.bytes().all(|b| b.is_ascii_digit())
        && if two_digits {
            text.len() == 2
        } else {
            (1..=2).contains(&text.len())
        };
    if !digits_ok {
        return Err(Error::invalid(format!(
            "at(\"{at}\"): {field} '{text}' is not a {} number",
            if two_digits {
                "two-digit"
            } else {
                "1- or 2-digit"
            }
        )));
    }
    let value: u32 = text
        .parse()
        .map_err(|_| Error::invalid(format!("at(\"{at}\"): {field} '{text}' is not a number")))?;
    if value > max {
        return Err(Error::invalid(format!(
            "at(\"{at}\"): {field}: {value} is out of range 0-{max}"
        )));
    }
    Ok(value)
}

/// `HH:MM` or `HH:MM:SS`.
fn parse_time_of_day(at: &str, unit: Unit, count: u32) -> Result<(u32, u32, u32)> {
    let parts: Vec<&str> = at.trim().split(':').collect();
    match parts.as_slice() {
        [h, m] => Ok((
            number(h, false, "hour", 23, at)?,
            number(m, true, "minute", 59, at)?,
            0,
        )),
        [h, m, s] => Ok((
            number(h, false, "hour", 23, at)?,
            number(m, true, "minute", 59, at)?,
            number(s, true, "second", 59, at)?,
        )),
        _ => Err(Error::invalid(format!(
            "every({count}).{}().at(\"{at}\"): expected HH:MM or HH:MM:SS",
            unit.name()
        ))),
    }
}

/// `MM:SS` or `:MM`.
fn parse_minute_second(at: &str, count: u32) -> Result<(u32, u32)> {
    let parts: Vec<&str> = at.trim().split(':').collect();
    match parts.as_slice() {
        ["", m] => Ok((number(m, true, "minute", 59, at)?, 0)),
        [m, s] => Ok((
            number(m, true, "minute", 59, at)?,
            number(s, true, "second", 59, at)?,
        )),
        _ => Err(Error::invalid(format!(
            "every({count}).hours().at(\"{at}\"): expected MM:SS or :MM"
        ))),
    }
}

/// `:SS`.
fn parse_second(at: &str, count: u32) -> Result<u32> {
    match at.trim().split(':').collect::<Vec<_>>().as_slice() {
        ["", s] => number(s, true, "second", 59, at),
        _ => Err(Error::invalid(format!(
            "every({count}).minutes().at(\"{at}\"): expected :SS"
        ))),
    }
}

/// The trigger an [`Every`] schedule builds: one of the ordinary trigger
/// kinds, usable directly as a [`Trigger`] (it stores as the inner kind).
///
/// ```
/// use chime_core::trigger::{every, EveryTrigger, Trigger};
/// let t = every(10).seconds().build().unwrap();
/// assert!(matches!(t, EveryTrigger::Interval(_)));
/// assert_eq!(t.kind(), "interval");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EveryTrigger {
    /// Plain intervals.
    Interval(IntervalTrigger),
    /// Days or weeks at a wall-clock time.
    CalendarInterval(CalendarIntervalTrigger),
    /// Weekdays, and hours/minutes at a fixed minute/second.
    Cron(Box<CronTrigger>),
    /// `.to(…)`: random intervals.
    RandomInterval(RandomIntervalTrigger),
}

impl EveryTrigger {
    /// The trigger as a shared trait object.
    pub fn into_arc(self) -> Arc<dyn Trigger> {
        match self {
            EveryTrigger::Interval(t) => Arc::new(t),
            EveryTrigger::CalendarInterval(t) => Arc::new(t),
            EveryTrigger::Cron(t) => Arc::new(*t),
            EveryTrigger::RandomInterval(t) => Arc::new(t),
        }
    }

    fn inner(&self) -> &dyn Trigger {
        match self {
            EveryTrigger::Interval(t) => t,
            EveryTrigger::CalendarInterval(t) => t,
            EveryTrigger::Cron(t) => t.as_ref(),
            EveryTrigger::RandomInterval(t) => t,
        }
    }
}

impl From<EveryTrigger> for Arc<dyn Trigger> {
    fn from(trigger: EveryTrigger) -> Self {
        trigger.into_arc()
    }
}

impl Trigger for EveryTrigger {
    fn kind(&self) -> &str {
        self.inner().kind()
    }

    fn next_fire_time(
        &self,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.inner().next_fire_time(previous, now)
    }

    fn to_spec(&self) -> Result<TriggerSpec> {
        self.inner().to_spec()
    }

    fn describe(&self) -> String {
        self.inner().describe()
    }

    fn jitter(&self) -> Option<Duration> {
        self.inner().jitter()
    }

    fn end_date(&self) -> Option<DateTime<Utc>> {
        self.inner().end_date()
    }

    fn resolve(&self, context: &ResolveContext) -> Option<Box<dyn Trigger>> {
        self.inner().resolve(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn json(t: &EveryTrigger) -> serde_json::Value {
        serde_json::to_value(t.to_spec().unwrap()).unwrap()
    }

    #[test]
    fn at_texts_are_parsed_per_unit() {
        assert_eq!(parse_time_of_day("9:05", Unit::Days, 1).unwrap(), (9, 5, 0));
        assert_eq!(
            parse_time_of_day("10:30:15", Unit::Days, 1).unwrap(),
            (10, 30, 15)
        );
        assert_eq!(parse_minute_second(":07", 1).unwrap(), (7, 0));
        assert_eq!(parse_minute_second("07:30", 1).unwrap(), (7, 30));
        assert_eq!(parse_second(":42", 1).unwrap(), 42);
        for bad in [
            "",
            "9",
            "9:5",
            "123:00",
            "09:00:00:00",
            "-1:00",
            "+9:00",
            "٩:00",
            "9:60",
        ] {
            let err = parse_time_of_day(bad, Unit::Days, 1).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.message().contains(&format!("\"{bad}\"")), "{err}");
        }
        assert!(parse_minute_second("7:30", 1).is_err());
        assert!(parse_second("42", 1).is_err());
    }

    #[test]
    fn hours_and_minutes_at_become_cron() {
        let t = every(1).hour().at(":15").build().unwrap();
        assert_eq!(
            json(&t)["fields"],
            serde_json::json!({"hour": "*", "minute": "15", "second": "0"})
        );
        let t = every(2).minutes().at(":30").build().unwrap();
        assert_eq!(
            json(&t)["fields"],
            serde_json::json!({"minute": "*/2", "second": "30"})
        );
        assert!(every(90).minutes().at(":30").build().is_err());
    }

    #[test]
    fn unit_mistakes_are_errors() {
        assert!(every(0).seconds().build().is_err());
        assert!(every(1).build().is_err());
        let err = every(1).day().monday().build().unwrap_err();
        assert!(err.message().contains(".days() and .monday()"), "{err}");
        let err = every(2).monday().build().unwrap_err();
        assert!(err.message().contains("every(2).monday()"), "{err}");
        assert!(every(1).to(5).monday().build().is_err());
        assert!(every(1).to(5).days().at("10:00").build().is_err());
    }
}
