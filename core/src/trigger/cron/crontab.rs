//! Parser for crontab strings.
//!
//! Accepted forms (fields separated by whitespace):
//! - 5 fields: `minute hour day-of-month month day-of-week` (seconds = 0)
//! - 6 fields: `second minute hour day-of-month month day-of-week`
//! - 7 fields: `second minute hour day-of-month month day-of-week year`
//!   (year 1970-9999)
//! - macros `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`,
//!   `@hourly` (case-insensitive).
//!
//! Day-of-week: 0 and 7 = Sunday, 1 = Monday … 6 = Saturday, or names
//! `sun`..`sat`; months 1-12 or `jan`..`dec` (names case-insensitive, usable in
//! ranges). `?` means `*`. Ranges never wrap (`fri-mon` is an error).
//!
//! Extensions: day-of-month `L`, `LW`, `nW`; day-of-week `nL` (last weekday n of
//! the month) and `n#k` (k-th weekday n of the month, k = 1-5).
//!
//! Vixie/cronie day rule: when the day-of-month or the day-of-week field starts
//! with `*` (or `?`), the two fields are ANDed; otherwise a day matches when
//! EITHER matches.

use super::error::CronError;
use super::field::{
    is_lone_star, parse_bits, parse_item, parse_value, parse_years, range_bits, split_list,
    DayCombine, DayRule, DaySet, FieldSpec, YearSet, MAX_YEAR, MIN_YEAR, MONTH_NAMES,
};
use super::schedule::CronSchedule;

const SECOND: FieldSpec = FieldSpec {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
    names_help: "no names; numbers 0-59",
    question_is_star: true,
};
const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    names_help: "no names; numbers 0-59",
    question_is_star: true,
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_help: "no names; numbers 0-23",
    question_is_star: true,
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    names_help: "numbers 1-31, L, LW, nW",
    question_is_star: true,
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: MONTH_NAMES,
    names_help: "jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec",
    question_is_star: true,
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
    names_help: "sun, mon, tue, wed, thu, fri, sat",
    question_is_star: true,
};
const YEAR: FieldSpec = FieldSpec {
    name: "year",
    min: MIN_YEAR,
    max: MAX_YEAR,
    names: &[],
    names_help: "no names; numbers 1970-9999",
    question_is_star: true,
};
const NTH: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 1,
    max: 5,
    names: &[],
    names_help: "no names; occurrence 1-5 after #",
    question_is_star: false,
};

/// Expand an `@macro` into its 5-field form.
fn expand_macro(text: &str) -> Result<&'static str, CronError> {
    match text.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        "@monthly" => Ok("0 0 1 * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@hourly" => Ok("0 * * * *"),
        _ => Err(CronError::UnknownMacro(text.to_string())),
    }
}

fn starts_with_star(field: &str) -> bool {
    field.starts_with('*') || field.starts_with('?')
}

/// Parse a crontab string into a schedule.
pub(crate) fn parse(expr: &str) -> Result<CronSchedule, CronError> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err(CronError::Empty);
    }
    let text = if trimmed.starts_with('@') {
        expand_macro(trimmed)?
    } else {
        trimmed
    };
    // Up to seven fields, without collecting them into a vector.
    let mut fields = [""; 7];
    let mut found = 0;
    for field in text.split_whitespace() {
        if let Some(place) = fields.get_mut(found) {
            *place = field;
        }
        found += 1;
    }
    // More than seven matches no arm below (an empty slice).
    let f = fields.get(..found).unwrap_or(&[]);
    let (sec, min, hour, dom, mon, dow, year) = match f {
        [mi, h, dm, mo, dw] => ("0", *mi, *h, *dm, *mo, *dw, None),
        [s, mi, h, dm, mo, dw] => (*s, *mi, *h, *dm, *mo, *dw, None),
        [s, mi, h, dm, mo, dw, y] => (*s, *mi, *h, *dm, *mo, *dw, Some(*y)),
        _ => {
            return Err(CronError::FieldCount {
                found,
                expr: trimmed.to_string(),
            })
        }
    };
    let seconds = parse_bits(&SECOND, sec)?;
    let minutes = parse_bits(&MINUTE, min)?;
    let hours = parse_bits(&HOUR, hour)?;
    let dom_set = parse_dom(dom)?;
    let months = parse_bits(&MONTH, mon)?;
    let dow_set = parse_dow(dow)?;
    let years = match year {
        Some(y) => parse_years(&YEAR, y)?,
        None => YearSet::All,
    };
    let combine = if starts_with_star(dom) || starts_with_star(dow) {
        DayCombine::And
    } else {
        DayCombine::Or
    };
    let days = DayRule {
        dom: dom_set,
        dow: dow_set,
        combine,
        weeks: None,
    };
    let wildcard = starts_with_star(min) || starts_with_star(hour);
    Ok(CronSchedule::from_parts(
        seconds, minutes, hours, days, months, years, wildcard,
    ))
}

/// Parse the day-of-month field (numbers, ranges, steps, `L`, `LW`, `nW`).
fn parse_dom(text: &str) -> Result<DaySet, CronError> {
    let mut set = DaySet::default();
    if is_lone_star(&DAY_OF_MONTH, text) {
        set.days = range_bits(DAY_OF_MONTH.min, DAY_OF_MONTH.max, 1);
        return Ok(set);
    }
    for item in split_list(DAY_OF_MONTH.name, text)? {
        if item.eq_ignore_ascii_case("L") {
            set.last_day = true;
        } else if item.eq_ignore_ascii_case("LW") {
            set.last_weekday = true;
        } else if let Some(n) = item.strip_suffix(['W', 'w']) {
            let day = parse_value(&DAY_OF_MONTH, n).map_err(|e| match e {
                CronError::OutOfRange { .. } => e,
                _ => CronError::Invalid {
                    field: DAY_OF_MONTH.name,
                    text: item.to_string(),
                    allowed: "nW with n a day number 1-31, e.g. 15W",
                },
            })?;
            set.nearest_weekday |= 1u64 << day;
        } else {
            let it = parse_item(&DAY_OF_MONTH, item)?;
            set.days |= range_bits(it.start, it.end, it.step);
        }
    }
    Ok(set)
}

/// Parse the day-of-week field (numbers 0-7, names, ranges, steps, `nL`, `n#k`).
fn parse_dow(text: &str) -> Result<DaySet, CronError> {
    let mut set = DaySet::default();
    if is_lone_star(&DAY_OF_WEEK, text) {
        set.weekdays = 0x7f;
        return Ok(set);
    }
    for item in split_list(DAY_OF_WEEK.name, text)? {
        if let Some((day, nth)) = item.split_once('#') {
            let wd = parse_value(&DAY_OF_WEEK, day)? % 7;
            let k = parse_value(&NTH, nth)?;
            if let Some(slot) = set.nth_weekday.get_mut((k - 1) as usize) {
                *slot |= 1u8 << wd;
            }
        } else if let Some(day) = item.strip_suffix(['L', 'l']).filter(|d| !d.is_empty()) {
            let wd = parse_value(&DAY_OF_WEEK, day)? % 7;
            set.last_of_weekday |= 1u8 << wd;
        } else {
            let it = parse_item(&DAY_OF_WEEK, item)?;
            let bits = range_bits(it.start, it.end, it.step);
            // 7 is Sunday too.
            let folded = (bits & 0x7f) | ((bits >> 7) & 1);
            set.weekdays |= folded as u8;
        }
    }
    Ok(set)
}
