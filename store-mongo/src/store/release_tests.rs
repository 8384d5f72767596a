//! Batched releases whose documents changed after the batch read them:
//! the cases the conformance kit cannot reach (it cannot slip a write in
//! between the read and the release). They need a MongoDB server: set
//! `CHIME_TEST_MONGO_URL` (as `scripts/test.sh` does); without it they
//! skip, unless `CHIME_REQUIRE_SERVERS=1` (as there) makes that a failure.

use std::time::Duration;

use chime_store_tests::{at, sample_job};
use chrono::TimeDelta;

use super::*;
use crate::config::MongoConfig;

const LEASE: Duration = Duration::from_secs(30);

fn again(secs: i64) -> Release {
    Release::Reschedule {
        next_run_time: at(secs),
        trigger_time: at(secs),
    }
}

/// A store on a fresh database holding `ids` (due at 10 s), all leased to
/// owner "A"; `None` without a test server.
async fn leased_to_a(name: &str, ids: &[&str]) -> Option<MongoStore> {
    let Ok(url) = std::env::var("CHIME_TEST_MONGO_URL") else {
        assert!(
            std::env::var("CHIME_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "CHIME_TEST_MONGO_URL is not set but CHIME_REQUIRE_SERVERS=1"
        );
        return None;
    };
    let database = format!(
        "u_{name}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros() % 10_000_000_000
    );
    let store = MongoStore::connect(MongoConfig::new(&url).database(&database))
        .await
        .unwrap();
    let jobs = ids
        .iter()
        .map(|id| sample_job(id, Some(at(10)), 0))
        .collect();
    store.add_jobs(jobs, false).await.unwrap();
    let acquired = store
        .acquire_due_jobs("A", at(10), ids.len(), LEASE)
        .await
        .unwrap();
    assert_eq!(acquired.jobs.len(), ids.len());
    Some(store)
}

/// The documents of `ids` as a batch release reads them.
async fn read(store: &MongoStore, ids: &[&str]) -> HashMap<String, Document> {
    let mut cursor = store
        .jobs
        .find(doc! { "_id": { "$in": ids } })
        .await
        .unwrap();
    let mut docs = HashMap::new();
    while let Some(doc) = cursor.try_next().await.unwrap() {
        docs.insert(id_of(&doc), doc);
    }
    docs
}

fn entries(releases: &[(&str, Release)]) -> Vec<JobRelease> {
    releases
        .iter()
        .map(|(id, release)| JobRelease::new(*id, *release))
        .collect()
}

fn kind(result: &Result<Released>) -> std::result::Result<Released, ErrorKind> {
    result.as_ref().map(|r| *r).map_err(|e| e.kind())
}

#[tokio::test]
async fn an_edit_made_after_the_read_is_kept_and_the_release_still_applies() {
    let Some(store) = leased_to_a("edit", &["a", "b"]).await else {
        return;
    };
    let docs = read(&store, &["a", "b"]).await;
    // An edit of "a" lands between the read and the release: the
    // batch's compare-and-set on "a" no longer matches.
    let mut edited = store.get_job("a").await.unwrap().unwrap();
    edited.args = serde_json::json!({ "edited": true });
    store.update_job(edited).await.unwrap();

    let results = store
        .release_found("A", &entries(&[("a", again(70)), ("b", again(80))]), &docs)
        .await;
    assert_eq!(kind(&results[0]), Ok(Released::Applied));
    assert_eq!(kind(&results[1]), Ok(Released::Applied));
    let a = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(
        a.args,
        serde_json::json!({ "edited": true }),
        "the edit is kept"
    );
    assert_eq!(a.next_run_time, Some(at(70)), "and the release applied");
    let b = store.get_job("b").await.unwrap().unwrap();
    assert_eq!(b.next_run_time, Some(at(80)));
    // Neither is leased any more: both are handed out again when due.
    let due = store
        .acquire_due_jobs("B", at(80), 10, LEASE)
        .await
        .unwrap();
    assert_eq!(due.jobs.len(), 2);
    store.db.drop().await.unwrap();
}

#[tokio::test]
async fn a_lease_another_owner_took_after_the_read_is_reported_lost_and_left_to_it() {
    let Some(store) = leased_to_a("lost", &["r", "a", "b", "c"]).await else {
        return;
    };
    let docs = read(&store, &["r", "a", "b", "c"]).await;
    // A's leases lapse and B takes "b" over: it is first in B's order
    // (highest priority) and B takes one job.
    let mut b = store.get_job("b").await.unwrap().unwrap();
    b.priority = 9; // first in B's order
    store.update_job(b).await.unwrap();
    let taken = store
        .acquire_due_jobs("B", at(10) + TimeDelta::seconds(60), 1, LEASE)
        .await
        .unwrap();
    assert_eq!(taken.jobs.len(), 1);
    assert_eq!(taken.jobs[0].id.as_str(), "b");

    let results = store
        .release_found(
            "A",
            &entries(&[
                // A removal goes its own way: the batched statements'
                // positions are not the entries'.
                ("r", Release::Remove),
                ("a", again(70)),
                ("b", again(70)),
                ("c", again(90)),
            ]),
            &docs,
        )
        .await;
    assert_eq!(kind(&results[0]), Ok(Released::Applied));
    assert_eq!(kind(&results[1]), Ok(Released::Applied));
    assert_eq!(kind(&results[2]), Err(ErrorKind::LeaseLost));
    assert_eq!(kind(&results[3]), Ok(Released::Applied));
    assert_eq!(store.get_job("r").await.unwrap(), None);
    assert_eq!(
        store.get_job("c").await.unwrap().unwrap().next_run_time,
        Some(at(90)),
        "a refused statement does not shift the others' results"
    );
    // B still holds "b" and releases it.
    let b = store
        .release_jobs("B", &entries(&[("b", again(100))]))
        .await;
    assert_eq!(kind(&b[0]), Ok(Released::Applied));
    assert_eq!(
        store.get_job("b").await.unwrap().unwrap().next_run_time,
        Some(at(100))
    );
    store.db.drop().await.unwrap();
}

#[tokio::test]
async fn a_job_removed_after_the_read_is_reported_missing_and_nothing_is_inserted() {
    let Some(store) = leased_to_a("removed", &["a", "b"]).await else {
        return;
    };
    let docs = read(&store, &["a", "b"]).await;
    store.remove_job("a").await.unwrap();

    let results = store
        .release_found("A", &entries(&[("a", again(70)), ("b", again(70))]), &docs)
        .await;
    assert_eq!(kind(&results[0]), Err(ErrorKind::NotFound));
    assert_eq!(kind(&results[1]), Ok(Released::Applied));
    assert_eq!(store.get_job("a").await.unwrap(), None, "not brought back");
    let all: Vec<Document> = store
        .jobs
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "no document was inserted: {all:?}");
    store.db.drop().await.unwrap();
}

#[tokio::test]
async fn a_schedule_changed_after_the_read_wins_and_a_repeated_id_is_released_once() {
    let Some(store) = leased_to_a("kept", &["a", "b"]).await else {
        return;
    };
    let docs = read(&store, &["a", "b"]).await;
    let mut moved = store.get_job("a").await.unwrap().unwrap();
    moved.next_run_time = Some(at(500));
    store.update_job(moved).await.unwrap();

    let results = store
        .release_found(
            "A",
            &entries(&[("a", again(70)), ("b", again(70)), ("b", again(80))]),
            &docs,
        )
        .await;
    assert_eq!(kind(&results[0]), Ok(Released::KeptUpdate));
    assert_eq!(
        store.get_job("a").await.unwrap().unwrap().next_run_time,
        Some(at(500)),
        "the change made while leased wins"
    );
    // One of the two entries for "b" applies; the other finds the lease
    // gone, whichever the server ran first.
    let mut b: Vec<_> = results[1..].iter().map(kind).collect();
    b.sort_by_key(|r| r.is_err());
    assert_eq!(b, vec![Ok(Released::Applied), Err(ErrorKind::LeaseLost)]);
    let next_b = store.get_job("b").await.unwrap().unwrap().next_run_time;
    let applied_at = if kind(&results[1]).is_ok() {
        at(70)
    } else {
        at(80)
    };
    assert_eq!(next_b, Some(applied_at));
    store.db.drop().await.unwrap();
}
