//! One round of a drain: list the node's pods, evict what the drain rules say, and report how
//! it is going. The caller repeats rounds until done or timed out.

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{EvictParams, ListParams};
use nodemend_core::drain::{PodView, plan};
use nodemend_core::repair::DrainProgress;

use crate::error::{Error, Result, has_status};

fn pod_view(pod: &Pod) -> PodView {
    let meta = &pod.metadata;
    PodView {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        owner_kinds: meta
            .owner_references
            .iter()
            .flatten()
            .map(|o| o.kind.clone())
            .collect(),
        mirror: meta
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror")),
        terminating: meta.deletion_timestamp.is_some(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default(),
    }
}

/// Evicts the node's pods through the Eviction API (so PodDisruptionBudgets are honoured) and
/// says how the drain is going.
pub async fn drain_round(client: &kube::Client, node: &str) -> Result<DrainProgress> {
    let all: Api<Pod> = Api::all(client.clone());
    let pods = all
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await
        .map_err(|source| Error::ListPods {
            node: node.to_owned(),
            source,
        })?;
    let views: Vec<PodView> = pods.items.iter().map(pod_view).collect();
    let next = plan(&views);
    if next.is_done() {
        return Ok(DrainProgress::Done);
    }
    let mut blocked = Vec::new();
    for (namespace, name) in &next.evict {
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        match api.evict(name, &EvictParams::default()).await {
            Ok(_) => tracing::info!(node, namespace, pod = name, "pod evicted"),
            Err(err) if has_status(&err, 404) => {}
            Err(err) if has_status(&err, 429) => {
                let why = match &err {
                    kube::Error::Api(status) => status.message.clone(),
                    other => other.to_string(),
                };
                blocked.push(format!("{namespace}/{name}: {why}"));
            }
            Err(source) => {
                return Err(Error::Evict {
                    namespace: namespace.clone(),
                    pod: name.clone(),
                    source,
                });
            }
        }
    }
    if blocked.is_empty() {
        Ok(DrainProgress::InProgress)
    } else {
        Ok(DrainProgress::Blocked {
            reason: blocked.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_owners_mirrors_and_termination() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "kube-proxy-x", "namespace": "kube-system",
                "annotations": {"kubernetes.io/config.mirror": "abc"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "u"}],
                "deletionTimestamp": "2026-01-01T00:00:00Z"
            },
            "status": {"phase": "Running"}
        }))
        .unwrap();
        let view = pod_view(&pod);
        assert!(view.mirror && view.terminating);
        assert_eq!(view.owner_kinds, ["DaemonSet"]);
        assert_eq!(view.phase, "Running");
    }
}
