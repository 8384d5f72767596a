//! Writing and reading a record's instants (`next_run_time`,
//! `trigger_time`).
//!
//! A record holds them as the RFC 3339 text chrono's serde support writes
//! for a UTC instant: `YYYY-MM-DDTHH:MM:SSZ`, with 3, 6 or 9 fraction
//! digits when the instant is not a whole second. For years 0–9999 that
//! form is written and read here directly; anything else (other years, leap
//! seconds, other texts) goes through chrono, so the text is the same
//! either way. chrono's writer and parser are general (formatting
//! machinery, offsets, lowercase separators) and cost ~200 ns an instant
//! each way, a sixth of a record's encoding or decoding.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// `serialize_with` for an `Option<DateTime<Utc>>` field: the same text as
/// chrono's own serialization.
pub(super) fn serialize_opt<S: Serializer>(
    instant: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match instant {
        None => serializer.serialize_none(),
        Some(instant) => match write_utc_text(instant) {
            Some(buffer) => {
                let len = buffer.len;
                // The buffer holds only ASCII digits and separators.
                match std::str::from_utf8(&buffer.bytes[..len]) {
                    Ok(text) => serializer.serialize_some(text),
                    Err(_) => serializer.serialize_some(instant),
                }
            }
            None => serializer.serialize_some(instant),
        },
    }
}

/// Room for the longest form written here (`YYYY-MM-DDTHH:MM:SS.fffffffffZ`).
struct UtcText {
    bytes: [u8; 30],
    len: usize,
}

impl UtcText {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// `value`'s last `width` decimal digits, zero-padded.
    fn push_digits(&mut self, value: u32, width: u32) {
        for place in (0..width).rev() {
            self.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
        }
    }
}

/// `instant` in the form described above, when its year is 0–9999 and it
/// is not in a leap second; `None` otherwise (chrono writes it then).
fn write_utc_text(instant: &DateTime<Utc>) -> Option<UtcText> {
    let year = u32::try_from(instant.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = instant.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut out = UtcText {
        bytes: [0; 30],
        len: 0,
    };
    out.push_digits(year, 4);
    for (separator, value) in [
        (b'-', instant.month()),
        (b'-', instant.day()),
        (b'T', instant.hour()),
        (b':', instant.minute()),
        (b':', instant.second()),
    ] {
        out.push(separator);
        out.push_digits(value, 2);
    }
    // chrono's `SecondsFormat::AutoSi`: as many fraction digits (3, 6, 9)
    // as the instant needs.
    let (fraction, width) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1_000) {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if width > 0 {
        out.push(b'.');
        out.push_digits(fraction, width);
    }
    out.push(b'Z');
    Some(out)
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` field (with
/// `#[serde(default)]`: a missing field is `None`, as for a plain
/// `Option`).
pub(super) fn deserialize_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(InstantVisitor)
}

struct InstantVisitor;

impl<'de> Visitor<'de> for InstantVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 instant or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        match utc_text(text) {
            Some(instant) => Ok(Some(instant)),
            None => text.parse().map(Some).map_err(E::custom),
        }
    }
}

/// The instant `text` names when it is in the exact form described above
/// and valid; `None` for anything else (chrono decides then).
fn utc_text(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let (&b'Z', b) = b.split_last()? else {
        return None;
    };
    if b.len() < 19 || [b[4], b[7], b[10], b[13], b[16]] != *b"--T::" {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match b.len() - 19 {
        0 => 0,
        len @ (4 | 7 | 10) if b[19] == b'.' => number(20..b.len())? * 10u32.pow(10 - len as u32),
        _ => return None,
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?;
    let second = number(17..19)?;
    // A leap second (60) is chrono's to read.
    if second > 59 {
        return None;
    }
    let time = date.and_hms_nano_opt(number(11..13)?, number(14..16)?, second, nanos)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, SecondsFormat, TimeDelta};
    use serde::Serialize;

    /// What chrono's own serde decoding makes of `text` (the reference).
    fn chrono_reads(text: &str) -> Option<DateTime<Utc>> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }

    fn we_read(text: &str) -> Option<DateTime<Utc>> {
        deserialize_opt(serde_json::Value::String(text.to_owned())).ok()?
    }

    #[test]
    fn what_chrono_writes_is_read_directly_and_alike() {
        let base: DateTime<Utc> = "2026-03-29T00:59:59Z".parse().unwrap();
        let steps = [
            TimeDelta::zero(),
            TimeDelta::seconds(1),
            TimeDelta::milliseconds(250),
            TimeDelta::microseconds(1),
            TimeDelta::nanoseconds(1),
            TimeDelta::days(-20_000),
            TimeDelta::days(-700_000),
            TimeDelta::days(3_000_000),
        ];
        for step in steps {
            let instant = base + step;
            // How `to_record` writes instants (chrono's serde form).
            let text = serde_json::to_value(instant).unwrap();
            let text = text.as_str().unwrap();
            assert_eq!(
                text,
                instant.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                "the form described above"
            );
            assert_eq!(we_read(text), Some(instant), "{text}");
            // Years past 9999 are written with a sign: chrono's to read.
            let direct = utc_text(text);
            if instant.year() <= 9999 {
                assert_eq!(direct, Some(instant), "{text} is read directly");
            } else {
                assert_eq!(direct, None, "{text}");
            }
        }
    }

    #[test]
    fn every_other_form_reads_as_chrono_reads_it() {
        let texts = [
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T02:00:00+02:00",
            "2026-01-01t00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00.12345Z",
            "2016-12-31T23:59:60Z",
            "2026-02-29T00:00:00Z",
            "2028-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-1-01T00:00:00Z",
            "+2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:0xZ",
            "yesterday",
            "",
            "Z",
        ];
        for text in texts {
            assert_eq!(we_read(text), chrono_reads(text), "{text:?}");
        }
        assert_eq!(utc_text("2026-01-01T00:00:00+00:00"), None);
        assert_eq!(
            utc_text("2016-12-31T23:59:60Z"),
            None,
            "leap seconds are chrono's"
        );
    }

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        let base: DateTime<Utc> = "2026-03-29T00:59:59Z".parse().unwrap();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        let mut instants = vec![leap, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
        for days in [0, 1, -20_000, -739_000, -740_000, 2_900_000, 3_000_000] {
            for nanos in [
                0,
                1,
                10,
                999,
                1_000,
                120_000,
                1_000_000,
                250_000_000,
                999_999_999,
            ] {
                instants.push(base + TimeDelta::days(days) + TimeDelta::nanoseconds(nanos));
            }
        }
        #[derive(Serialize)]
        struct Ours(#[serde(serialize_with = "serialize_opt")] Option<DateTime<Utc>>);
        for instant in instants {
            let ours = serde_json::to_string(&Ours(Some(instant))).unwrap();
            let chrono = serde_json::to_string(&instant).unwrap();
            assert_eq!(ours, chrono);
            if (0..=9999).contains(&instant.year()) && instant != leap {
                assert!(
                    write_utc_text(&instant).is_some(),
                    "{chrono} written directly"
                );
            }
            assert_eq!(we_read(chrono.trim_matches('"')), Some(instant), "{chrono}");
        }
        assert_eq!(serde_json::to_string(&Ours(None)).unwrap(), "null");
    }

    #[test]
    fn null_and_missing_are_none() {
        assert_eq!(deserialize_opt(serde_json::Value::Null).unwrap(), None);
        assert!(deserialize_opt(serde_json::json!(5)).is_err());
    }
}
