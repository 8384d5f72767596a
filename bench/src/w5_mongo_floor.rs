//! W5's MongoDB floor: what claiming due documents costs MongoDB itself,
//! measured on this machine with no chime code in the claim.
//!
//! A collection shaped like the MongoDB store's (a ~350-byte record text,
//! `next`, `priority`, `avail`, and the store's due index on `avail`,
//! `priority`, `_id`) is filled with `--jobs` documents. Then, for
//! `--claimed` of them in batches of `--batch` (the scheduler's batch
//! size), each timed on its own:
//!
//! - `update_many` by `_id` setting one unindexed integer: the least any
//!   claim that writes each claimed document can cost;
//! - `update_many` by `_id` setting the indexed `avail` (what a claim must
//!   move so the document leaves the due range);
//! - `find` by `_id` of the batch (reading the claimed documents back).
//!
//! The store's acquisition does the second and the third plus a find of
//! the candidates, so their sum is a floor for W5's MongoDB acquire.

use std::time::Instant;

use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use serde_json::json;

use crate::common::{
    emit, floor_id as id, floor_record as record, median, ms, round3, run_tag, Checks, FloorSize,
};

/// W5 MongoDB floor options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sizes.
    #[command(flatten)]
    pub size: FloorSize,
    /// MongoDB URL (default: $CHIME_TEST_MONGO_URL).
    #[arg(long)]
    pub mongo_url: Option<String>,
}

fn document(i: usize) -> Document {
    let next = 1_796_400_000_000_000_i64 + i64::try_from(i).unwrap_or(0) * 1_000_000;
    doc! {
        "_id": id(i),
        "record": record(i),
        "next": next,
        "priority": 0,
        "avail": next,
    }
}

/// Runs the floor measurement (no correctness checks: it runs no chime code).
pub async fn run(args: Args) -> Result<bool, String> {
    let url = args
        .mongo_url
        .clone()
        .or_else(|| std::env::var("CHIME_TEST_MONGO_URL").ok())
        .filter(|s| !s.is_empty())
        .ok_or("no --mongo-url and CHIME_TEST_MONGO_URL is not set")?;
    let client = mongodb::Client::with_uri_str(&url)
        .await
        .map_err(|e| e.to_string())?;
    let database = client.database(&format!(
        "chime_bench_floor_{}",
        run_tag().replace('-', "_")
    ));
    let outcome = measure(&database, &args).await;
    if let Err(e) = database.drop().await {
        eprintln!(
            "chime-bench: could not drop MongoDB database {}: {e}",
            database.name()
        );
    }
    let results = outcome?;
    Ok(emit(
        "w5-mongo-floor",
        json!({
            "jobs": args.size.jobs, "claimed": args.size.claimed, "batch": args.size.batch, "rounds": args.size.rounds.max(1),
        }),
        results,
        &Checks::new(),
    ))
}

async fn measure(database: &mongodb::Database, args: &Args) -> Result<serde_json::Value, String> {
    let fail = |e: mongodb::error::Error| e.to_string();
    let jobs = database.collection::<Document>("jobs");
    jobs.create_index(
        mongodb::IndexModel::builder()
            .keys(doc! { "avail": 1, "priority": -1, "_id": 1 })
            .build(),
    )
    .await
    .map_err(fail)?;
    let total = args.size.jobs.max(1);
    for from in (0..total).step_by(10_000) {
        let chunk: Vec<Document> = (from..(from + 10_000).min(total)).map(document).collect();
        jobs.insert_many(chunk).await.map_err(fail)?;
    }
    // The claimed documents, spread over the collection as W5's due ones.
    let stride = (total / args.size.claimed.max(1)).max(1);
    let claimed: Vec<String> = (0..total)
        .step_by(stride)
        .take(args.size.claimed)
        .map(id)
        .collect();
    let batch = args.size.batch.max(1);
    let (mut unindexed, mut indexed, mut read_back) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..args.size.rounds.max(1) {
        let mark = i64::try_from(round).unwrap_or(0);
        let begin = Instant::now();
        for ids in claimed.chunks(batch) {
            jobs.update_many(
                doc! { "_id": { "$in": ids } },
                doc! { "$set": { "x": mark } },
            )
            .await
            .map_err(fail)?;
        }
        unindexed.push(ms(begin.elapsed()));
        let begin = Instant::now();
        for ids in claimed.chunks(batch) {
            let avail = 4_000_000_000_000_000_i64 + mark;
            jobs.update_many(
                doc! { "_id": { "$in": ids } },
                doc! { "$set": { "avail": avail } },
            )
            .await
            .map_err(fail)?;
        }
        indexed.push(ms(begin.elapsed()));
        let begin = Instant::now();
        let mut read = 0;
        for ids in claimed.chunks(batch) {
            let docs: Vec<Document> = jobs
                .find(doc! { "_id": { "$in": ids } })
                .await
                .map_err(fail)?
                .try_collect()
                .await
                .map_err(fail)?;
            read += docs.len();
        }
        read_back.push(ms(begin.elapsed()));
        if read != claimed.len() {
            return Err(format!("read back {read} of {} documents", claimed.len()));
        }
    }
    let floor = median(&mut indexed.clone()) + median(&mut read_back.clone());
    Ok(json!({
        "unindexed_update_ms": round3(median(&mut unindexed.clone())),
        "unindexed_update_ms_rounds": unindexed,
        "indexed_update_ms": round3(median(&mut indexed.clone())),
        "indexed_update_ms_rounds": indexed,
        "read_back_ms": round3(median(&mut read_back.clone())),
        "read_back_ms_rounds": read_back,
        "indexed_update_plus_read_back_ms": round3(floor),
    }))
}
