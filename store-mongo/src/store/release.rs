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

use std::collections::{BTreeSet, HashSet};

use chime_core::store::{HandOff, HandOffKey, JobRelease, JobStore, Released};
use chime_core::{Error, ErrorKind, Result};
use mongodb::bson::{doc, Bson, Document};

use super::MongoStore;
use crate::document::{hand_off_document, hand_off_id, int_field, OWNER, RECORD};

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
                    return releases
                        .iter()
                        .map(|entry| {
                            Err(Error::new(error.kind(), error.message())
                                .set_temporary(error.is_retryable())
                                .with_job(&entry.id))
                        })
                        .collect();
                }
            }
        }

        // 2. The releases, each its own compare-and-set, all at once.
        let pending: Vec<usize> = (0..releases.len())
            .filter(|&i| results[i].is_none())
            .collect();
        let released = futures::future::join_all(pending.iter().map(|&i| {
            let entry = &releases[i];
            self.release_job(owner, &entry.id, entry.release)
        }))
        .await;
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
