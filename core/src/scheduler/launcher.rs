//! Runs dispatched ahead of their instant (see
//! [`SchedulerConfig::dispatch_ahead`](super::SchedulerConfig::dispatch_ahead))
//! wait here: one queue and one timer for all of them, not a timer per run.
//! When their instant comes they are spawned together, so a burst of runs
//! due at one instant starts within a few milliseconds of it.
//!
//! The wait is measured on the monotonic clock (the time left until the
//! instant when the run was queued): a wall-clock step backwards cannot
//! hold a run that was handed out for its fire (its job has already moved
//! past it) for the length of the step.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{lock, Inner};

/// A run waiting to be spawned.
pub(crate) type PendingRun = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Queue {
    /// By monotonic deadline, then arrival.
    runs: BTreeMap<(Instant, u64), PendingRun>,
    arrivals: u64,
    /// Whether the launcher task is running (it ends when the queue is empty).
    running: bool,
}

/// The queue of runs waiting for their instant.
#[derive(Default)]
pub(crate) struct Launcher {
    queue: Mutex<Queue>,
    earlier: Notify,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("waiting", &lock(&self.queue).runs.len())
            .finish()
    }
}

impl Inner {
    /// Spawns `run` at `at` (by the scheduler's clock). Shutdown waits for
    /// it like for a started run; cancellation spawns it at once (it then
    /// reports itself cancelled).
    pub(crate) fn launch_at(self: &Arc<Self>, at: DateTime<Utc>, run: PendingRun) {
        let wait = (at - self.clock.now()).to_std().unwrap_or_default();
        let deadline = Instant::now() + wait;
        let mut queue = lock(&self.launcher.queue);
        let earliest = queue
            .runs
            .keys()
            .next()
            .is_none_or(|(first, _)| deadline < *first);
        let arrival = queue.arrivals;
        queue.arrivals = arrival.wrapping_add(1);
        queue.runs.insert((deadline, arrival), run);
        if !queue.running {
            queue.running = true;
            self.runs.spawn(launch_when_due(Arc::clone(self)));
        } else if earliest {
            self.launcher.earlier.notify_one();
        }
    }
}

/// The launcher task: spawns the runs whose instant has come, sleeps until
/// the next one, and ends when none is left.
async fn launch_when_due(inner: Arc<Inner>) {
    loop {
        let cancelled = inner.cancel_runs.is_cancelled();
        let (due, next) = {
            let mut queue = lock(&inner.launcher.queue);
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = queue.runs.first_entry() {
                if entry.key().0 > now && !cancelled {
                    break;
                }
                due.push(entry.remove());
            }
            let next = queue.runs.keys().next().map(|(at, _)| *at);
            if due.is_empty() && next.is_none() {
                queue.running = false;
                return;
            }
            (due, next)
        };
        for run in due {
            inner.runs.spawn(run);
        }
        let Some(deadline) = next else {
            continue;
        };
        tokio::select! {
            biased;
            _ = inner.cancel_runs.cancelled() => {}
            _ = inner.launcher.earlier.notified() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}
