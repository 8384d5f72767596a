//! Instants as integers for store indexes.

use chrono::{DateTime, Utc};

/// Microseconds since the Unix epoch, rounded **up**, for indexing due
/// times: a job indexed this way is never handed out before its instant
/// (at most 1 µs after it). Stores keep the exact instant in the record.
///
/// ```
/// use chime_core::store::index_micros;
/// let t = "2026-01-01T00:00:00.0000005Z".parse().unwrap();
/// assert_eq!(index_micros(t), 1_767_225_600_000_001);
/// ```
pub fn index_micros(t: DateTime<Utc>) -> i64 {
    let micros = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1000) {
        micros
    } else {
        micros.saturating_add(1)
    }
}
