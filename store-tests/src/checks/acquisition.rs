//! Due-job acquisition, leases and release.

use chime_core::store::{JobRelease, Release, Released};
use chime_core::ErrorKind;

use super::LEASE;
use crate::sample::{at, sample_job};
use crate::StoreHarness;

/// The earliest next run time ignores paused jobs and counts leases.
pub async fn earliest_next_run_time(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        None,
        "empty store"
    );
    store
        .add_job(sample_job("paused", None, 0), false)
        .await
        .expect("add");
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        None,
        "paused jobs do not count"
    );
    store
        .add_job(sample_job("late", Some(at(50)), 0), false)
        .await
        .expect("add");
    store
        .add_job(sample_job("early", Some(at(10)), 0), false)
        .await
        .expect("add");
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        Some(at(10))
    );
    // Leased until 10 + 30 = 40: "late" at 50 is still later.
    store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(
        store.earliest_next_run_time().await.expect("earliest"),
        Some(at(40)),
        "a leased job is available again at lease expiry"
    );
}

/// Due jobs come earliest first, higher priority first on ties, up to the limit;
/// jobs not yet due and paused jobs are not handed out.
pub async fn acquire_due_jobs_order_and_limit(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let jobs = vec![
        sample_job("future", Some(at(50)), 0),
        sample_job("t10-low", Some(at(10)), -1),
        sample_job("t10-high", Some(at(10)), 9),
        sample_job("t5", Some(at(5)), 0),
        sample_job("paused", None, 100),
        sample_job("t20", Some(at(20)), 0),
    ];
    store.add_jobs(jobs, false).await.expect("add");
    let first = store
        .acquire_due_jobs("A", at(20), 3, LEASE)
        .await
        .expect("acquire");
    let ids: Vec<&str> = first.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        ["t5", "t10-high", "t10-low"],
        "order: time, then priority"
    );
    let rest = store
        .acquire_due_jobs("A", at(20), 10, LEASE)
        .await
        .expect("acquire");
    let ids: Vec<&str> = rest.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["t20"], "only due, unleased, scheduled jobs");
    assert!(store
        .acquire_due_jobs("A", at(20), 10, LEASE)
        .await
        .expect("acquire")
        .jobs
        .is_empty());

    // A batch that ends among jobs of the same time and priority leaves
    // the rest for the next batch.
    let ties = ["tie-a", "tie-b", "tie-c"].map(|id| sample_job(id, Some(at(30)), 0));
    store.add_jobs(ties.to_vec(), false).await.expect("add");
    let mut taken: Vec<String> = Vec::new();
    for (limit, expected) in [(2, 2), (2, 1), (2, 0)] {
        let batch = store
            .acquire_due_jobs("A", at(30), limit, LEASE)
            .await
            .expect("acquire");
        assert_eq!(
            batch.jobs.len(),
            expected,
            "batch of {limit} after {taken:?}"
        );
        taken.extend(batch.jobs.iter().map(|j| j.id.to_string()));
    }
    taken.sort();
    assert_eq!(taken, ["tie-a", "tie-b", "tie-c"], "each tie once");
}

/// A job leased by one owner is handed to no other until the lease expires;
/// then another owner takes it, and the first owner's release is refused.
pub async fn leases_exclude_until_expiry(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    store
        .add_job(sample_job("j", Some(at(10)), 0), false)
        .await
        .expect("add");
    let a = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(a.jobs.len(), 1);
    assert!(
        store
            .acquire_due_jobs("B", at(39), 10, LEASE)
            .await
            .expect("acquire")
            .jobs
            .is_empty(),
        "leased to A until 40"
    );
    assert!(
        store
            .acquire_due_jobs("A", at(39), 10, LEASE)
            .await
            .expect("acquire")
            .jobs
            .is_empty(),
        "not handed out twice to its owner either"
    );
    let b = store
        .acquire_due_jobs("B", at(40), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(b.jobs.len(), 1, "B takes over once A's lease expired");
    let err = store
        .release_job(
            "A",
            "j",
            Release::Reschedule {
                next_run_time: at(100),
                trigger_time: at(100),
            },
        )
        .await
        .expect_err("A no longer holds the lease");
    assert_eq!(err.kind(), ErrorKind::LeaseLost);
    store
        .release_job(
            "B",
            "j",
            Release::Reschedule {
                next_run_time: at(70),
                trigger_time: at(70),
            },
        )
        .await
        .expect("B releases");
    assert_eq!(
        store
            .get_job("j")
            .await
            .expect("get")
            .and_then(|j| j.next_run_time),
        Some(at(70))
    );
}

/// Release reschedules (clearing the lease) or removes the job.
pub async fn release_reschedules_or_removes(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    store
        .add_jobs(
            vec![
                sample_job("again", Some(at(10)), 0),
                sample_job("done", Some(at(10)), 0),
            ],
            false,
        )
        .await
        .expect("add");
    store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire");
    store
        .release_job(
            "A",
            "again",
            Release::Reschedule {
                next_run_time: at(12),
                trigger_time: at(11),
            },
        )
        .await
        .expect("release");
    store
        .release_job("A", "done", Release::Remove)
        .await
        .expect("release remove");
    let again = store.get_job("again").await.expect("get").expect("kept");
    assert_eq!(
        (again.next_run_time, again.trigger_time),
        (Some(at(12)), Some(at(11)))
    );
    assert_eq!(
        store.get_job("done").await.expect("get"),
        None,
        "exhausted jobs are removed"
    );
    let err = store
        .release_job("A", "done", Release::Remove)
        .await
        .expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let b = store
        .acquire_due_jobs("B", at(12), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(b.jobs.len(), 1, "a released job is free for anyone");
}

/// Updating a leased job keeps the lease; the release applies to the
/// updated record, except that a changed schedule (a pause, a reschedule)
/// made while leased wins over the release.
pub async fn update_keeps_the_lease(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let jobs = vec![
        sample_job("renamed", Some(at(10)), 0),
        sample_job("paused", Some(at(10)), 0),
    ];
    store.add_jobs(jobs, false).await.expect("add");
    let mut acquired = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire")
        .jobs;
    acquired.sort_by(|a, b| a.id.cmp(&b.id));
    let (mut paused, mut renamed) = (acquired.remove(0), acquired.remove(0));
    renamed.name = "renamed while running".into();
    store.update_job(renamed).await.expect("update");
    paused.next_run_time = None;
    paused.trigger_time = None;
    store.update_job(paused).await.expect("pause");
    let stolen = store
        .acquire_due_jobs("B", at(20), 10, LEASE)
        .await
        .expect("acquire");
    assert!(stolen.jobs.is_empty(), "still leased to A");
    for (id, expected) in [
        ("renamed", Released::Applied),
        ("paused", Released::KeptUpdate),
    ] {
        let release = Release::Reschedule {
            next_run_time: at(70),
            trigger_time: at(70),
        };
        let released = store
            .release_job("A", id, release)
            .await
            .expect("A still holds the lease");
        assert_eq!(released, expected, "{id}: what the release did");
    }
    let renamed = store.get_job("renamed").await.expect("get").expect("kept");
    assert_eq!(
        renamed.name, "renamed while running",
        "the release keeps the update"
    );
    assert_eq!(renamed.next_run_time, Some(at(70)), "and reschedules it");
    let paused = store.get_job("paused").await.expect("get").expect("kept");
    assert_eq!(
        paused.next_run_time, None,
        "a job paused while leased stays paused"
    );
    let later = store
        .acquire_due_jobs("B", at(1000), 10, LEASE)
        .await
        .expect("acquire");
    assert!(
        later.jobs.iter().all(|j| j.id != "paused"),
        "and is not handed out"
    );
}

/// `release_jobs` gives one result per entry, in order, each as
/// `release_job` would: applied, lease lost, not found.
pub async fn release_jobs_reports_each_entry(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let jobs = vec![
        sample_job("a", Some(at(10)), 0),
        sample_job("b", Some(at(10)), 0),
        sample_job("c", Some(at(50)), 0),
    ];
    store.add_jobs(jobs, false).await.expect("add");
    let got = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(got.jobs.len(), 2);
    let again = Release::Reschedule {
        next_run_time: at(70),
        trigger_time: at(70),
    };
    let releases = vec![
        JobRelease::new("a", again),
        JobRelease::new("b", Release::Remove),
        JobRelease::new("c", again),
        JobRelease::new("ghost", Release::Remove),
    ];
    let results = store.release_jobs("A", &releases).await;
    assert_eq!(results.len(), 4, "one result per entry");
    assert_eq!(results[0].as_ref().ok(), Some(&Released::Applied));
    assert_eq!(results[1].as_ref().ok(), Some(&Released::Applied));
    assert_eq!(
        results[2].as_ref().err().map(|e| e.kind()),
        Some(ErrorKind::LeaseLost),
        "c was never A's"
    );
    assert_eq!(
        results[3].as_ref().err().map(|e| e.kind()),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(
        store
            .get_job("a")
            .await
            .expect("get")
            .and_then(|j| j.next_run_time),
        Some(at(70))
    );
    assert_eq!(store.get_job("b").await.expect("get"), None);
    assert_eq!(
        store
            .get_job("c")
            .await
            .expect("get")
            .and_then(|j| j.next_run_time),
        Some(at(50)),
        "untouched"
    );
}
