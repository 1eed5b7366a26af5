//! The per-pool summary of `nodemend repairs`: how many repairs, how many worked, and which
//! cloud error codes came up most.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::archive::Archive;
use crate::error::Result;
use crate::sql::micros;

/// How many error codes a summary lists per pool.
const TOP_CODES: usize = 3;

/// Repairs of one agent pool over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSummary {
    /// The pool (`""` for nodes without one).
    pub pool: String,
    /// Repairs started in the period.
    pub repairs: u64,
    /// Of those, how many ended with the node Ready again.
    pub succeeded: u64,
    /// How many gave up.
    pub gave_up: u64,
    /// How many stopped for another reason (node deleted, became Ready before any action).
    pub cancelled: u64,
    /// How many are still going on.
    pub active: u64,
    /// `succeeded / (succeeded + gave_up)`: cancelled and active repairs have no verdict.
    /// `None` when no repair has one.
    pub success_rate: Option<f64>,
    /// The most common error codes of failed steps, most frequent first, with their counts.
    pub top_error_codes: Vec<(String, u64)>,
}

impl Archive {
    /// Per-pool summary of the repairs started at or after `since`, by pool name.
    pub fn pool_summary(&self, since: Timestamp) -> Result<Vec<PoolSummary>> {
        self.select_summary(since)
            .map_err(|source| self.read_error("the repair summary", source))
    }

    fn select_summary(&self, since: Timestamp) -> rusqlite::Result<Vec<PoolSummary>> {
        let since = micros(since);
        let mut pools = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT coalesce(pool, ''), count(*), \
             sum(phase = 'Succeeded'), sum(phase = 'GaveUp'), sum(phase = 'Cancelled'), \
             sum(finished IS NULL) \
             FROM repairs WHERE started >= ?1 GROUP BY 1",
        )?;
        let rows = stmt.query_map([since], |r| {
            let succeeded: u64 = r.get(2)?;
            let gave_up: u64 = r.get(3)?;
            let judged = succeeded + gave_up;
            Ok(PoolSummary {
                pool: r.get(0)?,
                repairs: r.get(1)?,
                succeeded,
                gave_up,
                cancelled: r.get(4)?,
                active: r.get(5)?,
                success_rate: (judged > 0).then(|| succeeded as f64 / judged as f64),
                top_error_codes: Vec::new(),
            })
        })?;
        for row in rows {
            let summary = row?;
            pools.insert(summary.pool.clone(), summary);
        }
        let mut codes = self.conn.prepare_cached(
            "SELECT coalesce(r.pool, ''), s.error_code, count(*) \
             FROM repair_steps s JOIN repairs r ON r.id = s.repair_id \
             WHERE r.started >= ?1 AND s.error_code IS NOT NULL \
             GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2",
        )?;
        let rows = codes.query_map([since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        for row in rows {
            let (pool, code, count) = row?;
            if let Some(summary) = pools.get_mut(&pool)
                && summary.top_error_codes.len() < TOP_CODES
            {
                summary.top_error_codes.push((code, count));
            }
        }
        Ok(pools.into_values().collect())
    }
}
