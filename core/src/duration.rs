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
    use serde::{Deserializer, Serializer};

    /// Serializes as text (`"1h 30m"`).
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*value))
    }

    /// Deserializes from text (`"90s"`) or from a number of seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(TextOrSeconds)
    }

    /// Reads text or a number of seconds as it comes (no buffering, no
    /// copy of the text).
    pub(super) struct TextOrSeconds;

    impl serde::de::Visitor<'_> for TextOrSeconds {
        type Value = Duration;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration like \"90s\" or a number of seconds")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
            parse(text).map_err(|e| E::custom(e.message()))
        }

        fn visit_f64<E: serde::de::Error>(self, secs: f64) -> Result<Duration, E> {
            Duration::try_from_secs_f64(secs).map_err(|_| {
                E::custom(format!("duration: {secs} is not a valid number of seconds"))
            })
        }

        fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<Duration, E> {
            self.visit_f64(secs as f64)
        }

        fn visit_i64<E: serde::de::Error>(self, secs: i64) -> Result<Duration, E> {
            self.visit_f64(secs as f64)
        }
    }
}

/// Serde helpers storing an `Option<Duration>` as text or `null`.
pub mod serde_text_opt {
    use super::serde_text::TextOrSeconds;
    use super::*;
    use serde::{Deserializer, Serializer};

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
        deserializer.deserialize_option(OptionalTextOrSeconds)
    }

    struct OptionalTextOrSeconds;

    impl<'de> serde::de::Visitor<'de> for OptionalTextOrSeconds {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration like \"90s\", a number of seconds, or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(TextOrSeconds).map(Some)
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

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Fields {
        #[serde(with = "serde_text")]
        every: Duration,
        #[serde(default, with = "serde_text_opt")]
        grace: Option<Duration>,
    }

    #[test]
    fn serde_reads_text_seconds_and_null() {
        let read = |json: &str| serde_json::from_str::<Fields>(json);
        let cases = [
            (r#"{"every":"1h 30m","grace":"90s"}"#, 5400.0, Some(90.0)),
            (r#"{"every":90,"grace":1.5}"#, 90.0, Some(1.5)),
            (r#"{"every":0.25,"grace":null}"#, 0.25, None),
            (r#"{"every":"1m"}"#, 60.0, None),
        ];
        for (json, every, grace) in cases {
            let fields = read(json).unwrap();
            assert_eq!(fields.every, Duration::from_secs_f64(every), "{json}");
            assert_eq!(fields.grace, grace.map(Duration::from_secs_f64), "{json}");
        }
        for bad in [
            r#"{"every":"soon"}"#,
            r#"{"every":-5}"#,
            r#"{"every":true}"#,
            r#"{"every":"1m","grace":"ten"}"#,
            r#"{"every":"1m","grace":[1]}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let err = read(r#"{"every":"soon"}"#).unwrap_err().to_string();
        assert!(err.contains("'soon' is not a duration"), "{err}");
        // The same through a `Value` (the record path for unusual records).
        let value = serde_json::json!({"every": "2m", "grace": 30});
        let fields: Fields = serde_json::from_value(value).unwrap();
        assert_eq!(fields.grace, Some(Duration::from_secs(30)));
    }
}
