//! Delivering events to subscribers and listeners.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

use super::{Event, EventMask};

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// Identifies a registered listener, for removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// Fans events out to broadcast subscribers and masked listeners.
///
/// Subscribers that fall more than the channel capacity behind lose the
/// oldest events (they see `RecvError::Lagged`); listeners are called
/// synchronously in the scheduler and must be quick — and must not call a
/// blocking [`SchedulerHandle`](crate::SchedulerHandle) of the same
/// scheduler (it would wait for itself). Spawn a task for anything slow.
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    listeners: RwLock<Vec<(ListenerId, EventMask, Listener)>>,
    next_id: AtomicU64,
}

impl EventBus {
    /// A bus whose broadcast channel holds `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        EventBus {
            sender,
            listeners: RwLock::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// A new stream of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Calls `listener` for every event whose kind is in `mask`.
    pub fn add_listener<F>(&self, mask: EventMask, listener: F) -> ListenerId
    where
        F: Fn(&Event) + Send + Sync + 'static,
    {
        let id = ListenerId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut listeners = self.listeners.write().unwrap_or_else(|p| p.into_inner());
        listeners.push((id, mask, Arc::new(listener)));
        id
    }

    /// Removes a listener; false if it was not registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        let mut listeners = self.listeners.write().unwrap_or_else(|p| p.into_inner());
        let before = listeners.len();
        listeners.retain(|(lid, _, _)| *lid != id);
        listeners.len() != before
    }

    /// Whether anyone would receive an event of a kind in `mask`: a
    /// broadcast subscriber, or a listener whose mask overlaps. Lets the
    /// scheduler skip building per-run events nobody reads.
    pub fn wants(&self, mask: EventMask) -> bool {
        self.sender.receiver_count() > 0
            || self
                .listeners
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|(_, m, _)| m.intersects(mask))
    }

    /// Delivers an event. A panicking listener is caught and logged.
    pub fn emit(&self, event: Event) {
        let mask = event.mask();
        let matching: Vec<Listener> = {
            let listeners = self.listeners.read().unwrap_or_else(|p| p.into_inner());
            listeners
                .iter()
                .filter(|(_, m, _)| m.intersects(mask))
                .map(|(_, _, l)| Arc::clone(l))
                .collect()
        };
        for listener in matching {
            let call = std::panic::AssertUnwindSafe(|| listener(&event));
            if std::panic::catch_unwind(call).is_err() {
                tracing::error!(?mask, "an event listener panicked");
            }
        }
        // No subscribers is fine.
        let _ = self.sender.send(event);
    }
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listeners = self.listeners.read().map(|l| l.len()).unwrap_or(0);
        f.debug_struct("EventBus")
            .field("subscribers", &self.sender.receiver_count())
            .field("listeners", &listeners)
            .finish()
    }
}
