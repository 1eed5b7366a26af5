//! The Kubernetes side of a diagnosis snapshot: small, serialisable views of nodes, pods,
//! PodDisruptionBudgets and events, holding only what the rules read.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{ConditionStatus, NodeView};

/// What was read from the Kubernetes API server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeFacts {
    /// Every node.
    #[serde(default)]
    pub nodes: Vec<NodeView>,
    /// Every pod in `kube-system`.
    #[serde(default)]
    pub system_pods: Vec<PodState>,
    /// Pods in any namespace that are being deleted or whose phase is `Unknown`.
    #[serde(default)]
    pub stuck_pods: Vec<StuckPod>,
    /// Every PodDisruptionBudget.
    #[serde(default)]
    pub pdbs: Vec<PdbState>,
    /// Recent events in any namespace (the API server keeps about an hour of them).
    #[serde(default)]
    pub events: Vec<EventRecord>,
}

impl KubeFacts {
    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// How many nodes report `Ready=True`.
    pub fn ready_nodes(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.ready() == ConditionStatus::True)
            .count()
    }
}

/// A pod's state, as `kubectl get pods` summarises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Node it is bound to, if scheduled.
    pub node: Option<String>,
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// Whether the pod's `Ready` condition is true.
    pub ready: bool,
    /// Why it is not running: a container's waiting or terminated reason (`CrashLoopBackOff`,
    /// `ImagePullBackOff`) or the pod's own (`Unschedulable`).
    pub reason: Option<String>,
    /// The message that goes with the reason.
    pub message: Option<String>,
    /// Container restarts, summed.
    #[serde(default)]
    pub restarts: u32,
}

/// Why a pod counts as stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StuckState {
    /// It has a deletion timestamp but is still there.
    Terminating,
    /// Its phase is `Unknown`: the node stopped reporting on it.
    Unknown,
}

/// A pod that is being deleted or whose state is unknown; such pods keep a drain from finishing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckPod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Node it is bound to.
    pub node: Option<String>,
    /// Terminating or unknown.
    pub state: StuckState,
    /// Since when: the deletion timestamp, or when the phase became `Unknown` (as near as the
    /// collector can tell).
    pub since: Timestamp,
}

/// A PodDisruptionBudget and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdbState {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.minAvailable`, as written (`2`, `50%`).
    pub min_available: Option<String>,
    /// `spec.maxUnavailable`, as written.
    pub max_unavailable: Option<String>,
    /// `status.disruptionsAllowed`: how many pods may be evicted now.
    pub disruptions_allowed: i32,
    /// `status.currentHealthy`.
    pub current_healthy: i32,
    /// `status.desiredHealthy`.
    pub desired_healthy: i32,
    /// `status.expectedPods`.
    pub expected_pods: i32,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Kind, e.g. `Node` or `Pod`.
    pub kind: String,
    /// Namespace (none for nodes).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// A Kubernetes event (core/v1 or events.k8s.io/v1, reduced to the common fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine-readable reason, e.g. `NodeRedeployError`.
    pub reason: String,
    /// The message.
    pub message: String,
    /// What it is about.
    pub involved: ObjectRef,
    /// How many times it happened (1 when the API does not say).
    pub count: u32,
    /// When it last happened.
    pub last_seen: Timestamp,
    /// Who reported it (`reportingController` or `source.component`).
    pub source: Option<String>,
}

impl EventRecord {
    /// Whether this is a `Warning` event.
    pub fn is_warning(&self) -> bool {
        self.kind.eq_ignore_ascii_case("Warning")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{NodeFixture, node, t};

    #[test]
    fn counts_ready_nodes_and_finds_them_by_name() {
        let facts = KubeFacts {
            nodes: vec![node("a"), node("b").not_ready_since(t(-60))],
            ..KubeFacts::default()
        };
        assert_eq!(facts.ready_nodes(), 1);
        assert!(facts.node("b").is_some());
        assert!(facts.node("c").is_none());
    }

    #[test]
    fn event_type_is_serialised_as_kubernetes_names_it() {
        let event = EventRecord {
            kind: "Warning".into(),
            reason: "NodeRebootError".into(),
            message: "m".into(),
            involved: ObjectRef {
                kind: "Node".into(),
                namespace: None,
                name: "n1".into(),
            },
            count: 1,
            last_seen: t(0),
            source: None,
        };
        assert!(event.is_warning());
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "Warning");
    }
}
