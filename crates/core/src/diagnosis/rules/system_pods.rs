//! `system-pods-not-running`: kube-system pods that are not Running and ready (finished pods
//! excepted). One finding for the namespace, a line of evidence per pod. With no Ready node at
//! all the cause is the nodes, and the finding says so (`ControlPlaneAddOnsNotReady`).

use crate::catalog::Severity;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, clip};
use crate::diagnosis::kube::PodState;
use crate::diagnosis::placeholders::Placeholders;

pub(super) const ID: &str = "system-pods-not-running";

fn not_running(pod: &PodState) -> bool {
    match pod.phase.as_str() {
        "Succeeded" => false,
        "Running" => !pod.ready,
        _ => true,
    }
}

fn describe(pod: &PodState) -> String {
    let mut line = if pod.phase == "Running" {
        "Running but not ready".to_owned()
    } else {
        pod.phase.clone()
    };
    if let Some(reason) = &pod.reason {
        line.push_str(&format!(", {reason}"));
    }
    if let Some(message) = &pod.message {
        line.push_str(&format!(": {}", clip(message, 200)));
    }
    if pod.restarts > 0 {
        line.push_str(&format!(" ({} restarts)", pod.restarts));
    }
    match &pod.node {
        Some(node) => line.push_str(&format!(" on {node}")),
        None => line.push_str(", not scheduled"),
    }
    line
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(kube) = &snapshot.kubernetes else {
        return Vec::new();
    };
    let down: Vec<&PodState> = kube.system_pods.iter().filter(|p| not_running(p)).collect();
    let Some(first) = down.first() else {
        return Vec::new();
    };
    let ready = kube.ready_nodes();
    let code = if ready == 0 {
        "ControlPlaneAddOnsNotReady"
    } else {
        "KubeSystemPodsNotRunning"
    };
    let title = if ready == 0 {
        format!(
            "{} kube-system pods are not running and no node is Ready to run them",
            down.len()
        )
    } else {
        format!("{} kube-system pods are not running", down.len())
    };
    let names = Placeholders::for_snapshot(snapshot)
        .set("pod", &first.name)
        .set("namespace", "kube-system");
    let mut draft = Draft::new(ID, Severity::Error, "namespace/kube-system", title)
        .code(code)
        .evidence("Ready nodes", format!("{ready} of {}", kube.nodes.len()));
    for pod in down.iter().take(20) {
        draft = draft.evidence(format!("pod {}", pod.name), describe(pod));
    }
    if down.len() > 20 {
        draft = draft.evidence("more pods", down.len() - 20);
    }
    vec![draft.entry(catalog.find(code), &names).build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, snapshot, system_pod};
    use crate::fixtures::node;

    #[test]
    fn pending_and_crashing_system_pods_are_listed() {
        let mut crashing = system_pod("coredns-1", "Running", Some("CrashLoopBackOff"));
        crashing.ready = false;
        crashing.restarts = 7;
        crashing.node = Some("n1".into());
        let snap = snapshot()
            .with_node(node("n1"))
            .with_system_pod(system_pod("kube-proxy-a", "Running", None))
            .with_system_pod(system_pod(
                "metrics-server-1",
                "Pending",
                Some("Unschedulable"),
            ))
            .with_system_pod(crashing)
            .with_system_pod(system_pod("job-1", "Succeeded", None));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("KubeSystemPodsNotRunning"));
        assert_eq!(f.title, "2 kube-system pods are not running");
        assert_eq!(f.evidence[1].value, "Pending, Unschedulable, not scheduled");
        assert_eq!(
            f.evidence[2].value,
            "Running but not ready, CrashLoopBackOff (7 restarts) on n1"
        );
        assert!(
            f.commands.contains(
                &"kubectl describe pod metrics-server-1 --namespace kube-system".to_owned()
            )
        );
    }

    #[test]
    fn no_ready_node_points_at_the_nodes() {
        let snap = snapshot().with_system_pod(system_pod("coredns-1", "Pending", None));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("ControlPlaneAddOnsNotReady"));
    }

    #[test]
    fn all_running_is_quiet() {
        let snap = snapshot().with_system_pod(system_pod("coredns-1", "Running", None));
        assert!(check(&facts(&snap)).is_empty());
        assert!(check(&facts(&snapshot().azure_only())).is_empty());
    }
}
