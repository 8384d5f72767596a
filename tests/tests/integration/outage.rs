//! What a server outage must leave behind, checked the same way for every
//! networked store (`redis_store.rs`, `mongo_store.rs`).

use chime::chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// A run: job id, the fire times it stands for, when it started.
pub type RunSeen = (String, Vec<DateTime<Utc>>, DateTime<Utc>);

/// Checks the runs of an outage test: `memory_job` (on a memory store
/// beside the failing one) fired every second of the outage from `down_at`
/// to `up_at`; `job` (on the failing store, every second from `start`) ran
/// every fire exactly once up to its last run, but for at most the one in
/// flight at the kill, with the outage's fires coalesced into one run.
pub fn check_outage_runs(
    seen: &[RunSeen],
    server: &str,
    memory_job: &str,
    job: &str,
    start: DateTime<Utc>,
    down_at: DateTime<Utc>,
    up_at: DateTime<Utc>,
) {
    // The memory store never stopped: a run for every second of the outage.
    let memory: Vec<DateTime<Utc>> = seen
        .iter()
        .filter(|r| r.0 == memory_job)
        .flat_map(|r| r.1.clone())
        .collect();
    let mut t = down_at.duration_trunc(TimeDelta::seconds(1)).unwrap() + TimeDelta::seconds(1);
    while t < up_at {
        assert!(
            memory.contains(&t),
            "the memory store missed {t} during the {server} outage"
        );
        t += TimeDelta::seconds(1);
    }
    // The failing store: every fire from the start to the last one ran
    // exactly once, the outage's fires coalesced into one run after it.
    let mut times: Vec<DateTime<Utc>> = seen
        .iter()
        .filter(|r| r.0 == job)
        .flat_map(|r| r.1.clone())
        .collect();
    let total = times.len();
    times.sort();
    times.dedup();
    assert_eq!(times.len(), total, "no fire ran twice");
    let last = *times.last().unwrap();
    let grid: Vec<DateTime<Utc>> = (0..)
        .map(|k| start + TimeDelta::seconds(k))
        .take_while(|t| *t <= last)
        .collect();
    // At most the fire in flight at the kill may be lost (runs are released
    // before they execute).
    let lost: Vec<_> = grid.iter().filter(|t| !times.contains(t)).collect();
    assert!(lost.len() <= 1, "fires lost: {lost:?}");
    let coalesced = seen.iter().filter(|r| r.0 == job && r.1.len() >= 3).count();
    assert_eq!(
        coalesced, 1,
        "one run after the outage stands for its fires"
    );
}
