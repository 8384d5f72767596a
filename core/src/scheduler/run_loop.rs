//! The scheduler's main loop: acquire due jobs from every store, dispatch
//! them, then sleep until the earliest next run time, a change, or the
//! maximum sleep — whichever comes first.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{read, Inner, SchedulerState};
use crate::event::Event;
use crate::store::JobStore;

/// Retry state of a store that failed.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    delay: Duration,
    retry_at: DateTime<Utc>,
}

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Wakes the loop whenever `store` reports a change made by another process
/// (stores with a change feed). Ends with the scheduler or the feed.
pub(crate) fn forward_store_changes(inner: &Arc<Inner>, store: &Arc<dyn JobStore>) {
    let Some(mut feed) = store.change_feed() else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("store added outside a tokio runtime: its change feed is not watched");
        return;
    };
    let weak = Arc::downgrade(inner);
    runtime.spawn(async move {
        while feed.changed().await.is_ok() {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if matches!(
                *inner.state.borrow(),
                SchedulerState::ShuttingDown | SchedulerState::Shutdown
            ) {
                return;
            }
            inner.wakeup.notify_one();
        }
    });
}

pub(crate) async fn run_loop(inner: Arc<Inner>) {
    let mut state_rx = inner.state.subscribe();
    let mut backoff: HashMap<String, Backoff> = HashMap::new();
    loop {
        let state = *state_rx.borrow_and_update();
        match state {
            SchedulerState::Running => {}
            SchedulerState::Paused => {
                if state_rx.changed().await.is_err() {
                    return;
                }
                continue;
            }
            _ => return,
        }

        let now = inner.clock.now();
        let stores: Vec<(String, Arc<dyn JobStore>)> = read(&inner.stores).clone();
        // The earliest next run time (looked at `dispatch_ahead` before it)
        // and the earliest retry of a failing store (looked at on time).
        let mut wake_at = None;
        let mut retry_at = None;
        let mut more_due = false;
        let mut poll = false;
        for (alias, store) in stores {
            if let Some(b) = backoff.get(&alias) {
                if b.retry_at > now {
                    retry_at = earliest(retry_at, Some(b.retry_at));
                    continue;
                }
            }
            let caps = store.capabilities();
            poll |= caps.shared && !caps.notifies;
            match inner.process_store(&alias, store.as_ref(), now).await {
                Ok(tick) => {
                    if backoff.remove(&alias).is_some() {
                        tracing::info!(store = %alias, "store is reachable again");
                    }
                    more_due |= tick.more_due;
                    wake_at = earliest(wake_at, tick.next_run_time);
                }
                Err(error) => {
                    let delay = backoff
                        .get(&alias)
                        .map_or(FIRST_RETRY, |b| (b.delay * 2).min(MAX_RETRY));
                    // From when the failure was seen: a store that takes
                    // seconds to fail (a server selection timeout) is not
                    // retried at once, holding up the other stores again.
                    let failed_at = inner.clock.now();
                    let retry = failed_at
                        .checked_add_signed(chrono::TimeDelta::from_std(delay).unwrap_or_default())
                        .unwrap_or(failed_at);
                    backoff.insert(
                        alias.clone(),
                        Backoff {
                            delay,
                            retry_at: retry,
                        },
                    );
                    tracing::warn!(store = %alias, %error, retry_in = ?delay, "store failed; retrying later");
                    inner.events.emit(Event::StoreError {
                        store: alias,
                        error: error.to_string(),
                        retry_in: delay,
                    });
                    retry_at = earliest(retry_at, Some(retry));
                }
            }
        }
        if more_due {
            tokio::task::yield_now().await;
            continue;
        }

        let mut sleep = inner.config.max_sleep;
        if poll {
            sleep = sleep.min(inner.config.poll_interval);
        }
        // Wake `dispatch_ahead` before the earliest due time, and on time for
        // the earliest store retry.
        let ahead = chrono::TimeDelta::from_std(inner.config.dispatch_ahead).unwrap_or_default();
        let wake_at = earliest(wake_at.map(|at| at - ahead), retry_at);
        if let Some(at) = wake_at {
            let until = (at - inner.clock.now()).to_std().unwrap_or(Duration::ZERO);
            // Never spin: a store that reports a due time it then does not
            // hand out is looked at again a millisecond later at the earliest.
            sleep = sleep.min(until.max(Duration::from_millis(1)));
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = inner.wakeup.notified() => {}
            changed = state_rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
