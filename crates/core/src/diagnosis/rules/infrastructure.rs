//! `infrastructure-error`: the cluster or pools are Failed and nothing on the customer side
//! explains it — every Failed resource has no code, or a code the catalog does not know (an
//! internal error of Azure Resource Manager or a resource provider). The fix the failed-state
//! guide gives is a reconcile of each node pool, then of the managed cluster.

use super::{authorization, cluster, policy, pool, reconcile_cluster, reconcile_pool};
use crate::catalog::Severity;
use crate::diagnosis::codes::Found;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;

pub(super) const ID: &str = "infrastructure-error";

fn unexplained(found: Option<&Found<'_>>) -> bool {
    found.is_none_or(|f| f.entry.is_none())
}

/// Whether the snapshot shows a cause on the customer's side that other rules report:
/// policy denials, missing role assignments, locks, or a subscription that is not healthy.
fn customer_side(facts: &Facts<'_, '_>) -> bool {
    let snapshot = facts.snapshot;
    let denied = !policy::denials(facts).is_empty() || !authorization::failures(facts).is_empty();
    let locked = snapshot.scopes().iter().any(|s| !s.locks.is_empty());
    let subscription = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.subscription.as_ref())
        .is_some_and(|s| {
            !s.state.eq_ignore_ascii_case("Enabled")
                || s.providers
                    .iter()
                    .any(|p| !p.state.eq_ignore_ascii_case("Registered"))
        });
    denied || locked || subscription
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(c) = snapshot.cluster() else {
        return Vec::new();
    };
    let mut failed: Vec<(String, Option<Found<'_>>)> = Vec::new();
    if c.provisioning_state.is_failed() {
        failed.push(("cluster".to_owned(), cluster::cause(facts).found));
    }
    for p in c.pools.iter().filter(|p| p.provisioning_state.is_failed()) {
        failed.push((format!("pool {}", p.name), pool::checks(facts, p).found));
    }
    if failed.is_empty()
        || !failed.iter().all(|(_, found)| unexplained(found.as_ref()))
        || customer_side(facts)
    {
        return Vec::new();
    }
    let lines: Vec<String> = failed
        .iter()
        .map(|(what, found)| match found {
            Some(f) => format!("{what}: {} (not a known customer-side cause)", f.code),
            None => format!("{what}: no error code found"),
        })
        .collect();
    let code = failed
        .iter()
        .find_map(|(_, f)| f.as_ref().map(|f| f.code.clone()));
    let names = Placeholders::for_snapshot(snapshot);
    let mut draft = Draft::new(
        ID,
        Severity::Error,
        snapshot.cluster_resource(),
        "The Failed state has no customer-side cause: reconcile each pool, then the cluster",
    )
    .evidence("failed", list(&lines, 10));
    if let Some(code) = code {
        draft = draft.code(code);
    }
    for p in &c.pools {
        for command in reconcile_pool(snapshot, &p.name) {
            draft = draft.fix(command);
        }
    }
    for command in reconcile_cluster(snapshot) {
        draft = draft.fix(command);
    }
    vec![
        draft
            .entry(catalog.find("InfrastructureError"), &names)
            .build(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, pool, snapshot};
    use crate::model::ProvisioningState;

    #[test]
    fn an_unexplained_failure_is_reconciled_pool_by_pool_then_the_cluster() {
        let snap = snapshot()
            .cluster_state(ProvisioningState::Failed)
            .with_pool(pool("np1").failed())
            .with_pool(pool("np2"));
        let id = snap.cluster_id().unwrap();
        let snap = snap.with_activity(failed_op(
            "write",
            &id,
            arm("InternalServerError", "An internal error occurred."),
            -60,
        ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("InternalServerError"));
        assert_eq!(f.entry.as_deref(), Some("InfrastructureError"));
        assert_eq!(f.commands[0], "nodemend reconcile pool np1");
        assert_eq!(f.commands[2], "nodemend reconcile pool np2");
        assert_eq!(f.commands[4], "nodemend reconcile cluster");
        assert_eq!(
            f.evidence[0].value,
            "cluster: InternalServerError (not a known customer-side cause), pool np1: no error code found"
        );
    }

    #[test]
    fn a_known_cause_is_left_to_its_own_rule() {
        let snap = snapshot().with_pool(pool("np1").failed().error("QuotaExceeded", ""));
        assert!(check(&facts(&snap)).is_empty());
        let locked = snapshot()
            .with_pool(pool("np1").failed())
            .with_lock("keep", "CanNotDelete");
        assert!(check(&facts(&locked)).is_empty());
        assert!(check(&facts(&snapshot())).is_empty());
    }
}
