//! Store settings and URL handling.

use std::fmt;

/// Where the MongoDB deployment is and how to use it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MongoConfig {
    /// `mongodb://[user:password@]host[:port][,host…]/[database][?options]`
    /// or `mongodb+srv://…` (feature `srv`). Unless the URL sets
    /// `serverSelectionTimeoutMS`, operations give up after 5 s when no
    /// server is reachable (the scheduler then retries with backoff).
    pub url: String,
    /// The database; `None` (the default) takes the URL's database, or
    /// `chime` when the URL names none.
    pub database: Option<String>,
    /// The jobs collection (default `jobs`); run history goes to
    /// `<collection>.runs` and the dispatch journal to
    /// `<collection>.handoffs`. Schedulers sharing a database and
    /// collection share jobs.
    pub collection: String,
    /// Runs kept in history per job (default 20; 0 = none).
    pub history_limit: usize,
}

impl MongoConfig {
    /// Settings for `url` with the default database, collection and history.
    pub fn new(url: impl Into<String>) -> Self {
        MongoConfig {
            url: url.into(),
            database: None,
            collection: "jobs".into(),
            history_limit: 20,
        }
    }

    /// Sets the database.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// Sets the jobs collection.
    pub fn collection(mut self, collection: impl Into<String>) -> Self {
        self.collection = collection.into();
        self
    }

    /// Sets the history limit.
    pub fn history_limit(mut self, runs: usize) -> Self {
        self.history_limit = runs;
        self
    }

    /// The URL with any credentials replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The run history collection's name.
    pub fn runs_collection(&self) -> String {
        format!("{}.runs", self.collection)
    }

    /// The dispatch journal collection's name (see
    /// [`HandOff`](chime_core::store::HandOff)).
    pub fn hand_offs_collection(&self) -> String {
        format!("{}.handoffs", self.collection)
    }
}

/// The user-info part of `url` (`user:secret` before the hosts), if any.
///
/// The hosts never contain `@`, so everything before the last `@` ahead of
/// the query string is user info — even when a careless password holds a
/// raw `/` or `:`. This may take too much (a database name with an `@`),
/// never too little.
fn userinfo(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let before_query = rest.find('?').map_or(rest, |q| &rest[..q]);
    let at = before_query.rfind('@')?;
    Some((start, start + at))
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`.
pub(crate) fn redact(url: &str) -> String {
    let Some((start, end)) = userinfo(url) else {
        return url.to_owned();
    };
    let info = &url[start..end];
    let masked = match info.find(':') {
        Some(colon) => format!("{}:***", &info[..colon]),
        None => "***".to_owned(),
    };
    format!("{}{masked}{}", &url[..start], &url[end..])
}

/// The password in `url` as written (possibly percent-encoded), if any:
/// scrubbed from every message that might echo it.
pub(crate) fn url_secret(url: &str) -> Option<String> {
    let (start, end) = userinfo(url)?;
    let info = &url[start..end];
    let colon = info.find(':')?;
    let secret = &info[colon + 1..];
    (!secret.is_empty()).then(|| secret.to_owned())
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("url", &self.redacted_url())
            .field("database", &self.database)
            .field("collection", &self.collection)
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
            redact("mongodb://user:s3cret@db1.example:27017,db2.example/app?replicaSet=rs0"),
            "mongodb://user:***@db1.example:27017,db2.example/app?replicaSet=rs0"
        );
        assert_eq!(
            redact("mongodb+srv://admin:p%40ss@cluster0.example.net/?retryWrites=true"),
            "mongodb+srv://admin:***@cluster0.example.net/?retryWrites=true"
        );
        assert_eq!(
            redact("mongodb://user:raw/slash@host/db"),
            "mongodb://user:***@host/db"
        );
        assert_eq!(redact("mongodb://token@host"), "mongodb://***@host");
        assert_eq!(
            redact("mongodb://127.0.0.1:27017/?replicaSet=rs0"),
            "mongodb://127.0.0.1:27017/?replicaSet=rs0"
        );
        assert_eq!(
            url_secret("mongodb://user:raw/slash@host/db").as_deref(),
            Some("raw/slash")
        );
        assert_eq!(url_secret("mongodb://host/db"), None);
        let config = MongoConfig::new("mongodb://admin:hunter2@db:27017/app").database("x");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("admin:***@db:27017/app"), "{shown}");
        assert_eq!(config.runs_collection(), "jobs.runs");
        assert_eq!(config.hand_offs_collection(), "jobs.handoffs");
    }
}
