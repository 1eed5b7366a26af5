//! Retention: rows older than the window (90 days by default, as AKS's guidance for events)
//! are deleted in chunks, each call of [`Archive::prune_chunk`] its own short transaction, so
//! ingestion between chunks never waits for more than one.
//!
//! "Older than the window" is strict: with `now` and a window `w`, a row whose time is exactly
//! `now - w` is kept; one a microsecond earlier is pruned. The time of an event is when it was
//! last seen; of a repair, when it finished (repairs still going on are never pruned); of a
//! decision, when it was made; of an alert delivery, when its rule fired. The UIDs remembered
//! for deduplication have their own, shorter window (`remember_uids`): pruning forgets, in the
//! writer's memory, those of events last seen before it, and records that cutoff in the file
//! (`feed.uids_since`) so that the next open remembers the same UIDs.

use jiff::{SignedDuration, Timestamp};
use rusqlite::TransactionBehavior;
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
    /// twice. Longer costs the writer's memory: 100 to 160 bytes per event seen in the window.
    pub remember_uids: SignedDuration,
    /// Rows deleted per table per transaction (default 10,000). Every chunk rewrites the
    /// oldest pages of each index, so larger chunks cost less per row; 10,000 events take a
    /// fraction of a second.
    pub chunk: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_hours(90 * 24),
            remember_uids: SignedDuration::from_hours(6),
            chunk: 10_000,
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
    /// Deletes at most one chunk of old rows from each table, in one transaction, and forgets
    /// the UIDs of events last seen before `remember_uids` (all at once: they are in memory).
    /// The controller calls it between ingestion batches; [`Archive::prune`] loops over it.
    pub fn prune_chunk(&mut self, now: Timestamp, retention: Retention) -> Result<Pruned> {
        let archive_cutoff = cutoff(now, retention.window);
        // Also forget the UIDs of rows this deletes, when the archive's window is the shorter.
        let uid_cutoff = archive_cutoff.max(cutoff(now, retention.remember_uids));
        let path = &self.path;
        let failed = |table| {
            move |source| Error::Prune {
                table,
                path: path.clone(),
                source,
            }
        };
        let mut pruned = Pruned::default();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed("events"))?;
        for (table, column, counter) in TABLES {
            // `finished < ?` is false for NULL, so active repairs stay.
            let sql = format!(
                "DELETE FROM {table} WHERE rowid IN \
                 (SELECT rowid FROM {table} WHERE {column} < ?1 ORDER BY {column} LIMIT ?2)"
            );
            let deleted = tx
                .prepare_cached(&sql)
                .and_then(|mut stmt| stmt.execute((archive_cutoff, retention.chunk)))
                .map_err(failed(table))?;
            *counter(&mut pruned) = deleted as u64;
        }
        // Recorded for the next open, which remembers the events last seen since then.
        if uid_cutoff > self.recent.since() {
            tx.execute("UPDATE feed SET uids_since = ?1 WHERE id = 1", [uid_cutoff])
                .map_err(failed("feed"))?;
        }
        tx.commit().map_err(failed("events"))?;
        pruned.uids = self.recent.forget_before(uid_cutoff);
        Ok(pruned)
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
