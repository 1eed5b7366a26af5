//! `resource-lock`: management locks that stop AKS from changing its own resources.
//!
//! A `CanNotDelete` lock on the node resource group (or the subscription) keeps VMs from being
//! deleted, so scale-down, the autoscaler, upgrades and cluster deletion fail (Azure/AKS#3291);
//! it is an error once something failed or the activity log shows `ScopeLocked`, a warning
//! before. A `ReadOnly` lock blocks every write and is always an error. A `CanNotDelete` lock on
//! the cluster's own resource group only protects the cluster from deletion and is not reported.

use super::{reconcile_cluster, reconcile_pool};
use crate::catalog::Severity;
use crate::cloud::Scope;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, ago, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;

pub(super) const ID: &str = "resource-lock";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    NodeGroup,
    ClusterGroup,
    Subscription,
    OtherGroup,
}

fn place(snapshot: &Snapshot, scope: &Scope) -> Place {
    match scope {
        Scope::Subscription(_) => Place::Subscription,
        Scope::ResourceGroup { resource_group, .. } => {
            let node_group = snapshot.cluster().map(|c| c.node_resource_group.as_str());
            if node_group.is_some_and(|g| g.eq_ignore_ascii_case(resource_group)) {
                Place::NodeGroup
            } else if snapshot
                .resource_group()
                .is_some_and(|g| g.eq_ignore_ascii_case(resource_group))
            {
                Place::ClusterGroup
            } else {
                Place::OtherGroup
            }
        }
    }
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let blocked: Vec<String> = facts
        .failures_of(&["ScopeLocked"])
        .map(|f| f.record)
        .map(|r| {
            format!(
                "{} on {} at {}",
                r.operation,
                r.resource_id,
                ago(snapshot.now, r.time)
            )
        })
        .collect();
    let failed_pools: Vec<&str> = snapshot
        .pools()
        .iter()
        .filter(|p| p.provisioning_state.is_failed())
        .map(|p| p.name.as_str())
        .collect();
    let mut out = Vec::new();
    for scope in snapshot.scopes() {
        let place = place(snapshot, &scope.scope);
        for lock in &scope.locks {
            let read_only = lock.level.eq_ignore_ascii_case("ReadOnly");
            let (severity, title) = match (place, read_only) {
                (Place::ClusterGroup, false) => continue,
                (Place::ClusterGroup, true) => (
                    Severity::Error,
                    "A read-only lock on the cluster's resource group blocks every cluster update",
                ),
                (_, true) => (
                    Severity::Error,
                    "A read-only lock blocks every change to the cluster's VMs and networking",
                ),
                (_, false) => (
                    if snapshot.anything_failed() || !blocked.is_empty() {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    "A delete lock keeps AKS from removing VMs: scale-down, upgrades and deletes fail",
                ),
            };
            let mut names = Placeholders::for_snapshot(snapshot).set("lock", &lock.name);
            if let Some(pool) = failed_pools.first() {
                names = names.pool(snapshot, pool);
            }
            let mut draft = Draft::new(ID, severity, lock.id.clone(), title)
                .code("ScopeLocked")
                .evidence("lock", format!("{} ({})", lock.name, lock.level))
                .evidence("scope", &scope.scope);
            if let Some(notes) = &lock.notes {
                draft = draft.evidence("notes", notes);
            }
            if !blocked.is_empty() {
                draft = draft.evidence("operations it blocked", list(&blocked, 5));
            }
            draft = draft
                .fix(format!("az lock delete --ids {}", lock.id))
                .entry(catalog.find("ScopeLocked"), &names);
            for pool in &failed_pools {
                for command in reconcile_pool(snapshot, pool) {
                    draft = draft.then(command);
                }
            }
            if place == Place::ClusterGroup && snapshot.anything_failed() {
                for command in reconcile_cluster(snapshot) {
                    draft = draft.then(command);
                }
            }
            out.push(draft.build());
        }
    }
    out
}

/// Check 7 of a failed pool: the locks that reach the node resource group.
pub(super) fn node_group_line(snapshot: &Snapshot) -> String {
    let relevant: Vec<_> = snapshot
        .scopes()
        .iter()
        .filter(|s| {
            matches!(
                place(snapshot, &s.scope),
                Place::NodeGroup | Place::Subscription
            )
        })
        .collect();
    if relevant.is_empty() {
        return "not read".to_owned();
    }
    let locks: Vec<String> = relevant
        .iter()
        .flat_map(|s| {
            s.locks
                .iter()
                .map(move |l| format!("{} lock '{}' on {}", l.level, l.name, s.scope))
        })
        .collect();
    if locks.is_empty() {
        "none".to_owned()
    } else {
        list(&locks, 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SUB, SnapshotFixture, arm, facts, failed_op, pool, snapshot};

    fn run(snapshot: &Snapshot) -> Vec<Finding> {
        check(&facts(snapshot))
    }

    #[test]
    fn a_delete_lock_warns_before_anything_fails() {
        let f = &run(&snapshot().with_lock("keep-ip", "CanNotDelete"))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.code.as_deref(), Some("ScopeLocked"));
        assert!(f.resource.ends_with("/locks/keep-ip"));
        assert_eq!(
            f.commands[0],
            format!("az lock delete --ids {}", f.resource)
        );
        assert!(f.commands.contains(
            &"az lock delete --name keep-ip --resource-group MC_rg_aks_westeurope".to_owned()
        ));
    }

    #[test]
    fn a_delete_lock_is_an_error_once_a_pool_failed() {
        let snap = snapshot()
            .with_pool(pool("np1").failed())
            .with_lock("keep-ip", "CanNotDelete");
        let f = &run(&snap)[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn scope_locked_in_the_activity_log_is_evidence() {
        let snap = snapshot().with_lock("keep-ip", "CanNotDelete");
        let vmss = snap.scale_set_id("aks-np1-vmss").unwrap();
        let snap = snap.with_activity(failed_op(
            "Microsoft.Compute/virtualMachineScaleSets/delete",
            &vmss,
            arm("ScopeLocked", "The scope is locked, please remove lock"),
            -30,
        ));
        let f = &run(&snap)[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "operations it blocked")
        );
    }

    #[test]
    fn read_only_locks_are_errors_and_cluster_group_delete_locks_are_ignored() {
        let mut snap = snapshot().with_lock("frozen", "ReadOnly");
        snap.azure_mut().scopes.push(crate::diagnosis::ScopeFacts {
            scope: Scope::ResourceGroup {
                subscription: SUB.into(),
                resource_group: "rg".into(),
            },
            locks: vec![crate::cloud::Lock {
                id: format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/locks/keep"),
                name: "keep".into(),
                level: "CanNotDelete".into(),
                notes: None,
            }],
            policies: Vec::new(),
        });
        let findings = run(&snap);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].resource.ends_with("/locks/frozen"));
    }

    #[test]
    fn the_pool_check_line_names_the_locks() {
        assert_eq!(node_group_line(&snapshot()), "not read");
        let snap = snapshot().with_lock("keep-ip", "CanNotDelete");
        assert_eq!(
            node_group_line(&snap),
            format!(
                "CanNotDelete lock 'keep-ip' on /subscriptions/{SUB}/resourceGroups/MC_rg_aks_westeurope"
            )
        );
    }
}
