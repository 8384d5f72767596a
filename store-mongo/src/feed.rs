//! Listening for job changes made by other processes (MongoDB change
//! streams; replica sets and sharded clusters only).

use std::time::Duration;

use futures::StreamExt;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::document::LEASE_EXPIRES;
use crate::error::scrub;

/// The change events worth waking a scheduler for: inserts, replacements,
/// deletes and collection-level events, and updates other than lease
/// bookkeeping — acquisitions (which set `lease_expires`) and releases
/// (which remove it) concern only the scheduler that made them, as with the
/// Redis store. Lease fields are top-level so that this filter can see them.
fn interesting() -> Vec<Document> {
    vec![doc! {
        "$match": {
            "$or": [
                { "operationType": { "$ne": "update" } },
                {
                    format!("updateDescription.updatedFields.{LEASE_EXPIRES}"): { "$exists": false },
                    "updateDescription.removedFields": { "$ne": LEASE_EXPIRES },
                },
            ]
        }
    }]
}

/// Watches `jobs` and bumps `feed` on every interesting change, and once on
/// every (re)opening of the stream since changes may have been missed while
/// away. Reopens with backoff until aborted.
pub(crate) fn spawn_listener(
    jobs: Collection<Document>,
    feed: watch::Sender<u64>,
    redacted_url: String,
    secrets: Vec<String>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        loop {
            match jobs.watch().pipeline(interesting()).await {
                Ok(mut stream) => {
                    delay = Duration::from_millis(200);
                    feed.send_modify(|n| *n = n.wrapping_add(1));
                    // The driver resumes the stream by itself after
                    // resumable errors; it ends only on others.
                    loop {
                        match stream.next().await {
                            Some(Ok(_)) => feed.send_modify(|n| *n = n.wrapping_add(1)),
                            Some(Err(error)) => {
                                let error = scrub(error.kind.to_string(), &secrets);
                                tracing::warn!(url = %redacted_url, %error, "MongoDB change stream failed; reopening");
                                break;
                            }
                            None => break,
                        }
                    }
                }
                Err(error) => {
                    let error = scrub(error.kind.to_string(), &secrets);
                    tracing::debug!(url = %redacted_url, %error, "MongoDB change stream cannot open")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    })
}
