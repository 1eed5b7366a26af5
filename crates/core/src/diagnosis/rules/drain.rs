//! `pdb-blocks-drain` and `pod-stuck`: workloads that keep nodes from draining, which is how an
//! upgrade, scale-down or repair ends in a Failed cluster (`PodDrainFailure`).
//!
//! A PodDisruptionBudget that allows no disruption while it covers pods blocks every eviction of
//! them; `maxUnavailable: 0` makes AKS refuse the upgrade up front (`UnsatisfiablePDB`). Pods
//! terminating or Unknown for five minutes or more never leave on their own. Both are warnings,
//! and errors once a drain is visibly failing: the cluster or a pool is Failed or upgrading, or
//! the activity log or events show a drain or eviction failure.

use jiff::SignedDuration;

use super::reconcile_cluster;
use crate::catalog::Severity;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, ago, human};
use crate::diagnosis::kube::{PdbState, StuckState};
use crate::diagnosis::placeholders::Placeholders;
use crate::model::ProvisioningState;

pub(super) const PDB_ID: &str = "pdb-blocks-drain";
pub(super) const STUCK_ID: &str = "pod-stuck";

/// How long a pod may terminate (or be Unknown) before it counts as stuck.
const STUCK_AFTER: SignedDuration = SignedDuration::from_mins(5);

/// Whether a drain is visibly failing or running right now.
fn draining(facts: &Facts<'_, '_>) -> bool {
    let snapshot = facts.snapshot;
    let busy = |s: &ProvisioningState| s.is_failed() || matches!(s, ProvisioningState::Upgrading);
    let states = snapshot.cluster().is_some_and(|c| {
        busy(&c.provisioning_state) || c.pools.iter().any(|p| busy(&p.provisioning_state))
    });
    let logged = facts
        .failures_of(&["PodDrainFailure", "UpgradeFailed"])
        .next()
        .is_some();
    let evented = snapshot.kubernetes.iter().flat_map(|k| &k.events).any(|e| {
        let reason = e.reason.to_ascii_lowercase();
        e.is_warning() && (reason.contains("drain") || reason.contains("evict"))
    });
    states || logged || evented
}

fn zero(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim(), "0" | "0%"))
}

fn blocks(pdb: &PdbState) -> bool {
    pdb.disruptions_allowed <= 0 && pdb.expected_pods > 0
}

pub(super) fn pdbs(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(kube) = &snapshot.kubernetes else {
        return Vec::new();
    };
    let severity = if draining(facts) {
        Severity::Error
    } else {
        Severity::Warning
    };
    kube.pdbs
        .iter()
        .filter(|p| blocks(p))
        .map(|pdb| {
            let unsatisfiable = zero(pdb.max_unavailable.as_deref());
            let code = if unsatisfiable { "UnsatisfiablePDB" } else { "PodDrainFailure" };
            let title = if unsatisfiable {
                format!("PodDisruptionBudget {}/{} sets maxUnavailable to 0: no node with its pods can drain", pdb.namespace, pdb.name)
            } else {
                format!("PodDisruptionBudget {}/{} allows no disruption: draining its pods' nodes will fail", pdb.namespace, pdb.name)
            };
            let names = Placeholders::for_snapshot(snapshot).set("namespace", &pdb.namespace);
            let file = format!("pdb-{}-{}.yaml", pdb.namespace, pdb.name);
            let mut draft = Draft::new(PDB_ID, severity, format!("pdb/{}/{}", pdb.namespace, pdb.name), title)
                .code(code)
                .evidence("disruptionsAllowed", pdb.disruptions_allowed)
                .evidence("healthy", format!("{} of {} desired, {} expected pods", pdb.current_healthy, pdb.desired_healthy, pdb.expected_pods));
            if let Some(min) = &pdb.min_available {
                draft = draft.evidence("minAvailable", min);
            }
            if let Some(max) = &pdb.max_unavailable {
                draft = draft.evidence("maxUnavailable", max);
            }
            draft = draft
                .fix(format!("kubectl get pdb {} --namespace {} --output yaml > {file}", pdb.name, pdb.namespace))
                .fix(format!("kubectl delete pdb {} --namespace {}", pdb.name, pdb.namespace))
                .entry(catalog.find(code), &names);
            for command in reconcile_cluster(snapshot) {
                draft = draft.then(command);
            }
            draft.then(format!("kubectl apply -f {file}")).build()
        })
        .collect()
}

pub(super) fn stuck_pods(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(kube) = &snapshot.kubernetes else {
        return Vec::new();
    };
    let severity = if draining(facts) {
        Severity::Error
    } else {
        Severity::Warning
    };
    kube.stuck_pods
        .iter()
        .filter(|p| snapshot.now.duration_since(p.since) >= STUCK_AFTER)
        .map(|pod| {
            let held = human(snapshot.now.duration_since(pod.since));
            let state = match pod.state {
                StuckState::Terminating => "terminating",
                StuckState::Unknown => "in the Unknown phase",
            };
            let names = Placeholders::for_snapshot(snapshot)
                .set("namespace", &pod.namespace)
                .set("pod", &pod.name);
            let mut draft = Draft::new(
                STUCK_ID,
                severity,
                format!("pod/{}/{}", pod.namespace, pod.name),
                format!(
                    "Pod {}/{} has been {state} for {held}",
                    pod.namespace, pod.name
                ),
            )
            .code("PodDrainFailure")
            .evidence("state", state)
            .evidence("since", ago(snapshot.now, pod.since));
            if let Some(node) = &pod.node {
                let ready = kube
                    .node(node)
                    .map_or("not found".to_owned(), |n| format!("{:?}", n.ready()));
                draft = draft.evidence("node", node).evidence("node Ready", ready);
            }
            draft
                .fix(format!(
                    "kubectl delete pod {} --namespace {} --grace-period=0 --force",
                    pod.name, pod.namespace
                ))
                .entry(catalog.find("PodDrainFailure"), &names)
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pdb, pool, snapshot, stuck};

    #[test]
    fn a_budget_allowing_nothing_blocks_drains() {
        let snap = snapshot()
            .with_pdb(pdb("shop", "web", 0))
            .with_pdb(pdb("shop", "api", 1));
        let findings = pdbs(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.resource, "pdb/shop/web");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.code.as_deref(), Some("PodDrainFailure"));
        assert_eq!(
            f.commands[0],
            "kubectl get pdb web --namespace shop --output yaml > pdb-shop-web.yaml"
        );
        assert_eq!(f.commands[1], "kubectl delete pdb web --namespace shop");
        assert_eq!(
            f.commands.last().unwrap(),
            "kubectl apply -f pdb-shop-web.yaml"
        );
        assert!(
            f.commands
                .contains(&"nodemend reconcile cluster".to_owned())
        );
    }

    #[test]
    fn max_unavailable_zero_is_unsatisfiable_and_an_upgrade_makes_it_an_error() {
        let mut budget = pdb("shop", "web", 0);
        budget.max_unavailable = Some("0".into());
        let snap = snapshot()
            .with_pool(pool("np1").state(ProvisioningState::Upgrading))
            .with_pdb(budget);
        let f = &pdbs(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("UnsatisfiablePDB"));
        assert_eq!(f.severity, Severity::Error);
    }

    #[test]
    fn budgets_with_no_pods_do_not_block() {
        let mut empty = pdb("shop", "old", 0);
        empty.expected_pods = 0;
        assert!(pdbs(&facts(&snapshot().with_pdb(empty))).is_empty());
        assert!(pdbs(&facts(&snapshot().azure_only())).is_empty());
    }

    #[test]
    fn pods_stuck_for_five_minutes_get_a_force_delete() {
        let snap = snapshot()
            .with_stuck_pod(stuck("shop", "web-1", StuckState::Terminating, -3_600))
            .with_stuck_pod(stuck("shop", "web-2", StuckState::Unknown, -60));
        let findings = stuck_pods(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.title, "Pod shop/web-1 has been terminating for 1h 0m");
        assert_eq!(
            f.commands[0],
            "kubectl delete pod web-1 --namespace shop --grace-period=0 --force"
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "node Ready" && e.value == "not found")
        );
    }
}
