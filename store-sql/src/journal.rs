//! The dispatch journal's SQL (see [`chime_core::store::HandOff`]): one row
//! per hand-off, keyed by job and fire time, with the owner and deadline in
//! columns of their own and the entry's JSON beside them.

use std::time::Duration;

use chime_core::store::{HandOff, HandOffKey};
use chime_core::Result;
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use crate::queries::sql_error;
use crate::time_column::{from_column, to_column};

/// Records a hand-off inside the release's transaction.
pub(crate) fn record_hand_off(tx: &Transaction<'_>, hand_off: &HandOff) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO chime_hand_offs (job_id, fire_time, owner, deadline, record)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            hand_off.job_id.as_str(),
            to_column(hand_off.fire_time),
            hand_off.owner,
            to_column(hand_off.deadline),
            hand_off.to_record(),
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)
}

/// Removes finished entries, all in one transaction.
pub(crate) fn finish_hand_offs(conn: &mut Connection, keys: &[HandOffKey]) -> Result<()> {
    let tx = immediate(conn)?;
    {
        let mut stmt = tx
            .prepare_cached("DELETE FROM chime_hand_offs WHERE job_id = ?1 AND fire_time = ?2")
            .map_err(sql_error)?;
        for key in keys {
            stmt.execute(params![key.job_id.as_str(), to_column(key.fire_time)])
                .map_err(sql_error)?;
        }
    }
    tx.commit().map_err(sql_error)
}

/// Moves the deadline of the listed entries `owner` still holds.
pub(crate) fn renew_hand_offs(
    conn: &mut Connection,
    owner: &str,
    keys: &[HandOffKey],
    deadline: DateTime<Utc>,
) -> Result<()> {
    let tx = immediate(conn)?;
    {
        let mut stmt = tx
            .prepare_cached(
                "UPDATE chime_hand_offs SET deadline = ?1
                 WHERE job_id = ?2 AND fire_time = ?3 AND owner = ?4",
            )
            .map_err(sql_error)?;
        for key in keys {
            stmt.execute(params![
                to_column(deadline),
                key.job_id.as_str(),
                to_column(key.fire_time),
                owner
            ])
            .map_err(sql_error)?;
        }
    }
    tx.commit().map_err(sql_error)
}

/// Claims stale entries for `owner` in one transaction.
pub(crate) fn claim_stale_hand_offs(
    conn: &mut Connection,
    owner: &str,
    now: DateTime<Utc>,
    limit: usize,
    lease: Duration,
) -> Result<Vec<HandOff>> {
    let deadline = TimeDelta::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(now);
    let tx = immediate(conn)?;
    let rows: Vec<(String, i64, String, i64, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT job_id, fire_time, owner, deadline, record FROM chime_hand_offs
                 WHERE deadline < ?1 ORDER BY deadline LIMIT ?2",
            )
            .map_err(sql_error)?;
        let rows = stmt
            .query_map(
                params![to_column(now), i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .map_err(sql_error)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql_error)?
    };
    let mut claimed = Vec::with_capacity(rows.len());
    {
        let mut update = tx
            .prepare_cached(
                "UPDATE chime_hand_offs SET owner = ?1, deadline = ?2
                 WHERE job_id = ?3 AND fire_time = ?4",
            )
            .map_err(sql_error)?;
        for (job_id, fire_column, previous_owner, deadline_column, record) in rows {
            update
                .execute(params![owner, to_column(deadline), job_id, fire_column])
                .map_err(sql_error)?;
            claimed.push(entry_from_row(
                job_id,
                fire_column,
                previous_owner,
                deadline_column,
                &record,
            ));
        }
    }
    tx.commit().map_err(sql_error)?;
    Ok(claimed)
}

/// An entry from its row; an unreadable record still reports its fire.
fn entry_from_row(
    job_id: String,
    fire_column: i64,
    owner: String,
    deadline_column: i64,
    record: &str,
) -> HandOff {
    let fire_time = from_column(fire_column).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let deadline = from_column(deadline_column).unwrap_or(fire_time);
    match HandOff::from_record(record) {
        Some(mut entry) => {
            // The row's key wins over the record's: finishing the entry
            // must find this row.
            if entry.job_id != job_id || to_column(entry.fire_time) != fire_column {
                entry.job_id = job_id.into();
                entry.fire_time = fire_time;
            }
            entry.owner = owner;
            entry.deadline = deadline;
            entry
        }
        None => HandOff::unreadable(job_id, fire_time, owner, deadline),
    }
}
