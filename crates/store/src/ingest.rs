//! Storing events: each event object once, updated in place when an aggregated event grows.
//!
//! Deduplication looks UIDs up in `recent_uids`, which remembers the UIDs of events last seen
//! within [`crate::Retention::remember_uids`] (6 hours by default). The API server keeps an event
//! only for its TTL (an hour by default) after its last change, so nothing older can be
//! delivered again; keeping the lookup table that small is what keeps ingestion fast in an
//! archive of millions of events (a unique index over every UID ever seen would turn each
//! insert into a random write in a large B-tree).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::archive::Archive;
use crate::error::Result;
use crate::event::{ArchivedEvent, IngestStats, Ingested};
use crate::sql::micros;

const FIND: &str = "SELECT e.id, e.count, e.series_count, e.last_seen \
     FROM recent_uids r JOIN events e ON e.id = r.event_id WHERE r.uid = ?1";

const INSERT: &str = "INSERT INTO events (uid, seq, namespace, name, object_kind, \
     object_name, object_namespace, node, type, reason, message, source, first_seen, last_seen, \
     count, series_count, resource_version) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

const REMEMBER: &str = "INSERT INTO recent_uids (uid, event_id, last_seen) VALUES (?1, ?2, ?3) \
     ON CONFLICT (uid) DO UPDATE SET event_id = excluded.event_id, \
     last_seen = max(last_seen, excluded.last_seen)";

const UPDATE: &str = "UPDATE events SET seq = ?2, count = ?3, series_count = ?4, \
     last_seen = ?5, message = ?6, resource_version = ?7, node = coalesce(?8, node) \
     WHERE id = ?1";

impl Archive {
    /// Stores a batch of events in one transaction: a new UID is inserted; a known one is
    /// updated only when its count, series count or last time grew (an aggregated event that
    /// happened again); anything else is a repeated delivery and changes nothing. Returns what
    /// happened to each event, in order. Larger batches are cheaper per event: a writer fed by
    /// watches should gather what arrived while the previous batch was being written.
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
}

fn ingest_batch(
    conn: &mut Connection,
    events: &[ArchivedEvent],
) -> rusqlite::Result<Vec<Ingested>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut seq: i64 = tx.query_row("SELECT last_seq FROM feed WHERE id = 1", [], |r| r.get(0))?;
    let mut results = Vec::with_capacity(events.len());
    {
        let mut find = tx.prepare_cached(FIND)?;
        let mut insert = tx.prepare_cached(INSERT)?;
        let mut remember = tx.prepare_cached(REMEMBER)?;
        let mut update = tx.prepare_cached(UPDATE)?;
        for e in events {
            let last_seen = micros(e.last_seen);
            let known: Option<(i64, u32, Option<u32>, i64)> = find
                .query_row([&e.uid], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((id, count, series, last)) = known else {
                seq += 1;
                insert.execute(params![
                    e.uid,
                    seq,
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
                    last_seen,
                    e.count,
                    e.series_count,
                    e.resource_version,
                ])?;
                remember.execute(params![e.uid, tx.last_insert_rowid(), last_seen])?;
                results.push(Ingested::Inserted);
                continue;
            };
            let grew = e.count > count
                || e.series_count.unwrap_or(0) > series.unwrap_or(0)
                || last_seen > last;
            if !grew {
                results.push(Ingested::Unchanged);
                continue;
            }
            seq += 1;
            update.execute(params![
                id,
                seq,
                e.count.max(count),
                e.series_count.max(series),
                last_seen.max(last),
                e.message,
                e.resource_version,
                e.node,
            ])?;
            remember.execute(params![e.uid, id, last_seen])?;
            let previous = count.max(series.unwrap_or(0)).max(1);
            results.push(Ingested::Updated { previous });
        }
    }
    tx.execute("UPDATE feed SET last_seq = ?1 WHERE id = 1", [seq])?;
    tx.commit()?;
    Ok(results)
}
