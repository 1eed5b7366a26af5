//! Translation of Kubernetes events, core/v1 and events.k8s.io/v1, into the archive's
//! [`ArchivedEvent`]. Both APIs serve the same stored objects (same UID), so a watch on either
//! gives the archive the same rows.
//!
//! Times are never invented where Kubernetes gives one: first seen is `firstTimestamp` (or the
//! event time, or the object's creation); last seen is the series' last observation (or
//! `lastTimestamp`, or the event time). Only an event carrying no time at all gets `received`,
//! the moment the watch delivered it.
//!
//! The node is the involved object when that is a Node, else the kubelet that reported it (its
//! `source.host`, or its reporting instance). A pod event from another reporter has no node
//! here; the caller may fill `node` in from its pod index.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use nodemend_store::ArchivedEvent;

fn text(value: Option<&String>) -> Option<String> {
    value.filter(|v| !v.is_empty()).cloned()
}

/// The UID, or `namespace/name` for an object that has none (a UID is what makes a repeated
/// delivery a no-op; names are unique within a namespace).
fn uid(meta: &ObjectMeta) -> String {
    text(meta.uid.as_ref()).unwrap_or_else(|| {
        format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        )
    })
}

/// Which node the event concerns: the object itself, or the kubelet that reported it.
fn node_of(
    object: Option<&ObjectReference>,
    host: Option<&String>,
    reporter: Option<&String>,
    instance: Option<&String>,
) -> Option<String> {
    if let Some(o) = object.filter(|o| o.kind.as_deref() == Some("Node")) {
        return text(o.name.as_ref());
    }
    text(host).or_else(|| {
        reporter
            .filter(|r| *r == "kubelet")
            .and_then(|_| text(instance))
    })
}

struct Times {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    event: Option<Timestamp>,
}

impl Times {
    fn resolve(self, meta: &ObjectMeta, received: Timestamp) -> (Timestamp, Timestamp) {
        let created = meta.creation_timestamp.as_ref().map(|t| t.0);
        let first = self.first.or(self.event).or(created);
        let last = self.last.or(self.event).or(first).unwrap_or(received);
        let first = first.unwrap_or(last);
        (first.min(last), last)
    }
}

fn count(value: Option<i32>) -> u32 {
    value
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(1)
        .max(1)
}

fn base(meta: &ObjectMeta, object: Option<&ObjectReference>) -> ArchivedEvent {
    ArchivedEvent {
        uid: uid(meta),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        object_kind: object.and_then(|o| text(o.kind.as_ref())),
        object_name: object.and_then(|o| text(o.name.as_ref())),
        object_namespace: object.and_then(|o| text(o.namespace.as_ref())),
        node: None,
        event_type: "Normal".into(),
        reason: String::new(),
        message: String::new(),
        source: None,
        first_seen: Timestamp::UNIX_EPOCH,
        last_seen: Timestamp::UNIX_EPOCH,
        count: 1,
        series_count: None,
        resource_version: text(meta.resource_version.as_ref()),
    }
}

/// The archived form of a core/v1 event. `received` is used only when it carries no time.
pub fn core_event(event: &CoreEvent, received: Timestamp) -> ArchivedEvent {
    let object = Some(&event.involved_object);
    let source = event.source.as_ref();
    let (first_seen, last_seen) = Times {
        first: event.first_timestamp.as_ref().map(|t| t.0),
        last: event
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0)
            .or(event.last_timestamp.as_ref().map(|t| t.0)),
        event: event.event_time.as_ref().map(|t| t.0),
    }
    .resolve(&event.metadata, received);
    ArchivedEvent {
        node: node_of(
            object,
            source.and_then(|s| s.host.as_ref()),
            event.reporting_component.as_ref(),
            event.reporting_instance.as_ref(),
        ),
        event_type: text(event.type_.as_ref()).unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default(),
        source: text(event.reporting_component.as_ref())
            .or_else(|| source.and_then(|s| text(s.component.as_ref()))),
        first_seen,
        last_seen,
        count: count(event.count),
        series_count: event
            .series
            .as_ref()
            .and_then(|s| s.count)
            .map(|c| count(Some(c))),
        ..base(&event.metadata, object)
    }
}

/// The archived form of an events.k8s.io/v1 event. `received` is used only when it carries no
/// time.
pub fn events_v1_event(event: &Event, received: Timestamp) -> ArchivedEvent {
    let object = event.regarding.as_ref();
    let source = event.deprecated_source.as_ref();
    let (first_seen, last_seen) = Times {
        first: event.deprecated_first_timestamp.as_ref().map(|t| t.0),
        last: event
            .series
            .as_ref()
            .map(|s| s.last_observed_time.0)
            .or(event.deprecated_last_timestamp.as_ref().map(|t| t.0)),
        event: event.event_time.as_ref().map(|t| t.0),
    }
    .resolve(&event.metadata, received);
    ArchivedEvent {
        node: node_of(
            object,
            source.and_then(|s| s.host.as_ref()),
            event.reporting_controller.as_ref(),
            event.reporting_instance.as_ref(),
        ),
        event_type: text(event.type_.as_ref()).unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.note.clone().unwrap_or_default(),
        source: text(event.reporting_controller.as_ref())
            .or_else(|| source.and_then(|s| text(s.component.as_ref()))),
        first_seen,
        last_seen,
        count: count(event.deprecated_count),
        series_count: event.series.as_ref().map(|s| count(Some(s.count))),
        ..base(&event.metadata, object)
    }
}

#[cfg(test)]
mod tests;
