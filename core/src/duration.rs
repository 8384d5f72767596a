//! Human-readable durations (`90s`, `15m`, `1h30m`, `1w2d3h4m5s`, `250ms`),
//! used in stored records, configuration files and the CLI.

use std::time::Duration;

use crate::error::{Error, Result};

/// Parses a human-readable duration such as `90s`, `1h30m` or `1w2d`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chime_core::duration::parse("1h30m").unwrap(), Duration::from_secs(5400));
/// assert!(chime_core::duration::parse("soon").is_err());
/// ```
pub fn parse(text: &str) -> Result<Duration> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("duration: empty text"));
    }
    humantime::parse_duration(trimmed).map_err(|e| {
        Error::invalid(format!(
            "duration: '{text}' is not a duration like 90s, 15m, 1h30m or 1w2d ({e})"
        ))
    })
}

/// Formats a duration the way [`parse`] reads it (`1h 30m`).
pub fn format(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// Serde helpers storing a `Duration` as human-readable text.
pub mod serde_text {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as text (`"1h 30m"`).
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*value))
    }

    /// Deserializes from text (`"90s"`) or from a number of seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let value = TextOrSeconds::deserialize(deserializer)?;
        value.into_duration().map_err(serde::de::Error::custom)
    }

    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    pub(super) enum TextOrSeconds {
        Text(String),
        Seconds(f64),
    }

    impl TextOrSeconds {
        pub(super) fn into_duration(self) -> Result<Duration, String> {
            match self {
                TextOrSeconds::Text(text) => parse(&text).map_err(|e| e.message().to_owned()),
                TextOrSeconds::Seconds(secs) => Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("duration: {secs} is not a valid number of seconds")),
            }
        }
    }
}

/// Serde helpers storing an `Option<Duration>` as text or `null`.
pub mod serde_text_opt {
    use super::serde_text::TextOrSeconds;
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as text or `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_str(&format(*d)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes from text, a number of seconds, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<TextOrSeconds>::deserialize(deserializer)? {
            Some(v) => v
                .into_duration()
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_the_cli_promises() {
        let cases = [
            ("90s", 90),
            ("15m", 900),
            ("2h", 7200),
            ("1d", 86_400),
            ("1w", 604_800),
            ("1h30m", 5400),
            ("1w2d3h4m5s", 604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
        ];
        for (text, secs) in cases {
            assert_eq!(parse(text).unwrap(), Duration::from_secs(secs), "{text}");
        }
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn round_trips_through_text() {
        let d = Duration::from_secs(5400);
        assert_eq!(parse(&format(d)).unwrap(), d);
    }

    #[test]
    fn rejects_garbage_with_the_text() {
        for bad in ["", "  ", "ten", "5 parsecs", "-5s"] {
            let err = parse(bad).unwrap_err();
            assert!(err.message().starts_with("duration"), "{bad}: {err}");
        }
    }
}
