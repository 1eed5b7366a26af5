//! The record of alert deliveries: which rule fired when, where it was sent, how many tries it
//! took and how it ended. Pending deliveries survive a restart, so the binary can resume them.
//!
//! A target is the webhook's configured name, never its URL: webhook URLs carry their token
//! (Slack's and Teams' do), and the archive is meant to be shared with support.

use jiff::Timestamp;
use nodemend_core::alert::Firing;
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::Value;

use crate::archive::Archive;
use crate::error::Result;
use crate::sql::{micros, timestamp};
use crate::webhook::WebhookFormat;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryStatus {
    /// Not delivered yet; more tries to come.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Every try failed.
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One firing sent (or to be sent) to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The rule that fired.
    pub rule: String,
    /// The group that fired (node, object), if the rule counts per group.
    pub group: Option<String>,
    /// When it fired.
    pub fired_at: Timestamp,
    /// The webhook's configured name (not its URL).
    pub target: String,
    /// The body's shape.
    pub format: WebhookFormat,
    /// The body, kept so a pending delivery can be resumed after a restart.
    pub payload: Value,
    /// Tries made so far.
    pub attempts: u32,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// The last failure (HTTP status or connection error), if any.
    pub last_error: Option<String>,
    /// When this record last changed.
    pub updated: Timestamp,
}

impl Delivery {
    /// A delivery of `firing` to `target`, not tried yet.
    pub fn pending(firing: &Firing, target: &str, format: WebhookFormat, payload: Value) -> Self {
        Self {
            rule: firing.rule.clone(),
            group: firing.group.clone(),
            fired_at: firing.at,
            target: target.to_owned(),
            format,
            payload,
            attempts: 0,
            status: DeliveryStatus::Pending,
            last_error: None,
            updated: firing.at,
        }
    }
}

fn parse_format(text: &str) -> WebhookFormat {
    match text {
        "slack" => WebhookFormat::Slack,
        "teams" => WebhookFormat::Teams,
        _ => WebhookFormat::Json,
    }
}

const COLUMNS: &str =
    "rule, grp, fired_at, target, format, payload, attempts, status, last_error, updated";

fn delivery(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let group: String = row.get(1)?;
    let payload: String = row.get(5)?;
    let status: String = row.get(7)?;
    let format: String = row.get(4)?;
    Ok(Delivery {
        rule: row.get(0)?,
        group: (!group.is_empty()).then_some(group),
        fired_at: timestamp(row, 2)?,
        target: row.get(3)?,
        format: parse_format(&format),
        payload: serde_json::from_str(&payload).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?,
        attempts: row.get(6)?,
        status: DeliveryStatus::parse(&status),
        last_error: row.get(8)?,
        updated: timestamp(row, 9)?,
    })
}

impl Archive {
    /// Stores `delivery`, replacing the record of the same rule, group, firing time and
    /// target: call it when the firing is queued and after every try.
    pub fn record_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        let d = delivery;
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO deliveries ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (rule, grp, fired_at, target) DO UPDATE SET \
                 attempts = excluded.attempts, status = excluded.status, \
                 last_error = excluded.last_error, updated = excluded.updated"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    d.rule,
                    d.group.as_deref().unwrap_or_default(),
                    micros(d.fired_at),
                    d.target,
                    d.format.name(),
                    d.payload.to_string(),
                    d.attempts,
                    d.status.as_str(),
                    d.last_error,
                    micros(d.updated),
                ])
            })
            .map_err(|source| {
                self.write_error(format!("the delivery of alert {} to {}", d.rule, d.target), source)
            })?;
        tracing::debug!(rule = %d.rule, target = %d.target, attempts = d.attempts, status = d.status.as_str(), "alert delivery recorded");
        Ok(())
    }

    /// Deliveries of rules that fired at or after `since`, newest first, at most `limit`.
    pub fn deliveries(&self, since: Timestamp, limit: usize) -> Result<Vec<Delivery>> {
        self.select_deliveries(
            &format!(
                "SELECT {COLUMNS} FROM deliveries WHERE fired_at >= ?1 \
                 ORDER BY fired_at DESC, id DESC LIMIT ?2"
            ),
            micros(since),
            limit,
        )
        .map_err(|source| self.read_error("alert deliveries", source))
    }

    /// Deliveries still pending, oldest first, at most `limit`: what to resume after a restart.
    pub fn pending_deliveries(&self, limit: usize) -> Result<Vec<Delivery>> {
        self.select_deliveries(
            &format!(
                "SELECT {COLUMNS} FROM deliveries WHERE status = 'pending' AND fired_at >= ?1 \
                 ORDER BY fired_at, id LIMIT ?2"
            ),
            i64::MIN,
            limit,
        )
        .map_err(|source| self.read_error("pending alert deliveries", source))
    }

    fn select_deliveries(
        &self,
        sql: &str,
        since: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<Delivery>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(sql)?;
        stmt.query_map(params![since, limit], delivery)?.collect()
    }
}
