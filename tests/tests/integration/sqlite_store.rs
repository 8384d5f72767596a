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
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let mut h = builder_with(|b| b.store_arc("sql", store.clone()));
    h.scheduler
        .add_job(
            NewJob::new("record", IntervalTrigger::seconds(10).unwrap())
                .id("fine")
                .store("sql"),
        )
        .await
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO chime_jobs (id, record, next_run_time, priority, available_at) VALUES ('mangled', '{\"version\":1,\"id\":\"mangled\"', ?1, 0, ?1)",
            [at(5).timestamp_micros()],
        )
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
