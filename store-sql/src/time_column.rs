//! Instants as integer columns: microseconds since the Unix epoch.

use chrono::{DateTime, Utc};

/// Microseconds since the epoch, rounded up, so a job is never handed out
/// before its instant.
pub(crate) fn to_column(t: DateTime<Utc>) -> i64 {
    chime_core::store::index_micros(t)
}

/// Back from a column (exact for whole microseconds).
pub(crate) fn from_column(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}
