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
    /// The most the connection caches of a file database's pages, in KiB
    /// (default [`DEFAULT_PAGE_CACHE_KIB`](Self::DEFAULT_PAGE_CACHE_KIB),
    /// 8 MiB; SQLite's own default is 2 MiB). Pages are cached as they are
    /// read; each acquisition reads a page per due job, scattered over the
    /// jobs table, and one that finds them cached spares a read each.
    pub page_cache_kib: u32,
}

impl SqliteConfig {
    /// The default [`page_cache_kib`](Self::page_cache_kib): at 100,000
    /// jobs, it keeps W5's acquisition of 1,000 due jobs from reading
    /// their pages each time (BENCHMARKS.md, session 9: 6.5 ms with
    /// SQLite's 2 MiB, 5.1 ms with this; 16 and 64 MiB were no faster, and
    /// 16 MiB took 17 MB more memory in a process listing 100,000 jobs;
    /// session 10: 24 runs of W6 with it, no stall).
    pub const DEFAULT_PAGE_CACHE_KIB: u32 = 8 * 1024;

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
            page_cache_kib: Self::DEFAULT_PAGE_CACHE_KIB,
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

    /// Sets the page cache size (KiB, at least 1), for a file database.
    pub fn page_cache_kib(mut self, kib: u32) -> Self {
        self.page_cache_kib = kib.max(1);
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
