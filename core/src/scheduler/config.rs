//! Scheduler settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::job::JobDefaults;

/// How a scheduler behaves. Every field has a default; see each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SchedulerConfig {
    /// Default time zone for triggers that name none (default UTC).
    pub timezone: chrono_tz::Tz,
    /// The longest the scheduler sleeps without looking at its stores, so a
    /// wall-clock jump or a suspend is noticed within it (default 60 s).
    #[serde(with = "duration::serde_text")]
    pub max_sleep: Duration,
    /// How often stores that other processes share but that cannot notify
    /// are polled for changes (default 1 s).
    #[serde(with = "duration::serde_text")]
    pub poll_interval: Duration,
    /// How long an acquired job stays claimed if this scheduler dies before
    /// releasing it (default 30 s).
    #[serde(with = "duration::serde_text")]
    pub lease_duration: Duration,
    /// How many due jobs are acquired from a store at a time (default 100).
    pub batch_size: usize,
    /// How far ahead of its fire time a job may be acquired and handed to
    /// its run, which then waits for the exact instant (default 100 ms;
    /// zero: only when due). A burst of jobs due at one instant is then
    /// dispatched before it and starts on time instead of one batch after
    /// another. Like Quartz's fire-ahead window: a fire already handed off
    /// runs even if its job is paused or removed, or the scheduler paused,
    /// within this window — the same as a run that has already started —
    /// and a shutdown whose timeout ends before that instant reports it
    /// cancelled (a one-shot job is then gone from its store). Leases are looked at with
    /// the same horizon: a dead scheduler's jobs are taken over up to this
    /// long before its lease ends (if it is alive after all, its release
    /// then fails and it does not run them).
    #[serde(with = "duration::serde_text")]
    pub dispatch_ahead: Duration,
    /// How long `shutdown` waits for running jobs by default (default 30 s).
    #[serde(with = "duration::serde_text")]
    pub shutdown_timeout: Duration,
    /// Defaults for job options.
    pub job_defaults: JobDefaults,
    /// Events buffered per subscriber before the oldest are dropped (default 4096).
    pub event_capacity: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            timezone: chrono_tz::UTC,
            max_sleep: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            lease_duration: Duration::from_secs(30),
            batch_size: 100,
            dispatch_ahead: Duration::from_millis(100),
            shutdown_timeout: Duration::from_secs(30),
            job_defaults: JobDefaults::default(),
            event_capacity: 4096,
        }
    }
}
