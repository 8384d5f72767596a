//! MongoDB failures as chime errors, never showing credentials.

use chime_core::{Error, ErrorKind};
use mongodb::error::{ErrorKind as MongoKind, WriteFailure};

/// Server error code of a duplicate key (an `_id` that exists).
pub(crate) const DUPLICATE_KEY: i32 = 11000;

/// The server's error code, where the failure carries one.
pub(crate) fn code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        MongoKind::Command(c) => Some(c.code),
        MongoKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        MongoKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        MongoKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|w| w.code),
        _ => None,
    }
}

/// Whether `e` may go away on retry (the server is down, unreachable, in an
/// election…), as opposed to a bad request or missing rights.
fn temporary(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        MongoKind::Io(_)
        | MongoKind::ServerSelection { .. }
        | MongoKind::ConnectionPoolCleared { .. }
        | MongoKind::DnsResolve { .. }
        | MongoKind::Transaction { .. } => true,
        MongoKind::Authentication { .. }
        | MongoKind::InvalidArgument { .. }
        | MongoKind::InvalidTlsConfig { .. }
        | MongoKind::IncompatibleServer { .. } => false,
        // Unauthorized, bad value, and so on; other server errors (not
        // primary, shutting down, interrupted) are worth a retry.
        _ => !matches!(code(e), Some(2 | 9 | 13 | 14 | 18 | 26 | 59 | 72 | 73)),
    }
}

/// Replaces every one of `secrets` in `text` by `***`.
pub(crate) fn scrub(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        if !secret.is_empty() && text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
}

/// A MongoDB failure of `operation` as a store error. The message names the
/// deployment by its redacted URL and has the password scrubbed out, in
/// case a driver message ever echoes it.
pub(crate) fn mongo_error(
    redacted_url: &str,
    secrets: &[String],
    operation: &str,
    e: mongodb::error::Error,
) -> Error {
    let detail = scrub(e.kind.to_string(), secrets);
    Error::new(
        ErrorKind::StoreUnavailable,
        format!("MongoDB {operation} failed at {redacted_url}: {detail}"),
    )
    .set_temporary(temporary(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed() {
        let secrets = ["hunter2".to_owned(), "p%40ss".to_owned(), String::new()];
        assert_eq!(
            scrub("bad auth for admin:hunter2 / p%40ss".into(), &secrets),
            "bad auth for admin:*** / ***"
        );
        assert_eq!(scrub("fine".into(), &[]), "fine");
    }
}
