//! W4's floor: the least an in-memory store with lookup by id and a
//! time-ordered due index does per added job, measured on this machine.
//!
//! No chime code runs here. Each job is one insert into a hash table of
//! slot numbers keyed by a 32-character id (hashbrown + foldhash, the id's
//! hash kept in the entry so that growing the table re-hashes no id, as
//! the memory store), one push of a 112-byte entry (the size of the memory
//! store's entry), and one insert into a `BTreeSet` of 16-byte due keys at a
//! random second of the day. The ids and times are made before the clock
//! starts. What W4 adds on top (parsing the crontab, the first fire time,
//! the spec text, packing) cannot be cheaper than nothing, so this rate is
//! an upper bound for W4's add rate on the same machine.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::time::Instant;

use rand::Rng;
use serde_json::json;

use crate::common::{emit, round3, Checks};

/// W4-floor options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Entries inserted per round.
    #[arg(long, default_value_t = 1_000_000)]
    pub jobs: usize,
    /// Rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// The memory store's entry size (packed job, spec number, id hash, lease
/// pointer): the id, its hash, and the rest as filler.
type Entry = (String, u32, [u32; 21]);

/// The table hash of a 32-bit id hash (as the memory store spreads it).
fn table_hash(id_hash: u32) -> u64 {
    u64::from(id_hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Runs the floor measurement (no correctness checks: it runs no chime code).
pub fn run(args: Args) -> Result<bool, String> {
    let mut rng = rand::rng();
    let ids: Vec<String> = (0..args.jobs)
        .map(|_| format!("{:032x}", rng.random::<u128>()))
        .collect();
    let times: Vec<i64> = (0..args.jobs)
        .map(|_| rng.random_range(0..86_400i64) * 1_000_000)
        .collect();
    let mut per_job_ns = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let mut ids = ids.clone();
        let hasher = foldhash::fast::RandomState::default();
        let mut by_id: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut due: BTreeSet<(i64, Reverse<i32>, u32)> = BTreeSet::new();
        let begin = Instant::now();
        for (id, &at) in ids.iter_mut().zip(&times) {
            let id = std::mem::take(id);
            // The low half of the 64-bit hash, as the store keeps it.
            let id_hash = hasher.hash_one(id.as_str()) as u32;
            let slot = u32::try_from(entries.len()).map_err(|e| e.to_string())?;
            entries.push((id, id_hash, [0; 21]));
            by_id.insert_unique(table_hash(id_hash), slot, |&s| {
                table_hash(entries.get(s as usize).map_or(0, |e| e.1))
            });
            due.insert((at, Reverse(0), slot));
        }
        let elapsed = begin.elapsed();
        // What was built must exist: nothing above may be optimised away.
        std::hint::black_box((&by_id, &entries, &due));
        per_job_ns.push(elapsed.as_nanos() as f64 / args.jobs.max(1) as f64);
    }
    let mut sorted = per_job_ns.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    Ok(emit(
        "w4-floor",
        json!({ "jobs": args.jobs, "rounds": args.rounds.max(1), "entry_bytes": std::mem::size_of::<Entry>() }),
        json!({
            "ns_per_job": round3(median),
            "ns_per_job_rounds": per_job_ns.iter().map(|&v| round3(v)).collect::<Vec<_>>(),
            "jobs_per_s_upper_bound": round3(1e9 / median.max(f64::MIN_POSITIVE)),
        }),
        &Checks::new(),
    ))
}
