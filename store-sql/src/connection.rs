//! A dedicated thread that owns the SQLite connection; async callers send it
//! closures and await the answer, so no tokio worker ever blocks on SQLite.

use std::sync::mpsc;
use std::thread;

use chime_core::{Error, ErrorKind, Result};
use rusqlite::Connection;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Handle to the connection thread. Dropping the last handle ends the thread.
#[derive(Debug)]
pub(crate) struct ConnectionThread {
    sender: mpsc::Sender<Job>,
}

impl ConnectionThread {
    /// Opens the connection on a new thread with `open` and returns once it
    /// is ready (or failed).
    pub fn start<F>(name: String, open: F) -> Result<Self>
    where
        F: FnOnce() -> Result<Connection> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
        thread::Builder::new()
            .name(name)
            .spawn(move || {
                let mut conn = match open() {
                    Ok(conn) => {
                        let _ = ready_tx.send(Ok(()));
                        conn
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = receiver.recv() {
                    // A panic inside one call must not take the store down:
                    // its caller sees the reply channel close instead.
                    let call = std::panic::AssertUnwindSafe(|| job(&mut conn));
                    if std::panic::catch_unwind(call).is_err() {
                        tracing::error!("an SQLite store call panicked");
                    }
                }
            })
            .map_err(|e| {
                Error::new(ErrorKind::Internal, "cannot start the SQLite thread").with_source(e)
            })?;
        ready_rx.recv().map_err(|_| {
            Error::new(
                ErrorKind::StoreUnavailable,
                "the SQLite thread died while opening",
            )
        })??;
        Ok(ConnectionThread { sender })
    }

    /// Runs `f` on the connection thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.sender.send(job).map_err(|_| {
            Error::new(ErrorKind::StoreUnavailable, "the SQLite thread has stopped")
        })?;
        rx.await.map_err(|_| {
            Error::new(
                ErrorKind::StoreUnavailable,
                "the SQLite thread stopped mid-call",
            )
        })?
    }
}
