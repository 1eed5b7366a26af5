//! Retention: rows older than the window (90 days by default, as AKS's guidance for events)
//! are deleted in small chunks, each its own short transaction, so a writer waiting for the
//! lock never waits for more than one chunk.
//!
//! "Older than the window" is strict: with `now` and a window `w`, a row whose time is exactly
//! `now - w` is kept; one a microsecond earlier is pruned. The time of an event is when it was
//! last seen; of a repair, when it finished (repairs still going on are never pruned); of a
//! decision, when it was made; of an alert delivery, when its rule fired. The UIDs remembered
//! for deduplication have their own, shorter window (`remember_uids`): pruning forgets, in the
//! writer's memory, those of events last seen before it, and records that cutoff in the file
//! (`feed.uids_since`) so that the next open remembers the same UIDs.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::sql::micros;

/// How long rows are kept and how many are deleted per transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Rows older than this are pruned.
    pub window: SignedDuration,
    /// How long the UID of an event is remembered after it was last seen, for deduplication:
    /// it must exceed the API server's event TTL (`--event-ttl`: an hour by default and on AKS,
    /// three hours on OpenShift), or an event delivered again after that long would be stored
    /// twice. Longer costs the writer's memory: about 100 bytes per event seen in the window.
    pub remember_uids: SignedDuration,
    /// Rows deleted per transaction.
    pub chunk: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_hours(90 * 24),
            remember_uids: SignedDuration::from_hours(6),
            chunk: 2_000,
        }
    }
}

/// Rows pruned, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Events.
    pub events: u64,
    /// Repairs (with their steps).
    pub repairs: u64,
    /// Decision changes.
    pub decisions: u64,
    /// Alert deliveries.
    pub deliveries: u64,
    /// Event UIDs forgotten by the writer (not archive rows: its in-memory deduplication
    /// set; the events themselves stay until the archive's window passes).
    pub uids: u64,
}

impl Pruned {
    /// All archive rows pruned (events, repairs, decisions, deliveries).
    pub fn total(&self) -> u64 {
        self.events + self.repairs + self.decisions + self.deliveries
    }

    fn add(&mut self, other: Self) {
        self.events += other.events;
        self.repairs += other.repairs;
        self.decisions += other.decisions;
        self.deliveries += other.deliveries;
        self.uids += other.uids;
    }
}

/// Where a table's count goes in [`Pruned`].
type Counter = fn(&mut Pruned) -> &mut u64;

/// Per table: its name, the column holding its time and its counter.
const TABLES: [(&str, &str, Counter); 4] = [
    ("events", "last_seen", |p| &mut p.events),
    ("repairs", "finished", |p| &mut p.repairs),
    ("decisions", "at", |p| &mut p.decisions),
    ("deliveries", "fired_at", |p| &mut p.deliveries),
];

/// `now - window` as stored; a window reaching before the earliest representable time keeps
/// everything.
fn cutoff(now: Timestamp, window: SignedDuration) -> i64 {
    micros(now.checked_sub(window).unwrap_or(Timestamp::MIN))
}

impl Archive {
    /// Deletes at most one chunk of old rows from each table, and forgets the UIDs of events
    /// last seen before `remember_uids` (all at once: they are in memory). The controller
    /// calls it between ingestion batches; [`Archive::prune`] loops over it.
    pub fn prune_chunk(&mut self, now: Timestamp, retention: Retention) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        let cutoff = cutoff(now, retention.window);
        for (table, column, counter) in TABLES {
            // `finished < ?` is false for NULL, so active repairs stay.
            let sql = format!(
                "DELETE FROM {table} WHERE rowid IN \
                 (SELECT rowid FROM {table} WHERE {column} < ?1 ORDER BY {column} LIMIT ?2)"
            );
            let deleted = self
                .conn
                .prepare_cached(&sql)
                .and_then(|mut stmt| stmt.execute((cutoff, retention.chunk)))
                .map_err(|source| Error::Prune {
                    table,
                    path: self.path.clone(),
                    source,
                })? as u64;
            *counter(&mut pruned) = deleted;
        }
        pruned.uids = self.forget_uids(cutoff.max(self::cutoff(now, retention.remember_uids)))?;
        Ok(pruned)
    }

    /// Forgets the UIDs of events last seen before `cutoff` (also those whose rows retention
    /// deletes, when the archive's window is the shorter), after recording the cutoff in the
    /// file for the next open.
    fn forget_uids(&mut self, cutoff: i64) -> Result<u64> {
        if cutoff > self.recent.since() {
            self.conn
                .prepare_cached("UPDATE feed SET uids_since = ?1 WHERE id = 1")
                .and_then(|mut stmt| stmt.execute([cutoff]))
                .map_err(|source| Error::Prune {
                    table: "feed.uids_since",
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok(self.recent.forget_before(cutoff))
    }

    /// Deletes every row older than the window, chunk by chunk, and says how many went.
    pub fn prune(&mut self, now: Timestamp, retention: Retention) -> Result<Pruned> {
        let mut total = Pruned::default();
        loop {
            let pruned = self.prune_chunk(now, retention)?;
            total.add(pruned);
            let full = u64::from(retention.chunk);
            // UIDs are forgotten all at once, not by chunks.
            let more = [
                pruned.events,
                pruned.repairs,
                pruned.decisions,
                pruned.deliveries,
            ]
            .iter()
            .any(|&n| n >= full && full > 0);
            if !more {
                break;
            }
        }
        if total.total() + total.uids > 0 {
            tracing::info!(
                path = %self.path.display(),
                events = total.events,
                repairs = total.repairs,
                decisions = total.decisions,
                deliveries = total.deliveries,
                uids = total.uids,
                window = %retention.window,
                "archive pruned"
            );
        }
        Ok(total)
    }
}
