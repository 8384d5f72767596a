//! Store settings and URL handling.

use std::fmt;

/// Where the Redis server is and how to use it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port/db` (or `rediss://…` with the
    /// `tls` feature).
    pub url: String,
    /// Prefix of every key (default `chime`); schedulers sharing a prefix
    /// share jobs.
    pub prefix: String,
    /// Runs kept in history per job (default 20; 0 = none).
    pub history_limit: usize,
}

impl RedisConfig {
    /// Settings for `url` with the default prefix and history.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: "chime".into(),
            history_limit: 20,
        }
    }

    /// Sets the key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the history limit.
    pub fn history_limit(mut self, runs: usize) -> Self {
        self.history_limit = runs;
        self
    }

    /// The URL with any password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let user = match userinfo.find(':') {
        Some(colon) => &userinfo[..colon],
        None => "",
    };
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        "***".to_owned()
    };
    format!("{}://{masked}{}", &url[..scheme_end], &rest[at..])
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("prefix", &self.prefix)
            .field("history_limit", &self.history_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("redis://user:s3cret@db.example:6379/2"),
            "redis://user:***@db.example:6379/2"
        );
        assert_eq!(
            redact("redis://:s3cret@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
        assert_eq!(redact("redis://token@127.0.0.1"), "redis://***@127.0.0.1");
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        let config = RedisConfig::new("rediss://admin:hunter2@cache:6380/1");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("admin:***@cache:6380/1"), "{shown}");
    }
}
