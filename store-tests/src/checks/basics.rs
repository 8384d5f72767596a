//! Add, get, list, update, remove.

use chime_core::ErrorKind;

use crate::sample::{at, sample_job};
use crate::StoreHarness;

/// A job reads back exactly as added, every field included.
pub async fn add_get_and_round_trip(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let mut job = sample_job("ünïcødé id/with:odd 'chars'", Some(at(10)), -3);
    job.name = "A name with \"quotes\" and ⏰".into();
    job.args = serde_json::json!({"nested": {"list": [1, 2.5, null, "x"]}, "big": u64::MAX});
    job.misfire_grace_time = None;
    job.coalesce = false;
    job.max_instances = 7;
    job.executor = "threads".into();
    job.trigger_time = Some(at(9));
    job.labels.insert("team".into(), "billing".into());
    job.labels.insert(
        "chime.config".into(),
        r#"{"id":"x","cron":"0 2 * * *"}"#.into(),
    );
    store.add_job(job.clone(), false).await.expect("add_job");
    let got = store.get_job(&job.id).await.expect("get_job");
    assert_eq!(
        got.as_ref(),
        Some(&job),
        "get_job must return the job exactly as added"
    );
    assert_eq!(
        store.get_job("missing").await.expect("get_job"),
        None,
        "a missing id is Ok(None)"
    );
}

/// A second job with the same id conflicts unless replacing.
pub async fn add_conflict_and_replace(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    store
        .add_job(sample_job("x", Some(at(10)), 0), false)
        .await
        .expect("add");
    let err = store
        .add_job(sample_job("x", Some(at(20)), 0), false)
        .await
        .expect_err("adding a duplicate id must fail");
    assert_eq!(err.kind(), ErrorKind::Conflict, "duplicate id: {err}");
    let got = store.get_job("x").await.expect("get").expect("still there");
    assert_eq!(
        got.next_run_time,
        Some(at(10)),
        "a failed add changes nothing"
    );
    store
        .add_job(sample_job("x", Some(at(20)), 0), true)
        .await
        .expect("replace");
    let got = store.get_job("x").await.expect("get").expect("still there");
    assert_eq!(got.next_run_time, Some(at(20)), "replace_existing replaces");
    assert_eq!(store.list_jobs().await.expect("list").jobs.len(), 1);
}

/// `add_jobs` adds all or, on a conflict, none.
pub async fn add_jobs_is_all_or_nothing(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    store
        .add_job(sample_job("taken", Some(at(1)), 0), false)
        .await
        .expect("add");
    let err = store
        .add_jobs(
            vec![
                sample_job("new-1", Some(at(1)), 0),
                sample_job("taken", Some(at(2)), 0),
            ],
            false,
        )
        .await
        .expect_err("a batch with a taken id must fail");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        store.get_job("new-1").await.expect("get"),
        None,
        "a failed batch adds nothing"
    );
    // One id twice in the batch is a conflict too, and what came before
    // it in the batch is not kept.
    let err = store
        .add_jobs(
            vec![
                sample_job("new-2", Some(at(1)), 0),
                sample_job("twice", Some(at(1)), 0),
                sample_job("twice", Some(at(2)), 0),
            ],
            false,
        )
        .await
        .expect_err("a batch holding one id twice must fail");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    for id in ["new-2", "twice"] {
        assert_eq!(store.get_job(id).await.expect("get"), None, "{id}");
    }
    // The job that was there is untouched and still due.
    let taken = store.get_job("taken").await.expect("get").expect("kept");
    assert_eq!(taken.next_run_time, Some(at(1)));
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        Some(at(1))
    );
    let batch: Vec<_> = (0..50)
        .map(|i| sample_job(&format!("b{i:02}"), Some(at(i)), 0))
        .collect();
    store.add_jobs(batch, false).await.expect("batch add");
    assert_eq!(store.list_jobs().await.expect("list").jobs.len(), 51);
}

/// Listing: next run time ascending, ties by id, paused last by id.
pub async fn list_order(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    for (id, next) in [
        ("c", Some(30)),
        ("p2", None),
        ("b", Some(20)),
        ("a", Some(30)),
        ("p1", None),
        ("d", Some(10)),
    ] {
        store
            .add_job(sample_job(id, next.map(at), 0), false)
            .await
            .expect("add");
    }
    let list = store.list_jobs().await.expect("list");
    let ids: Vec<&str> = list.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["d", "b", "a", "c", "p1", "p2"], "list order");
    assert!(list.unreadable.is_empty());
}

/// Update replaces a record; update and remove of a missing id are NotFound.
pub async fn update_and_remove(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    store
        .add_job(sample_job("j", Some(at(10)), 0), false)
        .await
        .expect("add");
    let mut job = sample_job("j", None, 5);
    job.name = "renamed".into();
    store.update_job(job.clone()).await.expect("update");
    assert_eq!(store.get_job("j").await.expect("get"), Some(job));
    let due = store
        .acquire_due_jobs("A", at(1000), 10, super::LEASE)
        .await
        .expect("acquire");
    assert!(
        due.jobs.is_empty(),
        "a job paused by update is not handed out"
    );
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        None
    );
    let err = store
        .update_job(sample_job("ghost", None, 0))
        .await
        .expect_err("update missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    store.remove_job("j").await.expect("remove");
    assert_eq!(store.get_job("j").await.expect("get"), None);
    let err = store.remove_job("j").await.expect_err("remove missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    for i in 0..5 {
        store
            .add_job(sample_job(&format!("r{i}"), Some(at(i)), 0), false)
            .await
            .expect("add");
    }
    store.remove_all_jobs().await.expect("remove all");
    assert!(store.list_jobs().await.expect("list").jobs.is_empty());
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        None
    );
}

/// `modify_job` is an atomic read-modify-write: it sees what a release
/// wrote, an edit error changes nothing, and concurrent edits all land.
pub async fn modify_job_is_atomic(harness: &dyn StoreHarness) {
    use chime_core::store::Release;
    let store = harness.new_store().await;
    store
        .add_job(sample_job("j", Some(at(10)), 0), false)
        .await
        .expect("add");
    store
        .acquire_due_jobs("A", at(10), 10, super::LEASE)
        .await
        .expect("acquire");
    let release = Release::Reschedule {
        next_run_time: at(70),
        trigger_time: at(70),
    };
    store.release_job("A", "j", release).await.expect("release");
    let edited = store
        .modify_job("j", &|job| {
            job.name = "edited".into();
            Ok(())
        })
        .await
        .expect("modify");
    assert_eq!(
        (edited.name.as_str(), edited.next_run_time),
        ("edited", Some(at(70))),
        "the edit sees the release"
    );
    assert_eq!(store.get_job("j").await.expect("get"), Some(edited));
    let err = store
        .modify_job("j", &|job| {
            job.name = "half-done".into();
            Err(chime_core::Error::invalid("no"))
        })
        .await
        .expect_err("the edit fails");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        store.get_job("j").await.expect("get").map(|j| j.name),
        Some("edited".into()),
        "a failed edit changes nothing"
    );
    let err = store
        .modify_job("ghost", &|_| Ok(()))
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    store
        .add_job(sample_job("counter", None, 0), false)
        .await
        .expect("add");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .modify_job("counter", &|job| {
                    let n = job.args["n"].as_i64().unwrap_or(0);
                    job.args["n"] = serde_json::json!(n + 1);
                    Ok(())
                })
                .await
                .expect("concurrent modify");
        }));
    }
    for task in tasks {
        task.await.expect("modify task");
    }
    let counter = store.get_job("counter").await.expect("get").expect("kept");
    assert_eq!(
        counter.args["n"], 9,
        "8 concurrent increments of 1 all landed"
    );
}
