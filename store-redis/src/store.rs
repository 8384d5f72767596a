//! The `JobStore` implementation.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chime_core::job::Job;
use chime_core::store::{
    AcquiredJobs, GroupCommit, HandOff, HandOffKey, JobEdit, JobList, JobRelease, JobStore,
    Release, Released, RunRecord, StoreCapabilities, RUN_HISTORY_WRITE_TIMEOUT,
};
use chime_core::{Error, ErrorKind, Result};
use chrono::{DateTime, TimeDelta, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::RedisConfig;
use crate::encoding::{meta, parse_time18, time18};
use crate::journal::{claimed_entry, entry_key};
use crate::keys::Keys;
use crate::notify::spawn_listener;
use crate::scripts::{scripts, RELEASE_WIDTH};

/// Run records per `RECORD_RUNS` script call, at most.
const RECORDS_PER_SCRIPT: usize = 1_000;

/// The Redis job store. See the [crate documentation](crate).
pub struct RedisStore {
    config: RedisConfig,
    keys: Keys,
    conn: ConnectionManager,
    feed: watch::Receiver<u64>,
    listener: JoinHandle<()>,
    /// Run records (job id, JSON) waiting to be written together.
    history: GroupCommit<(String, String)>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.config.redacted_url())
            .field("prefix", &self.config.prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// A Redis failure as a store error that never shows credentials.
fn redis_error(config: &RedisConfig, operation: &str, e: redis::RedisError) -> Error {
    let temporary =
        e.is_io_error() || e.is_timeout() || e.is_connection_refusal() || e.is_connection_dropped();
    Error::new(
        ErrorKind::StoreUnavailable,
        format!(
            "Redis {operation} failed at {}: {}",
            config.redacted_url(),
            e.kind_name()
        ),
    )
    .set_temporary(temporary)
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The error's category and detail, without the connection info.
    fn kind_name(&self) -> String {
        match self.detail() {
            Some(detail) => format!("{:?}: {detail}", self.kind()),
            None => format!("{:?}", self.kind()),
        }
    }
}

use chime_core::store::decode_record as decode;

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// [`text`] taking the reply: a bulk string that is valid UTF-8 (every
/// record the store writes) becomes the `String` without a copy.
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

/// The texts of a reply: of each item of an array, or of a lone value.
fn texts(value: Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.into_iter().filter_map(into_text).collect(),
        other => into_text(other).into_iter().collect(),
    }
}

/// The text of a reply item, `None` unless it is valid UTF-8 text.
fn strict_text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// Compare-and-set rounds of a release before it gives up (the record kept
/// changing under it).
const RELEASE_ROUNDS: usize = 5;

/// The record a release applies to, as last read.
enum Current {
    /// There is no job.
    Missing,
    /// The record's text.
    Text(String),
    /// The record is not UTF-8 text (planted by something else).
    NotText,
}

impl Current {
    fn from_reply(value: &Value) -> Current {
        match value {
            Value::Nil => Current::Missing,
            other => strict_text(other).map_or(Current::NotText, Current::Text),
        }
    }
}

/// One entry of a batch release still to be sent.
struct PendingRelease<'a> {
    /// Its place in the batch.
    index: usize,
    entry: &'a JobRelease,
    current: Current,
}

/// What the release script is asked to do with one entry.
struct ReleasePlan {
    args: [String; RELEASE_WIDTH],
    /// Why the record cannot be rescheduled, for "unreadable".
    unreadable: Option<String>,
}

/// The script arguments for `pending`, rescheduling its current record.
fn plan_release(pending: &PendingRelease<'_>) -> Result<ReleasePlan> {
    let id = pending.entry.id.as_str();
    let mut unreadable = None;
    let mut expected = String::new();
    let (action, new_record, new_meta) = match (pending.entry.release, &pending.current) {
        (Release::Remove, _) => ("remove", String::new(), String::new()),
        // The script reports the job as not found (or its record, if it
        // was added since: then the next round reschedules that).
        (Release::Reschedule { .. }, Current::Missing) => {
            ("reschedule", String::new(), String::new())
        }
        (Release::Reschedule { .. }, Current::NotText) => {
            unreadable = Some("the record is not UTF-8 text".to_owned());
            ("unreadable", String::new(), String::new())
        }
        (
            Release::Reschedule {
                next_run_time,
                trigger_time,
            },
            Current::Text(text),
        ) => match decode(id, text) {
            Ok(mut job) => {
                expected.clone_from(text);
                job.next_run_time = Some(next_run_time);
                job.trigger_time = Some(trigger_time);
                (
                    "reschedule",
                    job.to_record()?,
                    meta(job.priority, job.next_run_time),
                )
            }
            Err(u) => {
                unreadable = Some(u.reason);
                ("unreadable", String::new(), String::new())
            }
        },
    };
    let (key, record, owner, deadline) = match &pending.entry.hand_off {
        Some(hand_off) => (
            entry_key(&hand_off.key()),
            hand_off.to_record(),
            hand_off.owner.clone(),
            time18(hand_off.deadline),
        ),
        None => Default::default(),
    };
    Ok(ReleasePlan {
        args: [
            id.to_owned(),
            action.to_owned(),
            expected,
            new_record,
            new_meta,
            key,
            record,
            owner,
            deadline,
        ],
        unreadable,
    })
}

/// A copy of `error` for job `id` (errors are not `Clone`; one failure of
/// a batch is reported on each of its entries).
fn error_for(error: &Error, id: &str) -> Error {
    Error::new(error.kind(), error.message())
        .set_temporary(error.is_retryable())
        .with_job(id)
}

fn lease_lost(owner: &str, id: &str) -> Error {
    Error::new(
        ErrorKind::LeaseLost,
        format!("owner '{owner}' does not hold the lease"),
    )
    .with_job(id)
}

impl RedisStore {
    /// Connects to the server in `config` and starts listening for changes.
    pub async fn connect(config: RedisConfig) -> Result<Self> {
        if config.prefix.is_empty() {
            return Err(Error::invalid(
                "Redis store: the key prefix must not be empty",
            ));
        }
        let client = redis::Client::open(config.url.as_str()).map_err(|e| {
            Error::invalid(format!(
                "Redis store: '{}' is not a usable Redis URL ({})",
                config.redacted_url(),
                e.kind_name()
            ))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client.clone(), manager_config)
            .await
            .map_err(|e| redis_error(&config, "connect", e))?;
        let keys = Keys::new(&config.prefix);
        // Earlier builds also kept every job's due member in a hash; the
        // scripts now compute it from the job's meta and lease, so that
        // hash is dead weight (every scheduler on the store must run this
        // build: see the README's upgrade note).
        // Best effort: a user without write access (a read-only CLI
        // session) can still connect; a later one with write access
        // removes it.
        if let Err(e) = redis::cmd("UNLINK")
            .arg(&keys.legacy_due_member)
            .query_async::<()>(&mut conn.clone())
            .await
        {
            tracing::debug!(url = %config.redacted_url(), error = %e.kind_name(), "could not remove the legacy due-member hash");
        }
        let (feed_tx, feed) = watch::channel(0);
        let listener = spawn_listener(client, keys.channel.clone(), feed_tx, config.redacted_url());
        Ok(RedisStore {
            config,
            keys,
            conn,
            feed,
            listener,
            history: GroupCommit::with_write_timeout(RUN_HISTORY_WRITE_TIMEOUT),
        })
    }

    /// Connects to `url` with the default prefix.
    pub async fn from_url(url: &str) -> Result<Self> {
        RedisStore::connect(RedisConfig::new(url)).await
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    fn fail(&self, operation: &str) -> impl Fn(redis::RedisError) -> Error + '_ {
        let operation = operation.to_owned();
        move |e| redis_error(&self.config, &operation, e)
    }

    async fn run_script(
        &self,
        script: &redis::Script,
        args: Vec<String>,
        operation: &str,
    ) -> Result<Value> {
        let mut invocation = script.prepare_invoke();
        for key in self.keys.script_keys() {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        invocation
            .invoke_async(&mut conn)
            .await
            .map_err(self.fail(operation))
    }

    /// Records runs (job id, run JSON), oldest first, in script calls of
    /// at most [`RECORDS_PER_SCRIPT`]; runs of jobs that are gone are dropped.
    async fn record_runs(&self, runs: Vec<(String, String)>) -> Result<()> {
        let mut runs = runs.into_iter().peekable();
        while runs.peek().is_some() {
            let mut args = vec![self.config.history_limit.to_string()];
            for (id, json) in runs.by_ref().take(RECORDS_PER_SCRIPT) {
                let key = format!("{}{id}", self.keys.runs_prefix);
                args.extend([id, key, json]);
            }
            self.run_script(&scripts().record_runs, args, "record runs")
                .await?;
        }
        Ok(())
    }

    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("HGET")
            .arg(key)
            .arg(field)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(self.fail("HGET"))
    }

    async fn add_many(&self, jobs: &[Job], replace_existing: bool) -> Result<()> {
        let mut args = vec![
            if replace_existing { "1" } else { "0" }.to_owned(),
            self.keys.channel.clone(),
        ];
        let mut seen = std::collections::HashSet::new();
        for job in jobs {
            if !replace_existing && !seen.insert(job.id.as_str()) {
                return Err(
                    Error::new(ErrorKind::Conflict, "the batch holds this id twice")
                        .with_job(&job.id),
                );
            }
            args.push(job.id.to_string());
            args.push(job.to_record()?);
            args.push(meta(job.priority, job.next_run_time));
        }
        let reply = texts(self.run_script(&scripts().add, args, "add").await?);
        match reply.first().map(String::as_str) {
            Some("ok") => Ok(()),
            Some("conflict") => Err(Error::new(
                ErrorKind::Conflict,
                "a job with this id already exists",
            )
            .with_job(reply.get(1).cloned().unwrap_or_default())),
            _ => Err(Error::new(
                ErrorKind::Internal,
                format!("unexpected reply from the add script: {reply:?}"),
            )),
        }
    }
}

impl RedisStore {
    /// Releases `releases` for `owner`: one read of the current records,
    /// then one release script call for the whole batch (more only for
    /// entries whose record changed meanwhile, which are read again and
    /// retried). Each entry's hand-off is journaled by the same script call
    /// that releases it, and only if the release ended the lease.
    async fn release_batch(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        match self.read_records(releases).await {
            Ok(records) => self.release_read(owner, releases, records).await,
            Err(error) => releases
                .iter()
                .map(|entry| Err(error_for(&error, &entry.id)))
                .collect(),
        }
    }

    /// [`release_batch`](Self::release_batch) once the records are read
    /// (`records[i]` is the current record of `releases[i]`).
    async fn release_read(
        &self,
        owner: &str,
        releases: &[JobRelease],
        records: Vec<Current>,
    ) -> Vec<Result<Released>> {
        let mut results: Vec<Option<Result<Released>>> = releases.iter().map(|_| None).collect();
        let mut pending = releases
            .iter()
            .zip(records)
            .enumerate()
            .map(|(index, (entry, current))| PendingRelease {
                index,
                entry,
                current,
            })
            .collect::<Vec<_>>();
        for _ in 0..RELEASE_ROUNDS {
            if pending.is_empty() {
                break;
            }
            let mut args = vec![
                owner.to_owned(),
                self.keys.runs_prefix.clone(),
                self.keys.hand_offs_of_prefix.clone(),
            ];
            let mut sent = Vec::with_capacity(pending.len());
            for entry in pending.drain(..) {
                match plan_release(&entry) {
                    Ok(plan) => {
                        args.extend(plan.args);
                        sent.push((entry, plan.unreadable));
                    }
                    Err(error) => results[entry.index] = Some(Err(error.with_job(&entry.entry.id))),
                }
            }
            if sent.is_empty() {
                break;
            }
            let reply = match self.run_script(&scripts().release, args, "release").await {
                Ok(Value::Array(items)) if items.len() == sent.len() * 2 => items,
                Ok(other) => {
                    let error = Error::new(
                        ErrorKind::Internal,
                        format!("unexpected reply from the release script: {other:?}"),
                    );
                    for (entry, _) in sent {
                        results[entry.index] = Some(Err(error_for(&error, &entry.entry.id)));
                    }
                    break;
                }
                Err(error) => {
                    for (entry, _) in sent {
                        results[entry.index] = Some(Err(error_for(&error, &entry.entry.id)));
                    }
                    break;
                }
            };
            for ((mut entry, unreadable), answer) in sent.into_iter().zip(reply.chunks(2)) {
                let id = entry.entry.id.as_str();
                let status = answer.first().and_then(text);
                let result = match status.as_deref() {
                    Some("ok") => Ok(Released::Applied),
                    Some("kept") => Ok(Released::KeptUpdate),
                    Some("not_found") => Err(Error::job_not_found(id)),
                    Some("lease_lost") => Err(lease_lost(owner, id)),
                    Some("unreadable") => Err(Error::new(
                        ErrorKind::UnreadableRecord,
                        unreadable.unwrap_or_else(|| "the record cannot be read".to_owned()),
                    )
                    .with_job(id)),
                    Some("changed") => {
                        entry.current = answer.get(1).map_or(Current::Missing, Current::from_reply);
                        pending.push(entry);
                        continue;
                    }
                    other => Err(Error::new(
                        ErrorKind::Internal,
                        format!("unexpected reply from the release script: {other:?}"),
                    )
                    .with_job(id)),
                };
                results[entry.index] = Some(result);
            }
        }
        for entry in pending {
            results[entry.index] = Some(Err(Error::new(
                ErrorKind::StoreUnavailable,
                "the job kept changing during release; retry",
            )
            .with_job(&entry.entry.id)));
        }
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "the release of this job was not attempted",
                    ))
                })
            })
            .collect()
    }

    /// The current records of the released jobs, in one round trip.
    async fn read_records(&self, releases: &[JobRelease]) -> Result<Vec<Current>> {
        let mut command = redis::cmd("HMGET");
        command.arg(&self.keys.jobs);
        for entry in releases {
            command.arg(entry.id.as_str());
        }
        let mut conn = self.conn.clone();
        let reply: Vec<Value> = command
            .query_async(&mut conn)
            .await
            .map_err(self.fail("HMGET"))?;
        if reply.len() != releases.len() {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "HMGET of {} records answered {} values",
                    releases.len(),
                    reply.len()
                ),
            ));
        }
        Ok(reply.iter().map(Current::from_reply).collect())
    }
}

#[async_trait]
impl JobStore for RedisStore {
    fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::in_memory()
            .persistent(true)
            .shared(true)
            .notifies(true)
            .history(self.config.history_limit > 0)
            .journal(true)
    }

    async fn add_job(&self, job: Job, replace_existing: bool) -> Result<()> {
        self.add_many(std::slice::from_ref(&job), replace_existing)
            .await
    }

    async fn add_jobs(&self, jobs: Vec<Job>, replace_existing: bool) -> Result<()> {
        self.add_many(&jobs, replace_existing).await
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        match self.hget(&self.keys.jobs, id).await? {
            None => Ok(None),
            Some(text) => decode(id, &text)
                .map(Some)
                .map_err(|u| Error::new(ErrorKind::UnreadableRecord, u.reason).with_job(id)),
        }
    }

    async fn list_jobs(&self) -> Result<JobList> {
        let mut conn = self.conn.clone();
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(&self.keys.jobs)
            .query_async(&mut conn)
            .await
            .map_err(self.fail("HGETALL"))?;
        let mut list = JobList::default();
        for (id, text) in all {
            list.push_record(&id, &text);
        }
        list.sort();
        Ok(list)
    }

    async fn update_job(&self, job: Job) -> Result<()> {
        let args = vec![
            job.id.to_string(),
            job.to_record()?,
            meta(job.priority, job.next_run_time),
            self.keys.channel.clone(),
        ];
        match texts(self.run_script(&scripts().update, args, "update").await?)
            .first()
            .map(String::as_str)
        {
            Some("ok") => Ok(()),
            Some("not_found") => Err(Error::job_not_found(&job.id)),
            other => Err(Error::new(
                ErrorKind::Internal,
                format!("unexpected reply from the update script: {other:?}"),
            )),
        }
    }

    async fn modify_job(&self, id: &str, edit: JobEdit<'_>) -> Result<Job> {
        // Compare-and-set, retried while other writers get in first.
        for _ in 0..64 {
            let text = self
                .hget(&self.keys.jobs, id)
                .await?
                .ok_or_else(|| Error::job_not_found(id))?;
            let mut job = Job::from_record(&text).map_err(|e| e.with_job(id))?;
            edit(&mut job)?;
            if job.id != id {
                return Err(
                    Error::invalid("modify_job: an edit must not change the job id").with_job(id),
                );
            }
            let args = vec![
                id.to_owned(),
                text,
                job.to_record()?,
                meta(job.priority, job.next_run_time),
                self.keys.channel.clone(),
            ];
            match texts(self.run_script(&scripts().modify, args, "modify").await?)
                .first()
                .map(String::as_str)
            {
                Some("ok") => return Ok(job),
                Some("not_found") => return Err(Error::job_not_found(id)),
                Some("changed") => continue,
                other => {
                    return Err(Error::new(
                        ErrorKind::Internal,
                        format!("unexpected reply from the modify script: {other:?}"),
                    ))
                }
            }
        }
        Err(Error::new(ErrorKind::StoreUnavailable, "the job kept changing; retry").with_job(id))
    }

    async fn remove_job(&self, id: &str) -> Result<()> {
        let args = vec![
            id.to_owned(),
            self.keys.runs_prefix.clone(),
            self.keys.channel.clone(),
        ];
        match texts(self.run_script(&scripts().remove, args, "remove").await?)
            .first()
            .map(String::as_str)
        {
            Some("ok") => Ok(()),
            Some("not_found") => Err(Error::job_not_found(id)),
            other => Err(Error::new(
                ErrorKind::Internal,
                format!("unexpected reply from the remove script: {other:?}"),
            )),
        }
    }

    /// Removes every job and its run history. The dispatch journal is left
    /// alone: its entries are fires already handed to runs, which their
    /// schedulers still finish (or others report once stale).
    async fn remove_all_jobs(&self) -> Result<()> {
        let args = vec![self.keys.runs_prefix.clone(), self.keys.channel.clone()];
        self.run_script(&scripts().remove_all, args, "remove all")
            .await?;
        Ok(())
    }

    async fn earliest_next_run_time(&self) -> Result<Option<DateTime<Utc>>> {
        let mut conn = self.conn.clone();
        let first: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(&self.keys.due)
            .arg("-")
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(self.fail("ZRANGEBYLEX"))?;
        Ok(first.first().and_then(|member| parse_time18(member)))
    }

    async fn acquire_due_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<AcquiredJobs> {
        let lease = TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: too long"))?;
        let expires = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        // Members strictly below "(now + 1 µs)" are due at or before now.
        let bound = now
            .checked_add_signed(TimeDelta::microseconds(1))
            .unwrap_or(now);
        let bound = format!("({}", time18(bound.with_nanosecond_floor()));
        let args = vec![bound, limit.to_string(), owner.to_owned(), time18(expires)];
        let reply = texts(self.run_script(&scripts().acquire, args, "acquire").await?);
        let mut acquired = AcquiredJobs::default();
        for pair in reply.chunks(2) {
            let [id, text] = pair else { continue };
            match decode(id, text) {
                Ok(job) => acquired.jobs.push(job),
                Err(u) => acquired.unreadable.push(u),
            }
        }
        Ok(acquired)
    }

    async fn release_job(&self, owner: &str, id: &str, release: Release) -> Result<Released> {
        // A batch of one: the same compare-and-set on the current record,
        // so an update made meanwhile is kept.
        self.release_batch(owner, &[JobRelease::new(id, release)])
            .await
            .pop()
            .unwrap_or_else(|| {
                Err(Error::new(ErrorKind::Internal, "a release of one gave no result").with_job(id))
            })
    }

    async fn release_jobs(&self, owner: &str, releases: &[JobRelease]) -> Vec<Result<Released>> {
        if releases.is_empty() {
            return Vec::new();
        }
        self.release_batch(owner, releases).await
    }

    async fn finish_hand_offs(&self, keys: &[HandOffKey]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut args = Vec::with_capacity(keys.len() + 1);
        args.push(self.keys.hand_offs_of_prefix.clone());
        args.extend(keys.iter().map(entry_key));
        self.run_script(&scripts().finish_hand_offs, args, "finish hand-offs")
            .await?;
        Ok(())
    }

    async fn renew_hand_offs(
        &self,
        owner: &str,
        keys: &[HandOffKey],
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut args = Vec::with_capacity(keys.len() + 3);
        args.push(self.keys.hand_offs_of_prefix.clone());
        args.push(owner.to_owned());
        args.push(time18(deadline));
        args.extend(keys.iter().map(entry_key));
        self.run_script(&scripts().renew_hand_offs, args, "renew hand-offs")
            .await?;
        Ok(())
    }

    async fn claim_stale_hand_offs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HandOff>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let lease = TimeDelta::from_std(lease).map_err(|_| Error::invalid("lease: too long"))?;
        let deadline = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let args = vec![
            self.keys.hand_offs_of_prefix.clone(),
            owner.to_owned(),
            format!("({}", time18(now)),
            i64::try_from(limit).unwrap_or(i64::MAX).to_string(),
            time18(deadline),
        ];
        let reply = texts(
            self.run_script(
                &scripts().claim_stale_hand_offs,
                args,
                "claim stale hand-offs",
            )
            .await?,
        );
        if !reply.len().is_multiple_of(3) {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "unexpected reply from the claim script: {} items",
                    reply.len()
                ),
            ));
        }
        Ok(reply
            .chunks(3)
            .filter_map(|item| match item {
                [key, record, holder] => Some(claimed_entry(key, record, holder)),
                _ => None,
            })
            .collect())
    }

    async fn record_run(&self, record: RunRecord) -> Result<()> {
        if self.config.history_limit == 0 {
            return Ok(());
        }
        let json = serde_json::to_string(&record).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode a run record").with_source(e)
        })?;
        // The records of runs ending meanwhile go in the same script call.
        self.history
            .submit((record.job_id.to_string(), json), |batch| {
                self.record_runs(batch)
            })
            .await
    }

    async fn run_history(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let items: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("{}{id}", self.keys.runs_prefix))
            .arg(0)
            .arg(limit.saturating_sub(1))
            .query_async(&mut conn)
            .await
            .map_err(self.fail("LRANGE"))?;
        items
            .iter()
            .map(|item| {
                serde_json::from_str(item).map_err(|e| {
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
        Some(self.feed.clone())
    }
}

/// Drops sub-microsecond precision (the bound is exclusive, so "now + 1 µs"
/// rounded down keeps everything due at `now`).
trait FloorMicros {
    fn with_nanosecond_floor(self) -> Self;
}

impl FloorMicros for DateTime<Utc> {
    fn with_nanosecond_floor(self) -> Self {
        DateTime::from_timestamp_micros(self.timestamp_micros()).unwrap_or(self)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
