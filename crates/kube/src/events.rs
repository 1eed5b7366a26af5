//! Kubernetes events on nodes, as `kubectl describe node` and `kubectl get events` show them.
//!
//! Events are core/v1 with `source.component: nodemend`, in the `default` namespace as kubelet's
//! node events are (every Kubernetes version accepts that). A repeat of the same reason and
//! message on the same node within the aggregation window bumps `count` and `lastTimestamp` of
//! the existing event instead of adding a new one.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use nodemend_core::model::NodeView;
use nodemend_core::repair::{EventType, RepairEvent};
use tokio::sync::Mutex;

use crate::error::{Error, Result, has_status};

/// The `source.component` of nodemend's events.
pub const COMPONENT: &str = "nodemend";

/// Namespace of the events on nodes (cluster-scoped objects' events go to `default`, as the
/// kubelet's and kubectl's do).
pub const EVENT_NAMESPACE: &str = "default";

/// How long a repeated event is folded into the previous one.
const AGGREGATION_WINDOW: SignedDuration = SignedDuration::from_mins(10);

struct Recorded {
    name: String,
    count: i32,
    last: Timestamp,
}

/// Records events on nodes, folding repeats.
pub struct EventRecorder {
    api: Api<Event>,
    /// Makes names unique when several events are recorded in the same instant.
    sequence: std::sync::atomic::AtomicU32,
    instance: String,
    recent: Mutex<HashMap<(String, String, String), Recorded>>,
}

impl EventRecorder {
    /// A recorder that names `instance` (e.g. the pod name) as the reporting instance.
    pub fn new(client: kube::Client, instance: impl Into<String>) -> Self {
        Self {
            api: Api::namespaced(client, EVENT_NAMESPACE),
            sequence: std::sync::atomic::AtomicU32::new(0),
            instance: instance.into(),
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Records `event` on `node` at `now`.
    pub async fn record(&self, node: &NodeView, event: &RepairEvent, now: Timestamp) -> Result<()> {
        let key = (
            node.name.clone(),
            event.reason.clone(),
            event.message.clone(),
        );
        let mut recent = self.recent.lock().await;
        recent.retain(|_, r| now.duration_since(r.last) < AGGREGATION_WINDOW);
        let err = |source| Error::Event {
            node: node.name.clone(),
            reason: event.reason.clone(),
            source,
        };
        if let Some(previous) = recent.get_mut(&key) {
            let patch = serde_json::json!({
                "count": previous.count + 1,
                "lastTimestamp": Time(now),
            });
            match self
                .api
                .patch(
                    &previous.name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => {
                    previous.count += 1;
                    previous.last = now;
                    return Ok(());
                }
                // Expired or deleted by the API server: record a fresh one.
                Err(e) if has_status(&e, 404) => {}
                Err(e) => return Err(err(e)),
            }
        }
        let sequence = self
            .sequence
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!(
            "{}.{:x}{:04x}",
            node.name,
            now.as_nanosecond(),
            sequence & 0xffff
        );
        let body = self.event(&name, node, event, now);
        self.api
            .create(&PostParams::default(), &body)
            .await
            .map_err(err)?;
        tracing::info!(node = %node.name, reason = %event.reason, message = %event.message, "event recorded");
        recent.insert(
            key,
            Recorded {
                name,
                count: 1,
                last: now,
            },
        );
        Ok(())
    }

    fn event(&self, name: &str, node: &NodeView, event: &RepairEvent, now: Timestamp) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some("default".to_owned()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".to_owned()),
                kind: Some("Node".to_owned()),
                name: Some(node.name.clone()),
                uid: node.uid.clone(),
                ..ObjectReference::default()
            },
            reason: Some(event.reason.clone()),
            message: Some(event.message.clone()),
            type_: Some(
                match event.kind {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            source: Some(EventSource {
                component: Some(COMPONENT.to_owned()),
                host: None,
            }),
            reporting_component: Some(COMPONENT.to_owned()),
            reporting_instance: Some(self.instance.clone()),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            ..Event::default()
        }
    }
}
