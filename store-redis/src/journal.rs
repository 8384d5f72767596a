//! The dispatch journal's encodings (see [`chime_core::store::HandOff`]
//! and the scripts in `scripts.rs`): entry keys, holders, and entries read
//! back from a claim.

use chime_core::store::{index_micros, HandOff, HandOffKey};
use chrono::{DateTime, Utc};

use crate::encoding::{parse_time18, TIME_WIDTH};

/// Separates the job id from the fire time in an entry key (a control
/// character job ids do not hold in practice; the fire time is parsed from
/// the right, so one that did would still round-trip).
const SEPARATOR: char = '\x1f';

/// The journal's field for an entry: `job_id \x1f fire-time micros` (rounded
/// up, as stores index instants), so a key built from the entry read back
/// names the same field.
pub(crate) fn entry_key(key: &HandOffKey) -> String {
    format!("{}{SEPARATOR}{}", key.job_id, index_micros(key.fire_time))
}

/// Back from [`entry_key`]: the job id and fire time; `None` when the
/// field is not one.
fn parse_entry_key(field: &str) -> Option<(&str, DateTime<Utc>)> {
    let (job_id, micros) = field.rsplit_once(SEPARATOR)?;
    let fire_time = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((job_id, fire_time))
}

/// An entry as a claim returned it: its field, its JSON (empty if it was
/// missing) and its holder before the claim (deadline18 ++ owner). An
/// entry whose JSON cannot be read still reports its fire, as a run that
/// was interrupted; an entry whose JSON names another key gets the key of
/// its field, so finishing it removes it.
pub(crate) fn claimed_entry(field: &str, record: &str, holder: &str) -> HandOff {
    let (job_id, fire_time) = parse_entry_key(field).unwrap_or((field, DateTime::<Utc>::MIN_UTC));
    let owner = holder.get(TIME_WIDTH..).unwrap_or_default().to_owned();
    let deadline = parse_time18(holder).unwrap_or(fire_time);
    match HandOff::from_record(record) {
        Some(mut entry) => {
            if entry_key(&entry.key()) != field {
                entry.job_id = job_id.into();
                entry.fire_time = fire_time;
            }
            entry.owner = owner;
            entry.deadline = deadline;
            entry
        }
        None => HandOff::unreadable(job_id, fire_time, owner, deadline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::time18;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn entry_keys_round_trip() {
        let key = HandOffKey {
            job_id: "a\u{1f}b".into(),
            fire_time: t("2026-01-01T00:00:10Z"),
        };
        let field = entry_key(&key);
        assert_eq!(field, "a\u{1f}b\u{1f}1767225610000000");
        assert_eq!(parse_entry_key(&field), Some(("a\u{1f}b", key.fire_time)));
        assert_eq!(parse_entry_key("no separator"), None);
    }

    #[test]
    fn claimed_entries_carry_their_holder() {
        let entry = HandOff::new(
            "job",
            t("2026-01-01T00:00:10.0000005Z"),
            "A",
            vec![t("2026-01-01T00:00:10Z")],
            Vec::new(),
            t("2026-01-01T00:00:40Z"),
        );
        let field = entry_key(&entry.key());
        let holder = format!("{}B", time18(t("2026-01-01T00:01:00Z")));
        let read = claimed_entry(&field, &entry.to_record(), &holder);
        assert_eq!(
            read.fire_time, entry.fire_time,
            "the exact fire time is kept"
        );
        assert_eq!(read.owner, "B");
        assert_eq!(read.deadline, t("2026-01-01T00:01:00Z"));
        assert_eq!(read.runs, entry.runs);
    }

    #[test]
    fn unreadable_entries_still_report_their_fire() {
        let fire = t("2026-01-01T00:00:10Z");
        let field = entry_key(&HandOffKey {
            job_id: "job".into(),
            fire_time: fire,
        });
        let holder = format!("{}A", time18(t("2026-01-01T00:00:40Z")));
        let read = claimed_entry(&field, "{not json", &holder);
        assert_eq!(read.job_id, "job");
        assert_eq!(read.fire_time, fire);
        assert_eq!(read.runs, vec![fire]);
        assert_eq!(read.owner, "A");
        let missing = claimed_entry(&field, "", "");
        assert_eq!((missing.owner.as_str(), missing.deadline), ("", fire));
    }
}
