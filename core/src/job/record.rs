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

use super::Job;
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
        // The usual case in one typed pass (plus a skim for the version);
        // anything unusual takes the path below, which names the problem.
        if let Ok(RecordVersion { version: Some(v) }) = serde_json::from_str(text) {
            if v <= RECORD_VERSION {
                if let Ok(job) = serde_json::from_str::<Job>(text) {
                    return Ok(job);
                }
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
    next_run_time: Option<DateTime<Utc>>,
    priority: i32,
    task: &'a str,
    trigger: &'a RawValue,
    trigger_time: Option<DateTime<Utc>>,
    version: u64,
}

/// Just a record's format version (every other field skipped).
#[derive(Deserialize)]
struct RecordVersion {
    version: Option<u64>,
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
}
