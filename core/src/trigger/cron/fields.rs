//! Parser for APScheduler-style keyword fields ([`CronFields`]).

use super::error::CronError;
use super::field::{
    parse_bits, parse_item, parse_years, range_bits, split_list, DayCombine, DayRule, DaySet,
    FieldSpec, MAX_YEAR, MIN_YEAR, MONTH_NAMES,
};
use super::schedule::CronSchedule;

/// APScheduler-style cron fields; `None` means "not given".
///
/// Ranges: `year` 1970-9999 (4 digits), `month` 1-12 or `jan`..`dec`, `day`
/// 1-31, `week` ISO week 1-53, `day_of_week` 0-6 with **0 = Monday** … 6 =
/// Sunday or `mon`..`sun`, `hour` 0-23, `minute` 0-59, `second` 0-59.
///
/// Expressions (comma lists of any): `*`, `*/a`, `a`, `a-b`, `a-b/c`, `a/c`
/// (= `a`-max every `c`), names and name ranges (`mon-fri`, `jan-mar`); in
/// `day` also `last` (last day of the month), `1st fri` … `5th fri` (n-th
/// occurrence of a weekday in the month; `5th` fires only in months that have
/// one) and `last fri` (last occurrence). Names are case-insensitive. Ranges
/// never wrap.
///
/// Defaulting (as APScheduler): in significance order year, month, day, week,
/// day_of_week, hour, minute, second, every field more significant than the
/// least significant given field defaults to `*`; less significant ones
/// default to their minimum (month 1, day 1, hour/minute/second 0), except
/// `week` and `day_of_week`, which always default to `*`. With nothing given
/// every field is `*` (fires every second). All fields must match (AND; no
/// Vixie day-of-month/day-of-week OR rule).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronFields {
    /// 4-digit year (1970-9999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    /// Month 1-12 or `jan`..`dec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// Day of month 1-31, `last`, `xth y`, `last y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// ISO week 1-53.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week: Option<String>,
    /// Weekday 0-6 (0 = Monday) or `mon`..`sun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<String>,
    /// Hour 0-23.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<String>,
    /// Minute 0-59.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<String>,
    /// Second 0-59.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<String>,
}

const fn spec(
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
    names_help: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        min,
        max,
        names,
        names_help,
        question_is_star: false,
    }
}

const YEAR: FieldSpec = spec("year", MIN_YEAR, MAX_YEAR, &[], "no names; years 1970-9999");
const MONTH: FieldSpec = spec(
    "month",
    1,
    12,
    MONTH_NAMES,
    "jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec",
);
const DAY: FieldSpec = spec(
    "day",
    1,
    31,
    &[],
    "numbers 1-31, last, 1st..5th <weekday>, last <weekday>",
);
const WEEK: FieldSpec = spec("week", 1, 53, &[], "no names; ISO weeks 1-53");
const WEEKDAY_NAMES: &[(&str, u32)] = &[
    ("mon", 0),
    ("tue", 1),
    ("wed", 2),
    ("thu", 3),
    ("fri", 4),
    ("sat", 5),
    ("sun", 6),
];
const DAY_OF_WEEK: FieldSpec = spec(
    "day_of_week",
    0,
    6,
    WEEKDAY_NAMES,
    "mon, tue, wed, thu, fri, sat, sun",
);
const HOUR: FieldSpec = spec("hour", 0, 23, &[], "no names; numbers 0-23");
const MINUTE: FieldSpec = spec("minute", 0, 59, &[], "no names; numbers 0-59");
const SECOND: FieldSpec = spec("second", 0, 59, &[], "no names; numbers 0-59");

/// Effective expressions after applying APScheduler's defaulting rule, in the
/// order year, month, day, week, day_of_week, hour, minute, second.
fn effective(fields: &CronFields) -> [String; 8] {
    let given: [&Option<String>; 8] = [
        &fields.year,
        &fields.month,
        &fields.day,
        &fields.week,
        &fields.day_of_week,
        &fields.hour,
        &fields.minute,
        &fields.second,
    ];
    let defaults = ["*", "1", "1", "*", "*", "0", "0", "0"];
    let last_given = given.iter().rposition(|g| g.is_some());
    let mut out: [String; 8] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = match (given[i], last_given) {
            (Some(text), _) => text.trim().to_string(),
            (None, Some(last)) if i > last => defaults[i].to_string(),
            _ => "*".to_string(),
        };
    }
    out
}

/// Parse APScheduler-style fields into a schedule.
pub(crate) fn parse(fields: &CronFields) -> Result<CronSchedule, CronError> {
    let [year, month, day, week, dow, hour, minute, second] = effective(fields);
    let years = parse_years(&YEAR, &year)?;
    let months = parse_bits(&MONTH, &month)?;
    let dom = parse_day(&day)?;
    let week_bits = parse_bits(&WEEK, &week)?;
    let weeks = (week_bits != range_bits(1, 53, 1)).then_some(week_bits);
    let dow_bits = parse_bits(&DAY_OF_WEEK, &dow)?;
    // 0 = Monday here; internally 0 = Sunday.
    let weekdays = ((dow_bits << 1) & 0x7e) | ((dow_bits >> 6) & 1);
    let dow_set = DaySet {
        weekdays: weekdays as u8,
        ..DaySet::default()
    };
    let hours = parse_bits(&HOUR, &hour)?;
    let minutes = parse_bits(&MINUTE, &minute)?;
    let seconds = parse_bits(&SECOND, &second)?;
    let wildcard = minute.starts_with('*') || hour.starts_with('*');
    let days = DayRule {
        dom,
        dow: dow_set,
        combine: DayCombine::And,
        weeks,
    };
    Ok(CronSchedule::from_parts(
        seconds, minutes, hours, days, months, years, wildcard,
    ))
}

/// Parse the `day` field: numbers/ranges/steps, `last`, `xth y`, `last y`.
fn parse_day(text: &str) -> Result<DaySet, CronError> {
    let mut set = DaySet::default();
    for raw in split_list(DAY.name, text)? {
        let item = raw.trim();
        let lower = item.to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("last"), None, _) => set.last_day = true,
            (Some(ordinal), Some(weekday), None) => {
                let wd = WEEKDAY_NAMES
                    .iter()
                    .find(|(n, _)| *n == weekday)
                    .map(|(_, v)| (v + 1) % 7)
                    .ok_or_else(|| CronError::UnknownName {
                        field: DAY.name,
                        text: item.to_string(),
                        allowed: "1st, 2nd, 3rd, 4th, 5th or last followed by mon..sun",
                    })?;
                let bit = 1u8 << wd;
                match ordinal {
                    "1st" => set.nth_weekday[0] |= bit,
                    "2nd" => set.nth_weekday[1] |= bit,
                    "3rd" => set.nth_weekday[2] |= bit,
                    "4th" => set.nth_weekday[3] |= bit,
                    "5th" => set.nth_weekday[4] |= bit,
                    "last" => set.last_of_weekday |= bit,
                    _ => {
                        return Err(CronError::Invalid {
                            field: DAY.name,
                            text: item.to_string(),
                            allowed: "1st, 2nd, 3rd, 4th, 5th or last followed by mon..sun",
                        })
                    }
                }
            }
            _ => {
                let it = parse_item(&DAY, item)?;
                set.days |= range_bits(it.start, it.end, it.step);
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(day: Option<&str>, hour: Option<&str>, minute: Option<&str>) -> CronFields {
        CronFields {
            day: day.map(String::from),
            hour: hour.map(String::from),
            minute: minute.map(String::from),
            ..CronFields::default()
        }
    }

    #[test]
    fn defaulting_rule() {
        let e = effective(&f(Some("1"), None, Some("20")));
        assert_eq!(e, ["*", "*", "1", "*", "*", "*", "20", "0"]);
        let e = effective(&f(None, Some("2"), None));
        assert_eq!(e, ["*", "*", "*", "*", "*", "2", "0", "0"]);
        let e = effective(&CronFields::default());
        assert_eq!(e, ["*", "*", "*", "*", "*", "*", "*", "*"]);
        let e = effective(&CronFields {
            month: Some("6".into()),
            ..CronFields::default()
        });
        assert_eq!(e, ["*", "6", "1", "*", "*", "0", "0", "0"]);
    }
}
