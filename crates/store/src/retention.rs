//! Retention: rows older than the window (90 days by default, as AKS's guidance for events)
//! are deleted in small chunks, each its own short transaction, so a writer waiting for the
//! lock never waits for more than one chunk.
//!
//! "Older than the window" is strict: with `now` and a window `w`, a row whose time is exactly
//! `now - w` is kept; one a microsecond earlier is pruned. The time of an event is when it was
//! last seen; of a repair, when it finished (repairs still going on are never pruned); of a
//! decision, when it was made; of an alert delivery, when its rule fired. The UIDs remembered
//! for deduplication have their own, shorter window (`remember_uids`).

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
    /// twice. Longer costs ingestion speed: the table is written at random.
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
    /// Remembered event UIDs (not archive rows: the deduplication table).
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

/// Which window a table is pruned by.
#[derive(Clone, Copy)]
enum Window {
    Archive,
    Uids,
}

/// Per table: its name, its key, the column holding its time, its window and its counter.
const TABLES: [(&str, &str, &str, Window, Counter); 5] = [
    ("events", "rowid", "last_seen", Window::Archive, |p| {
        &mut p.events
    }),
    ("repairs", "rowid", "finished", Window::Archive, |p| {
        &mut p.repairs
    }),
    ("decisions", "rowid", "at", Window::Archive, |p| {
        &mut p.decisions
    }),
    ("deliveries", "rowid", "fired_at", Window::Archive, |p| {
        &mut p.deliveries
    }),
    ("recent_uids", "uid", "last_seen", Window::Uids, |p| {
        &mut p.uids
    }),
];

impl Archive {
    /// Deletes at most one chunk of old rows from each table. The controller calls it between
    /// ingestion batches; [`Archive::prune`] loops over it.
    pub fn prune_chunk(&mut self, now: Timestamp, retention: Retention) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        for (table, key, column, window, counter) in TABLES {
            let keep = match window {
                Window::Archive => retention.window,
                Window::Uids => retention.remember_uids,
            };
            // A window reaching before the earliest representable time keeps everything.
            let cutoff = micros(now.checked_sub(keep).unwrap_or(Timestamp::MIN));
            // `finished < ?` is false for NULL, so active repairs stay.
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN \
                 (SELECT {key} FROM {table} WHERE {column} < ?1 ORDER BY {column} LIMIT ?2)"
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
        Ok(pruned)
    }

    /// Deletes every row older than the window, chunk by chunk, and says how many went.
    pub fn prune(&mut self, now: Timestamp, retention: Retention) -> Result<Pruned> {
        let mut total = Pruned::default();
        loop {
            let pruned = self.prune_chunk(now, retention)?;
            total.add(pruned);
            let full = u64::from(retention.chunk);
            let more = [
                pruned.events,
                pruned.repairs,
                pruned.decisions,
                pruned.deliveries,
                pruned.uids,
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
