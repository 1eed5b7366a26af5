//! Tests of the archive against real SQLite files in temporary directories.

mod alerts;
mod decisions;
mod ingest;
mod query;
mod repairs;
mod retention;
mod schema;

use jiff::{SignedDuration, Timestamp};
use tempfile::TempDir;

use crate::{Archive, ArchivedEvent};

/// A fixed origin for test times.
pub(crate) fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000).unwrap() + SignedDuration::from_secs(secs)
}

/// A fresh archive in its own directory (kept alive by the returned guard).
pub(crate) fn archive() -> (TempDir, Archive) {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("archive.db")).unwrap();
    (dir, archive)
}

/// A Warning event on a node, seen once at `t(0)`.
pub(crate) fn event(uid: &str) -> ArchivedEvent {
    ArchivedEvent {
        uid: uid.into(),
        namespace: "default".into(),
        name: format!("aks-np1-1.{uid}"),
        object_kind: Some("Node".into()),
        object_name: Some("aks-np1-1".into()),
        object_namespace: None,
        node: Some("aks-np1-1".into()),
        event_type: "Warning".into(),
        reason: "NodeRebootError".into(),
        message: "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError".into(),
        source: Some("nodemend".into()),
        first_seen: t(0),
        last_seen: t(0),
        count: 1,
        series_count: None,
        resource_version: Some("1".into()),
    }
}

impl ArchivedEvent {
    pub(crate) fn reason(mut self, reason: &str) -> Self {
        self.reason = reason.into();
        self
    }

    pub(crate) fn kind(mut self, event_type: &str) -> Self {
        self.event_type = event_type.into();
        self
    }

    pub(crate) fn on_node(mut self, node: &str) -> Self {
        self.node = Some(node.into());
        self.object_name = Some(node.into());
        self
    }

    pub(crate) fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.into();
        self
    }

    pub(crate) fn message(mut self, message: &str) -> Self {
        self.message = message.into();
        self
    }

    pub(crate) fn seen(mut self, at: Timestamp) -> Self {
        self.first_seen = self.first_seen.min(at);
        self.last_seen = at;
        self
    }

    pub(crate) fn counted(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
}

/// The UIDs of `events`, in order.
pub(crate) fn uids(events: &[crate::StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.uid.as_str()).collect()
}
