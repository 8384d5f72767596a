//! `chime-bench`: chime's benchmark harness. One subcommand per workload
//! (`w1` … `w6`, see `BENCHMARKS.md` and design §9); each prints exactly one
//! JSON line (workload, parameters, versions, host, results) and exits 1 when
//! a correctness check fails, 2 on an error. Sizes default to the full
//! benchmark; pass smaller ones for a smoke run (`scripts/bench-smoke.sh`).

mod common;
mod stores;
mod w1;
mod w2;
mod w3;
mod w4;
mod w4_floor;
mod w5;
#[cfg(feature = "mongo")]
mod w5_mongo_floor;
mod w5_redis_floor;
mod w6;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "chime-bench",
    about = "chime's benchmark harness (one JSON line per workload)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// W1 next-fire: ns per next-fire computation over the 20-schedule mix.
    W1(w1::Args),
    /// W2 burst: one-shot jobs all due at one instant.
    W2(w2::Args),
    /// W3 steady: interval jobs every second (lateness, CPU).
    W3(w3::Args),
    /// W4 idle scale: a million daily cron jobs (add rate, RSS, idle CPU).
    W4(w4::Args),
    /// W5 stores: batch add, due acquisition, start-up per backend.
    W5(w5::Args),
    /// W6 shared store: several processes, no duplicates, no misses.
    W6(w6::Args),
    /// W4's floor: a bare hash-table + due-index insert per job, no chime
    /// code (an upper bound for W4's add rate on this machine).
    #[command(name = "w4-floor")]
    W4Floor(w4_floor::Args),
    /// W5's MongoDB floor: bare claims of due documents (updates and reads
    /// by id, no chime code): a lower bound for W5's MongoDB acquire.
    #[cfg(feature = "mongo")]
    #[command(name = "w5-mongo-floor")]
    W5MongoFloor(w5_mongo_floor::Args),
    /// W5's Redis floor: the store's claim commands on bare keys (no chime
    /// code): a lower bound for W5's Redis acquire.
    #[command(name = "w5-redis-floor")]
    W5RedisFloor(w5_redis_floor::Args),
    /// (internal) W5's scheduler start-up probe.
    #[command(hide = true)]
    StartupProbe(w5::ProbeArgs),
    /// (internal) a W6 worker process.
    #[command(hide = true)]
    W6Worker(w6::WorkerArgs),
    /// (internal) initiate a single-member MongoDB replica set for the bench.
    #[cfg(feature = "mongo")]
    #[command(hide = true)]
    MongoInit {
        /// mongodb://host:port/?replicaSet=rs0
        #[arg(long)]
        url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::W1(args) => w1::run(args),
        Command::W4Floor(args) => w4_floor::run(args),
        other => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("cannot build the tokio runtime");
            runtime.block_on(async move {
                match other {
                    Command::W2(args) => w2::run(args).await,
                    Command::W3(args) => w3::run(args).await,
                    Command::W4(args) => w4::run(args).await,
                    Command::W5(args) => w5::run(args).await,
                    Command::W6(args) => w6::run(args).await,
                    #[cfg(feature = "mongo")]
                    Command::W5MongoFloor(args) => w5_mongo_floor::run(args).await,
                    Command::W5RedisFloor(args) => w5_redis_floor::run(args).await,
                    Command::StartupProbe(args) => w5::probe(args).await,
                    Command::W6Worker(args) => w6::worker(args).await,
                    #[cfg(feature = "mongo")]
                    Command::MongoInit { url } => stores::mongo_init(&url).await.map(|()| true),
                    Command::W1(_) | Command::W4Floor(_) => unreachable!("handled above"),
                }
            })
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("chime-bench: {e}");
            ExitCode::from(2)
        }
    }
}
