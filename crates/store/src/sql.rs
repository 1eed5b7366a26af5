//! How values are stored: times as integer microseconds since the Unix epoch (Kubernetes'
//! finest precision is `MicroTime`), so they compare and index as plain integers.

use jiff::Timestamp;
use rusqlite::Row;
use rusqlite::types::Type;

/// `t` as stored.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// Reads the time stored in column `idx`.
pub(crate) fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let us: i64 = row.get(idx)?;
    Timestamp::from_microsecond(us)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

/// Reads the optional time stored in column `idx`.
pub(crate) fn opt_timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    let us: Option<i64> = row.get(idx)?;
    us.map(|us| {
        Timestamp::from_microsecond(us)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
    })
    .transpose()
}
