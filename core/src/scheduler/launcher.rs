//! Runs dispatched ahead of their instant (see
//! [`SchedulerConfig::dispatch_ahead`](super::SchedulerConfig::dispatch_ahead))
//! wait here: one gate per instant and one timer for all of them, not a
//! timer per run. A run is spawned when it is dispatched and waits on its
//! instant's gate; when the instant comes the gate opens and wakes every
//! run at once, so a burst of runs due at one instant starts within a few
//! milliseconds of it. Waking a waiting task costs a fraction of spawning
//! one, and the spawning happened ahead, off the instant. The last stretch
//! of the wait is a thread sleep, finer than tokio's millisecond timer
//! (see `wait_until`).
//!
//! A gate is a child of the scheduler's run cancellation: cancelling the
//! runs at shutdown opens every gate, and the runs report themselves
//! cancelled.
//!
//! The wait is measured on the monotonic clock (the time left until the
//! instant when the gate was made): a wall-clock step backwards cannot
//! hold a run that was handed out for its fire (its job has already moved
//! past it) for the length of the step. Only a lag of up to [`MAX_SLEW`]
//! (NTP slewing) is waited out, once, so that a run does not see a time
//! before its instant.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{lock, Inner};

/// The gate of one instant: opened (cancelled) when the instant comes.
pub(crate) type Gate = CancellationToken;

#[derive(Default)]
struct Queue {
    /// By monotonic deadline, then arrival; with the instant (by the
    /// scheduler's clock) the gate opens at, and whether it has already
    /// been held once for that clock to catch up.
    gates: BTreeMap<(Instant, u64), (DateTime<Utc>, Gate, bool)>,
    /// The gates not yet opened, by instant: runs due at one instant share
    /// its gate.
    by_instant: HashMap<DateTime<Utc>, Gate>,
    arrivals: u64,
    /// Whether the launcher task is running (it ends when the queue is empty).
    running: bool,
}

/// The gates of the instants runs are waiting for.
#[derive(Default)]
pub(crate) struct Launcher {
    queue: Mutex<Queue>,
    earlier: Notify,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("instants", &lock(&self.queue).gates.len())
            .finish()
    }
}

impl Inner {
    /// The gate that opens at `at` (by the scheduler's clock) for a run to
    /// wait on; shared by every run due at that instant. Cancelling the
    /// runs opens it at once.
    pub(crate) fn gate_at(self: &Arc<Self>, at: DateTime<Utc>) -> Gate {
        let mut queue = lock(&self.launcher.queue);
        if let Some(gate) = queue.by_instant.get(&at) {
            return gate.clone();
        }
        let wait = (at - self.clock.now()).to_std().unwrap_or_default();
        let deadline = Instant::now() + wait;
        let gate = self.cancel_runs.child_token();
        let earliest = queue
            .gates
            .keys()
            .next()
            .is_none_or(|(first, _)| deadline < *first);
        let arrival = queue.arrivals;
        queue.arrivals = arrival.wrapping_add(1);
        queue
            .gates
            .insert((deadline, arrival), (at, gate.clone(), false));
        queue.by_instant.insert(at, gate.clone());
        if !queue.running {
            queue.running = true;
            self.runs.spawn(open_when_due(Arc::clone(self)));
        } else if earliest {
            self.launcher.earlier.notify_one();
        }
        gate
    }
}

/// The launcher task: opens the gates whose instant has come, sleeps until
/// the next one, and ends when none is left (or the runs are cancelled,
/// which opens every gate).
async fn open_when_due(inner: Arc<Inner>) {
    loop {
        if inner.cancel_runs.is_cancelled() {
            let mut queue = lock(&inner.launcher.queue);
            queue.gates.clear();
            queue.by_instant.clear();
            queue.running = false;
            return;
        }
        let (due, next) = {
            let mut queue = lock(&inner.launcher.queue);
            let now = Instant::now();
            let wall_now = inner.clock.now();
            let mut due = Vec::new();
            while let Some(entry) = queue.gates.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (at, gate, held) = entry.remove();
                match (at - wall_now).to_std() {
                    // The scheduler's clock runs slow against the monotonic
                    // one (NTP slewing): the rest of the way, once, so that
                    // a run does not see a time before its instant. A step
                    // backwards (more than a slew) does not hold it, nor
                    // does a clock that stays behind.
                    Ok(left) if !left.is_zero() && left <= MAX_SLEW && !held => {
                        let arrival = queue.arrivals;
                        queue.arrivals = arrival.wrapping_add(1);
                        queue.gates.insert((now + left, arrival), (at, gate, true));
                    }
                    _ => {
                        queue.by_instant.remove(&at);
                        due.push(gate);
                    }
                }
            }
            let next = queue.gates.keys().next().map(|(at, _)| *at);
            if due.is_empty() && next.is_none() {
                queue.running = false;
                return;
            }
            (due, next)
        };
        for gate in due {
            gate.cancel();
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
/// and still be waited for (see `open_when_due`).
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
