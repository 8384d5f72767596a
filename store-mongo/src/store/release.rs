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
//! 2. **Release** the jobs: the reschedules as one `update` command of
//!    compare-and-set statements whose refusals the server reports one by
//!    one (see `applied_or_refused`), the rest each with its own
//!    compare-and-set, sent concurrently.
//! 3. **Withdraw** the entries of the releases that failed (lease lost, job
//!    gone), filtered on this owner.
//!
//! A crash between 1 and 2 leaves an entry whose job is still leased: when
//! the lease expires another scheduler takes the job over and runs the fire
//! (or reports it missed), and the entry goes stale and is reported as
//! interrupted — a fire reported twice, never lost and never run twice. A
//! crash between 2 and 3 leaves an entry for a release that failed: the
//! same double report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chime_core::store::{HandOff, HandOffKey, JobRelease, JobStore, Release, Released};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::Collection;

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
        .map(|entry| Err(failed(entry, error)))
        .collect()
}

/// A copy of `error` naming `entry`'s job.
fn failed(entry: &JobRelease, error: &Error) -> Error {
    Error::new(error.kind(), error.message())
        .set_temporary(error.is_retryable())
        .with_job(&entry.id)
}

/// The error code of a statement of [`applied_or_refused`] that matched
/// nothing: its insert would change the immutable `_id`.
const REFUSED_INSERT: i64 = 66;

/// The `_id` an upsert statement of [`applied_or_refused`] would give the
/// document it inserts: a document, so never a job's (string) `_id`.
fn refused_insert_id() -> Document {
    doc! { "chime": "a release never inserts" }
}

/// A statement that applies `update` to the document `filter` matches and
/// fails with code [`REFUSED_INSERT`] when none matches, so that the
/// command's reply says which statements changed nothing — with no
/// read-back, which another scheduler's writes could make wrong.
///
/// It is an upsert whose insert would set an `_id` other than the
/// filter's: when nothing matches (the document changed, or is gone) the
/// server refuses it (immutable field `_id`, code 66) and inserts nothing;
/// when a document matches, `$setOnInsert` does nothing. A statement that
/// fails with any other code (behind mongos, a shard's failure) may have
/// been applied: its outcome is unknown.
fn applied_or_refused(filter: Document, mut update: Document, bytes: usize) -> Statement {
    update.insert("$setOnInsert", doc! { "_id": refused_insert_id() });
    Statement {
        body: doc! { "q": filter, "u": update, "upsert": true },
        bytes,
    }
}

/// The filter of a compare-and-set on job `id` as `doc` (its document as
/// read) shows it: still leased by `owner` until the same expiry, and the
/// same record.
fn held_filter(id: &str, owner: &str, doc: &Document) -> Document {
    doc! {
        "_id": id,
        LEASE_OWNER: owner,
        LEASE_EXPIRES: doc.get(LEASE_EXPIRES).cloned().unwrap_or(Bson::Null),
        RECORD: doc.get(RECORD).cloned().unwrap_or(Bson::Null),
    }
}

/// The update that reschedules job `id` (as `doc` holds it) to
/// `next_run_time` and ends its lease.
fn reschedule_update(
    id: &str,
    doc: &Document,
    next_run_time: DateTime<Utc>,
    trigger_time: DateTime<Utc>,
) -> Result<Document> {
    let mut job = decode(id, doc).map_err(unreadable_error)?;
    job.next_run_time = Some(next_run_time);
    job.trigger_time = Some(trigger_time);
    let next = micros(next_run_time);
    Ok(doc! {
        "$set": {
            RECORD: job.to_record()?,
            NEXT: next,
            PRIORITY: job.priority,
            AVAIL: next,
        },
        "$unset": { LEASE_OWNER: "", LEASE_EXPIRES: "", LEASE_NEXT: "" },
    })
}

/// The batched statement for `entry`, when it is a reschedule of a job
/// `doc` shows leased by `owner` with an unchanged schedule (the common
/// case); `Ok(None)` sends it down the one-job path (a removal, a job not
/// ours or gone, a schedule changed while leased).
fn reschedule_statement(
    owner: &str,
    entry: &JobRelease,
    doc: Option<&Document>,
) -> Result<Option<Statement>> {
    let Release::Reschedule {
        next_run_time,
        trigger_time,
    } = entry.release
    else {
        return Ok(None);
    };
    let Some(doc) = doc else {
        return Ok(None);
    };
    if doc.get_str(LEASE_OWNER).ok() != Some(owner)
        || int_field(doc, NEXT) != int_field(doc, LEASE_NEXT)
    {
        return Ok(None);
    }
    let update = reschedule_update(&entry.id, doc, next_run_time, trigger_time)?;
    let record = doc.get_str(RECORD).unwrap_or_default();
    let bytes = estimate([record, record, entry.id.as_str(), owner]);
    Ok(Some(applied_or_refused(
        held_filter(&entry.id, owner, doc),
        update,
        bytes,
    )))
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
            let outcomes = self
                .run_statements(&self.hand_offs, "record hand-offs", statements)
                .await;
            match outcomes.failure {
                None => {
                    for &position in outcomes.errors.keys() {
                        if let Some(&(i, hand_off)) = with_hand_off.get(position) {
                            results[i] = Some(Err(Error::new(
                                ErrorKind::StoreUnavailable,
                                "another scheduler holds this fire's dispatch journal entry; the job stays leased",
                            )
                            .with_job(&hand_off.job_id)));
                        }
                    }
                }
                Some((_, error)) => {
                    // Nothing released: every job stays leased and is
                    // looked at again when its lease expires (entries
                    // recorded by then go stale and are reported).
                    return each_failed(releases, &error);
                }
            }
        }

        // 2. The releases (see `release_batch`).
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

    /// Releases a batch from one read of all its documents: one `find`
    /// for all of them, then the reschedules (almost every release) as one
    /// `update` command of compare-and-set statements (see
    /// [`applied_or_refused`]), and the rest each with its own
    /// compare-and-set, all at once. A release whose document changed
    /// after that read goes through [`JobStore::release_job`], which reads
    /// it again. (The server's cost per operation, not the round trip, is
    /// what W5/W6 measured: a reschedule per command was ~0.4 ms of it.)
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
        self.release_found(owner, releases, &docs).await
    }

    /// Releases a batch whose documents (by id) were read as `docs` (see
    /// [`MongoStore::release_batch`]); they may have changed since.
    pub(super) async fn release_found(
        &self,
        owner: &str,
        releases: &[JobRelease],
        docs: &HashMap<String, Document>,
    ) -> Vec<Result<Released>> {
        let mut results: Vec<Option<Result<Released>>> = releases.iter().map(|_| None).collect();
        let mut statements = Vec::new();
        // The batch position of each statement.
        let mut batched = Vec::new();
        let mut singles = Vec::new();
        for (i, entry) in releases.iter().enumerate() {
            // A batch naming one id twice gives both entries the document:
            // the second compare-and-set then fails and reads it again.
            let doc = docs.get(entry.id.as_str());
            match reschedule_statement(owner, entry, doc) {
                Ok(Some(statement)) => {
                    statements.push(statement);
                    batched.push(i);
                }
                Ok(None) => singles.push(i),
                Err(error) => results[i] = Some(Err(error)),
            }
        }
        let batch = async {
            if statements.is_empty() {
                StatementOutcomes::default()
            } else {
                self.run_statements(&self.jobs, "release", statements).await
            }
        };
        let single = futures::future::join_all(singles.iter().map(|&i| {
            let entry = &releases[i];
            self.release_one_read(owner, entry, docs.get(entry.id.as_str()).cloned())
        }));
        let (batch, single) = futures::join!(batch, single);
        for (&i, result) in singles.iter().zip(single) {
            results[i] = Some(result);
        }
        let mut again = Vec::new();
        for (position, &i) in batched.iter().enumerate() {
            let unknown = |error: &Error| Some(Err(failed(&releases[i], error)));
            results[i] = match (&batch.failure, batch.errors.get(&position)) {
                // The outcome is unknown (the statement may have been
                // applied): the release reports the failure.
                (Some((from, error)), _) if position >= *from => unknown(error),
                (_, Some(&REFUSED_INSERT)) => {
                    // Certainly not applied: the document changed.
                    again.push(i);
                    None
                }
                // Any other failure of a statement (a shard's, behind
                // mongos) does not prove it changed nothing.
                (_, Some(code)) => unknown(&Error::new(
                    ErrorKind::StoreUnavailable,
                    format!("release: the server failed the statement (code {code})"),
                )),
                (_, None) if batch.upserted.contains(&position) => unknown(&Error::new(
                    ErrorKind::Internal,
                    "release: the server inserted a document instead of refusing the statement",
                )),
                (_, None) => Some(Ok(Released::Applied)),
            };
        }
        let retried = futures::future::join_all(again.iter().map(|&i| {
            let entry = &releases[i];
            self.release_job(owner, &entry.id, entry.release)
        }))
        .await;
        for (&i, result) in again.iter().zip(retried) {
            results[i] = Some(result);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::new(ErrorKind::Internal, "release not attempted")))
            })
            .collect()
    }

    /// One release from its document as read, reading it again if it
    /// changed since.
    async fn release_one_read(
        &self,
        owner: &str,
        entry: &JobRelease,
        doc: Option<Document>,
    ) -> Result<Released> {
        match self
            .release_read(owner, &entry.id, entry.release, doc)
            .await?
        {
            Some(released) => Ok(released),
            None => self.release_job(owner, &entry.id, entry.release).await,
        }
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
        let held = held_filter(id, owner, &doc);
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
                let update = reschedule_update(id, &doc, next_run_time, trigger_time)?;
                let result = self
                    .jobs
                    .update_one(held, update)
                    .await
                    .map_err(self.fail("release"))?;
                Ok((result.matched_count == 1).then_some(Released::Applied))
            }
        }
    }

    /// Runs `statements` on `collection` as unordered `update` commands,
    /// as few as the server's limits allow.
    async fn run_statements(
        &self,
        collection: &Collection<Document>,
        operation: &str,
        statements: Vec<Statement>,
    ) -> StatementOutcomes {
        let mut outcomes = StatementOutcomes::default();
        let collection = collection.name();
        for (start, chunk) in chunks(statements) {
            let len = chunk.len();
            let reply = match self
                .db
                .run_command(doc! { "update": collection, "updates": chunk, "ordered": false })
                .await
            {
                Ok(reply) => reply,
                Err(error) => {
                    outcomes.failure = Some((start, self.fail(operation)(error)));
                    return outcomes;
                }
            };
            if let Err(reason) = read_reply(&reply, start, len, &mut outcomes) {
                let error = Error::new(
                    ErrorKind::StoreUnavailable,
                    format!("{operation}: {reason}"),
                )
                .set_temporary(true);
                outcomes.failure = Some((start, error));
                return outcomes;
            }
        }
        outcomes
    }
}

/// Reads the reply to a command of `len` statements from position `start`
/// into `outcomes`; an error when it does not account for every statement
/// (their outcome is then unknown).
fn read_reply(
    reply: &Document,
    start: usize,
    len: usize,
    outcomes: &mut StatementOutcomes,
) -> std::result::Result<(), String> {
    let mut errors = Vec::new();
    if let Ok(list) = reply.get_array("writeErrors") {
        for error in list {
            let Bson::Document(error) = error else {
                return Err("a write error the reply does not describe".into());
            };
            let index = int_field(error, "index")
                .and_then(|index| usize::try_from(index).ok())
                .filter(|&index| index < len)
                .ok_or("a write error without a statement")?;
            let code = int_field(error, "code").unwrap_or_default();
            errors.push((start + index, code));
        }
    }
    let counted = int_field(reply, "n")
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("the reply has no count")?;
    if counted.saturating_add(errors.len()) != len {
        return Err(format!(
            "the reply accounts for {} of {len} statements",
            counted.saturating_add(errors.len())
        ));
    }
    if let Ok(concern) = reply.get_document("writeConcernError") {
        // Applied, but maybe not durably.
        return Err(format!(
            "the write concern was not satisfied: {}",
            concern.get_str("errmsg").unwrap_or("no message")
        ));
    }
    if let Ok(upserted) = reply.get_array("upserted") {
        for entry in upserted {
            let index = match entry {
                Bson::Document(entry) => int_field(entry, "index"),
                _ => None,
            };
            let index = index
                .and_then(|index| usize::try_from(index).ok())
                .filter(|&index| index < len)
                .ok_or("an insert without a statement")?;
            outcomes.upserted.insert(start + index);
        }
    }
    outcomes.errors.extend(errors);
    Ok(())
}

/// What became of the statements [`MongoStore::run_statements`] sent.
#[derive(Default)]
struct StatementOutcomes {
    /// The statements that failed, by position, with the server's error
    /// code: they changed nothing.
    errors: BTreeMap<usize, i64>,
    /// The statements that inserted a document, by position.
    upserted: BTreeSet<usize>,
    /// A failure, from the statement at `.0` on: the outcome of those is
    /// unknown (they may have been applied). Before it, every statement
    /// not in `errors` was applied.
    failure: Option<(usize, Error)>,
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

    fn outcomes_of(reply: Document, start: usize, len: usize) -> Result<StatementOutcomes, String> {
        let mut outcomes = StatementOutcomes::default();
        read_reply(&reply, start, len, &mut outcomes).map(|()| outcomes)
    }

    #[test]
    fn a_reply_names_each_refused_statement_by_its_position_in_the_whole_list() {
        let reply = doc! {
            "n": 2_i32,
            "writeErrors": [
                { "index": 1_i32, "code": 66_i32, "errmsg": "immutable" },
                { "index": 3_i32, "code": 11000_i32, "errmsg": "duplicate key" },
            ],
            "ok": 1.0,
        };
        let outcomes = outcomes_of(reply, 100, 4).expect("a complete reply");
        let errors: Vec<(usize, i64)> = outcomes.errors.into_iter().collect();
        assert_eq!(errors, vec![(101, 66), (103, 11000)]);
        assert!(outcomes.upserted.is_empty());
        assert!(outcomes.failure.is_none());
    }

    #[test]
    fn a_reply_that_does_not_account_for_every_statement_is_an_unknown_outcome() {
        // One applied, one refused, one neither: the server stopped early.
        let short = doc! { "n": 1_i32, "writeErrors": [{ "index": 0_i32, "code": 66_i32 }] };
        assert!(outcomes_of(short, 0, 3).is_err());
        let no_count = doc! { "ok": 1.0 };
        assert!(outcomes_of(no_count, 0, 1).is_err());
        let no_index = doc! { "n": 1_i32, "writeErrors": [{ "code": 66_i32 }] };
        assert!(outcomes_of(no_index, 0, 2).is_err());
        let out_of_range = doc! { "n": 1_i32, "writeErrors": [{ "index": 2_i32, "code": 66_i32 }] };
        assert!(outcomes_of(out_of_range, 0, 2).is_err());
        let not_durable = doc! {
            "n": 1_i32,
            "writeConcernError": { "code": 64_i32, "errmsg": "waiting for replication timed out" },
        };
        let reason = outcomes_of(not_durable, 0, 1).err().unwrap_or_default();
        assert!(
            reason.contains("waiting for replication timed out"),
            "{reason}"
        );
    }

    #[test]
    fn a_reply_names_the_statements_that_inserted() {
        let reply = doc! { "n": 2_i32, "upserted": [{ "index": 1_i32, "_id": "x" }] };
        let outcomes = outcomes_of(reply, 10, 2).expect("a complete reply");
        assert_eq!(outcomes.upserted.into_iter().collect::<Vec<_>>(), vec![11]);
    }
}

#[cfg(test)]
#[path = "release_tests.rs"]
mod release_tests;
