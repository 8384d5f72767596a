//! The document layout of a job, and of a run in the history collection.
//!
//! Jobs (`_id` = job id):
//!
//! | field | type | |
//! |---|---|---|
//! | `record` | string | the versioned record text, verbatim |
//! | `next` | Int64 µs or null | next run time (null = paused) |
//! | `priority` | Int32 | |
//! | `avail` | Int64 µs or null | when the job can next be acquired: `max(next, lease_expires)`; null when paused |
//! | `lease_owner` | string | absent when not leased |
//! | `lease_expires` | Int64 µs | |
//! | `lease_next` | Int64 µs | `next` at acquisition (a release tells an update made meanwhile by it) |
//!
//! Runs: `{job, recorded: Int64 µs, run: RunRecord JSON text}`, newest
//! first by `recorded` then `_id`.
//!
//! Instants are microseconds since the Unix epoch, rounded up (a job due at
//! a sub-microsecond instant is never acquired early).

use chime_core::job::Job;
use chime_core::store::UnreadableRecord;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};

pub(crate) const RECORD: &str = "record";
pub(crate) const NEXT: &str = "next";
pub(crate) const PRIORITY: &str = "priority";
pub(crate) const AVAIL: &str = "avail";
pub(crate) const LEASE_OWNER: &str = "lease_owner";
pub(crate) const LEASE_EXPIRES: &str = "lease_expires";
pub(crate) const LEASE_NEXT: &str = "lease_next";
/// Identifies one acquisition, to read back exactly the documents it claimed.
pub(crate) const LEASE_TOKEN: &str = "lease_token";

/// Name of the due-job index.
pub(crate) const DUE_INDEX: &str = "chime_due";
/// Name of the history index.
pub(crate) const HISTORY_INDEX: &str = "chime_history";

/// The sort of due-job acquisition and of the earliest next run time:
/// available earliest, higher priority first, then by id.
pub(crate) fn due_order() -> Document {
    doc! { AVAIL: 1, PRIORITY: -1, "_id": 1 }
}

/// Microseconds since the epoch, rounded up.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    chime_core::store::index_micros(t)
}

/// Microseconds since the epoch, rounded down (for "due at or before now").
pub(crate) fn micros_floor(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Back from [`micros`].
pub(crate) fn instant(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// `Int64` or null.
pub(crate) fn opt_micros(t: Option<DateTime<Utc>>) -> Bson {
    t.map_or(Bson::Null, |t| Bson::Int64(micros(t)))
}

/// A new job's document (no lease).
pub(crate) fn job_document(job: &Job, record: String) -> Document {
    let next = opt_micros(job.next_run_time);
    doc! {
        "_id": job.id.as_str(),
        RECORD: record,
        NEXT: next.clone(),
        PRIORITY: job.priority,
        AVAIL: next,
    }
}

/// An update pipeline that writes `job`'s record and index fields and keeps
/// any lease: `avail` becomes `max(next, lease_expires)` on the server, in
/// the same atomic write. Strings go through `$literal` so that one starting
/// with `$` is never read as a field path.
pub(crate) fn rewrite_pipeline(job: &Job, record: String) -> Vec<Document> {
    let avail = match job.next_run_time {
        None => Bson::Null,
        Some(next) => Bson::Document(doc! { "$max": [micros(next), format!("${LEASE_EXPIRES}")] }),
    };
    vec![doc! {
        "$set": {
            RECORD: { "$literal": record },
            NEXT: opt_micros(job.next_run_time),
            PRIORITY: job.priority,
            AVAIL: avail,
        }
    }]
}

/// Decodes the record of document `doc` (stored under `id`).
pub(crate) fn decode(id: &str, doc: &Document) -> Result<Job, UnreadableRecord> {
    let unreadable = |reason: String| UnreadableRecord {
        job_id: id.to_owned(),
        reason,
    };
    let text = doc
        .get_str(RECORD)
        .map_err(|_| unreadable("the document has no record text".into()))?;
    chime_core::store::decode_record(id, text)
}

/// The `_id` of a job document as text (ids are strings; anything else was
/// planted by hand and is shown as BSON).
pub(crate) fn id_of(doc: &Document) -> String {
    match doc.get("_id") {
        Some(Bson::String(id)) => id.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// An Int64 (or Int32) field, if present and numeric.
pub(crate) fn int_field(doc: &Document, field: &str) -> Option<i64> {
    match doc.get(field) {
        Some(Bson::Int64(n)) => Some(*n),
        Some(Bson::Int32(n)) => Some(i64::from(*n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_up_and_back() {
        let t: DateTime<Utc> = "2026-01-01T00:00:00.000001500Z".parse().unwrap();
        assert_eq!(micros(t), micros_floor(t) + 1);
        let whole: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(instant(micros(whole)), Some(whole));
        assert_eq!(opt_micros(None), Bson::Null);
    }
}
