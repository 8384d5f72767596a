//! The scheduler's side of the dispatch journal (see
//! [`crate::store::HandOff`]): which of its hand-offs are in flight, the
//! finished ones still to be removed from their store, and the periodic
//! upkeep — renewing its own entries and reporting other schedulers' stale
//! ones.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{lock, read, Inner, SchedulerState};
use crate::event::Event;
use crate::store::{HandOff, HandOffKey, JobStore, RunOutcome, RunRecord};

/// Stale entries claimed per look.
const STALE_BATCH: usize = 100;

/// Fires not run that one report writes to the run history: the newest
/// ones, as many as a store keeps per job by default. The event and the
/// log line still list them all; after a long downtime of a frequent job,
/// a thousand history writes per job would hold up dispatch for nothing
/// (the store keeps only its last few runs anyway).
const MAX_NOT_RUN_RECORDS: usize = 20;

#[derive(Default)]
struct StoreJournal {
    /// Hand-offs of this scheduler whose entries are in the store.
    in_flight: HashSet<HandOffKey>,
    /// Ended hand-offs whose entries are still to be removed.
    finished: Vec<HandOffKey>,
    /// A task is removing `finished` entries right now.
    flushing: bool,
}

/// Per-store journal bookkeeping of one scheduler.
#[derive(Default)]
pub(crate) struct JournalBook {
    stores: Mutex<HashMap<String, StoreJournal>>,
    /// The keeper task (see [`start_journal_keeper`]) has been started.
    keeper_started: Mutex<bool>,
    /// The runtime the scheduler was started on, for starting the keeper
    /// from `add_store` called outside it.
    runtime: Mutex<Option<tokio::runtime::Handle>>,
}

/// Starts the journal keeper once the scheduler runs and has a store with a
/// journal: every third of the lease it renews this scheduler's entries,
/// retries finishes that failed, and reports other schedulers' stale
/// entries — from start until shut down, *paused and shutting down
/// included*, so a long run is never mistaken for a dead scheduler's while
/// the scheduler is paused or waiting for its runs at shutdown.
pub(crate) fn start_journal_keeper(inner: &Arc<Inner>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        lock(&inner.journal.runtime).get_or_insert(runtime);
    }
    let has_journal = read(&inner.stores)
        .iter()
        .any(|(_, store)| store.capabilities().journal);
    if !has_journal {
        return;
    }
    {
        let mut started = lock(&inner.journal.keeper_started);
        if *started {
            return;
        }
        *started = true;
    }
    let runtime = lock(&inner.journal.runtime).clone();
    let Some(runtime) = runtime else {
        tracing::warn!("no tokio runtime: the dispatch journal is not kept");
        *lock(&inner.journal.keeper_started) = false;
        return;
    };
    runtime.spawn(journal_keeper(Arc::clone(inner)));
}

async fn journal_keeper(inner: Arc<Inner>) {
    let mut state = inner.state.subscribe();
    // No store's call may hold up the others past a tick: a store that
    // hangs (unreachable server) is cut off, and renewals come first, so a
    // slow report never lets this scheduler's own entries go stale.
    let budget = inner.journal_upkeep_every();
    loop {
        if *state.borrow_and_update() == SchedulerState::Shutdown {
            return;
        }
        let stores: Vec<(String, Arc<dyn JobStore>)> = read(&inner.stores)
            .iter()
            .filter(|(_, store)| store.capabilities().journal)
            .cloned()
            .collect();
        for (alias, store) in &stores {
            let renew = inner.renew_in_flight(alias, store.as_ref());
            if tokio::time::timeout(budget, renew).await.is_err() {
                tracing::warn!(store = %alias, "renewing dispatch journal entries timed out");
            }
        }
        for (alias, store) in &stores {
            // Cut off mid-way, claimed entries go stale again and are
            // reported later: a fire may be reported twice, never lost.
            let _ = tokio::time::timeout(budget, inner.tidy_journal(alias, store.as_ref())).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(inner.journal_upkeep_every()) => {}
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

impl JournalBook {
    /// Notes hand-offs whose releases were applied.
    pub fn started(&self, alias: &str, keys: impl IntoIterator<Item = HandOffKey>) {
        let mut stores = lock(&self.stores);
        stores
            .entry(alias.to_owned())
            .or_default()
            .in_flight
            .extend(keys);
    }

    /// Queues a finished hand-off; returns whether the caller should flush
    /// (nobody else is flushing this store).
    fn queue_finished(&self, alias: &str, key: HandOffKey) -> bool {
        let mut stores = lock(&self.stores);
        let journal = stores.entry(alias.to_owned()).or_default();
        journal.finished.push(key);
        !std::mem::replace(&mut journal.flushing, true)
    }

    /// Takes the queued finishes, or ends the flush when there are none.
    fn take_finished(&self, alias: &str) -> Vec<HandOffKey> {
        let mut stores = lock(&self.stores);
        let journal = stores.entry(alias.to_owned()).or_default();
        let keys = std::mem::take(&mut journal.finished);
        if keys.is_empty() {
            journal.flushing = false;
        }
        keys
    }

    fn flushed(&self, alias: &str, keys: &[HandOffKey], ok: bool) {
        let mut stores = lock(&self.stores);
        let journal = stores.entry(alias.to_owned()).or_default();
        if ok {
            for key in keys {
                journal.in_flight.remove(key);
            }
        } else {
            // Kept for the next upkeep; the entries stay renewed meanwhile.
            journal.finished.extend_from_slice(keys);
            journal.flushing = false;
        }
    }

    /// The keys of this scheduler's in-flight hand-offs in a store.
    fn in_flight(&self, alias: &str) -> Vec<HandOffKey> {
        lock(&self.stores)
            .get(alias)
            .map(|j| j.in_flight.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether finishes wait for a retry; if so, the caller now flushes.
    fn claim_retry(&self, alias: &str) -> bool {
        let mut stores = lock(&self.stores);
        match stores.get_mut(alias) {
            Some(j) if !j.finished.is_empty() && !j.flushing => {
                j.flushing = true;
                true
            }
            _ => false,
        }
    }
}

impl Inner {
    /// The store behind `alias`, if it is still attached.
    pub(crate) fn store_by_alias(&self, alias: &str) -> Option<Arc<dyn JobStore>> {
        read(&self.stores)
            .iter()
            .find(|(a, _)| a == alias)
            .map(|(_, s)| Arc::clone(s))
    }

    /// How often journal upkeep runs: a third of the lease, so an entry is
    /// renewed twice before it could go stale.
    pub(crate) fn journal_upkeep_every(&self) -> std::time::Duration {
        (self.config.lease_duration / 3).max(std::time::Duration::from_millis(10))
    }

    /// Removes a hand-off's entry once its runs ended. Finishes are batched:
    /// whoever finds no removal going removes everything queued.
    pub(crate) async fn finish_hand_off(&self, alias: &str, key: HandOffKey) {
        if !self.journal.queue_finished(alias, key) {
            return;
        }
        self.flush_finished(alias).await;
    }

    async fn flush_finished(&self, alias: &str) {
        let Some(store) = self.store_by_alias(alias) else {
            // The store was removed: keep the keys for when it is back.
            self.journal.flushed(alias, &[], false);
            return;
        };
        loop {
            let keys = self.journal.take_finished(alias);
            if keys.is_empty() {
                return;
            }
            let result = store.finish_hand_offs(&keys).await;
            let ok = result.is_ok();
            if let Err(error) = result {
                tracing::warn!(store = alias, %error, entries = keys.len(), "could not clear finished runs from the dispatch journal; retrying later");
            }
            self.journal.flushed(alias, &keys, ok);
            if !ok {
                return;
            }
        }
    }

    /// Renews this scheduler's in-flight entries in one store (the
    /// keeper's first duty each tick).
    async fn renew_in_flight(&self, alias: &str, store: &dyn JobStore) {
        let in_flight = self.journal.in_flight(alias);
        if in_flight.is_empty() {
            return;
        }
        let deadline = self.lease_deadline(self.clock.now());
        if let Err(error) = store
            .renew_hand_offs(&self.owner, &in_flight, deadline)
            .await
        {
            tracing::warn!(store = alias, %error, "could not renew this scheduler's dispatch journal entries");
        }
    }

    /// Retries failed finishes and reports stale entries of stopped
    /// schedulers in one store.
    async fn tidy_journal(&self, alias: &str, store: &dyn JobStore) {
        if self.journal.claim_retry(alias) {
            self.flush_finished(alias).await;
        }
        let now = self.clock.now();
        match store
            .claim_stale_hand_offs(&self.owner, now, STALE_BATCH, self.config.lease_duration)
            .await
        {
            Ok(stale) => {
                for hand_off in stale {
                    self.report_interrupted(alias, store, hand_off).await;
                }
            }
            Err(error) => {
                tracing::warn!(store = alias, %error, "could not look for interrupted runs in the dispatch journal");
            }
        }
    }

    /// `now` plus the lease duration.
    pub(crate) fn lease_deadline(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::TimeDelta::from_std(self.config.lease_duration)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .unwrap_or(now)
    }

    /// Reports a stale entry of a stopped scheduler, then removes it.
    async fn report_interrupted(&self, alias: &str, store: &dyn JobStore, hand_off: HandOff) {
        let key = hand_off.key();
        if !hand_off.missed.is_empty() {
            self.report_missed(alias, store, &hand_off.job_id, &hand_off.missed)
                .await;
        }
        if !hand_off.runs.is_empty() {
            tracing::error!(job_id = %hand_off.job_id, store = alias, owner = %hand_off.owner, runs = ?hand_off.runs, "runs were interrupted: the scheduler running them stopped before they ended; they are not run again");
            self.record_not_run(
                alias,
                store,
                &hand_off.job_id,
                &hand_off.runs,
                RunOutcome::Interrupted,
            )
            .await;
            self.events.emit(Event::JobInterrupted {
                job_id: hand_off.job_id.to_string(),
                store: alias.to_owned(),
                scheduled_run_times: hand_off.runs,
                owner: hand_off.owner,
            });
        }
        if let Err(error) = store.finish_hand_offs(std::slice::from_ref(&key)).await {
            tracing::warn!(store = alias, %error, job_id = %key.job_id, "could not clear a reported journal entry; it may be reported again");
        }
    }

    /// Reports missed fires: history records, a log line and an event.
    async fn report_missed(
        &self,
        alias: &str,
        store: &dyn JobStore,
        job_id: &str,
        missed: &[DateTime<Utc>],
    ) {
        self.record_not_run(alias, store, job_id, missed, RunOutcome::Missed)
            .await;
        self.announce_missed(alias, job_id, missed, false);
    }

    /// The log line and event of missed fires.
    pub(crate) fn announce_missed(
        &self,
        alias: &str,
        job_id: &str,
        missed: &[DateTime<Utc>],
        more_not_listed: bool,
    ) {
        tracing::warn!(
            job_id,
            store = alias,
            missed = missed.len(),
            more = more_not_listed,
            "runs missed their grace time"
        );
        self.events.emit(Event::JobMissed {
            job_id: job_id.to_owned(),
            store: alias.to_owned(),
            scheduled_run_times: missed.to_vec(),
            more_not_listed,
        });
    }

    /// Records fires that did not run in the store's history, if it keeps one.
    pub(crate) async fn record_not_run(
        &self,
        alias: &str,
        store: &dyn JobStore,
        job_id: &str,
        times: &[DateTime<Utc>],
        outcome: RunOutcome,
    ) {
        if !store.capabilities().history {
            return;
        }
        let now = self.clock.now();
        let newest = &times[times.len().saturating_sub(MAX_NOT_RUN_RECORDS)..];
        for &time in newest {
            let record = RunRecord::new(job_id, time, now, now, outcome, None);
            if let Err(error) = store.record_run(record).await {
                tracing::warn!(job_id, store = alias, %error, "could not record run history");
                return;
            }
        }
    }
}
