//! Error type returned by the cron parsers.

/// An error produced while parsing a cron expression (crontab string or
/// APScheduler-style keyword fields).
///
/// Every variant that concerns a single field names that field, the
/// offending text and (where meaningful) the allowed range, e.g.
/// `hour: 24 is out of range 0-23`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The expression was empty or contained only whitespace.
    #[error("empty cron expression")]
    Empty,
    /// A crontab string did not have 5, 6 or 7 whitespace-separated fields.
    #[error("expected 5, 6 or 7 fields (min hour dom month dow [with leading seconds / trailing year]), found {found} in {expr:?}")]
    FieldCount {
        /// Number of fields found.
        found: usize,
        /// The whole expression.
        expr: String,
    },
    /// An `@name` macro that is not one of the supported ones.
    #[error("unknown macro {0:?} (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")]
    UnknownMacro(String),
    /// A numeric value outside the field's range.
    #[error("{field}: {value} is out of range {min}-{max}")]
    OutOfRange {
        /// Field name (e.g. `hour`).
        field: &'static str,
        /// The offending text.
        value: String,
        /// Smallest allowed value.
        min: u32,
        /// Largest allowed value.
        max: u32,
    },
    /// A word that is not a known month or weekday name for the field.
    #[error("{field}: unknown name {text:?} (allowed: {allowed})")]
    UnknownName {
        /// Field name.
        field: &'static str,
        /// The offending text.
        text: String,
        /// Human-readable list of what is allowed.
        allowed: &'static str,
    },
    /// Text that is not valid syntax for the field.
    #[error("{field}: invalid expression {text:?} (allowed: {allowed})")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// The offending text.
        text: String,
        /// Human-readable description of what is allowed.
        allowed: &'static str,
    },
    /// A step of zero (`*/0`) or a step that is not a positive number.
    #[error("{field}: bad step in {text:?} (step must be a whole number >= 1)")]
    BadStep {
        /// Field name.
        field: &'static str,
        /// The offending text.
        text: String,
    },
    /// A range whose start is greater than its end (`5-1`). Ranges never wrap.
    #[error(
        "{field}: reversed range {text:?} (start must not be greater than end; ranges do not wrap)"
    )]
    ReversedRange {
        /// Field name.
        field: &'static str,
        /// The offending text.
        text: String,
    },
    /// An empty element in a comma-separated list (`1,,2`) or an empty field.
    #[error("{field}: empty list element in {text:?}")]
    EmptyElement {
        /// Field name.
        field: &'static str,
        /// The whole field text.
        text: String,
    },
}

impl CronError {
    /// The name of the field the error concerns, if it concerns a single field.
    pub fn field(&self) -> Option<&str> {
        match self {
            CronError::Empty | CronError::FieldCount { .. } | CronError::UnknownMacro(_) => None,
            CronError::OutOfRange { field, .. }
            | CronError::UnknownName { field, .. }
            | CronError::Invalid { field, .. }
            | CronError::BadStep { field, .. }
            | CronError::ReversedRange { field, .. }
            | CronError::EmptyElement { field, .. } => Some(field),
        }
    }
}
