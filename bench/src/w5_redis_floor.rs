//! W5's Redis floor: what claiming due jobs costs Redis itself, measured on
//! this machine with no chime code in the claim.
//!
//! Keys shaped like the Redis store's are filled with `--jobs` jobs: the
//! lexicographic due index (score 0, a 30-character place prefix, then the
//! id), the per-job meta hash (28 characters) and the records hash (a
//! ~350-byte record text). Then `--claimed` due jobs are claimed in
//! batches of `--batch` (the scheduler's batch size), each way timed from
//! the client on its own, with a fresh set of due jobs per round:
//!
//! - `claim`: one Lua script per batch issuing the store's own commands
//!   with the least Lua around them: read the first due members, read
//!   their meta, cut them from the index as one range, re-add them at
//!   their leased place, write the leases, read the records;
//! - `move_and_read`: the least any claim must do: take the members out of
//!   the due range (cut and re-add) and read the records, no meta and no
//!   leases.
//!
//! The store's acquisition also checks each meta and builds its members
//! and leases in Lua, and the client decodes each record; `claim` is a
//! floor for W5's Redis acquire with this data model.

use std::time::Instant;

use serde_json::json;

use crate::common::{
    emit, floor_id as id, floor_record as record, median, ms, redis_url, round3, run_tag, Checks,
    FloorSize,
};

/// W5 Redis floor options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sizes.
    #[command(flatten)]
    pub size: FloorSize,
    /// Redis URL (default: $CHIME_TEST_REDIS_URL).
    #[arg(long)]
    pub redis_url: Option<String>,
}

/// KEYS: due, meta, leases, jobs. ARGV: exclusive bound, limit, expires18,
/// owner. Returns the records.
const CLAIM: &str = r#"
local m = redis.call('ZRANGEBYLEX', KEYS[1], '-', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #m == 0 then return {} end
local ids, moved, leases = {}, {}, {}
for i, x in ipairs(m) do
  local id = string.sub(x, 31)
  ids[i] = id
  moved[2 * i - 1] = 0
  moved[2 * i] = ARGV[3] .. string.sub(x, 19)
  leases[2 * i - 1] = id
  leases[2 * i] = ARGV[3] .. ARGV[4]
end
redis.call('HMGET', KEYS[2], unpack(ids))
redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '[' .. m[#m])
redis.call('ZADD', KEYS[1], unpack(moved))
redis.call('HSET', KEYS[3], unpack(leases))
return redis.call('HMGET', KEYS[4], unpack(ids))
"#;

/// KEYS: due, jobs. ARGV: exclusive bound, limit, expires18. Returns the
/// records.
const MOVE_AND_READ: &str = r#"
local m = redis.call('ZRANGEBYLEX', KEYS[1], '-', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #m == 0 then return {} end
local ids, moved = {}, {}
for i, x in ipairs(m) do
  ids[i] = string.sub(x, 31)
  moved[2 * i - 1] = 0
  moved[2 * i] = ARGV[3] .. string.sub(x, 19)
end
redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '[' .. m[#m])
redis.call('ZADD', KEYS[1], unpack(moved))
return redis.call('HMGET', KEYS[2], unpack(ids))
"#;

/// Due members start with '1'; claimed ones move to an '8'/'9' prefix, so
/// a bound of "(5" covers exactly the jobs still due.
const DUE_BOUND: &str = "(5";

/// Runs the floor measurement (no correctness checks beyond the counts: it
/// runs no chime code).
pub async fn run(args: Args) -> Result<bool, String> {
    let url = redis_url(args.redis_url.clone())
        .ok_or("no --redis-url and CHIME_TEST_REDIS_URL is not set")?;
    let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let prefix = format!("chime-bench-floor-{}:", run_tag());
    let keys = ["due", "meta", "leases", "jobs"].map(|k| format!("{prefix}{k}"));
    let outcome = measure(&mut conn, &keys, &args).await;
    let dropped: Result<(), redis::RedisError> =
        redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
    if let Err(e) = dropped {
        eprintln!("chime-bench: could not delete the Redis keys {prefix}*: {e}");
    }
    let (results, checks) = outcome?;
    Ok(emit(
        "w5-redis-floor",
        json!({
            "jobs": args.size.jobs, "claimed": args.size.claimed, "batch": args.size.batch, "rounds": args.size.rounds.max(1),
        }),
        results,
        &checks,
    ))
}

async fn measure(
    conn: &mut redis::aio::MultiplexedConnection,
    keys: &[String; 4],
    args: &Args,
) -> Result<(serde_json::Value, Checks), String> {
    let fail = |e: redis::RedisError| e.to_string();
    let [due, meta, leases, jobs] = keys;
    let total = args.size.jobs.max(1);
    let rounds = args.size.rounds.max(1);
    // Two claims per round, each taking its own due jobs.
    let claimed = args.size.claimed.clamp(1, (total / (2 * rounds)).max(1));
    for from in (0..total).step_by(1_000) {
        let mut pipe = redis::pipe();
        let mut zadd = redis::cmd("ZADD");
        let mut meta_set = redis::cmd("HSET");
        let mut jobs_set = redis::cmd("HSET");
        zadd.arg(due);
        meta_set.arg(meta);
        jobs_set.arg(jobs);
        for i in from..(from + 1_000).min(total) {
            // available18 ++ priority12 ++ id, due in the order of `i`.
            let place = 100_000_000_000_000_000_u64 + i as u64;
            zadd.arg(0).arg(format!("{place:018}{:012}{}", 0, id(i)));
            meta_set.arg(id(i)).arg(format!("{place:018}{:010}", 0));
            jobs_set.arg(id(i)).arg(record(i));
        }
        pipe.add_command(zadd)
            .ignore()
            .add_command(meta_set)
            .ignore()
            .add_command(jobs_set)
            .ignore();
        let () = pipe.query_async(conn).await.map_err(fail)?;
    }
    let claim = redis::Script::new(CLAIM);
    let move_and_read = redis::Script::new(MOVE_AND_READ);
    let batch = args.size.batch.max(1);
    let (mut claim_ms, mut move_ms) = (Vec::new(), Vec::new());
    let mut checks = Checks::new();
    let mut all_read = true;
    for round in 0..rounds {
        for full in [true, false] {
            // Each way's claimed members move to a place of their own.
            let expires = format!("{}{round:017}", if full { '8' } else { '9' });
            let begin = Instant::now();
            let mut read = 0;
            while read < claimed {
                let limit = batch.min(claimed - read);
                let mut invocation = if full {
                    claim.prepare_invoke()
                } else {
                    move_and_read.prepare_invoke()
                };
                invocation.key(due);
                if full {
                    invocation.key(meta).key(leases);
                }
                invocation.key(jobs).arg(DUE_BOUND).arg(limit).arg(&expires);
                if full {
                    invocation.arg("owner-floor");
                }
                let records: Vec<Option<String>> =
                    invocation.invoke_async(conn).await.map_err(fail)?;
                if records.is_empty() {
                    break;
                }
                all_read &= records.iter().all(Option::is_some);
                read += records.len();
            }
            let elapsed = ms(begin.elapsed());
            if full {
                claim_ms.push(elapsed);
            } else {
                move_ms.push(elapsed);
            }
            all_read &= read == claimed;
        }
    }
    checks.push(("every claimed record was read back".into(), all_read));
    Ok((
        json!({
            "claimed_per_round": claimed,
            "claim_ms": round3(median(&mut claim_ms.clone())),
            "claim_ms_rounds": claim_ms,
            "move_and_read_ms": round3(median(&mut move_ms.clone())),
            "move_and_read_ms_rounds": move_ms,
        }),
        checks,
    ))
}
