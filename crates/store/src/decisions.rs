//! nodemend's planner decisions in the archive: why a node was not repaired (skips) and where
//! the safety limits held every repair (holds).
//!
//! The planner decides again on every pass, so storing every decision would repeat the same
//! row thousands of times. The archive keeps the current state per subject and writes a row
//! only when it changes: a new skip or hold, a different reason, or `clear` when it ends.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use nodemend_core::planner::{Decision, Scope};
use rusqlite::{Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::archive::Archive;
use crate::error::Result;
use crate::sql::{micros, timestamp};

/// The `kind` of the row written when a skip or hold ends.
pub const CLEARED: &str = "clear";

/// One archived decision (a change of state of its subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDecision {
    /// When the planner decided it.
    pub at: Timestamp,
    /// What it is about: `node/<name>`, `pool/<name>` or `cluster`.
    pub subject: String,
    /// `start`, `skip`, `hold` or [`CLEARED`].
    pub kind: String,
    /// A short machine-readable reason (`opted-out`, `max-unhealthy`...).
    pub reason: String,
    /// The reason in words.
    pub detail: String,
}

struct Row {
    subject: String,
    kind: &'static str,
    reason: String,
    detail: String,
}

fn row(decision: &Decision) -> Row {
    match decision {
        Decision::Start { node, symptoms, .. } => Row {
            subject: format!("node/{node}"),
            kind: "start",
            reason: "unhealthy".into(),
            detail: symptoms
                .iter()
                .map(|s| s.describe())
                .collect::<Vec<_>>()
                .join("; "),
        },
        Decision::Skip { node, reason } => Row {
            subject: format!("node/{node}"),
            kind: "skip",
            reason: reason.name().into(),
            detail: reason.to_string(),
        },
        Decision::Hold {
            scope,
            unhealthy,
            total,
            limit,
        } => Row {
            subject: match scope {
                Scope::Cluster => "cluster".into(),
                Scope::Pool(pool) => format!("pool/{pool}"),
            },
            kind: "hold",
            reason: "max-unhealthy".into(),
            detail: format!(
                "{unhealthy} of {total} nodes unhealthy, more than maxUnhealthy {limit}"
            ),
        },
    }
}

fn insert(tx: &Transaction<'_>, at: i64, r: &Row) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO decisions (at, subject, kind, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at, r.subject, r.kind, r.reason, r.detail])?;
    Ok(())
}

fn record(tx: &Transaction<'_>, now: Timestamp, decisions: &[Decision]) -> rusqlite::Result<usize> {
    let at = micros(now);
    let mut state: BTreeMap<String, (String, String)> = BTreeMap::new();
    {
        let mut stmt = tx.prepare_cached("SELECT subject, kind, reason FROM decision_state")?;
        for r in stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))? {
            let (subject, held) = r?;
            state.insert(subject, held);
        }
    }
    let mut written = 0;
    let mut seen = BTreeSet::new();
    for r in decisions.iter().map(row) {
        let current = (r.kind.to_owned(), r.reason.clone());
        if r.kind == "start" {
            insert(tx, at, &r)?;
            written += 1;
            state.remove(&r.subject);
            tx.prepare_cached("DELETE FROM decision_state WHERE subject = ?1")?
                .execute([&r.subject])?;
        } else if state.get(&r.subject) != Some(&current) {
            insert(tx, at, &r)?;
            written += 1;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO decision_state (subject, kind, reason, since) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![r.subject, r.kind, r.reason, at])?;
        }
        seen.insert(r.subject);
    }
    for subject in state.keys().filter(|s| !seen.contains(*s)) {
        let cleared = Row {
            subject: subject.clone(),
            kind: CLEARED,
            reason: "resolved".into(),
            detail: "no longer skipped or held".into(),
        };
        insert(tx, at, &cleared)?;
        written += 1;
        tx.prepare_cached("DELETE FROM decision_state WHERE subject = ?1")?
            .execute([subject])?;
    }
    Ok(written)
}

impl Archive {
    /// Records the planner's decisions of one pass at `now`. `decisions` is the whole current
    /// set (a pass's `Plan::decisions`): a skip or hold that is no longer in it is recorded as
    /// cleared. Returns how many rows were written (0 when nothing changed).
    pub fn record_decisions(&mut self, now: Timestamp, decisions: &[Decision]) -> Result<usize> {
        let write = |conn: &mut rusqlite::Connection| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let written = record(&tx, now, decisions)?;
            tx.commit()?;
            Ok(written)
        };
        let written =
            write(&mut self.conn).map_err(|source| self.write_error("decisions", source))?;
        if written > 0 {
            tracing::debug!(rows = written, "decisions archived");
        }
        Ok(written)
    }

    /// Decision changes at or after `since`, newest first, at most `limit`.
    pub fn decisions(&self, since: Timestamp, limit: usize) -> Result<Vec<StoredDecision>> {
        let select = || -> rusqlite::Result<Vec<StoredDecision>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT at, subject, kind, reason, detail FROM decisions WHERE at >= ?1 \
                 ORDER BY at DESC, id DESC LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            stmt.query_map(params![micros(since), limit], |r| {
                Ok(StoredDecision {
                    at: timestamp(r, 0)?,
                    subject: r.get(1)?,
                    kind: r.get(2)?,
                    reason: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?
            .collect()
        };
        select().map_err(|source| self.read_error("decisions", source))
    }
}
