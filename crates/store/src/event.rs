//! The archived form of a Kubernetes event: one shape for core/v1 and events.k8s.io/v1 events,
//! with only what queries and alerts read. The Kubernetes adapter fills it in
//! (`nodemend_kube::archive`); this crate never sees a Kubernetes type.

use jiff::Timestamp;
use nodemend_core::alert::AlertEvent;
use serde::{Deserialize, Serialize};

/// One Kubernetes event as the archive keeps it.
///
/// Both event APIs serve the same stored objects, so an event read through core/v1 and through
/// events.k8s.io/v1 has the same `uid` and is archived once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedEvent {
    /// The event object's UID: the key that makes a repeated delivery a no-op.
    pub uid: String,
    /// The event object's namespace.
    pub namespace: String,
    /// The event object's name.
    pub name: String,
    /// Kind of the object the event is about (`Node`, `Pod`...).
    pub object_kind: Option<String>,
    /// Name of the object the event is about.
    pub object_name: Option<String>,
    /// Namespace of the object the event is about (none for cluster-scoped objects).
    pub object_namespace: Option<String>,
    /// The node concerned: the object itself when it is a Node, else the node the reporter ran
    /// on (a kubelet's host) when known.
    pub node: Option<String>,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Machine-readable reason, e.g. `NodeRebootError`.
    pub reason: String,
    /// Human-readable message (`note` in events.k8s.io/v1).
    pub message: String,
    /// The component that reported it (`reportingController`, or `source.component`).
    pub source: Option<String>,
    /// When it was first seen.
    pub first_seen: Timestamp,
    /// When it was last seen: the series' last observation or `lastTimestamp`.
    pub last_seen: Timestamp,
    /// `count` of an aggregated core/v1 event (1 when absent).
    pub count: u32,
    /// `series.count` of an event series, when it is one.
    pub series_count: Option<u32>,
    /// The resourceVersion it was read at.
    pub resource_version: Option<String>,
}

impl ArchivedEvent {
    /// How many times the event happened, whichever counter the reporter keeps.
    pub fn occurrences(&self) -> u32 {
        self.count.max(self.series_count.unwrap_or(0)).max(1)
    }

    /// What alert rules look at, with the `occurrences` this delivery added
    /// ([`Ingested::new_occurrences`]).
    pub fn alert_event(&self, occurrences: u32) -> AlertEvent<'_> {
        AlertEvent {
            reason: &self.reason,
            event_type: &self.event_type,
            message: &self.message,
            object_kind: self.object_kind.as_deref(),
            object_name: self.object_name.as_deref(),
            object_namespace: self.object_namespace.as_deref(),
            node: self.node.as_deref(),
            at: self.last_seen,
            occurrences,
        }
    }
}

/// An archived event with its place in the archive's change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    /// Position in the change feed: grows whenever the event is inserted or updated, so
    /// [`crate::Archive::follow`] sees both new events and counts that grew.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: ArchivedEvent,
}

/// What a batch insert did with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// It was new.
    Inserted,
    /// It was known and its count, series count or last time grew.
    Updated {
        /// Occurrences before this delivery.
        previous: u32,
    },
    /// A repeated delivery: nothing changed.
    Unchanged,
}

impl Ingested {
    /// Occurrences that this delivery adds to what the archive knew: what alert rules count.
    pub fn new_occurrences(self, event: &ArchivedEvent) -> u32 {
        match self {
            Self::Inserted => event.occurrences(),
            Self::Updated { previous } => event.occurrences().saturating_sub(previous),
            Self::Unchanged => 0,
        }
    }
}

/// Totals of a batch insert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    /// New events.
    pub inserted: usize,
    /// Known events whose counters grew.
    pub updated: usize,
    /// Repeated deliveries.
    pub unchanged: usize,
}

impl IngestStats {
    /// Totals of per-event results.
    pub fn of(results: &[Ingested]) -> Self {
        let mut stats = Self::default();
        for r in results {
            match r {
                Ingested::Inserted => stats.inserted += 1,
                Ingested::Updated { .. } => stats.updated += 1,
                Ingested::Unchanged => stats.unchanged += 1,
            }
        }
        stats
    }
}
