//! Reading times from the command line: RFC 3339 with an offset, or a local
//! date-time in the given zone.

use chime::chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chime::chrono_tz::Tz;
use chime::Error;

const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Parses `text` as an instant: RFC 3339 (`2026-03-29T00:00:00+02:00`,
/// `…Z`) or a local time in `tz` (`2026-03-29T00:00:00`, `2026-03-29 00:00`,
/// `2026-03-29`). A local time that occurs twice means its first occurrence;
/// one that does not exist (inside a DST gap) is an error.
pub fn parse_time(option: &str, text: &str, tz: Tz) -> Result<DateTime<Utc>, Error> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| {
            Error::invalid(format!(
                "{option}: '{text}' is not a time like 2026-03-29T02:30:00+02:00 or 2026-03-29 02:30"
            ))
        })?;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(Error::invalid(format!(
            "{option}: {text} does not exist in {} (skipped by a daylight-saving change)",
            tz.name()
        ))),
    }
}

/// Parses an IANA zone name.
pub fn parse_zone(text: &str) -> Result<Tz, Error> {
    text.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(format!(
            "--tz: '{text}' is not an IANA time zone name like Europe/Helsinki or UTC"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chime::chrono_tz::{America, Europe};

    #[test]
    fn offsets_win_over_the_zone() {
        let t = parse_time("--from", "2026-03-29T00:00:00+02:00", America::New_York).unwrap();
        assert_eq!(t, "2026-03-28T22:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn local_times_are_read_in_the_zone() {
        // Helsinki is UTC+2 in January.
        let t = parse_time("--from", "2026-01-10 08:30", Europe::Helsinki).unwrap();
        assert_eq!(t, "2026-01-10T06:30:00Z".parse::<DateTime<Utc>>().unwrap());
        let t = parse_time("--from", "2026-01-10", Europe::Helsinki).unwrap();
        assert_eq!(t, "2026-01-09T22:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn gap_times_and_garbage_are_errors_naming_the_option() {
        // Helsinki skips 03:00-04:00 on 2026-03-29.
        let err = parse_time("--from", "2026-03-29 03:30", Europe::Helsinki).unwrap_err();
        assert!(
            err.message()
                .starts_with("--from: 2026-03-29 03:30 does not exist"),
            "{err}"
        );
        let err = parse_time("--at", "tomorrow", Europe::Helsinki).unwrap_err();
        assert!(err.message().starts_with("--at: 'tomorrow'"), "{err}");
        assert!(parse_zone("Mars/Olympus").is_err());
    }
}
