//! Reading events back: the filters of `nodemend events`, newest first, and the change feed
//! behind `--follow`.

use jiff::Timestamp;
use rusqlite::Row;
use rusqlite::types::Value;

use crate::archive::Archive;
use crate::error::Result;
use crate::event::{ArchivedEvent, StoredEvent};
use crate::sql::{micros, timestamp};

/// Which events to return. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Any of these reasons (exact match).
    pub reasons: Vec<String>,
    /// `Normal` or `Warning` (exact match).
    pub event_type: Option<String>,
    /// The node concerned.
    pub node: Option<String>,
    /// The event's namespace.
    pub namespace: Option<String>,
    /// Last seen at or after this time.
    pub since: Option<Timestamp>,
    /// Last seen strictly before this time.
    pub until: Option<Timestamp>,
    /// Text in the message or the reason (case-insensitive for ASCII).
    pub grep: Option<String>,
}

const COLUMNS: &str = "seq, uid, namespace, name, object_kind, object_name, object_namespace, \
     node, type, reason, message, source, first_seen, last_seen, count, series_count, \
     resource_version";

impl EventFilter {
    /// The `WHERE` conditions and their parameters.
    fn conditions(&self) -> (Vec<String>, Vec<Value>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if !self.reasons.is_empty() {
            let marks = vec!["?"; self.reasons.len()].join(", ");
            clauses.push(format!("reason IN ({marks})"));
            params.extend(self.reasons.iter().cloned().map(Value::Text));
        }
        let exact = [
            ("type", &self.event_type),
            ("node", &self.node),
            ("namespace", &self.namespace),
        ];
        for (column, value) in exact {
            if let Some(value) = value {
                clauses.push(format!("{column} = ?"));
                params.push(Value::Text(value.clone()));
            }
        }
        if let Some(since) = self.since {
            clauses.push("last_seen >= ?".into());
            params.push(Value::Integer(micros(since)));
        }
        if let Some(until) = self.until {
            clauses.push("last_seen < ?".into());
            params.push(Value::Integer(micros(until)));
        }
        if let Some(text) = &self.grep {
            let pattern = format!("%{}%", escape_like(text));
            clauses.push(r"(message LIKE ? ESCAPE '\' OR reason LIKE ? ESCAPE '\')".into());
            params.push(Value::Text(pattern.clone()));
            params.push(Value::Text(pattern));
        }
        (clauses, params)
    }
}

/// Escapes LIKE's wildcards so `grep` matches text literally.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn where_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    }
}

fn stored_event(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.get(0)?,
        event: ArchivedEvent {
            uid: row.get(1)?,
            namespace: row.get(2)?,
            name: row.get(3)?,
            object_kind: row.get(4)?,
            object_name: row.get(5)?,
            object_namespace: row.get(6)?,
            node: row.get(7)?,
            event_type: row.get(8)?,
            reason: row.get(9)?,
            message: row.get(10)?,
            source: row.get(11)?,
            first_seen: timestamp(row, 12)?,
            last_seen: timestamp(row, 13)?,
            count: row.get(14)?,
            series_count: row.get(15)?,
            resource_version: row.get(16)?,
        },
    })
}

impl Archive {
    /// Events matching `filter`, newest (by last time seen) first, at most `limit`.
    pub fn events(&self, filter: &EventFilter, limit: usize) -> Result<Vec<StoredEvent>> {
        let (clauses, mut params) = filter.conditions();
        params.push(Value::Integer(limit_param(limit)));
        let sql = format!(
            "SELECT {COLUMNS} FROM events {} ORDER BY last_seen DESC, id DESC LIMIT ?",
            where_clause(&clauses)
        );
        self.select(&sql, params)
            .map_err(|source| self.read_error("events", source))
    }

    /// Events matching `filter` that were inserted or updated after feed position `cursor`,
    /// oldest change first, at most `limit`. Pass the last returned `seq` as the next cursor
    /// (start from [`Archive::latest_seq`] to skip the past). An event whose count grows
    /// comes back again with its new count.
    pub fn follow(
        &self,
        filter: &EventFilter,
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let (sql, params) = follow_sql(filter, cursor, limit);
        self.select(&sql, params)
            .map_err(|source| self.read_error("new events", source))
    }

    fn select(&self, sql: &str, params: Vec<Value>) -> rusqlite::Result<Vec<StoredEvent>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), stored_event)?;
        rows.collect()
    }
}

/// The follow query. It always walks the `seq` index: only the few rows past the cursor are
/// read, even when a reason index would match millions of older events.
fn follow_sql(filter: &EventFilter, cursor: i64, limit: usize) -> (String, Vec<Value>) {
    let (mut clauses, mut params) = filter.conditions();
    clauses.insert(0, "seq > ?".into());
    params.insert(0, Value::Integer(cursor));
    params.push(Value::Integer(limit_param(limit)));
    let sql = format!(
        "SELECT {COLUMNS} FROM events INDEXED BY events_by_seq {} ORDER BY seq LIMIT ?",
        where_clause(&clauses)
    );
    (sql, params)
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
