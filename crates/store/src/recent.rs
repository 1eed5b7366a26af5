//! The UIDs the writer remembers for deduplication, in memory.
//!
//! Each entry maps an event's UID to its row and the counters that decide whether a delivery
//! changes it. The writer loads them when it opens the file (the events last seen since
//! `feed.uids_since`, through `events_by_time`), keeps them up to date as it ingests, and
//! forgets those last seen before the retention cutoff when it prunes, recording that cutoff in
//! `feed.uids_since` so that a restart remembers exactly what the previous process did.
//!
//! This is only correct with one writer per archive file: another writer's inserts would not
//! be seen here. A read-only open loads nothing.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

/// What the archive knows of an event it remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Known {
    /// The event's row.
    pub(crate) id: i64,
    /// Its stored `count`.
    pub(crate) count: u32,
    /// Its stored `series_count`.
    pub(crate) series: Option<u32>,
    /// Its stored `last_seen`, in microseconds.
    pub(crate) last_seen: i64,
}

/// The remembered UIDs.
#[derive(Debug)]
pub(crate) struct RecentUids {
    known: HashMap<Box<str>, Known>,
    /// No entry was last seen before this (a lower bound; `i64::MIN` when unknown), so a cutoff
    /// at or below it has nothing to forget.
    oldest: i64,
    /// Events last seen before this are forgotten, as recorded in `feed.uids_since`.
    since: i64,
}

/// The events to remember at open.
const LOAD: &str = "SELECT uid, id, count, series_count, last_seen FROM events \
     INDEXED BY events_by_time WHERE last_seen >= ?1 ORDER BY last_seen, id";

impl RecentUids {
    /// Nothing remembered: a read-only open's.
    pub(crate) fn empty() -> Self {
        Self {
            known: HashMap::new(),
            oldest: i64::MAX,
            since: i64::MIN,
        }
    }

    /// Loads the UIDs of the events last seen since the cutoff recorded by the last prune
    /// (all of them if the archive was never pruned). A UID stored twice (delivered again after
    /// it was forgotten) maps to its newest row.
    pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let since: Option<i64> = conn
            .query_row("SELECT uids_since FROM feed WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .flatten();
        let since = since.unwrap_or(i64::MIN);
        let mut known = HashMap::new();
        let mut oldest = i64::MAX;
        let mut stmt = conn.prepare(LOAD)?;
        let mut rows = stmt.query([since])?;
        while let Some(row) = rows.next()? {
            let uid: String = row.get(0)?;
            let entry = Known {
                id: row.get(1)?,
                count: row.get(2)?,
                series: row.get(3)?,
                last_seen: row.get(4)?,
            };
            oldest = oldest.min(entry.last_seen);
            known.insert(uid.into_boxed_str(), entry);
        }
        Ok(Self {
            known,
            oldest,
            since,
        })
    }

    /// What is remembered of `uid`.
    pub(crate) fn get(&self, uid: &str) -> Option<Known> {
        self.known.get(uid).copied()
    }

    /// Remembers (or updates) `uid`. Called only once the transaction that wrote it committed.
    pub(crate) fn remember(&mut self, uid: &str, entry: Known) {
        self.oldest = self.oldest.min(entry.last_seen);
        match self.known.get_mut(uid) {
            Some(known) => *known = entry,
            None => {
                self.known.insert(uid.into(), entry);
            }
        }
    }

    /// How many UIDs are remembered.
    pub(crate) fn len(&self) -> usize {
        self.known.len()
    }

    /// The cutoff recorded in the file: events last seen before it are forgotten.
    pub(crate) fn since(&self) -> i64 {
        self.since
    }

    /// Forgets the UIDs of events last seen before `cutoff` and records the cutoff as the
    /// loading point of the next open (the caller writes it to `feed.uids_since`). Returns how
    /// many were forgotten.
    pub(crate) fn forget_before(&mut self, cutoff: i64) -> u64 {
        self.since = self.since.max(cutoff);
        if cutoff <= self.oldest {
            return 0;
        }
        let before = self.known.len();
        let mut oldest = i64::MAX;
        self.known.retain(|_, k| {
            let keep = k.last_seen >= cutoff;
            if keep {
                oldest = oldest.min(k.last_seen);
            }
            keep
        });
        self.oldest = oldest;
        (before - self.known.len()) as u64
    }
}
