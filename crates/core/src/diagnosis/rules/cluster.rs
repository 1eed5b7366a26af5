//! `cluster-state`: the managed cluster's provisioning and power state. For a Failed cluster
//! (scenario 1 of the failed-state guide) the newest failed operation on it is taken from the
//! activity log, and its code, dug out of the error, picks the catalog entry; with no code of
//! its own, the cause of a Failed pool is taken.

use super::{
    at_least, best, entry_or, error_line, found_evidence, operation_line, pool, reconcile_cluster,
    reconcile_pool,
};
use crate::catalog::{NodeOs, Severity};
use crate::cloud::ActivityRecord;
use crate::diagnosis::codes::{self, Found};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding};
use crate::diagnosis::placeholders::Placeholders;
use crate::model::{Cluster, PowerState, ProvisioningState};

pub(super) const ID: &str = "cluster-state";

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let snapshot = facts.snapshot;
    let Some(cluster) = snapshot.cluster() else {
        return Vec::new();
    };
    let names = Placeholders::for_snapshot(snapshot);
    let resource = cluster.arm_id();
    let state = &cluster.provisioning_state;
    let finding = match state {
        ProvisioningState::Failed => failed(facts, cluster, &names),
        ProvisioningState::Canceled => {
            let mut draft = Draft::new(
                ID,
                Severity::Warning,
                resource,
                "The last operation on the cluster was canceled",
            )
            .evidence("provisioningState", state);
            for command in reconcile_cluster(snapshot) {
                draft = draft.fix(command);
            }
            draft.build()
        }
        state if !state.is_terminal() => Draft::new(
            ID,
            Severity::Info,
            resource,
            format!("An operation is running on the cluster ({state})"),
        )
        .evidence("provisioningState", state)
        .evidence(
            "meaning",
            "nodes may be NotReady or replaced while it runs; check again when it ends",
        )
        .fix(names.fill("az aks show --resource-group <resource-group> --name <cluster> --query provisioningState --output tsv"))
        .build(),
        _ if cluster.power_state == PowerState::Stopped => {
            Draft::new(ID, Severity::Info, resource, "The cluster is stopped")
                .evidence("powerState", &cluster.power_state)
                .fix(names.fill("az aks start --resource-group <resource-group> --name <cluster>"))
                .build()
        }
        _ => return Vec::new(),
    };
    vec![finding]
}

/// Why the cluster is Failed, as far as the snapshot tells.
pub(super) struct Cause<'s, 'c> {
    /// The newest failed operation on the cluster.
    pub(super) operation: Option<&'s ActivityRecord>,
    /// The most specific code of the cluster's provisioning error or of that operation, else
    /// of a Failed pool.
    pub(super) found: Option<Found<'c>>,
    /// The pool the code came from, when it came from one.
    pub(super) pool: Option<String>,
}

pub(super) fn cause<'s, 'c>(facts: &Facts<'s, 'c>) -> Cause<'s, 'c> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let id = snapshot.cluster().map(Cluster::arm_id).unwrap_or_default();
    let error = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.cluster_error.as_ref());
    let failure = facts
        .failures()
        .iter()
        .find(|f| f.record.resource_id.eq_ignore_ascii_case(&id));
    let operation = failure.map(|f| f.record);
    let own = best([
        error.and_then(|e| codes::in_error(e, NodeOs::Linux, catalog)),
        failure.and_then(|f| f.found.clone()),
    ]);
    if own.is_some() {
        return Cause {
            operation,
            found: own,
            pool: None,
        };
    }
    // A cluster is often Failed only because a pool is: then the pool's cause is the cluster's.
    let from_pool = snapshot
        .pools()
        .iter()
        .filter(|p| p.provisioning_state.is_failed())
        .find_map(|p| pool::checks(facts, p).found.map(|f| (p.name.clone(), f)));
    Cause {
        operation,
        found: from_pool.as_ref().map(|(_, f)| f.clone()),
        pool: from_pool.map(|(p, _)| p),
    }
}

fn failed(facts: &Facts<'_, '_>, cluster: &Cluster, names: &Placeholders) -> Finding {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let id = cluster.arm_id();
    let error = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.cluster_error.as_ref());
    let Cause {
        operation,
        found,
        pool: from_pool,
    } = cause(facts);
    let entry = entry_or(catalog, found.as_ref(), "ClusterProvisioningFailed");
    let title = match &found {
        Some(f) => format!("The cluster is in the Failed state: {}", f.code),
        None => {
            "The cluster is in the Failed state and no failed operation names a cause".to_owned()
        }
    };
    let mut draft = Draft::new(ID, at_least(Severity::Error, entry), id, title)
        .evidence("provisioningState", &cluster.provisioning_state)
        .evidence("powerState", &cluster.power_state);
    if let Some(version) = &cluster.kubernetes_version {
        draft = draft.evidence("kubernetesVersion", version);
    }
    if let Some(error) = error {
        draft = draft.evidence("provisioning error", error_line(error));
    }
    match operation {
        Some(record) => {
            draft = draft.evidence("failed operation", operation_line(snapshot, record));
            if let Some(error) = &record.error {
                draft = draft.evidence("operation error", error_line(error));
            }
        }
        None => {
            draft = draft.evidence(
                "failed operation",
                format!(
                    "none on the cluster in the activity log since {}",
                    snapshot.since
                ),
            );
        }
    }
    let failed_pools: Vec<&str> = cluster
        .pools
        .iter()
        .filter(|p| p.provisioning_state.is_failed())
        .map(|p| p.name.as_str())
        .collect();
    if !failed_pools.is_empty() {
        draft = draft.evidence("failed pools", failed_pools.join(", "));
    }
    let mut names = names.clone();
    if let Some(pool) = &from_pool {
        draft = draft.evidence("cause taken from", format!("Failed pool {pool}"));
        names = names.pool(snapshot, pool);
    }
    if let Some(found) = &found {
        draft = found_evidence(draft.code(&found.code), found);
    }
    draft = draft.entry(entry, &names);
    if let Some(pool) = &from_pool {
        for command in reconcile_pool(snapshot, pool) {
            draft = draft.then(command);
        }
    }
    for command in reconcile_cluster(snapshot) {
        draft = draft.then(command);
    }
    draft.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Snapshot;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, pool, snapshot};

    fn run(snapshot: &Snapshot) -> Vec<Finding> {
        check(&facts(snapshot))
    }

    #[test]
    fn a_succeeded_running_cluster_is_fine() {
        assert!(run(&snapshot()).is_empty());
        assert!(run(&snapshot().kube_only()).is_empty());
    }

    #[test]
    fn a_failed_cluster_gets_the_failed_operation_and_its_code() {
        let snap = snapshot().cluster_state(ProvisioningState::Failed);
        let id = snap.cluster_id().unwrap();
        let status = r#"{"status":"Failed","error":{"code":"ResourceOperationFailure","message":"terminal","details":[{"code":"QuotaExceeded","message":"Operation results in exceeding quota limits of Core."}]}}"#;
        let snap = snap
            .with_activity(failed_op(
                "Microsoft.ContainerService/managedClusters/write",
                &id,
                arm("", status),
                -3_600,
            ))
            .with_pool(pool("np1").failed());
        let findings = run(&snap);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.rule, ID);
        assert_eq!(f.code.as_deref(), Some("QuotaExceeded"));
        assert_eq!(f.entry.as_deref(), Some("QuotaExceeded"));
        assert_eq!(f.severity, Severity::Error);
        let labels: Vec<&str> = f.evidence.iter().map(|e| e.label.as_str()).collect();
        assert!(labels.contains(&"failed operation"), "{labels:?}");
        assert!(labels.contains(&"failed pools"), "{labels:?}");
        assert_eq!(
            f.commands.last().unwrap(),
            &format!("az resource update --ids {id}")
        );
        assert!(
            f.commands
                .contains(&"nodemend reconcile cluster".to_owned())
        );
        assert!(
            f.commands.iter().all(|c| !c.contains("<location>")),
            "{:?}",
            f.commands
        );
    }

    #[test]
    fn the_cluster_error_is_read_when_the_activity_log_has_nothing() {
        let snap = snapshot()
            .cluster_state(ProvisioningState::Failed)
            .cluster_error(
                "ReadOnlyDisabledSubscription",
                "The subscription is disabled",
            );
        let f = &run(&snap)[0];
        assert_eq!(f.code.as_deref(), Some("ReadOnlyDisabledSubscription"));
        assert_eq!(f.severity, Severity::Critical);
    }

    #[test]
    fn a_failed_pool_explains_a_failed_cluster_with_no_cause_of_its_own() {
        let snap = snapshot()
            .cluster_state(ProvisioningState::Failed)
            .with_pool(pool("np1").failed().error("SubnetIsFull", "no room"));
        let f = &run(&snap)[0];
        assert_eq!(f.code.as_deref(), Some("SubnetIsFull"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "cause taken from" && e.value == "Failed pool np1")
        );
    }

    #[test]
    fn without_a_code_the_generic_failed_cluster_entry_is_used() {
        let f = &run(&snapshot().cluster_state(ProvisioningState::Failed))[0];
        assert_eq!(f.code, None);
        assert_eq!(f.entry.as_deref(), Some("ClusterProvisioningFailed"));
    }

    #[test]
    fn running_canceled_and_stopped_states_are_reported_mildly() {
        let running = &run(&snapshot().cluster_state(ProvisioningState::Upgrading))[0];
        assert_eq!(running.severity, Severity::Info);
        let canceled = &run(&snapshot().cluster_state(ProvisioningState::Canceled))[0];
        assert_eq!(canceled.severity, Severity::Warning);
        assert_eq!(canceled.commands[0], "nodemend reconcile cluster");
        let stopped = &run(&snapshot().stopped())[0];
        assert!(stopped.commands[0].starts_with("az aks start --resource-group rg --name aks"));
    }
}
