//! Group commit: the writes of many concurrent callers go to a store as
//! one batch, and each caller still returns only once its own write is done.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot::{self, error::TryRecvError};

use crate::error::{Error, ErrorKind, Result};

/// Batches concurrent writes of items of type `T` (group commit).
///
/// [`submit`](Self::submit) queues an item, then waits for its turn to
/// write. The caller whose turn comes writes every item queued by then, its
/// own and those of the callers still waiting, in one `write` call; those
/// callers then find their item written and return its result without a
/// write of their own. A lone caller writes at once, so nothing waits for a
/// timer; under load (a thousand runs ending in the same millisecond, each
/// recording its history) the store gets a few large writes instead of a
/// thousand small ones.
///
/// ```
/// use chime_core::store::GroupCommit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chime_core::Result<()> {
/// let history: GroupCommit<String> = GroupCommit::new();
/// history
///     .submit("run 1".to_owned(), |batch| async move {
///         // One insert of every queued item.
///         assert_eq!(batch, vec!["run 1".to_owned()]);
///         Ok(())
///     })
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct GroupCommit<T> {
    queued: Mutex<Vec<Queued<T>>>,
    /// Held by the caller whose batch is being written.
    writing: tokio::sync::Mutex<()>,
    /// How long one write may take before it is abandoned.
    write_timeout: Option<Duration>,
}

struct Queued<T> {
    item: T,
    done: oneshot::Sender<Result<()>>,
}

impl<T> Default for GroupCommit<T> {
    fn default() -> Self {
        GroupCommit {
            queued: Mutex::new(Vec::new()),
            writing: tokio::sync::Mutex::new(()),
            write_timeout: None,
        }
    }
}

impl<T> std::fmt::Debug for GroupCommit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("queued", &self.queue().len())
            .finish()
    }
}

impl<T> GroupCommit<T> {
    /// An empty queue whose writes may take as long as they take.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty queue whose writes are abandoned after `limit`: every
    /// caller whose item the write took gets a retryable
    /// [`ErrorKind::StoreUnavailable`] error (the items may or may not have
    /// been written), and the callers queued behind it go on with the next
    /// write. Without a limit, one write that never ends (a server that
    /// accepts a request and never answers) holds up every later caller.
    pub fn with_write_timeout(limit: Duration) -> Self {
        GroupCommit {
            write_timeout: Some(limit),
            ..Self::default()
        }
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Queued<T>>> {
        // The queue is a plain list: a panic elsewhere leaves it usable.
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` and returns once it has been written, with the result
    /// of the write that took it. `write` is called (at most once, by this
    /// caller) with every item queued so far, oldest first, when this
    /// caller's turn comes and its item was not taken by an earlier write;
    /// its one result is every item's result.
    ///
    /// A write that is abandoned (its caller's future dropped mid-write, or
    /// the write outliving the queue's
    /// [write timeout](Self::with_write_timeout)) leaves its items' outcome
    /// unknown: their callers get a
    /// [`ErrorKind::StoreUnavailable`] error. A write that fails fails
    /// every item it took, even those it may have written. Any caller's
    /// `write` may write this item, so every caller must pass an
    /// equivalent one; `write` must not call `submit` on the same queue
    /// (it would wait for itself). A caller dropped while waiting leaves
    /// its item queued: the next write takes it.
    pub async fn submit<W, F>(&self, item: T, write: W) -> Result<()>
    where
        W: FnOnce(Vec<T>) -> F,
        F: Future<Output = Result<()>>,
    {
        let (done, mut outcome) = oneshot::channel();
        self.queue().push(Queued { item, done });
        // A caller whose item an earlier write takes returns with that
        // write's result, without waiting for its turn at the lock.
        let _writing = tokio::select! {
            biased;
            result = &mut outcome => return result.unwrap_or_else(|_| Err(abandoned())),
            writing = self.writing.lock() => writing,
        };
        // Every earlier write has finished or been abandoned: either it
        // took this item (and said how that went), or the item is still
        // queued.
        match outcome.try_recv() {
            Ok(result) => return result,
            Err(TryRecvError::Closed) => return Err(abandoned()),
            Err(TryRecvError::Empty) => {}
        }
        let batch = std::mem::take(&mut *self.queue());
        let (items, waiting): (Vec<T>, Vec<oneshot::Sender<Result<()>>>) = batch
            .into_iter()
            .map(|queued| (queued.item, queued.done))
            .unzip();
        let result = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, write(items))
                .await
                .unwrap_or_else(|_| Err(timed_out(limit))),
            None => write(items).await,
        };
        for done in waiting {
            // A caller that stopped waiting does not need its result.
            let _ = done.send(copy(&result));
        }
        outcome.try_recv().unwrap_or_else(|_| Err(abandoned()))
    }
}

/// The result of a write for one of its items.
fn copy(result: &Result<()>) -> Result<()> {
    result.as_ref().map(|_| ()).map_err(|error| {
        let copy = Error::new(error.kind(), error.message()).set_temporary(error.is_retryable());
        let copy = match error.job_id() {
            Some(job) => copy.with_job(job),
            None => copy,
        };
        let copy = match error.store() {
            Some(store) => copy.with_store(store),
            None => copy,
        };
        match std::error::Error::source(error) {
            Some(source) => copy.with_source(source.to_string()),
            None => copy,
        }
    })
}

fn timed_out(limit: Duration) -> Error {
    Error::new(
        ErrorKind::StoreUnavailable,
        format!(
            "the batched write holding this item did not finish within {limit:?} and was abandoned; it may or may not have been written"
        ),
    )
}

fn abandoned() -> Error {
    Error::new(
        ErrorKind::StoreUnavailable,
        "the batched write holding this item was abandoned; it may or may not have been written",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::Notify;

    #[tokio::test]
    async fn callers_queued_during_a_write_go_together_in_the_next_one_and_each_gets_its_result() {
        within_a_minute(async {
            let commit = Arc::new(GroupCommit::<u32>::new());
            let batches = Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
            let release_first = Arc::new(Notify::new());
            let first_started = Arc::new(Notify::new());

            let first = {
                let (commit, batches) = (Arc::clone(&commit), Arc::clone(&batches));
                let (release, started) = (Arc::clone(&release_first), Arc::clone(&first_started));
                tokio::spawn(async move {
                    commit
                        .submit(0, |batch| async move {
                            batches.lock().unwrap().push(batch);
                            started.notify_one();
                            release.notified().await;
                            Ok(())
                        })
                        .await
                })
            };
            first_started.notified().await;
            // Five more callers while the first write is in progress; the odd
            // ones' batch fails (the write fails as a whole).
            let mut later = Vec::new();
            for n in 1..=5 {
                let (commit, batches) = (Arc::clone(&commit), Arc::clone(&batches));
                later.push(tokio::spawn(async move {
                    commit
                        .submit(n, |batch| async move {
                            let fail = batch.contains(&3);
                            batches.lock().unwrap().push(batch);
                            if fail {
                                Err(Error::new(ErrorKind::StoreUnavailable, "disk full"))
                            } else {
                                Ok(())
                            }
                        })
                        .await
                }));
            }
            // Wait until all five are queued behind the first write.
            while commit.queue().len() < 5 {
                tokio::task::yield_now().await;
            }
            release_first.notify_one();
            assert!(first.await.unwrap().is_ok());
            for handle in later {
                let error = handle.await.unwrap().expect_err("the batch with 3 failed");
                assert_eq!(error.kind(), ErrorKind::StoreUnavailable);
                assert_eq!(error.message(), "disk full");
            }
            let batches = batches.lock().unwrap().clone();
            assert_eq!(
                batches,
                vec![vec![0], vec![1, 2, 3, 4, 5]],
                "one write for everything queued meanwhile, oldest first"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn a_lone_caller_writes_at_once_and_every_call_writes_its_item_once() {
        within_a_minute(async {
            let commit = GroupCommit::<u32>::new();
            let mut written = Vec::new();
            for n in 0..3 {
                let mut got = Vec::new();
                commit
                    .submit(n, |batch| {
                        got = batch;
                        async { Ok(()) }
                    })
                    .await
                    .unwrap();
                written.extend(got);
            }
            assert_eq!(written, vec![0, 1, 2]);
        })
        .await;
    }

    /// Spawns a caller submitting `item` whose write (if it comes to
    /// one) records its batch, says so, and then never ends.
    fn stuck_writer(
        commit: &Arc<GroupCommit<u32>>,
        item: u32,
        seen: &Arc<Mutex<Vec<u32>>>,
        started: &Arc<Notify>,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let (commit, seen, started) = (Arc::clone(commit), Arc::clone(seen), Arc::clone(started));
        tokio::spawn(async move {
            commit
                .submit(item, |batch| async move {
                    *seen.lock().unwrap() = batch;
                    started.notify_one();
                    std::future::pending::<Result<()>>().await
                })
                .await
        })
    }

    /// Spawns a caller submitting `item` whose write succeeds.
    fn writer(commit: &Arc<GroupCommit<u32>>, item: u32) -> tokio::task::JoinHandle<Result<()>> {
        let commit = Arc::clone(commit);
        tokio::spawn(async move { commit.submit(item, |_| async { Ok(()) }).await })
    }

    /// Fails a test whose body hangs (a deadlock in the queue) instead of
    /// hanging the test run.
    async fn within_a_minute(body: impl Future<Output = ()>) {
        tokio::time::timeout(std::time::Duration::from_secs(60), body)
            .await
            .expect("the test hung: a caller never got its result");
    }

    async fn queued(commit: &GroupCommit<u32>, n: usize) {
        while commit.queue().len() < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn items_an_abandoned_write_took_are_reported_unknown_and_later_ones_are_written() {
        within_a_minute(async {
            let commit = Arc::new(GroupCommit::<u32>::new());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let started = Arc::new(Notify::new());
            // 0's write is stuck; 1 and 2 queue behind it, 1 first.
            let zero = stuck_writer(&commit, 0, &seen, &started);
            started.notified().await;
            let one = stuck_writer(&commit, 1, &seen, &started);
            queued(&commit, 1).await;
            let two = writer(&commit, 2);
            queued(&commit, 2).await;
            // 0's write is abandoned: 1's turn, and it takes 1 and 2.
            zero.abort();
            assert!(zero.await.is_err());
            started.notified().await;
            assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
            // 1's write is abandoned too: 2 was in it, so its outcome is unknown.
            one.abort();
            assert!(one.await.is_err());
            let error = two.await.unwrap().expect_err("taken by an abandoned write");
            assert_eq!(error.kind(), ErrorKind::StoreUnavailable);
            assert!(error.is_retryable());
            // Later items are written as usual.
            assert!(writer(&commit, 3).await.unwrap().is_ok());
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_outlives_the_limit_fails_its_items_and_later_ones_are_written() {
        within_a_minute(async {
            let limit = std::time::Duration::from_secs(10);
            let commit = Arc::new(GroupCommit::<u32>::with_write_timeout(limit));
            let seen = Arc::new(Mutex::new(Vec::new()));
            let started = Arc::new(Notify::new());
            let begin = tokio::time::Instant::now();
            let zero = stuck_writer(&commit, 0, &seen, &started);
            started.notified().await;
            let one = writer(&commit, 1);
            queued(&commit, 1).await;
            let error = zero.await.unwrap().expect_err("the write never ends");
            assert!(
                begin.elapsed() >= limit,
                "abandoned after {:?}",
                begin.elapsed()
            );
            assert_eq!(error.kind(), ErrorKind::StoreUnavailable);
            assert!(error.is_retryable());
            assert!(
                error.message().contains("did not finish within 10s"),
                "{error}"
            );
            // The caller queued behind it writes its own item.
            assert!(one.await.unwrap().is_ok());
            assert_eq!(*seen.lock().unwrap(), vec![0]);
        })
        .await;
    }
}
