//! Run history, for stores that keep it.

use chime_core::store::{RunOutcome, RunRecord};

use crate::sample::{at, sample_job};
use crate::StoreHarness;

/// Recorded runs come back newest first; removing the job forgets them.
pub async fn run_history(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    if !store.capabilities().history {
        return;
    }
    store
        .add_job(sample_job("h", Some(at(10)), 0), false)
        .await
        .expect("add");
    for i in 0..3 {
        let outcome = if i == 1 {
            RunOutcome::Error
        } else {
            RunOutcome::Success
        };
        let message = (i == 1).then(|| "disk full".to_owned());
        let record = RunRecord::new(
            "h",
            at(10 * i),
            at(10 * i),
            at(10 * i + 1),
            outcome,
            message,
        );
        store.record_run(record).await.expect("record_run");
    }
    let runs = store.run_history("h", 10).await.expect("run_history");
    let times: Vec<_> = runs.iter().map(|r| r.scheduled_run_time).collect();
    assert_eq!(times, [at(20), at(10), at(0)], "newest first");
    assert_eq!(runs[1].outcome, RunOutcome::Error);
    assert_eq!(runs[1].message.as_deref(), Some("disk full"));
    assert_eq!(
        store.run_history("h", 2).await.expect("run_history").len(),
        2,
        "limit"
    );
    store.remove_job("h").await.expect("remove");
    assert!(
        store
            .run_history("h", 10)
            .await
            .expect("run_history")
            .is_empty(),
        "a removed job's history goes with it"
    );
}
