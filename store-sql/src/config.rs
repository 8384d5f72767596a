//! Store settings.

use std::path::PathBuf;
use std::time::Duration;

use chime_core::{Error, Result};

/// Where and how to open the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteConfig {
    /// The database file; `None` = a private in-memory database.
    pub path: Option<PathBuf>,
    /// How long a statement waits for another process's lock (default 5 s).
    pub busy_timeout: Duration,
    /// Runs kept in history per job (default 20; 0 = none).
    pub history_limit: usize,
}

impl SqliteConfig {
    /// A file database at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            path: Some(path.into()),
            ..SqliteConfig::memory()
        }
    }

    /// A private in-memory database.
    pub fn memory() -> Self {
        SqliteConfig {
            path: None,
            busy_timeout: Duration::from_secs(5),
            history_limit: 20,
        }
    }

    /// Reads `sqlite://path`, `sqlite:path`, `sqlite::memory:` or
    /// `sqlite://:memory:`.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "store URL '{url}' is not an SQLite URL (sqlite://path or sqlite::memory:)"
                ))
            })?;
        if rest == ":memory:" {
            return Ok(SqliteConfig::memory());
        }
        if rest.is_empty() {
            return Err(Error::invalid(format!("store URL '{url}' names no file")));
        }
        Ok(SqliteConfig::file(rest))
    }

    /// Sets the history limit.
    pub fn history_limit(mut self, runs: usize) -> Self {
        self.history_limit = runs;
        self
    }

    /// Sets the busy timeout.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            SqliteConfig::from_url("sqlite://chime.db").unwrap().path,
            Some("chime.db".into())
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite:///var/lib/chime.db")
                .unwrap()
                .path,
            Some("/var/lib/chime.db".into())
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite::memory:").unwrap().path,
            None
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite://:memory:").unwrap().path,
            None
        );
        assert!(SqliteConfig::from_url("redis://localhost").is_err());
        assert!(SqliteConfig::from_url("sqlite://").is_err());
    }
}
