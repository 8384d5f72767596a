//! `--calendar SPEC`: a calendar interval such as "1 month at 09:00".

use std::sync::Arc;

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::Tz;
use chime::trigger::Trigger;
use chime::Error;

/// Builds a calendar-interval trigger from `spec`.
pub fn build(
    spec: &str,
    _tz: Tz,
    _start: Option<DateTime<Utc>>,
    _end: Option<DateTime<Utc>>,
) -> Result<Arc<dyn Trigger>, Error> {
    Err(Error::invalid(format!(
        "--calendar: '{spec}': calendar intervals are not available yet"
    )))
}
