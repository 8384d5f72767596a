//! The versioned storage format of a job record.
//!
//! A record is one JSON object: `{"version": 1, "id": …, "name": …, "task": …,
//! "args": …, "trigger": {"kind": …, …}, "executor": …,
//! "misfire_grace_time": "1m" | null, "coalesce": …, "max_instances": …,
//! "priority": …, "next_run_time": RFC 3339 | null, "trigger_time": RFC 3339 | null}`.
//! A record with a newer `version` than this build knows is refused as
//! unreadable (and kept by the store), never guessed at.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use arcstr::ArcStr;

use super::{recent_texts, record_time, Job};
use crate::duration;
use crate::error::{Error, ErrorKind, Result};

/// The record format version this build writes and the newest it reads.
pub const RECORD_VERSION: u64 = 1;

impl Job {
    /// Encodes the job as a record (a JSON object with a `version`).
    pub fn to_record_value(&self) -> Result<Value> {
        let mut value = serde_json::to_value(self).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode job record")
                .with_job(&self.id)
                .with_source(e)
        })?;
        if let Value::Object(map) = &mut value {
            map.insert("version".into(), Value::from(RECORD_VERSION));
        }
        Ok(value)
    }

    /// Encodes the job as record text: in one pass, with the trigger
    /// spec's text copied in as it is (the same text as
    /// [`to_record_value`](Self::to_record_value) gives, keys sorted).
    ///
    /// ```
    /// # use chime_core::{job::{Job, NewJob, JobDefaults}, trigger::DateTrigger};
    /// # let at = "2026-05-01T09:00:00Z".parse().unwrap();
    /// # let job = NewJob::new("report", DateTrigger::new(at)).id("r1")
    /// #     .into_job(at, &JobDefaults::default(), chrono_tz::UTC).unwrap();
    /// let text = job.to_record().unwrap();
    /// assert_eq!(Job::from_record(&text).unwrap(), job);
    /// ```
    pub fn to_record(&self) -> Result<String> {
        let encode_error = |e: serde_json::Error| {
            Error::new(ErrorKind::Internal, "cannot encode job record")
                .with_job(&self.id)
                .with_source(e)
        };
        let trigger =
            RawValue::from_string(self.trigger.as_json().to_owned()).map_err(encode_error)?;
        let record = RecordOut {
            args: &self.args,
            coalesce: self.coalesce,
            executor: &self.executor,
            id: &self.id,
            labels: &self.labels,
            max_instances: self.max_instances,
            misfire_grace_time: self.misfire_grace_time,
            name: &self.name,
            next_run_time: self.next_run_time,
            priority: self.priority,
            task: &self.task,
            trigger: &trigger,
            trigger_time: self.trigger_time,
            version: RECORD_VERSION,
        };
        serde_json::to_string(&record).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode job record")
                .with_job(&self.id)
                .with_source(e)
        })
    }

    /// Decodes record text; anything wrong is an
    /// [`ErrorKind::UnreadableRecord`] error naming the job id when it can be
    /// found.
    pub fn from_record(text: &str) -> Result<Job> {
        // The usual case in one typed pass, the trigger spec's text kept
        // as it is; anything unusual takes the path below, which names the
        // problem. (A typed pass would also read a JSON array as the
        // struct's fields in order: records are objects only.)
        if text.trim_start().starts_with('{') {
            if let Some(job) = serde_json::from_str::<RecordIn<'_>>(text)
                .ok()
                .and_then(RecordIn::into_job)
            {
                return Ok(job);
            }
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::new(
                ErrorKind::UnreadableRecord,
                format!("record is not valid JSON: {e}"),
            )
        })?;
        Job::from_record_value(value)
    }

    /// Decodes a record value; see [`from_record`](Job::from_record).
    pub fn from_record_value(value: Value) -> Result<Job> {
        let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        let attach = |err: Error| match &id {
            Some(id) => err.with_job(id.clone()),
            None => err,
        };
        let Value::Object(mut map) = value else {
            return Err(Error::new(
                ErrorKind::UnreadableRecord,
                "record is not a JSON object",
            ));
        };
        let version = match map.remove("version") {
            Some(v) => v.as_u64().ok_or_else(|| {
                attach(Error::new(
                    ErrorKind::UnreadableRecord,
                    format!("record version {v} is not a positive integer"),
                ))
            })?,
            None => {
                return Err(attach(Error::new(
                    ErrorKind::UnreadableRecord,
                    "record has no format version",
                )))
            }
        };
        if version > RECORD_VERSION {
            return Err(attach(Error::new(
                ErrorKind::UnreadableRecord,
                format!(
                    "record format version {version} is newer than this build reads ({RECORD_VERSION})"
                ),
            )));
        }
        serde_json::from_value(Value::Object(map)).map_err(|e| {
            attach(Error::new(
                ErrorKind::UnreadableRecord,
                format!("record does not match the job format: {e}"),
            ))
        })
    }
}

/// A record as [`Job::to_record`] writes it: the job's fields in key
/// order, then the format version.
#[derive(Serialize)]
struct RecordOut<'a> {
    args: &'a Value,
    coalesce: bool,
    executor: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    max_instances: u32,
    #[serde(with = "duration::serde_text_opt")]
    misfire_grace_time: Option<Duration>,
    name: &'a str,
    #[serde(serialize_with = "record_time::serialize_opt")]
    next_run_time: Option<DateTime<Utc>>,
    priority: i32,
    task: &'a str,
    trigger: &'a RawValue,
    #[serde(serialize_with = "record_time::serialize_opt")]
    trigger_time: Option<DateTime<Utc>>,
    version: u64,
}

/// A record read in one pass: [`Job`]'s fields (with the same serde
/// attributes) and the format version, the trigger spec as its raw text.
/// A record this does not read (or [`RecordIn::into_job`] declines) goes
/// through the value path of [`Job::from_record`], which is the reference.
#[derive(Deserialize)]
struct RecordIn<'a> {
    id: ArcStr,
    // Names most records repeat: one shared copy each (see `recent_texts`).
    #[serde(deserialize_with = "recent_texts::deserialize_shared_name")]
    name: ArcStr,
    #[serde(deserialize_with = "recent_texts::deserialize_shared_name")]
    task: ArcStr,
    #[serde(default)]
    args: Value,
    #[serde(borrow)]
    trigger: &'a RawValue,
    #[serde(deserialize_with = "recent_texts::deserialize_shared_name")]
    executor: ArcStr,
    #[serde(with = "duration::serde_text_opt")]
    misfire_grace_time: Option<Duration>,
    coalesce: bool,
    max_instances: u32,
    #[serde(default)]
    priority: i32,
    #[serde(default, deserialize_with = "record_time::deserialize_opt")]
    next_run_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "record_time::deserialize_opt")]
    trigger_time: Option<DateTime<Utc>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    version: Option<u64>,
}

impl RecordIn<'_> {
    /// The job, unless the version is missing or newer than this build
    /// reads, or the trigger spec's text is not canonical: the value path
    /// reads (or refuses) those, exactly as it did before this pass.
    fn into_job(self) -> Option<Job> {
        if self.version.is_none_or(|v| v > RECORD_VERSION) {
            return None;
        }
        let trigger = recent_texts::shared_spec(self.trigger.get())?;
        Some(Job {
            id: self.id,
            name: self.name,
            task: self.task,
            args: self.args,
            trigger,
            executor: self.executor,
            misfire_grace_time: self.misfire_grace_time,
            coalesce: self.coalesce,
            max_instances: self.max_instances,
            priority: self.priority,
            next_run_time: self.next_run_time,
            trigger_time: self.trigger_time,
            labels: self.labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobDefaults, NewJob};
    use crate::trigger::IntervalTrigger;

    fn sample() -> Job {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        NewJob::new("report", IntervalTrigger::seconds(60).unwrap())
            .id("r1")
            .args(serde_json::json!({"to": "ops@example.com"}))
            .into_job(now, &JobDefaults::default(), chrono_tz::UTC)
            .unwrap()
    }

    #[test]
    fn round_trips_and_is_readable_json() {
        let job = sample();
        let text = job.to_record().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["id"], "r1");
        assert_eq!(value["trigger"]["kind"], "interval");
        assert_eq!(value["misfire_grace_time"], "1m");
        assert_eq!(Job::from_record(&text).unwrap(), job);
    }

    #[test]
    fn the_one_pass_codec_agrees_with_the_value_path() {
        let mut job = sample();
        job.labels.insert("origin".into(), "config".into());
        job.misfire_grace_time = None;
        job.trigger_time = None;
        let text = job.to_record().unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, job.to_record_value().unwrap());
        assert_eq!(Job::from_record(&text).unwrap(), job);
        // What the typed pass refuses (a repeated key) still decodes the
        // way a JSON object reads: the last value wins.
        let repeated = text.replacen('{', r#"{"priority":7,"#, 1);
        assert_eq!(Job::from_record(&repeated).unwrap(), job);
    }

    #[test]
    fn newer_versions_and_garbage_are_unreadable_with_the_id() {
        let mut value = sample().to_record_value().unwrap();
        value["version"] = Value::from(2);
        let err = Job::from_record_value(value).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnreadableRecord);
        assert_eq!(err.job_id(), Some("r1"));
        assert!(err.message().contains("version 2"));

        let err = Job::from_record("{not json").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnreadableRecord);

        let err = Job::from_record(r#"{"version":1,"id":"x","task":5}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnreadableRecord);
        assert_eq!(err.job_id(), Some("x"));
    }

    #[test]
    fn a_trigger_spec_written_another_way_reads_as_the_value_path_reads_it() {
        let job = sample();
        let canonical = job.trigger.as_json().to_owned();
        let text = job.to_record().unwrap();
        // The same spec with spaces, keys out of order, an escaped
        // character and a float: as another tool or an older build might
        // have written it.
        let other =
            r#"{ "start": "2026-01-01T00:00:00Z", "seconds": 60.0, "kind": "interv\u0061l" }"#;
        let other_text = text.replacen(&canonical, other, 1);
        assert_ne!(other_text, text);
        let by_value = Job::from_record_value(serde_json::from_str(&other_text).unwrap()).unwrap();
        let read = Job::from_record(&other_text).unwrap();
        assert_eq!(read, by_value);
        assert_eq!(read.trigger.kind(), "interval");
        assert!(!read.trigger.as_json().contains(' '), "kept canonical");
        // A newer record version is still refused with its reason.
        let newer = text.replace(r#""version":1"#, r#""version":2"#);
        let err = Job::from_record(&newer).unwrap_err();
        assert!(err.message().contains("version 2"), "{err}");
        // Records are objects: the fields in an array (in the order the
        // typed pass declares them) are no record.
        let fields: Value = serde_json::from_str(&text).unwrap();
        let in_order = [
            "id",
            "name",
            "task",
            "args",
            "trigger",
            "executor",
            "misfire_grace_time",
            "coalesce",
            "max_instances",
            "priority",
            "next_run_time",
            "trigger_time",
            "labels",
            "version",
        ];
        let array = Value::Array(
            in_order
                .iter()
                .map(|key| fields.get(key).cloned().unwrap_or(serde_json::json!({})))
                .collect(),
        )
        .to_string();
        let err = Job::from_record(&array).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnreadableRecord);
        // A spec nested as deep as JSON allows counts from the record, as
        // in the value path, not from the spec.
        let deep = format!(
            r#"{{"kind":"interval","n":{}0{},"seconds":60}}"#,
            "[".repeat(126),
            "]".repeat(126)
        );
        let deep_text = text.replacen(&canonical, &deep, 1);
        assert!(
            serde_json::from_str::<Value>(&deep_text).is_err(),
            "too deep for JSON"
        );
        assert_eq!(
            Job::from_record(&deep_text).map_err(|e| e.kind()),
            Err(ErrorKind::UnreadableRecord)
        );
        // A spec without a kind is unreadable, not a job with no trigger.
        let kindless = text.replacen(&canonical, r#"{"seconds":60}"#, 1);
        let err = Job::from_record(&kindless).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnreadableRecord);
        assert_eq!(err.job_id(), Some("r1"));
    }

    #[test]
    fn every_built_in_trigger_spec_is_read_back_as_written() {
        for spec in crate::trigger::built_in_samples() {
            let mut job = sample();
            job.trigger = spec.clone();
            let read = Job::from_record(&job.to_record().unwrap()).unwrap();
            assert_eq!(read.trigger.as_json(), spec.as_json());
            assert_eq!(read, job);
        }
    }
}
