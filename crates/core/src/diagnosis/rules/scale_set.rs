//! `scale-set-state`: a scale set in the Failed state behind a pool that is not Failed itself
//! (a Failed pool's finding already carries its scale set as check 2).

use super::{at_least, entry_or, error_line, found_evidence, reconcile_pool};
use crate::catalog::Severity;
use crate::diagnosis::codes;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding};
use crate::diagnosis::placeholders::Placeholders;

pub(super) const ID: &str = "scale-set-state";

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut out = Vec::new();
    for pool in snapshot.pools() {
        if pool.provisioning_state.is_failed() {
            continue;
        }
        let Some(vmss) = snapshot
            .pool_facts(&pool.name)
            .and_then(|f| f.scale_set.as_ref())
        else {
            continue;
        };
        if !vmss.provisioning_state.is_failed() {
            continue;
        }
        let os = snapshot.pool_os(&pool.name);
        let found = vmss
            .error
            .as_ref()
            .and_then(|e| codes::in_error(e, os, catalog));
        let entry = entry_or(catalog, found.as_ref(), "NodePoolProvisioningFailed");
        let names = Placeholders::for_snapshot(snapshot).pool(snapshot, &pool.name);
        let resource = snapshot
            .scale_set_id(&vmss.name)
            .unwrap_or_else(|| format!("vmss/{}", vmss.name));
        let mut draft = Draft::new(
            ID,
            at_least(Severity::Error, entry),
            resource,
            format!(
                "Scale set {} of pool {} is in the Failed state",
                vmss.name, pool.name
            ),
        )
        .evidence("provisioningState", &vmss.provisioning_state)
        .evidence("pool provisioningState", &pool.provisioning_state);
        if let Some(error) = &vmss.error {
            draft = draft.evidence("error", error_line(error));
        }
        if let Some(found) = &found {
            draft = found_evidence(draft.code(&found.code), found);
        }
        draft = draft.entry(entry, &names);
        for command in reconcile_pool(snapshot, &pool.name) {
            draft = draft.then(command);
        }
        out.push(draft.build());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pool, snapshot};

    #[test]
    fn a_failed_scale_set_under_a_healthy_pool_is_reported() {
        let snap = snapshot().with_pool(pool("np1").scale_set_failed(
            "AllocationFailed",
            "The VM allocation failed due to an internal error.",
        ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("AllocationFailed"));
        assert!(
            f.resource
                .ends_with("/virtualMachineScaleSets/aks-np1-vmss")
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn a_failed_pool_carries_its_scale_set_itself() {
        let snap = snapshot().with_pool(
            pool("np1")
                .failed()
                .scale_set_failed("AllocationFailed", ""),
        );
        assert!(check(&facts(&snap)).is_empty());
        assert!(check(&facts(&snapshot().with_pool(pool("np1")))).is_empty());
    }
}
