//! Reading a job's `record` column. SQLite does not enforce column types:
//! a tool writing to the file can leave a blob, or text that is not UTF-8,
//! where chime writes JSON text. Such a record is one unreadable job
//! (reported and kept, like a record that is not valid JSON), never a
//! failure of the whole listing or acquisition.

use chime_core::{Error, ErrorKind, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use crate::queries::{sql_error, CachedStatements};

/// The text of a record column, read in place; why not, when it holds no
/// UTF-8 text. A blob holding UTF-8 text is read as that text.
pub(crate) fn column_text(value: ValueRef<'_>) -> std::result::Result<&str, String> {
    text_of("record", value)
}

/// [`column_text`] for the column `what` (named in the reason).
pub(crate) fn text_of<'a>(what: &str, value: ValueRef<'a>) -> std::result::Result<&'a str, String> {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => std::str::from_utf8(bytes)
            .map_err(|e| format!("the stored {what} is not UTF-8 text ({e})")),
        ValueRef::Null => Err(format!("the stored {what} is NULL")),
        ValueRef::Integer(n) => Err(format!("the stored {what} is the integer {n}, not text")),
        ValueRef::Real(x) => Err(format!("the stored {what} is the number {x}, not text")),
    }
}

/// The id of a row, as text even when the column is not valid UTF-8 (to
/// name the row in a report).
pub(crate) fn lossy_id(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Null => String::new(),
    }
}

/// The record text of job `id` (`None` if there is no such job); a record
/// that is not text is an [`ErrorKind::UnreadableRecord`] error for that
/// job, not a store failure.
pub(crate) fn read_record(conn: &Connection, id: &str) -> Result<Option<String>> {
    let read = conn
        .query_row_cached("SELECT record FROM chime_jobs WHERE id = ?1", [id], |row| {
            Ok(column_text(row.get_ref(0)?).map(str::to_owned))
        })
        .optional()
        .map_err(sql_error)?;
    match read {
        None => Ok(None),
        Some(Ok(text)) => Ok(Some(text)),
        Some(Err(reason)) => Err(Error::new(ErrorKind::UnreadableRecord, reason).with_job(id)),
    }
}
