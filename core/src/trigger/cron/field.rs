//! Parsed value sets of single cron fields, plus the calendar helpers and the
//! shared item grammar (`*`, `*/s`, `a`, `a-b`, `a-b/s`, `a/s`) used by both
//! parsers.
//!
//! Second, minute, hour and month sets are `u64` bitsets (bit `v` set when
//! value `v` matches). Day matching is a [`DayRule`], which combines a
//! day-of-month part and a day-of-week part (each a [`DaySet`]) and an
//! optional ISO-week restriction, and can produce the bitset of matching days
//! of any given month without allocating.

use super::error::CronError;

/// Smallest year any schedule can fire in (year fields are checked against it).
pub(crate) const MIN_YEAR: u32 = 1970;
/// Largest year any schedule can fire in; the search gives up after it.
pub(crate) const MAX_YEAR: u32 = 9999;

/// Bits `v` for every value `v` in `start..=end` stepping by `step`
/// (values above 63 are left out).
pub(crate) fn range_bits(start: u32, end: u32, step: u32) -> u64 {
    if step <= 1 {
        // Contiguous: two shifts, not a loop (a crontab parse asks for the
        // days of 28 month shapes twice each).
        if start > end || start > 63 {
            return 0;
        }
        let upto = u64::MAX >> (63 - end.min(63));
        return upto & (u64::MAX << start);
    }
    let mut bits = 0u64;
    let mut v = start;
    while v <= end && v < 64 {
        bits |= 1u64 << v;
        v = match v.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    bits
}

/// Smallest set bit `>= from`, if any.
pub(crate) fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let masked = bits & (u64::MAX << from);
    if masked == 0 {
        None
    } else {
        Some(masked.trailing_zeros())
    }
}

/// Iterator over the set bits of a `u64`, lowest first.
pub(crate) fn bits_iter(mut bits: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        if bits == 0 {
            None
        } else {
            let b = bits.trailing_zeros();
            bits &= bits - 1;
            Some(b)
        }
    })
}

/// Gregorian leap year.
pub(crate) fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1-12) of `year`.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(year) {
                29
            } else {
                28
            }
        }
    }
}

/// Weekday of a date, 0 = Sunday … 6 = Saturday (proleptic Gregorian).
pub(crate) fn weekday(year: i32, month: u32, day: u32) -> u32 {
    // Howard Hinnant's days_from_civil.
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let m = i64::from(month);
    let d = i64::from(day);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // 1970-01-01 was a Thursday (4).
    (days + 4).rem_euclid(7) as u32
}

/// Bits 1..=len.
fn valid_days(len: u32) -> u64 {
    range_bits(1, len, 1)
}

/// Bits 0, 7, 14, 21, 28: one weekday's occurrences, shifted by the first one.
const WEEKLY_PATTERN: u64 = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28;
/// Every weekday (bits 0..=6).
const ALL_WEEKDAYS: u8 = 0x7f;

/// One day-related field: which days of a month it selects.
///
/// Weekdays are numbered 0 = Sunday … 6 = Saturday internally, whatever the
/// numbering of the source syntax.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DaySet {
    /// Plain days of the month (bits 1..=31).
    pub days: u64,
    /// `L` / `last`: the last day of the month.
    pub last_day: bool,
    /// `LW`: the last Monday-Friday of the month.
    pub last_weekday: bool,
    /// `nW` (bit n): the Monday-Friday nearest day n, never leaving the month.
    pub nearest_weekday: u64,
    /// Every occurrence of these weekdays (bit 0 = Sunday).
    pub weekdays: u8,
    /// `5L` / `last fri`: the last occurrence of these weekdays in the month.
    pub last_of_weekday: u8,
    /// `5#3` / `3rd fri`: `nth_weekday[n-1]` holds the weekdays whose n-th
    /// occurrence in the month matches.
    pub nth_weekday: [u8; 5],
}

impl DaySet {
    /// Whether the days it selects depend on the weekday a month starts on.
    fn follows_weekdays(&self) -> bool {
        self.weekdays != ALL_WEEKDAYS
            && (self.weekdays != 0
                || self.last_weekday
                || self.nearest_weekday != 0
                || self.last_of_weekday != 0
                || self.nth_weekday.iter().any(|&set| set != 0))
    }

    /// Bitset (bits 1..=len) of the days this set selects in a month of `len`
    /// days whose first day is weekday `wd1` (0 = Sunday).
    pub fn month_mask(&self, len: u32, wd1: u32) -> u64 {
        let valid = valid_days(len);
        if self.weekdays == ALL_WEEKDAYS {
            // Every weekday (`*` in the day-of-week field): every day.
            return valid;
        }
        let mut mask = self.days & valid;
        let wd_of = |d: u32| (wd1 + d - 1) % 7;
        if self.last_day {
            mask |= 1u64 << len;
        }
        if self.last_weekday {
            let d = match wd_of(len) {
                6 => len - 1,
                0 => len - 2,
                _ => len,
            };
            mask |= 1u64 << d;
        }
        for n in bits_iter(self.nearest_weekday & valid) {
            let d = match wd_of(n) {
                // Saturday: the Friday before, unless that leaves the month.
                6 => {
                    if n == 1 {
                        3
                    } else {
                        n - 1
                    }
                }
                // Sunday: the Monday after, unless that leaves the month.
                0 => {
                    if n == len {
                        n - 2
                    } else {
                        n + 1
                    }
                }
                _ => n,
            };
            mask |= 1u64 << d;
        }
        let first_of = |w: u32| 1 + (w + 7 - wd1) % 7;
        for w in bits_iter(u64::from(self.weekdays)) {
            mask |= (WEEKLY_PATTERN << first_of(w)) & valid;
        }
        for (i, set) in self.nth_weekday.iter().enumerate() {
            for w in bits_iter(u64::from(*set)) {
                let d = first_of(w) + 7 * i as u32;
                if d <= len {
                    mask |= 1u64 << d;
                }
            }
        }
        let wd_last = wd_of(len);
        for w in bits_iter(u64::from(self.last_of_weekday)) {
            mask |= 1u64 << (len - (wd_last + 7 - w) % 7);
        }
        mask
    }
}

/// How the day-of-month and day-of-week parts of a [`DayRule`] combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DayCombine {
    /// A day matches when both parts match.
    And,
    /// A day matches when either part matches (Vixie cron, both restricted).
    Or,
}

/// The complete day-selection rule of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DayRule {
    /// Day-of-month part.
    pub dom: DaySet,
    /// Day-of-week part.
    pub dow: DaySet,
    /// How `dom` and `dow` combine.
    pub combine: DayCombine,
    /// Optional ISO week numbers (bits 1..=53); `None` = every week.
    pub weeks: Option<u64>,
}

/// [`DayRule`]'s matching days for every month shape (first weekday ×
/// length 28..=31), computed once per schedule so the search only looks
/// them up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MonthMasks {
    table: [[u64; 4]; 7],
    /// Every row is the same (no weekday-dependent part): the search need
    /// not work out what weekday a month starts on.
    uniform: bool,
}

impl MonthMasks {
    pub fn new(rule: &DayRule) -> Self {
        let mut table = [[0u64; 4]; 7];
        let uniform = !rule.dom.follows_weekdays() && !rule.dow.follows_weekdays();
        for (wd1, row) in table.iter_mut().enumerate() {
            for (i, mask) in row.iter_mut().enumerate() {
                *mask = rule.mask_without_weeks(28 + i as u32, wd1 as u32);
            }
            if uniform {
                // The same days whatever weekday a month starts on (most
                // crontabs): one row serves all seven.
                let first = *row;
                table = [first; 7];
                break;
            }
        }
        MonthMasks { table, uniform }
    }

    /// Whether any day of any month in `months` can ever match (ignoring
    /// the ISO-week restriction): looks at every month length and first
    /// weekday a month of `months` can have.
    pub fn can_match_in(&self, months: u64) -> bool {
        bits_iter(months).any(|m| {
            let lens: &[usize] = match m {
                2 => &[0, 1],
                4 | 6 | 9 | 11 => &[2],
                _ => &[3],
            };
            self.table.iter().any(|row| {
                lens.iter()
                    .any(|&i| row.get(i).is_some_and(|&mask| mask != 0))
            })
        })
    }

    /// Matching days (bits 1..=31) in `month` of `year`.
    pub fn get(&self, rule: &DayRule, year: i32, month: u32) -> u64 {
        let len = days_in_month(year, month);
        let shape = len.saturating_sub(28) as usize;
        if self.uniform && rule.weeks.is_none() {
            return self.table[0].get(shape).copied().unwrap_or(0);
        }
        let wd1 = weekday(year, month, 1);
        let row = self.table.get(wd1 as usize).copied().unwrap_or_default();
        let mut mask = row.get(shape).copied().unwrap_or(0);
        if let Some(weeks) = rule.weeks {
            if mask != 0 {
                mask &= week_mask(year, month, len, wd1, weeks);
            }
        }
        mask
    }
}

impl DayRule {
    /// Matching days of the month, ignoring the ISO-week restriction.
    fn mask_without_weeks(&self, len: u32, wd1: u32) -> u64 {
        let a = self.dom.month_mask(len, wd1);
        let b = self.dow.month_mask(len, wd1);
        match self.combine {
            DayCombine::And => a & b,
            DayCombine::Or => a | b,
        }
    }
}

/// Days of the month whose ISO week number is in `weeks`.
fn week_mask(year: i32, month: u32, len: u32, wd1: u32, weeks: u64) -> u64 {
    let mut mask = 0u64;
    let mut week = 0u32;
    for d in 1..=len {
        // The ISO week only changes on Mondays (weekday 1).
        if d == 1 || (wd1 + d - 1) % 7 == 1 {
            week = chrono::NaiveDate::from_ymd_opt(year, month, d)
                .map(|date| chrono::Datelike::iso_week(&date).week())
                .unwrap_or(0);
        }
        if week < 64 && weeks & (1u64 << week) != 0 {
            mask |= 1u64 << d;
        }
    }
    mask
}

/// One `start-end/step` run of years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct YearRange {
    pub start: u32,
    pub end: u32,
    pub step: u32,
}

/// The year field: every year, or a union of stepped ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum YearSet {
    /// Any year (up to [`MAX_YEAR`]).
    All,
    /// Union of these ranges.
    Ranges(Vec<YearRange>),
}

impl YearSet {
    /// Smallest matching year `>= year`, if any (never above [`MAX_YEAR`]).
    pub fn next(&self, year: i32) -> Option<i32> {
        if year > MAX_YEAR as i32 {
            return None;
        }
        match self {
            YearSet::All => Some(year),
            YearSet::Ranges(ranges) => {
                let y = year.max(0) as u32;
                ranges
                    .iter()
                    .filter_map(|r| {
                        let v = if y <= r.start {
                            r.start
                        } else {
                            let k = (y - r.start).div_ceil(r.step.max(1));
                            r.start.checked_add(k.checked_mul(r.step.max(1))?)?
                        };
                        (v <= r.end).then_some(v)
                    })
                    .min()
                    .map(|v| v as i32)
            }
        }
    }
}

/// Static description of a numeric field: name, range and optional names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldSpec {
    /// Field name used in error messages.
    pub name: &'static str,
    /// Smallest value.
    pub min: u32,
    /// Largest value.
    pub max: u32,
    /// Accepted names (lower case) and their values.
    pub names: &'static [(&'static str, u32)],
    /// Description of the accepted names for error messages.
    pub names_help: &'static str,
    /// Whether `?` is accepted as a synonym of `*`.
    pub question_is_star: bool,
}

/// English month names (lower-case three-letter abbreviations), value 1-12.
pub(crate) const MONTH_NAMES: &[(&str, u32)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// Parse one value: a decimal number or (case-insensitively) a name.
pub(crate) fn parse_value(spec: &FieldSpec, text: &str) -> Result<u32, CronError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let value = text.parse::<u32>().map_err(|_| out_of_range(spec, text))?;
        if value < spec.min || value > spec.max {
            return Err(out_of_range(spec, text));
        }
        return Ok(value);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        let lower = text.to_ascii_lowercase();
        if let Some((_, v)) = spec.names.iter().find(|(n, _)| *n == lower) {
            return Ok(*v);
        }
        return Err(CronError::UnknownName {
            field: spec.name,
            text: text.to_string(),
            allowed: spec.names_help,
        });
    }
    Err(CronError::Invalid {
        field: spec.name,
        text: text.to_string(),
        allowed: "*, a number, a-b, */step, a-b/step, a/step or a comma list of these",
    })
}

fn out_of_range(spec: &FieldSpec, text: &str) -> CronError {
    CronError::OutOfRange {
        field: spec.name,
        value: text.to_string(),
        min: spec.min,
        max: spec.max,
    }
}

/// A parsed list element: `start..=end` stepping by `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub start: u32,
    pub end: u32,
    pub step: u32,
    /// True when the element was `*` or `*/s` (or `?`).
    pub star: bool,
}

/// Parse one list element: `*`, `*/s`, `a`, `a-b`, `a-b/s`, `a/s`.
pub(crate) fn parse_item(spec: &FieldSpec, item: &str) -> Result<Item, CronError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step_text)) => {
            let step = if !step_text.is_empty() && step_text.bytes().all(|b| b.is_ascii_digit()) {
                step_text.parse::<u32>().ok().filter(|s| *s >= 1)
            } else {
                None
            };
            match step {
                Some(s) => (base, Some(s)),
                None => {
                    return Err(CronError::BadStep {
                        field: spec.name,
                        text: item.to_string(),
                    })
                }
            }
        }
        None => (item, None),
    };
    if base == "*" || (spec.question_is_star && base == "?") {
        return Ok(Item {
            start: spec.min,
            end: spec.max,
            step: step.unwrap_or(1),
            star: true,
        });
    }
    if let Some((a, b)) = base.split_once('-') {
        let start = parse_value(spec, a)?;
        let end = parse_value(spec, b)?;
        if start > end {
            return Err(CronError::ReversedRange {
                field: spec.name,
                text: item.to_string(),
            });
        }
        return Ok(Item {
            start,
            end,
            step: step.unwrap_or(1),
            star: false,
        });
    }
    let start = parse_value(spec, base)?;
    Ok(match step {
        Some(s) => Item {
            start,
            end: spec.max,
            step: s,
            star: false,
        },
        None => Item {
            start,
            end: start,
            step: 1,
            star: false,
        },
    })
}

/// Split a field on commas, rejecting empty elements.
pub(crate) fn split_list<'a>(
    name: &'static str,
    text: &'a str,
) -> Result<impl Iterator<Item = &'a str>, CronError> {
    let bytes = text.as_bytes();
    let empty_element = bytes.first().is_none_or(|&b| b == b',')
        || bytes.last() == Some(&b',')
        || bytes.windows(2).any(|pair| pair == b",,");
    if empty_element {
        return Err(CronError::EmptyElement {
            field: name,
            text: text.to_string(),
        });
    }
    Ok(text.split(','))
}

/// True when the whole field is `*` (or `?` where that means `*`): every
/// value, as `parse_item` reads it.
pub(crate) fn is_lone_star(spec: &FieldSpec, text: &str) -> bool {
    text == "*" || (spec.question_is_star && text == "?")
}

/// Parse a whole plain numeric field (comma list of items) into a bitset.
pub(crate) fn parse_bits(spec: &FieldSpec, text: &str) -> Result<u64, CronError> {
    // The two commonest fields, `*` and one number, without splitting (what
    // `parse_item` makes of them, the same errors included).
    if is_lone_star(spec, text) {
        return Ok(range_bits(spec.min, spec.max, 1));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let value = parse_value(spec, text)?;
        return Ok(range_bits(value, value, 1));
    }
    let mut bits = 0u64;
    for item in split_list(spec.name, text)? {
        let it = parse_item(spec, item)?;
        bits |= range_bits(it.start, it.end, it.step);
    }
    Ok(bits)
}

/// Parse a year field (`*`, numbers, ranges, steps, lists) in
/// [`MIN_YEAR`]..=[`MAX_YEAR`].
pub(crate) fn parse_years(spec: &FieldSpec, text: &str) -> Result<YearSet, CronError> {
    let mut ranges = Vec::new();
    for item in split_list(spec.name, text)? {
        let it = parse_item(spec, item)?;
        if it.star && it.step == 1 {
            return Ok(YearSet::All);
        }
        ranges.push(YearRange {
            start: it.start,
            end: it.end,
            step: it.step,
        });
    }
    Ok(YearSet::Ranges(ranges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_matches_known_dates() {
        assert_eq!(weekday(1970, 1, 1), 4); // Thursday
        assert_eq!(weekday(2000, 1, 1), 6); // Saturday
        assert_eq!(weekday(2026, 2, 13), 5); // Friday
        assert_eq!(weekday(2024, 2, 29), 4); // Thursday
    }

    #[test]
    fn leap_rules() {
        assert!(is_leap(2000));
        assert!(!is_leap(2100));
        assert!(is_leap(2024));
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn next_bit_works() {
        assert_eq!(next_bit(0b1010, 0), Some(1));
        assert_eq!(next_bit(0b1010, 2), Some(3));
        assert_eq!(next_bit(0b1010, 4), None);
        assert_eq!(next_bit(u64::MAX, 64), None);
    }

    #[test]
    fn year_set_next() {
        let ys = YearSet::Ranges(vec![YearRange {
            start: 2000,
            end: 2100,
            step: 7,
        }]);
        assert_eq!(ys.next(1990), Some(2000));
        assert_eq!(ys.next(2001), Some(2007));
        assert_eq!(ys.next(2099), None);
        assert_eq!(YearSet::All.next(10000), None);
    }

    #[test]
    fn contiguous_range_bits_match_stepping_one_value_at_a_time() {
        for start in 0..70u32 {
            for end in 0..70u32 {
                let mut stepped = 0u64;
                for v in start..=end.min(63) {
                    stepped |= 1u64 << v;
                }
                assert_eq!(range_bits(start, end, 1), stepped, "{start}..={end}");
                assert_eq!(range_bits(start, end, 0), stepped, "{start}..={end} step 0");
            }
        }
    }

    #[test]
    fn month_masks_shared_across_weekdays_only_when_no_part_follows_them() {
        let plain = |days: u64| DaySet {
            days,
            ..DaySet::default()
        };
        let all_days = DaySet {
            weekdays: ALL_WEEKDAYS,
            ..DaySet::default()
        };
        let parts = [
            all_days.clone(),
            plain(1 << 15),
            DaySet {
                last_day: true,
                ..plain(1 << 1)
            },
            DaySet {
                last_weekday: true,
                ..DaySet::default()
            },
            DaySet {
                nearest_weekday: 1 << 1,
                ..DaySet::default()
            },
            DaySet {
                weekdays: 1 << 5,
                ..DaySet::default()
            },
            DaySet {
                last_of_weekday: 1 << 5,
                ..DaySet::default()
            },
            DaySet {
                nth_weekday: [0, 0, 1 << 2, 0, 0],
                ..DaySet::default()
            },
        ];
        for dom in &parts {
            for dow in &parts {
                for combine in [DayCombine::And, DayCombine::Or] {
                    let rule = DayRule {
                        dom: dom.clone(),
                        dow: dow.clone(),
                        combine,
                        weeks: None,
                    };
                    let mut full = [[0u64; 4]; 7];
                    for (wd1, row) in full.iter_mut().enumerate() {
                        for (i, mask) in row.iter_mut().enumerate() {
                            *mask = rule.mask_without_weeks(28 + i as u32, wd1 as u32);
                        }
                    }
                    let masks = MonthMasks::new(&rule);
                    assert_eq!(masks.table, full, "{rule:?}");
                    // What the search reads (the shortcut for rules that
                    // ignore weekdays included) is the row of the month's
                    // real first weekday, over a whole 28-year cycle.
                    for year in 2000..2028 {
                        for month in 1..=12 {
                            let len = days_in_month(year, month);
                            let row = full[weekday(year, month, 1) as usize];
                            let expected = row[(len - 28) as usize];
                            assert_eq!(
                                masks.get(&rule, year, month),
                                expected,
                                "{rule:?} {year}-{month}"
                            );
                        }
                    }
                }
            }
        }
    }
}
