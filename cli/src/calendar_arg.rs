//! `--calendar SPEC`: a calendar interval such as "1 month at 09:00",
//! "2 weeks 3 days at 18:30:15" or "1 year".

use std::sync::Arc;

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::Tz;
use chime::trigger::{CalendarIntervalTrigger, Trigger};
use chime::Error;

const GRAMMAR: &str = "N years|months|weeks|days [...] [at HH:MM[:SS]]";

fn bad(spec: &str, why: &str) -> Error {
    Error::invalid(format!("--calendar: '{spec}': {why} (expected {GRAMMAR})"))
}

/// Parses `HH:MM[:SS]`.
fn parse_clock(spec: &str, text: &str) -> Result<(u32, u32, u32), Error> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad(
            spec,
            &format!("'{text}' is not a time like 09:00 or 18:30:15"),
        ));
    }
    let number = |p: &str| {
        p.parse::<u32>().map_err(|_| {
            bad(
                spec,
                &format!("'{text}' is not a time like 09:00 or 18:30:15"),
            )
        })
    };
    let second = match parts.get(2) {
        Some(s) => number(s)?,
        None => 0,
    };
    Ok((number(parts[0])?, number(parts[1])?, second))
}

/// Builds the trigger: anchored at `anchor` (the start date, or the time
/// the listing starts from), wall-clock time in `tz`.
pub fn build(
    spec: &str,
    tz: Tz,
    anchor: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    jitter: Option<std::time::Duration>,
) -> Result<Arc<dyn Trigger>, Error> {
    let (period_text, clock) = match spec.split_once(" at ") {
        Some((period, clock)) => (period, Some(clock.trim())),
        None => (spec, None),
    };
    let words: Vec<&str> = period_text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(bad(spec, "give the period as number-unit pairs"));
    }
    let (mut years, mut months, mut weeks, mut days) = (0u32, 0u32, 0u32, 0u32);
    for pair in words.chunks(2) {
        let n: u32 = pair[0]
            .parse()
            .map_err(|_| bad(spec, &format!("'{}' is not a whole number", pair[0])))?;
        let slot = match pair[1].trim_end_matches('s') {
            "year" => &mut years,
            "month" => &mut months,
            "week" => &mut weeks,
            "day" => &mut days,
            other => return Err(bad(spec, &format!("unknown unit '{other}'"))),
        };
        *slot = slot.saturating_add(n);
    }
    let mut trigger = CalendarIntervalTrigger::new(years, months, weeks, days)
        .map_err(|e| Error::invalid(format!("--calendar: {}", e.message())))?;
    if let Some(clock) = clock {
        let (h, m, s) = parse_clock(spec, clock)?;
        trigger = trigger
            .at(h, m, s)
            .map_err(|e| Error::invalid(format!("--calendar: {}", e.message())))?;
    }
    let mut trigger = trigger.timezone(tz).starting_at(anchor);
    if let Some(end) = end {
        trigger = trigger.ending_at(end);
    }
    if let Some(jitter) = jitter {
        trigger = trigger.with_jitter(jitter);
    }
    Ok(Arc::new(trigger))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn reads_pairs_and_a_clock() {
        let t = build(
            "2 weeks 3 days at 18:30:15",
            chime::chrono_tz::UTC,
            anchor(),
            None,
            None,
        )
        .unwrap();
        assert_eq!(t.kind(), "calendar_interval");
        let spec = serde_json::to_value(t.to_spec().unwrap()).unwrap();
        assert_eq!(
            (spec["weeks"].as_u64(), spec["days"].as_u64()),
            (Some(2), Some(3))
        );
        assert_eq!(
            (
                spec["hour"].as_u64(),
                spec["minute"].as_u64(),
                spec["second"].as_u64()
            ),
            (Some(18), Some(30), Some(15))
        );
    }

    #[test]
    fn errors_quote_the_spec() {
        for bad_spec in [
            "",
            "month",
            "1 fortnight",
            "x months",
            "1 month at 9",
            "1 month at 25:00",
            "0 days",
        ] {
            let err = build(bad_spec, chime::chrono_tz::UTC, anchor(), None, None).unwrap_err();
            assert!(
                err.message().starts_with("--calendar:"),
                "{bad_spec}: {err}"
            );
        }
    }
}
