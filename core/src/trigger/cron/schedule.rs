//! [`CronSchedule`] and the next-fire search, including the Vixie-cron /
//! cronie daylight-saving rules.
//!
//! The search works in two layers:
//! 1. [`CronSchedule::next_local_match`] finds the next *wall-clock* (naive)
//!    time matching the fields, jumping field by field (year → month → day →
//!    hour → minute → second) over bitsets, without allocating.
//! 2. [`CronSchedule::next_at_or_after`] maps wall-clock matches to instants
//!    in the zone:
//!    - a wall time that exists once fires at that instant;
//!    - a wall time that exists twice (fall-back overlap) fires at both
//!      instants for a *wildcard* schedule, only at the first for a
//!      *fixed-time* one;
//!    - a wall time that does not exist (spring-forward gap) never fires for a
//!      wildcard schedule; for a fixed-time schedule it fires at the first
//!      instant after the gap (so several matches inside one gap collapse into
//!      a single fire).

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::{GapInfo, Tz};

use super::error::CronError;
use super::field::{next_bit, DayRule, MonthMasks, YearSet, MAX_YEAR};
use super::fields::CronFields;

/// A parsed cron schedule. It is timezone-agnostic: the zone is supplied to
/// each next-fire query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    pub(crate) seconds: u64,
    pub(crate) minutes: u64,
    pub(crate) hours: u64,
    pub(crate) days: DayRule,
    /// `days` evaluated for every month shape.
    pub(crate) month_masks: MonthMasks,
    pub(crate) months: u64,
    pub(crate) years: YearSet,
    pub(crate) wildcard: bool,
    /// False when no (month, day) combination can ever match.
    pub(crate) possible: bool,
}

/// Result of mapping one wall-clock match to the instants it fires at.
enum Mapped {
    /// Fires at this instant (the earliest one `>= u` for this wall time).
    Fire(DateTime<Utc>),
    /// Does not fire at or after `u`; continue the wall-clock search at this
    /// wall time.
    SkipTo(NaiveDateTime),
}

impl CronSchedule {
    /// Parse a crontab string: 5 fields (`min hour dom month dow`), 6 fields
    /// (leading seconds), 7 fields (leading seconds, trailing year 1970-9999),
    /// or a macro such as `@daily`. See the crate documentation for the full
    /// grammar.
    pub fn parse_crontab(expr: &str) -> Result<CronSchedule, CronError> {
        super::crontab::parse(expr)
    }

    /// Build a schedule from APScheduler-style keyword fields (see
    /// [`CronFields`] for the grammar and the defaulting rule).
    pub fn from_fields(fields: &CronFields) -> Result<CronSchedule, CronError> {
        super::fields::parse(fields)
    }

    pub(crate) fn from_parts(
        seconds: u64,
        minutes: u64,
        hours: u64,
        days: DayRule,
        months: u64,
        years: YearSet,
        wildcard: bool,
    ) -> CronSchedule {
        let month_masks = MonthMasks::new(&days);
        let possible = seconds != 0
            && minutes != 0
            && hours != 0
            && months != 0
            && month_masks.can_match_in(months)
            && !matches!(&years, YearSet::Ranges(r) if r.is_empty());
        CronSchedule {
            month_masks,
            seconds,
            minutes,
            hours,
            days,
            months,
            years,
            wildcard,
            possible,
        }
    }

    /// True when the minute or hour field starts with `*` (`*`, `*/n`,
    /// `@hourly`, or — in the fields form — a minute/hour that is `*`/`*/n`
    /// explicitly or by defaulting): cron's DST "wildcard" class. Otherwise the
    /// schedule is "fixed-time". See the module docs for how the two classes
    /// behave across DST transitions.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// Earliest fire time `>= t`, evaluated in `tz`; `None` if the schedule
    /// never fires again (the search ends with year 9999). Sub-second parts of
    /// `t` are rounded up to the next whole second.
    pub fn next_at_or_after(&self, t: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if !self.possible {
            return None;
        }
        if t.year() > MAX_YEAR as i32 {
            return None;
        }
        let mut u = if t.timestamp_subsec_nanos() > 0 {
            DateTime::from_timestamp(t.timestamp().checked_add(1)?, 0)?
        } else {
            t
        };
        if tz == Tz::UTC {
            // No transitions: wall time is UTC; skip the zone machinery.
            return self.next_local_match(u.naive_utc()).map(|n| n.and_utc());
        }
        // Each round either returns or moves `u` to a fall-back transition
        // instant; a handful of rounds is plenty.
        for _ in 0..16 {
            let offset = tz.offset_from_utc_datetime(&u.naive_utc()).fix();
            let local = u
                .naive_utc()
                .checked_add_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
            // If `u` lies in the first pass of a fall-back overlap, wall times
            // before `local` will occur again after the transition.
            let transition = match tz.from_local_datetime(&local) {
                LocalResult::Ambiguous(first, second)
                    if first.offset().fix() == offset && second.offset().fix() != offset =>
                {
                    find_transition(tz, u, second.with_timezone(&Utc), offset)
                }
                _ => None,
            };
            // A fixed-time schedule fires at the first instant after a
            // spring-forward gap for matches inside the gap; if `u` is exactly
            // that instant, the gap's wall times must be scanned too.
            let scan_from = if self.wildcard {
                local
            } else {
                u.checked_sub_signed(Duration::seconds(1))
                    .and_then(|before| {
                        let before_offset = tz.offset_from_utc_datetime(&before.naive_utc()).fix();
                        before.naive_utc().checked_add_signed(Duration::seconds(
                            i64::from(before_offset.local_minus_utc()) + 1,
                        ))
                    })
                    .map_or(local, |before_local| before_local.min(local))
            };
            let candidate = self.scan(scan_from, u, tz)?;
            match transition {
                Some(b) if candidate >= b => u = b,
                _ => return Some(candidate),
            }
        }
        None
    }

    /// Earliest fire time strictly after `previous` (normally a previous fire
    /// time), evaluated in `tz`.
    pub fn next_after(&self, previous: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        // The next whole second: `previous` floored to a second, plus one.
        let after = DateTime::from_timestamp(previous.timestamp().checked_add(1)?, 0)?;
        self.next_at_or_after(after, tz)
    }

    /// Walk wall-clock matches from `local` on and return the first fire
    /// instant `>= u`.
    fn scan(&self, local: NaiveDateTime, u: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let mut from = local;
        loop {
            let n = self.next_local_match(from)?;
            match self.map_local(n, u, tz) {
                Mapped::Fire(x) => return Some(x),
                Mapped::SkipTo(next) => from = next.max(n + Duration::seconds(1)),
            }
        }
    }

    /// Map one wall-clock match `n` to its earliest fire instant `>= u`.
    fn map_local(&self, n: NaiveDateTime, u: DateTime<Utc>, tz: Tz) -> Mapped {
        let next = n + Duration::seconds(1);
        match tz.from_local_datetime(&n) {
            LocalResult::Single(x) => {
                let x = x.with_timezone(&Utc);
                if x >= u {
                    Mapped::Fire(x)
                } else {
                    Mapped::SkipTo(next)
                }
            }
            LocalResult::Ambiguous(first, second) => {
                let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
                if first >= u {
                    Mapped::Fire(first)
                } else if self.wildcard && second >= u {
                    Mapped::Fire(second)
                } else {
                    Mapped::SkipTo(next)
                }
            }
            LocalResult::None => {
                let end = GapInfo::new(&n, &tz).and_then(|g| g.end);
                match end {
                    Some(end) => {
                        let end_utc = end.with_timezone(&Utc);
                        if !self.wildcard && end_utc >= u {
                            Mapped::Fire(end_utc)
                        } else {
                            // Wildcard: no ticks inside the gap; resume at its end.
                            Mapped::SkipTo(end.naive_local())
                        }
                    }
                    None => Mapped::SkipTo(next),
                }
            }
        }
    }

    /// Next wall-clock time `>= from` (whole seconds) matching all fields, or
    /// `None` if there is none up to the end of year 9999.
    pub(crate) fn next_local_match(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut year = from.year();
        let mut month = from.month();
        let mut day = from.day();
        let mut hour = from.hour();
        let mut minute = from.minute();
        let mut second = from.second();
        // The Gregorian calendar repeats every 400 years: if every year is
        // allowed and nothing matched within 400 years, nothing ever will.
        let year_limit = match self.years {
            YearSet::All => year.saturating_add(401).min(MAX_YEAR as i32),
            YearSet::Ranges(_) => MAX_YEAR as i32,
        };
        let mut cached_mask: Option<(i32, u32, u64)> = None;
        loop {
            if year > year_limit {
                return None;
            }
            let y = self.years.next(year)?;
            if y != year {
                year = y;
                (month, day, hour, minute, second) = (1, 1, 0, 0, 0);
                continue;
            }
            let Some(m) = next_bit(self.months, month) else {
                year += 1;
                (month, day, hour, minute, second) = (1, 1, 0, 0, 0);
                continue;
            };
            if m != month {
                month = m;
                (day, hour, minute, second) = (1, 0, 0, 0);
            }
            let mask = match cached_mask {
                Some((cy, cm, mask)) if cy == year && cm == month => mask,
                _ => {
                    let mask = self.month_masks.get(&self.days, year, month);
                    cached_mask = Some((year, month, mask));
                    mask
                }
            };
            let Some(d) = next_bit(mask, day) else {
                month += 1;
                (day, hour, minute, second) = (1, 0, 0, 0);
                continue;
            };
            if d != day {
                day = d;
                (hour, minute, second) = (0, 0, 0);
            }
            let Some(h) = next_bit(self.hours, hour) else {
                day += 1;
                (hour, minute, second) = (0, 0, 0);
                continue;
            };
            if h != hour {
                hour = h;
                (minute, second) = (0, 0);
            }
            let Some(mi) = next_bit(self.minutes, minute) else {
                hour += 1;
                (minute, second) = (0, 0);
                continue;
            };
            if mi != minute {
                minute = mi;
                second = 0;
            }
            let Some(s) = next_bit(self.seconds, second) else {
                minute += 1;
                second = 0;
                continue;
            };
            return NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, s);
        }
    }
}

/// Find the fall-back transition instant: the first instant in `(lo, hi]`
/// whose offset differs from `before` (`lo` has offset `before`, `hi` does
/// not). Binary search at one-second resolution.
fn find_transition(
    tz: Tz,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    before: chrono::FixedOffset,
) -> Option<DateTime<Utc>> {
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    if hi <= lo {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let at = DateTime::from_timestamp(mid, 0)?;
        if tz.offset_from_utc_datetime(&at.naive_utc()).fix() == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    DateTime::from_timestamp(hi, 0)
}
