//! W1 next-fire: successive next-fire computations over the fixed schedule
//! mix in `../shared/bench/w1_schedules.json`, plus a correctness check of
//! each schedule's first fire times against hand-derived expectations.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use chime::chrono::{DateTime, Utc};
use chime::trigger::cron::CronSchedule;
use chime::trigger::{CronFields, CronTrigger};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::common::{emit, median, round3, Checks};

/// W1 options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The schedule mix (default: ../shared/bench/w1_schedules.json from the workspace root).
    #[arg(long)]
    pub schedules: Option<PathBuf>,
    /// Successive next-fire computations per schedule and round.
    #[arg(long, default_value_t = 100_000)]
    pub ops: usize,
    /// Timed rounds per schedule and form (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
}

struct Schedule {
    id: String,
    tz: Tz,
    crontab: CronSchedule,
    fields: Option<CronSchedule>,
}

fn load(path: &PathBuf) -> Result<(DateTime<Utc>, Vec<Schedule>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let start: DateTime<Utc> = doc["start_utc"]
        .as_str()
        .ok_or("start_utc missing")?
        .parse()
        .map_err(|e| format!("start_utc: {e}"))?;
    let mut out = Vec::new();
    for s in doc["schedules"].as_array().ok_or("schedules missing")? {
        let id = s["id"].as_str().ok_or("schedule without id")?.to_owned();
        let tz: Tz = s["tz"]
            .as_str()
            .ok_or(format!("{id}: tz missing"))?
            .parse()
            .map_err(|e| format!("{id}: tz: {e}"))?;
        let crontab_text = s["crontab"]
            .as_str()
            .ok_or(format!("{id}: crontab missing"))?;
        let crontab = CronTrigger::crontab(crontab_text)
            .map_err(|e| format!("{id}: crontab {crontab_text:?}: {e}"))?
            .timezone(tz)
            .schedule()
            .clone();
        let fields = match &s["fields"] {
            Value::Null => None,
            f => {
                let fields: CronFields =
                    serde_json::from_value(f.clone()).map_err(|e| format!("{id}: fields: {e}"))?;
                Some(
                    CronTrigger::from_fields(fields)
                        .map_err(|e| format!("{id}: fields: {e}"))?
                        .schedule()
                        .clone(),
                )
            }
        };
        out.push(Schedule {
            id,
            tz,
            crontab,
            fields,
        });
    }
    Ok((start, out))
}

/// Expected fire times, derived by hand (not from chime's output): for each
/// schedule id, `(from, [first three fires at or after from])`, all UTC.
/// 2026-01-01 is a Thursday; 2026 is not a leap year.
fn expected(id: &str) -> &'static [(&'static str, [&'static str; 3])] {
    match id {
        // every 5 min: the start itself, then +5 min steps.
        "c01" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:05:00Z",
                "2026-01-01T00:10:00Z",
            ],
        )],
        // 09:00 Mon-Fri: Thu 1st, Fri 2nd, then Mon 5th.
        "c02" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T09:00:00Z",
                "2026-01-02T09:00:00Z",
                "2026-01-05T09:00:00Z",
            ],
        )],
        // 02:30 Helsinki: EET (UTC+2) in winter = 00:30Z. Spring-forward is
        // 2026-03-29 03:00->04:00 local (02:30 exists, still +2); from the
        // 30th it is EEST (+3) = 23:30Z the evening before.
        "c03" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2026-01-01T00:30:00Z",
                    "2026-01-02T00:30:00Z",
                    "2026-01-03T00:30:00Z",
                ],
            ),
            (
                "2026-03-28T12:00:00Z",
                [
                    "2026-03-29T00:30:00Z",
                    "2026-03-29T23:30:00Z",
                    "2026-03-30T23:30:00Z",
                ],
            ),
        ],
        // every second.
        "c04" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:00:02Z",
            ],
        )],
        // last day of month: Jan 31, Feb 28 (2026 not leap), Mar 31; 2028 is leap.
        "c05" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2026-01-31T00:00:00Z",
                    "2026-02-28T00:00:00Z",
                    "2026-03-31T00:00:00Z",
                ],
            ),
            (
                "2028-01-31T00:00:01Z",
                [
                    "2028-02-29T00:00:00Z",
                    "2028-03-31T00:00:00Z",
                    "2028-04-30T00:00:00Z",
                ],
            ),
        ],
        // hourly.
        "c06" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-01T01:00:00Z",
                "2026-01-01T02:00:00Z",
            ],
        )],
        // daily midnight.
        "c07" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-02T00:00:00Z",
                "2026-01-03T00:00:00Z",
            ],
        )],
        // 14:15 on the 1st.
        "c08" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T14:15:00Z",
                "2026-02-01T14:15:00Z",
                "2026-03-01T14:15:00Z",
            ],
        )],
        // 22:00 Mon-Fri (crontab 1-5 = Mon-Fri since 0 = Sunday).
        "c09" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T22:00:00Z",
                "2026-01-02T22:00:00Z",
                "2026-01-05T22:00:00Z",
            ],
        )],
        // minute 23 of hours 0,2,...,20; after 20:23 the next is 00:23 next day.
        "c10" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2026-01-01T00:23:00Z",
                    "2026-01-01T02:23:00Z",
                    "2026-01-01T04:23:00Z",
                ],
            ),
            (
                "2026-01-01T18:24:00Z",
                [
                    "2026-01-01T20:23:00Z",
                    "2026-01-02T00:23:00Z",
                    "2026-01-02T02:23:00Z",
                ],
            ),
        ],
        // 04:05 Sundays: first Sunday after Thu Jan 1 is Jan 4.
        "c11" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-04T04:05:00Z",
                "2026-01-11T04:05:00Z",
                "2026-01-18T04:05:00Z",
            ],
        )],
        // yearly.
        "c12" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2027-01-01T00:00:00Z",
                "2028-01-01T00:00:00Z",
            ],
        )],
        // Feb 29: leap years only; 2100 is not a leap year.
        "c13" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2028-02-29T00:00:00Z",
                    "2032-02-29T00:00:00Z",
                    "2036-02-29T00:00:00Z",
                ],
            ),
            (
                "2096-03-01T00:00:00Z",
                [
                    "2104-02-29T00:00:00Z",
                    "2108-02-29T00:00:00Z",
                    "2112-02-29T00:00:00Z",
                ],
            ),
        ],
        // 2nd Monday: Jan 12; Feb 1 and Mar 1 2026 are Sundays -> Feb 9, Mar 9.
        "c14" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-12T12:00:00Z",
                "2026-02-09T12:00:00Z",
                "2026-03-09T12:00:00Z",
            ],
        )],
        // last Friday: Jan 30, Feb 27, Mar 27 (Mar 31 2026 is a Tuesday).
        "c15" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-30T18:00:00Z",
                "2026-02-27T18:00:00Z",
                "2026-03-27T18:00:00Z",
            ],
        )],
        // weekday nearest the 15th: Jan 15 is a Thursday; Feb 15 and Mar 15
        // are Sundays -> Monday the 16th.
        "c16" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-15T00:00:00Z",
                "2026-02-16T00:00:00Z",
                "2026-03-16T00:00:00Z",
            ],
        )],
        // every 10 seconds.
        "c17" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:10Z",
                "2026-01-01T00:00:20Z",
            ],
        )],
        // every 15 min 09-17 Mon-Fri: after 17:45 Thu comes Fri 09:00; after
        // Fri 17:45 comes Mon Jan 5 09:00.
        "c18" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2026-01-01T09:00:00Z",
                    "2026-01-01T09:15:00Z",
                    "2026-01-01T09:30:00Z",
                ],
            ),
            (
                "2026-01-01T17:45:01Z",
                [
                    "2026-01-02T09:00:00Z",
                    "2026-01-02T09:15:00Z",
                    "2026-01-02T09:30:00Z",
                ],
            ),
            (
                "2026-01-02T17:45:01Z",
                [
                    "2026-01-05T09:00:00Z",
                    "2026-01-05T09:15:00Z",
                    "2026-01-05T09:30:00Z",
                ],
            ),
        ],
        // 01:30 New York: EST (-5) = 06:30Z. Spring-forward 2026-03-08 02:00
        // (01:30 exists, EST), EDT (-4) from the 9th = 05:30Z. Fall-back
        // 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice (05:30Z
        // EDT, 06:30Z EST); a fixed-time schedule fires at the first only.
        "c19" => &[
            (
                "2026-01-01T00:00:00Z",
                [
                    "2026-01-01T06:30:00Z",
                    "2026-01-02T06:30:00Z",
                    "2026-01-03T06:30:00Z",
                ],
            ),
            (
                "2026-03-07T12:00:00Z",
                [
                    "2026-03-08T06:30:00Z",
                    "2026-03-09T05:30:00Z",
                    "2026-03-10T05:30:00Z",
                ],
            ),
            (
                "2026-10-31T00:00:00Z",
                [
                    "2026-10-31T05:30:00Z",
                    "2026-11-01T05:30:00Z",
                    "2026-11-02T06:30:00Z",
                ],
            ),
        ],
        // 1st and 15th.
        "c20" => &[(
            "2026-01-01T00:00:00Z",
            [
                "2026-01-01T00:00:00Z",
                "2026-01-15T00:00:00Z",
                "2026-02-01T00:00:00Z",
            ],
        )],
        _ => &[],
    }
}

/// Checks one form of a schedule against the hand-derived fire times;
/// returns the mismatches as text.
fn check(id: &str, form: &str, s: &CronSchedule, tz: Tz) -> Vec<String> {
    let mut problems = Vec::new();
    let cases = expected(id);
    if cases.is_empty() {
        problems.push(format!("{id}: no expected fire times"));
    }
    for (from, want) in cases {
        let Ok(from) = from.parse::<DateTime<Utc>>() else {
            problems.push(format!("{id}: bad expectation {from}"));
            continue;
        };
        let mut got = Vec::new();
        let mut prev = s.next_at_or_after(from, tz);
        for _ in 0..3 {
            let Some(p) = prev else { break };
            got.push(p.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            prev = s.next_after(p, tz);
        }
        if got != want.to_vec() {
            problems.push(format!(
                "{id} {form} from {from}: got {got:?}, want {want:?}"
            ));
        }
    }
    problems
}

/// The crontab and fields forms must agree over their first `n` fires.
fn forms_agree(a: &CronSchedule, b: &CronSchedule, tz: Tz, start: DateTime<Utc>, n: usize) -> bool {
    let (mut x, mut y) = (a.next_at_or_after(start, tz), b.next_at_or_after(start, tz));
    for _ in 0..n {
        if x != y {
            return false;
        }
        match (x, y) {
            (Some(p), Some(q)) => {
                x = a.next_after(p, tz);
                y = b.next_after(q, tz);
            }
            _ => return true,
        }
    }
    true
}

/// `ops` successive next-fire computations from `start`; when a schedule
/// runs out (past year 9999) the chain starts again from `start`, and that
/// exhausted search counts as one computation. Returns ns per computation
/// and how many times the chain restarted.
fn chain(s: &CronSchedule, tz: Tz, start: DateTime<Utc>, ops: usize) -> (f64, u64) {
    let mut prev: Option<DateTime<Utc>> = None;
    let mut restarts = 0;
    let begin = Instant::now();
    for _ in 0..ops {
        let next = match prev {
            None => black_box(s).next_at_or_after(black_box(start), tz),
            Some(p) => black_box(s).next_after(black_box(p), tz),
        };
        if next.is_none() {
            restarts += 1;
        }
        prev = black_box(next);
    }
    let elapsed = begin.elapsed();
    (elapsed.as_nanos() as f64 / ops.max(1) as f64, restarts)
}

fn timed(s: &CronSchedule, tz: Tz, start: DateTime<Utc>, args: &Args) -> (f64, u64) {
    // One untimed warm-up round (a tenth of the size).
    chain(s, tz, start, (args.ops / 10).max(1));
    let mut restarts = 0;
    let mut rounds: Vec<f64> = (0..args.rounds.max(1))
        .map(|_| {
            let (ns, r) = chain(s, tz, start, args.ops);
            restarts = r;
            ns
        })
        .collect();
    (median(&mut rounds), restarts)
}

fn geomean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// Runs W1; returns whether every check held.
pub fn run(args: Args) -> Result<bool, String> {
    let path = args.schedules.clone().unwrap_or_else(|| {
        crate::common::workspace_root().join("../shared/bench/w1_schedules.json")
    });
    let (start, schedules) = load(&path)?;
    let mut checks: Checks = Vec::new();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let (mut crontab_ns, mut fields_ns, mut all_ns) = (Vec::new(), Vec::new(), Vec::new());
    for s in &schedules {
        let mut p = check(&s.id, "crontab", &s.crontab, s.tz);
        if let Some(f) = &s.fields {
            p.extend(check(&s.id, "fields", f, s.tz));
            if !forms_agree(&s.crontab, f, s.tz, start, 2000) {
                p.push(format!("{}: crontab and fields forms disagree", s.id));
            }
        }
        checks.push((format!("{} fire times", s.id), p.is_empty()));
        problems.extend(p);

        let (c_ns, c_restarts) = timed(&s.crontab, s.tz, start, &args);
        crontab_ns.push(c_ns);
        all_ns.push(c_ns);
        let mut row = json!({
            "id": s.id,
            "crontab_ns": round3(c_ns),
            "restarts": c_restarts,
        });
        if let Some(f) = &s.fields {
            let (f_ns, _) = timed(f, s.tz, start, &args);
            fields_ns.push(f_ns);
            all_ns.push(f_ns);
            row["fields_ns"] = json!(round3(f_ns));
        }
        rows.push(row);
    }
    for p in &problems {
        eprintln!("w1: {p}");
    }
    let parameters = json!({
        "schedules": path.display().to_string(),
        "start_utc": start.to_rfc3339(),
        "ops": args.ops,
        "rounds": args.rounds,
    });
    let results = json!({
        "supported": schedules.len(),
        "geomean_ns_crontab": round3(geomean(&crontab_ns)),
        "geomean_ns_fields": round3(geomean(&fields_ns)),
        "geomean_ns_all_forms": round3(geomean(&all_ns)),
        "per_schedule": rows,
        "problems": problems,
    });
    Ok(emit("w1", parameters, results, &checks))
}
