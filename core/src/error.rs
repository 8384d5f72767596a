//! The one error type of chime: a machine-readable [`ErrorKind`], a message,
//! optional context (job id, store alias) and an optional source.

use std::fmt;

/// A boxed error from a backend or a user callback.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for `Result<T, chime_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, for code that needs to branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument, expression, option or configuration value is invalid.
    InvalidInput,
    /// No job with that id (or no store/executor with that alias).
    NotFound,
    /// A job with that id already exists in the store.
    Conflict,
    /// A stored record cannot be decoded (corrupt data, newer schema version).
    UnreadableRecord,
    /// The job names a task that is not registered with this scheduler.
    UnknownTask,
    /// The job's trigger kind is not registered, or its data is invalid.
    UnknownTrigger,
    /// A store could not be reached or failed; usually worth retrying.
    StoreUnavailable,
    /// This scheduler no longer holds the lease on a job it tried to release.
    LeaseLost,
    /// The component does not implement this operation.
    NotSupported,
    /// The scheduler is shut down (or shutting down).
    Shutdown,
    /// An invariant was broken; a bug in chime or a backend.
    Internal,
}

impl ErrorKind {
    /// A short lowercase name, stable across versions (used in logs and JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::UnreadableRecord => "unreadable_record",
            ErrorKind::UnknownTask => "unknown_task",
            ErrorKind::UnknownTrigger => "unknown_trigger",
            ErrorKind::StoreUnavailable => "store_unavailable",
            ErrorKind::LeaseLost => "lease_lost",
            ErrorKind::NotSupported => "not_supported",
            ErrorKind::Shutdown => "shutdown",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// chime's error: a kind, a message, context and an optional source.
///
/// ```
/// use chime_core::{Error, ErrorKind};
/// let err = Error::new(ErrorKind::NotFound, "no such job").with_job("nightly");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "not_found: no such job (job 'nightly')");
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    job_id: Option<String>,
    store: Option<String>,
    temporary: bool,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind`. Errors of kind [`ErrorKind::StoreUnavailable`]
    /// start out temporary (retryable); all others permanent.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            job_id: None,
            store: None,
            temporary: kind == ErrorKind::StoreUnavailable,
            source: None,
        }
    }

    /// Shorthand for an [`ErrorKind::InvalidInput`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for an [`ErrorKind::NotFound`] error about a job id.
    pub fn job_not_found(job_id: &str) -> Self {
        Error::new(ErrorKind::NotFound, "no job with this id").with_job(job_id)
    }

    /// Attaches the job id this error is about.
    pub fn with_job(mut self, job_id: impl AsRef<str>) -> Self {
        self.job_id = Some(job_id.as_ref().to_owned());
        self
    }

    /// Attaches the alias of the store this error is about (once; an inner
    /// store name is kept).
    pub fn with_store(mut self, store: impl AsRef<str>) -> Self {
        if self.store.is_none() {
            self.store = Some(store.as_ref().to_owned());
        }
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Marks the error as temporary (worth retrying) or permanent.
    pub fn set_temporary(mut self, temporary: bool) -> Self {
        self.temporary = temporary;
        self
    }

    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message, without context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The job this error is about, if any.
    pub fn job_id(&self) -> Option<&str> {
        self.job_id.as_deref()
    }

    /// The store alias this error is about, if any.
    pub fn store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// Whether retrying the same operation later may succeed (a store that
    /// could not be reached, a timeout); false for bad input and missing jobs.
    pub fn is_retryable(&self) -> bool {
        self.temporary
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(job) = &self.job_id {
            write!(f, " (job '{job}')")?;
        }
        if let Some(store) = &self.store {
            write!(f, " (store '{store}')")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(job) = &self.job_id {
            d.field("job_id", job);
        }
        if let Some(store) = &self.store {
            d.field("store", store);
        }
        d.field("temporary", &self.temporary);
        if let Some(source) = &self.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_unavailable_is_retryable_by_default() {
        assert!(Error::new(ErrorKind::StoreUnavailable, "down").is_retryable());
        assert!(!Error::invalid("bad").is_retryable());
        assert!(Error::invalid("x").set_temporary(true).is_retryable());
    }

    #[test]
    fn display_names_job_store_and_source() {
        let io = std::io::Error::other("connection refused");
        let err = Error::new(ErrorKind::StoreUnavailable, "acquire failed")
            .with_job("a")
            .with_store("redis")
            .with_source(io);
        assert_eq!(
            err.to_string(),
            "store_unavailable: acquire failed (job 'a') (store 'redis'): connection refused"
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
