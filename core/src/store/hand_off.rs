//! The dispatch journal: fires a release hands to runs, kept in the store
//! until the runs end, so a scheduler that dies in between (SIGKILL, power
//! loss) cannot lose a fire without a report.
//!
//! The protocol, for stores with the `journal` capability:
//!
//! 1. [`release_jobs`](super::JobStore::release_jobs) records each
//!    [`JobRelease::hand_off`] *in the same atomic step* as the release it
//!    belongs to: the fire moves out of the job's schedule and into the
//!    journal at once, never into neither.
//! 2. The scheduler reports the hand-off's missed fires, runs its runs, and
//!    then [`finish_hand_offs`](super::JobStore::finish_hand_offs) removes
//!    the entry. While runs go on it
//!    [`renew_hand_offs`](super::JobStore::renew_hand_offs) pushes the
//!    entries' deadlines forward, as a lease is renewed.
//! 3. An entry past its deadline belongs to a scheduler that stopped.
//!    Any live scheduler
//!    [`claim_stale_hand_offs`](super::JobStore::claim_stale_hand_offs)
//!    (atomically, like acquiring jobs: one claimer per entry), reports its
//!    runs as interrupted and its missed fires as missed, then finishes it.
//!    A claimer that dies before finishing leaves the entry to expire again:
//!    a fire may be reported twice, never lost.

use arcstr::ArcStr;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Release;

/// Fires of one job handed from a release to runs on one scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HandOff {
    /// The job.
    pub job_id: ArcStr,
    /// The trigger fire time the release moved the job past: with `job_id`,
    /// the entry's key (see [`HandOffKey`]).
    pub fire_time: DateTime<Utc>,
    /// The scheduler the fires were handed to (its owner id), or the one
    /// that claimed the entry as stale.
    pub owner: String,
    /// The scheduled times handed to runs, in order.
    pub runs: Vec<DateTime<Utc>>,
    /// Fires that missed their grace time, still to be reported.
    pub missed: Vec<DateTime<Utc>>,
    /// After this instant the entry is stale: its owner stopped.
    pub deadline: DateTime<Utc>,
}

impl HandOff {
    /// A hand-off of `runs` and `missed` fires of `job_id` to `owner`.
    pub fn new(
        job_id: impl Into<ArcStr>,
        fire_time: DateTime<Utc>,
        owner: impl Into<String>,
        runs: Vec<DateTime<Utc>>,
        missed: Vec<DateTime<Utc>>,
        deadline: DateTime<Utc>,
    ) -> Self {
        HandOff {
            job_id: job_id.into(),
            fire_time,
            owner: owner.into(),
            runs,
            missed,
            deadline,
        }
    }

    /// Stands in for an entry whose stored record cannot be read (logged as
    /// a warning): what the store keeps beside it — job, fire time, owner,
    /// deadline — still reports the fire, as the entry's one run.
    pub fn unreadable(
        job_id: impl Into<ArcStr>,
        fire_time: DateTime<Utc>,
        owner: impl Into<String>,
        deadline: DateTime<Utc>,
    ) -> Self {
        let job_id = job_id.into();
        tracing::warn!(job_id = %job_id, "unreadable dispatch journal entry; reporting its fire time alone");
        HandOff::new(
            job_id,
            fire_time,
            owner,
            vec![fire_time],
            Vec::new(),
            deadline,
        )
    }

    /// The entry's key in the journal.
    pub fn key(&self) -> HandOffKey {
        HandOffKey {
            job_id: self.job_id.clone(),
            fire_time: self.fire_time,
        }
    }

    /// The entry as stored: JSON text (stores keep the key, owner and
    /// deadline in columns of their own beside it).
    pub fn to_record(&self) -> String {
        // A struct of strings and times always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An entry read back from [`to_record`](Self::to_record) text; `None`
    /// when the text is not one (the caller reports it).
    pub fn from_record(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// Identifies a journal entry: a job and the fire time of its release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HandOffKey {
    /// The job.
    pub job_id: ArcStr,
    /// The fire time of the release ([`HandOff::fire_time`]).
    pub fire_time: DateTime<Utc>,
}

/// One entry of [`JobStore::release_jobs`](super::JobStore::release_jobs):
/// how a lease ends and, for stores with a journal, what it hands to runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRelease {
    /// The job.
    pub id: ArcStr,
    /// How its lease ends.
    pub release: Release,
    /// Fires handed to runs by this release, recorded in the journal
    /// atomically with it (ignored by stores without a journal).
    pub hand_off: Option<HandOff>,
}

impl JobRelease {
    /// A release with no hand-off.
    pub fn new(id: impl Into<ArcStr>, release: Release) -> Self {
        JobRelease {
            id: id.into(),
            release,
            hand_off: None,
        }
    }

    /// Adds the hand-off recorded with the release.
    pub fn with_hand_off(mut self, hand_off: HandOff) -> Self {
        self.hand_off = Some(hand_off);
        self
    }
}
