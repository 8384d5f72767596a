//! `cron`: APScheduler keyword fields and crontab strings, evaluated in an
//! IANA time zone with cron's own daylight-saving rules.
//!
//! - Crontab strings ([`CronSchedule::parse_crontab`]): 5 fields
//!   `min hour dom month dow`, 6 with leading seconds, 7 with a trailing
//!   year; names; `?`; macros `@yearly @annually @monthly @weekly @daily
//!   @midnight @hourly`; `L`, `LW`, `15W`, `5L`, `5#3`; the Vixie rule (when
//!   both day fields are restricted either may match, unless one starts
//!   with `*`).
//! - APScheduler keyword fields ([`CronFields`]): 0 = Monday, `xth y`,
//!   `last x`, `last`, ISO weeks, APScheduler's defaulting of omitted fields.
//! - Daylight saving (Vixie cron / cronie): a *wildcard* schedule (minute or
//!   hour starts with `*`) has no ticks in a spring-forward gap and ticks in
//!   both passes of a fall-back overlap; a *fixed-time* schedule fires once
//!   at the first instant after a gap for matches inside it, and once at the
//!   first occurrence of a repeated wall time.
//! - Fire times have whole-second resolution; the search ends with year 9999.
//!
//! ```
//! use chime_core::trigger::{CronTrigger, Trigger};
//! let trigger = CronTrigger::crontab("30 2 * * mon-fri").unwrap()
//!     .timezone(chrono_tz::Europe::Helsinki);
//! assert_eq!(trigger.describe(), "at 02:30, Monday through Friday, Europe/Helsinki");
//! let friday_noon = "2026-01-02T12:00:00Z".parse().unwrap();
//! // Monday 02:30 in Helsinki (UTC+2) is 00:30 UTC.
//! assert_eq!(trigger.next_fire_time(None, friday_noon), Some("2026-01-05T00:30:00Z".parse().unwrap()));
//! ```

mod crontab;
mod describe;
mod error;
mod field;
mod fields;
mod schedule;
mod trigger;

pub use error::CronError;
pub use fields::CronFields;
pub use schedule::CronSchedule;
pub use trigger::CronTrigger;
