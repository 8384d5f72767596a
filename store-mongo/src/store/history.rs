//! Run history: records written in batches (group commit), and trimmed.
//!
//! Recording one run took two server operations (does the job still
//! exist, insert the record): at 1,000 runs a second (W6) they were most
//! of what kept `mongod` busy, and runs started late behind them. A run
//! that ends while another run's records are being written now waits for
//! that write, and its record goes with every other record queued by
//! then: one `find` of the batch's jobs and one `insert_many` per chunk
//! of up to 10,000 records, and the trims due (once per job, at once).
//! Each run still returns only once its record is written.

use std::collections::{BTreeSet, HashSet};

use chime_core::store::RunRecord;
use chime_core::{Error, ErrorKind, Result};
use chrono::Utc;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::MongoStore;
use crate::document::{id_of, micros};

/// Records per batch written, at most (a batch's job ids go in one `$in`).
const RECORDS_PER_WRITE: usize = 10_000;

/// A run record on its way to the runs collection.
pub(super) struct RunEntry {
    job: String,
    /// When it was recorded (µs): the history's order.
    recorded: i64,
    /// The record as JSON.
    run: String,
}

impl MongoStore {
    /// Records `record`, together with the records of runs ending
    /// meanwhile; runs of jobs that are gone are dropped.
    pub(super) async fn record_runs_together(&self, record: RunRecord) -> Result<()> {
        let keep = self.config.history_limit;
        if keep == 0 {
            return Ok(());
        }
        let run = serde_json::to_string(&record).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode a run record").with_source(e)
        })?;
        let entry = RunEntry {
            job: record.job_id.to_string(),
            recorded: micros(Utc::now()),
            run,
        };
        self.history
            .submit(entry, |batch| self.write_runs(batch, keep))
            .await
    }

    /// Writes a batch of run records, then trims the histories whose turn
    /// it is (see [`trims_history_now`]).
    async fn write_runs(&self, batch: Vec<RunEntry>, keep: usize) -> Result<()> {
        for chunk in batch.chunks(RECORDS_PER_WRITE) {
            let jobs: BTreeSet<&str> = chunk.iter().map(|entry| entry.job.as_str()).collect();
            let existing: HashSet<String> = self
                .jobs
                .find(doc! { "_id": { "$in": jobs.into_iter().collect::<Vec<_>>() } })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(self.fail("find"))?
                .try_collect::<Vec<Document>>()
                .await
                .map_err(self.fail("find"))?
                .iter()
                .map(id_of)
                .collect();
            // Runs of removed jobs (a one-shot job's last run) are dropped:
            // nobody can ask for them.
            let kept: Vec<&RunEntry> = chunk
                .iter()
                .filter(|entry| existing.contains(&entry.job))
                .collect();
            if kept.is_empty() {
                continue;
            }
            let docs = kept.iter().map(|entry| {
                doc! { "job": entry.job.as_str(), "recorded": entry.recorded, "run": entry.run.as_str() }
            });
            self.runs
                .insert_many(docs)
                .await
                .map_err(self.fail("record run"))?;
            // Each job whose turn it is once per chunk, all at once.
            let due: BTreeSet<&str> = kept
                .iter()
                .filter(|entry| trims_history_now(&entry.job, entry.recorded, keep))
                .map(|entry| entry.job.as_str())
                .collect();
            futures::future::try_join_all(due.into_iter().map(|job| self.trim_history(job, keep)))
                .await?;
        }
        Ok(())
    }

    /// Trims job `job`'s history to the newest `keep` runs.
    async fn trim_history(&self, job: &str, keep: usize) -> Result<()> {
        let surplus: Vec<Document> = self
            .runs
            .find(doc! { "job": job })
            .sort(doc! { "recorded": -1, "_id": -1 })
            .skip(u64::try_from(keep).unwrap_or(u64::MAX))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(self.fail("trim history"))?
            .try_collect()
            .await
            .map_err(self.fail("trim history"))?;
        let surplus: Vec<Bson> = surplus
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        if !surplus.is_empty() {
            self.runs
                .delete_many(doc! { "_id": { "$in": surplus } })
                .await
                .map_err(self.fail("trim history"))?;
        }
        Ok(())
    }
}

/// Whether this record of `job`'s runs also trims its history to the
/// newest `keep`. A trim costs two operations (find the surplus, delete
/// it), more than a record's share of its batch's two, so it is done for
/// about one record in `keep / 4` (at least every record for `keep` < 8):
/// storage runs at most a few records over `keep` on average, and
/// `run_history` never shows more than `keep`. (W6 on MongoDB: with history off, median lateness
/// fell from ~1 s to ~0.3 s.) Deterministic in its inputs (a fixed-key
/// hash of the job and the record's instant): no random source.
fn trims_history_now(job: &str, recorded: i64, keep: usize) -> bool {
    use std::hash::{Hash, Hasher};
    let every = u64::try_from(keep / 4).unwrap_or(u64::MAX).max(1);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (job, recorded).hash(&mut hasher);
    hasher.finish().is_multiple_of(every)
}

#[cfg(test)]
mod tests {
    use super::trims_history_now;

    #[test]
    fn small_histories_trim_every_record_larger_ones_about_one_in_a_quarter_of_the_limit() {
        for keep in 1..8 {
            assert!(
                (0..100).all(|t| trims_history_now("job", t, keep)),
                "keep {keep}"
            );
        }
        // keep 20: about one record in 5.
        let trims = (0..10_000)
            .filter(|&t| trims_history_now(&format!("job-{}", t % 37), t, 20))
            .count();
        assert!((1_500..=2_500).contains(&trims), "{trims} trims in 10,000");
    }
}
