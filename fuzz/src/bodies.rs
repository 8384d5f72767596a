//! What each fuzz target does with one input. The same functions run in
//! the fuzz targets (`fuzz/fuzz_targets/`, on nightly with cargo-fuzz) and
//! in the corpus replay of the normal test suite (`cli/tests/cli.rs`), so a
//! crash found by fuzzing stays fixed once its input is in the corpus.
//! Every function must return for any input: an error is fine, a panic is
//! the bug being looked for.

use chime_core::trigger::cron::{CronFields, CronSchedule};
use chime_core::trigger::TriggerRegistry;
use chrono::{DateTime, Utc};

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_774_746_000, 0).unwrap_or_default() // 2026-03-29T01:00:00Z
}

/// Steps a parsed schedule through a DST change in two zones.
fn exercise(schedule: &CronSchedule) {
    let _ = schedule.describe();
    for zone in [chrono_tz::Europe::Helsinki, chrono_tz::America::New_York] {
        let mut t = start();
        for _ in 0..8 {
            match schedule.next_at_or_after(t, zone) {
                Some(next) => t = next + chrono::TimeDelta::seconds(1),
                None => break,
            }
        }
    }
}

/// A crontab expression (5–7 fields, `@daily`, L/W/#, names).
pub fn cron_crontab(data: &[u8]) {
    if let Ok(schedule) = CronSchedule::parse_crontab(&text(data)) {
        exercise(&schedule);
    }
}

/// APScheduler-style fields, split on NUL bytes (year, month, day, week,
/// day_of_week, hour, minute, second; an empty part is unset).
pub fn cron_fields(data: &[u8]) {
    let text = text(data);
    let mut parts = text
        .split('\0')
        .map(|p| (!p.is_empty()).then(|| p.to_owned()));
    let mut next = || parts.next().flatten();
    let fields = CronFields {
        year: next(),
        month: next(),
        day: next(),
        week: next(),
        day_of_week: next(),
        hour: next(),
        minute: next(),
        second: next(),
    };
    if let Ok(schedule) = CronSchedule::from_fields(&fields) {
        exercise(&schedule);
    }
}

/// A `chime.toml` config file, and everything the daemon derives from it.
pub fn config(data: &[u8]) {
    let path = std::path::PathBuf::from("fuzz.toml");
    if let Ok(loaded) = chime_cli::config::parse(path, text(data)) {
        let _ = loaded.scheduler_config();
        let _ = loaded.executor_times();
        let _ = loaded.default_jitter();
        let _ = loaded.job_defaults();
        let _ = loaded.timezone();
    }
}

/// A stored job record, as a store reads it back, then its trigger.
pub fn job_record(data: &[u8]) {
    if let Ok(job) = chime_core::store::decode_record("fuzz", &text(data)) {
        let registry = TriggerRegistry::with_builtins();
        if let Ok(trigger) = registry.decode(&job.trigger) {
            let _ = trigger.describe();
            let mut previous = None;
            for _ in 0..4 {
                match trigger.next_fire_time(previous, start()) {
                    Some(next) => previous = Some(next),
                    None => break,
                }
            }
        }
    }
}
