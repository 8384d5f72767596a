//! Accounts for every fire of a chaos run: each scheduled (job, time) in
//! the window ran exactly once, or was reported (missed, interrupted,
//! skipped) — never both run and reported missed, never neither.

use std::collections::{BTreeMap, BTreeSet};

use chime_tests::node_logs::{Report, Run};

/// What the checker found.
#[derive(Debug, Default)]
pub struct Tally {
    /// Fires expected in the window.
    pub fires: usize,
    /// Fires that ran once.
    pub ran: usize,
    /// Fires reported missed (and not run).
    pub missed: usize,
    /// Fires reported skipped (and not run).
    pub skipped: usize,
    /// Fires reported interrupted.
    pub interrupted: usize,
    /// ... of which the log shows ran anyway (killed after the run started).
    pub interrupted_ran: usize,
    /// Fires run more than once.
    pub duplicates: usize,
    /// Fires neither run nor reported.
    pub unexplained: usize,
    /// Fires reported missed or skipped that ran: a report that does not
    /// match what happened.
    pub false_reports: usize,
    /// Runs for times that are not fires of the job (before its start or
    /// off its grid).
    pub stray_runs: usize,
    /// Examples of each violation, for the log.
    pub examples: Vec<String>,
}

impl Tally {
    /// Whether every promise held.
    pub fn passed(&self) -> bool {
        self.duplicates == 0
            && self.unexplained == 0
            && self.false_reports == 0
            && self.stray_runs == 0
    }

    fn example(&mut self, text: String) {
        if self.examples.len() < 10 {
            self.examples.push(text);
        }
    }
}

/// Checks `runs` and `reports` of `jobs` firing every second from
/// `first_ms`; fires up to `last_ms` (inclusive) are accounted for.
pub fn check(
    jobs: &[String],
    first_ms: i64,
    last_ms: i64,
    runs: &[Run],
    reports: &[Report],
) -> Tally {
    let mut ran: BTreeMap<(&str, i64), usize> = BTreeMap::new();
    for run in runs {
        for &t in &run.times {
            *ran.entry((run.job.as_str(), t)).or_default() += 1;
        }
    }
    let mut reported: BTreeMap<(&str, i64), BTreeSet<&str>> = BTreeMap::new();
    for report in reports {
        for &t in &report.times {
            reported
                .entry((report.job.as_str(), t))
                .or_default()
                .insert(report.kind.as_str());
        }
    }
    let mut tally = Tally::default();
    let known: BTreeSet<&str> = jobs.iter().map(String::as_str).collect();
    for (&(job, t), _) in ran.iter() {
        if !known.contains(job) || t < first_ms || (t - first_ms) % 1000 != 0 {
            tally.stray_runs += 1;
            tally.example(format!("stray run {job} @ {t}"));
        }
    }
    for job in jobs {
        let mut t = first_ms;
        while t <= last_ms {
            tally.fires += 1;
            let count = ran.get(&(job.as_str(), t)).copied().unwrap_or(0);
            let kinds = reported.get(&(job.as_str(), t));
            let has = |kind: &str| kinds.is_some_and(|k| k.contains(kind));
            if count > 1 {
                tally.duplicates += 1;
                tally.example(format!("{job} @ {t} ran {count} times"));
            }
            if has("interrupted") {
                tally.interrupted += 1;
                if count > 0 {
                    tally.interrupted_ran += 1;
                }
            }
            if count > 0 {
                tally.ran += 1;
                if has("missed") || has("skipped") {
                    tally.false_reports += 1;
                    tally.example(format!("{job} @ {t} ran but was reported {kinds:?}"));
                }
            } else if has("missed") {
                tally.missed += 1;
            } else if has("skipped") {
                tally.skipped += 1;
            } else if !has("interrupted") {
                tally.unexplained += 1;
                tally.example(format!("{job} @ {t} neither ran nor was reported"));
            }
            t += 1000;
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(job: &str, times: &[i64]) -> Run {
        Run {
            job: job.into(),
            pid: 1,
            started_ms: 0,
            times: times.to_vec(),
        }
    }

    fn report(kind: &str, job: &str, times: &[i64]) -> Report {
        Report {
            kind: kind.into(),
            job: job.into(),
            times: times.to_vec(),
        }
    }

    #[test]
    fn every_kind_of_accounting_is_counted() {
        let jobs = vec!["a".to_owned()];
        let runs = vec![run("a", &[0, 1000]), run("a", &[1000]), run("a", &[4000])];
        let reports = vec![
            report("missed", "a", &[2000]),
            report("interrupted", "a", &[4000]),
            report("missed", "a", &[0]),
        ];
        let tally = check(&jobs, 0, 5000, &runs, &reports);
        assert_eq!(tally.fires, 6);
        assert_eq!(tally.duplicates, 1, "1000 ran twice");
        assert_eq!(tally.false_reports, 1, "0 ran and was reported missed");
        assert_eq!(tally.missed, 1);
        assert_eq!((tally.interrupted, tally.interrupted_ran), (1, 1));
        assert_eq!(tally.unexplained, 2, "3000 and 5000");
        assert!(!tally.passed());
    }

    #[test]
    fn a_clean_run_passes_and_strays_do_not() {
        let jobs = vec!["a".to_owned()];
        let clean = check(&jobs, 0, 1000, &[run("a", &[0]), run("a", &[1000])], &[]);
        assert!(clean.passed(), "{clean:?}");
        let stray = check(&jobs, 0, 1000, &[run("a", &[0, 1000, 1500])], &[]);
        assert_eq!(stray.stray_runs, 1);
        assert!(!stray.passed());
    }
}
