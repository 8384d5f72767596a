//! Batch releases with their dispatch journal entries: one multi-document
//! transaction per batch.
//!
//! A release and its [`HandOff`] must land together or not at all. Two
//! designs can do that on MongoDB:
//!
//! - **Embedding** the entry in the job's document, so the single-document
//!   atomicity every other write here relies on covers both. But a
//!   one-shot job's release *removes* its document, and its entry must
//!   outlive it: the document would have to stay as a tombstone that every
//!   read, list, acquisition, add, replacement and removal then has to step
//!   around (and a user's `remove_job` while the run goes on would have to
//!   keep the entries too). Finishing and renewing entries would write job
//!   documents after every run, waking every scheduler through the change
//!   stream unless its filter learned those fields as well; and claiming
//!   the oldest stale entries would mean unwinding arrays across jobs.
//! - **A transaction** over the jobs and a journal collection of its own
//!   (`<collection>.handoffs`). The layout of jobs stays as it is, entries
//!   are plain documents that finish, renew and claim like any other, and
//!   the whole batch is one atomic step, as on SQLite.
//!
//! This is the transaction, and it is also the faster release: the
//! per-job compare-and-sets it replaces cost two round trips per job (a
//! read and a conditional write, each journaled on its own; 100 jobs were
//! 200 server operations), while a batch costs a constant few whatever its
//! size: one read of every job of the batch, one `update` command carrying
//! every rescheduling write, one `delete` command for the removed jobs plus
//! one for their history (only when there are any), one `update` command
//! upserting the journal entries (only when there are any), and the
//! commit — the only step that waits for the journal on disk. The writes go
//! as raw multi-statement commands because the driver's typed batch write
//! needs MongoDB 8.0; they are split below the 16 MiB command limit.
//! A batch with hand-offs is thus four commands (three without): more than
//! the two round trips a lone job's compare-and-set took, fewer from two
//! jobs on. Measured on a local single-member replica set (a loaded
//! machine, medians), release with hand-offs vs the concurrent
//! compare-and-sets before: 1 job 3–4 ms vs 1.4–3 ms; 10 jobs 4–9 ms vs
//! 10–13 ms; 100 jobs (the scheduler's default batch) 19–33 ms vs
//! 89–112 ms; 1,000 jobs 0.15–0.19 s vs 1.0–1.1 s.
//!
//! Reading inside the transaction gives a snapshot: if another writer
//! changes one of the jobs after that read (an update, an acquisition after
//! the lease expired), the transaction's write to it fails with a write
//! conflict labelled `TransientTransactionError`, and the whole batch runs
//! again from a fresh read, which then sees the change (the update is kept,
//! or the lease is lost). A commit whose outcome is unknown is retried as
//! the driver documentation prescribes. Each write's filter still names the
//! lease it ends, and the counts are checked: a mismatch (never expected
//! under snapshot isolation) also runs the batch again rather than commit
//! a partial release.
//!
//! Standalone servers have no transactions: there the store has no
//! journal (its `journal` capability is off, hand-offs are ignored) and
//! releases stay independent compare-and-sets, sent concurrently.

use std::collections::HashMap;

use chime_core::store::{HandOff, JobRelease, Release, Released};
use chime_core::{Error, ErrorKind, Result};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::TRANSIENT_TRANSACTION_ERROR;
use mongodb::ClientSession;

use super::{commit, lease_lost, unreadable_error, MongoStore};
use crate::document::{
    decode, hand_off_document, int_field, micros, AVAIL, LEASE_EXPIRES, LEASE_NEXT, LEASE_OWNER,
    NEXT, PRIORITY, RECORD,
};

/// Attempts of a batch release that met a write conflict.
const RELEASE_ATTEMPTS: usize = 16;
/// Statements per write command, at most (the server allows 100,000).
const STATEMENTS_PER_COMMAND: usize = 10_000;
/// Estimated bytes per write command, at most (the server refuses commands
/// over 16 MiB).
const BYTES_PER_COMMAND: usize = 8 << 20;
/// Estimated bytes of a statement beyond the strings it carries.
const STATEMENT_OVERHEAD: usize = 256;

/// Why one attempt of a batch release did not commit.
enum Failure {
    /// The server or the connection failed (retried when labelled
    /// `TransientTransactionError`).
    Mongo(mongodb::error::Error),
    /// A write did not match what the transaction read: run again.
    Missed,
    /// A write was refused (`writeErrors`); not retried.
    Refused(String),
}

impl From<mongodb::error::Error> for Failure {
    fn from(e: mongodb::error::Error) -> Self {
        Failure::Mongo(e)
    }
}

/// A write statement and its estimated size.
struct Statement {
    body: Document,
    bytes: usize,
}

/// What releasing one job writes.
#[derive(Debug, PartialEq)]
enum Write {
    /// `update` statement: filter and update (a document or a pipeline).
    Update(Document, Bson),
    /// `delete` statement: the filter.
    Delete(Document),
}

/// Releasing job `id` for `owner`, given its document as the transaction
/// reads it (`None`: there is none): the outcome and the write that makes
/// it. These are the decisions the store's
/// [`release_job`](chime_core::JobStore::release_job) takes on a document
/// read outside any transaction.
fn plan(
    owner: &str,
    id: &str,
    release: Release,
    doc: Option<&Document>,
) -> (Result<Released>, Option<Write>) {
    let Some(doc) = doc else {
        return (Err(Error::job_not_found(id)), None);
    };
    if doc.get_str(LEASE_OWNER).ok() != Some(owner) {
        return (Err(lease_lost(owner, id)), None);
    }
    // The snapshot guarantees the document is as read; the filter still
    // names the lease this release ends.
    let held = doc! {
        "_id": id,
        LEASE_OWNER: owner,
        LEASE_EXPIRES: doc.get(LEASE_EXPIRES).cloned().unwrap_or(Bson::Null),
    };
    if int_field(doc, NEXT) != int_field(doc, LEASE_NEXT) {
        // The schedule was changed while leased: the change wins.
        let end_lease = vec![
            doc! { "$set": { AVAIL: format!("${NEXT}") } },
            doc! { "$unset": [LEASE_OWNER, LEASE_EXPIRES, LEASE_NEXT] },
        ];
        let pipeline = Bson::Array(end_lease.into_iter().map(Bson::Document).collect());
        return (
            Ok(Released::KeptUpdate),
            Some(Write::Update(held, pipeline)),
        );
    }
    match release {
        Release::Remove => (Ok(Released::Applied), Some(Write::Delete(held))),
        Release::Reschedule {
            next_run_time,
            trigger_time,
        } => {
            let mut job = match decode(id, doc) {
                Ok(job) => job,
                Err(u) => return (Err(unreadable_error(u)), None),
            };
            job.next_run_time = Some(next_run_time);
            job.trigger_time = Some(trigger_time);
            let record = match job.to_record() {
                Ok(record) => record,
                Err(e) => return (Err(e.with_job(id)), None),
            };
            let next = micros(next_run_time);
            let update = doc! {
                "$set": { RECORD: record, NEXT: next, PRIORITY: job.priority, AVAIL: next },
                "$unset": { LEASE_OWNER: "", LEASE_EXPIRES: "", LEASE_NEXT: "" },
            };
            (
                Ok(Released::Applied),
                Some(Write::Update(held, Bson::Document(update))),
            )
        }
    }
}

/// The estimated size of a statement carrying `strings`.
fn estimate<'a>(strings: impl IntoIterator<Item = &'a str>) -> usize {
    strings
        .into_iter()
        .map(str::len)
        .sum::<usize>()
        .saturating_add(STATEMENT_OVERHEAD)
}

/// The hand-off's upsert statement (an entry recorded twice is replaced,
/// as on SQLite).
fn upsert(hand_off: &HandOff) -> Statement {
    let entry = hand_off_document(hand_off);
    let bytes = estimate([
        entry.get_str(RECORD).unwrap_or_default(),
        hand_off.job_id.as_str(),
        hand_off.owner.as_str(),
    ]);
    let id = entry.get("_id").cloned().unwrap_or(Bson::Null);
    Statement {
        body: doc! { "q": { "_id": id }, "u": entry, "upsert": true },
        bytes,
    }
}

/// Splits `statements` into commands below the server's limits.
fn chunks(statements: Vec<Statement>) -> Vec<Vec<Document>> {
    let mut commands = Vec::new();
    let (mut current, mut bytes) = (Vec::new(), 0usize);
    for statement in statements {
        if !current.is_empty()
            && (current.len() >= STATEMENTS_PER_COMMAND
                || bytes.saturating_add(statement.bytes) > BYTES_PER_COMMAND)
        {
            commands.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes = bytes.saturating_add(statement.bytes);
        current.push(statement.body);
    }
    if !current.is_empty() {
        commands.push(current);
    }
    commands
}

/// The writes of one batch, planned from the transaction's read.
#[derive(Default)]
struct Batch {
    results: Vec<Result<Released>>,
    updates: Vec<Statement>,
    deletes: Vec<Statement>,
    removed: Vec<String>,
    hand_offs: Vec<Statement>,
}

impl Batch {
    /// Plans every entry in order against `current` (the jobs' documents as
    /// read), updating it as each release would change it, so that a job
    /// named twice is released once (the second entry finds the lease
    /// ended, or the job gone).
    fn plan(owner: &str, releases: &[JobRelease], mut current: HashMap<String, Document>) -> Self {
        let mut batch = Batch::default();
        for entry in releases {
            let (result, write) = plan(owner, &entry.id, entry.release, current.get(&entry.id));
            match write {
                Some(Write::Update(filter, update)) => {
                    if let Some(doc) = current.get_mut(&entry.id) {
                        doc.remove(LEASE_OWNER);
                    }
                    let record = match &update {
                        Bson::Document(u) => u
                            .get_document("$set")
                            .and_then(|set| set.get_str(RECORD))
                            .unwrap_or_default(),
                        _ => "",
                    };
                    batch.updates.push(Statement {
                        bytes: estimate([record, entry.id.as_str(), owner]),
                        body: doc! { "q": filter, "u": update },
                    });
                }
                Some(Write::Delete(filter)) => {
                    current.remove(&entry.id);
                    batch.deletes.push(Statement {
                        bytes: estimate([entry.id.as_str(), owner]),
                        body: doc! { "q": filter, "limit": 1 },
                    });
                    batch.removed.push(entry.id.clone());
                }
                None => {}
            }
            if let (Ok(_), Some(hand_off)) = (&result, &entry.hand_off) {
                batch.hand_offs.push(upsert(hand_off));
            }
            batch.results.push(result);
        }
        batch
    }
}

impl MongoStore {
    /// Releases the batch in one transaction: one result per entry, in
    /// order. A failure of the database fails every entry.
    pub(super) async fn release_in_transaction(
        &self,
        owner: &str,
        releases: &[JobRelease],
    ) -> Vec<Result<Released>> {
        if releases.is_empty() {
            return Vec::new();
        }
        match self.release_batch(owner, releases).await {
            Ok(results) => results,
            Err(e) => releases
                .iter()
                .map(|entry| {
                    Err(Error::new(e.kind(), e.message())
                        .set_temporary(e.is_retryable())
                        .with_job(&entry.id))
                })
                .collect(),
        }
    }

    async fn release_batch(
        &self,
        owner: &str,
        releases: &[JobRelease],
    ) -> Result<Vec<Result<Released>>> {
        let mut session = self
            .client
            .start_session()
            .await
            .map_err(self.fail("start a session"))?;
        for _ in 0..RELEASE_ATTEMPTS {
            session
                .start_transaction()
                .await
                .map_err(self.fail("start a transaction"))?;
            let failure = match self.release_attempt(&mut session, owner, releases).await {
                Ok(results) => match commit(&mut session).await {
                    Ok(()) => return Ok(results),
                    Err(e) => Failure::Mongo(e),
                },
                Err(failure) => {
                    let _ = session.abort_transaction().await;
                    failure
                }
            };
            match failure {
                Failure::Mongo(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) => {}
                Failure::Missed => {}
                Failure::Mongo(e) => return Err(self.fail("release (transaction)")(e)),
                Failure::Refused(message) => {
                    return Err(Error::new(
                        ErrorKind::StoreUnavailable,
                        format!(
                            "MongoDB release (transaction) failed at {}: {message}",
                            self.redacted_url
                        ),
                    ))
                }
            }
        }
        Err(Error::new(
            ErrorKind::StoreUnavailable,
            "the jobs kept changing during the release; retry",
        )
        .set_temporary(true))
    }

    /// One attempt: read, plan, write; the caller commits or aborts.
    async fn release_attempt(
        &self,
        session: &mut ClientSession,
        owner: &str,
        releases: &[JobRelease],
    ) -> std::result::Result<Vec<Result<Released>>, Failure> {
        let mut ids: Vec<&str> = releases.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let docs: Vec<Document> = self
            .jobs
            .find(doc! { "_id": { "$in": &ids } })
            .projection(doc! {
                RECORD: 1, NEXT: 1, LEASE_OWNER: 1, LEASE_EXPIRES: 1, LEASE_NEXT: 1,
            })
            // One more than there can be: the first batch then holds them
            // all and closes the cursor (no getMore round trip).
            .batch_size(u32::try_from(ids.len().saturating_add(1)).unwrap_or(u32::MAX))
            .session(&mut *session)
            .await?
            .stream(&mut *session)
            .try_collect()
            .await?;
        let current = docs
            .into_iter()
            .filter_map(|doc| match doc.get("_id") {
                Some(Bson::String(id)) => Some((id.clone(), doc)),
                _ => None,
            })
            .collect();
        let batch = Batch::plan(owner, releases, current);

        let expected = batch.updates.len();
        let updated = self
            .write(
                session,
                "update",
                self.jobs.name(),
                "updates",
                batch.updates,
            )
            .await?;
        if updated != expected {
            return Err(Failure::Missed);
        }
        if !batch.deletes.is_empty() {
            let expected = batch.deletes.len();
            let deleted = self
                .write(
                    session,
                    "delete",
                    self.jobs.name(),
                    "deletes",
                    batch.deletes,
                )
                .await?;
            if deleted != expected {
                return Err(Failure::Missed);
            }
            self.runs
                .delete_many(doc! { "job": { "$in": &batch.removed } })
                .session(&mut *session)
                .await?;
        }
        self.write(
            session,
            "update",
            self.hand_offs.name(),
            "updates",
            batch.hand_offs,
        )
        .await?;
        Ok(batch.results)
    }

    /// Runs `statements` as `command`s on `collection` within the session's
    /// transaction; returns how many documents they matched (`n`).
    async fn write(
        &self,
        session: &mut ClientSession,
        command: &str,
        collection: &str,
        field: &str,
        statements: Vec<Statement>,
    ) -> std::result::Result<usize, Failure> {
        let mut matched = 0usize;
        for chunk in chunks(statements) {
            let reply = self
                .db
                .run_command(doc! { command: collection, field: chunk, "ordered": true })
                .session(&mut *session)
                .await?;
            if let Ok(errors) = reply.get_array("writeErrors") {
                if let Some(Bson::Document(first)) = errors.first() {
                    return Err(Failure::Refused(format!(
                        "{} (code {})",
                        first.get_str("errmsg").unwrap_or("a write error"),
                        int_field(first, "code").unwrap_or_default()
                    )));
                }
            }
            let n = int_field(&reply, "n").unwrap_or_default();
            matched = matched.saturating_add(usize::try_from(n).unwrap_or_default());
        }
        Ok(matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chime_core::job::{JobDefaults, NewJob, NextRun};
    use chime_core::trigger::IntervalTrigger;
    use chrono::{DateTime, Utc};

    use crate::document::job_document;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
    }

    fn leased(id: &str, owner: &str) -> Document {
        let job = NewJob::new("t", IntervalTrigger::seconds(60).unwrap())
            .id(id)
            .next_run(NextRun::At(at(10)))
            .into_job(at(0), &JobDefaults::default(), chime_core::chrono_tz::UTC)
            .unwrap();
        let mut doc = job_document(&job, job.to_record().unwrap());
        doc.insert(LEASE_OWNER, owner);
        doc.insert(LEASE_EXPIRES, micros(at(40)));
        doc.insert(LEASE_NEXT, micros(at(10)));
        doc
    }

    fn again() -> Release {
        Release::Reschedule {
            next_run_time: at(70),
            trigger_time: at(70),
        }
    }

    fn kinds(batch: &Batch) -> Vec<std::result::Result<Released, ErrorKind>> {
        batch
            .results
            .iter()
            .map(|r| r.as_ref().map(|r| *r).map_err(|e| e.kind()))
            .collect()
    }

    #[test]
    fn releases_are_planned_as_release_job_decides() {
        let mut changed = leased("changed", "A");
        changed.insert(NEXT, micros(at(500)));
        let current: HashMap<String, Document> = [
            ("a".to_owned(), leased("a", "A")),
            ("b".to_owned(), leased("b", "A")),
            ("theirs".to_owned(), leased("theirs", "B")),
            ("changed".to_owned(), changed),
        ]
        .into_iter()
        .collect();
        let hand_off = |id: &str| HandOff::new(id, at(10), "A", vec![at(10)], vec![], at(40));
        let releases = [
            JobRelease::new("a", again()).with_hand_off(hand_off("a")),
            JobRelease::new("b", Release::Remove).with_hand_off(hand_off("b")),
            JobRelease::new("theirs", again()).with_hand_off(hand_off("theirs")),
            JobRelease::new("ghost", again()).with_hand_off(hand_off("ghost")),
            JobRelease::new("changed", again()).with_hand_off(hand_off("changed")),
            JobRelease::new("a", again()),
            JobRelease::new("b", Release::Remove),
        ];
        let batch = Batch::plan("A", &releases, current);
        assert_eq!(
            kinds(&batch),
            [
                Ok(Released::Applied),
                Ok(Released::Applied),
                Err(ErrorKind::LeaseLost),
                Err(ErrorKind::NotFound),
                Ok(Released::KeptUpdate),
                Err(ErrorKind::LeaseLost),
                Err(ErrorKind::NotFound),
            ],
            "a job named twice is released once"
        );
        assert_eq!(batch.updates.len(), 2, "a and changed");
        assert_eq!(batch.deletes.len(), 1, "b");
        assert_eq!(batch.removed, ["b"]);
        assert_eq!(batch.hand_offs.len(), 3, "only released jobs hand off");
        let first = &batch.updates[0].body;
        assert_eq!(
            first.get_document("q").unwrap(),
            &doc! { "_id": "a", LEASE_OWNER: "A", LEASE_EXPIRES: micros(at(40)) }
        );
    }

    #[test]
    fn unreadable_records_fail_only_their_reschedule() {
        let mut broken = leased("broken", "A");
        broken.insert(RECORD, "{not json");
        let current: HashMap<String, Document> =
            [("broken".to_owned(), broken)].into_iter().collect();
        let releases = [JobRelease::new("broken", again())];
        let batch = Batch::plan("A", &releases, current.clone());
        assert_eq!(kinds(&batch), [Err(ErrorKind::UnreadableRecord)]);
        assert!(batch.updates.is_empty());
        let removal = [JobRelease::new("broken", Release::Remove)];
        let batch = Batch::plan("A", &removal, current);
        assert_eq!(
            kinds(&batch),
            [Ok(Released::Applied)],
            "removal reads no record"
        );
    }

    #[test]
    fn commands_stay_below_the_limits() {
        let statement = |bytes| Statement {
            body: doc! {},
            bytes,
        };
        let sizes: Vec<usize> = chunks(vec![
            statement(5 << 20),
            statement(5 << 20),
            statement(1),
            statement(20 << 20),
            statement(1),
        ])
        .iter()
        .map(Vec::len)
        .collect();
        assert_eq!(sizes, [1, 2, 1, 1], "an oversized statement goes alone");
        let many = (0..STATEMENTS_PER_COMMAND + 1)
            .map(|_| statement(1))
            .collect();
        assert_eq!(chunks(many).len(), 2);
        assert!(chunks(Vec::new()).is_empty());
    }
}
