//! Listening for job changes made by other processes (Redis pub/sub).

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Subscribes to `channel` and bumps `feed` on every message, and once on
/// every (re)connection since messages may have been missed while away.
/// Reconnects with backoff until aborted.
pub(crate) fn spawn_listener(
    client: redis::Client,
    channel: String,
    feed: watch::Sender<u64>,
    redacted_url: String,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        delay = Duration::from_millis(200);
                        feed.send_modify(|n| *n = n.wrapping_add(1));
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            feed.send_modify(|n| *n = n.wrapping_add(1));
                        }
                        tracing::warn!(url = %redacted_url, "Redis change subscription ended; reconnecting");
                    }
                    Err(error) => {
                        tracing::warn!(url = %redacted_url, %error, "cannot subscribe to Redis job changes")
                    }
                },
                Err(error) => {
                    tracing::debug!(url = %redacted_url, %error, "Redis change subscription cannot connect")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    })
}
