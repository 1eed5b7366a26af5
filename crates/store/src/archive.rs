//! The archive file: opening it (creating or migrating it) and ingesting events.
//!
//! Every call blocks on SQLite. An [`Archive`] is one connection: the controller keeps it on a
//! dedicated thread (or behind a mutex used from `tokio::task::spawn_blocking`) and feeds it
//! batches; readers such as `nodemend events` open their own, which WAL mode lets run beside
//! the writer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::event::{ArchivedEvent, IngestStats, Ingested};
use crate::schema;
use crate::sql::micros;

/// How long a call waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open event archive.
pub struct Archive {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Opens `path` for reading and writing, creating it if missing and migrating it to the
    /// latest schema. A file that is not an archive, or is newer than this build, is refused
    /// untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let open = |source| Error::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        let from = schema::migrate(&mut conn, &path)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(open)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(open)?;
        tracing::info!(
            path = %path.display(),
            from_version = from,
            version = schema::latest_version(),
            "event archive opened"
        );
        Ok(Self { conn, path })
    }

    /// Opens an existing archive for queries only. It must already be at the latest schema.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let open = |source| Error::Open {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        schema::check_current(&conn, &path)?;
        Ok(Self { conn, path })
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| self.read_error("the schema version", source))
    }

    pub(crate) fn read_error(&self, what: &'static str, source: rusqlite::Error) -> Error {
        Error::Read {
            what,
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn write_error(&self, what: impl Into<String>, source: rusqlite::Error) -> Error {
        Error::Write {
            what: what.into(),
            path: self.path.clone(),
            source,
        }
    }

    /// Stores a batch of events in one transaction: a new UID is inserted; a known one is
    /// updated only when its count, series count or last time grew (an aggregated event that
    /// happened again); anything else is a repeated delivery and changes nothing. Returns what
    /// happened to each event, in order.
    pub fn ingest(&mut self, events: &[ArchivedEvent]) -> Result<Vec<Ingested>> {
        let results = ingest_batch(&mut self.conn, events)
            .map_err(|source| self.write_error("events", source))?;
        let stats = IngestStats::of(&results);
        tracing::debug!(
            path = %self.path.display(),
            inserted = stats.inserted,
            updated = stats.updated,
            unchanged = stats.unchanged,
            "events archived"
        );
        Ok(results)
    }

    /// The newest position of the change feed: start [`Archive::follow`] here to see only
    /// what arrives from now on.
    pub fn latest_seq(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT last_seq FROM feed WHERE id = 1", [], |r| r.get(0))
            .map_err(|source| self.read_error("the change feed position", source))
    }
}

const INSERT_EVENT: &str = "INSERT INTO events (uid, seq, namespace, name, object_kind, \
     object_name, object_namespace, node, type, reason, message, source, first_seen, last_seen, \
     count, series_count, resource_version) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
     ON CONFLICT (uid) DO NOTHING";

const UPDATE_EVENT: &str = "UPDATE events SET seq = ?2, count = ?3, series_count = ?4, \
     last_seen = ?5, message = ?6, resource_version = ?7, node = coalesce(?8, node) \
     WHERE uid = ?1";

fn ingest_batch(
    conn: &mut Connection,
    events: &[ArchivedEvent],
) -> rusqlite::Result<Vec<Ingested>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut seq: i64 = tx.query_row("SELECT last_seq FROM feed WHERE id = 1", [], |r| r.get(0))?;
    let mut results = Vec::with_capacity(events.len());
    {
        let mut insert = tx.prepare_cached(INSERT_EVENT)?;
        let mut known =
            tx.prepare_cached("SELECT count, series_count, last_seen FROM events WHERE uid = ?1")?;
        let mut update = tx.prepare_cached(UPDATE_EVENT)?;
        for e in events {
            let inserted = insert.execute(params![
                e.uid,
                seq + 1,
                e.namespace,
                e.name,
                e.object_kind,
                e.object_name,
                e.object_namespace,
                e.node,
                e.event_type,
                e.reason,
                e.message,
                e.source,
                micros(e.first_seen),
                micros(e.last_seen),
                e.count,
                e.series_count,
                e.resource_version,
            ])?;
            if inserted == 1 {
                seq += 1;
                results.push(Ingested::Inserted);
                continue;
            }
            let stored: Option<(u32, Option<u32>, i64)> = known
                .query_row([&e.uid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((count, series, last)) = stored else {
                results.push(Ingested::Unchanged);
                continue;
            };
            let grew = e.count > count
                || e.series_count.unwrap_or(0) > series.unwrap_or(0)
                || micros(e.last_seen) > last;
            if !grew {
                results.push(Ingested::Unchanged);
                continue;
            }
            seq += 1;
            update.execute(params![
                e.uid,
                seq,
                e.count.max(count),
                e.series_count.max(series),
                micros(e.last_seen).max(last),
                e.message,
                e.resource_version,
                e.node,
            ])?;
            let previous = count.max(series.unwrap_or(0)).max(1);
            results.push(Ingested::Updated { previous });
        }
    }
    tx.execute("UPDATE feed SET last_seq = ?1 WHERE id = 1", [seq])?;
    tx.commit()?;
    Ok(results)
}
