//! Records a scheduler cannot use are kept, never deleted.

use chime_core::store::UnreadableRecord;
use chime_core::trigger::TriggerSpec;
use chime_core::ErrorKind;

use super::LEASE;
use crate::harness::RawRecord;
use crate::sample::{at, sample_job};
use crate::StoreHarness;

/// A job naming a task or trigger kind this build does not know is an
/// ordinary record to the store: kept and returned unchanged.
pub async fn foreign_tasks_and_trigger_kinds_are_kept(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let mut job = sample_job("foreign", Some(at(10)), 0);
    job.task = "task_of_a_newer_build".into();
    job.trigger = TriggerSpec::from_value(
        serde_json::json!({"kind": "lunar", "phase": "full", "version": 3}),
    )
    .expect("a spec with a kind");
    store.add_job(job.clone(), false).await.expect("add");
    assert_eq!(
        store.get_job("foreign").await.expect("get"),
        Some(job.clone())
    );
    let acquired = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire");
    assert_eq!(
        acquired.jobs,
        vec![job],
        "the store hands it out; the scheduler decides"
    );
}

/// Corrupt records and records of a newer format version are reported with
/// their id by list, get and acquire — and stay in the store.
pub async fn unreadable_records_are_reported_and_kept(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let good = sample_job("good", Some(at(5)), 0);
    store.add_job(good.clone(), false).await.expect("add");
    let mut newer = good.to_record_value().expect("encode");
    newer["version"] = serde_json::json!(99);
    newer["id"] = serde_json::json!("from-the-future");
    let newer_text = newer.to_string();
    let cases: [(&str, &str); 4] = [
        ("garbage", "{{{ not json"),
        ("truncated", r#"{"version":1,"id":"truncated","na"#),
        (
            "wrong-types",
            r#"{"version":1,"id":"wrong-types","task":42,"trigger":"every day"}"#,
        ),
        ("from-the-future", &newer_text),
    ];
    for (id, text) in cases {
        let planted = harness
            .plant_raw_record(
                &store,
                RawRecord {
                    id,
                    next_run_time: Some(at(1)),
                    text,
                },
            )
            .await;
        if !planted {
            return; // this store holds decoded jobs only
        }
    }
    let ids = |records: &[UnreadableRecord]| {
        let mut ids: Vec<String> = records.iter().map(|r| r.job_id.clone()).collect();
        ids.sort();
        ids
    };
    let expected = ["from-the-future", "garbage", "truncated", "wrong-types"];

    let list = store
        .list_jobs()
        .await
        .expect("list must not fail on bad records");
    assert_eq!(list.jobs, vec![good.clone()]);
    assert_eq!(
        ids(&list.unreadable),
        expected,
        "list reports each unreadable record"
    );
    let future = list
        .unreadable
        .iter()
        .find(|r| r.job_id == "from-the-future")
        .map(|r| r.reason.clone());
    assert!(
        future.is_some_and(|r| r.contains("version 99")),
        "the reason says why"
    );

    let err = store
        .get_job("garbage")
        .await
        .expect_err("get of a corrupt record");
    assert_eq!(err.kind(), ErrorKind::UnreadableRecord);
    assert_eq!(err.job_id(), Some("garbage"));

    let acquired = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .expect("acquire must not fail on bad records");
    assert_eq!(acquired.jobs, vec![good]);
    assert_eq!(
        ids(&acquired.unreadable),
        expected,
        "acquire reports due unreadable records"
    );
    let again = store
        .acquire_due_jobs("A", at(11), 10, LEASE)
        .await
        .expect("acquire");
    assert!(
        again.unreadable.is_empty(),
        "unreadable records are leased like others, not reported on every poll"
    );

    let list = store.list_jobs().await.expect("list");
    assert_eq!(ids(&list.unreadable), expected, "nothing was deleted");
    store
        .remove_job("garbage")
        .await
        .expect("an explicit remove of an unreadable record works");
    assert_eq!(store.list_jobs().await.expect("list").unreadable.len(), 3);
}
