//! The dispatch journal (stores with the `journal` capability): hand-offs
//! are recorded with their releases, finished, renewed and claimed once
//! stale — each by exactly one claimer.

use std::collections::BTreeSet;

use chime_core::store::{HandOff, HandOffKey, JobRelease, JobStore, Release};
use chime_core::ErrorKind;
use chrono::{DateTime, Utc};

use super::LEASE;
use crate::sample::{at, sample_job};
use crate::StoreHarness;

fn again(secs: i64) -> Release {
    Release::Reschedule {
        next_run_time: at(secs),
        trigger_time: at(secs),
    }
}

fn hand_off(id: &str, fire: i64, owner: &str, deadline: i64) -> HandOff {
    HandOff::new(
        id,
        at(fire),
        owner,
        vec![at(fire)],
        vec![at(fire - 60)],
        at(deadline),
    )
}

/// Adds `ids` due at 10 s and acquires them for `owner`.
async fn acquired(store: &dyn JobStore, ids: &[&str], owner: &str) {
    let jobs = ids
        .iter()
        .map(|id| sample_job(id, Some(at(10)), 0))
        .collect();
    store.add_jobs(jobs, false).await.expect("add");
    let got = store
        .acquire_due_jobs(owner, at(10), 100, LEASE)
        .await
        .expect("acquire");
    assert_eq!(got.jobs.len(), ids.len(), "every job is due and free");
}

async fn claim(store: &dyn JobStore, owner: &str, now: DateTime<Utc>) -> Vec<HandOff> {
    let mut claimed = store
        .claim_stale_hand_offs(owner, now, 1000, LEASE)
        .await
        .expect("claim stale hand-offs");
    claimed.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    claimed
}

fn ids(entries: &[HandOff]) -> Vec<&str> {
    entries.iter().map(|e| e.job_id.as_str()).collect()
}

/// A release records its hand-off (rescheduled or removed job alike); a
/// release that fails records nothing; entries are stale only after their
/// deadline, come back as they were recorded, and a claim holds them for
/// the lease.
pub async fn hand_offs_are_recorded_with_releases(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    if !store.capabilities().journal {
        return;
    }
    acquired(store.as_ref(), &["a", "b"], "A").await;
    store
        .add_job(sample_job("c", Some(at(500)), 0), false)
        .await
        .expect("add c");
    let releases = vec![
        JobRelease::new("a", again(70)).with_hand_off(hand_off("a", 10, "A", 40)),
        JobRelease::new("b", Release::Remove).with_hand_off(hand_off("b", 10, "A", 40)),
        JobRelease::new("c", again(70)).with_hand_off(hand_off("c", 10, "A", 40)),
        JobRelease::new("ghost", again(70)).with_hand_off(hand_off("ghost", 10, "A", 40)),
    ];
    let results = store.release_jobs("A", &releases).await;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(
        results[2].as_ref().err().map(|e| e.kind()),
        Some(ErrorKind::LeaseLost)
    );
    assert_eq!(
        results[3].as_ref().err().map(|e| e.kind()),
        Some(ErrorKind::NotFound)
    );

    assert!(
        claim(store.as_ref(), "B", at(39)).await.is_empty(),
        "entries are not stale before their deadline"
    );
    let stale = claim(store.as_ref(), "B", at(41)).await;
    assert_eq!(
        ids(&stale),
        ["a", "b"],
        "applied releases are journaled (a removed job's too); failed ones are not"
    );
    assert_eq!(
        stale[0],
        hand_off("a", 10, "A", 40),
        "entries read back as recorded"
    );
    assert!(
        claim(store.as_ref(), "C", at(42)).await.is_empty(),
        "a claimed entry is held for the claimer's lease"
    );
    let reclaimed = claim(store.as_ref(), "C", at(41 + 31)).await;
    assert_eq!(
        ids(&reclaimed),
        ["a", "b"],
        "a claimer that stops leaves the entries to be claimed again"
    );
    assert_eq!(
        reclaimed[0].owner, "B",
        "the owner is the claimer that stopped"
    );
}

/// Finished entries are gone; finishing unknown keys is fine.
pub async fn finished_hand_offs_are_removed(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    if !store.capabilities().journal {
        return;
    }
    acquired(store.as_ref(), &["a", "b"], "A").await;
    let releases = vec![
        JobRelease::new("a", again(70)).with_hand_off(hand_off("a", 10, "A", 40)),
        JobRelease::new("b", again(70)).with_hand_off(hand_off("b", 10, "A", 40)),
    ];
    for result in store.release_jobs("A", &releases).await {
        result.expect("release");
    }
    store
        .finish_hand_offs(&[
            hand_off("a", 10, "A", 40).key(),
            HandOffKey {
                job_id: "ghost".into(),
                fire_time: at(10),
            },
        ])
        .await
        .expect("finish");
    assert_eq!(
        ids(&claim(store.as_ref(), "B", at(41)).await),
        ["b"],
        "only the unfinished entry goes stale"
    );
    store.finish_hand_offs(&[]).await.expect("finish nothing");
}

/// Renewing moves the deadline of the listed entries the owner still
/// holds — not its other entries, not another owner's, not one a claimer
/// took over.
pub async fn renewed_hand_offs_stay_fresh(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    if !store.capabilities().journal {
        return;
    }
    acquired(store.as_ref(), &["a", "a2"], "A").await;
    acquired(store.as_ref(), &["b"], "B").await;
    let releases = [
        JobRelease::new("a", again(70)).with_hand_off(hand_off("a", 10, "A", 40)),
        JobRelease::new("a2", again(70)).with_hand_off(hand_off("a2", 10, "A", 40)),
    ];
    for result in store.release_jobs("A", &releases).await {
        result.expect("release A's jobs");
    }
    let results = store
        .release_jobs(
            "B",
            &[JobRelease::new("b", again(70)).with_hand_off(hand_off("b", 10, "B", 40))],
        )
        .await;
    results.into_iter().for_each(|r| {
        r.expect("release b");
    });
    let a = hand_off("a", 10, "A", 40).key();
    let b = hand_off("b", 10, "B", 40).key();
    store
        .renew_hand_offs("A", &[a.clone(), b], at(100))
        .await
        .expect("renew");
    assert_eq!(
        ids(&claim(store.as_ref(), "C", at(50)).await),
        ["a2", "b"],
        "only A's listed entry was renewed: not A's other one, not B's"
    );
    assert_eq!(
        ids(&claim(store.as_ref(), "C", at(101)).await),
        ["a", "a2", "b"],
        "past the renewed deadline A's entry is stale too (and C's claims lapsed)"
    );
    store
        .renew_hand_offs("A", std::slice::from_ref(&a), at(1000))
        .await
        .expect("renew a claimed entry");
    assert!(
        ids(&claim(store.as_ref(), "D", at(101 + 31)).await).contains(&"a"),
        "a renewal by the old owner leaves an entry another scheduler claimed alone"
    );
}

/// Claimers racing for stale entries each get a disjoint share, and
/// together all of them.
pub async fn concurrent_claimers_claim_each_entry_once(harness: &dyn StoreHarness) {
    let store = harness.new_store().await;
    if !store.capabilities().journal {
        return;
    }
    let names: Vec<String> = (0..60).map(|i| format!("job-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    acquired(store.as_ref(), &refs, "A").await;
    let releases: Vec<JobRelease> = names
        .iter()
        .map(|id| JobRelease::new(id, again(70)).with_hand_off(hand_off(id, 10, "A", 40)))
        .collect();
    for result in store.release_jobs("A", &releases).await {
        result.expect("release");
    }
    let claimers = (0..4).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_stale_hand_offs(&format!("claimer-{n}"), at(41), 7, LEASE)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|e| e.job_id));
            }
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("claimer task"));
    }
    let unique: BTreeSet<&chime_core::ArcStr> = all.iter().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "no entry was claimed twice: {all:?}"
    );
    assert_eq!(unique.len(), names.len(), "every stale entry was claimed");
}
