//! The memory store's contract: ordering, acquisition, leases, release.
//! (The full conformance kit arrives with the store-contract issue.)

use std::time::Duration;

use chime::chrono::{DateTime, Utc};
use chime::job::{Job, JobDefaults, NextRun};
use chime::store::{JobStore, MemoryStore, Release};
use chime::trigger::DateTrigger;
use chime::{ErrorKind, NewJob};

use crate::harness::at;

fn job(id: &str, next: Option<DateTime<Utc>>, priority: i32) -> Job {
    let next_run = match next {
        Some(t) => NextRun::At(t),
        None => NextRun::Paused,
    };
    NewJob::new("task", DateTrigger::new(at(1000)))
        .id(id)
        .priority(priority)
        .next_run(next_run)
        .into_job(at(0), &JobDefaults::default(), chime::chrono_tz::UTC)
        .unwrap()
}

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn acquire_takes_due_jobs_in_time_then_priority_order_up_to_the_limit() {
    let store = MemoryStore::new();
    store
        .add_jobs(
            vec![
                job("late", Some(at(50)), 0),
                job("b", Some(at(10)), 0),
                job("a", Some(at(10)), 0),
                job("urgent", Some(at(10)), 9),
                job("first", Some(at(5)), -1),
                job("paused", None, 100),
            ],
            false,
        )
        .await
        .unwrap();
    let got = store
        .acquire_due_jobs("me", at(20), 3, LEASE)
        .await
        .unwrap();
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["first", "urgent", "a"]);
    let got = store
        .acquire_due_jobs("me", at(20), 10, LEASE)
        .await
        .unwrap();
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["b"], "leased jobs are not handed out again");
}

#[tokio::test]
async fn a_lease_keeps_others_out_until_it_expires() {
    let store = MemoryStore::new();
    store
        .add_job(job("j", Some(at(10)), 0), false)
        .await
        .unwrap();
    assert_eq!(
        store
            .acquire_due_jobs("A", at(10), 10, LEASE)
            .await
            .unwrap()
            .jobs
            .len(),
        1
    );
    assert!(store
        .acquire_due_jobs("B", at(20), 10, LEASE)
        .await
        .unwrap()
        .jobs
        .is_empty());
    assert_eq!(
        store.earliest_next_run_time().await.unwrap(),
        Some(at(40)),
        "available again at lease expiry"
    );
    let taken = store
        .acquire_due_jobs("B", at(40), 10, LEASE)
        .await
        .unwrap();
    assert_eq!(taken.jobs.len(), 1, "B takes over after A's lease expired");
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
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost);
    store
        .release_job(
            "B",
            "j",
            Release::Reschedule {
                next_run_time: at(60),
                trigger_time: at(60),
            },
        )
        .await
        .unwrap();
    let j = store.get_job("j").await.unwrap().unwrap();
    assert_eq!(j.next_run_time, Some(at(60)));
    assert_eq!(store.earliest_next_run_time().await.unwrap(), Some(at(60)));
}

#[tokio::test]
async fn release_remove_deletes_and_missing_jobs_are_not_found() {
    let store = MemoryStore::new();
    store
        .add_job(job("j", Some(at(10)), 0), false)
        .await
        .unwrap();
    store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .unwrap();
    store.release_job("A", "j", Release::Remove).await.unwrap();
    assert!(store.get_job("j").await.unwrap().is_none());
    assert_eq!(
        store
            .release_job("A", "j", Release::Remove)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.remove_job("j").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .update_job(job("j", None, 0))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(store.earliest_next_run_time().await.unwrap(), None);
}

#[tokio::test]
async fn batch_add_is_all_or_nothing_on_conflict() {
    let store = MemoryStore::new();
    store
        .add_job(job("x", Some(at(1)), 0), false)
        .await
        .unwrap();
    let err = store
        .add_jobs(
            vec![job("new", Some(at(1)), 0), job("x", Some(at(2)), 0)],
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(store.get_job("new").await.unwrap().is_none());
    let err = store
        .add_jobs(
            vec![job("dup", Some(at(1)), 0), job("dup", Some(at(2)), 0)],
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn pausing_through_update_takes_the_job_out_of_acquisition() {
    let store = MemoryStore::new();
    store
        .add_job(job("j", Some(at(10)), 0), false)
        .await
        .unwrap();
    store.update_job(job("j", None, 0)).await.unwrap();
    assert!(store
        .acquire_due_jobs("A", at(100), 10, LEASE)
        .await
        .unwrap()
        .jobs
        .is_empty());
    assert_eq!(store.earliest_next_run_time().await.unwrap(), None);
    store.remove_all_jobs().await.unwrap();
    assert!(store.list_jobs().await.unwrap().jobs.is_empty());
}
