//! Many acquirers at once.

use std::collections::HashMap;
use std::sync::Arc;

use chime_core::JobStore;

use super::LEASE;
use crate::sample::{at, sample_job};
use crate::StoreHarness;

/// 32 concurrent acquirers over 1,000 due jobs claim each job exactly once.
pub async fn concurrent_acquirers_claim_each_job_once(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    let jobs: Vec<_> = (0..1000)
        .map(|i| sample_job(&format!("job-{i:04}"), Some(at(i % 7)), 0))
        .collect();
    store.add_jobs(jobs, false).await.expect("add 1,000 jobs");
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let store: Arc<dyn JobStore> = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let owner = format!("worker-{worker}");
            let mut claimed = Vec::new();
            loop {
                let got = store
                    .acquire_due_jobs(&owner, at(10), 10, LEASE)
                    .await
                    .expect("acquire");
                if got.jobs.is_empty() {
                    return claimed;
                }
                claimed.extend(got.jobs.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut claims: HashMap<chime_core::ArcStr, usize> = HashMap::new();
    for task in tasks {
        for id in task.await.expect("acquirer task") {
            *claims.entry(id).or_default() += 1;
        }
    }
    assert_eq!(claims.len(), 1000, "every due job was claimed");
    let doubles: Vec<_> = claims.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubles.is_empty(),
        "jobs claimed more than once: {doubles:?}"
    );
}
