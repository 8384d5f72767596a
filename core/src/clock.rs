//! Where the scheduler reads the time from.
//!
//! Production code uses [`SystemClock`]. Tests use [`TestClock`], which starts
//! at a chosen UTC instant and then follows tokio's clock, so
//! `#[tokio::test(start_paused = true)]` makes every timing test exact and
//! instant; [`TestClock::jump`] simulates a wall-clock jump or a suspend.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// A source of wall-clock time in UTC.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock for tests: starts at a chosen instant and advances with tokio's
/// (pausable) time; [`jump`](TestClock::jump) moves the wall clock without
/// moving tokio's timers, like an NTP correction or a laptop resuming.
///
/// ```
/// use chime_core::clock::{Clock, TestClock};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// let clock = TestClock::new(start);
/// tokio::time::sleep(std::time::Duration::from_secs(5)).await;
/// assert_eq!(clock.now(), start + chrono::TimeDelta::seconds(5));
/// # }
/// ```
pub struct TestClock {
    start: DateTime<Utc>,
    started: tokio::time::Instant,
    offset: Mutex<TimeDelta>,
}

impl TestClock {
    /// A clock that reads `start` now. Must be called inside a tokio runtime
    /// context only if tokio's time is paused; otherwise anywhere.
    pub fn new(start: DateTime<Utc>) -> Self {
        TestClock {
            start,
            started: tokio::time::Instant::now(),
            offset: Mutex::new(TimeDelta::zero()),
        }
    }

    /// Moves the wall clock by `delta` (negative: backwards) without
    /// advancing tokio's time.
    pub fn jump(&self, delta: TimeDelta) {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset += delta;
    }
}

impl fmt::Debug for TestClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClock")
            .field("start", &self.start)
            .field("now", &self.now())
            .finish()
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed();
        let elapsed = TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX);
        let offset = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        self.start
            .checked_add_signed(elapsed)
            .and_then(|t| t.checked_add_signed(offset))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}
