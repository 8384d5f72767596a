//! Runs dispatched ahead of their instant (see
//! [`SchedulerConfig::dispatch_ahead`](super::SchedulerConfig::dispatch_ahead))
//! wait here: one queue and one timer for all of them, not a timer per run.
//! When their instant comes they are spawned together, so a burst of runs
//! due at one instant starts within a few milliseconds of it; the last
//! stretch of the wait is a thread sleep, finer than tokio's millisecond
//! timer (see `wait_until`).
//!
//! The wait is measured on the monotonic clock (the time left until the
//! instant when the run was queued): a wall-clock step backwards cannot
//! hold a run that was handed out for its fire (its job has already moved
//! past it) for the length of the step. Only a lag of up to [`MAX_SLEW`]
//! (NTP slewing) is waited out, once, so that a run does not see a time
//! before its instant.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{lock, Inner};

/// A run waiting to be spawned.
pub(crate) type PendingRun = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Queue {
    /// By monotonic deadline, then arrival; with the instant (by the
    /// scheduler's clock) the run waits for, and whether it has already
    /// been held once for that clock to catch up.
    runs: BTreeMap<(Instant, u64), (DateTime<Utc>, PendingRun, bool)>,
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
        queue.runs.insert((deadline, arrival), (at, run, false));
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
            let wall_now = inner.clock.now();
            let mut due = Vec::new();
            while let Some(entry) = queue.runs.first_entry() {
                if entry.key().0 > now && !cancelled {
                    break;
                }
                let (at, run, held) = entry.remove();
                match (at - wall_now).to_std() {
                    // The scheduler's clock runs slow against the monotonic
                    // one (NTP slewing): the rest of the way, once, so that
                    // a run does not see a time before its instant. A step
                    // backwards (more than a slew) does not hold it, nor
                    // does a clock that stays behind.
                    Ok(left) if !left.is_zero() && left <= MAX_SLEW && !held && !cancelled => {
                        let arrival = queue.arrivals;
                        queue.arrivals = arrival.wrapping_add(1);
                        queue.runs.insert((now + left, arrival), (at, run, true));
                    }
                    _ => due.push(run),
                }
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
            _ = wait_until(deadline) => {}
        }
    }
}

/// How far the scheduler's clock may lag the monotonic clock at an instant
/// and still be waited for (see `launch_when_due`).
const MAX_SLEW: Duration = Duration::from_millis(10);

/// The last stretch before an instant that is waited for on a thread of
/// the blocking pool rather than on tokio's timer.
const PRECISE_STRETCH: Duration = Duration::from_millis(2);

/// Waits until `deadline`, waking within tens of microseconds after it.
///
/// tokio's timer counts whole milliseconds, and a worker parked in the I/O
/// driver rounds its timeout up to a millisecond again, so a plain
/// `sleep_until` wakes 0.5–2 ms late: most of the lateness of a run handed
/// out ahead. So the timer only sleeps until [`PRECISE_STRETCH`] before the
/// instant; the rest is a thread sleep on the blocking pool (which never
/// ends early), whose end wakes this task at once. One such sleep per
/// instant, not per run. Under a paused tokio clock (tests) the thread
/// sleep ends before that clock reaches the deadline, and the timer takes
/// over again.
async fn wait_until(deadline: Instant) {
    let coarse = deadline.checked_sub(PRECISE_STRETCH).unwrap_or(deadline);
    if Instant::now() < coarse {
        tokio::time::sleep_until(coarse).await;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        // If the launcher stops waiting (an earlier run arrived), the
        // thread still ends within the stretch. The timer races it: a
        // blocking pool busy with blocking jobs (or SQLite calls) queues the
        // sleep, and must not hold the runs longer than the timer would.
        let precise = tokio::task::spawn_blocking(move || std::thread::sleep(left));
        tokio::select! {
            _ = precise => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    if Instant::now() < deadline {
        tokio::time::sleep_until(deadline).await;
    }
}
