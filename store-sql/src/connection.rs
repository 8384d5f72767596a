//! The connection and how async callers reach it: each call runs on tokio's
//! blocking pool (`spawn_blocking`) holding the connection's lock, so no
//! tokio worker ever blocks on SQLite. (Using tokio's pool rather than a
//! thread of our own also keeps tokio's paused-time tests working: the
//! runtime knows a blocking call is in progress and does not jump the clock.)

use std::sync::{Arc, Mutex};

use chime_core::{Error, ErrorKind, Result};
use rusqlite::Connection;

/// A shared SQLite connection.
#[derive(Debug, Clone)]
pub(crate) struct SharedConnection {
    conn: Arc<Mutex<Connection>>,
}

impl SharedConnection {
    pub fn new(conn: Connection) -> Self {
        SharedConnection {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Runs `f` on the connection on a blocking thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means an earlier call panicked mid-way; SQLite
            // rolled back its transaction, so the connection is still sound.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::StoreUnavailable,
                "an SQLite call did not complete",
            )
            .with_source(e)
        })?
    }
}
