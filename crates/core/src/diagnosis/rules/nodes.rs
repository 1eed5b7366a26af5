//! `node-not-ready`: nodes whose Ready condition is False or Unknown, and for how long. Five
//! minutes is the line AKS auto-repair uses: shorter is a warning, longer an error. The VM
//! behind the node (through its provider ID) is shown when Azure was read, and a condition
//! message about expired certificates picks that entry instead of the generic one.

use jiff::SignedDuration;

use crate::ProviderId;
use crate::catalog::{Catalog, Severity};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, ago, clip, human};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;
use crate::model::{ConditionStatus, NodeView, READY};

pub(super) const ID: &str = "node-not-ready";

/// How long AKS lets a node be NotReady before it repairs it.
const REPAIR_AFTER: SignedDuration = SignedDuration::from_mins(5);

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(kube) = &snapshot.kubernetes else {
        return Vec::new();
    };
    kube.nodes
        .iter()
        .filter(|n| n.ready() != ConditionStatus::True)
        .map(|node| finding(snapshot, catalog, node))
        .collect()
}

fn finding(snapshot: &Snapshot, catalog: &Catalog, node: &NodeView) -> Finding {
    let condition = node.condition(READY);
    let held = condition.map(|c| c.held_for(snapshot.now));
    let severity = if held.is_some_and(|h| h < REPAIR_AFTER) {
        Severity::Warning
    } else {
        Severity::Error
    };
    let message = condition
        .and_then(|c| c.message.as_deref())
        .unwrap_or_default();
    let entry = catalog
        .match_message(message)
        .into_iter()
        .find(|e| e.code == "NodeCertificatesExpired")
        .or_else(|| catalog.find("NodeNotReady"));
    let status = format!("{:?}", node.ready());
    let title = match held {
        Some(h) => format!(
            "Node {} has been {} for {}",
            node.name,
            not_ready(node.ready()),
            human(h)
        ),
        None => format!("Node {} has never reported Ready", node.name),
    };
    let provider_id: Option<ProviderId> = node.provider_id.as_deref().and_then(|p| p.parse().ok());
    let vm = snapshot.vm_of_node(&node.name, node.provider_id.as_deref());
    let mut names = Placeholders::for_snapshot(snapshot).set("node", &node.name);
    if let Some(pool) = &node.pool {
        names = names.pool(snapshot, pool);
    }
    if let Some(id) = vm.map(|v| &v.id).or(provider_id.as_ref()) {
        names = names.vm(id);
    }
    let mut draft = Draft::new(ID, severity, format!("node/{}", node.name), title)
        .code(entry.map_or("NodeNotReady", |e| e.code.as_str()))
        .evidence("Ready", &status);
    if let Some(c) = condition {
        draft = draft.evidence("since", ago(snapshot.now, c.last_transition));
        if let Some(reason) = &c.reason {
            draft = draft.evidence("reason", reason);
        }
        if !message.is_empty() {
            draft = draft.evidence("message", clip(message, 300));
        }
    }
    if let Some(renewed) = node.lease_renewed {
        draft = draft.evidence("lease renewed", ago(snapshot.now, renewed));
    }
    if let Some(pool) = &node.pool {
        draft = draft.evidence("pool", pool);
    }
    if !node.taints.is_empty() {
        let taints: Vec<&str> = node.taints.iter().map(|t| t.key.as_str()).collect();
        draft = draft.evidence("taints", taints.join(", "));
    }
    if node.unschedulable {
        draft = draft.evidence("cordoned", "yes");
    }
    if let Some(vm) = vm {
        draft = draft.evidence(
            "VM",
            format!("{} / {}", vm.provisioning_state, vm.power_state),
        );
    }
    draft = draft.entry(entry, &names);
    if vm.is_some_and(|v| v.provisioning_state.is_failed()) {
        draft = draft.then(format!("nodemend reconcile node {}", node.name));
    }
    draft.build()
}

fn not_ready(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::False => "NotReady",
        ConditionStatus::True | ConditionStatus::Unknown => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pool, snapshot};
    use crate::fixtures::{NodeFixture, node, t};
    use crate::model::NodeCondition;

    #[test]
    fn long_not_ready_nodes_are_errors_with_their_vm() {
        let mut n = node("aks-np1-vmss000001")
            .in_pool("np1")
            .not_ready_since(t(-1_800))
            .tainted("node.kubernetes.io/unreachable");
        n.provider_id = Some("azure:///subscriptions/sub/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-vmss/virtualMachines/1".into());
        let snap = snapshot()
            .with_pool(pool("np1").instance_failed(
                1,
                "AttachDiskWhileBeingDetached",
                "detach failed",
            ))
            .with_node(n)
            .with_node(node("aks-np1-vmss000000").in_pool("np1"));
        let findings = check(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.title,
            "Node aks-np1-vmss000001 has been Unknown for 30m 0s"
        );
        assert_eq!(f.code.as_deref(), Some("NodeNotReady"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "VM" && e.value == "Failed / Running")
        );
        assert!(
            f.commands
                .iter()
                .any(|c| c.contains("--name aks-np1-vmss --instance-id 1")),
            "{:?}",
            f.commands
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "nodemend reconcile node aks-np1-vmss000001"
        );
    }

    #[test]
    fn a_fresh_not_ready_node_is_a_warning() {
        let snap = snapshot()
            .kube_only()
            .with_node(node("n1").not_ready_since(t(-120)));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn expired_certificates_are_recognised() {
        let mut n = node("n1");
        n.conditions = vec![NodeCondition {
            message: Some("x509: certificate has expired or is not yet valid".into()),
            ..NodeCondition::new(READY, ConditionStatus::False, t(-7_200))
        }];
        let f = &check(&facts(&snapshot().with_node(n)))[0];
        assert_eq!(f.code.as_deref(), Some("NodeCertificatesExpired"));
        assert_eq!(f.title, "Node n1 has been NotReady for 2h 0m");
    }

    #[test]
    fn a_node_that_never_reported_is_an_error() {
        let mut n = NodeView::new("n1");
        n.pool = None;
        let f = &check(&facts(&snapshot().with_node(n)))[0];
        assert_eq!(f.title, "Node n1 has never reported Ready");
        assert_eq!(f.severity, Severity::Error);
    }
}
