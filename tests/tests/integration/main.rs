//! Workspace integration tests: one binary, one module per area.
//!
//! Timing tests run on tokio's paused clock with a [`TestClock`] anchored at
//! a fixed instant: sleeping in a test advances virtual time instantly and
//! exactly, so fire times are asserted to the nanosecond, never hoped for.
//!
//! [`TestClock`]: chime::clock::TestClock

mod cron_schedule;
mod cron_trigger;
mod harness;
mod mongo_store;
mod multi_process;
mod outage;
mod redis_store;
mod scheduler_errors;
mod scheduler_journal;
mod scheduler_misfire;
mod scheduler_operations;
mod scheduler_runs;
mod scheduler_stores;
mod scheduler_sync;
mod sqlite_store;
mod store_conformance;
mod triggers_calendar;
mod triggers_combinators;
mod triggers_every;
