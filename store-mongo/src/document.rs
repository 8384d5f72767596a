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
//! Dispatch journal entries ([`HandOff`], collection
//! `<collection>.handoffs`; replica sets and sharded clusters only):
//!
//! | field | type | |
//! |---|---|---|
//! | `_id` | `{job: string, fire: Int64 µs}` | the entry's key ([`HandOffKey`]), always built in this field order |
//! | `owner` | string | the scheduler holding the entry |
//! | `deadline` | Int64 µs | the entry is stale once this is before now |
//! | `record` | string | the entry as [`HandOff::to_record`] JSON |
//! | `claim_token` | ObjectId | the stale claim that took the entry last |
//! | `previous_owner`, `previous_deadline` | string, Int64 µs | `owner` and `deadline` before that claim, to report the entry as it was |
//!
//! Instants are microseconds since the Unix epoch, rounded up (a job due at
//! a sub-microsecond instant is never acquired early).

use chime_core::job::Job;
use chime_core::store::{HandOff, HandOffKey, UnreadableRecord};
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

/// A journal entry's job id, in its `_id`.
pub(crate) const ENTRY_JOB: &str = "job";
/// A journal entry's fire time, in its `_id`.
pub(crate) const ENTRY_FIRE: &str = "fire";
/// The scheduler holding a journal entry.
pub(crate) const OWNER: &str = "owner";
/// When a journal entry goes stale.
pub(crate) const DEADLINE: &str = "deadline";
/// Identifies one stale claim, to read back exactly the entries it took.
pub(crate) const CLAIM_TOKEN: &str = "claim_token";
/// `owner` before the last stale claim.
pub(crate) const PREVIOUS_OWNER: &str = "previous_owner";
/// `deadline` before the last stale claim.
pub(crate) const PREVIOUS_DEADLINE: &str = "previous_deadline";
/// Name of the journal's deadline index (stale claims).
pub(crate) const DEADLINE_INDEX: &str = "chime_hand_off_deadline";
/// Name of the journal's owner index (renewals).
pub(crate) const OWNER_INDEX: &str = "chime_hand_off_owner";

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

/// The `_id` of the journal entry `key`.
pub(crate) fn hand_off_id(key: &HandOffKey) -> Document {
    doc! { ENTRY_JOB: key.job_id.as_str(), ENTRY_FIRE: micros(key.fire_time) }
}

/// A journal entry's document.
pub(crate) fn hand_off_document(hand_off: &HandOff) -> Document {
    doc! {
        "_id": hand_off_id(&hand_off.key()),
        OWNER: hand_off.owner.as_str(),
        DEADLINE: micros(hand_off.deadline),
        RECORD: hand_off.to_record(),
    }
}

/// The entry a stale claim took, as it was before the claim: its owner and
/// deadline come from the `previous_*` fields the claim filled in.
///
/// An entry whose record cannot be read is still reported, with its key's
/// fire time as the one run it handed off (so the fire is reported as
/// interrupted rather than lost).
pub(crate) fn claimed_hand_off(doc: &Document) -> HandOff {
    let key = doc.get_document("_id").ok();
    let job_id = key
        .and_then(|k| k.get_str(ENTRY_JOB).ok())
        .map_or_else(|| id_of(doc), str::to_owned);
    let fire_time = key
        .and_then(|k| int_field(k, ENTRY_FIRE))
        .and_then(instant)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let owner = doc
        .get_str(PREVIOUS_OWNER)
        .or_else(|_| doc.get_str(OWNER))
        .unwrap_or_default()
        .to_owned();
    let stored_deadline = int_field(doc, PREVIOUS_DEADLINE).or_else(|| int_field(doc, DEADLINE));
    match doc.get_str(RECORD).ok().and_then(HandOff::from_record) {
        Some(mut entry) => {
            // The key in `_id` wins over the record's: finishing the entry
            // must find this document.
            if entry.job_id != job_id || micros(entry.fire_time) != micros(fire_time) {
                entry.job_id = job_id.into();
                entry.fire_time = fire_time;
            }
            entry.owner = owner;
            // The record's deadline is exact; the field is rounded up to
            // whole microseconds, and moved by renewals and claims.
            if let Some(stored) = stored_deadline {
                if stored != micros(entry.deadline) {
                    entry.deadline = instant(stored).unwrap_or(entry.deadline);
                }
            }
            entry
        }
        None => {
            let deadline = stored_deadline.and_then(instant).unwrap_or(fire_time);
            HandOff::unreadable(job_id, fire_time, owner, deadline)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn hand_offs_round_trip_as_they_were_before_the_claim() {
        let entry = HandOff::new(
            "nightly",
            at("2026-01-01T00:00:00.000000500Z"),
            "A",
            vec![at("2026-01-01T00:00:00Z")],
            vec![at("2025-12-31T23:59:00Z")],
            at("2026-01-01T00:00:30.000000700Z"),
        );
        let mut doc = hand_off_document(&entry);
        assert_eq!(
            doc.get_document("_id").unwrap(),
            &hand_off_id(&entry.key()),
            "the key is the _id"
        );
        assert_eq!(claimed_hand_off(&doc), entry, "the exact deadline is kept");
        // A claim by B moved owner and deadline and kept the old ones aside.
        let moved = micros(at("2026-01-01T00:01:00Z"));
        doc.insert(PREVIOUS_OWNER, "A");
        doc.insert(PREVIOUS_DEADLINE, doc.get(DEADLINE).cloned().unwrap());
        doc.insert(OWNER, "B");
        doc.insert(DEADLINE, moved);
        assert_eq!(claimed_hand_off(&doc), entry);
        // Renewed before that claim: the renewed deadline is reported.
        doc.insert(PREVIOUS_DEADLINE, moved);
        assert_eq!(claimed_hand_off(&doc).deadline, at("2026-01-01T00:01:00Z"));
    }

    #[test]
    fn unreadable_hand_offs_still_report_their_fire() {
        let fire = at("2026-01-01T00:00:00Z");
        let key = HandOffKey {
            job_id: "nightly".into(),
            fire_time: fire,
        };
        let doc = doc! {
            "_id": hand_off_id(&key),
            OWNER: "B",
            DEADLINE: micros(at("2026-01-01T00:00:30Z")),
            RECORD: "{not json",
            PREVIOUS_OWNER: "A",
            PREVIOUS_DEADLINE: micros(at("2026-01-01T00:00:10Z")),
        };
        let entry = claimed_hand_off(&doc);
        assert_eq!(
            entry,
            HandOff::new(
                "nightly",
                fire,
                "A",
                vec![fire],
                Vec::new(),
                at("2026-01-01T00:00:10Z")
            )
        );
        let planted = doc! { "_id": "by hand", RECORD: 42 };
        let entry = claimed_hand_off(&planted);
        assert_eq!(entry.job_id, "by hand");
        assert_eq!(entry.runs, [DateTime::<Utc>::MIN_UTC]);
    }

    #[test]
    fn micros_round_up_and_back() {
        let t: DateTime<Utc> = "2026-01-01T00:00:00.000001500Z".parse().unwrap();
        assert_eq!(micros(t), micros_floor(t) + 1);
        let whole: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(instant(micros(whole)), Some(whole));
        assert_eq!(opt_micros(None), Bson::Null);
    }
}
