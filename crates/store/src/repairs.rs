//! nodemend's repair records in the archive: the NodeRepair resources live in the cluster only
//! while they matter; the archive keeps their history (every step, its outcome and error code)
//! for `nodemend repairs` and the per-pool summary.

use jiff::Timestamp;
use nodemend_core::repair::{Repair, StepOutcome, StepRecord};
use rusqlite::{Row, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::sql::{micros, opt_timestamp, timestamp};

/// One archived repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRepair {
    /// The node.
    pub node: String,
    /// Its agent pool.
    pub pool: Option<String>,
    /// When the repair started (with the node, the record's key).
    pub started: Timestamp,
    /// Its phase as `kubectl get noderepairs` shows it (`Verifying`, `Succeeded`, `GaveUp`...).
    pub phase: String,
    /// When it ended, once it has.
    pub finished: Option<Timestamp>,
    /// Which try of the ladder it is on.
    pub attempt: u32,
    /// The last error code from the cloud.
    pub last_error: Option<String>,
    /// Every finished step, in order.
    pub steps: Vec<StoredStep>,
}

/// One finished step of an archived repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredStep {
    /// `reboot`, `reimage` or `redeploy`.
    pub action: String,
    /// Which try of the ladder.
    pub attempt: u32,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Timestamp,
    /// `Recovered`, `Failed`, `NotRecovered` or `DrainBlocked`.
    pub outcome: String,
    /// The cloud's error code, for a failed step.
    pub error_code: Option<String>,
}

/// Which repairs to return. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairFilter {
    /// The node.
    pub node: Option<String>,
    /// Started at or after this time.
    pub since: Option<Timestamp>,
}

fn outcome(o: &StepOutcome) -> (&'static str, Option<&str>) {
    match o {
        StepOutcome::Recovered => ("Recovered", None),
        StepOutcome::Failed { code } => ("Failed", Some(code)),
        StepOutcome::NotRecovered => ("NotRecovered", None),
        StepOutcome::DrainBlocked => ("DrainBlocked", None),
    }
}

const UPSERT_REPAIR: &str = "INSERT INTO repairs \
     (node, started, pool, phase, finished, attempt, last_error, record, updated) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
     ON CONFLICT (node, started) DO UPDATE SET pool = excluded.pool, phase = excluded.phase, \
     finished = excluded.finished, attempt = excluded.attempt, last_error = excluded.last_error, \
     record = excluded.record, updated = excluded.updated \
     RETURNING id";

fn upsert(
    tx: &Transaction<'_>,
    repair: &Repair,
    json: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let id: i64 = tx.prepare_cached(UPSERT_REPAIR)?.query_row(
        params![
            repair.node,
            micros(repair.started),
            repair.pool,
            repair.phase.name(),
            repair.finished_at().map(micros),
            repair.attempt,
            repair.last_error,
            json,
            micros(now),
        ],
        |r| r.get(0),
    )?;
    tx.prepare_cached("DELETE FROM repair_steps WHERE repair_id = ?1")?
        .execute([id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO repair_steps \
         (repair_id, position, action, attempt, started, finished, outcome, error_code) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (position, step) in repair.history.iter().enumerate() {
        let StepRecord {
            action,
            attempt,
            started,
            finished,
            outcome: how,
        } = step;
        let (name, code) = outcome(how);
        insert.execute(params![
            id,
            position,
            action.as_str(),
            attempt,
            micros(*started),
            micros(*finished),
            name,
            code,
        ])?;
    }
    Ok(())
}

fn stored_repair(row: &Row<'_>) -> rusqlite::Result<(i64, StoredRepair)> {
    Ok((
        row.get(0)?,
        StoredRepair {
            node: row.get(1)?,
            pool: row.get(2)?,
            started: timestamp(row, 3)?,
            phase: row.get(4)?,
            finished: opt_timestamp(row, 5)?,
            attempt: row.get(6)?,
            last_error: row.get(7)?,
            steps: Vec::new(),
        },
    ))
}

fn stored_step(row: &Row<'_>) -> rusqlite::Result<StoredStep> {
    Ok(StoredStep {
        action: row.get(0)?,
        attempt: row.get(1)?,
        started: timestamp(row, 2)?,
        finished: timestamp(row, 3)?,
        outcome: row.get(4)?,
        error_code: row.get(5)?,
    })
}

impl Archive {
    /// Stores `repair` (keyed by node and start time) with all its steps, replacing what an
    /// earlier call stored for the same repair. Call it whenever the controller persists the
    /// NodeRepair record. The full record is also kept as JSON.
    pub fn record_repair(&mut self, repair: &Repair, now: Timestamp) -> Result<()> {
        let json = serde_json::to_string(repair).map_err(|source| Error::EncodeRepair {
            node: repair.node.clone(),
            source,
        })?;
        let write = |conn: &mut rusqlite::Connection| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            upsert(&tx, repair, &json, now)?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|source| {
            self.write_error(format!("the repair of node {}", repair.node), source)
        })?;
        tracing::debug!(node = %repair.node, phase = repair.phase.name(), "repair archived");
        Ok(())
    }

    /// Repairs matching `filter`, newest start first, at most `limit`, each with its steps.
    pub fn repairs(&self, filter: &RepairFilter, limit: usize) -> Result<Vec<StoredRepair>> {
        self.select_repairs(filter, limit)
            .map_err(|source| self.read_error("repairs", source))
    }

    fn select_repairs(
        &self,
        filter: &RepairFilter,
        limit: usize,
    ) -> rusqlite::Result<Vec<StoredRepair>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, node, pool, started, phase, finished, attempt, last_error FROM repairs \
             WHERE (?1 IS NULL OR node = ?1) AND started >= ?2 \
             ORDER BY started DESC, id DESC LIMIT ?3",
        )?;
        let since = filter.since.map_or(i64::MIN, micros);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![filter.node, since, limit], stored_repair)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut steps = self.conn.prepare_cached(
            "SELECT action, attempt, started, finished, outcome, error_code FROM repair_steps \
             WHERE repair_id = ?1 ORDER BY position",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, mut repair) in rows {
            repair.steps = steps
                .query_map([id], stored_step)?
                .collect::<rusqlite::Result<_>>()?;
            out.push(repair);
        }
        Ok(out)
    }
}
