//! Batch releases with their dispatch journal entries — without
//! multi-document transactions.
//!
//! A release and its [`HandOff`] must never leave a fire in neither place.
//! A transaction over the jobs and the journal would make the pair atomic,
//! and it was tried: but a scheduler killed (SIGKILL) inside one leaves the
//! transaction open on the server, holding its job documents, until the
//! server's `transactionLifetimeLimitSeconds` (60 s by default) — and every
//! other scheduler's acquisition of those (due, so first in line) jobs
//! waits behind it: the chaos suite saw all three schedulers stall for a
//! minute. So the store orders single-document writes instead:
//!
//! 1. **Record the entries first** (one `update` command of upserts, each
//!    filtered on this owner, so an entry another scheduler holds is never
//!    taken over: such an entry fails its statement, and that job is not
//!    released — it stays leased, and its fire is taken over when the lease
//!    expires).
//! 2. **Release** each job with its own compare-and-set, sent concurrently.
//! 3. **Withdraw** the entries of the releases that failed (lease lost, job
//!    gone), filtered on this owner.
//!
//! A crash between 1 and 2 leaves an entry whose job is still leased: when
//! the lease expires another scheduler takes the job over and runs the fire
//! (or reports it missed), and the entry goes stale and is reported as
//! interrupted — a fire reported twice, never lost and never run twice. A
//! crash between 2 and 3 leaves an entry for a release that failed: the
//! same double report.

use std::collections::{BTreeSet, HashMap, HashSet};

use chime_core::store::{HandOff, HandOffKey, JobRelease, JobStore, Release, Released};
use chime_core::{Error, ErrorKind, Result};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::{lease_lost, unreadable_error, MongoStore};
use crate::document::{
    decode, hand_off_document, hand_off_id, id_of, int_field, micros, AVAIL, LEASE_EXPIRES,
    LEASE_NEXT, LEASE_OWNER, NEXT, OWNER, PRIORITY, RECORD,
};

/// Statements per write command, at most (the server allows 100,000).
const STATEMENTS_PER_COMMAND: usize = 10_000;
/// Estimated bytes per write command, at most (the server refuses commands
/// over 16 MiB).
const BYTES_PER_COMMAND: usize = 8 << 20;
/// Estimated bytes of a statement beyond the strings it carries.
const STATEMENT_OVERHEAD: usize = 256;

/// A write statement and its estimated size.
struct Statement {
    body: Document,
    bytes: usize,
}

/// The estimated size of a statement carrying `strings`.
fn estimate<'a>(strings: impl IntoIterator<Item = &'a str>) -> usize {
    strings
        .into_iter()
        .map(str::len)
        .sum::<usize>()
        .saturating_add(STATEMENT_OVERHEAD)
}

/// The hand-off's upsert statement, filtered on its owner: an entry this
/// owner recorded before is replaced; one another scheduler holds makes
/// the statement fail (duplicate key) and is left alone.
fn upsert(hand_off: &HandOff) -> Statement {
    let entry = hand_off_document(hand_off);
    let bytes = estimate([
        entry.get_str(RECORD).unwrap_or_default(),
        hand_off.job_id.as_str(),
        hand_off.owner.as_str(),
    ]);
    let id = entry.get("_id").cloned().unwrap_or(Bson::Null);
    Statement {
        body: doc! { "q": { "_id": id, OWNER: hand_off.owner.as_str() }, "u": entry, "upsert": true },
        bytes,
    }
}

/// `error` as the result of every release in the batch, each naming its job.
fn each_failed(releases: &[JobRelease], error: &Error) -> Vec<Result<Released>> {
    releases
        .iter()
        .map(|entry| {
            Err(Error::new(error.kind(), error.message())
                .set_temporary(error.is_retryable())
                .with_job(&entry.id))
        })
        .collect()
}

/// Splits `statements` into commands below the server's limits, keeping
/// each statement's index in the whole list.
fn chunks(statements: Vec<Statement>) -> Vec<(usize, Vec<Document>)> {
    let mut commands = Vec::new();
    let (mut current, mut bytes, mut start) = (Vec::new(), 0usize, 0usize);
    for (index, statement) in statements.into_iter().enumerate() {
        if !current.is_empty()
            && (current.len() >= STATEMENTS_PER_COMMAND
                || bytes.saturating_add(statement.bytes) > BYTES_PER_COMMAND)
        {
            commands.push((start, std::mem::take(&mut current)));
            bytes = 0;
            start = index;
        }
        bytes = bytes.saturating_add(statement.bytes);
        current.push(statement.body);
    }
    if !current.is_empty() {
        commands.push((start, current));
    }
    commands
}

impl MongoStore {
    /// Releases a batch with its hand-offs (see the module documentation).
    pub(super) async fn release_with_journal(
        &self,
        owner: &str,
        releases: &[JobRelease],
    ) -> Vec<Result<Released>> {
        let mut results: Vec<Option<Result<Released>>> = releases.iter().map(|_| None).collect();

        // 1. The entries.
        let with_hand_off: Vec<(usize, &HandOff)> = releases
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| entry.hand_off.as_ref().map(|h| (i, h)))
            .collect();
        if !with_hand_off.is_empty() {
            let statements = with_hand_off.iter().map(|(_, h)| upsert(h)).collect();
            match self.upsert_entries(statements).await {
                Ok(refused) => {
                    for position in refused {
                        if let Some(&(i, hand_off)) = with_hand_off.get(position) {
                            results[i] = Some(Err(Error::new(
                                ErrorKind::StoreUnavailable,
                                "another scheduler holds this fire's dispatch journal entry; the job stays leased",
                            )
                            .with_job(&hand_off.job_id)));
                        }
                    }
                }
                Err(error) => {
                    // Nothing released: every job stays leased and is
                    // looked at again when its lease expires.
                    return each_failed(releases, &error);
                }
            }
        }

        // 2. The releases, each its own compare-and-set, all at once.
        let pending: Vec<usize> = (0..releases.len())
            .filter(|&i| results[i].is_none())
            .collect();
        let batch: Vec<JobRelease> = pending.iter().map(|&i| releases[i].clone()).collect();
        let released = self.release_batch(owner, &batch).await;
        for (&i, result) in pending.iter().zip(released) {
            results[i] = Some(result);
        }

        // 3. Withdraw the entries of the releases that certainly failed. A
        // failure of the connection or the server leaves the outcome
        // unknown (the write may have landed): that entry stays, goes
        // stale and is reported — maybe twice, never lost.
        let refused: HashSet<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| match r {
                Some(Err(e)) => matches!(
                    e.kind(),
                    ErrorKind::LeaseLost | ErrorKind::NotFound | ErrorKind::UnreadableRecord
                ),
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        let withdraw: Vec<HandOffKey> = with_hand_off
            .iter()
            .filter(|(i, _)| refused.contains(i) && pending.contains(i))
            .map(|(_, h)| h.key())
            .collect();
        if !withdraw.is_empty() {
            let ids: Vec<Document> = withdraw.iter().map(hand_off_id).collect();
            if let Err(error) = self
                .hand_offs
                .delete_many(doc! { "_id": { "$in": ids }, OWNER: owner })
                .await
            {
                // Left to go stale and be reported as interrupted.
                tracing::warn!(error = %self.fail("withdraw hand-offs")(error), "could not withdraw the journal entries of failed releases");
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::new(ErrorKind::Internal, "release not attempted")))
            })
            .collect()
    }

    /// Releases each job with its own compare-and-set, all at once, from
    /// one read of the whole batch: one `find` for all of them instead of
    /// one per job (a release was two round trips, and the server's cost
    /// per operation, not the round trip, is what W5/W6 measured). A job
    /// whose document changed after that read goes through
    /// [`JobStore::release_job`], which reads it again.
    pub(super) async fn release_batch(
        &self,
        owner: &str,
        releases: &[JobRelease],
    ) -> Vec<Result<Released>> {
        if releases.is_empty() {
            return Vec::new();
        }
        let ids: Vec<&str> = releases.iter().map(|entry| entry.id.as_str()).collect();
        let mut docs: HashMap<String, Document> = HashMap::with_capacity(ids.len());
        let read = async {
            let mut cursor = self.jobs.find(doc! { "_id": { "$in": &ids } }).await?;
            while let Some(doc) = cursor.try_next().await? {
                docs.insert(id_of(&doc), doc);
            }
            Ok::<(), mongodb::error::Error>(())
        };
        if let Err(error) = read.await {
            return each_failed(releases, &self.fail("find")(error));
        }
        let attempts = releases.iter().map(|entry| {
            // Cloned, not taken: a batch naming one id twice gives both
            // entries the document (the second compare-and-set then fails
            // and reads it again) instead of calling the job missing.
            let doc = docs.get(entry.id.as_str()).cloned();
            async move {
                match self
                    .release_read(owner, &entry.id, entry.release, doc)
                    .await
                {
                    Ok(Some(released)) => Ok(released),
                    Ok(None) => self.release_job(owner, &entry.id, entry.release).await,
                    Err(error) => Err(error),
                }
            }
        });
        futures::future::join_all(attempts).await
    }

    /// One compare-and-set release of job `id` as `doc` (its document as
    /// just read; `None`: there is none) shows it. `Ok(None)`: the
    /// document changed since it was read; read it again and retry.
    pub(super) async fn release_read(
        &self,
        owner: &str,
        id: &str,
        release: Release,
        doc: Option<Document>,
    ) -> Result<Option<Released>> {
        let doc = doc.ok_or_else(|| Error::job_not_found(id))?;
        if doc.get_str(LEASE_OWNER).ok() != Some(owner) {
            return Err(lease_lost(owner, id));
        }
        let held = doc! {
            "_id": id,
            LEASE_OWNER: owner,
            LEASE_EXPIRES: doc.get(LEASE_EXPIRES).cloned().unwrap_or(Bson::Null),
            RECORD: doc.get(RECORD).cloned().unwrap_or(Bson::Null),
        };
        if int_field(&doc, NEXT) != int_field(&doc, LEASE_NEXT) {
            // The schedule was changed while leased: the change wins.
            let result = self
                .jobs
                .update_one(
                    held,
                    vec![
                        doc! { "$set": { AVAIL: format!("${NEXT}") } },
                        doc! { "$unset": [LEASE_OWNER, LEASE_EXPIRES, LEASE_NEXT] },
                    ],
                )
                .await
                .map_err(self.fail("release"))?;
            return Ok((result.matched_count == 1).then_some(Released::KeptUpdate));
        }
        match release {
            Release::Remove => {
                let result = self
                    .jobs
                    .delete_one(held)
                    .await
                    .map_err(self.fail("release (remove)"))?;
                if result.deleted_count == 0 {
                    return Ok(None);
                }
                self.runs
                    .delete_many(doc! { "job": id })
                    .await
                    .map_err(self.fail("remove history"))?;
                Ok(Some(Released::Applied))
            }
            Release::Reschedule {
                next_run_time,
                trigger_time,
            } => {
                let mut job = decode(id, &doc).map_err(unreadable_error)?;
                job.next_run_time = Some(next_run_time);
                job.trigger_time = Some(trigger_time);
                let next = micros(next_run_time);
                let end_lease = doc! { LEASE_OWNER: "", LEASE_EXPIRES: "", LEASE_NEXT: "" };
                let result = self
                    .jobs
                    .update_one(
                        held,
                        doc! {
                            "$set": {
                                RECORD: job.to_record()?,
                                NEXT: next,
                                PRIORITY: job.priority,
                                AVAIL: next,
                            },
                            "$unset": end_lease,
                        },
                    )
                    .await
                    .map_err(self.fail("release"))?;
                Ok((result.matched_count == 1).then_some(Released::Applied))
            }
        }
    }

    /// Runs the upserts; returns the positions of the statements the
    /// server refused (an entry another scheduler holds).
    async fn upsert_entries(&self, statements: Vec<Statement>) -> Result<BTreeSet<usize>> {
        let mut refused = BTreeSet::new();
        let collection = self.hand_offs.name().to_owned();
        for (start, chunk) in chunks(statements) {
            let reply = self
                .db
                .run_command(
                    doc! { "update": collection.as_str(), "updates": chunk, "ordered": false },
                )
                .await
                .map_err(self.fail("record hand-offs"))?;
            if let Ok(errors) = reply.get_array("writeErrors") {
                for error in errors {
                    if let Bson::Document(error) = error {
                        let index = int_field(error, "index").unwrap_or_default();
                        refused.insert(
                            start.saturating_add(usize::try_from(index).unwrap_or_default()),
                        );
                    }
                }
            }
        }
        Ok(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_statement_positions() {
        let statements = (0..STATEMENTS_PER_COMMAND + 5)
            .map(|i| Statement {
                body: doc! { "i": i as i64 },
                bytes: 1,
            })
            .collect();
        let commands = chunks(statements);
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].0, 0);
        assert_eq!(commands[1].0, STATEMENTS_PER_COMMAND);
        assert_eq!(commands[1].1.len(), 5);
    }
}
