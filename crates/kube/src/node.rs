//! Translation of a Kubernetes `Node` into the slim [`NodeView`] that decisions read.
//!
//! Only what the decisions need is kept (a few labels, conditions, taints, the boot ID), so the
//! controller's cache stays small at thousands of nodes.

use k8s_openapi::api::core::v1::Node;
use nodemend_core::model::{ConditionStatus, NodeCondition, NodeView, Taint};
use nodemend_core::planner::OPT_OUT_LABEL;

/// Labels worth keeping: the pool, the opt-out switch, and what reports show.
const KEPT_LABELS: [&str; 6] = [
    nodemend_core::model::AGENT_POOL_LABEL,
    nodemend_core::model::LEGACY_AGENT_POOL_LABEL,
    OPT_OUT_LABEL,
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/zone",
    "kubernetes.io/os",
];

/// The slim view of `node`. A condition without a transition time is left out (a time must
/// never be invented: it would start or restart the unhealthy clock).
pub fn node_view(node: &Node) -> NodeView {
    let mut view = NodeView::new(node.metadata.name.clone().unwrap_or_default());
    if let Some(labels) = &node.metadata.labels {
        for key in KEPT_LABELS {
            if let Some(value) = labels.get(key) {
                view.labels.insert(key.to_owned(), value.clone());
            }
        }
    }
    view.pool = NodeView::pool_from_labels(&view.labels);
    if let Some(spec) = &node.spec {
        view.provider_id = spec.provider_id.clone();
        view.unschedulable = spec.unschedulable.unwrap_or(false);
        view.taints = spec
            .taints
            .iter()
            .flatten()
            .map(|t| Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect: t.effect.clone(),
            })
            .collect();
    }
    if let Some(status) = &node.status {
        view.boot_id = status
            .node_info
            .as_ref()
            .map(|i| i.boot_id.clone())
            .filter(|b| !b.is_empty());
        view.conditions = status
            .conditions
            .iter()
            .flatten()
            .filter_map(|c| {
                let since = c
                    .last_transition_time
                    .as_ref()
                    .or(c.last_heartbeat_time.as_ref())?;
                Some(NodeCondition {
                    kind: c.type_.clone(),
                    status: ConditionStatus::parse(&c.status),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_transition: since.0,
                    last_heartbeat: c.last_heartbeat_time.as_ref().map(|t| t.0),
                })
            })
            .collect();
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aks_node() -> Node {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "aks-nodepool1-12345678-vmss000003",
                "labels": {
                    "kubernetes.azure.com/agentpool": "nodepool1",
                    "kubernetes.azure.com/cluster": "MC_rg_aks_westeurope",
                    "node.kubernetes.io/instance-type": "Standard_D4s_v5",
                    "unrelated": "dropped"
                }
            },
            "spec": {
                "providerID": "azure:///subscriptions/s/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/3",
                "unschedulable": true,
                "taints": [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:40Z"}]
            },
            "status": {
                "nodeInfo": {"bootID": "b-1", "machineID": "", "systemUUID": "", "kernelVersion": "", "osImage": "", "containerRuntimeVersion": "", "kubeletVersion": "", "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
                "conditions": [
                    {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                     "lastTransitionTime": "2026-01-01T00:00:40Z", "lastHeartbeatTime": "2026-01-01T00:00:00Z"},
                    {"type": "MemoryPressure", "status": "Unknown"}
                ]
            }
        }))
        .unwrap()
    }

    #[test]
    fn keeps_what_decisions_need() {
        let view = node_view(&aks_node());
        assert_eq!(view.name, "aks-nodepool1-12345678-vmss000003");
        assert_eq!(view.pool.as_deref(), Some("nodepool1"));
        assert!(view.unschedulable);
        assert_eq!(view.boot_id.as_deref(), Some("b-1"));
        assert!(
            view.provider_id
                .as_deref()
                .unwrap()
                .ends_with("/virtualMachines/3")
        );
        assert!(view.has_taint("node.kubernetes.io/unreachable"));
        assert!(!view.labels.contains_key("unrelated"));
        assert_eq!(view.ready(), ConditionStatus::Unknown);
        let ready = view.condition("Ready").unwrap();
        assert_eq!(ready.last_transition.to_string(), "2026-01-01T00:00:40Z");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
    }

    #[test]
    fn conditions_without_times_are_dropped_not_invented() {
        let view = node_view(&aks_node());
        assert!(view.condition("MemoryPressure").is_none());
    }

    #[test]
    fn an_empty_node_translates_without_panicking() {
        let view = node_view(&Node::default());
        assert_eq!(view.name, "");
        assert!(view.conditions.is_empty());
    }
}
