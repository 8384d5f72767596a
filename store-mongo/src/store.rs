//! The `JobStore` implementation.

mod claim;
mod history;
mod release;

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, GroupCommit, HandOff, HandOffKey, JobEdit, JobList, JobRelease, JobStore,
    Release, Released, RunRecord, StoreCapabilities, UnreadableRecord, RUN_HISTORY_WRITE_TIMEOUT,
};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, TimeDelta, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{url_secret, MongoConfig};
use crate::document::{
    claimed_hand_off, decode, due_order, hand_off_id, id_of, instant, int_field, job_document,
    micros, micros_floor, rewrite_pipeline, AVAIL, CLAIM_TOKEN, DEADLINE, DEADLINE_INDEX,
    DUE_INDEX, HISTORY_INDEX, LEASE_EXPIRES, LEASE_NEXT, LEASE_OWNER, LEASE_TOKEN, NEXT, OWNER,
    OWNER_INDEX, PREVIOUS_DEADLINE, PREVIOUS_OWNER, RECORD,
};
use crate::error::{code, mongo_error, scrub, DUPLICATE_KEY};
use crate::feed::spawn_listener;
use claim::{claim_in_order, Claim};

/// Operations give up after this long without a reachable server, unless
/// the URL says otherwise (the driver's own default is 30 s, which would
/// stall a scheduler's other stores for that long in an outage).
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Connection attempts give up after this long, unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Compare-and-set attempts before an operation reports contention.
const CAS_ATTEMPTS: usize = 64;
/// Attempts of a batch-add transaction that failed transiently.
const TRANSACTION_ATTEMPTS: usize = 5;

/// The MongoDB job store. See the [crate documentation](crate).
pub struct MongoStore {
    config: MongoConfig,
    redacted_url: String,
    /// The password as written in the URL and as decoded: scrubbed from
    /// every message.
    secrets: Vec<String>,
    database: String,
    client: Client,
    db: Database,
    jobs: Collection<Document>,
    runs: Collection<Document>,
    /// The dispatch journal (used on replicated deployments only).
    hand_offs: Collection<Document>,
    /// A replica set or sharded cluster: transactions and change streams
    /// work, and so does the dispatch journal.
    replicated: bool,
    feed: Option<watch::Receiver<u64>>,
    listener: Option<JoinHandle<()>>,
    /// Run records waiting to be written together.
    history: GroupCommit<history::RunEntry>,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoStore")
            .field("url", &self.redacted_url)
            .field("database", &self.database)
            .field("collection", &self.config.collection)
            .finish_non_exhaustive()
    }
}

impl Drop for MongoStore {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

impl MongoStore {
    /// Connects to the deployment in `config`, creates the indexes if they
    /// are missing (once, here) and, on a replica set or sharded cluster,
    /// starts watching for changes and sets up the dispatch journal. Fails
    /// if no server can be reached.
    pub async fn connect(config: MongoConfig) -> Result<Self> {
        if config.collection.is_empty() {
            return Err(Error::invalid(
                "MongoDB store: the collection name must not be empty",
            ));
        }
        let redacted_url = config.redacted_url();
        let mut secrets: Vec<String> = url_secret(&config.url).into_iter().collect();
        let mut options = ClientOptions::parse(&config.url).await.map_err(|e| {
            Error::invalid(format!(
                "MongoDB store: '{redacted_url}' is not a usable MongoDB URL ({})",
                scrub(e.kind.to_string(), &secrets)
            ))
        })?;
        if let Some(password) = options.credential.as_ref().and_then(|c| c.password.clone()) {
            secrets.push(password);
        }
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.app_name.get_or_insert_with(|| "chime".to_owned());
        let database = config
            .database
            .clone()
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| "chime".to_owned());
        let client = Client::with_options(options).map_err(|e| {
            Error::invalid(format!(
                "MongoDB store: cannot use '{redacted_url}' ({})",
                scrub(e.kind.to_string(), &secrets)
            ))
        })?;
        let db = client.database(&database);
        let jobs = db.collection::<Document>(&config.collection);
        let runs = db.collection::<Document>(&config.runs_collection());
        let hand_offs = db.collection::<Document>(&config.hand_offs_collection());
        let fail = |operation: &'static str| {
            let (url, secrets) = (redacted_url.clone(), secrets.clone());
            move |e| mongo_error(&url, &secrets, operation, e)
        };

        // Idempotent: creating an index that exists with the same keys and
        // name is a no-op on the server.
        jobs.create_index(
            IndexModel::builder()
                .keys(due_order())
                .options(IndexOptions::builder().name(DUE_INDEX.to_owned()).build())
                .build(),
        )
        .await
        .map_err(fail("create the due-job index"))?;
        runs.create_index(
            IndexModel::builder()
                .keys(doc! { "job": 1, "recorded": -1, "_id": -1 })
                .options(
                    IndexOptions::builder()
                        .name(HISTORY_INDEX.to_owned())
                        .build(),
                )
                .build(),
        )
        .await
        .map_err(fail("create the history index"))?;

        let hello = client
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(fail("hello"))?;
        let replicated = hello.contains_key("setName") || hello.get_str("msg") == Ok("isdbgrid");
        if replicated {
            // Only replicated deployments (the production shape, with change
            // streams) keep the journal and its collection.
            hand_offs
                .create_indexes([
                    IndexModel::builder()
                        .keys(doc! { DEADLINE: 1, "_id": 1 })
                        .options(
                            IndexOptions::builder()
                                .name(DEADLINE_INDEX.to_owned())
                                .build(),
                        )
                        .build(),
                    IndexModel::builder()
                        .keys(doc! { OWNER: 1 })
                        .options(IndexOptions::builder().name(OWNER_INDEX.to_owned()).build())
                        .build(),
                ])
                .await
                .map_err(fail("create the dispatch journal indexes"))?;
        }
        let (feed, listener) = if replicated {
            let (tx, rx) = watch::channel(0);
            let listener = spawn_listener(jobs.clone(), tx, redacted_url.clone(), secrets.clone());
            (Some(rx), Some(listener))
        } else {
            tracing::info!(url = %redacted_url, "MongoDB is a standalone server: no change streams (schedulers poll), no transactions (no dispatch journal)");
            (None, None)
        };
        Ok(MongoStore {
            config,
            redacted_url,
            secrets,
            database,
            client,
            db,
            jobs,
            runs,
            hand_offs,
            replicated,
            feed,
            listener,
            history: GroupCommit::with_write_timeout(RUN_HISTORY_WRITE_TIMEOUT),
        })
    }

    /// Connects to `url` with the default database and collection.
    pub async fn from_url(url: &str) -> Result<Self> {
        MongoStore::connect(MongoConfig::new(url)).await
    }

    /// The settings.
    pub fn config(&self) -> &MongoConfig {
        &self.config
    }

    /// The database in use (from the settings, the URL, or `chime`).
    pub fn database_name(&self) -> &str {
        &self.database
    }

    fn fail(&self, operation: &str) -> impl Fn(mongodb::error::Error) -> Error + '_ {
        let operation = operation.to_owned();
        move |e| mongo_error(&self.redacted_url, &self.secrets, &operation, e)
    }

    /// A conflict error naming the first of `ids` that exists.
    async fn conflict(&self, ids: &[&str]) -> Error {
        let error = Error::new(ErrorKind::Conflict, "a job with this id already exists");
        let taken = self
            .jobs
            .find_one(doc! { "_id": { "$in": ids } })
            .projection(doc! { "_id": 1 })
            .await;
        match taken {
            Ok(Some(doc)) => error.with_job(id_of(&doc)),
            _ => error,
        }
    }

    async fn add_many(&self, jobs: &[Job], replace_existing: bool) -> Result<()> {
        let mut seen = HashSet::new();
        let mut docs = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !replace_existing && !seen.insert(job.id.as_str()) {
                return Err(
                    Error::new(ErrorKind::Conflict, "the batch holds this id twice")
                        .with_job(&job.id),
                );
            }
            docs.push(job_document(job, job.to_record()?));
        }
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        match docs.as_slice() {
            [] => Ok(()),
            [one] if replace_existing => {
                self.jobs
                    .replace_one(doc! { "_id": ids[0] }, one)
                    .upsert(true)
                    .await
                    .map_err(self.fail("replace"))?;
                Ok(())
            }
            [one] => match self.jobs.insert_one(one).await {
                Ok(_) => Ok(()),
                Err(e) if code(&e) == Some(DUPLICATE_KEY) => Err(self.conflict(&ids).await),
                Err(e) => Err(self.fail("insert")(e)),
            },
            _ if self.replicated => self.add_in_transaction(&docs, &ids, replace_existing).await,
            _ => self.add_undoing(&docs, &ids, replace_existing).await,
        }
    }

    /// Writes a batch in one transaction: all or nothing, atomically.
    async fn add_in_transaction(
        &self,
        docs: &[Document],
        ids: &[&str],
        replace: bool,
    ) -> Result<()> {
        let mut session = self
            .client
            .start_session()
            .await
            .map_err(self.fail("start a session"))?;
        let mut last_error = None;
        for _ in 0..TRANSACTION_ATTEMPTS {
            session
                .start_transaction()
                .await
                .map_err(self.fail("start a transaction"))?;
            let written = self.write_batch(&mut session, docs, ids, replace).await;
            let error = match written {
                Ok(()) => match commit(&mut session).await {
                    Ok(()) => return Ok(()),
                    Err(e) => e,
                },
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    if code(&e) == Some(DUPLICATE_KEY) {
                        return Err(self.conflict(ids).await);
                    }
                    e
                }
            };
            if !error.contains_label(TRANSIENT_TRANSACTION_ERROR) {
                return Err(self.fail("add (transaction)")(error));
            }
            last_error = Some(error);
        }
        Err(match last_error {
            Some(e) => self.fail("add (transaction)")(e),
            None => Error::new(
                ErrorKind::StoreUnavailable,
                "the batch add kept conflicting",
            ),
        })
    }

    async fn write_batch(
        &self,
        session: &mut ClientSession,
        docs: &[Document],
        ids: &[&str],
        replace: bool,
    ) -> mongodb::error::Result<()> {
        if replace {
            for (doc, id) in docs.iter().zip(ids) {
                self.jobs
                    .replace_one(doc! { "_id": *id }, doc)
                    .upsert(true)
                    .session(&mut *session)
                    .await?;
            }
        } else {
            self.jobs.insert_many(docs).session(&mut *session).await?;
        }
        Ok(())
    }

    /// A batch add on a standalone server (no transactions): an ordered
    /// insert that stops at the first taken id, whose inserted prefix is
    /// then removed again. Replacements are applied one by one.
    async fn add_undoing(&self, docs: &[Document], ids: &[&str], replace: bool) -> Result<()> {
        if replace {
            for (doc, id) in docs.iter().zip(ids) {
                self.jobs
                    .replace_one(doc! { "_id": *id }, doc)
                    .upsert(true)
                    .await
                    .map_err(self.fail("replace"))?;
            }
            return Ok(());
        }
        match self.jobs.insert_many(docs).ordered(true).await {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == Some(DUPLICATE_KEY) => {
                let failed_at = match e.kind.as_ref() {
                    mongodb::error::ErrorKind::InsertMany(m) => m
                        .write_errors
                        .as_ref()
                        .and_then(|w| w.first())
                        .map_or(0, |w| w.index),
                    _ => 0,
                };
                let inserted = &ids[..failed_at.min(ids.len())];
                if !inserted.is_empty() {
                    self.jobs
                        .delete_many(doc! { "_id": { "$in": inserted } })
                        .await
                        .map_err(self.fail("undo a failed batch add"))?;
                }
                let conflict = Error::new(ErrorKind::Conflict, "a job with this id already exists");
                Err(match ids.get(failed_at) {
                    Some(id) => conflict.with_job(*id),
                    None => conflict,
                })
            }
            Err(e) => Err(self.fail("insert")(e)),
        }
    }

    async fn find_record(&self, id: &str) -> Result<Option<Document>> {
        self.jobs
            .find_one(doc! { "_id": id })
            .projection(doc! { RECORD: 1 })
            .await
            .map_err(self.fail("find"))
    }
}

/// Commits, retrying a commit whose outcome is unknown (as the driver
/// documentation prescribes).
async fn commit(session: &mut ClientSession) -> mongodb::error::Result<()> {
    let mut attempts = 0;
    loop {
        match session.commit_transaction().await {
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && attempts < 3 => {
                attempts += 1;
            }
            other => return other,
        }
    }
}

impl MongoStore {
    /// An error unless this deployment has the dispatch journal.
    fn journal(&self, operation: &str) -> Result<()> {
        if self.replicated {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::NotSupported,
                format!(
                    "{operation} is not supported by {self:?}: the dispatch journal needs a replica set or sharded cluster (transactions)"
                ),
            ))
        }
    }
}

fn unreadable_error(u: UnreadableRecord) -> Error {
    Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(u.job_id)
}

fn lease_lost(owner: &str, id: &str) -> Error {
    Error::new(
        ErrorKind::LeaseLost,
        format!("owner '{owner}' does not hold the lease"),
    )
    .with_job(id)
}

#[async_trait]
impl JobStore for MongoStore {
    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::in_memory()
            .persistent(true)
            .shared(true)
            .notifies(self.feed.is_some())
            .history(self.config.history_limit > 0)
            .journal(self.replicated)
    }

    async fn add_job(&self, job: Job, replace_existing: bool) -> Result<()> {
        self.add_many(std::slice::from_ref(&job), replace_existing)
            .await
    }

    async fn add_jobs(&self, jobs: Vec<Job>, replace_existing: bool) -> Result<()> {
        self.add_many(&jobs, replace_existing).await
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        match self.find_record(id).await? {
            None => Ok(None),
            Some(doc) => decode(id, &doc).map(Some).map_err(unreadable_error),
        }
    }

    async fn list_jobs(&self) -> Result<JobList> {
        let docs: Vec<Document> = self
            .jobs
            .find(doc! {})
            .projection(doc! { RECORD: 1 })
            .await
            .map_err(self.fail("find"))?
            .try_collect()
            .await
            .map_err(self.fail("find"))?;
        let mut list = JobList::default();
        for doc in docs {
            match decode(&id_of(&doc), &doc) {
                Ok(job) => list.jobs.push(job),
                Err(u) => list.unreadable.push(u),
            }
        }
        list.sort();
        Ok(list)
    }

    async fn update_job(&self, job: Job) -> Result<()> {
        let record = job.to_record()?;
        let result = self
            .jobs
            .update_one(
                doc! { "_id": job.id.as_str() },
                rewrite_pipeline(&job, record),
            )
            .await
            .map_err(self.fail("update"))?;
        if result.matched_count == 0 {
            return Err(Error::job_not_found(&job.id));
        }
        Ok(())
    }

    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        // Compare-and-set on the record text, retried while other writers
        // get in first. The lease is kept: the pipeline recomputes `avail`
        // from the lease on the server, in the same atomic write.
        for _ in 0..CAS_ATTEMPTS {
            let doc = self
                .find_record(id)
                .await?
                .ok_or_else(|| Error::job_not_found(id))?;
            let mut job = decode(id, &doc).map_err(unreadable_error)?;
            let expected = doc.get(RECORD).cloned().unwrap_or(Bson::Null);
            edit(&mut job)?;
            if job.id != id {
                return Err(
                    Error::invalid("modify_job: an edit must not change the job id").with_job(id),
                );
            }
            let record = job.to_record()?;
            let result = self
                .jobs
                .update_one(
                    doc! { "_id": id, RECORD: expected },
                    rewrite_pipeline(&job, record),
                )
                .await
                .map_err(self.fail("modify"))?;
            if result.matched_count == 1 {
                return Ok(job);
            }
        }
        Err(Error::new(ErrorKind::StoreUnavailable, "the job kept changing; retry").with_job(id))
    }

    async fn remove_job(&self, id: &str) -> Result<()> {
        let result = self
            .jobs
            .delete_one(doc! { "_id": id })
            .await
            .map_err(self.fail("remove"))?;
        if result.deleted_count == 0 {
            return Err(Error::job_not_found(id));
        }
        self.runs
            .delete_many(doc! { "job": id })
            .await
            .map_err(self.fail("remove history"))?;
        Ok(())
    }

    async fn remove_all_jobs(&self) -> Result<()> {
        self.jobs
            .delete_many(doc! {})
            .await
            .map_err(self.fail("remove all"))?;
        self.runs
            .delete_many(doc! {})
            .await
            .map_err(self.fail("remove all history"))?;
        Ok(())
    }

    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        // Paused jobs have a null `avail`, which the range leaves out.
        let first = self
            .jobs
            .find_one(doc! { AVAIL: { "$gte": i64::MIN } })
            .sort(due_order())
            .projection(doc! { AVAIL: 1 })
            .await
            .map_err(self.fail("find the earliest job"))?;
        Ok(first
            .and_then(|doc| int_field(&doc, AVAIL))
            .and_then(instant))
    }

    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        let lease = TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: too long"))?;
        let expires = micros(
            now.checked_add_signed(lease)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        // Available at or before now: scheduled (`avail` is null when
        // paused), due, and not under an unexpired lease.
        let available = doc! { AVAIL: { "$lte": micros_floor(now) } };
        let claim = doc! {
            LEASE_OWNER: { "$literal": owner },
            LEASE_EXPIRES: expires,
            LEASE_NEXT: format!("${NEXT}"),
            AVAIL: { "$max": [format!("${NEXT}"), expires] },
        };
        // Three round trips per batch (see `claim_in_order`).
        let claimed = claim_in_order(Claim {
            collection: &self.jobs,
            claimable: available,
            order: due_order(),
            limit,
            set: claim,
            token_field: LEASE_TOKEN,
            projection: Some(doc! { RECORD: 1 }),
        })
        .await
        .map_err(self.fail("acquire"))?;
        let mut acquired = AcquiredJobs::default();
        for doc in claimed {
            match decode(&id_of(&doc), &doc) {
                Ok(job) => acquired.jobs.push(job),
                Err(u) => acquired.unreadable.push(u),
            }
        }
        Ok(acquired)
    }

    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        // Compare-and-set on the record and the lease, so an update made
        // meanwhile is kept and a lease that passed to another owner is
        // never released by this one (see `release_read`).
        for _ in 0..CAS_ATTEMPTS {
            let doc = self
                .jobs
                .find_one(doc! { "_id": id })
                .await
                .map_err(self.fail("find"))?;
            if let Some(released) = self.release_read(owner, id, release, doc).await? {
                return Ok(released);
            }
        }
        Err(Error::new(
            ErrorKind::StoreUnavailable,
            "the job kept changing during release; retry",
        )
        .with_job(id))
    }

    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        if self.replicated {
            // Hand-offs first, then the releases (see `release.rs`).
            self.release_with_journal(owner, releases).await
        } else {
            // No transactions (and no journal): compare-and-sets from one
            // read of the whole batch (see `release.rs`).
            self.release_batch(owner, releases).await
        }
    }

    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> Result<()> {
        self.journal("finish_hand_offs")?;
        // One `delete_many` per 10,000 keys (a key is a job id and a
        // number: such a filter stays far below the command size limit).
        for chunk in keys.chunks(10_000) {
            let ids: Vec<Document> = chunk.iter().map(hand_off_id).collect();
            self.hand_offs
                .delete_many(doc! { "_id": { "$in": ids } })
                .await
                .map_err(self.fail("finish hand-offs"))?;
        }
        Ok(())
    }

    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        self.journal("renew_hand_offs")?;
        for chunk in keys.chunks(10_000) {
            let ids: Vec<Document> = chunk.iter().map(hand_off_id).collect();
            self.hand_offs
                .update_many(
                    doc! { "_id": { "$in": ids }, OWNER: owner },
                    doc! { "$set": { DEADLINE: micros(deadline) } },
                )
                .await
                .map_err(self.fail("renew hand-offs"))?;
        }
        Ok(())
    }

    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HandOff>> {
        self.journal("claim_stale_hand_offs")?;
        let lease = TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: too long"))?;
        let deadline = micros(
            now.checked_add_signed(lease)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        // Stale: the deadline (rounded up) is before now (rounded down), so
        // no entry is claimed before its deadline. The claim keeps the
        // owner and deadline it replaces, to report the entry as it was.
        let claimed = claim_in_order(Claim {
            collection: &self.hand_offs,
            claimable: doc! { DEADLINE: { "$lt": micros_floor(now) } },
            order: doc! { DEADLINE: 1, "_id": 1 },
            limit,
            set: doc! {
                PREVIOUS_OWNER: format!("${OWNER}"),
                PREVIOUS_DEADLINE: format!("${DEADLINE}"),
                OWNER: { "$literal": owner },
                DEADLINE: deadline,
            },
            token_field: CLAIM_TOKEN,
            projection: None,
        })
        .await
        .map_err(self.fail("claim stale hand-offs"))?;
        Ok(claimed.iter().map(claimed_hand_off).collect())
    }

    async fn record_run(&self, record: RunRecord) -> Result<()> {
        // Batched with the records of runs ending meanwhile (see `history.rs`).
        self.record_runs_together(record).await
    }

    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        // Trimming is amortized (see `trims_history_now`): more than
        // `history_limit` runs may be stored for a while, never shown.
        let limit = limit.min(self.config.history_limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let docs: Vec<Document> = self
            .runs
            .find(doc! { "job": id })
            .sort(doc! { "recorded": -1, "_id": -1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .projection(doc! { "run": 1 })
            .await
            .map_err(self.fail("run history"))?
            .try_collect()
            .await
            .map_err(self.fail("run history"))?;
        docs.iter()
            .map(|doc| {
                let text = doc.get_str("run").unwrap_or_default();
                serde_json::from_str(text).map_err(|e| {
                    Error::new(
                        ErrorKind::UnreadableRecord,
                        format!("run history entry: {e}"),
                    )
                    .with_job(id)
                })
            })
            .collect()
    }

    fn change_feed(&self) -> Option<watch::Receiver<u64>> {
        self.feed.clone()
    }
}
