//! Deciding what to run when a job is due: misfire grace, coalescing, and
//! catching up after downtime without walking every missed fire.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::trigger::Trigger;

/// At most this many missed fires are listed per job per acquisition, and at
/// most this many catch-up runs are made; beyond that the trigger is skipped
/// forward with one `next_fire_time(None, …)` call.
pub(crate) const MAX_LISTED_FIRES: usize = 1000;

/// What to do with a due job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FirePlan {
    /// Runs to make, in order; each lists the fire times it stands for
    /// (several when coalesced).
    pub runs: Vec<Vec<DateTime<Utc>>>,
    /// Fire times that were too late to run.
    pub missed: Vec<DateTime<Utc>>,
    /// More fires were missed than `missed` lists.
    pub more_missed: bool,
    /// The trigger's next fire time after `now` (None: exhausted).
    pub next: Option<DateTime<Utc>>,
}

/// Plans the runs of a job whose fire time `first` (due, with jitter, at
/// `first_due`) is due at `now` — or, dispatched ahead, due soon after
/// `now`: then `first` alone runs (later fires are never handed out early).
///
/// A fire is late when `now - due > grace` (for `first`, due is
/// `first_due`; later fires are due at their fire time); late fires are
/// missed, the others run — once each, or once in all when `coalesce`.
pub(crate) fn plan_fires(
    trigger: &dyn Trigger,
    first: DateTime<Utc>,
    first_due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Option<Duration>,
    coalesce: bool,
) -> FirePlan {
    let cutoff = grace.map(|g| {
        let g = TimeDelta::from_std(g).unwrap_or(TimeDelta::MAX);
        now.checked_sub_signed(g)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let mut missed = Vec::new();
    let mut more_missed = false;
    let mut fire = Some(first);

    // Fires older than the grace window: missed. List a bounded number, then
    // jump to the first fire inside the window.
    if let Some(cutoff) = cutoff {
        while let Some(t) = fire {
            let due = if t == first { first_due } else { t };
            if due >= cutoff || t > now {
                break;
            }
            if missed.len() >= MAX_LISTED_FIRES {
                more_missed = true;
                fire = trigger.next_fire_time(None, cutoff);
                break;
            }
            missed.push(t);
            fire = trigger.next_fire_time(Some(t), now);
        }
    }

    // Fires inside the window (or all of them without a grace time): due.
    let until = now.max(first);
    let mut due = Vec::new();
    let mut overflow = false;
    while let Some(t) = fire {
        if t > until {
            break;
        }
        if due.len() >= MAX_LISTED_FIRES {
            overflow = true;
            let after = until
                .checked_add_signed(TimeDelta::nanoseconds(1))
                .unwrap_or(until);
            fire = trigger.next_fire_time(None, after);
            break;
        }
        due.push(t);
        fire = trigger.next_fire_time(Some(t), now);
    }

    let runs = if due.is_empty() {
        Vec::new()
    } else if coalesce {
        vec![due]
    } else {
        if overflow {
            more_missed = true;
        }
        due.into_iter().map(|t| vec![t]).collect()
    };
    FirePlan {
        runs,
        missed,
        more_missed,
        next: fire,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{DateTrigger, IntervalTrigger};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn every(secs: u64) -> IntervalTrigger {
        IntervalTrigger::seconds(secs)
            .unwrap()
            .starting_at(t("2026-01-01T00:00:00Z"))
    }

    #[test]
    fn on_time_fire_runs_once_and_schedules_the_next() {
        let plan = plan_fires(
            &every(10),
            t("2026-01-01T00:00:10Z"),
            t("2026-01-01T00:00:10Z"),
            t("2026-01-01T00:00:10.003Z"),
            Some(Duration::from_secs(1)),
            true,
        );
        assert_eq!(plan.runs, vec![vec![t("2026-01-01T00:00:10Z")]]);
        assert!(plan.missed.is_empty());
        assert_eq!(plan.next, Some(t("2026-01-01T00:00:20Z")));
    }

    #[test]
    fn late_fires_are_missed_and_recent_ones_coalesced() {
        // Down from 00:00:10 to 00:01:05 with a 30 s grace: fires at 10..30 are
        // older than 00:00:35 and missed; 40, 50, 60 are inside the window.
        let plan = plan_fires(
            &every(10),
            t("2026-01-01T00:00:10Z"),
            t("2026-01-01T00:00:10Z"),
            t("2026-01-01T00:01:05Z"),
            Some(Duration::from_secs(30)),
            true,
        );
        assert_eq!(
            plan.missed,
            vec![
                t("2026-01-01T00:00:10Z"),
                t("2026-01-01T00:00:20Z"),
                t("2026-01-01T00:00:30Z")
            ]
        );
        assert_eq!(
            plan.runs,
            vec![vec![
                t("2026-01-01T00:00:40Z"),
                t("2026-01-01T00:00:50Z"),
                t("2026-01-01T00:01:00Z")
            ]]
        );
        assert_eq!(plan.next, Some(t("2026-01-01T00:01:10Z")));
    }

    #[test]
    fn without_coalesce_each_fire_in_the_window_runs() {
        let plan = plan_fires(
            &every(10),
            t("2026-01-01T00:00:40Z"),
            t("2026-01-01T00:00:40Z"),
            t("2026-01-01T00:01:05Z"),
            None,
            false,
        );
        assert_eq!(plan.runs.len(), 3);
        assert_eq!(plan.runs[2], vec![t("2026-01-01T00:01:00Z")]);
    }

    #[test]
    fn a_year_of_downtime_is_skipped_not_walked() {
        // Every second for a year = 31.5 million fires; the plan lists a
        // bounded number and jumps to the grid slot after now.
        let plan = plan_fires(
            &every(1),
            t("2026-01-01T00:00:01Z"),
            t("2026-01-01T00:00:01Z"),
            t("2027-01-01T00:00:00.5Z"),
            Some(Duration::from_secs(2)),
            true,
        );
        assert_eq!(plan.missed.len(), MAX_LISTED_FIRES);
        assert!(plan.more_missed);
        // Inside the 2 s window: 23:59:59 (00:00:00.5 - 2 s = 23:59:58.5) and 00:00:00.
        assert_eq!(
            plan.runs,
            vec![vec![t("2026-12-31T23:59:59Z"), t("2027-01-01T00:00:00Z")]]
        );
        assert_eq!(plan.next, Some(t("2027-01-01T00:00:01Z")));
    }

    #[test]
    fn a_one_shot_is_exhausted_after_its_fire() {
        let at = t("2026-01-01T00:00:00Z");
        let plan = plan_fires(&DateTrigger::new(at), at, at, at, None, true);
        assert_eq!(plan.runs, vec![vec![at]]);
        assert_eq!(plan.next, None);
        // Too late: missed, and still exhausted.
        let plan = plan_fires(
            &DateTrigger::new(at),
            at,
            at,
            t("2026-01-01T01:00:00Z"),
            Some(Duration::from_secs(60)),
            true,
        );
        assert!(plan.runs.is_empty());
        assert_eq!(plan.missed, vec![at]);
        assert_eq!(plan.next, None);
    }

    #[test]
    fn lateness_of_a_jittered_fire_counts_from_its_due_time() {
        // Fire at 00:00:10 delayed by jitter to 00:03:10; at 00:03:10.5 it is
        // half a second late, not three minutes: it runs despite a 60 s grace.
        let plan = plan_fires(
            &every(600),
            t("2026-01-01T00:00:10Z"),
            t("2026-01-01T00:03:10Z"),
            t("2026-01-01T00:03:10.5Z"),
            Some(Duration::from_secs(60)),
            true,
        );
        assert_eq!(plan.runs, vec![vec![t("2026-01-01T00:00:10Z")]]);
        assert!(plan.missed.is_empty());
    }

    #[test]
    fn catch_up_beyond_the_cap_without_coalescing_reports_the_rest_missed() {
        let plan = plan_fires(
            &every(1),
            t("2026-01-01T00:00:01Z"),
            t("2026-01-01T00:00:01Z"),
            t("2026-01-01T01:00:00Z"),
            None,
            false,
        );
        assert_eq!(plan.runs.len(), MAX_LISTED_FIRES);
        assert!(plan.missed.is_empty() && plan.more_missed);
        assert_eq!(plan.next, Some(t("2026-01-01T01:00:01Z")));
    }
}
