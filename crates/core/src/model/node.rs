//! What nodemend keeps of a Kubernetes node: only the fields that decisions need.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::condition::{ConditionStatus, NodeCondition, READY};

/// Label AKS puts on every node with the name of its agent pool.
pub const AGENT_POOL_LABEL: &str = "kubernetes.azure.com/agentpool";
/// Older spelling of [`AGENT_POOL_LABEL`], still set on AKS nodes.
pub const LEGACY_AGENT_POOL_LABEL: &str = "agentpool";

/// A taint on a node (`spec.taints[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taint {
    /// Taint key, e.g. `node.kubernetes.io/unreachable`.
    pub key: String,
    /// Optional value.
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A slim view of a Kubernetes node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// Node name.
    pub name: String,
    /// The node object's UID, so events attach to this incarnation of the node.
    pub uid: Option<String>,
    /// `spec.providerID` as the node carries it (parse it with [`crate::ProviderId`]).
    pub provider_id: Option<String>,
    /// Agent pool, from the AKS pool label.
    pub pool: Option<String>,
    /// Labels nodemend reads (pool, opt-out, instance type, zone).
    pub labels: std::collections::BTreeMap<String, String>,
    /// `spec.unschedulable`: the node is cordoned.
    pub unschedulable: bool,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `status.conditions`.
    pub conditions: Vec<NodeCondition>,
    /// `status.nodeInfo.bootID`: changes on every boot, which proves a reboot happened.
    pub boot_id: Option<String>,
    /// When the node's Lease in `kube-node-lease` was last renewed.
    pub lease_renewed: Option<Timestamp>,
}

impl NodeView {
    /// A node with nothing but a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            uid: None,
            provider_id: None,
            pool: None,
            labels: Default::default(),
            unschedulable: false,
            taints: Vec::new(),
            conditions: Vec::new(),
            boot_id: None,
            lease_renewed: None,
        }
    }

    /// The condition of the given type, if reported.
    pub fn condition(&self, kind: &str) -> Option<&NodeCondition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The `Ready` condition's status; a node that never reported one is `Unknown`.
    pub fn ready(&self) -> ConditionStatus {
        self.condition(READY)
            .map_or(ConditionStatus::Unknown, |c| c.status)
    }

    /// Whether the node carries a taint with this key.
    pub fn has_taint(&self, key: &str) -> bool {
        self.taints.iter().any(|t| t.key == key)
    }

    /// The agent pool named by the AKS labels (new spelling first).
    pub fn pool_from_labels(labels: &std::collections::BTreeMap<String, String>) -> Option<String> {
        labels
            .get(AGENT_POOL_LABEL)
            .or_else(|| labels.get(LEGACY_AGENT_POOL_LABEL))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_without_a_ready_condition_is_unknown() {
        let node = NodeView::new("n1");
        assert_eq!(node.ready(), ConditionStatus::Unknown);
    }

    #[test]
    fn pool_comes_from_the_new_label_first() {
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(LEGACY_AGENT_POOL_LABEL.to_owned(), "old".to_owned());
        assert_eq!(NodeView::pool_from_labels(&labels).as_deref(), Some("old"));
        labels.insert(AGENT_POOL_LABEL.to_owned(), "new".to_owned());
        assert_eq!(NodeView::pool_from_labels(&labels).as_deref(), Some("new"));
    }

    #[test]
    fn finds_conditions_and_taints() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut node = NodeView::new("n1");
        node.conditions
            .push(NodeCondition::new(READY, ConditionStatus::False, t0));
        node.taints.push(Taint {
            key: "node.kubernetes.io/unreachable".into(),
            value: None,
            effect: "NoExecute".into(),
        });
        assert_eq!(node.ready(), ConditionStatus::False);
        assert!(node.has_taint("node.kubernetes.io/unreachable"));
        assert!(!node.has_taint("other"));
    }
}
