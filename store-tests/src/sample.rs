//! Sample jobs for the checks.

use chime_core::job::{Job, JobDefaults, NewJob, NextRun};
use chime_core::trigger::IntervalTrigger;
use chrono::{DateTime, TimeDelta, Utc};

/// The instant the checks treat as "now": 2026-01-01T00:00:00Z.
pub const T0: &str = "2026-01-01T00:00:00Z";

/// `T0 + secs`.
pub fn at(secs: i64) -> DateTime<Utc> {
    let t0: DateTime<Utc> = T0.parse().unwrap_or_default();
    t0 + TimeDelta::seconds(secs)
}

/// A job with `id`, due at `next` (paused if `None`), with `priority`.
pub fn sample_job(id: &str, next: Option<DateTime<Utc>>, priority: i32) -> Job {
    let next_run = match next {
        Some(t) => NextRun::At(t),
        None => NextRun::Paused,
    };
    let trigger = IntervalTrigger::seconds(60)
        .map(|t| t.starting_at(at(0)))
        .expect("a 60 s interval is valid");
    NewJob::new("sample_task", trigger)
        .id(id)
        .priority(priority)
        .next_run(next_run)
        .args(serde_json::json!({"id": id, "n": 1}))
        .into_job(at(0), &JobDefaults::default(), chrono_tz::UTC)
        .expect("the sample job is valid")
}
