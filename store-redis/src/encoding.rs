//! Fixed-width text encodings that sort like the values they encode, so the
//! Lua scripts compare and order them as strings (Lua numbers are doubles
//! and would lose microseconds).

use chrono::{DateTime, Utc};

/// Width of an encoded instant.
pub(crate) const TIME_WIDTH: usize = 18;

/// Microseconds since the epoch, rounded up, clamped to 0..10^18, 18 digits.
pub(crate) fn time18(t: DateTime<Utc>) -> String {
    let micros = chime_core::store::index_micros(t);
    format!("{:018}", micros.clamp(0, 999_999_999_999_999_999))
}

/// Back from [`time18`].
pub(crate) fn parse_time18(text: &str) -> Option<DateTime<Utc>> {
    text.get(..TIME_WIDTH)?
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
}

/// Priority, inverted so higher priority sorts first, 10 digits.
pub(crate) fn priority10(priority: i32) -> String {
    let inverted = i64::from(i32::MAX) - i64::from(priority);
    format!("{inverted:010}")
}

/// The index entry of a job: priority then next run time (empty = paused).
pub(crate) fn meta(priority: i32, next_run_time: Option<DateTime<Utc>>) -> String {
    let mut meta = priority10(priority);
    if let Some(next) = next_run_time {
        meta.push_str(&time18(next));
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_sort_like_their_values() {
        let a: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-01-01T00:00:00.000001Z".parse().unwrap();
        let far: DateTime<Utc> = "9999-12-31T23:59:59Z".parse().unwrap();
        assert!(time18(a) < time18(b) && time18(b) < time18(far));
        assert_eq!(parse_time18(&time18(a)), Some(a));
        assert!(priority10(10) < priority10(0) && priority10(0) < priority10(-10));
        assert!(priority10(i32::MAX) < priority10(i32::MIN));
        assert_eq!(priority10(i32::MIN).len(), 10);
        assert_eq!(meta(0, None).len(), 10);
    }
}
