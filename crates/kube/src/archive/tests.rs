use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use serde_json::json;

use super::*;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn received() -> Timestamp {
    ts("2026-05-01T12:00:00Z")
}

#[test]
fn nodemends_own_node_event_translates_fully() {
    let event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "aks-np1-1.18a3", "namespace": "default", "uid": "u-1", "resourceVersion": "812"},
        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": "aks-np1-1", "uid": "n-uid"},
        "reason": "NodeRebootError",
        "message": "Node auto-repair reboot action failed due to an operation failure: InvalidParameter",
        "type": "Warning",
        "source": {"component": "nodemend"},
        "reportingComponent": "nodemend",
        "reportingInstance": "nodemend-0",
        "firstTimestamp": "2026-05-01T11:00:00Z",
        "lastTimestamp": "2026-05-01T11:20:00Z",
        "count": 3
    }))
    .unwrap();
    let archived = core_event(&event, received());
    assert_eq!(
        archived,
        ArchivedEvent {
            uid: "u-1".into(),
            namespace: "default".into(),
            name: "aks-np1-1.18a3".into(),
            object_kind: Some("Node".into()),
            object_name: Some("aks-np1-1".into()),
            object_namespace: None,
            node: Some("aks-np1-1".into()),
            event_type: "Warning".into(),
            reason: "NodeRebootError".into(),
            message: "Node auto-repair reboot action failed due to an operation failure: InvalidParameter".into(),
            source: Some("nodemend".into()),
            first_seen: ts("2026-05-01T11:00:00Z"),
            last_seen: ts("2026-05-01T11:20:00Z"),
            count: 3,
            series_count: None,
            resource_version: Some("812".into()),
        }
    );
}

#[test]
fn a_kubelet_pod_event_names_the_kubelets_node() {
    let event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "coredns-1.17f", "namespace": "kube-system", "uid": "u-2"},
        "involvedObject": {"kind": "Pod", "name": "coredns-1", "namespace": "kube-system"},
        "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
        "source": {"component": "kubelet", "host": "aks-np1-2"},
        "reportingComponent": "",
        "firstTimestamp": "2026-05-01T11:00:00Z", "lastTimestamp": "2026-05-01T11:05:00Z", "count": 7
    }))
    .unwrap();
    let archived = core_event(&event, received());
    assert_eq!(archived.node.as_deref(), Some("aks-np1-2"));
    assert_eq!(archived.object_namespace.as_deref(), Some("kube-system"));
    assert_eq!(
        archived.source.as_deref(),
        Some("kubelet"),
        "an empty reportingComponent falls back"
    );
    assert_eq!(archived.occurrences(), 7);
}

#[test]
fn a_core_series_event_takes_its_last_observation() {
    let event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "e", "namespace": "default", "uid": "u-3"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Unhealthy", "type": "Warning",
        "eventTime": "2026-05-01T10:00:00.123456Z",
        "series": {"count": 12, "lastObservedTime": "2026-05-01T10:30:00.000001Z"},
        "reportingComponent": "kubelet", "reportingInstance": "aks-np1-3"
    }))
    .unwrap();
    let archived = core_event(&event, received());
    assert_eq!(archived.first_seen, ts("2026-05-01T10:00:00.123456Z"));
    assert_eq!(archived.last_seen, ts("2026-05-01T10:30:00.000001Z"));
    assert_eq!((archived.count, archived.series_count), (1, Some(12)));
    assert_eq!(archived.node.as_deref(), Some("aks-np1-3"));
}

#[test]
fn an_events_v1_event_translates_like_its_core_view() {
    let event: Event = serde_json::from_value(json!({
        "metadata": {"name": "aks-np1-1.18a3", "namespace": "default", "uid": "u-1", "resourceVersion": "813"},
        "regarding": {"kind": "Node", "name": "aks-np1-1"},
        "reason": "NodeRebootError",
        "note": "Node auto-repair reboot action failed due to an operation failure: InvalidParameter",
        "type": "Warning",
        "eventTime": "2026-05-01T11:00:00.000000Z",
        "reportingController": "nodemend",
        "reportingInstance": "nodemend-0",
        "series": {"count": 4, "lastObservedTime": "2026-05-01T11:20:00.000000Z"},
        "deprecatedCount": 3
    }))
    .unwrap();
    let archived = events_v1_event(&event, received());
    assert_eq!(archived.uid, "u-1", "the same object as through core/v1");
    assert_eq!(archived.node.as_deref(), Some("aks-np1-1"));
    assert_eq!(
        archived.message,
        "Node auto-repair reboot action failed due to an operation failure: InvalidParameter"
    );
    assert_eq!(archived.source.as_deref(), Some("nodemend"));
    assert_eq!(
        (archived.first_seen, archived.last_seen),
        (ts("2026-05-01T11:00:00Z"), ts("2026-05-01T11:20:00Z"))
    );
    assert_eq!(
        (
            archived.count,
            archived.series_count,
            archived.occurrences()
        ),
        (3, Some(4), 4)
    );
}

#[test]
fn a_kubelet_events_v1_event_names_its_node() {
    let event: Event = serde_json::from_value(json!({
        "metadata": {"name": "p.1", "namespace": "default", "uid": "u-9", "creationTimestamp": "2026-05-01T09:00:00Z"},
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Pulled", "type": "Normal",
        "reportingController": "kubelet", "reportingInstance": "aks-np1-4",
        "deprecatedSource": {"component": "kubelet"}
    }))
    .unwrap();
    let archived = events_v1_event(&event, received());
    assert_eq!(archived.node.as_deref(), Some("aks-np1-4"));
    assert_eq!(
        (archived.first_seen, archived.last_seen),
        (ts("2026-05-01T09:00:00Z"), ts("2026-05-01T09:00:00Z")),
        "creation time, not the receipt"
    );
}

#[test]
fn a_bare_event_gets_fallbacks_without_panicking() {
    let archived = core_event(&CoreEvent::default(), received());
    assert_eq!(archived.uid, "/");
    assert_eq!(
        (archived.first_seen, archived.last_seen),
        (received(), received())
    );
    assert_eq!(
        (
            archived.event_type.as_str(),
            archived.count,
            archived.node.clone()
        ),
        ("Normal", 1, None)
    );
    let archived = events_v1_event(&Event::default(), received());
    assert_eq!(
        (archived.object_kind.clone(), archived.last_seen),
        (None, received())
    );
    let named: CoreEvent = serde_json::from_value(
        json!({"metadata": {"name": "e", "namespace": "ns"}, "involvedObject": {}, "count": -4}),
    )
    .unwrap();
    let archived = core_event(&named, received());
    assert_eq!((archived.uid.as_str(), archived.count), ("ns/e", 1));
}
