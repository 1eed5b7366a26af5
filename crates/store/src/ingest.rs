//! Storing events: each event object once, updated in place when an aggregated event grows.
//!
//! Deduplication looks UIDs up in the writer's memory ([`crate::recent`]), which remembers the
//! UIDs of events last seen within [`crate::Retention::remember_uids`] (6 hours by default). The
//! API server keeps an event only for its TTL (an hour by default) after its last change, so
//! nothing older can be delivered again. Neither a unique index over every UID ever seen (a
//! random write into a large B-tree per insert) nor a table of the recent ones (two more B-tree
//! writes per event, and their pruning) is needed.

use std::collections::HashMap;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::archive::Archive;
use crate::error::Result;
use crate::event::{ArchivedEvent, IngestStats, Ingested};
use crate::recent::{Known, RecentUids};
use crate::sql::micros;

const INSERT: &str = "INSERT INTO events (uid, seq, namespace, name, object_kind, \
     object_name, object_namespace, node, type, reason, message, source, first_seen, last_seen, \
     count, series_count, resource_version) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

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
        let (results, changed) = ingest_batch(&mut self.conn, &self.recent, events)
            .map_err(|source| self.write_error("events", source))?;
        // Only what a committed transaction wrote is remembered.
        for (uid, known) in changed {
            self.recent.remember(uid, known);
        }
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

/// What a batch did, and the UIDs it inserted or updated with what to remember of them.
type Batch<'a> = (Vec<Ingested>, HashMap<&'a str, Known>);

fn ingest_batch<'a>(
    conn: &mut Connection,
    recent: &RecentUids,
    events: &'a [ArchivedEvent],
) -> rusqlite::Result<Batch<'a>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut seq: i64 = tx.query_row("SELECT last_seq FROM feed WHERE id = 1", [], |r| r.get(0))?;
    let mut results = Vec::with_capacity(events.len());
    // This batch's changes: a UID may come twice in one batch.
    let mut changed: HashMap<&str, Known> = HashMap::new();
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        let mut update = tx.prepare_cached(UPDATE)?;
        for e in events {
            let last_seen = micros(e.last_seen);
            let known = changed
                .get(e.uid.as_str())
                .copied()
                .or_else(|| recent.get(&e.uid));
            let Some(Known {
                id,
                count,
                series,
                last_seen: last,
            }) = known
            else {
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
                let entry = Known {
                    id: tx.last_insert_rowid(),
                    count: e.count,
                    series: e.series_count,
                    last_seen,
                };
                changed.insert(&e.uid, entry);
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
            let entry = Known {
                id,
                count: e.count.max(count),
                series: e.series_count.max(series),
                last_seen: last_seen.max(last),
            };
            update.execute(params![
                id,
                seq,
                entry.count,
                entry.series,
                entry.last_seen,
                e.message,
                e.resource_version,
                e.node,
            ])?;
            changed.insert(&e.uid, entry);
            let previous = count.max(series.unwrap_or(0)).max(1);
            results.push(Ingested::Updated { previous });
        }
    }
    tx.execute("UPDATE feed SET last_seq = ?1 WHERE id = 1", [seq])?;
    tx.commit()?;
    Ok((results, changed))
}
