//! `api-server-unreachable`: the Kubernetes API server did not answer (no response, or a 5xx)
//! while collecting. With Azure read, a stopped cluster explains it; a running, Succeeded
//! cluster whose API server does not answer points at an outage on the AKS side (critical).
//! Without Azure, the local network cannot be ruled out, so it is an error.

use crate::catalog::Severity;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, clip, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::ReadError;
use crate::model::PowerState;

pub(super) const ID: &str = "api-server-unreachable";

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let unanswered: Vec<String> = snapshot
        .read_failures
        .iter()
        .filter_map(|f| match &f.error {
            ReadError::Kubernetes {
                status, message, ..
            } if status.is_none_or(|s| s >= 500) => {
                let status = status.map_or("no answer".to_owned(), |s| format!("HTTP {s}"));
                Some(format!("{}: {status}, {}", f.read, clip(message, 200)))
            }
            _ => None,
        })
        .collect();
    if unanswered.is_empty() {
        return Vec::new();
    }
    let names = Placeholders::for_snapshot(snapshot);
    let resource = snapshot.cluster_resource();
    let cluster = snapshot.cluster();
    if let Some(c) = cluster.filter(|c| c.power_state == PowerState::Stopped) {
        return vec![
            Draft::new(
                ID,
                Severity::Warning,
                resource,
                "The API server does not answer because the cluster is stopped",
            )
            .evidence("powerState", &c.power_state)
            .evidence("unanswered reads", list(&unanswered, 5))
            .fix(names.fill("az aks start --resource-group <resource-group> --name <cluster>"))
            .build(),
        ];
    }
    let healthy_in_azure = cluster
        .is_some_and(|c| c.power_state == PowerState::Running && !c.provisioning_state.is_failed());
    let (severity, title) = if healthy_in_azure {
        (
            Severity::Critical,
            "The API server does not answer although Azure reports the cluster running",
        )
    } else {
        (Severity::Error, "The API server does not answer")
    };
    let mut draft = Draft::new(ID, severity, resource, title)
        .code("APIServerError")
        .evidence("unanswered reads", list(&unanswered, 5));
    if let Some(c) = cluster {
        draft = draft
            .evidence("provisioningState", &c.provisioning_state)
            .evidence("powerState", &c.power_state);
    }
    vec![draft.entry(catalog.find("APIServerError"), &names).build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, kube_read_failed, snapshot};

    #[test]
    fn no_answer_from_a_running_cluster_is_critical() {
        let snap = snapshot().read_failed(kube_read_failed("nodes", None, "connection refused"));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.code.as_deref(), Some("APIServerError"));
        assert_eq!(f.evidence[0].value, "nodes: no answer, connection refused");
    }

    #[test]
    fn a_stopped_cluster_explains_it() {
        let snap =
            snapshot()
                .stopped()
                .read_failed(kube_read_failed("nodes", Some(503), "unavailable"));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.commands[0], "az aks start --resource-group rg --name aks");
    }

    #[test]
    fn without_azure_it_is_an_error_and_forbidden_reads_are_not_outages() {
        let snap =
            snapshot()
                .kube_only()
                .read_failed(kube_read_failed("pods", Some(502), "bad gateway"));
        assert_eq!(check(&facts(&snap))[0].severity, Severity::Error);
        let forbidden = snapshot().read_failed(kube_read_failed("pods", Some(403), "forbidden"));
        assert!(check(&facts(&forbidden)).is_empty());
    }
}
