//! The SQLite store beyond the kit: persistence across reopen, schema
//! versions, bad files, and a scheduler over records it cannot use.

use std::sync::Arc;

use chime::store::{JobStore, SqliteStore};
use chime::trigger::IntervalTrigger;
use chime::{ErrorKind, Event, JobFilter, NewJob};

use crate::harness::{at, builder_with};

#[tokio::test]
async fn jobs_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let url = format!("sqlite://{}", path.display());
    let job = NewJob::new("t", IntervalTrigger::seconds(60).unwrap())
        .id("keep-me")
        .into_job(at(0), &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    {
        let store = SqliteStore::from_url(&url).unwrap();
        store.add_job(job.clone(), false).await.unwrap();
        assert!(store.capabilities().persistent && store.capabilities().shared);
    }
    let store = SqliteStore::from_url(&url).unwrap();
    assert_eq!(store.get_job("keep-me").await.unwrap(), Some(job));
}

#[tokio::test]
async fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE chime_schema SET version = 99", [])
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        err.to_string().contains("schema version 99 is newer"),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-db.db");
    std::fs::write(
        &path,
        b"this is a text file, not SQLite, and it is long enough to have a header",
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
    let err = SqliteStore::open(dir.path().join("missing-dir/jobs.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{err}");
    assert!(SqliteStore::from_url("postgres://x").is_err());
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_reports_a_corrupt_record_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let (store, mut h) = scheduler_with_a_fine_job(&path).await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "INSERT INTO chime_jobs (id, record, next_run_time, priority) VALUES ('mangled', '{{\"version\":1,\"id\":\"mangled\"', {at}, 0);
             INSERT INTO chime_due (available_at, neg_priority, id) VALUES ({at}, 0, 'mangled');",
            at = at(5).timestamp_micros()
        ))
        .unwrap();
    h.scheduler.start().await.unwrap();
    let event = h.wait_for(|e| matches!(e, Event::JobUnusable { .. })).await;
    assert!(
        matches!(event, Event::JobUnusable { ref job_id, ref store, .. } if job_id == "mangled" && store == "sql"),
        "{event:?}"
    );
    h.run_until(at(25)).await;
    assert_eq!(
        h.fires("fine"),
        vec![at(10), at(20)],
        "the good job keeps running"
    );
    let list = store.list_jobs().await.unwrap();
    assert_eq!(
        list.unreadable.len(),
        1,
        "the corrupt record is still there"
    );
    let all = h.scheduler.list_jobs(&JobFilter::all()).await.unwrap();
    assert_eq!(all.len(), 1);
}

/// Records a tool left in the file as something other than UTF-8 text:
/// each is one unreadable job (listed, reported, kept), never a failed
/// listing or acquisition that would stop every other job of the store.
#[tokio::test(start_paused = true)]
async fn records_that_are_not_text_are_unreadable_jobs_not_store_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let (store, mut h) = scheduler_with_a_fine_job(&path).await;
    // A valid record, stored as a blob: still readable, and it runs.
    let as_blob = NewJob::new("record", IntervalTrigger::seconds(10).unwrap())
        .id("as-blob")
        .into_job(at(0), &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    let due = at(5).timestamp_micros();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO chime_jobs (id, record, next_run_time, priority) VALUES ('as-blob', CAST(?1 AS BLOB), ?2, 0)",
        rusqlite::params![as_blob.to_record().unwrap().into_bytes(), at(10).timestamp_micros()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO chime_due (available_at, neg_priority, id) VALUES (?1, 0, 'as-blob')",
        [at(10).timestamp_micros()],
    )
    .unwrap();
    for (id, record) in [
        ("binary-blob", "X'00FF10'"),
        ("not-utf8", "CAST(X'7B22FF' AS TEXT)"),
    ] {
        conn.execute_batch(&format!(
            "INSERT INTO chime_jobs (id, record, next_run_time, priority) VALUES ('{id}', {record}, {due}, 0);
             INSERT INTO chime_due (available_at, neg_priority, id) VALUES ({due}, 0, '{id}');"
        ))
        .unwrap();
    }
    drop(conn);

    let list = store.list_jobs().await.unwrap();
    let listed: Vec<&str> = list.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(listed, ["as-blob", "fine"]);
    let unreadable: Vec<&str> = list.unreadable.iter().map(|u| u.job_id.as_str()).collect();
    assert_eq!(unreadable, ["binary-blob", "not-utf8"]);
    assert!(
        list.unreadable
            .iter()
            .all(|u| u.reason.contains("not UTF-8")),
        "{:?}",
        list.unreadable
    );
    let err = store.get_job("not-utf8").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnreadableRecord, "{err}");

    let reported = std::sync::Mutex::new(std::collections::BTreeSet::new());
    h.scheduler.start().await.unwrap();
    h.wait_for(|e| {
        let mut reported = reported.lock().unwrap();
        if let Event::JobUnusable { job_id, .. } = e {
            reported.insert(job_id.clone());
        }
        reported.len() == 2
    })
    .await;
    assert_eq!(
        reported.into_inner().unwrap(),
        ["binary-blob", "not-utf8"].map(String::from).into()
    );
    h.run_until(at(25)).await;
    assert_eq!(h.fires("fine"), vec![at(10), at(20)]);
    assert_eq!(h.fires("as-blob"), vec![at(10), at(20)]);
    // Still there, for someone to look at.
    assert_eq!(store.list_jobs().await.unwrap().unreadable.len(), 2);
}

/// A scheduler (not started) on a SQLite store at `path` ("sql") holding
/// one good job, "fine", every 10 s.
async fn scheduler_with_a_fine_job(
    path: &std::path::Path,
) -> (Arc<SqliteStore>, crate::harness::Harness) {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let h = builder_with(|b| b.store_arc("sql", store.clone()));
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(10).unwrap())
                .id("fine")
                .store("sql"),
        )
        .await
        .unwrap();
    (store, h)
}

/// A job every 60 s from 10 s past the test epoch.
fn every_minute_from_10(id: &str) -> chime::job::Job {
    NewJob::new(
        "t",
        IntervalTrigger::seconds(60).unwrap().starting_at(at(10)),
    )
    .id(id)
    .into_job(at(0), &Default::default(), chime::chrono_tz::UTC)
    .unwrap()
}

/// The ids `acquire_due_jobs("me", now, 10, lease)` hands out.
async fn acquired_ids(
    store: &SqliteStore,
    now: chime::chrono::DateTime<chime::chrono::Utc>,
    lease_secs: u64,
) -> Vec<String> {
    let got = store
        .acquire_due_jobs("me", now, 10, std::time::Duration::from_secs(lease_secs))
        .await
        .unwrap();
    assert!(got.unreadable.is_empty(), "{:?}", got.unreadable);
    got.jobs.iter().map(|j| j.id.to_string()).collect()
}

/// A schema-2 database (leases and the due time in the job rows) as a
/// session-4 build left it: one job due, one leased by another process,
/// one paused.
fn plant_schema_2(path: &std::path::Path, jobs: &[(chime::job::Job, Option<(&str, i64)>)]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE chime_schema (version INTEGER NOT NULL);
         INSERT INTO chime_schema (version) VALUES (2);
         CREATE TABLE chime_jobs (
             id TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL, next_run_time INTEGER,
             priority INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_expires INTEGER,
             lease_next INTEGER, available_at INTEGER);
         CREATE INDEX chime_jobs_due ON chime_jobs (available_at, priority DESC, id)
             WHERE available_at IS NOT NULL;
         CREATE TABLE chime_runs (
             seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,
             scheduled_run_time INTEGER NOT NULL, started_at INTEGER NOT NULL,
             finished_at INTEGER NOT NULL, outcome TEXT NOT NULL, message TEXT);
         CREATE INDEX chime_runs_job ON chime_runs (job_id, seq);
         CREATE TABLE chime_hand_offs (
             job_id TEXT NOT NULL, fire_time INTEGER NOT NULL, owner TEXT NOT NULL,
             deadline INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (job_id, fire_time));",
    )
    .unwrap();
    for (job, lease) in jobs {
        let next = job.next_run_time.map(|t| t.timestamp_micros());
        let (owner, expires) = match lease {
            Some((owner, expires)) => (Some(*owner), Some(*expires)),
            None => (None, None),
        };
        let available = match (next, expires) {
            (Some(n), Some(e)) => Some(n.max(e)),
            (n, _) => n,
        };
        conn.execute(
            "INSERT INTO chime_jobs VALUES (?1, ?2, ?3, ?8, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                job.id.as_str(),
                job.to_record().unwrap(),
                next,
                owner,
                expires,
                owner.and(next),
                available,
                job.priority
            ],
        )
        .unwrap();
    }
}

#[tokio::test]
async fn a_schema_2_database_keeps_its_due_times_and_leases_when_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let job = |id: &str, priority: i32, paused: bool| {
        let mut job = every_minute_from_10(id);
        job.priority = priority;
        if paused {
            job.next_run_time = None;
        }
        job
    };
    let lease_expires = at(100).timestamp_micros();
    plant_schema_2(
        &path,
        &[
            (job("due", 0, false), None),
            (job("high", 5, false), None),
            (job("low", -3, false), None),
            (job("leased", 0, false), Some(("other", lease_expires))),
            (job("paused", 0, true), None),
            (
                job("leased-paused", 0, true),
                Some(("other", lease_expires)),
            ),
        ],
    );

    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT version FROM chime_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    assert_eq!(store.list_jobs().await.unwrap().jobs.len(), 6);
    assert_eq!(store.earliest_next_run_time().await.unwrap(), Some(at(10)));

    // Only the unleased, unpaused jobs are due, higher priority first; the
    // other process keeps its leases.
    assert_eq!(
        acquired_ids(&store, at(20), 1000).await,
        ["high", "due", "low"]
    );
    let lost = store
        .release_job("me", "leased", chime::store::Release::Remove)
        .await
        .unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::LeaseLost);
    // The lease came through: its holder can still release the job.
    let released = store
        .release_job(
            "other",
            "leased",
            chime::store::Release::Reschedule {
                next_run_time: at(120),
                trigger_time: at(120),
            },
        )
        .await
        .unwrap();
    assert_eq!(released, chime::store::Released::Applied);
    assert!(acquired_ids(&store, at(119), 30).await.is_empty());
    // The paused job stays paused after its lease lapses.
    assert_eq!(acquired_ids(&store, at(120), 30).await, ["leased"]);
}

#[tokio::test]
async fn a_due_row_without_its_job_is_dropped_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .add_job(every_minute_from_10("real"), false)
        .await
        .unwrap();
    // A row for no job, and a second row for "real" where its state does
    // not put it.
    plant_due_rows(&path, &["ghost", "real"], at(5));
    assert_eq!(store.earliest_next_run_time().await.unwrap(), Some(at(5)));

    assert_eq!(acquired_ids(&store, at(20), 30).await, ["real"], "once");
    // The stray rows are gone: the earliest time is the leased job's expiry.
    assert_eq!(store.earliest_next_run_time().await.unwrap(), Some(at(50)));
    assert!(acquired_ids(&store, at(20), 30).await.is_empty());
}

/// Writes due rows for `ids` at `when` straight into the file, behind the
/// store's back (what a crashed or older writer can leave).
fn plant_due_rows(
    path: &std::path::Path,
    ids: &[&str],
    when: chime::chrono::DateTime<chime::chrono::Utc>,
) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for id in ids {
        conn.execute(
            "INSERT INTO chime_due (available_at, neg_priority, id) VALUES (?1, 0, ?2)",
            rusqlite::params![when.timestamp_micros(), id],
        )
        .unwrap();
    }
}

#[tokio::test]
async fn stray_due_rows_do_not_shorten_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = SqliteStore::open(&path).unwrap();
    for id in ["a", "b"] {
        store
            .add_job(every_minute_from_10(id), false)
            .await
            .unwrap();
    }
    // Two rows for no job, due before both real ones.
    plant_due_rows(&path, &["ghost1", "ghost2"], at(5));
    // A batch of two is the two real jobs, not the two strays.
    let got = store
        .acquire_due_jobs("me", at(20), 2, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(acquired_ids(&store, at(20), 30).await.is_empty());
}

#[tokio::test]
async fn a_new_job_does_not_inherit_a_lease_left_without_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = SqliteStore::open(&path).unwrap();
    // What a schema-2 process removing a job after the migration leaves.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO chime_leases (id, owner, expires, next_run_time) VALUES ('new', 'other', ?1, NULL)",
            [at(100).timestamp_micros()],
        )
        .unwrap();
    store
        .add_job(every_minute_from_10("new"), false)
        .await
        .unwrap();
    assert_eq!(acquired_ids(&store, at(20), 30).await, ["new"]);
}
